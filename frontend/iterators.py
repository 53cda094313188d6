"""Iterators stepped as CPython steps them: one item per FOR_ITER or ``next``, read when it is
asked for. A for loop over a list sees what its body appends or pops, ``zip(it, it)`` pairs
neighbours, and a loop that stops early leaves the rest of its iterator for later."""
from __future__ import annotations

from typing import TYPE_CHECKING, cast

from .containers import view_item
from .errors import Unsupported, UserCodeError
from .operators import iterate
from .values import (
    ArrayValue,
    ConstValue,
    DictValue,
    DictViewValue,
    EnumerateValue,
    IteratorValue,
    ListValue,
    TupleValue,
    Value,
    ZipValue,
)

if TYPE_CHECKING:
    from .tracer import Tracer

ITERATORS = (IteratorValue, ZipValue, EnumerateValue)


def make_iterator(tracer: Tracer, value: Value) -> Value:
    """``iter(value)``: an iterator is its own; a list's and a dict's read them as they step; an
    array's rows (``_array_rows``)."""
    if isinstance(value, ITERATORS):
        return value
    if isinstance(value, ArrayValue) and value.node.meta.ndim:
        return IteratorValue(_array_rows(tracer, value), rows_of=value)
    if isinstance(value, ListValue):
        return IteratorValue(value.items, over=value)
    if isinstance(value, DictValue | DictViewValue):
        mapping, view = (value, "keys") if isinstance(value, DictValue) else (value.of, value.kind)
        return IteratorValue([ConstValue(key) for key in mapping.items], over=mapping, view=view)
    return IteratorValue(iterate(tracer, value))


def reversed_iterator(tracer: Tracer, value: Value) -> Value:
    """``reversed(value)``: over a list, CPython's reverse list iterator (an index counting down,
    checked against the list's length at each step); over other sequences, their items reversed."""
    if isinstance(value, ListValue):
        return IteratorValue(value.items, len(value.items) - 1, over=value, step=-1)
    if isinstance(value, ITERATORS):
        raise UserCodeError("TypeError: an iterator is not reversible", tracer.loc)
    if isinstance(value, DictValue | DictViewValue):
        raise Unsupported("reversed() of a dict or dict view", tracer.loc)
    if isinstance(value, ArrayValue) and value.node.meta.ndim:
        return IteratorValue(_array_rows(tracer, value)[::-1], rows_of=value, reversed_rows=True)
    return IteratorValue(list(reversed(iterate(tracer, value))))


def _array_rows(tracer: Tracer, array: ArrayValue) -> list[Value]:
    """The indices of an array's rows, each row taken when the iterator steps to it (``next_item``:
    an element of a vector is a value, read then; the loop body may write the vector between
    steps). One with more rows than a loop unrolls is iterated by CPython (a graph break here)."""
    from .tracer import UNROLL_LIMIT

    rows = array.node.meta.shape[0]
    if not isinstance(rows, int) or rows > UNROLL_LIMIT:
        raise Unsupported(f"a loop over the {rows} rows of an array (more than the unroll limit "
                          f"{UNROLL_LIMIT}) runs in CPython, its body compiled", tracer.loc)
    return [ConstValue(row) for row in range(rows)]


def next_item(tracer: Tracer, iterator: Value) -> Value | None:
    """The iterator's next item, or None when it is exhausted (CPython's StopIteration)."""
    if isinstance(iterator, ZipValue):
        return _next_row(tracer, iterator)
    if isinstance(iterator, EnumerateValue):
        item, count = next_item(tracer, iterator.iterator), iterator.count
        if item is None:
            return None
        _update(tracer, iterator, count=count + 1)
        return TupleValue([ConstValue(count), item])
    assert isinstance(iterator, IteratorValue)  # (ITERATORS)
    if isinstance(iterator.over, DictValue):
        _check_keys_kept(tracer, iterator, iterator.over)
    if 0 <= iterator.position < len(iterator.items):
        item = iterator.items[iterator.position]
        if iterator.rows_of is not None:  # (_array_rows)
            item = tracer.emit("getitem", iterator.rows_of.node, cast(ConstValue, item).peek())
        _update(tracer, iterator, position=iterator.position + iterator.step)
        return view_item(iterator.over, item, iterator.view) if isinstance(iterator.over, DictValue) else item
    # Exhausted: CPython's list and dict iterators let go of what they read, and stay exhausted
    # (an array's stays past its last row: rebuilt, it is CPython's, exhausted).
    if iterator.rows_of is None:
        _update(tracer, iterator, items=[], position=0, over=None, step=1, view="keys")
    return None


def remaining_items(tracer: Tracer, iterator: Value) -> list[Value]:
    """Every item left (``list(it)``, unpacking): the iterator ends exhausted."""
    items = []
    while (item := next_item(tracer, iterator)) is not None:
        items.append(item)
    return items


def items_left(iterator: Value) -> int:
    """How many more items the iterator yields if nothing changes what it reads (for the unroll limits)."""
    if isinstance(iterator, ZipValue):
        return min((items_left(inner) for inner in iterator.iterators), default=0)
    if isinstance(iterator, EnumerateValue):
        return items_left(iterator.iterator)
    assert isinstance(iterator, IteratorValue)  # (ITERATORS)
    if not 0 <= iterator.position < len(iterator.items):
        return 0
    return iterator.position + 1 if iterator.step < 0 else len(iterator.items) - iterator.position


def keys_kept(iterator: IteratorValue, iterated: DictValue) -> bool:
    """Whether the dict a dict iterator reads still has the keys it had when iteration began."""
    return list(iterated.items) == [cast(ConstValue, key).peek() for key in iterator.items]  # (make_iterator)


def _check_keys_kept(tracer: Tracer, iterator: IteratorValue, iterated: DictValue) -> None:
    """A dict iterator's step: CPython raises if the dict changed size since iteration began.
    Other changes to its keys (one deleted, one added) depend on CPython's hash table: a break."""
    if len(iterated.items) != len(iterator.items):
        raise UserCodeError("RuntimeError: dictionary changed size during iteration", tracer.loc)
    if not keys_kept(iterator, iterated):
        raise Unsupported("a dict whose keys changed while it was iterated", tracer.loc)


def _next_row(tracer: Tracer, zipped: ZipValue) -> Value | None:
    """CPython's zip step: the next item of each iterator in turn, None at the first exhausted one
    (the items taken from those before it are lost, as in CPython)."""
    if not zipped.iterators:
        return None
    row = []
    for position, inner in enumerate(zipped.iterators):
        item = next_item(tracer, inner)
        if item is None:
            if zipped.strict and (position or any(next_item(tracer, other) is not None
                                                  for other in zipped.iterators[1:])):
                raise UserCodeError("ValueError: zip() arguments have different lengths", tracer.loc)
            return None
        row.append(item)
    return TupleValue(row)


def _update(tracer: Tracer, iterator: Value, **fields) -> None:
    """Set the iterator's fields, undone if the trace is forgotten (an inlined call that broke)."""
    def assign(values: dict) -> None:
        for name, value in values.items():
            setattr(iterator, name, value)

    saved = {name: getattr(iterator, name) for name in fields}
    tracer.record_undo(lambda: assign(saved))
    assign(fields)
