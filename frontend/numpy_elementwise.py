"""Functions NumPy writes as elementwise steps, traced as those steps so they fuse and give
NumPy's values: nan_to_num, isclose, triu/tril, sinc, heaviside, polyval and select. Importing
this module registers the handlers (calls.py does)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import Unsupported, UserCodeError
from .numpy_api import (
    Handler,
    as_array,
    c_ordered,
    check_default,
    const,
    dtype_param,
    number_or_node,
    numpy_function,
    sequence_items,
)
from .values import ArrayValue, Value

if TYPE_CHECKING:
    from .tracer import Tracer


@numpy_function(np.nan_to_num)
def _nan_to_num(tracer: Tracer, x: Value, copy: Any = True, nan: Any = 0.0, posinf: Any = None,
                neginf: Any = None) -> Value:
    """NumPy's replacements (NaN, then +inf and -inf by the largest finite values) as
    ``np.where``; a copy for integers and bools. ``copy=False`` (in place) and complex arrays
    run eagerly."""
    if const(tracer, copy, "copy") is not True:
        raise Unsupported("np.nan_to_num(copy=False) (it writes into its argument)", tracer.loc)
    array = as_array(tracer, x)
    dtype = array.node.meta.dtype
    if dtype.kind == "c":
        raise Unsupported("np.nan_to_num of a complex array", tracer.loc)
    result = tracer.emit("copy", array.node)
    if dtype.kind == "f":
        info = np.finfo(dtype)
        result = tracer.emit("where", tracer.emit("isnan", result.node).node, const(tracer, nan, "nan"), result.node)
        for infinity, fill, largest in ((np.inf, posinf, info.max), (-np.inf, neginf, info.min)):
            fill = const(tracer, fill, "posinf or neginf")
            result = tracer.emit("where", tracer.emit("equal", result.node, infinity).node,
                                 float(largest) if fill is None else fill, result.node)
    return tracer.emit("getitem", result.node, ()) if array.node.meta.ndim == 0 else result  # 0-d: a scalar


@numpy_function(np.isclose)
def _isclose(tracer: Tracer, a: Value, b: Value, rtol: Any = 1e-05, atol: Any = 1e-08, equal_nan: Any = False) -> Value:
    """NumPy's own steps: ``|x - y| <= atol + rtol |y|`` where y is finite, or ``x == y``, with y
    made inexact first. Array or non-finite tolerances (NumPy warns) and timedeltas run eagerly."""
    rtol, atol = const(tracer, rtol, "rtol"), const(tracer, atol, "atol")
    equal_nan = const(tracer, equal_nan, "equal_nan")
    if not all(type(t) in (int, float) and np.isfinite(t) for t in (rtol, atol)):
        raise Unsupported("np.isclose with tolerances that are not finite Python numbers", tracer.loc)
    if not any(isinstance(v, ArrayValue) for v in (a, b)):
        raise Unsupported("np.isclose of two constants", tracer.loc)
    x, y = (number_or_node(tracer, v) for v in (a, b))
    if isinstance(y, int):
        y = float(y)
    elif not isinstance(y, float | complex):
        if y.meta.dtype.kind == "m":
            raise Unsupported("np.isclose of timedeltas", tracer.loc)
        inexact = np.result_type(y.meta.dtype, 1.0)
        if inexact != y.meta.dtype:
            y = tracer.emit("astype", y, dtype=inexact).node
    distance = tracer.emit("absolute", tracer.emit("subtract", x, y).node)
    allowed = tracer.emit("add", atol, tracer.emit("multiply", rtol, tracer.emit("absolute", y).node).node)
    close = tracer.emit("less_equal", distance.node, allowed.node)
    finite = tracer.emit("isfinite", y)
    result = tracer.emit("bitwise_or", tracer.emit("bitwise_and", close.node, finite.node).node,
                         tracer.emit("equal", x, y).node)
    if equal_nan:
        x_nan = bool(np.isnan(x)) if isinstance(x, int | float | complex) else tracer.emit("isnan", x).node
        both_nan = tracer.emit("bitwise_and", x_nan, tracer.emit("isnan", y).node)
        result = tracer.emit("bitwise_or", result.node, both_nan.node)
    return tracer.emit("getitem", result.node, ()) if result.node.meta.ndim == 0 else result  # result[()]


def _triangle(upper: bool) -> Handler:
    """np.triu / np.tril as NumPy writes them: ``where(tri(N, M, k), ...)`` with ``tri`` the outer
    ``>=`` of two ranges (fused, no mask in memory)."""
    def handler(tracer: Tracer, m: Value, k: Any = 0) -> Value:
        array = as_array(tracer, m)
        k = const(tracer, k, "k")
        shape = array.node.meta.shape[-2:]
        if not shape or not all(isinstance(d, int) for d in shape) or not isinstance(k, int | np.integer):
            raise Unsupported("np.triu/np.tril of a 0-d array, a dynamic size or a non-integer k", tracer.loc)
        rows, columns = shape if len(shape) == 2 else (shape[0], shape[0])
        k = int(k) - 1 if upper else int(k)
        below = tracer.emit("greater_equal", tracer.emit("getitem", tracer.emit("arange", rows).node,
                                                         (slice(None), None)).node,
                            tracer.emit("arange", -k, columns - k).node)
        zeros = np.zeros(1, array.node.meta.dtype)
        pair = (zeros, array.node) if upper else (array.node, zeros)
        return tracer.emit("where", below.node, *pair)

    return handler


numpy_function(np.triu)(_triangle(upper=True))
numpy_function(np.tril)(_triangle(upper=False))


@numpy_function(np.tri)
def _tri(tracer: Tracer, N: Any, M: Any = None, k: Any = 0, dtype: Any = float, *, like: Any = None) -> Value:  # noqa: N803
    """NumPy's ``greater_equal.outer(arange(N), arange(-k, M - k))`` cast to dtype (fused)."""
    check_default(tracer, "like", like)
    rows, columns, k = const(tracer, N, "N"), const(tracer, M, "M"), const(tracer, k, "k")
    columns = rows if columns is None else columns
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (rows, columns, k)):
        raise Unsupported("np.tri with sizes or k that are not integers", tracer.loc)
    below = tracer.emit("greater_equal", tracer.emit("getitem", tracer.emit("arange", int(rows)).node,
                                                     (slice(None), None)).node,
                        tracer.emit("arange", -int(k), int(columns) - int(k)).node)
    return tracer.emit("astype", below.node, dtype=dtype_param(tracer, dtype))


@numpy_function(np.sinc)
def _sinc(tracer: Tracer, x: Value) -> Value:
    array = tracer.emit("multiply", np.pi, as_array(tracer, x).node)
    dtype = array.node.meta.dtype
    eps = np.finfo(dtype).eps if dtype.kind == "f" else 1e-20
    y = tracer.emit("where", array.node, array.node, eps)
    return tracer.emit("divide", tracer.emit("sin", y.node).node, y.node)


@numpy_function(np.heaviside)
def _heaviside(tracer: Tracer, x1: Value, x2: Value, out: Any = None, where: Any = True, dtype: Any = None,
               casting: Any = "same_kind") -> Value:
    """NumPy's ``npy_heaviside``: NaN for NaN, x2 where x1 is zero, else 0 below zero and 1 above,
    in the dtype NumPy's loop picks (float64 for integers; Python numbers weak)."""
    for name, value, default in (("out", out, None), ("where", where, True), ("dtype", dtype, None),
                                 ("casting", casting, "same_kind")):
        check_default(tracer, name, value, default)
    if not isinstance(x1, ArrayValue):
        raise Unsupported("np.heaviside of a Python number", tracer.loc)
    x, h = x1.node, number_or_node(tracer, x2)
    stand_ins: list[Any] = [np.ones((1,) * o.meta.ndim, o.meta.dtype) if not isinstance(o, int | float | complex)
                            else o for o in (x, h)]
    try:
        dtype = np.heaviside(*stand_ins).dtype
    except TypeError:
        raise Unsupported(f"np.heaviside of {x.meta.dtype} (NumPy's TypeError, eagerly)", tracer.loc) from None
    if x.meta.dtype != dtype:
        x = tracer.emit("astype", x, dtype=dtype).node
    h = dtype.type(h) if isinstance(h, int | float | complex) else h
    zero, one = dtype.type(0), dtype.type(1)
    step = tracer.emit("where", tracer.emit("less", x, zero).node, zero, one)
    at_zero = tracer.emit("where", tracer.emit("equal", x, zero).node, h, step.node)
    result = tracer.emit("where", tracer.emit("isnan", x).node, dtype.type(np.nan), at_zero.node)
    if result.node.meta.dtype != dtype:  # an integer x2 array: NumPy's loop casts it
        result = tracer.emit("astype", result.node, dtype=dtype)
    return tracer.emit("getitem", result.node, ()) if result.node.meta.ndim == 0 else result


@numpy_function(np.polyval)
def _polyval(tracer: Tracer, p: Value, x: Value) -> Value:
    """NumPy's Horner loop over the coefficients: ``y = y * x + pv``."""
    if isinstance(p, ArrayValue):
        shape = p.node.meta.shape
        if len(shape) != 1 or not isinstance(shape[0], int):
            raise Unsupported("np.polyval with coefficients that are not a 1-d array of static length", tracer.loc)
        coefficients: Any = [tracer.emit("getitem", p.node, (i,)).node for i in range(shape[0])]
    else:
        coefficients = np.asarray(const(tracer, p, "the coefficients p"))
    array = as_array(tracer, x)
    y = tracer.emit("zeros", array.node.meta.shape, dtype=array.node.meta.dtype)  # zeros_like(x)
    for pv in coefficients:
        y = tracer.emit("add", tracer.emit("multiply", y.node, array.node).node, pv)
    return y


@numpy_function(np.select)
def _select(tracer: Tracer, condlist: Value, choicelist: Value, default: Any = 0) -> Value:
    """NumPy's rule: the dtype of the choices and the default (Python numbers weak), the first
    true condition's choice, else the default: nested np.where, the last condition innermost."""
    conds, choices = sequence_items(tracer, condlist, "np.select"), sequence_items(tracer, choicelist, "np.select")
    if len(conds) != len(choices):
        raise UserCodeError("ValueError: list of cases must be same length as list of conditions", tracer.loc)
    if not conds:
        raise UserCodeError("ValueError: select with an empty condition list is not possible", tracer.loc)
    operands = [number_or_node(tracer, c) for c in choices]
    operands.append(number_or_node(tracer, default) if isinstance(default, Value) else default)
    stand_ins = [o if type(o) in (int, float, complex) else np.ones((1,) * o.meta.ndim, o.meta.dtype) for o in operands]
    try:
        dtype = np.result_type(*stand_ins)
    except TypeError as error:
        raise Unsupported(f"np.select of choices without a common dtype ({error})", tracer.loc) from None
    result = operands[-1]
    for i, (cond, choice) in reversed(list(enumerate(zip(conds, operands[:-1], strict=True)))):
        mask = as_array(tracer, cond).node
        if mask.meta.dtype != np.bool_:
            raise UserCodeError(f"TypeError: invalid entry {i} in condlist: should be boolean ndarray", tracer.loc)
        result = tracer.emit("where", mask, choice, result).node
    if result.meta.dtype != dtype:
        result = tracer.emit("astype", result, dtype=dtype).node
    return c_ordered(tracer, result)  # (NumPy fills an np.full result)


@numpy_function(np.fix)
def _fix(tracer: Tracer, x: Value, out: Any = None) -> Value:
    """NumPy's steps: ceil, then floor where x >= 0 (NaN keeps ceil's NaN)."""
    check_default(tracer, "out", out)
    array = as_array(tracer, x).node
    result = tracer.emit("where", tracer.emit("greater_equal", array, 0).node, tracer.emit("floor", array).node,
                         tracer.emit("ceil", array).node)
    return tracer.emit("getitem", result.node, ()) if result.node.meta.ndim == 0 else result


@numpy_function(np.angle)
def _angle(tracer: Tracer, z: Value, deg: Any = False) -> Value:
    """NumPy's steps: arctan2 of the imaginary and real parts (0 and z for a real z)."""
    array = as_array(tracer, z).node
    if array.meta.dtype.kind == "c":
        result = tracer.emit("arctan2", tracer.emit("imag", array).node, tracer.emit("real", array).node)
    else:
        result = tracer.emit("arctan2", 0, array)
    return tracer.emit("multiply", result.node, 180 / np.pi) if const(tracer, deg, "deg") else result
