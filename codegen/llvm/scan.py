"""Cumulative sums and products (``np.cumsum``, ``np.cumprod``, their ``nan`` forms) as LLVM loops.

NumPy's ``add.accumulate`` takes 3.4 ns per element along the last axis of a float32 matrix
and 10 ns along the first (4096x1024: 13.9 and 44 ms); one pass of adds in the same order is
limited by the add's latency along the last axis, and vectorizes along any other. A C-ordered
array of n dimensions is seen as (outer, scan, inner): the axes before the scanned one, the
scanned one, the axes after it::

    for o in outer:            # threads split this range, or, with one outer row, inner's
        for s in scan:
            for i in inner:    # contiguous: vectorizes (no reassociation: each element keeps
                out[o, s, i] = out[o, s - 1, i] + x[o, s, i]    # NumPy's order, bit for bit)

Operands (abi.py's tuple): ``x`` and ``out`` (C-contiguous, the same dtype), then dims
``[start, stop, chunk, split_inner, outer, scan, inner]``. With ``inner`` 1 the running value
stays in a register (the add's latency, not a store and a reload, per element).
:class:`ScanKernel` is the per-call side: it runs NumPy itself for anything else (another
layout or dtype, or fewer than ``MIN_ELEMENTS`` elements).
"""
from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from .abi import Offsets
from .launch import KERNEL_TYPE
from .lowering import Builder, constant, memory_type, register_type
from .math import MathDeclarations

SCANS = ("cumsum", "cumprod", "nancumsum", "nancumprod")
SCANNED_DTYPES = frozenset(np.dtype(n) for n in ("float32", "float64", "int64"))
MIN_ELEMENTS = 1 << 12  # below, NumPy's call costs less than preparing this one's (crossover ~3000)
MIN_PARALLEL_ELEMENTS = 1 << 18


def scan_function(op: str, dtype: np.dtype, decls: MathDeclarations, offsets: Offsets) -> tuple[str, str]:
    """(name, LLVM text) of the scan ``op`` (``SCANS``) over ``dtype``."""
    b = Builder(decls)
    ty, mem = register_type(dtype), memory_type(dtype)
    plain = op.removeprefix("nan")
    combine = {("cumsum", "f"): "fadd", ("cumprod", "f"): "fmul", ("cumsum", "i"): "add",
               ("cumprod", "i"): "mul"}[(plain, dtype.kind)]
    identity = constant(0 if plain == "cumsum" else 1, dtype)

    def load_x(at: str) -> str:
        """x[at]; for nancumsum/nancumprod a NaN reads as the identity (NumPy's _replace_nan)."""
        value = b.emit(f"load {mem}, ptr {element(x, at)}")
        if op == plain or dtype.kind != "f":
            return value
        return b.emit(f"select i1 {b.emit(f'fcmp uno {ty} {value}, {value}')}, {ty} {identity}, {ty} {value}")

    def field(base: str, offset: int) -> str:
        return b.emit(f"load ptr, ptr {b.emit(f'getelementptr i8, ptr {base}, i64 {offset}')}")

    x_obj = field("%args", offsets.tuple_items)
    out_obj = field("%args", offsets.tuple_items + 8)
    dims = field(field("%args", offsets.tuple_items + 16), offsets.array_data)
    x, out = field(x_obj, offsets.array_data), field(out_obj, offsets.array_data)
    start, stop, _, split_inner, outer, scan, inner = (
        b.emit(f"load i64, ptr {b.emit(f'getelementptr i64, ptr {dims}, i64 {i}')}") for i in range(7))
    by_inner = b.emit(f"icmp ne i64 {split_inner}, 0")
    o_lo = b.emit(f"select i1 {by_inner}, i64 0, i64 {start}")
    o_hi = b.emit(f"select i1 {by_inner}, i64 {outer}, i64 {stop}")
    i_lo = b.emit(f"select i1 {by_inner}, i64 {start}, i64 0")
    i_hi = b.emit(f"select i1 {by_inner}, i64 {stop}, i64 {inner}")
    row = b.emit(f"mul i64 {scan}, {inner}")

    loop = b.loop

    def element(base: str, index: str) -> str:
        return b.emit(f"getelementptr {mem}, ptr {base}, i64 {index}")

    def first_row(o_base: str) -> None:  # out[o, 0, :] = x[o, 0, :]
        def copy(i: str) -> None:
            at = b.emit(f"add i64 {o_base}, {i}")
            b.line(f"store {mem} {load_x(at)}, ptr {element(out, at)}")
        loop(i_lo, i_hi, copy)

    def later_row(o_base: str, s: str) -> None:  # out[o, s, :] = out[o, s - 1, :] op x[o, s, :]
        here = b.emit(f"add i64 {o_base}, {b.emit(f'mul i64 {s}, {inner}')}")
        before = b.emit(f"sub i64 {here}, {inner}")

        def step(i: str) -> None:
            previous = b.emit(f"load {mem}, ptr {element(out, b.emit(f'add i64 {before}, {i}'))}")
            value = load_x(b.emit(f"add i64 {here}, {i}"))
            b.line(f"store {mem} {b.emit(f'{combine} {ty} {previous}, {value}')}, "
                   f"ptr {element(out, b.emit(f'add i64 {here}, {i}'))}")
        loop(i_lo, i_hi, step)

    def outer_body(o: str) -> None:
        base = b.emit(f"mul i64 {o}, {row}")
        first_row(base)
        loop("1", scan, lambda s: later_row(base, s))

    def running_body(o: str) -> None:  # inner == 1: the running value stays in a register
        base = b.emit(f"mul i64 {o}, {scan}")
        running = b.alloca(ty)
        b.line(f"store {mem} {load_x(base)}, ptr {running}")
        b.line(f"store {mem} {b.emit(f'load {mem}, ptr {running}')}, ptr {element(out, base)}")

        def step(s: str) -> None:
            at = b.emit(f"add i64 {base}, {s}")
            value = b.emit(f"{combine} {ty} {b.emit(f'load {mem}, ptr {running}')}, {load_x(at)}")
            b.line(f"store {mem} {value}, ptr {running}")
            b.line(f"store {mem} {value}, ptr {element(out, at)}")
        loop("1", scan, step)

    rows, running_rows, end = b.fresh("rows"), b.fresh("running"), b.fresh("end")
    b.line(f"br i1 {b.emit(f'icmp eq i64 {inner}, 1')}, label {running_rows}, label {rows}")
    b.label(rows)
    loop(o_lo, o_hi, outer_body)
    b.line(f"br label {end}")
    b.label(running_rows)
    loop(o_lo, o_hi, running_body)
    b.line(f"br label {end}")
    b.label(end)
    b.line("ret void")
    body = "\n".join(["entry:"] + b.allocas + b.lines)
    name = f"scan_{op}_{dtype.name}_{hashlib.sha256(body.encode()).hexdigest()[:12]}"
    return name, f"define void @{name}(ptr %args) nounwind {{\n{body}\n}}"


class ScanKernel:
    """The per-call side: ``kernel(x)`` == ``np.cumsum(x, axis=axis)`` (or another of ``SCANS``)."""

    def __init__(self, address: int, op: str, dtype: np.dtype, axis: int | None, pool: Any, num_threads: int):
        self.kernel = KERNEL_TYPE(address)
        self.op, self.dtype, self.axis = op, np.dtype(dtype), axis
        self.reference = getattr(np, op)
        self.pool = pool
        self.num_threads = num_threads if pool is not None else 1

    def __repr__(self) -> str:
        return f"<{self.op} kernel, {self.dtype.name}, codegen/llvm/scan.py>"

    def __call__(self, x: Any) -> Any:
        if (not isinstance(x, np.ndarray) or x.dtype != self.dtype or not x.flags.c_contiguous
                or x.size < MIN_ELEMENTS or (self.axis is not None and x.ndim == 0)):
            return self.reference(x, axis=self.axis)  # NumPy's value, or NumPy's error
        if self.axis is None:
            x, axis = x.reshape(-1), 0
        elif -x.ndim <= self.axis < x.ndim:
            axis = self.axis % x.ndim
        else:
            return self.reference(x, axis=self.axis)  # NumPy's AxisError
        shape = x.shape
        outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
        out = np.empty(shape, self.dtype)
        split_inner = outer == 1
        extent = inner if split_inner else outer
        dims = np.array([0, extent, -1, int(split_inner), outer, shape[axis], inner], np.int64)
        if self.num_threads > 1 and x.size >= MIN_PARALLEL_ELEMENTS and extent > 1:
            self.pool.parallel_for(self.kernel, (x, out), dims, self.num_threads)
        else:
            self.kernel((x, out, dims))
        return out
