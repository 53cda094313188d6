"""Constant folding, limited to what the IR can hold.

A value is *known* when it comes from creation ops (``zeros``, ``arange``, ... but not
``empty``) through ops whose array inputs are all known, every step at most
:data:`MAX_ELEMENTS` elements and none of that memory ever written by a ``setitem``. Known
values are computed at compile time with the NumPy reference.

The IR has no constant-array node, so only NumPy *scalar* results (``is_scalar``: full
reductions, ufuncs of scalars) are folded: they become constant arguments of their users
and constant outputs. Arrays stay computed, except one kind at any size: an array of one
repeated value (``zeros``, ``ones``, ``full``) never written is that value, as a NumPy scalar
of its dtype, to each *elementwise* user whose meta stays the same (so it broadcasts to the
same shape: ``np.ones_like(x) * y`` reads no array of ones). A reduction keeps it (the sum of
ones is their count). A user keeps the node if the constant would
change its meta, and nothing is folded whose evaluation raises or warns: that is left
for run time, where eager would raise or warn too.

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph("f")
>>> x = g.add_input("x", TensorMeta((3,), np.dtype("float64")))
>>> total = g.call("sum", g.call("arange", 4))
>>> g.set_outputs([g.call("multiply", x, total)])
>>> print(fold_constants(g))
graph f(%x: f64[3]):
    %0 = arange(4)                                # i64[4]
    %1 = sum(%0)                                  # i64[] scalar
    %2 = multiply(%x, i64(6))                     # f64[3]
    return (%2,)
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..ir import Graph, Node, OpKind, TensorMeta, infer_meta, is_static, iter_nodes, map_nodes
from .rewriting import analyse_aliasing, copy_graph, substitute

MAX_ELEMENTS = 4096


def fold_constants(graph: Graph) -> Graph:
    """Return a copy of ``graph`` with scalar values computable at compile time made constants."""
    graph = copy_graph(graph)
    facts = analyse_aliasing(graph)
    known: dict[Node, Any] = {}
    constants: dict[Node, np.generic] = {}
    fills: dict[Node, np.generic] = {}
    for node in graph.nodes:
        _use_constants(node, constants)
        if node.op.kind is OpKind.ELEMENTWISE:
            _use_constants(node, fills)
        fill = _fill(node)
        if fill is not None and not facts.is_written(node):
            fills[node] = fill
        if (node.op.kind in (OpKind.INPUT, OpKind.MUTATION) or node.op.name in ("empty", "empty_like")
                or facts.is_written(node) or not is_static(node.meta.shape) or node.meta.size > MAX_ELEMENTS
                or any(arg not in known for arg in node.input_nodes())):
            continue
        value = _evaluate(node, known)
        if value is None:
            continue
        known[node] = value
        if node.meta.is_scalar:
            constants[node] = value
    graph.outputs = substitute(graph.outputs, constants)
    return graph


def _fill(node: Node) -> np.generic | None:
    """The one value every element of a ``zeros``/``ones``/``full`` (or ``_like``) node holds, as a NumPy scalar of
    its dtype (NumPy's own conversion of the fill value), or None."""
    name = node.op.name.removesuffix("_like")
    if name in ("zeros", "ones"):
        return node.meta.dtype.type(name == "ones")
    if name != "full":
        return None
    value = node.args[1] if len(node.args) > 1 else node.kwargs.get("fill_value")
    if value is None or any(True for _ in iter_nodes(value)):
        return None
    # NumPy's own conversion; one that raises or warns is left for run time, as eager does
    filled = _quietly(lambda: np.full((), value, dtype=node.meta.dtype)[()])
    return filled if isinstance(filled, np.generic) else None


def _evaluate(node: Node, known: dict[Node, Any]) -> Any:
    """The node's value from known inputs, or None if NumPy raises or warns (or disagrees
    with the node's meta, which would be a bug elsewhere: then leave it alone)."""
    value = _quietly(lambda: node.op.reference(*map_nodes(node.args, known.__getitem__),
                                               **map_nodes(node.kwargs, known.__getitem__)))
    return value if value is not None and TensorMeta.of(value) == node.meta else None


def _quietly(compute: Callable[[], Any]) -> Any:
    """``compute()``, or None if it raises or warns (what would raise or warn is left for run time)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="raise"):
            warnings.simplefilter("error")
            return compute()
    except Exception:
        return None


def _use_constants(node: Node, constants: dict[Node, np.generic]) -> None:
    """Give ``node`` the constants for its folded inputs, unless that changes its meta."""
    if not any(arg in constants for arg in iter_nodes((node.args, node.kwargs))):
        return
    args, kwargs = substitute(node.args, constants), substitute(node.kwargs, constants)
    try:
        meta = infer_meta(node.op, map_nodes(args, lambda n: n.meta), map_nodes(kwargs, lambda n: n.meta))
    except Exception:
        return
    if meta == node.meta:
        node.args, node.kwargs = args, kwargs
