"""Rebuilding Python values from a trace: the return value of a frame, or the stack and
locals handed to CPython at a graph break. A spec says how to get each value back at run
time: from a graph output, from its source, as a constant, or as a fresh container."""
from __future__ import annotations

import functools
import types
from dataclasses import dataclass, field
from typing import Any, cast

from ..ir import Node, SourceLoc
from .errors import Unsupported
from .iterators import keys_kept
from .tracer_state import UNBOUND
from .values import (
    NULL,
    ArrayValue,
    BoundMethodValue,
    ConstValue,
    DictValue,
    DictViewValue,
    EnumerateValue,
    FunctionValue,
    GeneratorValue,
    HandlerValue,
    IteratorValue,
    ListValue,
    ObjectValue,
    OpaqueValue,
    SliceValue,
    TupleValue,
    Value,
    ZipValue,
)


@dataclass(frozen=True, slots=True)
class GraphOutput:
    index: int


@dataclass(frozen=True, slots=True)
class FromSource:
    source: Any


@dataclass(frozen=True, slots=True)
class Constant:
    value: Any


@dataclass(frozen=True, slots=True)
class FreshIterator:
    """``iter([...items])``: a symbolic iterator handed back to CPython with what is left of it."""

    items: Any
    identity: int  # the symbolic iterator's id: one Python iterator per symbolic one


@dataclass(frozen=True, slots=True)
class ResumedIterator:
    """``make(of)`` (iter or reversed) carried on where the symbolic iterator stands: moved to
    index ``state`` (a list iterator's ``__setstate__``), or stepped ``advance`` times (a dict's)."""

    make: Any
    of: Any  # a spec: the very list or dict the symbolic iterator reads
    identity: int
    state: int | None = None
    advance: int = 0


@dataclass(frozen=True, slots=True)
class Attribute:
    """``getattr(of, name)``: a method of a rebuilt value (``x.mean`` at a break inside its call)."""

    of: Any  # a spec
    name: str


@dataclass(frozen=True, slots=True)
class Container:
    kind: Any  # tuple, list or dict; or called with the children (a slice, a bound method, zip)
    children: Any  # list of specs, or dict of key -> spec
    identity: int  # the symbolic value's id: one Python object per symbolic container


# How a Python value is rebuilt from graph outputs: GraphOutput | FromSource | Constant |
# FreshIterator | ResumedIterator | Container | Attribute | None (a NULL stack slot).
Spec = Any


@dataclass
class Rebuilder:
    """Collects the graph outputs a set of values needs and the spec that rebuilds each."""

    outputs: list[Node] = field(default_factory=list)
    # Values made here whose ids name what they rebuild: kept alive so that no later one (the rest
    # of another iterator) gets the same id, and with it the same rebuilt object.
    made: list[Value] = field(default_factory=list)
    building: set[int] = field(default_factory=set)  # the containers whose items are being specified

    def spec(self, value: Value, loc: SourceLoc | None) -> Spec:
        if value is NULL or value is UNBOUND:
            return None
        if isinstance(value, ArrayValue):
            if value.node not in self.outputs:
                self.outputs.append(value.node)
            return GraphOutput(self.outputs.index(value.node))
        if isinstance(value, TupleValue | ListValue | DictValue):
            if value.source is not None:  # (the caller's object: a tuple cannot have changed)
                return FromSource(value.source)
            if id(value) in self.building:  # (it would be rebuilt forever)
                raise Unsupported("a list or dict that holds itself, made while tracing", loc)
            self.building.add(id(value))
            try:
                if isinstance(value, DictValue):
                    return Container(dict, {k: self.spec(v, loc) for k, v in value.items.items()}, id(value))
                kind = value.kind if isinstance(value, TupleValue) else list
                return Container(kind, [self.spec(v, loc) for v in value.items], id(value))
            finally:
                self.building.discard(id(value))
        if isinstance(value, ConstValue):
            return FromSource(value.source) if value.source is not None else Constant(value.peek())
        if isinstance(value, IteratorValue):
            return self._iterator_spec(value, loc)
        if isinstance(value, DictViewValue):  # dict.keys(d): the view of that same dict
            return Container(getattr(dict, value.kind), [self.spec(value.of, loc)], id(value))
        if isinstance(value, ZipValue):
            make = functools.partial(zip, strict=True) if value.strict else zip
            return Container(make, [self.spec(inner, loc) for inner in value.iterators], id(value))
        if isinstance(value, EnumerateValue):
            return Container(enumerate, [self.spec(value.iterator, loc), Constant(value.count)], id(value))
        if isinstance(value, ObjectValue | OpaqueValue | FunctionValue | BoundMethodValue) and \
                value.source is not None:
            return FromSource(value.source)
        if isinstance(value, BoundMethodValue):
            return _bound_method_spec(self, value, loc)
        if isinstance(value, SliceValue):
            return Container(slice, [self.spec(part, loc) for part in (value.start, value.stop, value.step)], id(value))
        if isinstance(value, HandlerValue) and value.receiver is not None:
            return Attribute(self.spec(value.receiver, loc), value.attribute)
        if isinstance(value, FunctionValue) and not value.closure and not value.kwdefaults and not value.annotated \
                and all(isinstance(d, ConstValue) and d.source is None for d in value.defaults):
            # a function or lambda made while tracing, closing over nothing: made anew by each call
            defaults = tuple(cast(ConstValue, d).peek() for d in value.defaults) or None
            return Container(types.FunctionType, [Constant(value.code), Constant(value.globals), Constant(value.name),
                                                  Constant(defaults)], id(value))
        if isinstance(value, GeneratorValue):
            raise Unsupported("a generator made while tracing and consumed item by item (a for loop, zip, "
                              "enumerate, next) runs in CPython", loc)
        raise Unsupported(f"cannot hand a {type(value).__name__} made while tracing back to CPython", loc)


    def _iterator_spec(self, value: IteratorValue, loc: SourceLoc | None) -> Spec:
        """An iterator over a list, dict or array goes on over that same object (whatever CPython
        does to it before the iterator's next step, the step sees); any other, over what it has left."""
        if isinstance(value.over, ListValue):
            if value.position > len(value.items) - (value.step < 0):  # (__setstate__ would clamp it)
                raise Unsupported("an iterator past the end of a list that shrank while it was iterated", loc)
            make = iter if value.step > 0 else reversed
            return ResumedIterator(make, self.spec(value.over, loc), id(value), state=value.position)
        if isinstance(value.over, DictValue):
            if not keys_kept(value, value.over):  # (CPython's next step raises, or depends on its hash table)
                raise Unsupported("an iterator over a dict that changed while it was iterated", loc)
            view = DictViewValue(value.over, value.view)
            self.made.append(view)
            return ResumedIterator(iter, self.spec(view, loc), id(value), advance=value.position)
        if value.rows_of is not None:  # CPython's own iterator over the array, past the rows taken
            make = reversed if value.reversed_rows else iter
            return ResumedIterator(make, self.spec(value.rows_of, loc), id(value), advance=value.position)
        rest = ListValue(value.items[value.position:])
        self.made.append(rest)
        return FreshIterator(self.spec(rest, loc), id(value))


def _bound_method_spec(rebuilder: Rebuilder, value: BoundMethodValue, loc: SourceLoc | None) -> Spec:
    function = value.function
    if isinstance(function, FunctionValue) and function.source is not None:
        return Container(types.MethodType, [FromSource(function.source), rebuilder.spec(value.self_value, loc)],
                         id(value))
    raise Unsupported("cannot hand a method made while tracing back to CPython", loc)
