"""Joining, splitting, flipping, resizing and viewing arrays, traced as the ops NumPy's own Python
code uses (stacking, ``diff``, ``atleast_*d``, ``rot90``, ``split``, ``take``, ``meshgrid``,
``append``, ``resize``, ``delete``, ``broadcast_arrays``, ``real``/``imag``...): views where NumPy
makes views, copies where it copies, so results, aliasing and writeability are NumPy's.
Importing this module registers the handlers (calls.py does)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir.symbolic import broadcast_shapes
from .errors import Unsupported, UserCodeError
from .numpy_api import (
    Handler,
    array_method,
    array_part,
    as_array,
    c_ordered,
    call_handler,
    check_default,
    const,
    normalize_axis,
    numpy_function,
    sequence_items,
)
from .values import ArrayValue, ListValue, TupleValue, Value

if TYPE_CHECKING:
    from .tracer import Tracer

_NO_VALUE = object()  # NumPy's <no value> default (prepend=, append=)


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


@numpy_function(np.block)
def _block(tracer: Tracer, arrays: Value) -> Value:
    """Nested lists of arrays: NumPy's own call (a tuple among them is NumPy's TypeError, eagerly)."""
    def nested(value: Value) -> Any:
        if isinstance(value, ListValue):
            return tuple(nested(item) for item in value.items)
        if isinstance(value, ArrayValue):
            return value.node
        raise Unsupported(f"np.block of a {type(value).__name__} among the blocks", tracer.loc)
    return tracer.emit("block", nested(arrays))


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
        return array_part(tracer, as_array(tracer, val), name)

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
        raise Unsupported("np.resize of an empty array, or to an empty, negative or dynamic size", tracer.loc)
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
    kept = tracer.emit("advanced_index", node, (*(slice(None),) * axis, tracer.emit("copy", keep).node))
    return c_ordered(tracer, kept.node)  # (NumPy's new array; F for an F-ordered one, which this is not)


@numpy_function(np.insert)
def _insert(tracer: Tracer, arr: Value, obj: Any, values: Value, axis: Any = None) -> Value:
    """Where each result element comes from, asked of np.insert itself at trace time: it inserts
    the positions of the values into the positions of the array (static sizes); then one gather
    from the two, flattened and the values cast to the array's dtype as NumPy casts them."""
    array = as_array(tracer, arr)
    inserted = as_array(tracer, values, array.node.meta.dtype)  # (Python values: NumPy's checks)
    shape, value_shape = array.node.meta.shape, inserted.node.meta.shape
    if not all(isinstance(d, int) for d in (*shape, *value_shape)):
        raise Unsupported("np.insert with dynamic sizes", tracer.loc)
    dtype = array.node.meta.dtype
    if not np.can_cast(inserted.node.meta.dtype, dtype, casting="same_kind"):
        raise Unsupported(f"np.insert of {inserted.node.meta.dtype} values into {dtype}", tracer.loc)
    size = int(np.prod(shape, dtype=np.int64))
    positions = np.arange(size).reshape(shape)
    markers = np.arange(size, size + int(np.prod(value_shape, dtype=np.int64))).reshape(value_shape)
    try:
        source = np.insert(positions, const(tracer, obj, "obj"), markers, const(tracer, axis, "axis"))
    except (IndexError, ValueError, TypeError) as error:
        raise UserCodeError(f"{type(error).__name__}: {error}", tracer.loc) from None
    cast = inserted if inserted.node.meta.dtype == dtype else tracer.emit("astype", inserted.node, dtype=dtype)
    pool = tracer.emit("concatenate", (tracer.emit("ravel", array.node).node, tracer.emit("ravel", cast.node).node),
                       axis=0)
    return tracer.emit("advanced_index", pool.node, (tracer.emit("copy", source).node,))


@numpy_function(np.broadcast_arrays)
def _broadcast_arrays(tracer: Tracer, *args: Value, subok: Any = False) -> Value:
    """NumPy's steps: each array already of the common shape itself, the others broadcast views;
    a NumPy scalar becomes a 0-d array first (``np.array(scalar)``), as NumPy makes every argument."""
    arrays = [as_array(tracer, a) for a in args]
    arrays = [tracer.emit("array", a.node) if a.node.meta.is_scalar else a for a in arrays]
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
        if not all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in np.ravel(sections).tolist()):
            raise Unsupported("np.split at positions or into counts that are not integers (NumPy's checks)", tracer.loc)
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
    taken = tracer.emit("advanced_index", array.node, (*(slice(None),) * axis, index.node))
    return c_ordered(tracer, taken.node)  # (np.take's result; x[:, idx]'s is not)


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
        output = [tracer.emit("copy", o.node, order="C") for o in output]  # (x.copy(): C order)
    # (NumPy 2.4 hands back its list comprehension's list when neither np.broadcast_arrays nor
    # the copies made a tuple; 2.5, which CI installs on 3.12 and 3.13, a tuple always)
    return ListValue(list(output)) if sparse and not copy and _SPARSE_VIEWS_LIST else TupleValue(list(output))


_SPARSE_VIEWS_LIST = type(np.meshgrid(np.zeros(1), np.zeros(1), sparse=True, copy=False)) is list
