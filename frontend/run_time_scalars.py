"""Python numbers the compiled code reads at run time rather than as constants: a dynamic
dimension's size next to an array (``x / len(x)``), and the ints and floats of arguments that
change between calls (values.DynamicInt, values.DynamicFloat), next to arrays and in the Python
arithmetic that keeps them symbolic (``i - 1``, ``2 * i``, ``t + dt``)."""
from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from .sources import ArithmeticSource
from .values import ArrayValue, ConstValue, DynamicFloat, DynamicInt, SizeValue, Value

if TYPE_CHECKING:
    from .tracer import Tracer

_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def scalar_arithmetic(tracer: Tracer, symbol: str, left: Value, right: Value) -> Value | None:
    """``left <symbol> right`` of Python numbers where one is read at run time and the result
    stays so (an int, a float or a dynamic size); None where Python must compute the number."""
    if symbol in ("+", "-", "*") and (affine := _affine_int(symbol, left, right)) is not None:
        return affine
    if symbol in _ARITHMETIC and (arithmetic := _float_arithmetic(tracer, symbol, left, right)) is not None:
        return arithmetic
    if isinstance(left, SizeValue) or isinstance(right, SizeValue):
        return _size_arithmetic(symbol, left, right)
    return None


# Where NumPy turns a Python int n into the array's dtype before the ufunc (NEP 50), so
# ``dtype(n)`` read at run time gives eager's answer: checked for every size up to 2**53 + 1
# against eager on each op and dtype below. Smaller integer dtypes raise for an n out of their
# range, unsigned ones for a negative ``len(x) - 1``: they read the number (``**`` too:
# ``x ** 2`` on an array is NumPy's square shortcut, see _fast_power).
_SIZE_AS_VALUE_UFUNCS = frozenset(ufunc.__name__ for ufunc in (
    np.add, np.subtract, np.multiply, np.true_divide, np.floor_divide, np.remainder,
    np.less, np.less_equal, np.equal, np.not_equal, np.greater, np.greater_equal))
_SIZE_AS_VALUE_COMPLEX = frozenset(ufunc.__name__ for ufunc in (
    np.add, np.subtract, np.multiply, np.true_divide, np.equal, np.not_equal))
_SIZE_AS_VALUE_DTYPES = {np.dtype(d): ufuncs for d, ufuncs in {
    "float16": _SIZE_AS_VALUE_UFUNCS, "float32": _SIZE_AS_VALUE_UFUNCS, "float64": _SIZE_AS_VALUE_UFUNCS,
    "int64": _SIZE_AS_VALUE_UFUNCS,
    "complex64": _SIZE_AS_VALUE_COMPLEX, "complex128": _SIZE_AS_VALUE_COMPLEX}.items()}


def size_as_value(tracer: Tracer, ufunc: str, left: Value, right: Value) -> tuple[Value, Value]:
    """``s / len(x)``, ``x * x.shape[0]``, ``np.add(x, n)``: a dynamic size (a SizeValue) next to
    an array or a computed NumPy scalar (``x.sum()``) becomes a graph value, read from the input
    at run time and converted to the array's dtype as NumPy converts a Python int. Other uses
    still read the number (and compile the dimension static)."""
    sized, array = (left, right) if isinstance(left, SizeValue) else (right, left)
    if not isinstance(sized, SizeValue) or not isinstance(array, ArrayValue):
        return left, right
    dtype = array.node.meta.dtype
    if ufunc not in _SIZE_AS_VALUE_DTYPES.get(dtype, ()):
        return left, right
    dim = sized.dim
    origin = next(((node, axis) for node in tracer.graph.inputs for axis, d in enumerate(node.meta.shape)
                   if d is dim.base), None)
    if origin is None:
        return left, right
    value = tracer.emit("dim_size", origin[0], origin[1], dtype, dim.scale, dim.offset)
    return (value, right) if sized is left else (left, value)


def _size_arithmetic(symbol: str, left: Value, right: Value) -> Value | None:
    """``n + 1``, ``n - 2``, ``2 * n`` on a dynamic size (a SizeValue) and a Python int: another
    dynamic size (``2*s0``), for target shapes. Anything else reads the number (and raises)."""
    if isinstance(left, SizeValue) and (k := _python_int(right)) is not None:
        dim, reflected = left.dim, False
    elif isinstance(right, SizeValue) and (k := _python_int(left)) is not None:
        dim, reflected = right.dim, True
    else:
        return None
    if symbol == "+":
        return SizeValue(dim.shifted(k))
    if symbol == "-" and not reflected:
        return SizeValue(dim.shifted(-k))
    if symbol == "*" and k >= 1:
        return SizeValue(dim.times(k))
    return None


def _python_int(value: Value) -> int | None:
    if isinstance(value, ConstValue) and not isinstance(value, SizeValue) and type(value.peek()) is int:
        return value.value  # read: the constant is guarded
    return None


def _affine_int(symbol: str, left: Value, right: Value) -> DynamicInt | None:
    """``i + 1``, ``i - 1``, ``1 + i``, ``2 * i``, ``i * 2`` of a Python int read at run time (a
    DynamicInt) and a constant int (a positive one for ``*``): another one, so ``x[i - 1]`` and
    ``x[2 * i:2 * i + 2]`` are read at run time too. Python's ints do not overflow, so the result
    is exact; ``1 - i`` and every other use read the number."""
    def plain_int(value: Value) -> int | None:
        if type(value) is ConstValue and type(value.peek()) is int:  # (not a DynamicInt, SizeValue or bool)
            return value.value
        return None

    dynamic, constant = (left, plain_int(right)) if isinstance(left, DynamicInt) else \
        (right, plain_int(left)) if isinstance(right, DynamicInt) and symbol != "-" else (None, None)
    if not isinstance(dynamic, DynamicInt) or constant is None:
        return None
    if symbol == "*":
        return dynamic.scaled(constant) if constant > 0 else None
    return dynamic.shifted(constant if symbol == "+" else -constant)


def _float_arithmetic(tracer: Tracer, symbol: str, left: Value, right: Value) -> DynamicFloat | None:
    """``t + dt``, ``2.0 * t``, ``t / 4``, ``i * 0.5``, ``t * 0.99 + dt``: Python arithmetic of floats
    read at run time (DynamicFloats), or of ints (DynamicInts) where it gives a float, and finite
    constants: another DynamicFloat, which Python computes from the call's arguments, so a time
    step ``t += dt`` handed to a loop's next round is not pinned. Never dividing by an argument
    (which may be 0: Python raises), and never an int past 2**53 (its float rounds); every other
    use reads the numbers."""
    def operand(value: Value) -> tuple[Any, Any] | None:
        """(traced value, source or the constant's repr), or None where Python must compute."""
        if isinstance(value, DynamicFloat):
            return value.peek(), value.source
        if isinstance(value, DynamicInt):
            return (value.peek(), value.source) if value.exact_as_float else None
        if type(value) is ConstValue and (type(value.peek()) is int or
                                          type(value.peek()) is float and math.isfinite(value.peek())):
            return value.value, repr(value.value)
        return None

    dynamic = [side for side in (left, right) if isinstance(side, DynamicFloat | DynamicInt)]
    sides = operand(left), operand(right)
    if not dynamic or sides[0] is None or sides[1] is None or symbol == "/" and (
            isinstance(right, DynamicFloat | DynamicInt) or sides[1][0] == 0):
        return None
    try:
        value = _ARITHMETIC[symbol](sides[0][0], sides[1][0])
    except OverflowError:  # an int constant too large for a float: Python's error, from python_op
        return None
    if type(value) is not float:
        return None  # an int (``i + 1`` is _affine_int's)
    for side in dynamic:
        if isinstance(side, DynamicInt):  # converted to float exactly, and never too large to convert
            tracer.exact_as_float_guard(side)
    first = dynamic[0]
    assert isinstance(first, DynamicFloat | DynamicInt)  # (dynamic)
    return first.computed(value, ArithmeticSource(symbol, sides[0][1], sides[1][1]),
                          dynamic[1] if len(dynamic) > 1 else None)


def scalars_read_at_run_time(tracer: Tracer, left: Value, right: Value, power_operator: bool = False,
                             ints: bool = True) -> tuple[Value, Value]:
    """A Python float argument that changes between calls (a DynamicFloat) next to an array or a
    NumPy scalar becomes a graph input, not a constant its value is guarded on. Not as the
    exponent of ``**`` on a complex or float16 array, where NumPy's ``__pow__`` takes reciprocal,
    square or sqrt for some values (``_fast_power``), which differ from power at special values.
    A changing Python int (a DynamicInt) likewise, next to a float32/64 or complex array only
    (NumPy converts it to that dtype; into an integer array it must fit, or NumPy raises) and
    never with ``**``; not where ``ints`` is False (a ufunc with a loop for an int operand: ldexp)."""
    def read(value: Value, other: Value) -> Value:
        if not isinstance(other, ArrayValue):
            return value
        dtype = other.node.meta.dtype
        if isinstance(value, DynamicFloat):
            if value is right and power_operator and (dtype.kind == "c" or dtype == np.float16):
                return value
            return tracer.float_input(value, dtype)
        if isinstance(value, DynamicInt) and ints and not power_operator and dtype.kind in "fc" and \
                dtype != np.float16 and value.exact_as_float:
            return tracer.float_input(value, dtype)
        return value

    return read(left, right), read(right, left)
