"""The closed set of symbolic values on the tracer's stack and in its locals.

Values that came from outside the frame carry a ``source`` (see sources.py); values
made during tracing have none.
"""
from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..ir import Node, SymbolicShapeError
from .sources import AffineSource, Source

# Ints below this in magnitude convert to a float exactly (float64's 53-bit significand).
EXACT_FLOAT_INTS = 2**53


class Value:
    source: Source | None = None


@dataclass(eq=False)
class ArrayValue(Value):
    """An array (or NumPy scalar) computed by the graph."""

    node: Node
    source: Source | None = None


class ConstValue(Value):
    """A Python object known at trace time: a number, string, None, slice, dtype, module,
    NumPy function, builtin, class... Guarded through its source when it has one.

    A guard can be *pending*: it is added only when tracing reads the value (``.value``), so a
    loop counter that is merely passed along (to ``print``, or to a resume function) does not
    pin its value and force a recompile per iteration. ``peek()`` reads without guarding.
    """

    __slots__ = ("_value", "source", "_pending")

    def __init__(self, value: Any, source: Source | None = None, pending: tuple | None = None):
        self._value = value
        self.source = source
        self._pending = pending  # (GuardSet, Guard) to add on first read

    @property
    def value(self) -> Any:
        if self._pending is not None:
            guards, *pending = self._pending  # (a value computed from two arguments guards both)
            self._pending = None
            for guard in pending:
                guards.add(guard)
        return self._value

    def peek(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return f"ConstValue({self._value!r})"


class DynamicFloat(ConstValue):
    """A Python float argument whose value changed between calls (runtime/compiled_function.py),
    or Python arithmetic of such floats (or of DynamicInts, giving a float) and constants
    (``t + dt``: its ``source`` is that expression). Next to an array, an operator reads it at
    run time (a graph input: frontend/operators.py); any other use reads the number, which guards
    the arguments' values as for any constant. ``roots``: each argument it is computed from, and
    that argument's type."""

    __slots__ = ("roots",)

    def __init__(self, value: float, source: Source, pending: tuple | None,
                 roots: tuple[tuple[Source, type], ...] = ()):
        super().__init__(value, source, pending)
        self.roots = roots or ((source, float),)

    def computed(self, value: float, source: Source, other: ConstValue | None = None) -> DynamicFloat:
        """Python arithmetic of this float (and ``other``, a DynamicFloat or DynamicInt, if given),
        rendered by ``source``: a float of the same arguments."""
        if other is None:
            return DynamicFloat(value, source, self._pending, self.roots)
        assert isinstance(other, DynamicFloat | DynamicInt)
        pending = [p for p in (self._pending, other._pending) if p is not None]
        merged = (pending[0][0], *(guard for p in pending for guard in p[1:])) if pending else None
        roots = tuple(dict.fromkeys(self.roots + _roots(other)))
        return DynamicFloat(value, source, merged, roots)


def _roots(value: DynamicFloat | DynamicInt) -> tuple[tuple[Source, type], ...]:
    return value.roots if isinstance(value, DynamicFloat) else ((value.base, int),)


class DynamicInt(ConstValue):
    """A Python int argument whose value changed between calls (a loop counter handed to a resume
    function, a row number), or one times and plus constants (``i - 1``, ``2 * i + 1``: ``shifted``,
    ``scaled``). As an index into an array axis it lies in, or the bounds of a slice of constant
    length (``x[i:i + 4]``), it is read at run time (frontend/access.py); next to a float array,
    like a DynamicFloat (frontend/operators.py). Any other use reads the number, which guards the
    argument's value as for any constant.

    ``base`` is the argument's source; ``source`` renders the value itself (``(i - 1)``), so a
    resume function handed ``i - 1`` receives it computed from the call's ``i``."""

    __slots__ = ("base", "scale", "offset")

    def __init__(self, value: int, base: Source, pending: tuple | None, offset: int = 0, scale: int = 1):
        super().__init__(value, AffineSource(base, scale, offset) if (scale, offset) != (1, 0) else base, pending)
        self.base, self.scale, self.offset = base, scale, offset

    def shifted(self, by: int) -> DynamicInt:
        return DynamicInt(self._value + by, self.base, self._pending, self.offset + by, self.scale)

    def scaled(self, by: int) -> DynamicInt:
        return DynamicInt(self._value * by, self.base, self._pending, self.offset * by, self.scale * by)

    def computed(self, value: float, source: Source, other: ConstValue | None = None) -> DynamicFloat:
        """Python arithmetic of this int (and ``other``) that gives a float (``i * 0.5``: ``source``
        renders it)."""
        return DynamicFloat(value, source, self._pending, _roots(self)).computed(value, source, other)

    @property
    def exact_as_float(self) -> bool:
        """Whether the traced value converts to a float exactly (tracer.exact_as_float_guard)."""
        return abs(self._value) < EXACT_FLOAT_INTS

    @property
    def range_source(self) -> tuple[Source, int]:
        """``(source, shift)`` with ``value == source + shift``, ``source`` the cheapest to guard a
        range of: the argument itself where the scale is 1 (the bounds shift instead)."""
        if self.scale == 1:
            return self.base, self.offset
        assert self.source is not None  # (an AffineSource: __init__)
        return self.source, 0


class SizeValue(ConstValue):
    """A dynamic dimension (ir/symbolic.py) as the user's code sees it, in ``x.shape`` or
    ``len(x)``: it may be unpacked, stored and passed along, but reading the number (any
    arithmetic, comparison, conversion, or handing it back to CPython) raises
    SymbolicShapeError, and the runtime compiles that dimension static instead."""

    __slots__ = ()

    @property
    def value(self) -> Any:
        raise SymbolicShapeError(f"the code reads dynamic dimension {self._value!r} as a number", (self._value,))

    def peek(self) -> Any:
        return self.value

    @property
    def dim(self) -> Any:
        """The Dim itself, for the few places that take one (target shapes, size arithmetic)."""
        return self._value


@dataclass(eq=False)
class TupleValue(Value):
    items: list[Value]
    source: Source | None = None
    kind: type = tuple  # or the named tuple rebuilt from the items (np.linalg.slogdet's SlogdetResult)


@dataclass(eq=False)
class ListValue(Value):
    """A list; one that came from outside (``source`` set) must not be mutated in the graph."""

    items: list[Value]
    source: Source | None = None


@dataclass(eq=False)
class DictValue(Value):
    items: dict[Any, Value]
    source: Source | None = None


@dataclass(eq=False)
class DictViewValue(Value):
    """``d.keys()``, ``d.values()`` or ``d.items()`` (``kind``): a live view, which reads the dict's
    items whenever it is used, so it sees what is added to the dict after it was made."""

    of: DictValue
    kind: str


@dataclass(eq=False)
class SliceValue(Value):
    start: Value
    stop: Value
    step: Value


@dataclass(eq=False)
class Cell:
    """A closure cell during tracing: the frame's own cells, or a real cell read through a source."""

    contents: Value | None
    source: Source | None = None

    def read(self, tracer) -> Value:
        if self.contents is None:
            from .errors import Unsupported

            raise Unsupported("free variable referenced before assignment", tracer.loc)
        return self.contents


@dataclass(eq=False)
class FunctionValue(Value):
    """A user Python function (inlined when called). ``closure`` holds tracer Cells."""

    code: types.CodeType
    globals: dict
    name: str
    defaults: tuple[Value, ...] = ()
    kwdefaults: dict[str, Value] = field(default_factory=dict)
    closure: tuple[Cell, ...] = ()
    source: Source | None = None
    real: Any = None  # the function object, when it exists outside the trace
    annotated: bool = False  # made while tracing with annotations (which the trace does not keep)


@dataclass(eq=False)
class BoundMethodValue(Value):
    """``obj.method`` where the method is a user function: ``self`` is bound at call time."""

    function: Value
    self_value: Value
    source: Source | None = None


@dataclass(eq=False)
class HandlerValue(Value):
    """A callable Ember implements itself: ``x.sum``, ``lst.append``, ``zip``...
    ``handler(tracer, args, kwargs)`` returns the call's value."""

    name: str
    handler: Callable[..., Value]
    # The object the callable is an attribute of (``x`` of ``x.sum``), when CPython can fetch it
    # again at a graph break as ``getattr(receiver, attribute)``.
    receiver: Value | None = None
    attribute: str = ""


@dataclass(eq=False)
class QuietContextValue(Value):
    """A context manager compiled code is already inside: ``np.errstate`` that only ignores or warns
    (kernels raise no floating-point warnings). A ``with`` block of it is traced as its body."""

    text: str  # how the user wrote it, for messages


@dataclass(eq=False)
class ObjectValue(Value):
    """A user object whose attributes are read (and guarded) through its source."""

    obj: Any
    source: Source | None = None


@dataclass(eq=False)
class IteratorValue(Value):
    """An iterator the trace steps one item at a time, as CPython does (frontend/iterators.py).

    Over a list (``over``), ``items`` is that list's own item list and ``position`` the index of
    the next item, checked against the list's length at each step as CPython's list iterator does,
    so a loop sees the appends and pops its body makes (``step`` is -1 for ``reversed(list)``).
    Over a dict, ``items`` are its keys when iteration began: the dict must keep them; ``view`` says
    what it yields (a key, the key's value now, or both, for ``d.values()`` and ``d.items()``). Otherwise
    ``items`` are fixed when the iterator was made (a tuple, a range; an array's row indices:
    ``rows_of`` is that array, each row taken as the iterator steps to it, and ``reversed_rows``
    whether they run backwards, so that at a graph break CPython's own iterator over it,
    ``iter(x)`` or ``reversed(x)``, carries on)."""

    items: list[Value]
    position: int = 0
    over: ListValue | DictValue | None = None
    step: int = 1
    view: str = "keys"
    rows_of: ArrayValue | None = None
    reversed_rows: bool = False


@dataclass(eq=False)
class ZipValue(Value):
    """``zip(*iterators)``: it steps the iterators it holds only when it is stepped itself, so
    ``zip(it, it)`` pairs neighbours and a loop that stops early leaves the rest to them."""

    iterators: list[Value]
    strict: bool = False


@dataclass(eq=False)
class EnumerateValue(Value):
    """``enumerate(iterator, start)``: ``count`` numbers the next item."""

    iterator: Value
    count: int


@dataclass(eq=False)
class GeneratorValue(Value):
    """A generator made by an inlined generator function (a generator expression): its body is
    traced only when a builtin that takes every item at once (sum, list, tuple, min, max) drains it,
    which is when CPython would run it too. ``run()`` traces the body and returns what it yielded."""

    run: Callable[[], list[Value]]
    drained: bool = False


@dataclass(eq=False)
class OpaqueValue(Value):
    """An object Ember cannot model (a file, a generator, a foreign iterator). It can be passed
    along, but any use of it is a graph break."""

    obj: Any
    source: Source | None = None


class NullValue(Value):
    """CPython's NULL marker pushed before (3.11, 3.12) or after (3.13) a callable."""

    def __repr__(self) -> str:
        return "NULL"


NULL = NullValue()


def is_constant(value: Value) -> bool:
    return isinstance(value, ConstValue)
