"""Elementwise ops as Triton expressions, one ``lower_<op>`` rule per op family.

A value in a kernel is a :class:`Block`: the text of a Triton expression and its NumPy dtype.
Rules follow NumPy exactly: the loop dtypes come from ``ufunc.resolve_dtypes`` (NEP 50, weak
Python scalars), arguments are cast to them, float16 work is done in float32 and rounded
to float16 after each op (as NumPy's half loops do), divisions and square roots are
correctly rounded (``tl.div_rn``, ``tl.sqrt_rn``), ``maximum``/``minimum`` propagate NaN, and
transcendental functions call libdevice (see math.py). An op or dtype this module cannot
lower exactly raises :class:`Unsupported`, and fusion leaves that node to NumPy.
"""
from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...ir import Node
from ...ir.ops.elementwise import angle_factor
from ..common import clip_bounds, clip_keeps_ties
from .math import UFUNC_TO_LIBDEVICE

TRITON_TYPES = {
    np.dtype(name): f"tl.{triton}" for name, triton in (
        ("bool", "int1"), ("int8", "int8"), ("int16", "int16"), ("int32", "int32"), ("int64", "int64"),
        ("uint8", "uint8"), ("uint16", "uint16"), ("uint32", "uint32"), ("uint64", "uint64"),
        ("float16", "float16"), ("float32", "float32"), ("float64", "float64"),
    )
}
LOWERED_DTYPES = frozenset(TRITON_TYPES)
F16, F32, BOOL = np.dtype("float16"), np.dtype("float32"), np.dtype("bool")


class Unsupported(Exception):
    """This backend does not lower the construct exactly: leave it to NumPy."""


@dataclass(frozen=True, slots=True)
class Block:
    """A value inside a kernel: Triton expression text and the NumPy dtype it holds."""

    expr: str
    dtype: np.dtype


def tl_type(dtype: np.dtype) -> str:
    try:
        return TRITON_TYPES[np.dtype(dtype)]
    except KeyError:
        raise Unsupported(f"dtype {dtype}") from None


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """float16 values are computed in float32 (and rounded back per op)."""
    return F32 if dtype == F16 else np.dtype(dtype)


def literal(value: Any) -> str:
    """A Python literal Triton folds exactly (special floats name module constants)."""
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        value = int(value)
        return f"({value + 1} - 1)" if value < -(2**31) else repr(value)
    value = float(value)
    if math.isinf(value):
        return "_INF" if value > 0 else "-_INF"
    return repr(value)


def constant(value: Any, dtype: np.dtype) -> Block:
    """``value`` as a one-element block of ``dtype`` (broadcasts against any block)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        value = float(value)
    elif dtype.kind == "b":
        value = bool(value)
    else:
        value = int(value)
        if not np.iinfo(dtype).min <= value <= np.iinfo(dtype).max:
            # NumPy compares with a Python int outside the dtype exactly (uint8 < -1 is False)
            raise Unsupported("a Python int outside the integer loop's range")
    if dtype.kind == "f" and (math.isnan(value) or value == 0 and math.copysign(1.0, value) < 0):
        # By their bits: Triton's full() turns a zero into the null value (+0.0), and a NaN
        # cannot be a module constant (Triton checks at each launch that the globals a kernel
        # read still equal their values, and NaN equals nothing)
        bits = np.dtype(f"i{dtype.itemsize}")
        pattern = literal(np.array(value, dtype).view(bits)[()])
        return Block(f"tl.full([1], {pattern}, {tl_type(bits)}).to({tl_type(dtype)}, bitcast=True)", dtype)
    return Block(f"tl.full([1], {literal(value)}, {tl_type(dtype)})", dtype)


def cast(value: Block, dtype: np.dtype) -> Block:
    """NumPy's unsafe cast (astype): to bool is ``!= 0``; others convert."""
    dtype = np.dtype(dtype)
    tl_type(dtype)
    if value.dtype == dtype:
        return value
    if dtype == BOOL:
        return Block(f"({value.expr} != 0)", dtype)
    return Block(f"({value.expr}).to({tl_type(dtype)})", dtype)


def _arg_type(arg: Any) -> Any:
    if isinstance(arg, Node):
        return arg.meta.dtype
    if isinstance(arg, bool | int | float) and not isinstance(arg, np.generic):
        return type(arg)
    if isinstance(arg, np.generic):
        return arg.dtype
    raise Unsupported(f"argument of type {type(arg).__name__}")


def _as_block(arg: Any, value: Block | None, dtype: np.dtype) -> Block:
    """An argument cast to the loop dtype: Node values arrive as blocks, constants as values."""
    target = compute_dtype(dtype)
    if value is not None:
        return cast(cast(value, dtype), target)
    if np.dtype(dtype).kind == "f" and not isinstance(arg, bool):  # rounded to the loop's dtype (NEP 50), then widened
        with np.errstate(over="ignore"):
            return constant(np.dtype(dtype).type(arg), target)
    return constant(arg, target)


def _nan_max(a: str, b: str, name: str) -> str:
    return f"tl.{name}({a}, {b}, propagate_nan=tl.PropagateNan.ALL)"


def divide(a: str, b: str, dtype: np.dtype) -> str:
    """Correctly rounded division (float32's default on a GPU is approximate; float64's is not)."""
    return f"tl.div_rn({a}, {b})" if compute_dtype(dtype) == F32 else f"({a} / {b})"


def _sqrt(x: str, dtype: np.dtype) -> str:
    """Correctly rounded square root (as division: float32's default on a GPU is approximate)."""
    return f"tl.sqrt_rn({x})" if compute_dtype(dtype) == F32 else f"tl.sqrt({x})"


def _float_rules(name: str, a: list[str], dtype: np.dtype) -> str | None:
    x = a[0]
    rules = {
        "true_divide": lambda: divide(a[0], a[1], dtype),
        "divide": lambda: divide(a[0], a[1], dtype),
        "sqrt": lambda: _sqrt(x, dtype),
        "maximum": lambda: _nan_max(a[0], a[1], "maximum"),
        "minimum": lambda: _nan_max(a[0], a[1], "minimum"),
        "fmax": lambda: f"tl.where({a[0]} != {a[0]}, {a[1]}, tl.where({a[1]} != {a[1]}, {a[0]}, "
                        f"tl.maximum({a[0]}, {a[1]})))",
        "fmin": lambda: f"tl.where({a[0]} != {a[0]}, {a[1]}, tl.where({a[1]} != {a[1]}, {a[0]}, "
                        f"tl.minimum({a[0]}, {a[1]})))",
        "absolute": lambda: f"tl.abs({x})",
        "reciprocal": lambda: divide(f"tl.full([1], 1.0, {tl_type(compute_dtype(dtype))})", x, dtype),
        "sign": lambda: f"tl.where({x} > 0, 1.0, tl.where({x} < 0, -1.0, tl.where({x} == 0, 0.0, {x})))",
        "isnan": lambda: f"({x} != {x})",
        "isinf": lambda: f"(tl.abs({x}) == _INF)",
        "isfinite": lambda: f"(tl.abs({x}) < _INF)",
    }
    if name in rules:
        return rules[name]()
    if name in ("deg2rad", "rad2deg"):  # float16's loop computes in float32, as the block does
        return f"({x} * {constant(angle_factor(name, compute_dtype(dtype)), compute_dtype(dtype)).expr})"
    if name in UFUNC_TO_LIBDEVICE:
        return f"libdevice.{UFUNC_TO_LIBDEVICE[name]}({', '.join(a)})"
    return None


def _int_rules(name: str, a: list[str], dtype: np.dtype) -> str | None:
    x = a[0]
    rules = {
        "maximum": lambda: f"tl.maximum({a[0]}, {a[1]})",
        "minimum": lambda: f"tl.minimum({a[0]}, {a[1]})",
        "absolute": lambda: f"tl.abs({x})" if dtype.kind == "i" else x,
        "sign": lambda: f"tl.where({x} > 0, 1, tl.where({x} < 0, -1, 0)).to({tl_type(dtype)})",
        "bitwise_and": lambda: f"({a[0]} & {a[1]})",
        "bitwise_or": lambda: f"({a[0]} | {a[1]})",
        "bitwise_xor": lambda: f"({a[0]} ^ {a[1]})",
        "invert": lambda: f"(~{x})",
    }
    return rules[name]() if name in rules else None


def _bool_rules(name: str, a: list[str]) -> str | None:
    rules = {
        "add": "({0} | {1})", "multiply": "({0} & {1})", "maximum": "({0} | {1})", "minimum": "({0} & {1})",
        "bitwise_and": "({0} & {1})", "bitwise_or": "({0} | {1})", "bitwise_xor": "({0} ^ {1})",
        "invert": "({0} == 0)", "absolute": "{0}", "positive": "{0}",
    }
    return rules[name].format(*a) if name in rules else None


COMMON = {
    "add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})", "negative": "(-{0})",
    "positive": "{0}", "square": "({0} * {0})", "conjugate": "{0}",
    "equal": "({0} == {1})", "not_equal": "({0} != {1})", "less": "({0} < {1})",
    "less_equal": "({0} <= {1})", "greater": "({0} > {1})", "greater_equal": "({0} >= {1})",
    "logical_and": "(({0} != 0) & ({1} != 0))", "logical_or": "(({0} != 0) | ({1} != 0))",
    "logical_xor": "(({0} != 0) ^ ({1} != 0))", "logical_not": "({0} == 0)",
}


def lower_ufunc(node: Node, values: list[Block | None]) -> Block:
    ufunc = node.op.ufunc
    if ufunc is None or node.kwargs:
        raise Unsupported(f"{node.op.name} with {sorted(node.kwargs)}")
    try:
        loop = ufunc.resolve_dtypes(tuple(_arg_type(a) for a in node.args) + (None,) * ufunc.nout)
    except (TypeError, ValueError, OverflowError) as error:
        raise Unsupported(f"{node.op.name}: {error}") from None
    ins, out = loop[:ufunc.nin], loop[-1]
    args = [_as_block(a, v, d) for a, v, d in zip(node.args, values, ins, strict=True)]
    texts = [a.expr for a in args]
    kind = ins[0].kind
    name = ufunc.__name__
    if name == "power":
        return _lower_power(node, args, out)
    if name in _SWAPPED and ins[0].kind in "iu" and ins[1].kind in "iu" and ins[0].kind != ins[1].kind:
        return Block(_mixed_sign_comparison(name, texts, ins), BOOL)
    expr = None
    if kind == "b":
        expr = _bool_rules(name, texts)
    elif kind in "iu":
        expr = _int_rules(name, texts, ins[0])
    elif kind == "f":
        expr = _float_rules(name, texts, ins[0])
    if expr is None and name in COMMON and not (kind == "b" and name in ("subtract", "negative")):
        expr = COMMON[name].format(*texts)
    if expr is None:
        raise Unsupported(f"{name} on {ins[0]}")
    return cast(Block(expr, compute_dtype(out) if out.kind != "b" else BOOL), out)


_SWAPPED = {"less": "greater", "less_equal": "greater_equal", "greater": "less", "greater_equal": "less_equal",
            "equal": "equal", "not_equal": "not_equal"}


def _mixed_sign_comparison(name: str, texts: list[str], ins: tuple) -> str:
    """A signed integer against an unsigned one, exactly (NumPy's int64-uint64 loops): a
    negative one is less than every unsigned; the others compare as unsigned (Triton's own
    ``<`` converts both to unsigned, so -1 was 2**64 - 1)."""
    if ins[0].kind == "u":  # (a <op> b is b <swapped op> a)
        return _mixed_sign_comparison(_SWAPPED[name], texts[::-1], ins[::-1])
    signed, unsigned = texts
    as_unsigned = f"({signed}).to({tl_type(ins[1])})"
    compared = COMMON[name].format(as_unsigned, unsigned)
    if name in ("less", "less_equal", "not_equal"):
        return f"(({signed} < 0) | {compared})"
    return f"(({signed} >= 0) & {compared})"


def _lower_power(node: Node, args: list[Block], out: np.dtype) -> Block:
    exponent = node.args[1]
    if out.kind != "f":
        raise Unsupported("integer power")
    x = args[0].expr
    if not isinstance(exponent, Node) and float(exponent) in (1.0, 2.0):
        expr = x if float(exponent) == 1.0 else f"({x} * {x})"
    elif not isinstance(exponent, Node) and float(exponent) == 0.5 and out.itemsize >= 4:
        expr = _sqrt(x, out)  # NumPy's float32/64 loop takes sqrt: (-inf) ** 0.5 is NaN, not inf
    elif isinstance(exponent, Node) and all(d == 1 for d in exponent.meta.shape) and out.itemsize >= 4:
        # NumPy's loop takes sqrt for a stride-0 exponent of 0.5 (codegen/llvm/lowering.py)
        y = args[1].expr
        expr = f"tl.where({y} == 0.5, {_sqrt(x, out)}, libdevice.pow({x}, {y}))"
    else:
        expr = f"libdevice.pow({x}, {args[1].expr})"
    return cast(Block(expr, compute_dtype(out)), out)


def lower_elementwise(node: Node, values: list[Block | None]) -> Block:
    """The block of elementwise ``node``; ``values[i]`` is the block of ``node.args[i]`` when
    that argument is a Node, else None (the argument is a constant)."""
    name = node.op.name
    dtype = node.meta.dtype
    tl_type(dtype)
    if node.op.ufunc is not None:
        return lower_ufunc(node, values)
    if name == "where":
        cond = node.args[0]
        c = cast(typing.cast(Block, values[0]), BOOL) if isinstance(cond, Node) else constant(cond, BOOL)
        x, y = (_as_block(a, v, dtype) for a, v in zip(node.args[1:], values[1:], strict=True))
        return cast(Block(f"tl.where({c.expr}, {x.expr}, {y.expr})", compute_dtype(dtype)), dtype)
    if name in ("astype", "copy", "array"):
        # (an order= other than the layout this backend's outputs have: NumPy's call lays it out)
        if name == "astype" and set(node.kwargs) != {"dtype"} or name != "astype" and node.kwargs \
                or len(node.args) != 1:
            raise Unsupported(f"{name} arguments")
        return cast(values[0], dtype) if values[0] is not None else constant(node.args[0], dtype)
    if name == "clip":
        return _lower_clip(node, values, dtype)
    if name == "round" and node.kwargs.get("decimals", 0) == 0 and len(node.args) == 1:
        if dtype.kind != "f":
            return cast(typing.cast(Block, values[0]), dtype)
        x = _as_block(node.args[0], values[0], dtype)
        return cast(Block(f"libdevice.rint({x.expr})", compute_dtype(dtype)), dtype)
    raise Unsupported(name)


def _lower_clip(node: Node, values: list[Block | None], dtype: np.dtype) -> Block:
    if len(node.args) != 3 or node.kwargs:
        raise Unsupported("clip arguments")
    x = _as_block(node.args[0], values[0], dtype)
    expr = x.expr
    float_kind = dtype.kind == "f"
    try:
        low, high = clip_bounds(node.args[1], node.args[2], dtype)
    except OverflowError as error:
        raise Unsupported(f"clip: {error}") from None
    ties = clip_keeps_ties(node)
    for bound, value, name, keep in ((low, values[1], "maximum", ">="), (high, values[2], "minimum", "<=")):
        if bound is None:
            continue
        b = _as_block(bound, value, dtype).expr
        if float_kind and ties:  # a tie (or a NaN x) keeps x, a NaN bound is the result
            expr = f"tl.where(({expr} {keep} {b}) | ({expr} != {expr}), {expr}, {b})"
        else:
            expr = _nan_max(expr, b, name) if float_kind else f"tl.{name}({expr}, {b})"
    return cast(Block(expr, compute_dtype(dtype)), dtype)
