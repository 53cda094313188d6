"""NumPy library functions beyond ufuncs and reductions. Running sums, sorting, gathering along an
axis, einsum, roll/tile/repeat/pad, medians and quantiles, a ufunc's reduce/accumulate and the
sorted-array lookups are graph ops NumPy runs between kernels (a matrix product written as
einsum becomes a matmul); functions NumPy itself writes in Python (stacking, ``diff``,
``atleast_*d``, ``rot90``, ``split``, ``take``, ``meshgrid``, a ufunc's ``outer``) are traced as
the ops its implementation uses, so the results are NumPy's and they fuse. Elementwise recipes
live in numpy_elementwise.py, products and linear algebra in numpy_matrices.py, statistics in
numpy_statistics.py. Importing this module registers the handlers (calls.py does)."""
from __future__ import annotations

import inspect
import string
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir.ops.elementwise import BINARY_UFUNCS
from ..ir.ops.extern import implicit_einsum_output
from ..ir.symbolic import broadcast_shapes
from .errors import Unsupported, UserCodeError
from .numpy_api import (
    Handler,
    array_method,
    as_array,
    call_handler,
    check_default,
    const,
    dtype_param,
    normalize_axis,
    number_or_node,
    numpy_function,
    sequence_items,
)
from .values import ArrayValue, ConstValue, ListValue, TupleValue, Value

if TYPE_CHECKING:
    from .tracer import Tracer


_NO_VALUE = object()  # NumPy's <no value> default (initial=, prepend=)


# --- graph ops NumPy runs -----------------------------------------------------------------

def _scan(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, axis: Any = None, dtype: Any = None, out: Any = None) -> Value:
        check_default(tracer, "out", out)
        return tracer.emit(name, as_array(tracer, a).node, axis=const(tracer, axis, "axis"),
                           **_options(tracer, dtype=dtype))

    return handler


def _sort(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, axis: Any = -1, kind: Any = None, order: Any = None, *,
                stable: Any = None) -> Value:
        check_default(tracer, "order", order)
        kwargs = {"axis": const(tracer, axis, "axis")}
        for key, value in (("kind", kind), ("stable", stable)):
            if (value := const(tracer, value, key)) is not None:
                kwargs[key] = value
        return tracer.emit(name, as_array(tracer, a).node, **kwargs)

    return handler


for _name, _fn in {"cumsum": np.cumsum, "cumprod": np.cumprod}.items():
    numpy_function(_fn)(_scan(_name))
    array_method(_name)(_scan(_name))
numpy_function(np.sort)(_sort("sort"))  # ndarray.sort sorts in place: not captured
numpy_function(np.argsort)(_sort("argsort"))
array_method("argsort")(_sort("argsort"))


_TAKE_AXIS_DEFAULT = inspect.signature(np.take_along_axis).parameters["axis"].default  # -1 from NumPy 2.3


def _partition(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, kth: Any, axis: Any = -1, kind: Any = "introselect",
                order: Any = None) -> Value:
        check_default(tracer, "order", order)
        axis = const(tracer, axis, "axis")
        if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
            raise Unsupported(f"np.{name} along other than one axis (axis=None flattens)", tracer.loc)
        return tracer.emit(name, as_array(tracer, a).node, const(tracer, kth, "kth"), axis=int(axis),
                           kind=const(tracer, kind, "kind"))

    return handler


numpy_function(np.partition)(_partition("partition"))
numpy_function(np.argpartition)(_partition("argpartition"))


@numpy_function(np.take_along_axis)
def _take_along_axis(tracer: Tracer, arr: Value, indices: Value, axis: Any = _TAKE_AXIS_DEFAULT) -> Value:
    """``axis=None`` takes from the flattened array; NumPy before 2.3 has no default axis."""
    if axis is inspect.Parameter.empty:
        raise UserCodeError("TypeError: take_along_axis() missing 1 required positional argument: 'axis'",
                            tracer.loc)
    return tracer.emit("take_along_axis", as_array(tracer, arr).node, as_array(tracer, indices).node,
                       axis=const(tracer, axis, "axis"))


@numpy_function(np.einsum)
def _einsum(tracer: Tracer, *operands: Value, out: Any = None, dtype: Any = None, order: Any = "K",
            casting: Any = "safe", optimize: Any = False) -> Value:
    """Subscripts as a string of letters (``'bqd,bkd->bqk'``), ``...`` spelled out as letters; the
    sublist form runs eagerly."""
    check_default(tracer, "out", out)
    check_default(tracer, "dtype", dtype)
    check_default(tracer, "order", order, "K")
    check_default(tracer, "casting", casting, "safe")
    subscripts = const(tracer, operands[0], "subscripts") if operands else None
    if not isinstance(subscripts, str):
        raise Unsupported("np.einsum without a string of letters as subscripts", tracer.loc)
    kwargs = {"optimize": optimize} if (optimize := const(tracer, optimize, "optimize")) is not False else {}
    arrays = [as_array(tracer, o) for o in operands[1:]]
    if "." in subscripts:
        subscripts = _spell_out_ellipsis(tracer, subscripts, [a.node.meta.ndim for a in arrays])
    plan = _matmul_plan(subscripts, arrays)
    if plan is None:
        return tracer.emit("einsum", subscripts, *(a.node for a in arrays), **kwargs)
    (a, b), (order_a, order_b, order_out) = arrays, plan
    product = tracer.emit("matmul", _transposed(tracer, a, order_a).node, _transposed(tracer, b, order_b).node)
    return _transposed(tracer, product, order_out)


def _spell_out_ellipsis(tracer: Tracer, subscripts: str, ndims: list[int]) -> str:
    """``'...ij,...jk->...ik'`` with letters the subscripts do not use for the axes ``...`` stands
    for (right-aligned, as NumPy broadcasts them): ``'Aij,Ajk->Aik'`` for 3-d operands. Without
    ``->`` the output is those axes, then the labels used once (NumPy's implicit mode)."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    malformed = len(terms) != len(ndims) or any(t.count(".") not in (0, 3) or (t.count(".") and "..." not in t)
                                                 for t in (*terms, output))
    spans = [ndim - len(term) + 3 if "..." in term else 0 for term, ndim in zip(terms, ndims, strict=False)]
    if malformed or min(spans, default=0) < 0:
        raise Unsupported(f"np.einsum subscripts {subscripts!r} (NumPy's error, eagerly)", tracer.loc)
    span = max(spans, default=0)
    spare = [c for c in string.ascii_letters if c not in subscripts][:span]
    if len(spare) < span or (arrow and "..." not in output and span):
        raise Unsupported(f"np.einsum subscripts {subscripts!r} (NumPy's error or too many axes, eagerly)",
                          tracer.loc)
    letters = "".join(spare)
    terms = [term.replace("...", letters[span - n:]) for term, n in zip(terms, spans, strict=True)]
    plain = ",".join(term.replace("...", "") for term in inputs.split(","))
    output = output.replace("...", letters) if arrow else letters + implicit_einsum_output(plain)
    return ",".join(terms) + "->" + output


def _transposed(tracer: Tracer, array: ArrayValue, order: tuple) -> ArrayValue:
    return array if order == tuple(range(len(order))) else tracer.emit("transpose", array.node, order)


def _matmul_plan(subscripts: str, arrays: list[ArrayValue]) -> tuple[tuple, tuple, tuple] | None:
    """A (batched) matrix product written as einsum (``'bqd,bkd->bqk'``) of two float32 or
    float64 arrays of one dtype, as the transposes around a matmul: NumPy's einsum does not use
    BLAS (12x slower on attention's shapes here; its own ``optimize=True`` does the same), and
    the values differ only by the order of the sums. None for anything else."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    if len(terms) != 2 or len(arrays) != 2:
        return None
    metas = [a.node.meta for a in arrays]
    if metas[0].dtype != metas[1].dtype or metas[0].dtype not in (np.dtype("float32"), np.dtype("float64")):
        return None
    left, right = terms
    if not arrow:
        output = implicit_einsum_output(inputs)
    labels = [left, right, output]
    if any(len(set(t)) != len(t) or not t.isalpha() for t in labels):
        return None
    if [len(left), len(right)] != [m.ndim for m in metas]:
        return None
    sizes: dict[str, Any] = {}
    for term, meta in zip(terms, metas, strict=True):
        for label, size in zip(term, meta.shape, strict=True):
            if sizes.setdefault(label, size) != size:  # unequal or broadcast sizes: leave it to einsum
                return None
    batch = [c for c in output if c in left and c in right]
    rows, columns = [c for c in output if c not in right], [c for c in output if c not in left]
    summed = [c for c in left if c in right and c not in output]
    if len(rows) != 1 or len(columns) != 1 or len(summed) != 1 or set(output) - set(left + right) \
            or len(batch) + 2 != len(output) or len(left) != len(batch) + 2 or len(right) != len(batch) + 2:
        return None
    order_a = tuple(left.index(c) for c in (*batch, rows[0], summed[0]))
    order_b = tuple(right.index(c) for c in (*batch, summed[0], columns[0]))
    product = "".join((*batch, rows[0], columns[0]))
    return order_a, order_b, tuple(product.index(c) for c in output)


@numpy_function(np.roll)
def _roll(tracer: Tracer, a: Value, shift: Any, axis: Any = None) -> Value:
    return tracer.emit("roll", as_array(tracer, a).node, const(tracer, shift, "shift"), const(tracer, axis, "axis"))


@numpy_function(np.tile)
def _tile(tracer: Tracer, A: Value, reps: Any) -> Value:  # noqa: N803 - NumPy's name
    return tracer.emit("tile", as_array(tracer, A).node, const(tracer, reps, "reps"))


@numpy_function(np.repeat)
@array_method("repeat")
def _repeat(tracer: Tracer, a: Value, repeats: Any, axis: Any = None) -> Value:
    repeats = const(tracer, repeats, "repeats")
    if not isinstance(repeats, int | np.integer):
        raise Unsupported("np.repeat with a sequence of counts", tracer.loc)
    return tracer.emit("repeat", as_array(tracer, a).node, repeats, const(tracer, axis, "axis"))


@numpy_function(np.pad)
def _pad(tracer: Tracer, array: Value, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Value:
    mode = const(tracer, mode, "mode")
    if not isinstance(mode, str):
        raise Unsupported("np.pad with a function as mode", tracer.loc)
    options = {key: const(tracer, value, key) for key, value in kwargs.items()}
    return tracer.emit("pad", as_array(tracer, array).node, const(tracer, pad_width, "pad_width"), mode, **options)


def _ufunc_reduce(ufunc: np.ufunc) -> Handler:
    def handler(tracer: Tracer, array: Value, axis: Any = 0, dtype: Any = None, out: Any = None,
                keepdims: Any = False, initial: Any = _NO_VALUE, where: Any = True) -> Value:
        check_default(tracer, "out", out)
        check_default(tracer, "where", where, True)
        if initial is not _NO_VALUE:
            raise Unsupported(f"np.{ufunc.__name__}.reduce with initial=", tracer.loc)
        return tracer.emit("ufunc_reduce", as_array(tracer, array).node, ufunc.__name__,
                           axis=const(tracer, axis, "axis"), **_options(tracer, keepdims=keepdims, dtype=dtype))

    return handler


def _ufunc_accumulate(ufunc: np.ufunc) -> Handler:
    def handler(tracer: Tracer, array: Value, axis: Any = 0, dtype: Any = None, out: Any = None) -> Value:
        check_default(tracer, "out", out)
        return tracer.emit("ufunc_accumulate", as_array(tracer, array).node, ufunc.__name__,
                           axis=const(tracer, axis, "axis"), **_options(tracer, dtype=dtype))

    return handler


def _ufunc_outer(ufunc: np.ufunc) -> Handler:
    def handler(tracer: Tracer, a: Value, b: Value) -> Value:
        """``op.outer(A, B)`` is ``op(A[..., None, ..., None], B)``, one None per dim of B."""
        left, right = as_array(tracer, a), as_array(tracer, b)
        index = (Ellipsis, *(None,) * right.node.meta.ndim)
        return tracer.emit(ufunc.__name__, tracer.emit("getitem", left.node, index).node, right.node)

    return handler


def _options(tracer: Tracer, *, keepdims: Any = False, dtype: Any = None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if const(tracer, keepdims, "keepdims"):
        options["keepdims"] = True
    if (dtype := dtype_param(tracer, dtype)) is not None:
        options["dtype"] = dtype
    return options


for _ufunc in BINARY_UFUNCS:
    numpy_function(_ufunc.reduce)(_ufunc_reduce(_ufunc))
    numpy_function(_ufunc.accumulate)(_ufunc_accumulate(_ufunc))
    numpy_function(_ufunc.outer)(_ufunc_outer(_ufunc))


def _median(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, axis: Any = None, out: Any = None, overwrite_input: Any = False,
                keepdims: Any = False) -> Value:
        check_default(tracer, "out", out)
        check_default(tracer, "overwrite_input", overwrite_input, False)
        return tracer.emit(name, as_array(tracer, a).node, axis=const(tracer, axis, "axis"),
                           keepdims=bool(const(tracer, keepdims, "keepdims")))

    return handler


numpy_function(np.median)(_median("median"))
numpy_function(np.nanmedian)(_median("nanmedian"))


def _quantile(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, q: Any, axis: Any = None, out: Any = None, overwrite_input: Any = False,
                method: Any = "linear", keepdims: Any = False, *, weights: Any = None) -> Value:
        check_default(tracer, "out", out)
        check_default(tracer, "overwrite_input", overwrite_input, False)
        check_default(tracer, "weights", weights)
        return tracer.emit(name, as_array(tracer, a).node, const(tracer, q, "q"), axis=const(tracer, axis, "axis"),
                           keepdims=bool(const(tracer, keepdims, "keepdims")), method=const(tracer, method, "method"))

    return handler


for _name, _fn in {"percentile": np.percentile, "quantile": np.quantile, "nanpercentile": np.nanpercentile,
                  "nanquantile": np.nanquantile}.items():
    numpy_function(_fn)(_quantile(_name))


# --- functions NumPy writes in Python, as the ops they use ---------------------------------

def _at_least(tracer: Tracer, value: Value, ndim: int) -> ArrayValue:
    """np.atleast_1d / atleast_2d of one array: 0-d to (1,) or (1, 1), 1-d (n,) to (1, n)."""
    array = as_array(tracer, value)
    if array.node.meta.ndim >= ndim:
        return array
    if array.node.meta.ndim == 0:
        return tracer.emit("reshape", array.node, (1,) * ndim)
    return tracer.emit("getitem", array.node, (None, slice(None)))


def _stack(name: str, ndim: int) -> Handler:
    def handler(tracer: Tracer, tup: Value, *, dtype: Any = None, casting: Any = "same_kind") -> Value:
        check_default(tracer, "dtype", dtype)
        check_default(tracer, "casting", casting, "same_kind")
        arrays = [_at_least(tracer, item, ndim) for item in sequence_items(tracer, tup, name)]
        axis = 0 if name == "vstack" or (arrays and arrays[0].node.meta.ndim == 1) else 1
        return tracer.emit("concatenate", tuple(a.node for a in arrays), axis=axis)

    return handler


numpy_function(np.vstack)(_stack("vstack", 2))
numpy_function(np.hstack)(_stack("hstack", 1))


@numpy_function(np.column_stack)
def _column_stack(tracer: Tracer, tup: Value) -> Value:
    """NumPy's steps: vectors (and scalars) as columns, then one concatenate along axis 1."""
    arrays = []
    for item in sequence_items(tracer, tup, "np.column_stack"):
        array = as_array(tracer, item)
        if array.node.meta.ndim < 2:
            array = tracer.emit("reshape", array.node, (-1, 1))
        arrays.append(array.node)
    return tracer.emit("concatenate", tuple(arrays), axis=1)


@numpy_function(np.dstack)
def _dstack(tracer: Tracer, tup: Value) -> Value:
    parts = [call_handler(tracer, np.atleast_3d, [item], {}) for item in sequence_items(tracer, tup, "np.dstack")]
    return tracer.emit("concatenate", tuple(as_array(tracer, part).node for part in parts), axis=2)


@numpy_function(np.diff)
def _diff(tracer: Tracer, a: Value, n: Any = 1, axis: Any = -1, prepend: Any = _NO_VALUE,
          append: Any = _NO_VALUE) -> Value:
    if prepend is not _NO_VALUE or append is not _NO_VALUE:
        raise Unsupported("np.diff with prepend= or append=", tracer.loc)
    n = const(tracer, n, "n")
    if n == 0:
        return a  # NumPy returns its argument itself
    if n < 0:
        raise UserCodeError(f"ValueError: order must be non-negative but got {n!r}", tracer.loc)
    array = as_array(tracer, a)
    ndim = array.node.meta.ndim
    if ndim == 0:
        raise UserCodeError("ValueError: diff requires input that is at least one dimensional", tracer.loc)
    axis = normalize_axis(tracer, const(tracer, axis, "axis"), ndim, single=True)
    later = tuple(slice(1, None) if i == axis else slice(None) for i in range(ndim))
    earlier = tuple(slice(None, -1) if i == axis else slice(None) for i in range(ndim))
    op = "not_equal" if array.node.meta.dtype == np.bool_ else "subtract"
    for _ in range(n):
        array = tracer.emit(op, tracer.emit("getitem", array.node, later).node,
                            tracer.emit("getitem", array.node, earlier).node)
    return array


def _at_least_nd(ndim: int) -> Handler:
    """np.atleast_1d/2d/3d as NumPy writes them: the array itself, or a view with new axes."""
    def one(tracer: Tracer, value: Value) -> Value:
        array = as_array(tracer, value)
        have = array.node.meta.ndim
        if have >= ndim:
            return array
        if have == 0:
            return tracer.emit("reshape", array.node, (1,) * ndim)
        every = slice(None)
        index = {(2, 1): (None, every), (3, 1): (None, every, None), (3, 2): (every, every, None)}
        return tracer.emit("getitem", array.node, index[ndim, have])

    def handler(tracer: Tracer, *arys: Value) -> Value:
        results = [one(tracer, a) for a in arys]
        return results[0] if len(results) == 1 else TupleValue(results)

    return handler


numpy_function(np.atleast_1d)(_at_least_nd(1))
numpy_function(np.atleast_2d)(_at_least_nd(2))
numpy_function(np.atleast_3d)(_at_least_nd(3))


def _part(name: str) -> Handler:
    def handler(tracer: Tracer, val: Value) -> Value:
        return tracer.emit(name, as_array(tracer, val).node)

    return handler


numpy_function(np.real)(_part("real"))   # views, as NumPy's: ``val.real`` / ``val.imag``
numpy_function(np.imag)(_part("imag"))


@numpy_function(np.append)
def _append(tracer: Tracer, arr: Value, values: Value, axis: Any = None) -> Value:
    """NumPy's steps: both flattened for axis None, then one concatenate."""
    first, second = as_array(tracer, arr).node, as_array(tracer, values).node
    axis = const(tracer, axis, "axis")
    if axis is None:
        first = first if first.meta.ndim == 1 else tracer.emit("ravel", first).node
        second, axis = tracer.emit("ravel", second).node, first.meta.ndim - 1
    return tracer.emit("concatenate", (first, second), axis=axis)


@numpy_function(np.ediff1d)
def _ediff1d(tracer: Tracer, ary: Value, to_end: Any = None, to_begin: Any = None) -> Value:
    if to_end is not None or to_begin is not None:
        raise Unsupported("np.ediff1d with to_end= or to_begin=", tracer.loc)
    flat = tracer.emit("ravel", as_array(tracer, ary).node).node
    return tracer.emit("subtract", tracer.emit("getitem", flat, slice(1, None)).node,
                       tracer.emit("getitem", flat, slice(None, -1)).node)


@numpy_function(np.resize)
def _resize(tracer: Tracer, a: Value, new_shape: Any) -> Value:
    """NumPy's steps: the flattened array repeated to fill the new shape (static sizes)."""
    flat = tracer.emit("ravel", as_array(tracer, a).node).node
    shape = const(tracer, new_shape, "new_shape")
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    size = int(np.prod(shape, dtype=np.int64))
    if not isinstance(flat.meta.shape[0], int) or any(not isinstance(d, int | np.integer) or d < 0 for d in shape) \
            or not size or not flat.meta.shape[0]:
        raise Unsupported("np.resize to an empty, negative or dynamic size", tracer.loc)
    repeats = -(-size // flat.meta.shape[0])
    whole = tracer.emit("concatenate", (flat,) * repeats, axis=0)   # a copy even for one: never a view
    return tracer.emit("reshape", tracer.emit("getitem", whole.node, slice(None, size)).node, shape)


@numpy_function(np.delete)
def _delete(tracer: Tracer, arr: Value, obj: Any, axis: Any = None) -> Value:
    """The kept positions, computed by NumPy itself on a range at trace time (static sizes),
    gathered: a copy, as NumPy's."""
    array = as_array(tracer, arr)
    obj, axis = const(tracer, obj, "obj"), const(tracer, axis, "axis")
    node = array.node if axis is not None else tracer.emit("ravel", array.node).node
    axis = 0 if axis is None else normalize_axis(tracer, axis, node.meta.ndim, single=True)
    length = node.meta.shape[axis]
    if not isinstance(length, int):
        raise Unsupported("np.delete along a dynamic dimension", tracer.loc)
    try:
        keep = np.delete(np.arange(length), obj)
    except (IndexError, ValueError, TypeError) as error:
        raise UserCodeError(f"{type(error).__name__}: {error}", tracer.loc) from None
    return tracer.emit("advanced_index", node, (*(slice(None),) * axis, tracer.emit("copy", keep).node))


@numpy_function(np.broadcast_arrays)
def _broadcast_arrays(tracer: Tracer, *args: Value, subok: Any = False) -> Value:
    """NumPy's steps: each array already of the common shape itself, the others broadcast views."""
    arrays = [as_array(tracer, a) for a in args]
    shape = broadcast_shapes(*(a.node.meta.shape for a in arrays))
    return TupleValue([a if a.node.meta.shape == shape else tracer.emit("broadcast_writeable", a.node, shape)
                       for a in arrays])


@numpy_function(np.fliplr)
def _fliplr(tracer: Tracer, m: Value) -> Value:
    array = as_array(tracer, m)
    if array.node.meta.ndim < 2:
        raise UserCodeError("ValueError: Input must be >= 2-d.", tracer.loc)
    return tracer.emit("getitem", array.node, (slice(None), slice(None, None, -1)))


@numpy_function(np.flipud)
def _flipud(tracer: Tracer, m: Value) -> Value:
    array = as_array(tracer, m)
    if array.node.meta.ndim < 1:
        raise UserCodeError("ValueError: Input must be >= 1-d.", tracer.loc)
    return tracer.emit("getitem", array.node, (slice(None, None, -1), Ellipsis))


@numpy_function(np.rot90)
def _rot90(tracer: Tracer, m: Value, k: Any = 1, axes: Any = (0, 1)) -> Value:
    """NumPy's steps: flips and a transpose, all views."""
    axes, k = tuple(const(tracer, axes, "axes")), const(tracer, k, "k")
    array = as_array(tracer, m)
    ndim = array.node.meta.ndim
    if len(axes) != 2:
        raise UserCodeError("ValueError: len(axes) must be 2.", tracer.loc)
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == ndim:
        raise UserCodeError("ValueError: Axes must be different.", tracer.loc)
    if not all(-ndim <= a < ndim for a in axes):
        raise UserCodeError(f"ValueError: Axes={axes} out of range for array of ndim={ndim}.", tracer.loc)
    k %= 4
    if k == 0:
        return tracer.emit("getitem", array.node, (slice(None),))
    if k == 2:
        return tracer.emit("flip", tracer.emit("flip", array.node, axes[0]).node, axes[1])
    order = list(range(ndim))
    order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
    if k == 1:
        return tracer.emit("transpose", tracer.emit("flip", array.node, axes[1]).node, tuple(order))
    return tracer.emit("flip", tracer.emit("transpose", array.node, tuple(order)).node, axes[1])


def _split(equal: bool) -> Handler:
    """np.split / np.array_split: a list of views, cut where NumPy cuts (static sizes only)."""
    def handler(tracer: Tracer, ary: Value, indices_or_sections: Any, axis: Any = 0) -> Value:
        array = as_array(tracer, ary)
        axis = normalize_axis(tracer, const(tracer, axis, "axis"), array.node.meta.ndim, single=True)
        total = array.node.meta.shape[axis]
        sections = const(tracer, indices_or_sections, "indices_or_sections")
        if not isinstance(total, int):
            raise Unsupported("np.split along a dynamic dimension", tracer.loc)
        if np.ndim(sections) == 0:
            count = int(sections)
            if count <= 0:
                raise UserCodeError("ValueError: number sections must be larger than 0.", tracer.loc)
            if equal and total % count:
                raise UserCodeError("ValueError: array split does not result in an equal division", tracer.loc)
            each, extras = divmod(total, count)
            points = np.cumsum([0] + extras * [each + 1] + (count - extras) * [each]).tolist()
        else:
            points = [0, *(int(i) for i in sections), total]
        before = (slice(None),) * axis
        return ListValue([tracer.emit("getitem", array.node, (*before, slice(start, stop)))
                          for start, stop in zip(points[:-1], points[1:], strict=True)])

    return handler


numpy_function(np.split)(_split(equal=True))
numpy_function(np.array_split)(_split(equal=False))


@numpy_function(np.take)
@array_method("take")
def _take(tracer: Tracer, a: Value, indices: Value, axis: Any = None, out: Any = None, mode: Any = "raise") -> Value:
    """``a[..., indices]`` along ``axis`` (the flattened array for None): NumPy's bounds errors."""
    check_default(tracer, "out", out)
    check_default(tracer, "mode", mode, "raise")
    array = as_array(tracer, a)
    index = as_array(tracer, indices)
    if index.node.meta.dtype.kind not in "iu":
        raise Unsupported("np.take with indices that are not integers", tracer.loc)
    axis = const(tracer, axis, "axis")
    if axis is None or (array.node.meta.ndim == 0 and axis in (0, -1)):  # NumPy takes axis 0 of a 0-d array
        array = tracer.emit("reshape", array.node, (-1,))
        axis = 0
    axis = normalize_axis(tracer, axis, array.node.meta.ndim, single=True)
    return tracer.emit("advanced_index", array.node, (*(slice(None),) * axis, index.node))


@numpy_function(np.meshgrid)
def _meshgrid(tracer: Tracer, *xi: Value, copy: Any = True, sparse: Any = False, indexing: Any = "xy") -> Value:
    """NumPy's steps: each vector reshaped onto its own axis (the first two swapped for 'xy'),
    broadcast against the others unless sparse, copied unless copy=False (then views)."""
    copy, sparse = const(tracer, copy, "copy"), const(tracer, sparse, "sparse")
    indexing = const(tracer, indexing, "indexing")
    if indexing not in ("xy", "ij"):
        raise UserCodeError("ValueError: Valid values for `indexing` are 'xy' and 'ij'.", tracer.loc)
    ndim = len(xi)
    shapes = [(1,) * i + (-1,) + (1,) * (ndim - i - 1) for i in range(ndim)]
    if indexing == "xy" and ndim > 1:
        shapes[0], shapes[1] = (1, -1, *shapes[0][2:]), (-1, 1, *shapes[1][2:])
    output = [tracer.emit("reshape", as_array(tracer, x).node, shape) for x, shape in zip(xi, shapes, strict=True)]
    if not sparse:
        target = broadcast_shapes(*(o.node.meta.shape for o in output))
        # np.broadcast_arrays's views (flagged writeable), the arrays of the whole shape themselves
        output = [tracer.emit("broadcast_writeable", o.node, target) if o.node.meta.shape != target else o
                  for o in output]
    if copy:
        output = [tracer.emit("copy", o.node) for o in output]
    return TupleValue(list(output))


# --- lookups, interpolation and calculus: NumPy's own calls (ir/ops/library.py) ------------

@numpy_function(np.searchsorted)
@array_method("searchsorted")
def _searchsorted(tracer: Tracer, a: Value, v: Value, side: Any = "left", sorter: Any = None) -> Value:
    check_default(tracer, "sorter", sorter)
    return tracer.emit("searchsorted", as_array(tracer, a).node, number_or_node(tracer, v),
                       side=const(tracer, side, "side"))


@numpy_function(np.digitize)
def _digitize(tracer: Tracer, x: Value, bins: Value, right: Any = False) -> Value:
    if not isinstance(x, ArrayValue):
        raise Unsupported("np.digitize of a Python number", tracer.loc)
    return tracer.emit("digitize", x.node, as_array(tracer, bins).node, right=bool(const(tracer, right, "right")))


@numpy_function(np.interp)
def _interp(tracer: Tracer, x: Value, xp: Value, fp: Value, left: Any = None, right: Any = None,
            period: Any = None) -> Value:
    if not isinstance(x, ArrayValue):
        raise Unsupported("np.interp at a Python number", tracer.loc)
    given = {"left": left, "right": right, "period": period}
    options = {name: const(tracer, value, name) for name, value in given.items()}
    return tracer.emit("interp", x.node, as_array(tracer, xp).node, as_array(tracer, fp).node,
                       **{name: value for name, value in options.items() if value is not None})


@numpy_function(np.isin)
def _isin(tracer: Tracer, element: Value, test_elements: Value, assume_unique: Any = False, invert: Any = False,
          *, kind: Any = None) -> Value:
    return tracer.emit("isin", as_array(tracer, element).node, as_array(tracer, test_elements).node,
                       assume_unique=bool(const(tracer, assume_unique, "assume_unique")),
                       invert=bool(const(tracer, invert, "invert")), kind=const(tracer, kind, "kind"))


@numpy_function(np.gradient)
def _gradient(tracer: Tracer, f: Value, *varargs: Value, axis: Any = None, edge_order: Any = 1) -> Value:
    """Unit spacing along one axis (of a vector, or the one given); a list of gradients or
    spacings run eagerly."""
    array = as_array(tracer, f)
    axis = const(tracer, axis, "axis")
    if varargs or not (array.node.meta.ndim == 1 and axis in (None, 0, -1) or isinstance(axis, int)):
        raise Unsupported("np.gradient with spacings or along several axes (a list of arrays)", tracer.loc)
    return tracer.emit("gradient", array.node, axis=axis, edge_order=const(tracer, edge_order, "edge_order"))


@numpy_function(np.trapezoid)
def _trapezoid(tracer: Tracer, y: Value, x: Any = None, dx: Any = 1.0, axis: Any = -1) -> Value:
    if x is not None and not (isinstance(x, ConstValue) and x.value is None):
        raise Unsupported("np.trapezoid with sample points x", tracer.loc)
    axis = const(tracer, axis, "axis")
    if not isinstance(axis, int | np.integer):
        raise Unsupported("np.trapezoid along other than one axis", tracer.loc)
    return tracer.emit("trapezoid", as_array(tracer, y).node, dx=const(tracer, dx, "dx"), axis=int(axis))
