"""What the hand-blocked kernels (templates: attention.py, gemm.py) write their LLVM with.

A template is a kernel written by hand for one pattern, as Inductor's CPU GEMM templates are,
rather than a loop nest the fusion pass builds: register-blocked products want 32 AVX-512
vector registers of accumulators and an order of loops no generic loop nest has. This class
holds the few instructions they all spell: vectors of the dtype, splats, byte addresses,
lane masks, counted loops and accumulators in allocas (SROA turns them into registers).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .abi import Offsets
from .lowering import Builder
from .math import MathDeclarations
from .polynomials import f32, f64

VECTOR_BYTES = 64  # AVX-512: templates only run where the host has it (codegen/llvm/__init__.py)


def lanes(dtype: np.dtype) -> int:
    """Elements of ``dtype`` per AVX-512 vector."""
    return VECTOR_BYTES // dtype.itemsize


class TemplateEmitter:
    """Writes a template's functions; ``b`` is a lowering.Builder over the module's declarations."""

    def __init__(self, dtype: np.dtype, decls: MathDeclarations, offsets: Offsets):
        self.dtype = np.dtype(dtype)
        self.decls, self.offsets = decls, offsets
        self.t = "float" if self.dtype.itemsize == 4 else "double"
        self.n = lanes(self.dtype)
        self.v = f"<{self.n} x {self.t}>"
        self.suffix = f"v{self.n}f{self.dtype.itemsize * 8}"
        self.b = Builder(decls)
        self.blocks = 0

    def literal(self, value: float) -> str:
        """``value`` (a Python or NumPy number) as NumPy converts it to this dtype, as LLVM text."""
        return (f32 if self.t == "float" else f64)(value)

    def intrinsic(self, base: str, ret: str, args: list[tuple[str, str]], suffix: str | None = None) -> str:
        """A call of ``llvm.<base>.<suffix>`` (the dtype's vector by default) on typed ``args``,
        declared once per module; its result ("" for void)."""
        name = self.decls.intrinsic(f"llvm.{base}.{suffix or self.suffix}", ret, [ty for ty, _ in args])
        call = f"call {ret} @{name}({', '.join(f'{ty} {a}' for ty, a in args)})"
        if ret == "void":
            self.b.line(call)
            return ""
        return self.b.emit(call)

    def splat(self, scalar: str) -> str:
        """A vector of the dtype with every lane ``scalar``."""
        first = self.b.emit(f"insertelement {self.v} poison, {self.t} {scalar}, i64 0")
        return self.b.emit(f"shufflevector {self.v} {first}, {self.v} poison, <{self.n} x i32> zeroinitializer")

    def at(self, base: str, byte_offset: str) -> str:
        """The pointer ``byte_offset`` bytes past ``base``."""
        return self.b.emit(f"getelementptr i8, ptr {base}, i64 {byte_offset}")

    def elements(self, count: str) -> str:
        """``count`` elements of the dtype, in bytes."""
        return self.b.emit(f"mul i64 {count}, {self.dtype.itemsize}")

    def operands(self, count: int) -> tuple[list[str], list[str]]:
        """The first ``count`` arrays of the entry's ``%args`` tuple (abi.py), and their data pointers."""
        o = self.offsets
        arrays = [self.load("ptr", self.at("%args", str(o.tuple_items + 8 * i))) for i in range(count)]
        return arrays, [self.load("ptr", self.at(array, str(o.array_data))) for array in arrays]

    def split(self, item: str, inner: str) -> tuple[str, str]:
        """``divmod(item, inner)`` of non-negative i64 values: an item's outer and inner index."""
        return self.b.emit(f"udiv i64 {item}, {inner}"), self.b.emit(f"urem i64 {item}, {inner}")

    def ceil_div(self, x: str, y: str | int) -> str:
        """``-(-x // y)`` for non-negative i64 ``x`` and positive ``y``."""
        less_one = y - 1 if isinstance(y, int) else self.b.emit(f"sub i64 {y}, 1")
        return self.b.emit(f"udiv i64 {self.b.emit(f'add i64 {x}, {less_one}')}, {y}")

    def iota(self) -> str:
        """The i64 vector constant ``<0, 1, ..., lanes - 1>``."""
        return "<" + ", ".join(f"i64 {i}" for i in range(self.n)) + ">"

    def smaller(self, x: str, y: str) -> str:
        """``min(x, y)`` of two signed i64 values."""
        return self.b.emit(f"select i1 {self.b.emit(f'icmp slt i64 {x}, {y}')}, i64 {x}, i64 {y}")

    def strides(self, array: str, count: int) -> list[str]:
        """The first ``count`` byte strides of the ndarray object at ``array`` (abi.py)."""
        strides = self.load("ptr", self.at(array, str(self.offsets.array_strides)))
        return [self.load("i64", self.at(strides, str(8 * i))) for i in range(count)]

    def lane_mask(self, first_column: str, limit: str) -> str:
        """Lanes whose column ``first_column + lane`` is below ``limit``."""
        columns = self.b.emit(f"add <{self.n} x i64> {self.iota()}, {self.splat_i64(first_column)}")
        return self.b.emit(f"icmp slt <{self.n} x i64> {columns}, {self.splat_i64(limit)}")

    def splat_i64(self, value: str) -> str:
        """A vector of i64 lanes, every one ``value``."""
        first = self.b.emit(f"insertelement <{self.n} x i64> poison, i64 {value}, i64 0")
        return self.b.emit(f"shufflevector <{self.n} x i64> {first}, <{self.n} x i64> poison, "
                           f"<{self.n} x i32> zeroinitializer")

    def loop(self, start: str, stop: str, step: int | str, body: Callable[[str], None]) -> None:
        """``for i in range(start, stop, step): body(i)`` (the index lives in an alloca)."""
        self.blocks += 1
        k = self.blocks
        index = self.b.alloca("i64")
        self.b.line(f"store i64 {start}, ptr {index}")
        self.b.line(f"br label %head{k}")
        self.b.label(f"%head{k}")
        i = self.b.emit(f"load i64, ptr {index}")
        more = self.b.emit(f"icmp slt i64 {i}, {stop}")
        self.b.line(f"br i1 {more}, label %body{k}, label %done{k}")
        self.b.label(f"%body{k}")
        body(i)
        self.b.line(f"store i64 {self.b.emit(f'add i64 {i}, {step}')}, ptr {index}")
        self.b.line(f"br label %head{k}")
        self.b.label(f"%done{k}")

    def accumulators(self, count: int, init: str = "zeroinitializer") -> list[str]:
        """``count`` vector slots (allocas) holding ``init``."""
        slots = [self.b.alloca(self.v) for _ in range(count)]
        for slot in slots:
            self.b.line(f"store {self.v} {init}, ptr {slot}")
        return slots

    def load(self, ty: str, pointer: str) -> str:
        """A load of ``ty`` at ``pointer``, assuming no alignment."""
        return self.b.emit(f"load {ty}, ptr {pointer}, align 1")

    def function(self, header: str, ret: str = "ret void") -> str:
        """The function written so far under ``header``; the next starts empty."""
        body = self.b.lines
        text = "\n".join([header, "entry:", *self.b.allocas, *body, f"  {ret}", "}"])
        self.b = Builder(self.decls)
        self.blocks = 0
        return text

    def for_each_item(self, counter: str, count: str, body: Callable[[str], None]) -> None:
        """``body(item)`` for items taken one at a time from the int64 at ``counter`` (shared by
        the threads, zero at first) until ``count`` are taken: a thread slowed by another process
        takes fewer. ``body`` may also end a path with ``br label %next``, to take the next."""
        b = self.b
        b.line("br label %next")
        b.label("%next")
        item = b.emit(f"atomicrmw add ptr {counter}, i64 1 monotonic")
        b.line(f"br i1 {b.emit(f'icmp sge i64 {item}, {count}')}, label %finished, label %work")
        b.label("%work")
        body(item)
        b.line("br label %next")
        b.label("%finished")
