"""How each reduction accumulates: one or two stages (var/std need the mean first).

A stage has an accumulator dtype, an initial value, the per-element contribution, the
combining step (``reassoc`` on float add/mul so the vectorizer may keep vector partial
sums) and a finishing step run once per outer index. Float32 sums and means accumulate in
float64; float64 sums are ``compensated``: each reduced row adds in blocks, and each block's
sum goes into a total that carries its rounding error (``add_compensated``); max/min propagate
NaN through ``llvm.maximum``/``llvm.minimum`` as NumPy does.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...ir import Node
from .lowering import REAL_DTYPES, Builder, Unsupported, Value, cast, constant, register_type, truth

F64 = np.dtype("float64")
SUM_BLOCK = 1024  # elements of a row a float64 sum adds up in vector lanes before its compensated total
SHORT_ROWS_BLOCK = 128  # elements of short rows (added up one after another) before that total
BOOL = np.dtype(bool)


@dataclass(frozen=True)
class Stage:
    acc_dtype: np.dtype
    init: str
    element: Callable[[Builder, Value, list[Value]], Value]
    combine: Callable[[Builder, Value, Value], str]
    finish: Callable[[Builder, Value, str, list[Value]], Value]
    compensated: bool = False  # a float64 sum: added up in blocks into a compensated total

    @property
    def acc_dtype_ty(self) -> str:
        return register_type(self.acc_dtype)


@dataclass(frozen=True)
class ReductionPlan:
    node: Node
    stages: list[Stage]


def _add(b: Builder, acc: Value, x: Value) -> str:
    if acc.dtype.kind == "f":
        return b.emit(f"fadd reassoc {acc.ty} {acc.ref}, {x.ref}")
    if acc.dtype.kind == "b":
        return b.emit(f"or i1 {acc.ref}, {x.ref}")
    return b.emit(f"add {acc.ty} {acc.ref}, {x.ref}")


def _mul(b: Builder, acc: Value, x: Value) -> str:
    if acc.dtype.kind == "f":
        return b.emit(f"fmul reassoc {acc.ty} {acc.ref}, {x.ref}")
    if acc.dtype.kind == "b":
        return b.emit(f"and i1 {acc.ref}, {x.ref}")
    return b.emit(f"mul {acc.ty} {acc.ref}, {x.ref}")


def _extreme(which: str):
    def combine(b: Builder, acc: Value, x: Value) -> str:
        kind = acc.dtype.kind
        if kind == "f":
            return b.call_intrinsic("maximum" if which == "max" else "minimum", acc.ty, [acc.ref, x.ref])
        if kind == "b":
            return b.emit(f"{'or' if which == 'max' else 'and'} i1 {acc.ref}, {x.ref}")
        prefix = "s" if kind == "i" else "u"
        return b.call_intrinsic(f"{prefix}{which}", acc.ty, [acc.ref, x.ref])
    return combine


def _extreme_init(which: str, dtype: np.dtype) -> str:
    if dtype.kind == "f":
        return constant(-np.inf if which == "max" else np.inf, dtype)
    if dtype.kind == "b":
        return "false" if which == "max" else "true"
    info = np.iinfo(dtype)
    return constant(info.min if which == "max" else info.max, dtype)


def _wide(dtype: np.dtype) -> np.dtype:
    return F64 if dtype == np.dtype("float32") else dtype


def _sum_stage(out: np.dtype) -> Stage:
    acc = _wide(out)
    return Stage(acc, constant(0, acc), lambda b, x, prev: cast(b, cast(b, x, out), acc), _add,
                 lambda b, total, count, prev: cast(b, total, out), out == F64)


def _count_as(b: Builder, count: str, dtype: np.dtype, minus: int = 0) -> str:
    if minus:
        count = b.emit(f"sub i64 {count}, {minus}")
        count = b.call_intrinsic("smax", "i64", [count, "0"])
    return b.emit(f"sitofp i64 {count} to {register_type(dtype)}")


def _mean_stage(compute: np.dtype) -> Stage:
    acc = _wide(compute)

    def finish(b, total, count, prev):
        mean = b.emit(f"fdiv {total.ty} {total.ref}, {_count_as(b, count, acc)}")
        return cast(b, Value(mean, acc), compute)
    return Stage(acc, constant(0, acc), lambda b, x, prev: cast(b, cast(b, x, compute), acc), _add, finish,
                 compute == F64)


def _squares_stage(compute: np.dtype, source: np.dtype, ddof: int, root: bool) -> Stage:
    """The sum of squared deviations from the mean (``prev[0]``, of ``compute``). As in NumPy's
    ``_var``, each deviation is taken in the type x and the mean promote to (float64 for int32 x
    and ``dtype=float32``), its square rounded to ``compute`` before it is added."""
    acc, centre = _wide(compute), np.result_type(source, compute)

    def element(b, x, prev):
        ty = register_type(centre)
        centred = b.emit(f"fsub {ty} {cast(b, x, centre).ref}, {cast(b, prev[0], centre).ref}")
        square = b.emit(f"fmul {ty} {centred}, {centred}")
        return cast(b, cast(b, Value(square, centre), compute), acc)

    def finish(b, total, count, prev):
        divisor = _count_as(b, count, acc, ddof)
        var = cast(b, Value(b.emit(f"fdiv {total.ty} {total.ref}, {divisor}"), acc), compute)
        return Value(b.call_intrinsic("sqrt", var.ty, [var.ref]), compute) if root else var
    return Stage(acc, constant(0, acc), element, _add, finish, compute == F64)


def add_compensated(b: Builder, total: str, error: str, x: str) -> None:
    """``total += x`` for the doubles in allocas ``total`` and ``error``, Neumaier's way: the
    rounding error of each addition is added up apart, to be taken back by ``compensated_sum``
    (plain ``fadd``: no ``reassoc`` may fold the error away)."""
    old, err = b.emit(f"load double, ptr {total}"), b.emit(f"load double, ptr {error}")
    new = b.emit(f"fadd double {old}, {x}")
    larger_old = b.emit(f"fcmp oge double {b.call_intrinsic('fabs', 'double', [old])}, "
                        f"{b.call_intrinsic('fabs', 'double', [x])}")
    big, small = b.select(larger_old, "double", old, x), b.select(larger_old, "double", x, old)
    lost = b.emit(f"fadd double {b.emit(f'fsub double {big}, {new}')}, {small}")
    b.line(f"store double {new}, ptr {total}")
    b.line(f"store double {b.emit(f'fadd double {err}, {lost}')}, ptr {error}")


def compensated_sum(b: Builder, total: str, error: str) -> str:
    """The sum ``add_compensated`` kept: total plus its error, or the total alone once it is
    inf or NaN (where the error is NaN and NumPy's sum is the total)."""
    value, err = b.emit(f"load double, ptr {total}"), b.emit(f"load double, ptr {error}")
    finite = b.emit(f"fcmp olt double {b.call_intrinsic('fabs', 'double', [value])}, {constant(np.inf, F64)}")
    return b.select(finite, "double", b.emit(f"fadd double {value}, {err}"), value)


def plan_reduction(node: Node) -> ReductionPlan:
    """The accumulation plan of a reduction node; raises Unsupported otherwise."""
    name, out = node.op.name, node.meta.dtype
    source = node.args[0]
    if not isinstance(source, Node) or len(node.args) != 1:
        raise Unsupported("reduction arguments")
    if set(node.kwargs) - {"axis", "keepdims", "dtype", "ddof"} or source.meta.dtype not in REAL_DTYPES:
        raise Unsupported("reduction parameters")
    if out not in REAL_DTYPES or ("ddof" in node.kwargs and name not in ("var", "std")):
        raise Unsupported("reduction dtype")
    if name == "sum":
        return ReductionPlan(node, [_sum_stage(out)])
    if name == "prod":
        return ReductionPlan(node, [Stage(out, constant(1, out), lambda b, x, prev: cast(b, x, out), _mul,
                                          lambda b, total, count, prev: total)])
    if name in ("max", "min"):
        if "dtype" in node.kwargs or out != source.meta.dtype:
            raise Unsupported("max/min dtype")
        return ReductionPlan(node, [Stage(out, _extreme_init(name, out), lambda b, x, prev: x, _extreme(name),
                                          lambda b, total, count, prev: total)])
    if name in ("any", "all"):
        if out != BOOL or "dtype" in node.kwargs:
            raise Unsupported("any/all parameters")
        combine = _add if name == "any" else _mul
        return ReductionPlan(node, [Stage(BOOL, "false" if name == "any" else "true",
                                          lambda b, x, prev: truth(b, x), combine,
                                          lambda b, total, count, prev: total)])
    if name in ("mean", "var", "std") and out.kind == "f":
        ddof = node.kwargs.get("ddof", 0)
        if not isinstance(ddof, int | np.integer):
            raise Unsupported("non-integer ddof")
        stages = [_mean_stage(out)]
        if name != "mean":
            stages.append(_squares_stage(out, source.meta.dtype, int(ddof), name == "std"))
        return ReductionPlan(node, stages)
    raise Unsupported(f"reduction {name}")
