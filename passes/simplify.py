"""Algebraic simplification: cheaper ops with exactly NumPy's values, dtype and scalar-ness.

Two steps, each safe on its own:

1. Local rewrites of a node into ops that compute the same fresh value at the same point
   of the program: ``x * 1``, ``x / 1``, ``x - 0``, ``x ** 1``, ``+x``, ``-(-x)`` and
   ``astype`` to x's own dtype become ``copy(x)`` (eager always returns a new array, so
   does ``copy``); ``x ** 2`` becomes ``x * x`` and ``x ** 0.5`` becomes ``sqrt(x)`` for
   floats. A rewrite is taken only if the op rules give the node's exact meta *and* NumPy,
   probed once per dtype on special values (-inf, -0.0, nan, extremes), computes the same
   values both ways. (So float16 keeps ``power(x, 0.5)``: NumPy gives ``inf`` at ``-inf``
   where ``sqrt`` gives ``nan``. ``x + 0.0`` stays for floats: ``-0.0 + 0.0`` is ``0.0``.)
2. ``copy(x)`` is replaced by ``x`` itself when nobody could tell: the copy is never
   written (no setitem into it or a view of it), never reaches an output (the caller would
   see a different object, aliasing its input or another output), and x's memory is never
   written anywhere in the graph.

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph("f")
>>> x = g.add_input("x", TensorMeta((3,), np.dtype("float32")))
>>> g.set_outputs([g.call("add", g.call("multiply", x, 1), g.call("power", x, 2))])
>>> print(simplify(g))
graph f(%x: f32[3]):
    %1 = multiply(%x, %x)                         # f32[3]
    %2 = add(%x, %1)                              # f32[3]
    return (%2,)
"""
from __future__ import annotations

import bisect
import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..ir import OPS, Graph, Node, OpKind, TensorMeta, infer_meta, map_nodes
from .rewriting import analyse_aliasing, copy_graph, freeze, replace_uses


def simplify(graph: Graph) -> Graph:
    """Return a simplified copy of ``graph`` (the input is not changed)."""
    graph = copy_graph(graph)
    _rewrite_locally(graph)
    _eliminate_copies(graph)
    return graph


# --- step 1: local rewrites -------------------------------------------------------------------


def _number(value: Any) -> bool:
    numeric = isinstance(value, int | float | np.integer | np.floating)
    return numeric and not isinstance(value, bool | np.bool_)


def _is(value: Any, target: float) -> bool:
    return _number(value) and value == target


def _is_positive_zero(value: Any) -> bool:
    return _is(value, 0) and not np.signbit(value)


def _is_integer_array(value: Any) -> bool:
    return isinstance(value, Node) and value.meta.dtype.kind in "iu"


def _copy_source(node: Node, mutated_between: Callable[[Node, Node], bool]) -> Node | None:
    """x when ``node`` computes a fresh array holding exactly x's values."""
    name, args, kwargs = node.op.name, node.args, node.kwargs
    if name == "astype":
        x = args[0] if args else None
        same = isinstance(x, Node) and set(kwargs) == {"dtype"} and np.dtype(kwargs["dtype"]) == x.meta.dtype
        return x if same else None
    if kwargs:
        return None
    if name == "positive":
        return args[0] if isinstance(args[0], Node) else None
    if name == "negative":  # -(-x), as long as nothing wrote into x in between
        inner = args[0]
        if (isinstance(inner, Node) and inner.op.name == "negative" and not inner.kwargs
                and isinstance(inner.args[0], Node) and not mutated_between(inner, node)):
            return inner.args[0]
        return None
    if len(args) != 2:
        return None
    a, b = args
    integer = _is_integer_array
    candidates = {
        "multiply": [(a, _is(b, 1)), (b, _is(a, 1))],
        "divide": [(a, _is(b, 1))],
        "true_divide": [(a, _is(b, 1))],  # the same ufunc's name before NumPy 2
        "power": [(a, _is(b, 1))],
        "floor_divide": [(a, _is(b, 1) and integer(a))],  # floats: x // 1 is floor(x)
        "subtract": [(a, _is_positive_zero(b))],  # x - (-0.0) turns -0.0 into 0.0
        "add": [(a, _is(b, 0) and integer(a)), (b, _is(a, 0) and integer(b))],  # floats: -0.0 + 0 is 0.0
    }.get(name, [])
    return next((x for x, matches in candidates if matches and isinstance(x, Node)), None)


def _rewrite(node: Node, mutated_between: Callable[[Node, Node], bool]) -> tuple[Node, str, tuple] | None:
    """(x, op, args): an equivalent of ``node`` whose only array input is x, or None."""
    # The probe rejects what is exact only on paper: complex x * 1 turns inf * 1j into nan.
    if (x := _copy_source(node, mutated_between)) is not None:
        return x, "copy", (x,)
    if node.op.name == "power" and len(node.args) == 2 and not node.kwargs:
        x, exponent = node.args
        if isinstance(x, Node) and not isinstance(exponent, Node) and x.meta.dtype.kind == "f":
            if _is(exponent, 2):
                return x, "multiply", (x, x)
            if _is(exponent, 0.5):
                return x, "sqrt", (x,)
    return None


def _rewrite_locally(graph: Graph) -> None:
    position = {node: i for i, node in enumerate(graph.nodes)}
    mutations = [i for i, node in enumerate(graph.nodes) if node.op.kind is OpKind.MUTATION]

    def mutated_between(first: Node, last: Node) -> bool:
        i = bisect.bisect_right(mutations, position[first])
        return i < len(mutations) and mutations[i] < position[last]

    for node in graph.nodes:
        if node.op.kind is not OpKind.ELEMENTWISE or (found := _rewrite(node, mutated_between)) is None:
            continue
        x, op_name, args = found
        op = OPS[op_name]
        if infer_meta(op, map_nodes(args, lambda n: n.meta), {}) != node.meta:
            continue
        if not _numpy_agrees(_describe(node, x), op_name, _describe(args, x), x.meta,
                             lambda sample, n=node, x=x: _evaluate(n, x, sample),
                             lambda sample, a=args, o=op: o.reference(*map_nodes(a, lambda _: sample))):
            continue
        node.op, node.args, node.kwargs = op, args, {}


def _evaluate(node: Any, x: Node, sample: Any) -> Any:
    """``node``'s value with ``sample`` for x (the matched patterns are a node or two deep)."""
    if node is x:
        return sample
    evaluate = functools.partial(_evaluate, x=x, sample=sample)
    return node.op.reference(*[map_nodes(a, evaluate) for a in node.args],
                             **{k: map_nodes(v, evaluate) for k, v in node.kwargs.items()})


def _describe(value: Any, x: Node) -> Any:
    """A hashable description of a pattern over x, to cache what NumPy said about it."""
    if value is x:
        return "x"
    if isinstance(value, Node):
        return (value.op.name, _describe(value.args, x), freeze(value.kwargs))
    if isinstance(value, tuple | list):
        return tuple(_describe(v, x) for v in value)
    return freeze(value)


# --- NumPy as the judge of a rewrite ----------------------------------------------------------

_AGREEMENT: dict[tuple, bool] = {}


def _numpy_agrees(before: Any, op_name: str, after: Any, x: TensorMeta,
                  original: Callable[..., Any], rewritten: Callable[..., Any]) -> bool:
    """Do both computations give the same values on samples shaped like x (array, 0-d array
    or NumPy scalar: a ufunc of a 0-d array is a scalar, its copy is not)?"""
    form = "scalar" if x.is_scalar else "0-d" if x.ndim == 0 else "array"
    key = (before, op_name, after, x.dtype, form)
    if key not in _AGREEMENT:
        _AGREEMENT[key] = all(_same(original, rewritten, sample) for sample in _samples(x.dtype, form))
    return _AGREEMENT[key]


def _same(original: Callable[[Any], Any], rewritten: Callable[[Any], Any], sample: Any) -> bool:
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected, got = original(sample), rewritten(sample)
    except Exception:
        return False
    if type(expected) is not type(got) or np.shape(expected) != np.shape(got):
        return False
    expected, got = np.asarray(expected), np.asarray(got)
    if expected.dtype != got.dtype:
        return False
    if expected.dtype.kind == "c":
        return _same_floats(expected.real, got.real) and _same_floats(expected.imag, got.imag)
    return _same_floats(expected, got) if expected.dtype.kind == "f" else bool(np.array_equal(expected, got))


def _same_floats(a: np.ndarray, b: np.ndarray) -> bool:
    nan = np.isnan(a)
    return bool(np.array_equal(nan, np.isnan(b)) and np.array_equal(a[~nan], b[~nan])
                and np.array_equal(np.signbit(a[~nan]), np.signbit(b[~nan])))


@functools.cache
def _samples(dtype: np.dtype, form: str) -> tuple:
    """Values that tell apart rewrites that differ: special floats, integer extremes; for
    arrays several lengths (SIMD bodies and tails) and a strided view."""
    rng = np.random.default_rng(0)
    if dtype.kind == "f":
        info = np.finfo(dtype)
        special = [-np.inf, -0.0, 0.0, np.inf, np.nan, -1.0, 1.0, 2.0, 0.5, -2.5, 3.0, info.max, info.min,
                   info.tiny, -info.tiny, info.smallest_subnormal, info.eps, 1 / info.eps]
        values = np.concatenate([np.array(special, dtype), (rng.standard_normal(80) * 10).astype(dtype)])
    elif dtype.kind in "iu":
        int_info = np.iinfo(dtype)
        special = [int_info.min, int_info.max, 0, 1, 2, 3, int_info.max - 1, int_info.min + 1]
        special += [-1, -2] if dtype.kind == "i" else []
        values = np.concatenate([np.array(special, dtype), rng.integers(int_info.min, int_info.max, 80, dtype, True)])
    elif dtype.kind == "c":
        parts = np.array([-np.inf, -0.0, 0.0, np.inf, np.nan, -1.5, 1.0, 2.0])
        values = np.empty(len(parts) ** 2, dtype)  # every (real, imag) pair, without inf * 1j = nan
        values.real, values.imag = np.repeat(parts, len(parts)), np.tile(parts, len(parts))
    else:
        values = np.array([True, False] * 20, dtype)
    if form == "scalar":
        return tuple(values)
    if form == "0-d":
        return tuple(np.array(v) for v in values)
    return (values, values[::-3], values[:1], values[:7], values[:17], values[::-1][:33])


# --- step 2: copies nobody can tell from their source -----------------------------------------


def _eliminate_copies(graph: Graph) -> None:
    facts = analyse_aliasing(graph)
    replacements: dict[Node, Node] = {}
    for node in graph.nodes:
        if node.op.name != "copy" or node.kwargs or not isinstance(source := node.args[0], Node):
            continue
        if facts.is_written(node) or node in facts.reaches_output or facts.is_written(source):
            continue
        replacements[node] = replacements.get(source, source)
    replace_uses(graph, replacements)
    graph.nodes = [node for node in graph.nodes if node not in replacements]
