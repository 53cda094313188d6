"""Python builtins the tracer evaluates itself: len, range, zip, enumerate, min, max, ..."""
from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir.symbolic import Dim
from .conversions import NotConstant, constant_of
from .errors import Unsupported, UserCodeError
from .iterators import ITERATORS, make_iterator, next_item, reversed_iterator
from .operators import binary, drain, python_op, truth, unary
from .values import (
    ArrayValue,
    ConstValue,
    DictValue,
    DictViewValue,
    EnumerateValue,
    FunctionValue,
    ListValue,
    ObjectValue,
    SizeValue,
    TupleValue,
    Value,
    ZipValue,
)

if TYPE_CHECKING:
    from .tracer import Tracer

BUILTINS: dict[Any, Callable[..., Value]] = {}
# Defaults of the handlers below (values without a source are never mutated).
ZERO, FALSE, EMPTY = ConstValue(0), ConstValue(False), TupleValue([])
# Pure builtins that are safe to evaluate on constants at trace time.
PURE_ON_CONSTANTS = {builtins.divmod, builtins.pow, builtins.round, builtins.hash, builtins.chr, builtins.ord,
                     builtins.str, builtins.repr, builtins.any, builtins.all, builtins.sorted, builtins.set,
                     builtins.frozenset, builtins.slice, builtins.complex}


def builtin(fn: Any):
    def register(handler: Callable[..., Value]) -> Callable[..., Value]:
        BUILTINS[fn] = handler
        return handler

    return register


def call_builtin(tracer: Tracer, fn: Any, args: list[Value], kwargs: dict[str, Value]) -> Value | None:
    handler = BUILTINS.get(fn)
    if handler is not None:
        return handler(tracer, *args, **kwargs)
    if fn in PURE_ON_CONSTANTS:
        return python_op(tracer, lambda *a: fn(*a, **{k: constant_of(v) for k, v in kwargs.items()}), *args)
    return None


@builtin(builtins.len)
def _len(tracer: Tracer, value: Value) -> Value:
    if isinstance(value, ArrayValue):
        if value.node.meta.ndim == 0:
            raise UserCodeError("TypeError: len() of unsized object", tracer.loc)
        length = value.node.meta.shape[0]
        return SizeValue(length) if isinstance(length, Dim) else ConstValue(length)
    if isinstance(value, TupleValue | ListValue | DictValue):
        return ConstValue(len(value.items))
    if isinstance(value, DictViewValue):
        return ConstValue(len(value.of.items))
    return python_op(tracer, len, value)


@builtin(builtins.range)
def _range(tracer: Tracer, *args: Value) -> Value:
    return python_op(tracer, range, *args)


@builtin(builtins.zip)
def _zip(tracer: Tracer, *iterables: Value, strict: Value = FALSE) -> Value:
    return ZipValue([make_iterator(tracer, it) for it in iterables], bool(constant_of(strict)))


@builtin(builtins.enumerate)
def _enumerate(tracer: Tracer, iterable: Value, start: Value = ZERO) -> Value:
    try:
        count = operator.index(constant_of(start))
    except TypeError as exc:
        raise UserCodeError(f"TypeError: {exc}", tracer.loc) from exc
    return EnumerateValue(make_iterator(tracer, iterable), count)


@builtin(builtins.reversed)
def _reversed(tracer: Tracer, sequence: Value) -> Value:
    return reversed_iterator(tracer, sequence)


@builtin(builtins.iter)
def _iter(tracer: Tracer, iterable: Value) -> Value:
    return make_iterator(tracer, iterable)


@builtin(builtins.next)
def _next(tracer: Tracer, iterator: Value, *default: Value) -> Value:
    if not isinstance(iterator, ITERATORS):
        raise Unsupported(f"next() of a {type(iterator).__name__}", tracer.loc)
    item = next_item(tracer, iterator)
    if item is None and not default:
        raise UserCodeError("StopIteration", tracer.loc)
    return default[0] if item is None else item


@builtin(builtins.tuple)
def _tuple(tracer: Tracer, iterable: Value = EMPTY) -> Value:
    return TupleValue(drain(tracer, iterable))


@builtin(builtins.list)
def _list(tracer: Tracer, iterable: Value = EMPTY) -> Value:
    return ListValue(drain(tracer, iterable))


@builtin(builtins.dict)
def _dict(tracer: Tracer, *args: Value, **kwargs: Value) -> Value:
    """``dict(**kwargs)``, ``dict(mapping)`` and ``dict(pairs)`` (``dict(zip(names, arrays))``),
    keys known while tracing; later keys win, as in CPython."""
    if len(args) > 1:
        raise UserCodeError(f"TypeError: dict expected at most 1 argument, got {len(args)}", tracer.loc)
    items: dict[Any, Value] = {}
    if args and isinstance(args[0], DictValue):
        items.update(args[0].items)
    elif args:
        for pair in drain(tracer, args[0]):
            entry = drain(tracer, pair) if isinstance(pair, TupleValue | ListValue) else None
            if entry is None or len(entry) != 2:
                raise Unsupported("dict() of items that are not known pairs", tracer.loc)
            try:
                items[constant_of(entry[0])] = entry[1]
            except (NotConstant, TypeError):
                raise Unsupported("dict() with a key not known while tracing", tracer.loc) from None
    items.update(kwargs)
    return DictValue(items)


def _fold(symbol: str) -> Callable[..., Value]:
    def handler(tracer: Tracer, *args: Value, key: Any = None, default: Any = None) -> Value:
        if key is not None or default is not None:
            raise Unsupported(f"{symbol}() with key= or default=", tracer.loc)
        items = drain(tracer, args[0]) if len(args) == 1 else list(args)
        if any(isinstance(i, ArrayValue) for i in items):
            raise Unsupported(f"builtin {symbol}() on arrays compares their data (use np.{symbol}imum)",
                              tracer.loc)
        return python_op(tracer, getattr(builtins, symbol), *items) if len(args) > 1 else \
            python_op(tracer, lambda *xs: getattr(builtins, symbol)(xs), *items)

    return handler


builtin(builtins.min)(_fold("min"))
builtin(builtins.max)(_fold("max"))


# Python numbers CPython's sum adds in C (floats with compensated summation on 3.12+).
PLAIN_NUMBERS = (bool, int, float, complex)


@builtin(builtins.sum)
def _sum(tracer: Tracer, iterable: Value, start: Value = ZERO) -> Value:
    """CPython's sum: a start and leading items that are Python numbers are summed by the builtin
    itself (its fast paths, and its error for a string start, on every Python version). From the
    first other item on, the total is a NumPy value or a container, and CPython adds each item
    with ``+`` in order, as here."""
    items = drain(tracer, iterable, interleaved=True)
    count = 0
    if _plain_number(start):
        while count < len(items) and _plain_number(items[count]):
            count += 1
    if count or type(start) is ConstValue and isinstance(start.value, str | bytes | bytearray):
        start = python_op(tracer, builtins.sum, TupleValue(items[:count]), start)
    total = start
    for item in items[count:]:
        total = binary(tracer, "+", total, item)
    return total


def _plain_number(value: Value) -> bool:
    return isinstance(value, ConstValue) and not isinstance(value, SizeValue) and type(value.peek()) in PLAIN_NUMBERS


@builtin(builtins.abs)
def _abs(tracer: Tracer, value: Value) -> Value:
    return unary(tracer, "abs", value)


@builtin(builtins.bool)
def _bool(tracer: Tracer, value: Value = FALSE) -> Value:
    return ConstValue(truth(tracer, value))


def _number(kind: type) -> Callable[..., Value]:
    def handler(tracer: Tracer, *args: Value) -> Value:
        if any(isinstance(a, ArrayValue) for a in args):
            raise Unsupported(f"{kind.__name__}() of an array reads its data", tracer.loc)
        return python_op(tracer, kind, *args)

    return handler


builtin(builtins.int)(_number(int))
builtin(builtins.float)(_number(float))


@builtin(builtins.isinstance)
def _isinstance(tracer: Tracer, value: Value, classes: Value) -> Value:
    return ConstValue(isinstance(_type_stand_in(value), constant_of(classes)))


@builtin(builtins.type)
def _type(tracer: Tracer, value: Value) -> Value:
    return ConstValue(type(_type_stand_in(value)))


def _type_stand_in(value: Value) -> Any:
    """An object of the same type as ``value`` (type checks are guarded facts)."""
    if isinstance(value, ArrayValue):
        meta = value.node.meta
        return meta.dtype.type(0) if meta.is_scalar else np.empty(0, meta.dtype)
    if isinstance(value, ObjectValue):
        return value.obj
    if isinstance(value, FunctionValue):
        return _type_stand_in
    if isinstance(value, TupleValue):
        return ()
    if isinstance(value, ListValue):
        return []
    if isinstance(value, DictValue):
        return {}
    if isinstance(value, DictViewValue):
        return getattr({}, value.kind)()
    try:
        return constant_of(value)
    except NotConstant:
        return object()


@builtin(builtins.callable)
def _callable(tracer: Tracer, value: Value) -> Value:
    return ConstValue(callable(_type_stand_in(value)) or isinstance(value, FunctionValue))


@builtin(builtins.getattr)
def _getattr(tracer: Tracer, value: Value, name: Value, *default: Value) -> Value:
    from .attributes import get_attr, has_attr

    attribute = _attribute_name(tracer, name)
    if default and not has_attr(tracer, value, attribute):  # (absence guarded: it may appear later)
        return default[0]
    return get_attr(tracer, value, attribute)


@builtin(builtins.hasattr)
def _hasattr(tracer: Tracer, value: Value, name: Value) -> Value:
    from .attributes import has_attr

    return ConstValue(has_attr(tracer, value, _attribute_name(tracer, name)))


def _attribute_name(tracer: Tracer, name: Value) -> str:
    try:
        attribute = constant_of(name)
    except NotConstant:
        raise Unsupported("an attribute name not known while tracing", tracer.loc) from None
    if type(attribute) is not str:
        raise UserCodeError(f"TypeError: attribute name must be string, not '{type(attribute).__name__}'",
                            tracer.loc)
    return attribute
