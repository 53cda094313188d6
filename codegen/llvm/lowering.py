"""Scalar lowering of elementwise ops to LLVM IR text, with NumPy's exact semantics.

Every op computes on NumPy's loop dtypes (``ufunc.resolve_dtypes``, NEP 50 weak Python
scalars), so promotion is NumPy's own. Rules that matter for equality with NumPy:

* + - * / and sqrt are IEEE-exact; no fast-math flags (no ``contract``: NumPy does not fuse
  multiply-add), so these are bit-identical to NumPy.
* ``maximum``/``minimum`` propagate NaN and return the second operand on ties, like NumPy's
  loops (``llvm.maxnum`` would drop NaN); ``fmax``/``fmin`` ignore NaN (``llvm.maxnum``).
* Integer ``floor_divide``/``remainder``/``fmod`` follow NumPy's signs, give 0 for a zero
  divisor, and never execute LLVM's undefined ``INT_MIN / -1``; shifts past the width give
  0 (or -1 for negative right shifts) as NumPy's do.
* Float-to-integer casts follow C's, as NumPy's loops do: in range they truncate toward zero;
  out of range (and NaN, inf) the result is what x86-64's truncating conversion gives there
  (``_float_to_integer``). Elsewhere, and to uint32/uint64 (whose out-of-range results differ
  between NumPy's own loops), they run through NumPy.

Bool values are ``i1`` in registers and bytes (0/1) in memory.
"""
from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...ir import Node
from ...ir.ops.elementwise import angle_factor
from ..common import clip_bounds, clip_keeps_ties
from .math import BINARY_LIBM, UNARY_LIBM, MathDeclarations, host_has
from .polynomials import exp_f32, exp_f64, sin_cos_f32


class Unsupported(Exception):
    """Raised while lowering something this backend does not do (the node goes extern)."""


REAL_DTYPES: frozenset[np.dtype] = frozenset(np.dtype(n) for n in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"))
# Elementwise kernels also take complex numbers: a pair { re, im } (NumPy's memory layout, so a
# load is one aggregate load, which LLVM splits into the two and vectorizes as interleaved).
LOWERED_DTYPES: frozenset[np.dtype] = REAL_DTYPES | {np.dtype("complex64"), np.dtype("complex128")}


def register_type(dtype: np.dtype) -> str:
    if dtype.kind == "b":
        return "i1"
    if dtype.kind == "f":
        return "float" if dtype.itemsize == 4 else "double"
    if dtype.kind == "c":
        part = register_type(_part(dtype))
        return f"{{ {part}, {part} }}"
    return f"i{dtype.itemsize * 8}"


def _part(dtype: np.dtype) -> np.dtype:
    """The float dtype of a complex dtype's real and imaginary parts."""
    return np.dtype(np.float32 if dtype.itemsize == 8 else np.float64)


def memory_type(dtype: np.dtype) -> str:
    return "i8" if dtype.kind == "b" else register_type(dtype)


def constant(value, dtype: np.dtype) -> str:
    """LLVM literal for ``value`` converted as NumPy converts a Python scalar to ``dtype``."""
    if dtype.kind == "b":
        return "true" if bool(value) else "false"
    if dtype.kind in "fc" and type(value) is int:
        value = float(value)  # as NumPy converts a Python int to a float array's type: through float64
    if dtype.kind == "c":
        number, part = complex(np.asarray(value).astype(dtype)), _part(dtype)
        ty = register_type(part)
        return f"{{ {ty} {constant(number.real, part)}, {ty} {constant(number.imag, part)} }}"
    if dtype.kind == "f":
        rounded = float(np.asarray(value).astype(dtype))
        bits = struct.unpack(">Q", struct.pack(">d", rounded))[0]
        return f"0x{bits:016X}"
    bits = dtype.itemsize * 8
    number = int(value) & ((1 << bits) - 1)
    return str(number - (1 << bits) if number >> (bits - 1) else number)


@dataclass(frozen=True, slots=True)
class Value:
    """An SSA value (or literal) of a NumPy dtype, in its register type."""

    ref: str
    dtype: np.dtype

    @property
    def ty(self) -> str:
        return register_type(self.dtype)


class Builder:
    """Appends instructions to a function body; names are fresh ``%tN``."""

    def __init__(self, decls: MathDeclarations):
        self.decls = decls
        self.lines: list[str] = []
        self.allocas: list[str] = []
        self.counter = 0
        # While a list: float32 sin/cos use own polynomials and append their in-range flags
        # here, and the kernel must rerun with libmvec where a flag is false (polynomials.py).
        self.range_checks: list[str] | None = None

    def fresh(self, stem: str = "t") -> str:
        self.counter += 1
        return f"%{stem}{self.counter}"

    def emit(self, text: str, stem: str = "t") -> str:
        name = self.fresh(stem)
        self.lines.append(f"  {name} = {text}")
        return name

    def line(self, text: str) -> None:
        self.lines.append(f"  {text}")

    def label(self, name: str) -> None:
        self.lines.append(f"{name[1:]}:")

    def alloca(self, ty: str) -> str:
        name = self.fresh("acc")
        self.allocas.append(f"  {name} = alloca {ty}")
        return name

    def branch(self, cond: str, if_true: Callable[[], None], if_false: Callable[[], None],
               stems: tuple[str, str] = ("then", "else")) -> None:
        """``if_true()`` where the i1 ``cond`` holds, else ``if_false()``; the two then join."""
        yes, no, after = self.fresh(stems[0]), self.fresh(stems[1]), self.fresh("after")
        self.line(f"br i1 {cond}, label {yes}, label {no}")
        for label, emit in ((yes, if_true), (no, if_false)):
            self.label(label)
            emit()
            self.line(f"br label {after}")
        self.label(after)

    def loop(self, lo: str, hi: str, body: Callable[[str], None],
             back_edge: Callable[[list[str]], str] = lambda lines: "", step: int = 1) -> None:
        """``for i in range(lo, hi, step): body(i)`` (the index in an alloca, promoted by
        mem2reg); ``back_edge(body's lines)`` may add metadata to the loop's back edge."""
        counter = self.alloca("i64")
        self.line(f"store i64 {lo}, ptr {counter}")
        head, loop, done = self.fresh("head"), self.fresh("body"), self.fresh("done")
        self.line(f"br label {head}")
        self.label(head)
        i = self.emit(f"load i64, ptr {counter}")
        self.line(f"br i1 {self.emit(f'icmp slt i64 {i}, {hi}')}, label {loop}, label {done}")
        self.label(loop)
        first = len(self.lines)
        body(i)
        self.line(f"store i64 {self.emit(f'add nsw i64 {i}, {step}')}, ptr {counter}")
        self.line(f"br label {head}{back_edge(self.lines[first:])}")
        self.label(done)

    def call_intrinsic(self, base: str, ty: str, args: list[str]) -> str:
        suffix = {"float": "f32", "double": "f64"}.get(ty, ty)
        name = self.decls.intrinsic(f"llvm.{base}.{suffix}", ty, [ty] * len(args))
        return self.emit(f"call {ty} @{name}({', '.join(f'{ty} {a}' for a in args)})")

    def libm(self, c_name: str, ty: str, args: list[str]) -> str:
        return self.emit(self.decls.libm_call(c_name, ty, args))

    def select(self, cond: str, ty: str, a: str, b: str) -> str:
        return self.emit(f"select i1 {cond}, {ty} {a}, {ty} {b}")


# ------------------------------------------------------------------------------ casts
def abs_i64(b: Builder, value: str) -> str:
    """|value| of an i64 (a byte stride)."""
    return b.emit(f"select i1 {b.emit(f'icmp slt i64 {value}, 0')}, i64 {b.emit(f'sub i64 0, {value}')}, i64 {value}")


def cast(b: Builder, value: Value, dtype: np.dtype) -> Value:
    """NumPy's unsafe cast of a scalar, for every pair except float -> uint32/uint64 (and float ->
    any integer off x86-64) and complex -> anything but complex and bool."""
    src, dst = value.dtype, np.dtype(dtype)
    if src == dst:
        return value
    if src.kind == "c" or dst.kind == "c":
        return _complex_cast(b, value, dst)
    sty, dty = register_type(src), register_type(dst)
    if dst.kind == "b":
        if src.kind == "f":
            return Value(b.emit(f"fcmp une {sty} {value.ref}, 0.0"), dst)
        return Value(b.emit(f"icmp ne {sty} {value.ref}, 0"), dst)
    if src.kind == "f" and dst.kind == "f":
        op = "fpext" if dst.itemsize > src.itemsize else "fptrunc"
        return Value(b.emit(f"{op} {sty} {value.ref} to {dty}"), dst)
    if src.kind == "f":
        return _float_to_integer(b, value, dst)
    signed = src.kind == "i"
    if dst.kind == "f":
        op = "sitofp" if signed else "uitofp"
        return Value(b.emit(f"{op} {sty} {value.ref} to {dty}"), dst)
    sbits, dbits = int(sty[1:]), int(dty[1:])
    if sbits == dbits:
        return Value(value.ref, dst)
    if dbits < sbits:
        return Value(b.emit(f"trunc {sty} {value.ref} to {dty}"), dst)
    return Value(b.emit(f"{'sext' if signed else 'zext'} {sty} {value.ref} to {dty}"), dst)


# Integer dtype -> the width of x86-64's truncating conversion (cvttss2si/cvttsd2si) a C cast
# to it compiles to: out of range, NaN and inf give that width's minimum, whose low bits the
# narrower types keep (300.7 -> int8 44, 1e10 -> uint8 0, NaN -> int32 -2**31). NumPy's
# contiguous, SIMD-width and strided casts all gave exactly these here; to uint32 and uint64 its
# loops disagree with each other out of range, so those stay NumPy's.
_TRUNCATING_WIDTH = {"int8": 32, "uint8": 32, "int16": 32, "uint16": 32, "int32": 32, "int64": 64}


def _float_to_integer(b: Builder, value: Value, dst: np.dtype) -> Value:
    src = value.dtype
    if src.itemsize not in (4, 8) or dst.name not in _TRUNCATING_WIDTH or not _x86_64():
        raise Unsupported(f"{src} to {dst} cast (NumPy's result out of range is the platform's)")
    width = _TRUNCATING_WIDTH[dst.name]
    ty, wide, least = register_type(src), f"i{width}", -(2 ** (width - 1))
    above = b.emit(f"fcmp oge {ty} {value.ref}, {constant(float(least), src)}")
    below = b.emit(f"fcmp olt {ty} {value.ref}, {constant(-float(least), src)}")
    inside = b.emit(f"and i1 {above}, {below}")
    safe = b.emit(f"select i1 {inside}, {ty} {value.ref}, {ty} 0.0")  # (fptosi out of range is poison)
    result = b.emit(f"select i1 {inside}, {wide} {b.emit(f'fptosi {ty} {safe} to {wide}')}, {wide} {least}")
    narrow = register_type(dst)
    return Value(result if narrow == wide else b.emit(f"trunc {wide} {result} to {narrow}"), dst)


@functools.cache
def _x86_64() -> bool:
    import platform  # (only here: ~8 ms to import)

    return platform.machine().lower() in ("x86_64", "amd64")


def parts(b: Builder, value: Value) -> tuple[Value, Value]:
    """The real and imaginary parts of a complex value."""
    part = _part(value.dtype)
    return (Value(b.emit(f"extractvalue {value.ty} {value.ref}, 0"), part),
            Value(b.emit(f"extractvalue {value.ty} {value.ref}, 1"), part))


def pair(b: Builder, re: str, im: str, dtype: np.dtype) -> str:
    """The complex value of ``dtype`` with parts ``re`` and ``im`` (of its part's type)."""
    ty, part = register_type(dtype), register_type(_part(dtype))
    first = b.emit(f"insertvalue {ty} poison, {part} {re}, 0")
    return b.emit(f"insertvalue {ty} {first}, {part} {im}, 1")


def _complex_cast(b: Builder, value: Value, dst: np.dtype) -> Value:
    src = value.dtype
    if src.kind == "c" and dst.kind == "c":
        re, im = parts(b, value)
        return Value(pair(b, cast(b, re, _part(dst)).ref, cast(b, im, _part(dst)).ref, dst), dst)
    if src.kind == "c" and dst.kind == "b":  # NumPy: nonzero if either part is
        re, im = parts(b, value)
        nonzero = [b.emit(f"fcmp une {part.ty} {part.ref}, 0.0") for part in (re, im)]
        return Value(b.emit(f"or i1 {nonzero[0]}, {nonzero[1]}"), dst)
    if src.kind == "c":
        raise Unsupported("complex to real cast (NumPy drops the imaginary part with a warning)")
    re = cast(b, value, _part(dst))
    return Value(pair(b, re.ref, "0.0", dst), dst)


def truth(b: Builder, value: Value) -> Value:
    return cast(b, value, np.dtype(bool))


def as_value(b: Builder, arg, dtype: np.dtype) -> Value:
    """An argument (Value or Python/NumPy scalar constant) converted to ``dtype``."""
    if isinstance(arg, Value):
        return cast(b, arg, dtype)
    if dtype.kind in "iu" and isinstance(arg, float | np.floating):
        raise Unsupported("float constant into an integer loop")
    if dtype.kind in "iu" and type(arg) is int and not np.iinfo(dtype).min <= arg <= np.iinfo(dtype).max:
        # NumPy compares an array with a Python int outside its dtype exactly (uint8 < -1 is
        # False), where the converted constant would wrap; arithmetic with one raises before.
        raise Unsupported("a Python int outside the integer loop's range")
    return Value(constant(arg, dtype), dtype)


# ------------------------------------------------------------------------------ op table
Lowering = Callable[..., str]
ARITH: dict[str, dict[str, Lowering]] = {}


def rule(name: str, kinds: str):
    """Register a lowering of op ``name`` for loop dtypes of the given kinds (b, i, u, f)."""
    def register(fn: Lowering) -> Lowering:
        for kind in kinds:
            ARITH.setdefault(name, {})[kind] = fn
        return fn
    return register


def _binary(op_f: str, op_i: str | None = None, op_b: str | None = None):
    def lower(b: Builder, dt: np.dtype, x: Value, y: Value) -> str:
        op = {"f": op_f, "i": op_i, "u": op_i, "b": op_b}[dt.kind]
        return b.emit(f"{op} {x.ty} {x.ref}, {y.ref}")
    return lower


rule("add", "f")(_binary("fadd"))
rule("add", "iu")(_binary("", "add"))
rule("add", "b")(_binary("", None, "or"))
rule("subtract", "f")(_binary("fsub"))
rule("subtract", "iu")(_binary("", "sub"))
rule("multiply", "f")(_binary("fmul"))
rule("multiply", "iu")(_binary("", "mul"))
rule("multiply", "b")(_binary("", None, "and"))
rule("divide", "f")(_binary("fdiv"))
rule("bitwise_and", "iub")(_binary("", "and", "and"))
rule("bitwise_or", "iub")(_binary("", "or", "or"))
rule("bitwise_xor", "iub")(_binary("", "xor", "xor"))
rule("fmod", "f")(_binary("frem"))


@rule("square", "fiu")
def _square(b, dt, x):
    return b.emit(f"{'fmul' if dt.kind == 'f' else 'mul'} {x.ty} {x.ref}, {x.ref}")


@rule("negative", "f")
def _fneg(b, dt, x):
    return b.emit(f"fneg {x.ty} {x.ref}")


@rule("negative", "iu")
def _ineg(b, dt, x):
    return b.emit(f"sub {x.ty} 0, {x.ref}")


@rule("positive", "fiu")
@rule("conjugate", "fiub")
def _identity(b, dt, x):
    return x.ref


@rule("absolute", "f")
def _fabs(b, dt, x):
    return b.call_intrinsic("fabs", x.ty, [x.ref])


@rule("absolute", "i")
def _iabs(b, dt, x):
    negative = b.emit(f"icmp slt {x.ty} {x.ref}, 0")
    return b.select(negative, x.ty, b.emit(f"sub {x.ty} 0, {x.ref}"), x.ref)


rule("absolute", "ub")(_identity)


for _name in ("deg2rad", "rad2deg"):
    rule(_name, "f")(lambda b, dt, x, _n=_name: b.emit(f"fmul {x.ty} {x.ref}, {constant(angle_factor(_n, dt), dt)}"))


@rule("sqrt", "f")
def _sqrt(b, dt, x):
    return b.call_intrinsic("sqrt", x.ty, [x.ref])


for _name, _intrinsic in (("floor", "floor"), ("ceil", "ceil"), ("trunc", "trunc"), ("rint", "roundeven")):
    rule(_name, "f")(lambda b, dt, x, _i=_intrinsic: b.call_intrinsic(_i, x.ty, [x.ref]))
    rule(_name, "iub")(_identity)

for _name, _c in UNARY_LIBM.items():
    rule(_name, "f")(lambda b, dt, x, _c=_c: b.libm(_c, x.ty, [x.ref]))



def _sin_cos(name: str):
    def lower(b, dt, x):
        if dt.itemsize != 4 or b.range_checks is None:
            return b.libm(name, x.ty, [x.ref])
        value, in_range = sin_cos_f32(b, x.ref, cosine=name == "cos")
        b.range_checks.append(in_range)
        return value
    return lower


rule("sin", "f")(_sin_cos("sin"))
rule("cos", "f")(_sin_cos("cos"))


@rule("exp", "f")
def _exp(b, dt, x):
    # float32: own polynomial (polynomials.py), ~2x libmvec's throughput and < 1.01 ulp.
    return exp_f32(b, x.ref) if dt.itemsize == 4 else exp_f64(b, x.ref)
for _name, _c in BINARY_LIBM.items():
    rule(_name, "f")(lambda b, dt, x, y, _c=_c: b.libm(_c, x.ty, [x.ref, y.ref]))


@rule("copysign", "f")
def _copysign(b, dt, x, y):
    return b.call_intrinsic("copysign", x.ty, [x.ref, y.ref])


@rule("reciprocal", "f")
def _reciprocal(b, dt, x):
    return b.emit(f"fdiv {x.ty} {constant(1.0, dt)}, {x.ref}")


def _nan_max(pick_first: str):
    # NumPy: (a <op> b || isnan(a)) ? a : b  -- NaN propagates, ties give b.
    def lower(b, dt, x, y):
        if dt.kind == "b":
            return b.emit(f"{'or' if pick_first == 'ogt' else 'and'} i1 {x.ref}, {y.ref}")
        if dt.kind == "f":
            return _clip_step(b, pick_first, x, y)
        else:
            cmp = {"ogt": "gt", "olt": "lt", "oge": "ge", "ole": "le"}[pick_first]
            keep = b.emit(f"icmp {'s' if dt.kind == 'i' else 'u'}{cmp} {x.ty} {x.ref}, {y.ref}")
        return b.select(keep, x.ty, x.ref, y.ref)
    return lower


rule("maximum", "fiub")(_nan_max("ogt"))
rule("minimum", "fiub")(_nan_max("olt"))
rule("fmax", "f")(lambda b, dt, x, y: b.call_intrinsic("maxnum", x.ty, [x.ref, y.ref]))
rule("fmin", "f")(lambda b, dt, x, y: b.call_intrinsic("minnum", x.ty, [x.ref, y.ref]))
rule("fmax", "iub")(_nan_max("ogt"))
rule("fmin", "iub")(_nan_max("olt"))

_COMPARE = {"equal": ("oeq", "eq"), "not_equal": ("une", "ne"), "less": ("olt", "lt"),
            "less_equal": ("ole", "le"), "greater": ("ogt", "gt"), "greater_equal": ("oge", "ge")}
for _name, (_f, _i) in _COMPARE.items():
    rule(_name, "f")(lambda b, dt, x, y, _f=_f: b.emit(f"fcmp {_f} {x.ty} {x.ref}, {y.ref}"))
    for _kind, _prefix in (("i", "s"), ("u", "u"), ("b", "u")):
        _op = _i if _i in ("eq", "ne") else _prefix + _i
        rule(_name, _kind)(lambda b, dt, x, y, _op=_op: b.emit(f"icmp {_op} {x.ty} {x.ref}, {y.ref}"))

for _name, _op in (("logical_and", "and"), ("logical_or", "or"), ("logical_xor", "xor")):
    rule(_name, "fiub")(lambda b, dt, x, y, _op=_op: b.emit(
        f"{_op} i1 {truth(b, x).ref}, {truth(b, y).ref}"))


@rule("logical_not", "fiub")
def _logical_not(b, dt, x):
    return b.emit(f"xor i1 {truth(b, x).ref}, true")


@rule("invert", "iub")
def _invert(b, dt, x):
    return b.emit(f"xor {x.ty} {x.ref}, {'true' if dt.kind == 'b' else -1}")


@rule("isnan", "f")
def _isnan(b, dt, x):
    return b.emit(f"fcmp uno {x.ty} {x.ref}, 0.0")


@rule("isinf", "f")
def _isinf(b, dt, x):
    return b.emit(f"fcmp oeq {x.ty} {_fabs(b, dt, x)}, {constant(np.inf, dt)}")


@rule("isfinite", "f")
def _isfinite(b, dt, x):
    return b.emit(f"fcmp olt {x.ty} {_fabs(b, dt, x)}, {constant(np.inf, dt)}")


rule("isnan", "iub")(lambda b, dt, x: "false")
rule("isinf", "iub")(lambda b, dt, x: "false")
rule("isfinite", "iub")(lambda b, dt, x: "true")


@rule("signbit", "f")
def _signbit(b, dt, x):
    ity = f"i{dt.itemsize * 8}"
    return b.emit(f"icmp slt {ity} {b.emit(f'bitcast {x.ty} {x.ref} to {ity}')}, 0")


@rule("sign", "f")
def _fsign(b, dt, x):
    # NumPy: x > 0 ? 1 : (x < 0 ? -1 : (x == 0 ? 0 : x))
    is_zero = b.emit(f"fcmp oeq {x.ty} {x.ref}, 0.0")
    zero_or_nan = b.select(is_zero, x.ty, constant(0.0, dt), x.ref)
    negative = b.emit(f"fcmp olt {x.ty} {x.ref}, 0.0")
    below = b.select(negative, x.ty, constant(-1.0, dt), zero_or_nan)
    positive = b.emit(f"fcmp ogt {x.ty} {x.ref}, 0.0")
    return b.select(positive, x.ty, constant(1.0, dt), below)


@rule("sign", "iu")
def _isign(b, dt, x):
    prefix = "s" if dt.kind == "i" else "u"
    positive = b.emit(f"zext i1 {b.emit(f'icmp {prefix}gt {x.ty} {x.ref}, 0')} to {x.ty}")
    negative = b.emit(f"zext i1 {b.emit(f'icmp slt {x.ty} {x.ref}, 0')} to {x.ty}") if dt.kind == "i" else "0"
    return b.emit(f"sub {x.ty} {positive}, {negative}")


def _float_divmod(b: Builder, dt: np.dtype, a: Value, d: Value) -> tuple[str, str]:
    """NumPy's npy_divmod for floats: (floor quotient, remainder with the divisor's sign)."""
    ty = a.ty
    zero, one = constant(0.0, dt), constant(1.0, dt)
    mod = b.emit(f"frem {ty} {a.ref}, {d.ref}")
    div = b.emit(f"fdiv {ty} {b.emit(f'fsub {ty} {a.ref}, {mod}')}, {d.ref}")
    mod_nonzero = b.emit(f"fcmp une {ty} {mod}, {zero}")
    d_neg = b.emit(f"fcmp olt {ty} {d.ref}, {zero}")
    mod_neg = b.emit(f"fcmp olt {ty} {mod}, {zero}")
    fix = b.emit(f"and i1 {mod_nonzero}, {b.emit(f'xor i1 {d_neg}, {mod_neg}')}")
    mod = b.select(fix, ty, b.emit(f"fadd {ty} {mod}, {d.ref}"), mod)
    div = b.select(fix, ty, b.emit(f"fsub {ty} {div}, {one}"), div)
    signed_zero = b.call_intrinsic("copysign", ty, [zero, d.ref])
    mod = b.select(mod_nonzero, ty, mod, signed_zero)
    floordiv = b.call_intrinsic("floor", ty, [div])
    over = b.emit(f"fcmp ogt {ty} {b.emit(f'fsub {ty} {div}, {floordiv}')}, {constant(0.5, dt)}")
    floordiv = b.select(over, ty, b.emit(f"fadd {ty} {floordiv}, {one}"), floordiv)
    quotient = b.emit(f"fdiv {ty} {a.ref}, {d.ref}")
    div_nonzero = b.emit(f"fcmp une {ty} {div}, {zero}")
    floordiv = b.select(div_nonzero, ty, floordiv, b.call_intrinsic("copysign", ty, [zero, quotient]))
    d_zero = b.emit(f"fcmp oeq {ty} {d.ref}, {zero}")
    floordiv = b.select(d_zero, ty, quotient, floordiv)
    plain_mod = b.emit(f"frem {ty} {a.ref}, {d.ref}")
    mod = b.select(d_zero, ty, plain_mod, mod)
    return floordiv, mod


rule("floor_divide", "f")(lambda b, dt, x, y: _float_divmod(b, dt, x, y)[0])
rule("remainder", "f")(lambda b, dt, x, y: _float_divmod(b, dt, x, y)[1])


def _int_division(kind: str):
    def lower(b, dt, x, y):
        ty = x.ty
        signed = dt.kind == "i"
        is_zero = b.emit(f"icmp eq {ty} {y.ref}, 0")
        if signed:
            minus_one = b.emit(f"icmp eq {ty} {y.ref}, -1")
            unsafe = b.emit(f"or i1 {is_zero}, {minus_one}")
        else:
            unsafe = is_zero
        safe = b.select(unsafe, ty, "1", y.ref)
        q = b.emit(f"{'sdiv' if signed else 'udiv'} {ty} {x.ref}, {safe}")
        r = b.emit(f"{'srem' if signed else 'urem'} {ty} {x.ref}, {safe}")
        if signed and kind != "fmod":
            r_nonzero = b.emit(f"icmp ne {ty} {r}, 0")
            differ = b.emit(f"xor i1 {b.emit(f'icmp slt {ty} {r}, 0')}, {b.emit(f'icmp slt {ty} {safe}, 0')}")
            fix = b.emit(f"and i1 {r_nonzero}, {differ}")
            q = b.select(fix, ty, b.emit(f"sub {ty} {q}, 1"), q)
            r = b.select(fix, ty, b.emit(f"add {ty} {r}, {safe}"), r)
        if kind == "floor_divide":
            result = q
            if signed:  # x // -1 == -x (wrapping, as NumPy gives INT_MIN // -1 == INT_MIN)
                result = b.select(minus_one, ty, b.emit(f"sub {ty} 0, {x.ref}"), result)
        else:
            result = r
            if signed:
                result = b.select(minus_one, ty, "0", result)
        return b.select(is_zero, ty, "0", result)
    return lower


rule("floor_divide", "iu")(_int_division("floor_divide"))
rule("remainder", "iu")(_int_division("remainder"))
rule("fmod", "iu")(_int_division("fmod"))


def _shift(direction: str):
    def lower(b, dt, x, y):
        ty, bits = x.ty, dt.itemsize * 8
        in_range = b.emit(f"icmp ult {ty} {y.ref}, {bits}")
        if direction == "left":
            shifted, fallback = b.emit(f"shl {ty} {x.ref}, {y.ref}"), "0"
        elif dt.kind == "i":
            shifted = b.emit(f"ashr {ty} {x.ref}, {y.ref}")
            fallback = b.emit(f"ashr {ty} {x.ref}, {bits - 1}")
        else:
            shifted, fallback = b.emit(f"lshr {ty} {x.ref}, {y.ref}"), "0"
        return b.select(in_range, ty, shifted, fallback)
    return lower


rule("left_shift", "iu")(_shift("left"))
rule("right_shift", "iu")(_shift("right"))


@rule("logaddexp", "f")
def _logaddexp(b, dt, x, y):
    ty = x.ty
    diff = b.emit(f"fsub {ty} {x.ref}, {y.ref}")
    neg_abs = b.emit(f"fneg {ty} {b.call_intrinsic('fabs', ty, [diff])}")
    tail = b.libm("log1p", ty, [b.libm("exp", ty, [neg_abs])])
    result = b.select(b.emit(f"fcmp ole {ty} {diff}, 0.0"), ty, b.emit(f"fadd {ty} {y.ref}, {tail}"), diff)
    result = b.select(b.emit(f"fcmp ogt {ty} {diff}, 0.0"), ty, b.emit(f"fadd {ty} {x.ref}, {tail}"), result)
    same = b.emit(f"fcmp oeq {ty} {x.ref}, {y.ref}")
    return b.select(same, ty, b.emit(f"fadd {ty} {x.ref}, {constant(np.log(2.0), dt)}"), result)


# ------------------------------------------------------------------------------ nodes
# --- complex numbers: NumPy's formulas (numpy/_core/src/umath/loops.c.src), part by part

def _complex_parts(op: str):
    def lower(b: Builder, dt: np.dtype, x: Value, y: Value) -> str:
        (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
        return pair(b, b.emit(f"{op} {xr.ty} {xr.ref}, {yr.ref}"), b.emit(f"{op} {xi.ty} {xi.ref}, {yi.ref}"), dt)
    return lower


rule("add", "c")(_complex_parts("fadd"))
rule("subtract", "c")(_complex_parts("fsub"))


def _product(b: Builder, dt: np.dtype, x: Value, y: Value) -> str:
    """(xr*yr - xi*yi) + (xr*yi + xi*yr)j as NumPy's loops compute it: with FMA where the CPU
    has it (their SIMD dispatch takes it, contiguous or not), the first product of each part
    fused, else every product rounded."""
    (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
    ty = xr.ty

    def mul(p: Value, q: Value) -> str:
        return b.emit(f"fmul {ty} {p.ref}, {q.ref}")
    if host_has("fma"):
        re = b.call_intrinsic("fma", ty, [xr.ref, yr.ref, b.emit(f"fneg {ty} {mul(xi, yi)}")])
        im = b.call_intrinsic("fma", ty, [xr.ref, yi.ref, mul(xi, yr)])
    else:
        re = b.emit(f"fsub {ty} {mul(xr, yr)}, {mul(xi, yi)}")
        im = b.emit(f"fadd {ty} {mul(xr, yi)}, {mul(xi, yr)}")
    return pair(b, re, im, dt)


rule("multiply", "c")(_product)
rule("square", "c")(lambda b, dt, x: _product(b, dt, x, x))


@rule("divide", "c")
def _complex_divide(b, dt, x, y):
    """Smith's method, NumPy's branches: by the larger part of y; y == 0 divides each part by
    |yr| (inf or nan, as NumPy)."""
    (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
    ty = xr.ty

    def op(name: str, p: str, q: str) -> str:
        return b.emit(f"{name} {ty} {p}, {q}")
    abs_r, abs_i = b.call_intrinsic("fabs", ty, [yr.ref]), b.call_intrinsic("fabs", ty, [yi.ref])
    # |yr| >= |yi| (false where either is NaN: NumPy's else branch)
    ratio_r = op("fdiv", yi.ref, yr.ref)
    scale_r = op("fdiv", "1.0", op("fadd", yr.ref, op("fmul", yi.ref, ratio_r)))
    real_r = op("fmul", op("fadd", xr.ref, op("fmul", xi.ref, ratio_r)), scale_r)
    imag_r = op("fmul", op("fsub", xi.ref, op("fmul", xr.ref, ratio_r)), scale_r)
    zero = b.emit(f"and i1 {b.emit(f'fcmp oeq {ty} {abs_r}, 0.0')}, {b.emit(f'fcmp oeq {ty} {abs_i}, 0.0')}")
    real_r = b.select(zero, ty, op("fdiv", xr.ref, abs_r), real_r)
    imag_r = b.select(zero, ty, op("fdiv", xi.ref, abs_r), imag_r)
    # |yr| < |yi|
    ratio_i = op("fdiv", yr.ref, yi.ref)
    scale_i = op("fdiv", "1.0", op("fadd", yi.ref, op("fmul", yr.ref, ratio_i)))
    real_i = op("fmul", op("fadd", op("fmul", xr.ref, ratio_i), xi.ref), scale_i)
    imag_i = op("fmul", op("fsub", op("fmul", xi.ref, ratio_i), xr.ref), scale_i)
    larger_r = b.emit(f"fcmp oge {ty} {abs_r}, {abs_i}")
    return pair(b, b.select(larger_r, ty, real_r, real_i), b.select(larger_r, ty, imag_r, imag_i), dt)


@rule("negative", "c")
def _complex_negative(b, dt, x):
    re, im = parts(b, x)
    return pair(b, b.emit(f"fneg {re.ty} {re.ref}"), b.emit(f"fneg {im.ty} {im.ref}"), dt)


@rule("conjugate", "c")
def _conjugate(b, dt, x):
    re, im = parts(b, x)
    return pair(b, re.ref, b.emit(f"fneg {im.ty} {im.ref}"), dt)


rule("positive", "c")(lambda b, dt, x: x.ref)


@rule("absolute", "c")
def _complex_absolute(b, dt, x):
    """NumPy's SIMD loop (loops_unary_complex): larger * sqrt(1 + (smaller/larger)**2), an
    infinite part making it inf and a NaN part NaN; not libm's hypot, which rounds otherwise."""
    re, im = parts(b, x)
    ty, part = re.ty, re.dtype
    inf, nan = constant(np.inf, part), constant(np.nan, part)
    re, im = b.call_intrinsic("fabs", ty, [re.ref]), b.call_intrinsic("fabs", ty, [im.ref])
    re_inf, im_inf = b.emit(f"fcmp oeq {ty} {re}, {inf}"), b.emit(f"fcmp oeq {ty} {im}, {inf}")
    im, re = b.select(re_inf, ty, inf, im), b.select(im_inf, ty, inf, re)
    re_number, im_number = b.emit(f"fcmp ord {ty} {re}, 0.0"), b.emit(f"fcmp ord {ty} {im}, 0.0")
    im, re = b.select(re_number, ty, im, nan), b.select(im_number, ty, re, nan)
    larger = b.select(b.emit(f"fcmp ogt {ty} {re}, {im}"), ty, re, im)
    smaller = b.select(b.emit(f"fcmp olt {ty} {im}, {re}"), ty, im, re)
    skip = b.emit(f"or i1 {b.emit(f'fcmp oeq {ty} {larger}, 0.0')}, {b.emit(f'fcmp oeq {ty} {smaller}, {inf}')}")
    ratio = b.select(skip, ty, "0.0", b.emit(f"fdiv {ty} {smaller}, {larger}"))
    if host_has("fma"):
        inside = b.call_intrinsic("fma", ty, [ratio, ratio, "1.0"])
    else:
        inside = b.emit(f"fadd {ty} {b.emit(f'fmul {ty} {ratio}, {ratio}')}, 1.0")
    return b.emit(f"fmul {ty} {b.call_intrinsic('sqrt', ty, [inside])}, {larger}")


@rule("exp", "c")
def _complex_exp(b, dt, x):
    """libm's cexp/cexpf, as NumPy's (npy_cexp), called by the x86-64 C ABI: a double complex in
    two registers and back as a pair, a float complex packed in one vector register."""
    if not _x86_64():
        raise Unsupported("complex exp outside x86-64 (another C ABI for complex arguments)")
    if dt.itemsize == 16:
        b.decls.declarations.setdefault("cexp", "declare { double, double } @cexp(double, double) #0")
        re, im = parts(b, x)
        return b.emit(f"call {{ double, double }} @cexp(double {re.ref}, double {im.ref}) #0")
    b.decls.declarations.setdefault("cexpf", "declare <2 x float> @cexpf(<2 x float>) #0")
    re, im = parts(b, x)
    packed = b.emit(f"insertelement <2 x float> {b.emit(f'insertelement <2 x float> poison, float {re.ref}, i32 0')}, "
                    f"float {im.ref}, i32 1")
    result = b.emit(f"call <2 x float> @cexpf(<2 x float> {packed}) #0")
    return pair(b, b.emit(f"extractelement <2 x float> {result}, i32 0"),
                b.emit(f"extractelement <2 x float> {result}, i32 1"), dt)


def _either_part(test: str, joint: str):
    def lower(b: Builder, dt: np.dtype, x: Value) -> str:
        re, im = parts(b, x)
        return b.emit(f"{joint} i1 {ARITH[test]['f'](b, re.dtype, re)}, {ARITH[test]['f'](b, im.dtype, im)}")
    return lower


rule("isnan", "c")(_either_part("isnan", "or"))
rule("isinf", "c")(_either_part("isinf", "or"))
rule("isfinite", "c")(_either_part("isfinite", "and"))


def _compare_parts(test: str, joint: str):
    def lower(b: Builder, dt: np.dtype, x: Value, y: Value) -> str:
        (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
        return b.emit(f"{joint} i1 {b.emit(f'fcmp {test} {xr.ty} {xr.ref}, {yr.ref}')}, "
                      f"{b.emit(f'fcmp {test} {xi.ty} {xi.ref}, {yi.ref}')}")
    return lower


rule("equal", "c")(_compare_parts("oeq", "and"))
rule("not_equal", "c")(_compare_parts("une", "or"))


def _loop_dtypes(node: Node) -> tuple[np.dtype, ...]:
    ufunc = node.op.ufunc
    assert ufunc is not None  # only called for ufunc nodes (lower_elementwise)
    operands: list[np.dtype | type] = []
    for arg in node.args:
        if isinstance(arg, Node):
            operands.append(arg.meta.dtype)
        elif isinstance(arg, bool | np.bool_):
            operands.append(np.dtype(bool))
        elif isinstance(arg, np.generic):
            operands.append(arg.dtype)
        elif isinstance(arg, int | float):
            operands.append(type(arg))
        else:
            raise Unsupported(f"argument {arg!r}")
    return tuple(ufunc.resolve_dtypes(tuple(operands) + (None,) * ufunc.nout))


def lower_elementwise(b: Builder, node: Node, args: list) -> Value:
    """Lower one elementwise node; ``args`` holds a Value for each Node argument and the
    constant itself otherwise. Raises Unsupported for anything not handled exactly."""
    out = node.meta.dtype
    if out not in LOWERED_DTYPES:
        raise Unsupported(f"dtype {out}")
    name = node.op.name
    if node.op.ufunc is not None:
        if node.kwargs or len(args) != node.op.ufunc.nin or node.op.ufunc.nout != 1:
            raise Unsupported("ufunc keyword arguments")
        loop = _loop_dtypes(node)
        if any(d not in LOWERED_DTYPES for d in loop):
            raise Unsupported(f"loop dtypes {loop}")
        impl = ARITH.get(name, {}).get(loop[0].kind)
        if impl is None or any(d.kind != loop[0].kind for d in loop[:-1]):
            raise Unsupported(f"{name} on {loop}")
        values = [as_value(b, a, d) for a, d in zip(args, loop, strict=False)]
        if name == "power" and not isinstance(node.args[1], Node) and float(node.args[1]) in (1.0, 2.0):
            ref = values[0].ref if float(node.args[1]) == 1.0 else _square(b, loop[0], values[0])
        elif name == "power" and loop[0].kind == "f" and _one_exponent(node.args[1]):
            ref = _power_of_one_exponent(b, loop[0], *values)
        elif name == "power" and loop[0].kind == "f" and (n := _small_integer(node.args[1], loop[0])):
            ref = _integer_power(b, values[0], n)
        else:
            ref = impl(b, loop[0], *values)
        return cast(b, Value(ref, loop[-1]), out)
    return _lower_special(b, node, args, out)


def power_multiplies(node: Node) -> bool:
    """Whether ``power`` node's constant exponent makes ``lower_elementwise`` multiply (1, 2, or
    what ``_integer_power`` takes) rather than call libm's pow."""
    exponent = node.args[1]
    if isinstance(exponent, Node | bool | np.bool_) or not isinstance(exponent, int | float | np.number):
        return False
    return float(exponent) in (1.0, 2.0) or _small_integer(exponent, node.meta.dtype) is not None


def _one_exponent(exponent: object) -> bool:
    """An exponent NumPy's power loop sees with stride 0 that may be 0.5: a 0-d value or one of
    size-1 axes only, or the constant 0.5 itself (``x ** np.float64(0.5)`` of float32 x, which no
    rewrite turns into sqrt: the loop is float64). Other constants multiply or call pow."""
    if isinstance(exponent, Node):
        return all(d == 1 for d in exponent.meta.shape)
    return isinstance(exponent, int | float | np.integer | np.floating) and exponent == 0.5


def _small_integer(exponent: object, dt: np.dtype) -> int | None:
    """A constant exponent that ``_integer_power`` takes: 3..8 (float64 without FMA: 3..4)."""
    if isinstance(exponent, Node | bool | np.bool_) or not isinstance(exponent, int | float | np.number):
        return None
    n = int(exponent) if float(exponent).is_integer() else 0
    return n if 3 <= n <= (8 if dt.itemsize == 4 or host_has("fma") else 4) else None


def _integer_power(b: Builder, x: Value, n: int) -> str:
    """x**n by multiplying, where NumPy calls pow (8x the time, through libmvec), within half an
    ulp as pow nearly is: float32 in double, rounded once; float64 carries each product's rounding
    error (an FMA gives it exactly) and adds it at the end. Without FMA, float64 squares (n <= 4:
    2 ulp). Infinities, NaN and signed zeros come out as pow's (tests/codegen/test_ulp.py)."""
    if x.dtype.itemsize == 4 or not host_has("fma"):
        wide = cast(b, x, np.dtype("float64"))
        result, base = "", wide.ref
        while n:
            if n & 1:
                result = b.emit(f"fmul double {result}, {base}") if result else base
            n >>= 1
            if n:
                base = b.emit(f"fmul double {base}, {base}")
        return cast(b, Value(result, wide.dtype), x.dtype).ref
    high, low = x.ref, "0.0"
    for _ in range(n - 1):
        product = b.emit(f"fmul double {high}, {x.ref}")
        error = b.call_intrinsic("fma", "double", [high, x.ref, b.emit(f"fneg double {product}")])
        high, low = product, b.call_intrinsic("fma", "double", [low, x.ref, error])
    # The low part is NaN or infinite once a product overflows (inf - inf in the last error term),
    # and 0 where it must not flip a zero's sign: it counts only next to a finite product.
    finite = b.emit(f"fcmp olt double {b.call_intrinsic('fabs', 'double', [high])}, {constant(np.inf, x.dtype)}")
    tells = b.emit(f"and i1 {finite}, {b.emit(f'fcmp one double {low}, 0.0')}")
    return b.select(tells, "double", b.emit(f"fadd double {high}, {low}"), high)


def _power_of_one_exponent(b: Builder, dt: np.dtype, x: Value, y: Value) -> str:
    """NumPy's float power loop takes sqrt for a stride-0 exponent of 0.5 and pow otherwise
    (they differ at -inf and -0.0)."""
    half = b.emit(f"fcmp oeq {y.ty} {y.ref}, {constant(0.5, dt)}")
    root = b.call_intrinsic("sqrt", x.ty, [x.ref])
    return b.select(half, x.ty, root, ARITH["power"]["f"](b, dt, x, y))


def _lays_out(node: Node) -> bool:
    """Whether the wrapper lays out this copy's output as NumPy would: it reads NumPy's layout off
    the reference run on a corner of the operands (codegen/layouts.py), which keeps their axis
    order but not their contiguity, so order='A' (F if the operand is F-contiguous) is NumPy's."""
    return node.kwargs.get("order", "K") in ("K", "C", "F")


def _lower_special(b: Builder, node: Node, args: list, out: np.dtype) -> Value:
    name = node.op.name
    if any(isinstance(a, Value) and a.dtype.kind == "c" for a in args) and name not in ("where", "astype", "copy",
                                                                                     "array"):
        raise Unsupported(f"{name} of complex numbers")
    if name == "where" and len(args) == 3 and not node.kwargs:
        cond = truth(b, as_value(b, args[0], np.dtype(bool)) if not isinstance(args[0], Value) else args[0])
        x, y = as_value(b, args[1], out), as_value(b, args[2], out)
        return Value(b.select(cond.ref, x.ty, x.ref, y.ref), out)
    if name == "astype":
        dtype = np.dtype(node.kwargs["dtype"] if "dtype" in node.kwargs else node.args[1])
        if (dtype != out or not isinstance(args[0], Value) or len(set(node.kwargs) - {"order"}) + len(args) > 2
                or not _lays_out(node)):
            raise Unsupported("astype parameters")
        return cast(b, args[0], out)
    if name == "copy" and len(args) == 1 and set(node.kwargs) <= {"order"} and isinstance(args[0], Value) \
            and _lays_out(node):
        return cast(b, args[0], out)
    if name == "array" and len(args) == 1 and not node.kwargs and isinstance(args[0], Value):
        return cast(b, args[0], out)
    if name == "round":
        decimals = node.kwargs.get("decimals", args[1] if len(args) > 1 else 0)
        if set(node.kwargs) - {"decimals"} or not isinstance(args[0], Value) or decimals != 0:
            raise Unsupported("round parameters")
        x = cast(b, args[0], out)
        return Value(b.call_intrinsic("roundeven", x.ty, [x.ref]) if out.kind == "f" else x.ref, out)
    if name == "clip" and len(args) == 3 and not node.kwargs:
        x = as_value(b, args[0], out)
        try:
            low, high = clip_bounds(args[1], args[2], out)
        except OverflowError as error:
            raise Unsupported(f"clip: {error}") from None
        ties = clip_keeps_ties(node)
        for bound, op in ((low, "oge" if ties else "ogt"), (high, "ole" if ties else "olt")):
            if bound is None:
                continue
            # NumPy's clip: isnan(a) ? a : (a <op> b ? a : b), a NaN bound the result; a tie
            # keeps a or gives the bound as clip_keeps_ties says
            y = as_value(b, bound, out)
            x = Value(_nan_max(op)(b, out, x, y), out)
        return x
    raise Unsupported(f"{name} with these arguments")


def _clip_step(b: Builder, op: str, x: Value, y: Value) -> str:
    better = b.emit(f"fcmp {op} {x.ty} {x.ref}, {y.ref}")
    keep = b.emit(f"or i1 {better}, {b.emit(f'fcmp uno {x.ty} {x.ref}, 0.0')}")
    return b.select(keep, x.ty, x.ref, y.ref)
