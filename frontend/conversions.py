"""Moving between symbolic values, graph arguments and Python constants."""
from __future__ import annotations

from typing import Any

from .errors import Unsupported
from .values import ArrayValue, ConstValue, DictValue, DictViewValue, ListValue, SliceValue, TupleValue, Value


class NotConstant(Unsupported):
    """A value not known when tracing (computed from array data) where a Python object is needed
    (a dict key, a list position): callers that can do without catch it; elsewhere it is a graph
    break at that instruction."""

    def __init__(self, value: Any):
        super().__init__(f"a {type(value).__name__} computed from array data where Python needs its value")
        self.value = value


def constant_of(value: Value) -> Any:
    """The Python object a value stands for, when it is known at trace time."""
    if isinstance(value, ConstValue):
        return value.value
    if isinstance(value, TupleValue):
        return tuple(constant_of(v) for v in value.items)
    if isinstance(value, ListValue):
        return [constant_of(v) for v in value.items]
    if isinstance(value, SliceValue):
        return slice(constant_of(value.start), constant_of(value.stop), constant_of(value.step))
    if isinstance(value, DictValue):
        return {k: constant_of(v) for k, v in value.items.items()}
    if isinstance(value, DictViewValue):  # a view of the dict's constant: set operations, ==, in
        return getattr(constant_of(value.of), value.kind)()
    raise NotConstant(value)


def is_known(value: Value) -> bool:
    try:
        constant_of(value)
    except NotConstant:
        return False
    return True


def graph_arg(value: Value, what: str = "argument") -> Any:
    """A value as an IR argument: a Node, a Python constant, or a tuple of those."""
    if isinstance(value, ArrayValue):
        return value.node
    if isinstance(value, TupleValue | ListValue):
        return tuple(graph_arg(v, what) for v in value.items)
    if isinstance(value, SliceValue):
        return constant_of(value)
    try:
        return constant_of(value)
    except NotConstant:
        raise Unsupported(f"{what} of kind {type(value).__name__} cannot enter the graph") from None


def contains_array(value: Value) -> bool:
    if isinstance(value, ArrayValue):
        return True
    if isinstance(value, TupleValue | ListValue):
        return any(contains_array(v) for v in value.items)
    return False


def computed_value(result: Any, loc: Any = None) -> Value:
    """A Python object the trace computed from constants (``sorted(items)``, ``a + b`` of two
    lists, ``s.split(",")``) as a value of this call: a list or dict is built anew by each call
    (eager makes a new one each time; a constant would be one object shared by every call, and
    mutated by the trace itself), as is a tuple holding one; a set or bytearray, which no value
    models, breaks."""
    if type(result) is list:
        return ListValue([computed_value(item, loc) for item in result])
    if type(result) is dict:
        return DictValue({key: computed_value(item, loc) for key, item in result.items()})
    if type(result) is tuple and any(type(item) in (list, dict, set, bytearray, tuple) for item in result):
        return TupleValue([computed_value(item, loc) for item in result])
    if type(result) in (set, bytearray):
        raise Unsupported(f"a {type(result).__name__} computed at trace time (mutable: each call needs its own)", loc)
    return ConstValue(result)
