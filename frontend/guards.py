"""Guards: the facts a cache entry's code depended on, checked by one generated predicate.

>>> guards = GuardSet()
>>> guards.add(Guard.tensor(LocalSource("x"), np.zeros((2, 3), np.float32)))
>>> print(guards.source_text("f", ("x",)))
def guard_f(x):
    return (
        type(x) is ndarray and x.dtype == float32 and x.shape == (2, 3) and x.strides == (12, 4)
    )
"""
from __future__ import annotations

import cmath
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .sources import Source, frame_namespace, identifier  # noqa: F401 - re-exported


class GuardKind(enum.Enum):
    TYPE = "type"          # type(e) is T
    IDENTITY = "identity"  # e is obj
    VALUE = "value"        # type(e) is T and e == v
    LENGTH = "length"      # type(e) is T and len(e) == n
    TENSOR = "tensor"      # an ndarray of this dtype, shape and strides
    WRITEABLE = "writeable"  # an array Ember writes into must allow writes
    OVERLAP = "overlap"    # whether two input arrays share memory, as when traced
    ITERATOR = "iterator"  # an iterator whose next step runs no Python code (plain_iterator)
    ROWS = "rows"          # one whose items are alike: rows of one array, with counters (plain_iterator)


@dataclass(frozen=True, slots=True)
class Guard:
    """One checked fact. ``text`` is a Python expression; ``constants`` are the objects it
    names (bound into the generated predicate)."""

    kind: GuardKind
    sources: tuple[Source, ...]
    text: str
    constants: tuple[tuple[str, Any], ...] = ()

    @staticmethod
    def type_is(source: Source, value: Any) -> Guard:
        name = _constant_name(type(value))
        return Guard(GuardKind.TYPE, (source,), f"type({source.expr()}) is {name}",
                     ((name, type(value)),))

    @staticmethod
    def identity(source: Source, value: Any) -> Guard:
        if value is None:
            return Guard(GuardKind.IDENTITY, (source,), f"{source.expr()} is None")
        name = _constant_name(value)
        return Guard(GuardKind.IDENTITY, (source,), f"{source.expr()} is {name}", ((name, value),))

    @staticmethod
    def value(source: Source, value: Any) -> Guard:
        type_name = _constant_name(type(value))
        expr = source.expr()
        text = f"type({expr}) is {type_name} and {expr} == {value!r}"
        if isinstance(value, float) and value != value:
            text = f"type({expr}) is {type_name} and {expr} != {expr}"
        elif isinstance(value, float) and value in (float("inf"), float("-inf")):
            text = f"type({expr}) is {type_name} and {expr} == float({str(value)!r})"
        elif isinstance(value, float) and value == 0:
            # -0.0 == 0.0, but 1 / (x * -0.0) is -inf: the sign was specialised too.
            text += f" and copysign(1.0, {expr}) == {math.copysign(1.0, value)!r}"
            return Guard(GuardKind.VALUE, (source,), text, ((type_name, float), ("copysign", math.copysign)))
        elif isinstance(value, complex) and not (cmath.isfinite(value) and 0 not in (value.real, value.imag)):
            # the signs of zero parts; NaN and inf parts (never == themselves, or not literals)
            text = f"type({expr}) is {type_name} and repr({expr}) == {repr(value)!r}"
        return Guard(GuardKind.VALUE, (source,), text, ((type_name, type(value)),))

    @staticmethod
    def int_range(source: Source, low: int | str, high: int | str) -> Guard:
        """``low <= e < high``, after the guard on e's type (a Python int read at run time); the
        bounds are numbers or expressions (an input's size)."""
        return Guard(GuardKind.VALUE, (source,), f"{low} <= {source.expr()} < {high}")

    @staticmethod
    def slice_value(source: Source, value: slice) -> Guard:
        """A slice's start, stop and step as traced, each None or an integer of its type (their
        values are the graph's constants); a slice of anything else must be the same object."""
        expr = source.expr()
        checks = [f"type({expr}) is slice"]
        constants: list[tuple[str, Any]] = [("slice", slice)]
        for name in ("start", "stop", "step"):
            part = getattr(value, name)
            if part is None:
                checks.append(f"{expr}.{name} is None")
            elif type(part) is int or isinstance(part, np.integer):
                type_name = _constant_name(type(part))
                checks.append(f"type({expr}.{name}) is {type_name} and {expr}.{name} == {int(part)}")
                constants.append((type_name, type(part)))
            else:
                return Guard.identity(source, value)
        return Guard(GuardKind.VALUE, (source,), " and ".join(checks), tuple(constants))

    @staticmethod
    def length(source: Source, value: tuple | list | dict) -> Guard:
        type_name = _constant_name(type(value))
        expr = source.expr()
        return Guard(GuardKind.LENGTH, (source,), f"type({expr}) is {type_name} and len({expr}) == {len(value)}",
                     ((type_name, type(value)),))

    @staticmethod
    def defaults_count(source: Source, defaults: tuple | None) -> Guard:
        """A function's ``__defaults__`` (a tuple or None: its setter allows nothing else) holds as
        many as when traced: which parameters they fill depends on it."""
        if defaults is None:
            return Guard.identity(source, None)
        return Guard(GuardKind.LENGTH, (source,), f"len({source.expr()}) == {len(defaults)}")

    @staticmethod
    def tensor(source: Source, array: np.ndarray | np.generic) -> Guard:
        expr = source.expr()
        dtype_name = _constant_name(array.dtype)
        if isinstance(array, np.generic):
            type_name = _constant_name(type(array))
            return Guard(GuardKind.TENSOR, (source,), f"type({expr}) is {type_name}", ((type_name, type(array)),))
        text = (f"type({expr}) is ndarray and {_dtype_check(expr, array.dtype, dtype_name)} and "
                f"{expr}.shape == {array.shape!r} and {expr}.strides == {array.strides!r}")
        return Guard(GuardKind.TENSOR, (source,), text, (("ndarray", np.ndarray), (dtype_name, array.dtype)))

    @staticmethod
    def device_tensor(source: Source, array: Any) -> Guard:
        """A CuPy array of this dtype, shape and strides on the GPU it was traced on, which
        kernels launched now reach in order (devices.launches_in_order, as when traced)."""
        from .devices import launches_in_order

        expr = source.expr()
        dtype_name = _constant_name(array.dtype)
        in_order = "" if launches_in_order(array) else "not "
        text = (f"type({expr}) is device_ndarray and {_dtype_check(expr, array.dtype, dtype_name)} and "
                f"{expr}.shape == {array.shape!r} and {expr}.strides == {array.strides!r} and "
                f"{expr}.device.id == {array.device.id} and {in_order}launches_in_order({expr})")
        return Guard(GuardKind.TENSOR, (source,), text, (("device_ndarray", type(array)), (dtype_name, array.dtype),
                                                         ("launches_in_order", launches_in_order)))

    @staticmethod
    def dynamic_tensor(source: Source, array: np.ndarray, shape: tuple, first_uses: dict) -> Guard:
        """A C-contiguous ndarray of this dtype and rank whose static dimensions match ``shape``;
        a dynamic dimension (a Dim) is any size >= 2, equal to its symbol's first use if
        ``first_uses`` names one. Strides are checked exactly where no dynamic dimension
        follows (the common dynamic batch axis: all of them), else as C-contiguity."""
        expr = source.expr()
        dtype_name = _constant_name(array.dtype)
        checks = [f"type({expr}) is ndarray", _dtype_check(expr, array.dtype, dtype_name)]
        if all(isinstance(d, int) for d in shape[1:]):  # every stride is a constant
            checks.append(f"{expr}.strides == {array.strides!r}")
        else:
            checks += [f"{expr}.ndim == {len(shape)}", f"{expr}.flags.c_contiguous"]
        for axis, dim in enumerate(shape):
            if isinstance(dim, int):
                checks.append(f"{expr}.shape[{axis}] == {dim}")
            elif dim in first_uses:
                checks.append(f"{expr}.shape[{axis}] == {first_uses[dim]}")
            else:
                checks.append(f"{expr}.shape[{axis}] >= 2")
        return Guard(GuardKind.TENSOR, (source,), " and ".join(checks),
                     (("ndarray", np.ndarray), (dtype_name, array.dtype)))

    @staticmethod
    def size_at_least(source: Source, axis: int, size: int) -> Guard:
        return Guard(GuardKind.TENSOR, (source,), f"{source.expr()}.shape[{axis}] >= {size}")

    @staticmethod
    def equals(source: Source, value: np.dtype) -> Guard:
        """A dtype equal to ``value`` (``'float32' == np.dtype('float32')`` too: the type first),
        compared with the dtype itself (a structured one's text does not parse back)."""
        kind, expr = _constant_name(type(value)), source.expr()
        name = _constant_name(value) if value.isbuiltin == 1 else f"dtype_{id(value):x}"
        return Guard(GuardKind.VALUE, (source,), f"type({expr}) is {kind} and {expr} == {name}",
                     ((kind, type(value)), (name, value)))

    @staticmethod
    def dict_keys(source: Source, value: dict) -> Guard:
        """The same keys (str or int) in the same order; their types too (``True == 1``)."""
        expr = source.expr()
        text = f"type({expr}) is dict and tuple({expr}) == {tuple(value)!r}"
        if any(type(key) is int for key in value):  # (a str equals only a str)
            types = ", ".join(type(key).__name__ for key in value) + ("," if len(value) == 1 else "")
            text += f" and tuple(map(type, {expr})) == ({types})"
        return Guard(GuardKind.LENGTH, (source,), text)

    @staticmethod
    def same_object(source: Source, first: Source) -> Guard:
        """The same array passed twice: both names must keep naming one object."""
        return Guard(GuardKind.IDENTITY, (source, first), f"{source.expr()} is {first.expr()}")

    @staticmethod
    def not_in(name: str, mapping_expr: str) -> Guard:
        """A builtin stays unshadowed by a global of the same name."""
        from .sources import GlobalSource

        return Guard(GuardKind.IDENTITY, (GlobalSource(name),), f"{name!r} not in {mapping_expr}")

    @staticmethod
    def plain_attribute_lookup(source: Source, lookup: Any) -> Guard:
        """``e``'s class keeps the C ``__getattribute__`` it was traced with (a method read from the
        class, not through ``e.name``, relied on no Python one being set later)."""
        name = _constant_name(lookup)
        return Guard(GuardKind.IDENTITY, (source,), f"type({source.expr()}).__getattribute__ is {name}",
                     ((name, lookup),))

    @staticmethod
    def not_in_instance_dict(source: Source, name: str) -> Guard:
        """No instance attribute ``name`` hides the class's (a method read from the class)."""
        return Guard(GuardKind.IDENTITY, (source,), f"{name!r} not in {source.expr()}.__dict__")

    @staticmethod
    def has_attribute(source: Source, name: str, present: bool) -> Guard:
        """``hasattr(e, name)`` is as it was (``getattr(e, name, default)``, ``hasattr``)."""
        text = f"hasattr({source.expr()}, {name!r})"
        return Guard(GuardKind.IDENTITY, (source,), text if present else f"not {text}")

    @staticmethod
    def writeable(source: Source) -> Guard:
        return Guard(GuardKind.WRITEABLE, (source,), f"{source.expr()}.flags.writeable")

    @staticmethod
    def plain_iterator(source: Source, iterator: Any) -> Guard | None:
        """``e`` is an iterator like ``iterator`` whose next step runs no Python code (a loop's
        round then rechecks only what changed: runtime/frame_wrapper.py); None for others."""
        if not steps_without_python(iterator):
            return None
        kind = type(iterator)
        text = f"type({source.expr()}) is {kind.__name__}"
        if kind in PLAIN_ITERATORS:
            return Guard(GuardKind.ITERATOR, (source,), text, ((kind.__name__, kind),))
        if rows_alike(iterator):
            return Guard(GuardKind.ROWS, (source,), f"{text} and rows_alike({source.expr()})",
                         ((kind.__name__, kind), ("rows_alike", rows_alike)))
        return Guard(GuardKind.ITERATOR, (source,), f"{text} and steps_without_python({source.expr()})",
                     ((kind.__name__, kind), ("steps_without_python", steps_without_python)))

    @staticmethod
    def errors_quiet(quiet: bool) -> Guard:
        """NumPy's floating-point error state (``np.seterr``) only ignores or warns, as when
        traced; or, for an entry that runs eagerly because it did not, still does not."""
        constants = (("floating_point_errors_quiet", floating_point_errors_quiet), ("error_state", _error_state),
                     ("quiet_error_state", _QUIET_STATE))
        if not quiet:
            return Guard(GuardKind.IDENTITY, (), "not floating_point_errors_quiet()", constants)
        # (the state last seen quiet, compared inline: a call of the check costs ~0.1 us a call)
        return Guard(GuardKind.IDENTITY, (), "(error_state() is quiet_error_state[0] or floating_point_errors_quiet())",
                     constants)

    @staticmethod
    def overlap(first: Source, second: Source, overlapping: bool) -> Guard:
        text = f"may_share_memory({first.expr()}, {second.expr()})"
        return Guard(GuardKind.OVERLAP, (first, second), text if overlapping else f"not {text}",
                     (("may_share_memory", np.may_share_memory),))


_EMPTY: tuple[Any, ...] = ([], (), range(0), range(2**64))
PLAIN_ITERATORS: frozenset[type] = frozenset(type(iter(empty)) for empty in _EMPTY)
_SEQUENCE_ITERATOR = type(iter(np.empty(0)))  # CPython's iterator over __getitem__ (``iterator``)
_RANGE_ITERATORS = (type(iter(range(0))), type(iter(range(2**64))))


def steps_without_python(iterator: Any) -> bool:
    """Whether ``next(iterator)`` runs no Python code: a list, tuple or range iterator, CPython's
    iterator over an ndarray (NumPy's C indexing makes each row), enumerate or zip over those."""
    return all(type(part) in PLAIN_ITERATORS or _over_an_array(part) for part in _stepped(iterator))


def rows_alike(iterator: Any) -> bool:
    """Whether every item ``next(iterator)`` gives is alike in type, dtype, shape and strides
    (and steps without Python code): CPython's iterator over an exact ndarray (its rows), or
    ``enumerate`` or ``zip`` over those and ranges. A loop's round then need not check its row."""
    return all(type(part) in _RANGE_ITERATORS or _over_an_array(part) for part in _stepped(iterator))


def _stepped(iterator: Any) -> list[Any]:
    """The iterators an ``enumerate`` or ``zip`` (nested or not) steps; any other, itself."""
    if type(iterator) is enumerate:
        return _stepped(iterator.__reduce__()[1][0])
    if type(iterator) is zip:
        return [part for inner in iterator.__reduce__()[1] for part in _stepped(inner)]
    return [iterator]


def _over_an_array(iterator: Any) -> bool:
    return type(iterator) is _SEQUENCE_ITERATOR and type(iterator.__reduce__()[1][0]) is np.ndarray


try:
    from numpy._core._multiarray_umath import (  # type: ignore[import-not-found]
        _extobj_contextvar,  # NumPy 2's error state, per context
    )
    _error_state: Callable[[], Any] = _extobj_contextvar.get
except ImportError:  # NumPy 1: no state object to compare, so every check reads the modes
    _error_state = object
_QUIET_STATE: list[Any] = [None]  # the last error state seen quiet (held, so its identity stays its own)


def floating_point_errors_quiet() -> bool:
    """Whether NumPy's error state (``np.seterr``, ``np.errstate``) only ignores or warns: compiled
    kernels set no floating-point flags, so where an error would raise, print or call a handler,
    the code runs eagerly. (Each ``seterr`` makes a new state object: one compare in the common case.)"""
    state = _error_state()
    if state is _QUIET_STATE[0]:
        return True
    if any(mode not in ("ignore", "warn") for mode in np.geterr().values()):
        return False
    _QUIET_STATE[0] = state
    return True


# Dtypes equal to another that NumPy still tells apart (``np.longlong`` is int64 here, but its
# results stay longlong: ``.dtype.char`` 'q', elements of type np.longlong): Ember's ops, and
# its caches keyed by dtype, know the usual spelling only, so arrays of these run eagerly
# (frontend/wrapping.py), and a guard on the usual spelling checks its char too.
OTHER_SPELLINGS = {code: f"np.{np.dtype(code).type.__name__}" for code in np.typecodes["All"]
                   if np.dtype(code).char != np.dtype(np.dtype(code).name).char}
_SPELLED_TWICE = frozenset(np.dtype(code).name for code in OTHER_SPELLINGS)


def _dtype_check(expr: str, dtype: np.dtype, name: str) -> str:
    check = f"{expr}.dtype == {name}"
    return f"{check} and {expr}.dtype.char == {dtype.char!r}" if dtype.name in _SPELLED_TWICE else check


def _constant_name(value: Any) -> str:
    """A readable, unique-enough identifier for an object bound into guard code."""
    if isinstance(value, np.dtype):
        if value.name == "bool":
            return "dtype_bool"  # "bool" names the builtin type
        return value.name if value.isnative else f"dtype_{value.str.replace('<', 'le').replace('>', 'be')}"
    if isinstance(value, type):
        if issubclass(value, np.generic):
            return f"np_{value.__name__}"  # not "float32", which names the dtype
        if value.__module__ in ("builtins", "numpy"):
            return value.__name__
        return f"{value.__name__}_{id(value):x}"
    name = getattr(value, "__name__", type(value).__name__)
    return "".join(c if c.isalnum() else "_" for c in str(name)) + f"_{id(value):x}"


@dataclass
class GuardSet:
    """The guards of one cache entry, in the order they were added (cheap checks first)."""

    guards: list[Guard] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def add(self, guard: Guard) -> None:
        if guard.text not in self._seen:
            self._seen.add(guard.text)
            self.guards.append(guard)

    def __len__(self) -> int:
        return len(self.guards)

    def constants(self) -> dict[str, Any]:
        return {name: value for guard in self.guards for name, value in guard.constants}

    def source_text(self, name: str, params: tuple[str, ...]) -> str:
        body = " and\n        ".join(g.text for g in self.guards) or "True"
        return f"def guard_{identifier(name)}({', '.join(params)}):\n    return (\n        {body}\n    )"

    def compile(self, name: str, params: tuple[str, ...], globals_: dict, closure: tuple | None,
                filename: str | None = None) -> Callable[..., bool]:
        """The predicate ``guard(*frame_args) -> bool`` as one generated Python function;
        ``filename`` (a real file holding the source) lets a debugger step into it."""
        namespace = {"G": globals_, "C": closure or (), **self.constants()}
        exec(compile(self.source_text(name, params), filename or f"<ember guards {name}>", "exec"), namespace)
        return namespace[f"guard_{identifier(name)}"]

    def first_failure(self, params: tuple[str, ...], args: tuple, globals_: dict, closure: tuple | None
                      ) -> str | None:
        """The first guard that does not hold for ``args``, with the value it saw (slow path:
        used to explain recompiles)."""
        namespace = {**self.constants(), **frame_namespace(params, args, globals_, closure)}
        for guard in self.guards:
            try:
                held = eval(guard.text, namespace)  # noqa: S307 - our own generated text
            except Exception as exc:  # a source that no longer resolves
                return f"{guard.text}  (raised {type(exc).__name__}: {exc})"
            if not held and not guard.sources:
                return guard.text
            if not held:
                seen = _describe(eval(guard.sources[0].expr(), namespace))
                return f"{guard.text}  (saw {guard.sources[0].expr()} = {seen})"
        return None


def _describe(value: Any) -> str:
    from .devices import is_device_array

    if isinstance(value, np.ndarray) or is_device_array(value):  # (a CuPy array's repr copies it to the host)
        return f"{type(value).__name__}(dtype={value.dtype}, shape={value.shape}, strides={value.strides})"
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."
