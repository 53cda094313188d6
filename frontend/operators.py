"""Python operators on symbolic values: NumPy ufuncs on arrays, plain Python on constants."""
from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir import Node, OpKind
from ..ir.ops.views import UNWRITABLE_VIEWS
from ..ir.symbolic import SymbolicShapeError, broadcasts_to, concrete
from .conversions import NotConstant, computed_value, constant_of, contains_array, graph_arg
from .errors import Unsupported, UserCodeError
from .run_time_scalars import scalar_arithmetic, scalars_read_at_run_time, size_as_value
from .values import (
    ArrayValue,
    ConstValue,
    DictValue,
    DictViewValue,
    ListValue,
    SizeValue,
    TupleValue,
    Value,
)

if TYPE_CHECKING:
    from .tracer import Tracer

# Op names are the ufuncs' own names (np.true_divide is called "divide" in NumPy 2).
BINARY_UFUNCS = {symbol: ufunc.__name__ for symbol, ufunc in {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "//": np.floor_divide,
    "%": np.remainder, "**": np.power, "&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor,
    "<<": np.left_shift, ">>": np.right_shift, "@": np.matmul}.items()}
COMPARE_UFUNCS = {symbol: ufunc.__name__ for symbol, ufunc in {
    "<": np.less, "<=": np.less_equal, "==": np.equal, "!=": np.not_equal, ">": np.greater,
    ">=": np.greater_equal}.items()}
PYTHON_BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "&": operator.and_,
    "|": operator.or_, "^": operator.xor, "<<": operator.lshift, ">>": operator.rshift,
    "@": operator.matmul, "<": operator.lt, "<=": operator.le, "==": operator.eq,
    "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
}


def python_op(tracer: Tracer, fn, *operands: Value) -> Value:
    """Apply a Python operator to known values at trace time (its errors are the user's)."""
    try:
        args = [constant_of(v) for v in operands]
    except NotConstant:
        raise Unsupported(f"operator {fn.__name__} on {[type(v).__name__ for v in operands]}",
                          tracer.loc) from None
    try:
        result = fn(*args)
    except SymbolicShapeError:
        raise
    except Exception as exc:
        raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc
    if isinstance(result, np.ndarray):
        raise Unsupported("an operator on constants produced an array", tracer.loc)
    return computed_value(result, tracer.loc)


def binary(tracer: Tracer, symbol: str, left: Value, right: Value) -> Value:
    """``left <symbol> right`` where symbol is a binary or comparison operator."""
    if isinstance(left, ArrayValue) or isinstance(right, ArrayValue):
        if symbol == "*" and any(isinstance(v, TupleValue | ListValue) or type(v) is ConstValue
                                 and isinstance(v.peek(), tuple | list) for v in (left, right)) and \
                any(isinstance(v, ArrayValue) and v.node.meta.is_scalar for v in (left, right)):
            # A NumPy scalar hands a sequence back to Python: [7] * np.int64(3) repeats the list
            # (a bool or float raises), as many times as the value says; an ndarray multiplies.
            raise Unsupported("a list or tuple times a NumPy scalar (a repetition as long as its value)",
                              tracer.loc)
        left, right = scalars_read_at_run_time(tracer, left, right, power_operator=symbol == "**")
        if _python_complex_wins(left, right):
            raise Unsupported("a Python complex with a NumPy float64 scalar on its right (Python's own "
                              "complex operator answers, with a Python complex)", tracer.loc)
        name = BINARY_UFUNCS.get(symbol) or COMPARE_UFUNCS[symbol]
        left, right = size_as_value(tracer, name, left, right)
        if symbol == "**" and _scalar_math(left, right):
            return _scalar_power(tracer, left, right)
        if symbol == "**":
            name = _fast_power(left, right) or name
            if name != "power":
                assert isinstance(left, ArrayValue)  # (_fast_power answers only for an array base)
                return tracer.emit(name, left.node)
        return tracer.emit(name, _operand(tracer, left), _operand(tracer, right))
    if (symbolic := scalar_arithmetic(tracer, symbol, left, right)) is not None:
        return symbolic
    if symbol in ("+", "*") and isinstance(left, TupleValue | ListValue) or \
            symbol == "*" and isinstance(right, TupleValue | ListValue):
        return _sequence_op(tracer, symbol, left, right)
    return python_op(tracer, PYTHON_BINARY[symbol], left, right)


def _python_complex_wins(left: Value, right: Value) -> bool:
    """``2j + np.float64(x)``: np.float64 subclasses float, which complex's own operators accept,
    so Python answers before NumPy's reflected operator and the result is a Python complex."""
    return (isinstance(left, ConstValue) and not isinstance(left, SizeValue) and type(left.value) is complex
            and isinstance(right, ArrayValue)
            and right.node.meta.is_scalar and right.node.meta.dtype == np.float64)


def _scalar_math(left: Value, right: Value) -> bool:
    """Both operands NumPy scalars or Python numbers: NumPy's scalar math answers, not a ufunc."""
    return all(isinstance(v, ArrayValue) and v.node.meta.is_scalar
               or isinstance(v, ConstValue) and not isinstance(v, SizeValue)
               and isinstance(v.value, bool | int | float | np.bool_ | np.integer | np.floating)
               for v in (left, right))


def _scalar_power(tracer: Tracer, base: Value, exponent: Value) -> Value:
    """``s ** y`` on NumPy scalars: scalar math computes C's pow, where the power ufunc (Ember's
    ``power`` node) takes sqrt for an exponent of 0.5; the two differ at -inf (inf against nan)
    and -0.0 (0.0 against -0.0), which this puts right."""
    power = tracer.emit("power", _operand(tracer, base), _operand(tracer, exponent))
    dtype = power.node.meta.dtype
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        return power  # float16 and complex loops have no sqrt shortcut; integers none at all
    y = _operand(tracer, exponent)
    if not isinstance(y, Node) and float(y) != 0.5:
        return power
    if not isinstance(base, ArrayValue):
        number = constant_of(base)
        if number == -np.inf or (number == 0 and np.signbit(number)):
            raise Unsupported("a power of -inf or -0.0 with a NumPy scalar exponent", tracer.loc)
        return power
    x = tracer.emit("astype", base.node, dtype=dtype)
    root = tracer.emit("add", tracer.emit("sqrt", x.node).node, 0.0)  # -0.0 + 0.0 is 0.0, as pow gives
    fixed = tracer.emit("where", tracer.emit("equal", x.node, -np.inf).node, np.inf, root.node)
    if isinstance(y, Node):
        fixed = tracer.emit("where", tracer.emit("equal", y, 0.5).node, fixed.node, power.node)
    return tracer.emit("getitem", fixed.node, ())  # np.where's 0-d array back to a NumPy scalar


def _fast_power(base: Value, exponent: Value) -> str | None:
    """NumPy's ``ndarray.__pow__`` shortcut (fast_scalar_power): for a float or complex array and
    an exact Python int -1 or 2 or float 0.5 it calls reciprocal / square / sqrt instead of
    power, which differ at special values (float16 sqrt(-inf), complex reciprocal). A bool or
    integer array squares for an exact 2 (``bool_array ** 2`` is int8, ``np.power`` gives int64)."""
    if not isinstance(base, ArrayValue) or base.node.meta.is_scalar or not isinstance(exponent, ConstValue):
        return None
    kind = base.node.meta.dtype.kind
    if kind in "biu":
        return "square" if type(exponent.peek()) is int and exponent.value == 2 else None
    if kind not in "fc":
        return None
    value = exponent.value
    if type(value) is int:
        return {-1: "reciprocal", 2: "square"}.get(value)
    if type(value) is float and value == 0.5:
        return "sqrt"
    return None


def stacked(tracer: Tracer, value: Value) -> ArrayValue:
    """A (nested) list or tuple holding traced values, as ``np.array`` builds it: one stack per
    level. ``np.stack`` promotes like ``np.array`` does (a Python float is float64 here, not a
    weak scalar), and elements of different shapes fail the same way."""
    if isinstance(value, ArrayValue):
        return value
    if not isinstance(value, TupleValue | ListValue) or not value.items:
        raise Unsupported("an array of traced values from something other than a non-empty list or tuple",
                          tracer.loc)
    parts = tuple(stacked(tracer, item).node if contains_array(item) else graph_arg(item) for item in value.items)
    return tracer.emit("stack", parts, axis=0)


def check_numbers_convert(tracer: Tracer, value: Value, dtype: np.dtype) -> None:
    """The Python numbers beside traced values in a (nested) list convert to ``dtype`` as NumPy
    converts them (``np.array([a[0], 300], dtype=np.int8)`` raises); the traced ones are cast."""
    for item in getattr(value, "items", ()):
        if contains_array(item):
            check_numbers_convert(tracer, item, dtype)
            continue
        try:
            np.asarray(graph_arg(item), dtype=dtype)
        except (TypeError, ValueError, OverflowError) as exc:
            raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc


def _operand(tracer: Tracer, value: Value, dtype: np.dtype | None = None):
    """``value`` as an op's operand; a list or tuple of Python values as an array, converted to
    ``dtype`` (a setitem's destination's) as NumPy does, with its checks ([1, 300] into uint8)."""
    if isinstance(value, ArrayValue):
        return value.node
    if contains_array(value):
        if dtype is not None:
            check_numbers_convert(tracer, value, dtype)
        return stacked(tracer, value).node
    arg = graph_arg(value)
    if isinstance(arg, tuple | list):
        try:
            return np.asarray(arg, dtype=dtype)
        except (TypeError, ValueError, OverflowError) as exc:
            raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc
    if not isinstance(arg, bool | int | float | complex | np.generic):
        raise Unsupported(f"arithmetic between an array and {type(arg).__name__}", tracer.loc)
    return arg


def _sequence_op(tracer: Tracer, symbol: str, left: Value, right: Value) -> Value:
    if symbol == "+" and type(left) is type(right):
        assert isinstance(left, TupleValue | ListValue) and isinstance(right, TupleValue | ListValue)  # (binary)
        return type(left)(left.items + right.items)
    sequence, count = (left, right) if isinstance(left, TupleValue | ListValue) else (right, left)
    if symbol == "*" and isinstance(count, ConstValue) and type(count.value) is int:  # [1, 2] + 3 raises
        assert isinstance(sequence, TupleValue | ListValue)  # (binary calls this with one of them a sequence)
        return type(sequence)(sequence.items * count.value)
    return python_op(tracer, PYTHON_BINARY[symbol], left, right)


def inplace(tracer: Tracer, symbol: str, target: Value, other: Value) -> Value:
    """``target <symbol>= other``. On an array this writes into it, as NumPy's ``out=`` does,
    with NumPy's ``same_kind`` casting check; on anything else it rebinds."""
    if not isinstance(target, ArrayValue):
        # (CPython tries a list's ``+`` and ``*`` before its in-place concat and repeat, and an
        # array's __radd__/__rmul__ wins: ``lst += x`` is ``lst + x``, a new array, for an array
        # or a NumPy scalar; ``lst *= x`` for an array: a NumPy int scalar repeats the list)
        if (type(target), symbol) in _MUTATED_IN_PLACE and not _numpy_answers_first(symbol, other):
            return _update_container(tracer, symbol, target, other)
        return binary(tracer, symbol, target, other)
    result = binary(tracer, symbol, target, other)
    assert isinstance(result, ArrayValue)  # (binary on an array emits an op)
    if symbol == "@":
        raise Unsupported("in-place matmul (@=)", tracer.loc)
    if target.node.meta.is_scalar:
        return result  # NumPy scalars are immutable: `s += 1` rebinds, whatever the result's kind
    source_dtype, dest_dtype = result.node.meta.dtype, target.node.meta.dtype
    if not np.can_cast(source_dtype, dest_dtype, casting="same_kind"):
        raise UserCodeError(f"Cannot cast ufunc output from {source_dtype} to {dest_dtype} "
                            "with casting rule 'same_kind'", tracer.loc)
    if not broadcasts_to(result.node.meta.shape, target.node.meta.shape):
        raise UserCodeError("non-broadcastable output operand in in-place operation", tracer.loc)
    return write_into(tracer, target, (Ellipsis,), result)


def _numpy_answers_first(symbol: str, other: Value) -> bool:
    """Whether ``lst <symbol>= other`` is NumPy's ``lst <symbol> other``: for an array or a NumPy
    scalar ``+``, for an array ``*`` (a NumPy int scalar repeats the list, as an int does)."""
    if isinstance(other, ArrayValue):
        return symbol == "+" or not other.node.meta.is_scalar
    value = other.peek() if isinstance(other, ConstValue) else None
    return isinstance(value, np.ndarray) or isinstance(value, np.generic) and symbol == "+"


# ``lst += it``, ``lst *= n`` and ``d |= other`` change the object itself (aliases see it); any
# other in-place operator on a Python value rebinds the name to a new object.
_MUTATED_IN_PLACE = {(ListValue, "+"), (ListValue, "*"), (DictValue, "|")}


def _update_container(tracer: Tracer, symbol: str, target: Value, other: Value) -> Value:
    """``target <symbol>= other`` on a list or dict the function made: its items change in place."""
    assert isinstance(target, ListValue | DictValue)  # (_MUTATED_IN_PLACE)
    kind = type(target).__name__.removesuffix("Value").lower()
    if target.source is not None:
        raise Unsupported(f"{symbol}= on a {kind} from outside the function (a side effect)", tracer.loc)
    if isinstance(target, ListValue):
        items = target.items + iterate(tracer, other) if symbol == "+" else \
            target.items * _repeat_count(tracer, other)
        record_items_undo(tracer, target)
        target.items[:] = items
    else:
        update = other.items if isinstance(other, DictValue) else _constant_mapping(tracer, other)
        record_items_undo(tracer, target)
        target.items.update(update)
    return target


def _repeat_count(tracer: Tracer, count: Value) -> int:
    """The ``n`` of ``lst *= n``, checked as CPython checks it (an int, or an object with __index__)."""
    try:
        return operator.index(constant_of(count))
    except NotConstant:
        raise Unsupported("repeating a list a number of times the function computed", tracer.loc) from None
    except TypeError:
        raise UserCodeError(f"TypeError: can't multiply sequence by non-int of type "
                            f"'{type(constant_of(count)).__name__}'", tracer.loc) from None


def _constant_mapping(tracer: Tracer, other: Value) -> dict[Any, Value]:
    """What ``d |= other`` adds for a known ``other`` (a mapping or pairs), or CPython's error."""
    try:
        added: dict = {}
        added |= constant_of(other)
    except NotConstant:
        raise Unsupported(f"|= of a dict and a {type(other).__name__}", tracer.loc) from None
    except (TypeError, ValueError) as exc:
        raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc
    return {key: ConstValue(value) for key, value in added.items()}


def record_items_undo(tracer: Tracer, container: ListValue | DictValue) -> None:
    """Let a trace that is forgotten (an inlined call that hit a graph break) restore the items."""
    saved: Any = container.items.copy()
    items: Any = container.items
    if isinstance(items, list):
        tracer.record_undo(lambda: items.__setitem__(slice(None), saved))
    else:
        tracer.record_undo(lambda: (items.clear(), items.update(saved)))


def write_into(tracer: Tracer, target: ArrayValue, index, value: Value) -> ArrayValue:
    """Emit ``target[index] = value`` and return the (same, now updated) array."""
    return write_with(tracer, "setitem", target, index, value)


def write_with(tracer: Tracer, op: str, target: ArrayValue, index, value: Value, *, checks_writeable: bool = True,
               **kwargs: Any) -> ArrayValue:
    """Emit the in-place op ``op(target, index, value)`` (ir/ops/mutation.py) and return the
    (same, now updated) array; NumPy's error for a read-only view, by running eagerly (unless
    the op is NumPy's own call, which decides itself: ``np.add.at`` writes through read-only
    broadcast views without a word)."""
    if checks_writeable and (maker := _read_only(target.node)) is not None:
        if maker == "broadcast_writeable":  # NumPy warns, and writes element by element through shared memory
            raise Unsupported("a write into a view np.broadcast_arrays made", tracer.loc)
        raise UserCodeError(f"ValueError: writing into a read-only view (np.{maker})", tracer.loc)
    dtype = target.node.meta.dtype if op == "setitem" else None
    node = tracer.emit(op, target.node, index, _operand(tracer, value, dtype), **kwargs).node
    return ArrayValue(node, target.source)


def _read_only(node) -> str | None:
    """The op whose result ``node`` views if a write into it is eager NumPy's to do
    (ir/ops/views.py's UNWRITABLE_VIEWS), else None. A reshape on the way may have copied; then
    eager succeeds where this says no, and runs eagerly: still right."""
    while node.op.kind in (OpKind.VIEW, OpKind.MUTATION):
        if node.op.name in UNWRITABLE_VIEWS or node.op.name == "imag" and node.args[0].meta.dtype.kind != "c":
            return node.op.name  # (the imaginary parts of a real array: read-only zeros)
        node = node.args[0]
    return None


def unary(tracer: Tracer, symbol: str, value: Value) -> Value:
    if isinstance(value, ArrayValue):
        name = {"-": np.negative, "+": np.positive, "~": np.invert, "abs": np.absolute}[symbol].__name__
        return tracer.emit(name, value.node)
    fn = {"-": operator.neg, "+": operator.pos, "~": operator.invert, "abs": abs}[symbol]
    return python_op(tracer, fn, value)


def truth(tracer: Tracer, value: Value) -> bool:
    """``bool(value)`` at trace time; an array's truth depends on its data: a graph break."""
    if isinstance(value, ArrayValue):
        raise Unsupported("branching on an array value (data-dependent control flow)", tracer.loc)
    if isinstance(value, TupleValue | ListValue):
        return bool(value.items)
    from .values import ObjectValue

    if isinstance(value, DictValue | DictViewValue):
        return bool((value if isinstance(value, DictValue) else value.of).items)
    if isinstance(value, ObjectValue):
        if hasattr(type(value.obj), "__bool__") or hasattr(type(value.obj), "__len__"):
            raise Unsupported(f"truth of a {type(value.obj).__name__} object", tracer.loc)
        return True
    from .values import BoundMethodValue, FunctionValue, HandlerValue

    if isinstance(value, FunctionValue | BoundMethodValue | HandlerValue):
        return True
    try:
        return bool(constant_of(value))
    except NotConstant:
        raise Unsupported(f"truth of a {type(value).__name__}", tracer.loc) from None
    except SymbolicShapeError:
        raise
    except Exception as exc:
        raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc


def drain(tracer: Tracer, value: Value, interleaved: bool = False) -> list[Value]:
    """The items of ``value`` for a builtin that takes them all before it returns (sum, list,
    tuple, min, max): ``iterate``, and a generator's body traced to its end (nothing a caller does
    can run between its items). A drained generator has no items left. ``interleaved``: the
    caller uses each item as it comes (sum adds it, map calls on it), which tracing the body to
    its end moves after the body's later steps: a body that writes into arrays breaks."""
    from .values import GeneratorValue

    if not isinstance(value, GeneratorValue):
        return iterate(tracer, value)
    if value.drained:
        return []
    before = len(tracer.graph.nodes)
    items = value.run()
    if interleaved and (any(node.op.kind is OpKind.MUTATION for node in tracer.graph.nodes[before:])
                        or any(isinstance(item, ListValue | DictValue) for item in items)):
        raise Unsupported("a generator or map that writes into arrays, consumed item by item (CPython uses "
                          "each item before the next is made)", tracer.loc)
    value.drained = True
    tracer.record_undo(lambda: setattr(value, "drained", False))
    return items


def iterate(tracer: Tracer, value: Value) -> list[Value]:
    """The items a for loop over ``value`` would see, when their number is known."""
    from .iterators import ITERATORS, remaining_items
    from .values import GeneratorValue

    if isinstance(value, GeneratorValue):  # a loop body would run between its items: not unrolled
        raise Unsupported("a generator consumed item by item (a for loop, zip, enumerate, next)", tracer.loc)
    if isinstance(value, ITERATORS):
        return remaining_items(tracer, value)
    if isinstance(value, TupleValue | ListValue):
        return list(value.items)
    if isinstance(value, DictValue):
        return [ConstValue(k) for k in value.items]
    if isinstance(value, DictViewValue):
        from .containers import view_items

        return view_items(value)
    if isinstance(value, ArrayValue):
        meta = value.node.meta
        if meta.ndim == 0:
            raise UserCodeError("iteration over a 0-d array", tracer.loc)
        return [tracer.emit("getitem", value.node, i) for i in range(concrete(meta.shape, "iteration")[0])]
    try:
        items = list(constant_of(value))
    except NotConstant:
        raise Unsupported(f"iterating over {type(value).__name__}", tracer.loc) from None
    except TypeError as exc:
        raise UserCodeError(str(exc), tracer.loc) from exc
    return [ConstValue(item) for item in items]
