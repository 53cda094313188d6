"""Every registered op, built with ``Graph.call`` and run by ``interpret``, against NumPy itself.

For each case NumPy is called directly (not through the op's reference). Where NumPy
raises, building the graph must raise too; otherwise the inferred meta must equal
``TensorMeta.of`` of NumPy's result (shape, dtype and scalar-ness), the interpreted value
must equal NumPy's, and the input arrays must end in the same state.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pytest
from ember.ir import OPS, Graph, OpKind, TensorMeta, interpret, verify

DTYPES = tuple(np.dtype(n) for n in ("float16", "float32", "float64", "int32", "int64", "bool", "complex128"))
LAYOUTS = ("contiguous", "transposed", "strided", "reversed")

# The cases deliberately divide by zero, take means of empty slices and cast complex to real.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::numpy.exceptions.ComplexWarning")

Make = Callable[[], tuple[tuple, dict]]  # returns fresh (args, kwargs) on every call
Case = tuple[str, Make]


def make_array(shape: tuple[int, ...], dtype: Any, layout: str = "contiguous", seed: int = 0) -> np.ndarray:
    """Deterministic values of ``dtype`` in the given memory layout (non-contiguous ones included)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)

    def values(shape: tuple[int, ...]) -> np.ndarray:
        if dtype.kind == "b":
            return rng.integers(0, 2, shape).astype(bool)
        if dtype.kind in "iu":  # small positive ints: no value-dependent errors (negative powers)
            return rng.integers(1, 5, shape).astype(dtype)
        if dtype.kind == "c":
            return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
        return (rng.standard_normal(shape) * 2).astype(dtype)

    if layout == "contiguous":
        return values(shape)
    if layout == "transposed":
        return values(shape[::-1]).T
    if layout == "strided":
        return values((*shape[:-1], 2 * shape[-1]))[..., ::2]
    if layout == "reversed":
        return values(shape)[::-1]
    raise ValueError(layout)


def make_scalar(dtype: Any, seed: int = 0) -> np.generic:
    return cast(np.generic, make_array((), dtype, seed=seed)[()])


def numpy_setitem(dest, index, value):
    dest[index] = value
    return dest


def numpy_attention(q, kt, v, scale, scale_op):
    s = q @ kt if scale_op is None else q @ kt * scale if scale_op == "multiply" else q @ kt / scale
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v


def written(fn: Any, dest: np.ndarray, *args: Any) -> np.ndarray:
    """``fn(dest, *args)`` writes into dest in place (and returns None): dest is the op's value."""
    fn(dest, *args)
    return dest


# How NumPy spells each op when it is not ``np.<name>``.
NUMPY_CALLS: dict[str, Callable[..., Any]] = {
    "getitem": lambda x, index: x[index],
    "dynamic_slice": lambda x, start, axis, length: x[(slice(None),) * axis + (slice(start, start + length),)],
    "setitem": numpy_setitem,
    "astype": lambda x, dtype, order="K": x.astype(dtype, order=order),
    "copy": lambda x, order="K": x.copy(order=order),
    "advanced_index": lambda x, index: x[index],
    "ufunc_reduce": lambda x, ufunc, **kwargs: getattr(np, ufunc).reduce(x, **kwargs),
    "ufunc_accumulate": lambda x, ufunc, **kwargs: getattr(np, ufunc).accumulate(x, **kwargs),
    # NumPy's own conversion of a Python int in float arithmetic (NEP 50): the oracle of dim_size.
    "linalg_inv": np.linalg.inv, "linalg_solve": np.linalg.solve, "linalg_det": np.linalg.det,
    "linalg_norm": np.linalg.norm,
    "lexsort": lambda *keys, axis=-1: np.lexsort(keys, axis=axis),
    "unravel_index": lambda indices, *, shape, order, output: np.unravel_index(indices, shape, order)[output],
    "broadcast_writeable": lambda x, shape: np.broadcast_arrays(x, np.broadcast_to(np.empty((), bool), shape))[0],
    "linalg_cholesky": np.linalg.cholesky, "linalg_pinv": np.linalg.pinv, "linalg_eigvalsh": np.linalg.eigvalsh,
    "linalg_matrix_power": np.linalg.matrix_power,
    "linalg_eigh": lambda a, *, output: np.linalg.eigh(a)[output],
    "linalg_svdvals": lambda a: np.linalg.svd(a, compute_uv=False),
    "linalg_qr": lambda a, *, output: np.linalg.qr(a)[output],
    "linalg_slogdet": lambda a, *, output: np.linalg.slogdet(a)[output],
    "linalg_cond": np.linalg.cond, "linalg_matrix_rank": np.linalg.matrix_rank,
    "block": lambda arrays: np.block([list(row) if isinstance(row, tuple) else row for row in arrays]),
    "linalg_multi_dot": lambda *arrays: np.linalg.multi_dot(arrays),
    "histogram": lambda a, weights=None, *, output, **kwargs: np.histogram(a, weights=weights, **kwargs)[output],
    "ufunc_call": lambda *args, ufunc, output=None: ufunc(*args) if output is None else ufunc(*args)[output],
    "average": lambda a, weights, **kwargs: np.average(a, weights=weights, **kwargs),
    "ufunc_at": lambda dest, index, values, ufunc: written(getattr(np, ufunc).at, dest, index, values),
    "put_along_axis": lambda dest, indices, values, axis: written(np.put_along_axis, dest, indices, values, axis),
    "attention": lambda q, kt, v, scale=None, scale_op=None: numpy_attention(q, kt, v, scale, scale_op),
    "dim_size": lambda x, axis, dtype, scale=1, offset=0: np.add(np.zeros((), dtype)[()],
                                                                 scale * x.shape[axis] + offset),
}


def call_numpy(name: str, args: tuple, kwargs: dict) -> Any:
    fn = NUMPY_CALLS.get(name) or getattr(np, name)
    with np.errstate(all="ignore"):
        return fn(*args, **kwargs)


def lift(graph: Graph, value: Any, inputs: list) -> Any:
    """Arrays and NumPy scalars become graph inputs; everything else stays a constant."""
    if isinstance(value, np.ndarray | np.generic):
        inputs.append(value)
        return graph.add_input(f"a{len(inputs) - 1}", TensorMeta.of(value))
    if isinstance(value, tuple) and arrays_in(value):  # (nested: np.block's rows)
        return tuple(lift(graph, v, inputs) for v in value)
    return value


def arrays_in(args: tuple) -> list[np.ndarray]:
    found = []
    for value in args:
        if isinstance(value, np.ndarray):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(arrays_in(value))
    return found


def check_case(name: str, make: Make) -> str | None:
    """None if the op agrees with NumPy on this case, else a description of the difference."""
    args, kwargs = make()
    try:
        expected = call_numpy(name, args, kwargs)
    except Exception as error:  # NumPy refuses: so must graph building
        inputs: list[Any]
        graph, inputs = Graph(name), []
        largs = tuple(lift(graph, a, inputs) for a in args)
        try:
            node = graph.call(name, *largs, **kwargs)
        except Exception:
            return None
        return f"NumPy raised {type(error).__name__}: {error}, graph built {node.meta!r}"
    expected_inputs = arrays_in(args)

    args, kwargs = make()
    graph, inputs = Graph(name), []
    largs = tuple(lift(graph, a, inputs) for a in args)
    try:
        node = graph.call(name, *largs, **kwargs)
    except Exception as error:
        return f"graph building raised {type(error).__name__}: {error}, NumPy gave {TensorMeta.of(expected)!r}"
    graph.set_outputs([node])
    verify(graph)
    if node.meta != TensorMeta.of(expected):
        return f"meta {node.meta!r}, NumPy {TensorMeta.of(expected)!r}"
    with np.errstate(all="ignore"):
        (result,) = interpret(graph, inputs)
    if TensorMeta.of(result) != node.meta or type(result) is not type(expected):
        return f"interpreted {type(result).__name__} {TensorMeta.of(result)!r}, NumPy {type(expected).__name__}"
    garbage = name in ("empty", "empty_like")
    if not garbage and not np.array_equal(result, expected, equal_nan=result.dtype.kind in "fc"):
        return f"values {result!r}, NumPy {expected!r}"
    for mine, theirs in zip(arrays_in(args), expected_inputs, strict=True):
        if not np.array_equal(mine, theirs, equal_nan=mine.dtype.kind in "fc"):
            return "input arrays ended in a different state"
    return None


def case(label: str, *args: Any, **kwargs: Any) -> Case:
    """A case whose arrays are regenerated on each call (same seed, so the same values)."""
    return label, lambda: (tuple(a() if callable(a) else a for a in args), dict(kwargs))


def arr(shape, dtype, layout="contiguous", seed=0):
    return lambda: make_array(shape, dtype, layout, seed)


def scalar(dtype, seed=0):
    return lambda: make_scalar(dtype, seed)


# ---------------------------------------------------------------------------------------------
# Cases per family


def unary_cases(name: str) -> list[Case]:
    cases = []
    for dt in DTYPES:
        cases += [case(f"{dt} {layout}", arr((3, 4), dt, layout)) for layout in LAYOUTS]
        cases += [case(f"{dt} 0-d", arr((), dt)), case(f"{dt} empty", arr((0, 3), dt)),
                  case(f"{dt} scalar", scalar(dt))]
    return cases


PYTHON_CONSTANTS = (2, 2.5, True, 1j)


def binary_cases(name: str) -> list[Case]:
    cases = []
    for dt in DTYPES:
        cases += [case(f"{dt} {layout}", arr((3, 4), dt, layout), arr((3, 4), dt, seed=1)) for layout in LAYOUTS]
        cases += [case(f"{dt} op {c!r}", arr((3, 4), dt), c) for c in PYTHON_CONSTANTS]
        cases += [case(f"{c!r} op {dt}", c, arr((3, 4), dt)) for c in PYTHON_CONSTANTS]
        cases += [case(f"{dt} scalar op scalar", scalar(dt), scalar(dt, 1)),
                  case(f"{dt} scalar op 0-d", scalar(dt), arr((), dt, seed=1)),
                  case(f"{dt} 0-d op 2", arr((), dt), 2)]
    for d1, d2 in itertools.product(DTYPES, DTYPES):
        cases.append(case(f"{d1}[3,4] op {d2}[4]", arr((3, 4), d1), arr((4,), d2, seed=1)))
    shapes = [((3, 1), (1, 4)), ((), (3, 4)), ((0, 1), (1, 3)), ((2, 1, 4), (3, 1)), ((3,), (4,)),
              ((2, 3), (0,))]
    for s1, s2 in shapes:
        cases.append(case(f"f64{list(s1)} op i64{list(s2)}", arr(s1, "float64"), arr(s2, "int64", seed=1)))
    cases.append(case("i32 op 2**40 (out of range)", arr((3,), "int32"), 2**40))
    cases.append(case("dtype=f32", arr((3, 4), "float16"), arr((4,), "float16", seed=1), dtype=np.dtype("float32")))
    cases.append(case("dtype=i32 (unsafe)", arr((3,), "float64"), arr((3,), "float64", seed=1),
                      dtype=np.dtype("int32")))
    cases.append(case("reversed op strided", arr((3, 4), "float32", "reversed"), arr((3, 4), "float32", "strided")))
    return cases


def where_cases() -> list[Case]:
    cond = arr((3, 4), bool, seed=2)
    cases = [case(f"{d1}, {d2}", cond, arr((3, 4), d1), arr((3, 4), d2, seed=1))
             for d1, d2 in itertools.product(DTYPES, DTYPES)]
    cases += [case("broadcast", arr((3, 1), bool), arr((4,), "float32"), arr((3, 4), "float32", "transposed")),
              case("constants", cond, 1.5, arr((3, 4), "float32")),
              case("all scalars", scalar(bool), scalar("float32"), scalar("float32", 1)),
              case("0-d", arr((), bool), arr((), "int64"), 0),
              case("mismatch", cond, arr((3,), "float64"), 0.0),
              case("empty", arr((0, 4), bool), arr((4,), "int32"), 1)]
    return cases


def clip_cases() -> list[Case]:
    cases = []
    for dt in DTYPES:
        cases += [case(f"{dt} 0..2", arr((3, 4), dt, "reversed"), 0, 2),
                  case(f"{dt} None..2", arr((3, 4), dt), None, 2),
                  case(f"{dt} 1..None", arr((3, 4), dt), 1, None), case(f"{dt} scalar", scalar(dt), 0, 1)]
    cases += [case("array bounds", arr((3, 4), "float32"), arr((4,), "float32", seed=1),
                   arr((3, 1), "float64", seed=2)),
              case("0-d", arr((), "int64"), 1, 2),
              case("bad bounds shape", arr((3, 4), "float32"), arr((3,), "float32"), 1)]
    return cases


def astype_cases() -> list[Case]:
    cases = [case(f"{d1} -> {d2}", arr((3, 4), d1, "strided"), dtype=d2)
             for d1, d2 in itertools.product(DTYPES, DTYPES)]
    cases += [case(f"{dt} scalar", scalar(dt), dtype=np.dtype("float32")) for dt in DTYPES]
    cases += [case("0-d", arr((), "float64"), dtype=np.dtype("int32")), case("empty", arr((0,), "int64"), dtype=bool),
              case("type object", arr((2,), "int32"), dtype=np.float16)]
    return cases


def round_cases() -> list[Case]:
    cases = []
    for dt in DTYPES:
        cases += [case(f"{dt} decimals={d}", arr((3, 4), dt, "transposed"), decimals=d) for d in (0, 1, -1)]
        cases += [case(f"{dt} scalar", scalar(dt)), case(f"{dt} 0-d", arr((), dt), decimals=2)]
    return cases


def copy_cases() -> list[Case]:
    cases = []
    for dt in DTYPES:
        cases += [case(f"{dt} {layout}", arr((3, 4), dt, layout)) for layout in LAYOUTS]
        cases += [case(f"{dt} scalar", scalar(dt)), case(f"{dt} 0-d", arr((), dt)),
                  case(f"{dt} empty", arr((0, 2), dt))]
    cases += [case(f"order={order}", arr((3, 4), "float32", "transposed"), order=order) for order in "CFAK"]
    return cases


def array_cases() -> list[Case]:
    """``array``: np.array of a NumPy scalar is a 0-d array, of an array a copy."""
    cases = []
    for dt in DTYPES:
        cases += [case(f"{dt} scalar", scalar(dt)), case(f"{dt} 0-d", arr((), dt)),
                  case(f"{dt} transposed", arr((3, 4), dt, "transposed"))]
    return cases


REDUCTION_KWARGS: tuple[dict[str, Any], ...]
ARG_REDUCTION_KWARGS: tuple[dict[str, Any], ...]
REDUCTION_KWARGS = ({}, {"axis": (0,)}, {"axis": (1,)}, {"axis": (0, 1)}, {"axis": None, "keepdims": True},
                    {"axis": (1,), "keepdims": True}, {"axis": -1}, {"axis": (-1,)}, {"axis": 1},
                    {"axis": (0, 0)}, {"axis": (2,)}, {"axis": -3})
ARG_REDUCTION_KWARGS = ({}, {"axis": 0}, {"axis": -1}, {"axis": 1, "keepdims": True}, {"axis": None, "keepdims": True},
                        {"axis": 2})


def reduction_cases(name: str) -> list[Case]:
    variants = list(ARG_REDUCTION_KWARGS if name in ("argmax", "argmin") else REDUCTION_KWARGS)
    if name in ("sum", "prod", "mean"):
        variants += [{"dtype": np.dtype("float64")}, {"axis": (0,), "dtype": np.dtype("int32")}]
    if name in ("var", "std"):
        variants += [{"ddof": 1}, {"axis": (1,), "ddof": 1, "keepdims": True}]
    cases = []
    for dt in DTYPES:
        for kw in variants:
            cases.append(case(f"{dt} {kw}", arr((3, 4), dt, "transposed"), **kw))
            cases.append(case(f"{dt} empty {kw}", arr((0, 4), dt), **kw))
        cases += [case(f"{dt} 0-d", arr((), dt)), case(f"{dt} scalar", scalar(dt)),
                  case(f"{dt} 0-d axis=-1", arr((), dt), axis=-1),
                  case(f"{dt} reversed 3-d", arr((2, 3, 4), dt, "reversed"), axis=(0, 2) if name[:3] != "arg" else 2)]
    return cases


X3 = (2, 3, 4)
VIEW_ARGS: dict[str, list[tuple]] = {
    "getitem": [(0,), (-1,), ((0, 1),), (slice(1, None),), (slice(None, None, -1),), ((Ellipsis, 0),),
                ((None, slice(None), 1),), ((),), ((0, 1, 2),), ((slice(None), None, Ellipsis),),
                ((slice(None, None, 2), slice(3, 0, -2)),), ((0, Ellipsis, None),), (5,), ((0, 0, 0, 0),),
                ((Ellipsis, Ellipsis),), ((slice(5, 9),),)],
    "transpose": [(), (None,), ((2, 0, 1),), ((0, 0, 1),), ((0, 1),)],
    "reshape": [((6, 4),), ((-1,),), ((4, -1, 2),), ((5, 5),), ((-1, -1),), ((24, 1, 1),)],
    "squeeze": [(), (0,), (1,)],
    "expand_dims": [(0,), (-1,), ((0, 2),), (5,), ((0, 0),)],
    "broadcast_to": [((5, 2, 3, 4),), ((2, 3, 4),), ((3, 4),), ((2, 2, 3, 4, 1),)],
    "flip": [(), (0,), ((0, 2),), (3,)],
    "swapaxes": [(0, 2), (1, -1), (0, 3)],
    "moveaxis": [(0, -1), ((0, 1), (2, 0)), (0, 3)],
    "ravel": [()],
    "diagonal": [(0, 0, 1), (1, 1, 2), (-1, 2, 0), (9, 0, 1), (0, 1, 1)],
    "real": [()],
    "imag": [()],
    "broadcast_writeable": [((5, 2, 3, 4),), ((2, 3, 4),), ((3, 4),)],
    "ascontiguousarray": [()],
    "asfortranarray": [()],
}


def view_cases(name: str) -> list[Case]:
    shape = (1, 3, 1) if name == "squeeze" else X3
    cases = []
    for extra in VIEW_ARGS[name]:
        for dt in ("float32", "int64", "bool", "complex128"):
            cases.append(case(f"{dt} {extra}", arr(shape, dt), *extra))
        for layout in LAYOUTS[1:]:
            cases.append(case(f"{layout} {extra}", arr(shape, "float64", layout), *extra))
    zero_d: Any = {"getitem": [((),), (Ellipsis,), (None,), (0,)], "transpose": [()], "reshape": [((1,),), ((),)],
                   "squeeze": [()], "expand_dims": [(0,)], "broadcast_to": [((3,),)], "flip": [()],
                   "swapaxes": [(0, 0)], "moveaxis": [(0, 0)], "ravel": [()],
                   "diagonal": [(0, 0, 1)], "real": [()], "imag": [()],
                   "broadcast_writeable": [((3,),)], "ascontiguousarray": [()],
                   "asfortranarray": [()]}[name]  # (lists of argument tuples)
    for extra in zero_d:
        cases.append(case(f"0-d {extra}", arr((), "float64"), *extra))
        cases.append(case(f"scalar {extra}", scalar("int32"), *extra))
    cases.append(case("empty", arr((0, 3, 1), "float32"), *VIEW_ARGS[name][0]))
    return cases


CREATION_ARGS: dict[str, list[tuple[tuple, dict]]] = {
    "zeros": [(((2, 3),), {}), (((2, 3),), {"dtype": np.dtype("int32")}), (((),), {}), ((0,), {}),
              ((4,), {"dtype": bool}), ((-1,), {})],
    "ones": [(((2, 3),), {}), ((4,), {"dtype": np.dtype("complex128")}), (((),), {"dtype": np.float16})],
    "full": [(((2,), 3.0), {}), (((2, 2), 7), {"dtype": np.dtype("int32")}), (((), True), {}),
             (((3,), 2**40), {"dtype": np.dtype("int32")}), (((2,), 1j), {})],
    "empty": [(((2, 3),), {}), ((5,), {"dtype": np.dtype("int64")})],
    "arange": [((5,), {}), ((1, 2, 0.25), {}), ((5,), {"dtype": np.dtype("float32")}), ((0,), {}),
               ((3, 0, -1), {}), ((1, 2, 0), {})],
    "linspace": [((0, 1, 5), {}), ((0, 1, 5), {"dtype": np.dtype("float32")}), ((0, 1), {"num": 0}),
                 ((0, 1, 4), {"endpoint": False}), ((0, 1, -1), {})],
    "eye": [((3,), {}), ((2, 3), {"k": 1}), ((2,), {"dtype": np.dtype("int64")}), ((-1,), {})],
    "zeros_like": [((arr((2, 3), "float32", "transposed"),), {}), ((arr((3, 4), "int64"),), {"dtype": bool}),
                   ((arr((0, 3), "float64"),), {})],
    "ones_like": [((arr((2, 3), "float64", "strided"),), {"dtype": np.dtype("int8")}),
                  ((arr((2, 3), "float32"),), {"shape": (3, 2)})],
    "full_like": [((arr((2, 3), "float64", "transposed"), 2.5), {}), ((arr((2, 3), "int32"), 7.9), {}),
                  ((arr((2, 3), "uint8"), 300), {})],
    "empty_like": [((arr((2, 3), "float32", "transposed"),), {})],
}


def creation_cases(name: str) -> list[Case]:
    return [case(f"{args} {kwargs}", *args, **kwargs) for args, kwargs in CREATION_ARGS[name]]


PRODUCT_SHAPES = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
                  ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (3, 4)), ((), (3,)), ((3,), ()), ((0, 4), (4, 2)),
                  ((3, 0), (0, 2)), ((2, 3, 4), (5, 4, 2))]


def product_cases(name: str) -> list[Case]:
    cases = [case(f"{d1} @ {d2}", arr((3, 4), d1), arr((4, 2), d2, seed=1))
             for d1, d2 in itertools.product(DTYPES, DTYPES)]
    cases += [case(f"{s1} @ {s2}", arr(s1, "float64"), arr(s2, "float64", seed=1)) for s1, s2 in PRODUCT_SHAPES]
    cases += [case(f"{layout}", arr((3, 4), "float32", layout), arr((4, 3), "float32", "transposed", seed=1))
              for layout in LAYOUTS]
    cases += [case("scalar . array", scalar("float32"), arr((3,), "float32")),
              case("array . scalar", arr((2, 3), "int64"), scalar("int32"))]
    return cases


def join_cases(name: str) -> list[Case]:
    def parts(*specs):
        return lambda: tuple(make_array(shape, dt, seed=i) for i, (shape, dt) in enumerate(specs))

    same = parts(((2, 3), "float32"), ((2, 3), "float32"))
    cases = [case(f"axis={axis}", same, axis=axis) for axis in (0, 1, -1, -2, 2, -3, 3, None)]
    cases += [case(f"{d1}, {d2}", parts(((2, 3), d1), ((2, 3), d2)), axis=0)
              for d1, d2 in itertools.product(DTYPES, DTYPES)]
    cases += [case("default axis", parts(((2, 3), "int64"), ((2, 3), "int64"), ((2, 3), "bool"))),
              case("one part", parts(((4,), "float64"),)),
              case("ragged axis 0", parts(((2, 3), "float64"), ((4, 3), "float64")), axis=0),
              case("ragged axis 1", parts(((2, 3), "float64"), ((2, 1), "float64")), axis=1),
              case("ndim mismatch", parts(((2, 3), "float64"), ((3,), "float64"))),
              case("0-d parts", parts(((), "float64"), ((), "float64"))),
              case("0-d parts, axis=None", parts(((), "float64"), ((2,), "float64")), axis=None),
              case("empty part", parts(((0, 3), "float32"), ((2, 3), "float32"))),
              case("mixed ndim, axis=None", parts(((2, 3), "int32"), ((4,), "float32")), axis=None)]
    return cases


def dynamic_slice_cases() -> list[Case]:
    """``x[..., i:i + n, ...]`` for the starts the frontend's guards admit (``0 <= i <= size - n``)."""
    cases = []
    for axis, size in enumerate(X3):
        for length in range(1, size + 1):
            for start in (0, size - length):
                for layout in LAYOUTS:
                    cases.append(case(f"axis {axis} [{start}:{start + length}] {layout}", arr(X3, "float64", layout),
                                      np.int64(start), axis=axis, length=length))
    return cases + [case("bool", arr((5,), "bool"), np.int64(2), axis=0, length=3)]


def setitem_cases() -> list[Case]:
    indices = [Ellipsis, 0, -1, (0, 1), slice(1, None), (slice(None), slice(None, None, -2)), (None, 0), ()]
    cases = []
    for index in indices:
        for dt in DTYPES:
            cases.append(case(f"{dt}[{index}] = 1", arr((3, 4), dt), index, 1))
        cases.append(case(f"[{index}] = array", arr((3, 4), "float64", "transposed"), index,
                          arr((4,), "float32", seed=1)))
    for d1, d2 in itertools.product(DTYPES, DTYPES):
        cases.append(case(f"{d1}[...] = {d2}", arr((3, 4), d1), Ellipsis, arr((3, 4), d2, "reversed", seed=1)))
    cases += [case("leading unit dims", arr((3, 4), "float64"), slice(None), arr((1, 3, 4), "float64", seed=1)),
              case("too many dims", arr((3, 4), "float64"), slice(None), arr((2, 3, 4), "float64", seed=1)),
              case("shape mismatch", arr((3, 4), "float64"), 0, arr((3,), "float64", seed=1)),
              case("broadcast column", arr((3, 4), "int32"), slice(None), arr((3, 1), "int32", seed=1)),
              case("index out of range", arr((3, 4), "float64"), 5, 1.0),
              case("int32 = 2**40", arr((3, 4), "int32"), 0, 2**40),
              case("int64 = nan", arr((3, 4), "int64"), Ellipsis, float("nan")),
              case("float32 = 1j", arr((3, 4), "float32"), Ellipsis, 1j),
              case("float32 = list", arr((3, 4), "float32"), 0, [1.0, 2.0, 3.0, 4.0]),
              case("into 0-d", arr((), "float64"), (), 2.5),
              case("into scalar", scalar("float64"), (), 2.5),
              case("empty", arr((0, 4), "float64"), slice(None), 3.0),
              case("value scalar", arr((3, 4), "complex128", "strided"), (0, slice(None)), scalar("float16"))]
    return cases


def scatter_cases(name: str) -> list[Case]:
    """ufunc_at and put_along_axis: in-place writes through index arrays, NumPy's errors."""
    def ints(*values):
        return lambda: np.array(values)

    if name == "ufunc_at":
        return [case("add, a repeated index", arr((5,), "float64"), ints(0, 1, 0), arr((3,), "float64", seed=1),
                     ufunc="add"),
                case("maximum of rows", arr((3, 4), "float32"), ints(2, 0), 1.5, ufunc="maximum"),
                case("a tuple index", arr((3, 4), "int64"), (ints(0, 2), slice(1, 3)), 2, ufunc="multiply"),
                case("casting", arr((3,), "int32"), ints(0), 0.5, ufunc="add"),
                case("shapes disagree", arr((5,), "float64"), ints(0, 1), arr((3,), "float64"), ufunc="add")]
    return [case("rows", arr((3, 4), "float64"), ints([0], [3], [1]), 7.0, axis=1),
            case("columns", arr((3, 4), "int32"), ints([2, 0, 1, 1]), arr((1, 4), "int32", seed=1), axis=0),
            case("flat", arr((3, 4), "float32"), ints(0, 5), arr((2,), "float32"), axis=None),
            case("ranks differ", arr((3, 4), "float64"), ints(0), 1.0, axis=1)]


def dim_size_cases() -> list[Case]:
    f16, f32, f64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
    huge = lambda: np.broadcast_to(np.float32(1), (2**24 + 1,))  # rounds to 2**24 in float32
    return [case("rows f32", arr((3, 4), "float32"), 0, f32),
            case("columns f64", arr((3, 4), "int8"), 1, f64),
            case("affine", arr((5, 2), "float64", "strided"), 0, f32, 3, -2),
            case("2**24 + 1 f32", huge, 0, f32),
            case("2**24 + 1 f64", huge, 0, f64),
            case("70000 f16 (inf)", lambda: np.broadcast_to(np.int8(1), (70000,)), 0, f16),
            case("int64", arr((6, 2), "float32"), 0, np.dtype("int64"), 2, -1),
            case("complex64", arr((6, 2), "float32"), 1, np.dtype("complex64"))]


def index_cases(name: str) -> list[Case]:
    """Integer index arrays hold 1..4 (make_array), in bounds for the axes of size >= 5 below:
    an index out of bounds is an error of the values, which the compiled call raises (tests of
    the frontend), not of the shapes that graph building checks."""
    x = arr((6, 5), "float32")
    idx = arr((3,), "int64", seed=1)
    if name == "take_along_axis":
        return [case("axis=1", x, arr((6, 2), "int64"), axis=1),
                case("axis=0, strided", arr((5, 7), "float64", "strided"), arr((2, 7), "int32"), axis=0),
                case("axis=-1, broadcast rows", arr((3, 6), "complex64"), arr((1, 4), "int64"), axis=-1),
                case("axis=None", arr((2, 3), "int16"), idx, axis=None),
                case("3-d", arr((2, 6, 3), "bool"), arr((2, 2, 3), "uint8"), axis=1),
                case("ndim mismatch", x, idx, axis=1),
                case("float indices", x, arr((6, 2), "float64"), axis=1)]
    return [case("rows", x, lambda: (idx(),)),
            case("columns", x, lambda: (slice(None), idx())),
            case("2-d index", arr((7,), "int8"), lambda: (make_array((2, 3), "int64"),)),
            case("paired", x, lambda: (idx(), make_array((3,), "uint8", seed=2))),
            case("broadcast pair", x, lambda: (make_array((3, 1), "int64"), make_array((1, 2), "int32"))),
            case("then a slice", arr((5, 6), "complex128", "transposed"), lambda: (idx(), slice(1, 4))),
            case("split by a slice", arr((5, 4, 5), "bool"), lambda: (idx(), slice(None), idx())),
            case("ellipsis and None", arr((2, 3, 6), "float64", "strided"), lambda: (Ellipsis, None, idx())),
            case("an int next to it", x, lambda: (2, idx())),
            case("0-d indices: a scalar", x, lambda: (np.array(2), np.array(4))),
            case("a 0-d index: a copy", x, lambda: (np.array(3),)),
            case("shape mismatch", x, lambda: (idx(), make_array((2,), "int64"))),
            case("too many indices", arr((6,), "float32"), lambda: (idx(), idx()))]


def along_axis_cases(name: str) -> list[Case]:
    cases = [case(f"{dtype} axis={axis}", arr((3, 4), dtype, layout), axis=axis)
             for dtype, layout in (("float32", "contiguous"), ("int8", "strided"), ("bool", "transposed"),
                                   ("float16", "contiguous"), ("complex64", "contiguous"), ("uint8", "contiguous"))
             for axis in (0, -1, None)]
    cases += [case("axis out of range", arr((3, 4), "float64"), axis=2),
              case("0-d, axis=None", scalar("float64"), axis=None),
              case("0-d, axis=0", arr((), "int32"), axis=0),
              case("empty", arr((0, 3), "float32"), axis=1)]
    if name in ("cumsum", "cumprod", "nancumsum", "nancumprod"):
        cases += [case("dtype=float64", arr((5,), "int16"), axis=0, dtype=np.dtype("float64"))]
    else:
        cases += [case("stable", arr((6,), "int64"), axis=0, kind="stable"),
                  case("NaN last", lambda: np.array([np.nan, 1.0, -np.inf, 0.5]), axis=0)]
    return cases


def reshaping_cases(name: str) -> list[Case]:
    x, row = arr((3, 4), "float32", "strided"), arr((5,), "int16")
    cases = {
        "roll": [case("axis None", x, 2), case("axis 1", x, -1, 1), case("two axes", x, (1, 5), (0, 1)),
                 case("0-d", scalar("float64"), 1), case("bad axis", x, 1, 2), case("bool", arr((4,), "bool"), 3, 0)],
        "tile": [case("int", row, 3), case("more reps than dims", row, (2, 1, 2)), case("fewer reps", x, 2),
                 case("0-d", scalar("complex64"), (2, 3)), case("zero", x, (0, 1)), case("negative", x, -1)],
        "repeat": [case("flattened", x, 2), case("axis 0", x, 3, 0), case("axis -1", row, 0, -1),
                   case("0-d", scalar("int8"), 3), case("0-d, axis 0", arr((), "float32"), 2, 0),
                   case("bad axis", x, 2, 3), case("negative", row, -1, 0)],
        "pad": [case("one width", x, 2), case("per axis", x, ((1, 2), (0, 3))), case("pair", row, (2, 1)),
                case("edge", x, 1, "edge"), case("reflect", arr((4, 5), "float64"), 2, "reflect"),
                case("constant value", row, 1, "constant", constant_values=7),
                case("wrap", arr((4, 5), "bool"), ((1, 1), (2, 0)), "wrap"), case("negative", x, -1),
                case("float width", x, 1.5)],
    }
    return cases[name]


def ufunc_method_cases(name: str) -> list[Case]:
    x = arr((3, 4), "float32", "strided")
    cases = [case("maximum", x, "maximum"), case("add axis 1", x, "add", axis=1),
             case("add on int8 (NumPy widens)", arr((5,), "int8"), "add", axis=0),
             case("add on bool", arr((2, 3), "bool"), "add", axis=-1),
             case("logical_and", arr((2, 3), "float64"), "logical_and", axis=0),
             case("dtype", arr((4,), "int16"), "multiply", axis=0, dtype=np.dtype("float64")),
             case("bad axis", x, "add", axis=2), case("0-d", arr((), "float64"), "add", axis=0),
             case("subtract", arr((3, 2), "int32"), "subtract", axis=0)]
    if name == "ufunc_reduce":
        cases += [case("all axes", x, "minimum", axis=None), case("keepdims", x, "maximum", axis=1, keepdims=True),
                  case("two axes", arr((2, 3, 4), "float64"), "add", axis=(0, 2)),
                  case("empty maximum", arr((0, 3), "float64"), "maximum", axis=0)]
    return cases


def order_statistic_cases(name: str) -> list[Case]:
    x = arr((4, 5), "float32", "transposed")
    name = name.removeprefix("nan")   # nanmedian, nanpercentile, nanquantile: the same parameters
    q = () if name == "median" else ((50.0,) if name == "percentile" else (0.5,))
    many = [] if name == "median" else [[10.0, 90.0] if name == "percentile" else [0.1, 0.9]]
    cases = [case("all", x, *q), case("axis 0", x, *q, axis=0), case("keepdims", x, *q, axis=1, keepdims=True),
             case("ints", arr((6,), "int16"), *q, axis=None), case("float16", arr((3, 3), "float16"), *q, axis=-1),
             case("two axes", arr((2, 3, 4), "float64"), *q, axis=(0, 2)), case("bad axis", x, *q, axis=2)]
    if many:
        cases += [case("q sequence", x, *many, axis=0), case("q 2-d keepdims", x, np.array([many[0]]).T, axis=1,
                                                              keepdims=True),
                  case("q out of range", x, [150.0 if name == "percentile" else 1.5], axis=0),
                  case("method", arr((7,), "float64"), *q, axis=0, method="nearest")]
    return cases


def einsum_cases() -> list[Case]:
    return [case("batched matmul", "bqd,bkd->bqk", arr((2, 3, 4), "float32"), arr((2, 5, 4), "float32")),
            case("implicit", "ij,jk", arr((2, 3), "float64", "transposed"), arr((3, 4), "int32")),
            case("trace: a scalar", "ii", arr((3, 3), "float32")),
            case("sum over one", "ij->i", arr((3, 4), "int8")),
            case("outer", "i,j->ij", arr((3,), "complex64"), arr((2,), "float16")),
            case("broadcast between operands", "ij,jk->ik", arr((2, 1), "float64"), arr((3, 4), "float64")),
            case("optimize", "ij,jk,kl->il", arr((2, 3), "float64"), arr((3, 4), "float64"),
                 arr((4, 2), "float64"), optimize=True),
            case("sizes disagree", "ij,jk", arr((2, 3), "float64"), arr((4, 4), "float64")),
            case("too few operands", "ij,jk", arr((2, 3), "float64"))]


def attention_cases() -> list[Case]:
    f32 = [arr((2, 3, 4), "float32"), arr((2, 4, 5), "float32"), arr((2, 5, 6), "float32")]
    return [case("scaled", *f32, scale=0.125, scale_op="multiply"),
            case("divided, float64", arr((3, 4), "float64"), arr((4, 2), "float64"), arr((2, 3), "float64"),
                 scale=8, scale_op="divide"),
            case("unscaled", *f32),
            case("core sizes disagree", arr((2, 3), "float32"), arr((4, 5), "float32"), arr((5, 6), "float32"))]


def sorted_bins():
    return np.array([-1.0, 0.0, 0.5, 2.0])


def library_cases(name: str) -> list[Case]:
    """NumPy's own calls (ir/ops/library.py), with the shape errors NumPy raises."""
    square = lambda: make_array((3, 3), "float64") + 4 * np.eye(3)  # noqa: E731 - a case's array maker
    return {
        "searchsorted": [case("sorted", sorted_bins, arr((2, 3), "float32")), case("scalar", sorted_bins, 0.3),
                         case("right", sorted_bins, arr((4,), "float64"), side="right"),
                         case("not 1-d", arr((2, 2), "float64"), arr((3,), "float64"))],
        "digitize": [case("increasing", arr((2, 3), "float32"), sorted_bins),
                     case("right", arr((5,), "float64"), sorted_bins, right=True),
                     case("2-d bins", arr((5,), "float64"), arr((2, 2), "float64"))],
        "interp": [case("inside", arr((2, 3), "float32"), sorted_bins, lambda: np.arange(4.0)),
                   case("lengths differ", arr((3,), "float64"), sorted_bins, lambda: np.arange(3.0)),
                   case("left right", arr((4,), "float64"), sorted_bins, lambda: np.arange(4.0), left=-1.0, right=9.0)],
        "isin": [case("ints", arr((2, 3), "int32"), lambda: np.array([0, 1])),
                 case("invert", arr((4,), "float64"), sorted_bins, invert=True)],
        "linalg_inv": [case("square", square), case("stack", lambda: np.stack([square(), square()])),
                       case("not square", arr((2, 3), "float64")), case("int", lambda: np.eye(2, dtype=np.int32))],
        "linalg_solve": [case("vector", square, arr((3,), "float64")), case("matrix", square, arr((3, 2), "float32")),
                         case("stacked", lambda: np.stack([square(), square()]), arr((2, 3, 1), "float64")),
                         case("mismatch", square, arr((4,), "float64"))],
        "linalg_det": [case("square", square), case("stack", lambda: np.stack([square()] * 2).astype(np.float32)),
                       case("vector", arr((3,), "float64"))],
        "ufunc_call": [case("fabs", arr((2, 3), "int16"), ufunc=np.fabs),
                       case("gcd, broadcast", arr((2, 3), "int64"), arr((3,), "int32"), ufunc=np.gcd),
                       case("ldexp of a scalar", scalar("float32"), 3, ufunc=np.ldexp),
                       case("logaddexp2, a 0-d array", arr((), "float64"), 0.5, ufunc=np.logaddexp2),
                       case("gcd of floats", arr((3,), "float64"), 2, ufunc=np.gcd),
                       case("divmod's remainder", arr((2, 3), "float32"), 0.7, ufunc=np.divmod, output=1),
                       case("frexp's exponent", arr((3,), "float64"), ufunc=np.frexp, output=1)],
        "linalg_norm": [case("spectral", arr((3, 4), "float64"), ord=2), case("nuclear", arr((3, 4), "float32"),
                                                                                  ord="nuc"),
                        case("vectors", arr((3, 4), "complex64"), ord=3, axis=1, keepdims=True),
                        case("3-d", arr((2, 3, 4), "float64"), ord=2)],
        "histogram": [case("counts", arr((20,), "float32"), output=0, bins=4),
                      case("edges of ints", arr((4, 5), "int32"), output=1, bins=3, range=(-1, 1)),
                      case("weighted", arr((6,), "float64"), arr((6,), "float32"), output=0, bins=2, density=True),
                      case("weights of another shape", arr((6,), "float64"), arr((5,), "float64"), output=0, bins=2)],
        "nanstd": [case("axis", arr((3, 4), "float32"), axis=0, ddof=1, keepdims=False),
                   case("all, keepdims", arr((3, 4), "float64"), axis=None, ddof=0, keepdims=True)],
        "nanvar": [case("ints", arr((3, 4), "int32"), axis=(0, 1), ddof=0, keepdims=False),
                   case("bad axis", arr((3, 4), "float64"), axis=2, ddof=0, keepdims=False)],
        "nanprod": [case("axis", arr((3, 4), "float32"), axis=1, keepdims=True),
                    case("dtype", arr((3, 4), "int8"), axis=None, keepdims=False, dtype=np.dtype("int64"))],
        "nanargmax": [case("axis", arr((3, 4), "float64"), axis=0, keepdims=False),
                      case("keepdims", arr((3, 4), "int16"), axis=1, keepdims=True)],
        "nanargmin": [case("all", arr((3, 4), "float32"), axis=None, keepdims=False)],
        "trapezoid": [case("rows", arr((3, 4), "float64"), dx=1.0, axis=1),
                      case("ints, dx", arr((5,), "int32"), dx=0.5, axis=0),
                      case("bad axis", arr((3, 4), "float64"), dx=1.0, axis=2)],
        "gradient": [case("vector", arr((5,), "float32"), axis=None, edge_order=1),
                     case("axis 1, order 2", arr((3, 4), "float64"), axis=1, edge_order=2),
                     case("too short", arr((1,), "float64"), axis=None, edge_order=1)],
        "linalg_cholesky": [case("identity", lambda: np.eye(3) * 2), case("not square", arr((2, 3), "float64"))],
        "linalg_pinv": [case("wide", arr((2, 3), "float64")), case("stack", arr((2, 3, 2), "float32")),
                        case("vector", arr((3,), "float64"))],
        "linalg_matrix_power": [case("cube", square, 3), case("inverse", square, -1),
                                case("not square", arr((2, 3), "float64"), 2)],
        "linalg_eigvalsh": [case("symmetric", lambda: np.eye(3) + 1.0)],
        "linalg_eigh": [case("values", lambda: np.eye(3) + 1.0, output=0),
                        case("vectors", lambda: np.eye(3, dtype=np.float32) + 1, output=1)],
        "linalg_svdvals": [case("tall", arr((4, 3), "float64")), case("stack", arr((2, 2, 3), "float32")),
                           case("vector", arr((3,), "float64"))],
        "linalg_qr": [case("q", arr((4, 3), "float64"), output=0), case("r, wide", arr((2, 3), "float32"), output=1)],
        "linalg_multi_dot": [case("chain", arr((2, 3), "float64"), arr((3, 4), "float64"), arr((4, 2), "float64")),
                             case("vector ends", arr((3,), "float64"), arr((3, 4), "float32"), arr((4,), "float64"))],
        "partition": [case("rows", arr((3, 5), "float32"), 2, axis=1), case("kths", arr((6,), "int16"), [1, 4]),
                      case("kth out of bounds", arr((3, 5), "float64"), 7, axis=1),
                      case("bad axis", arr((3, 5), "float64"), 1, axis=2)],
        "argpartition": [case("columns", arr((4, 3), "float64"), 1, axis=0)],
        "lexsort": [case("two keys", arr((5,), "float32"), arr((5,), "int64")),
                    case("rows", arr((2, 4), "float64"), arr((2, 4), "float64"), axis=0),
                    case("shapes differ", arr((5,), "float64"), arr((4,), "float64"))],
        "unravel_index": [case("a scalar", scalar("int64"), shape=(3, 4), order="C", output=1),
                          case("an array", lambda: np.array([0, 5, 11]), shape=(3, 4), order="F", output=0),
                          case("bad order", lambda: np.array([1]), shape=(3, 4), order="K", output=0)],
        "vander": [case("square", arr((4,), "float32")), case("columns", arr((3,), "int16"), N=5, increasing=True),
                   case("not a vector", arr((2, 3), "float64"), N=2)],
        "average": [case("same shape", arr((2, 3), "float32"), arr((2, 3), "float64")),
                    case("along an axis", arr((2, 3), "float64"), arr((3,), "float32"), axis=1),
                    case("keepdims", arr((2, 3), "int32"), arr((2,), "int64"), axis=0, keepdims=True),
                    case("bad axis", arr((2, 3), "float64"), arr((2, 3), "float64"), axis=2)],
        "cov": [case("rows", arr((3, 5), "float32")), case("columns", arr((3, 5), "float64"), rowvar=False),
                case("with y", arr((2, 5), "float64"), arr((5,), "float32")),
                case("one variable", arr((5,), "int32"), ddof=0, dtype=np.dtype("float32")),
                case("3-d", arr((2, 2, 2), "float64")), case("observations differ", arr((2, 5), "float64"),
                                                            arr((2, 4), "float64"))],
        "corrcoef": [case("rows", arr((3, 5), "float64")), case("one variable", arr((5,), "float32")),
                     case("with y", arr((5,), "float64"), arr((5,), "float64"), rowvar=False)],
        "cross": [case("3-vectors", arr((4, 3), "float32"), arr((3,), "float64")),
                  case("broadcast", arr((2, 1, 3), "int32"), arr((4, 3), "int32"))],
        "kron": [case("matrices", arr((2, 3), "float32"), arr((3, 2), "float32")),
                 case("ranks differ", arr((2,), "int64"), arr((2, 3), "float64")),
                 case("0-d", arr((), "float64"), arr((2,), "float32"))],
        "convolve": [case("full", arr((5,), "float64"), arr((3,), "float32")),
                     case("same, swapped", arr((2,), "float64"), arr((5,), "float64"), mode="same"),
                     case("valid", arr((5,), "int32"), arr((2,), "int32"), mode="valid"),
                     case("empty", arr((0,), "float64"), arr((3,), "float64")),
                     case("bad mode", arr((3,), "float64"), arr((3,), "float64"), mode="middle")],
        "correlate": [case("valid", arr((5,), "float64"), arr((3,), "float32")),
                      case("full, swapped", arr((2,), "complex64"), arr((5,), "float64"), mode="full"),
                      case("same", arr((4,), "int16"), arr((2,), "int16"), mode="same")],
        "linalg_slogdet": [case("sign", square, output=0), case("log, stack", arr((2, 3, 3), "float32"), output=1),
                           case("not square", arr((2, 3), "float64"), output=1)],
        "linalg_cond": [case("square", square), case("wide", arr((2, 3), "float32")),
                        case("vector", arr((3,), "float64"))],
        "linalg_matrix_rank": [case("tall", arr((4, 3), "float64")), case("stack", arr((2, 3, 3), "float32")),
                               case("ints", arr((3, 2), "int32"))],
        "diag": [case("vector", arr((3,), "float32")), case("above", arr((3,), "int64"), k=2),
                 case("below", arr((2,), "bool"), k=-1)],
    }[name]


def cases_for(name: str) -> list[Case]:
    op = OPS[name]
    special = {"where": where_cases, "clip": clip_cases, "astype": astype_cases, "round": round_cases,
               "copy": copy_cases, "array": array_cases, "setitem": setitem_cases,
               "dynamic_slice": dynamic_slice_cases}
    if name in special:
        return special[name]()
    if op.kind is OpKind.ELEMENTWISE:
        assert op.ufunc is not None  # (the others are special above)
        return binary_cases(name) if op.ufunc.nin == 2 else unary_cases(name)
    if op.kind is OpKind.REDUCTION:
        return reduction_cases(name)
    if op.kind is OpKind.VIEW:
        return view_cases(name)
    if op.kind is OpKind.CREATION:
        return creation_cases(name)
    if name in ("matmul", "dot"):
        return product_cases(name)
    if name in ("concatenate", "stack"):
        return join_cases(name)
    if name in ("ufunc_at", "put_along_axis"):
        return scatter_cases(name)
    if name == "dim_size":
        return dim_size_cases()
    if name in ("advanced_index", "take_along_axis"):
        return index_cases(name)
    if name in ("cumsum", "cumprod", "sort", "argsort", "nancumsum", "nancumprod"):
        return along_axis_cases(name)
    if name == "einsum":
        return einsum_cases()
    if name == "attention":
        return attention_cases()
    if name in ("searchsorted", "digitize", "interp", "isin", "linalg_inv", "linalg_solve", "linalg_det", "linalg_norm",
                "ufunc_call", "average", "histogram", "nanstd", "nanvar", "nanprod", "nanargmax", "nanargmin",
                "trapezoid", "gradient", "linalg_cholesky", "linalg_pinv", "linalg_matrix_power", "linalg_eigvalsh",
                "linalg_eigh", "linalg_svdvals", "linalg_qr", "linalg_multi_dot", "vander", "partition",
                "argpartition", "lexsort", "unravel_index",
                "cov", "corrcoef", "cross", "kron", "convolve", "correlate", "diag", "linalg_slogdet",
                "linalg_cond", "linalg_matrix_rank"):
        return library_cases(name)
    if name == "block":
        return [case("2x2", lambda: ((make_array((2, 3), "float32"), make_array((2, 1), "float64")),
                                     (make_array((1, 4), "float32"),))),
                case("vectors", lambda: (make_array((3,), "int16"), make_array((2,), "int16"))),
                case("mismatch", lambda: ((make_array((2, 3), "float32"), make_array((3, 1), "float32")),))]
    if name in ("roll", "tile", "repeat", "pad"):
        return reshaping_cases(name)
    if name in ("ufunc_reduce", "ufunc_accumulate"):
        return ufunc_method_cases(name)
    if name in ("median", "percentile", "quantile", "nanmedian", "nanpercentile", "nanquantile"):
        return order_statistic_cases(name)
    raise AssertionError(f"no cases for op {name!r}: add them here when registering it")


COMPUTED_OPS = sorted(name for name, op in OPS.items() if op.kind is not OpKind.INPUT)


@pytest.mark.parametrize("name", COMPUTED_OPS)
def test_op_matches_numpy(name: str) -> None:
    cases = cases_for(name)
    assert cases
    failures = [f"{label}: {problem}" for label, make in cases if (problem := check_case(name, make))]
    assert not failures, f"{name}: {len(failures)} of {len(cases)} cases differ from NumPy:\n" + "\n".join(failures)


def test_every_family_is_exercised() -> None:
    kinds = {OPS[name].kind for name in COMPUTED_OPS}
    assert kinds == set(OpKind) - {OpKind.INPUT}


def test_input_op_is_bound_not_computed() -> None:
    g = Graph()
    x = g.add_input("x", TensorMeta((2,), np.dtype("float32")))
    g.set_outputs([x, x])
    value = np.ones(2, np.float32)
    first, second = interpret(g, [value])
    assert first is value and second is value
    with pytest.raises(RuntimeError):
        OPS["input"].reference()
    with pytest.raises(RuntimeError):
        OPS["input"].infer()


def test_setitem_through_a_view_writes_the_input() -> None:
    g = Graph()
    x = g.add_input("x", TensorMeta((3, 4), np.dtype("float64")))
    row = g.call("getitem", x, (1, slice(None, None, -1)))
    g.set_outputs([g.call("setitem", row, slice(0, 2), 7.0)])
    value = make_array((3, 4), "float64")
    expected = value.copy()
    expected[1, ::-1][0:2] = 7.0
    (out,) = interpret(g, [value])
    np.testing.assert_array_equal(value, expected)
    assert np.shares_memory(out, value)


def test_value_dependent_errors_surface_when_run() -> None:
    # Dtype-level errors are caught while building; a negative integer exponent inside an
    # array is only known at run time, where the interpreter raises as NumPy does.
    g = Graph()
    x = g.add_input("x", TensorMeta((2,), np.dtype("int64")))
    y = g.add_input("y", TensorMeta((2,), np.dtype("int64")))
    g.set_outputs([g.call("power", x, y)])
    with pytest.raises(ValueError):
        interpret(g, [np.array([2, 3]), np.array([1, -1])])
