"""Subscripts on symbolic values: NumPy's basic and advanced indexing (with positions read at run
time), and items of lists, tuples, dicts and constants."""
from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from ..ir import Dim, OpKind, SymbolicShapeError
from ..ir.ops.views import index_axes
from .conversions import NotConstant, constant_of
from .errors import Unsupported, UserCodeError
from .guards import Guard
from .operators import record_items_undo, write_into
from .sources import ItemSource
from .values import (
    ArrayValue,
    ConstValue,
    DictValue,
    DynamicInt,
    ListValue,
    SizeValue,
    SliceValue,
    TupleValue,
    Value,
)
from .wrapping import wrap

if TYPE_CHECKING:
    from .tracer import Tracer


def get_item(tracer: Tracer, container: Value, key: Value) -> Value:
    if isinstance(container, ArrayValue):
        index = integer_array_index(tracer, key)
        if index is not None:
            return tracer.emit("advanced_index", container.node, index)
        view, rest = _run_time_slices(tracer, container, key)
        if rest is None:
            return view
        return tracer.emit("getitem", view.node, array_index(tracer, rest, view))
    if isinstance(container, TupleValue | ListValue):
        try:
            index = constant_of(key)
        except NotConstant:
            raise Unsupported("indexing a sequence with an array", tracer.loc) from None
        try:
            picked = container.items[index]
        except (IndexError, TypeError) as exc:
            raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc
        return type(container)(picked) if isinstance(index, slice) else picked
    if isinstance(container, DictValue):
        try:
            return container.items[constant_of(key)]
        except (KeyError, NotConstant, TypeError) as exc:
            raise UserCodeError(f"KeyError: {exc}", tracer.loc) from exc
    if isinstance(container, ConstValue):
        try:
            result = container.value[constant_of(key)]
        except NotConstant:
            raise Unsupported("indexing a constant with an array", tracer.loc) from None
        except SymbolicShapeError:
            raise
        except Exception as exc:
            raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc
        if container.source is None or type(container.value) in (str, bytes):  # (its guard pins the value)
            return ConstValue(result)
        index = constant_of(key)
        if not isinstance(index, Hashable):  # (a slice before 3.12: no source can name the item)
            raise Unsupported(f"an item of a {type(container.value).__name__} by an unhashable key", tracer.loc)
        return wrap(tracer, result, ItemSource(container.source, index))
    raise Unsupported(f"subscript of {type(container).__name__}", tracer.loc)


def set_item(tracer: Tracer, container: Value, key: Value, value: Value) -> None:
    if isinstance(container, ArrayValue):
        if _is_mask(key, container):  # x[x < 0] = 0: every element, where the mask holds
            write_into(tracer, container, Ellipsis, _masked_fill(tracer, container, key, value))
            return
        index = integer_array_index(tracer, key)  # x[rows, cols] = v: NumPy's order of writes
        if index is not None:
            write_into(tracer, container, index, value)
            return
        view, rest = _run_time_slices(tracer, container, key)
        write_into(tracer, view, Ellipsis if rest is None else array_index(tracer, rest, view), value)
        return
    if isinstance(container, ListValue | DictValue) and container.source is None:
        record_items_undo(tracer, container)
        try:
            index = constant_of(key)
            if isinstance(container, ListValue):
                container.items[index] = value
            else:
                container.items[index] = value
        except NotConstant:
            raise Unsupported("assigning to a list item with an array index", tracer.loc) from None
        except SymbolicShapeError:
            raise
        except Exception as exc:
            raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc
        return
    raise Unsupported(f"item assignment on {type(container).__name__} from outside the function "
                      "(a side effect Ember does not capture)", tracer.loc)


def array_index(tracer: Tracer, key: Value, array: ArrayValue):
    """A basic NumPy index (ints, slices, None, Ellipsis) as a constant; anything else breaks."""
    if isinstance(key, ArrayValue) and not _integer_argument(key):
        if key.node.meta.is_scalar:
            raise Unsupported("an index the function computed (a NumPy integer: the position is known only "
                              "at run time)", tracer.loc)
        raise Unsupported("a boolean mask index (the result's shape depends on the values)", tracer.loc)
    if isinstance(key, ConstValue) and type(key.peek()) is tuple:  # x[1, 2] and x[..., 0] load one constant
        key = TupleValue([ConstValue(item) for item in key.value])
    items = _index_items(key)
    sizes = _axis_sizes(items, array.node.meta.shape)
    index = [_basic_item(tracer, item, size) for item, size in zip(items, sizes, strict=True)]
    return tuple(index) if isinstance(key, TupleValue) else index[0]


def _run_time_slices(tracer: Tracer, array: ArrayValue, key: Value) -> tuple[ArrayValue, Value | None]:
    """The slices ``c*i + a:c*i + b`` (step 1) of a basic index whose ``i`` is read at run time (a
    DynamicInt), where the traced value lies in the axis: each a ``dynamic_slice`` view of ``b - a``
    elements, guarded to stay in the axis (outside, the function is traced again with the
    number). Returns the view and the rest of the index, those slices made whole (None when
    nothing is left to index)."""
    items = _index_items(key)
    if isinstance(key, ConstValue) or not any(isinstance(item, SliceValue) for item in items):
        return array, key
    axes = _item_axes(items, array.node.meta.ndim)
    view, rest = array, list(items)
    for position, (item, axis) in enumerate(zip(items, axes, strict=True)):
        if axis is None or axis >= view.node.meta.ndim:
            continue
        size = view.node.meta.shape[axis]
        found = _slice_at_run_time(item, size)
        if found is not None:
            start, length = found
            view = tracer.emit("dynamic_slice", view.node, tracer.slice_start(start, length, size), axis=axis,
                               length=length)
            rest[position] = ConstValue(slice(None))
    if view is array:
        return array, key
    if all(type(item) is ConstValue and item.peek() in (slice(None), Ellipsis) for item in rest):
        return view, None
    return view, TupleValue(rest) if isinstance(key, TupleValue) else rest[0]


def _slice_at_run_time(item: Value, size: Any) -> tuple[DynamicInt, int] | None:
    """``item`` as (start, length) if it is ``c*i + a:c*i + b`` with ``a < b`` and step 1 (None), i a
    Python int read at run time (a DynamicInt), and ``0 <= c*i + a`` and ``c*i + b <= size`` for the
    traced value."""
    if not (isinstance(item, SliceValue) and isinstance(item.start, DynamicInt) and
            isinstance(item.stop, DynamicInt) and item.start.base == item.stop.base and
            item.start.scale == item.stop.scale):
        return None
    if type(item.step) is not ConstValue or not (item.step.value is None or type(item.step.value) is int and
                                                  item.step.value == 1):
        return None
    start, length = item.start, item.stop.offset - item.start.offset
    extent = _traced_extent(size)
    if length <= 0 or extent is None or not 0 <= start.peek() <= extent - length:
        return None
    return start, length


def _index_items(key: Value) -> list[Value]:
    return key.items if isinstance(key, TupleValue) else [key]


def _axis_sizes(items: list[Value], shape: tuple) -> list[Any]:
    """The size of the axis each item of a basic index selects from (None for None, Ellipsis and
    items past the last axis, which NumPy rejects)."""
    return [shape[axis] if axis is not None and axis < len(shape) else None
            for axis in _item_axes(items, len(shape))]


def _item_axes(items: list[Value], ndim: int) -> list[int | None]:
    """The axis each item of a basic index selects from (None for None and Ellipsis)."""
    def marker(item: Value) -> Any:
        """None or Ellipsis for those items (they select no axis of their own), else the item."""
        if isinstance(item, ConstValue) and not isinstance(item, SizeValue):
            value = item.peek()
            if value is None or value is Ellipsis:
                return value
        return item
    return index_axes([marker(item) for item in items], ndim)


def _integer_argument(value: ArrayValue) -> bool:
    """A NumPy integer the caller passed (not one the graph computes): an index read at run time."""
    meta = value.node.meta
    return meta.is_scalar and meta.dtype.kind in "iu" and value.node.op.kind is OpKind.INPUT and \
        value.source is not None


def _holds(size: Any, position: int) -> bool:
    """Whether ``position`` indexes an axis of ``size`` (_traced_extent)."""
    extent = _traced_extent(size)
    return extent is not None and -extent <= position < extent


def _traced_extent(size: Any) -> int | None:
    """An axis's size when traced: a number, or a dynamic dimension's; None for no axis."""
    extent = size.hint if isinstance(size, Dim) else size
    return extent if type(extent) is int else None


def _basic_item(tracer: Tracer, item: Value, size: Any = None) -> Any:
    """One item of a basic index: an int, a slice, None or Ellipsis, as a constant; or an integer
    read at run time (a Python int as a DynamicInt, or a NumPy integer argument) where it lies in
    the axis of ``size`` it selects from: its graph input, guarded to lie there (outside, the
    function is traced again and raises IndexError as eager does)."""
    if isinstance(item, DynamicInt) and _holds(size, item.peek()):
        return tracer.int_index(item, size)
    if isinstance(item, ArrayValue) and _integer_argument(item):
        assert item.source is not None  # (_integer_argument)
        position = int(tracer.traced_input(item.node))
        if _holds(size, position):
            tracer.index_guard(item.source, 0, size)
            return item.node
        # Outside the axis eager raises, and so does this trace: its (eager) entry is for this
        # value only, so a later call inside the axis compiles.
        tracer.guards.add(Guard.int_range(item.source, position, position + 1))
    if isinstance(item, SliceValue):
        item = ConstValue(constant_of(item)) if _known(item) else item
    try:
        const = constant_of(item)
    except NotConstant:
        raise Unsupported("an index that is not a constant (array or unknown value)", tracer.loc) from None
    if isinstance(const, list | tuple | np.ndarray):
        raise Unsupported("advanced indexing with a sequence", tracer.loc)
    if isinstance(const, bool | np.bool_):
        raise Unsupported("boolean scalar index", tracer.loc)
    if not (const is None or const is Ellipsis or isinstance(const, int | slice | np.integer)):
        raise UserCodeError(f"IndexError: invalid index {const!r}", tracer.loc)
    return int(const) if isinstance(const, np.integer) else const


def _is_mask(key: Value, array: ArrayValue) -> TypeGuard[ArrayValue]:
    return (isinstance(key, ArrayValue) and key.node.meta.dtype == np.bool_ and not key.node.meta.is_scalar
            and key.node.meta.shape == array.node.meta.shape)


def _masked_fill(tracer: Tracer, array: ArrayValue, mask: ArrayValue, value: Value) -> ArrayValue:
    """``x[mask] = v`` for a mask of x's shape and a Python scalar v that NumPy converts to x's
    dtype as it is (a float into a float array, an int that fits into an int array, a bool into
    a bool one): ``np.where(mask, v, x)`` written back. Other values (an array, NaN into an int
    array, which NumPy refuses) run eagerly."""
    fill = value.value if isinstance(value, ConstValue) and not isinstance(value, SizeValue) else None
    if not _converts_as_it_is(fill, array.node.meta.dtype):
        raise Unsupported("assigning through a boolean mask anything but a Python scalar of the array's kind",
                          tracer.loc)
    return tracer.emit("where", mask.node, fill, array.node)


def _converts_as_it_is(fill: Any, dtype: np.dtype) -> bool:
    if dtype.kind == "b":
        return type(fill) is bool
    if dtype.kind in "iu":
        return type(fill) is int and np.iinfo(dtype).min <= fill <= np.iinfo(dtype).max
    return dtype.kind in "fc" and type(fill) in (bool, int, float)


def integer_array_index(tracer: Tracer, key: Value) -> tuple | None:
    """``x[rows, labels]``, ``x[:, idx]``: an index holding an integer array (0-d included:
    NumPy's advanced indexing, always a copy), as a tuple of nodes and constants; None for any
    other index. A boolean array index (its result's shape depends on the values) and a traced
    NumPy integer next to basic indices only (NumPy makes a view) stay unsupported."""
    if isinstance(key, ConstValue) and type(key.peek()) is tuple:  # x[[0, 2], 1] loads one constant
        key = TupleValue([ConstValue(item) for item in key.value])
    items = key.items if isinstance(key, TupleValue) else [key]
    items = [_integer_list_as_array(tracer, item) for item in items]
    if not any(isinstance(item, ArrayValue) and item.node.meta.dtype.kind in "iu" and not item.node.meta.is_scalar
               for item in items):
        return None
    index: list[Any] = []
    for item in items:
        if isinstance(item, ArrayValue):
            if item.node.meta.dtype.kind not in "iu":
                raise Unsupported("advanced indexing with a non-integer array (boolean masks: the result's "
                                  "shape depends on the values)", tracer.loc)
            index.append(item.node)
            continue
        if isinstance(item, SliceValue) and not _known(item):
            raise Unsupported("a slice with unknown bounds next to an array index", tracer.loc)
        index.append(_basic_item(tracer, item))
    return tuple(index)


def _integer_list_as_array(tracer: Tracer, item: Value) -> Value:
    """A constant list of ints in an index (``x[[0, 2], 1:3]``) is NumPy's integer array index."""
    if isinstance(item, ListValue):
        try:
            constant = constant_of(item)
        except NotConstant:
            return item
    elif isinstance(item, ConstValue) and type(item.peek()) is list:
        constant = item.value
    else:
        return item
    try:
        values = np.asarray(constant)
    except ValueError:  # ragged: NumPy's own error comes from the eager run
        return item
    if not constant or values.dtype.kind not in "iu" or any(isinstance(v, bool | np.bool_) for v in values.flat):
        return item  # an empty list or a list of bools or floats: left as NumPy's other cases
    return tracer.emit("copy", values.astype(np.intp))


def _known(value: SliceValue) -> bool:
    try:
        constant_of(value)
    except NotConstant:
        return False
    return True

