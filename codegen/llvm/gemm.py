"""Ember's own matrix product for float32/float64 ``a @ b`` (``b`` 2-D): a packed, register-blocked GEMM.

Why not NumPy's BLAS: the OpenBLAS that NumPy ships picks its kernels by CPU, and where it
runs AVX2 kernels on an AVX-512 machine (``OPENBLAS_CORETYPE=Haswell``), half of each vector
unit sits idle; blas.py says when (the backend only takes this product then). The blocking is
the classic one (Goto; BLIS), in two launches:

1. ``<name>_pack`` copies both operands, in parallel over blocks: ``a`` into panels of ``MR``
   rows, interleaved per k (``packed_a[row block][depth block][panel][k][MR]``; a last panel
   repeats its last row), ``b`` into panels of ``NR`` columns (``packed_b[depth block][panel]
   [k][NR]``; zeros past the last column). Strided operands are gathered, so any layout
   (transposed, negative or zero strides) costs one copy, which packing makes anyway.
2. ``<name>`` takes (column block, row block) items from a shared counter (a thread slowed by
   another process takes fewer; consecutive items share their panels of ``b``, L3-resident) and
   per item, for each depth block of ``KC`` in order, runs the micro-kernel over each (``b``
   panel, ``a`` panel) pair: ``MR`` x ``NR`` accumulators in registers over ``KC`` steps, stored
   by the first depth block and added by the others. The ``b`` panel (``KC`` x ``NR``, 32 KiB)
   stays in L1 while the ``a`` panels of the row block stream past it from L2.

The micro-kernel runs at 95% of this CPU's FMA peak on data in cache (249 of 262 GFLOP/s per
thread at float32, measured on AMD EPYC znver5); a whole 1024x1024 @ 1024x4096 at 216 on one
thread (packing, and the output's fresh pages, take most of the rest) and 411 on two, against
OpenBLAS's AVX2 kernels' 128 and 251. Blocking sizes barely matter there: B_BLOCK_BYTES of 1-8
MiB with MC of 96-288 rows all ran 202-214 GFLOP/s on one thread (before the output prefetch).

Values: the same products as NumPy's, summed in another order (in ``KC`` blocks, each in
order of k), as any BLAS blocking does (the tests hold float32 to rtol 1e-4 and float64 to
1e-12 on well-scaled data); NaN and infinities propagate as in any sum of products (padding
lanes and rows are computed, never stored). A sum
whose products all underflow to zero is +0.0, as OpenBLAS's (the first depth block's sums get
+0.0 added: FMAs into +0.0 keep the sign of a negative product that rounds to zero). Like every
compiled kernel, it raises no floating-point warnings or errors (``np.errstate``), where NumPy's
matmul checks the FPU's flags after the call.

Operands (abi.py's tuple): the pack step takes ``a``, ``b`` (any strides), ``packed_a``,
``packed_b``, then dims ``[start, stop, chunk, M, N, K, npad, panels, a_items, mc]`` (items
``[start, stop)``: the first ``a_items`` are blocks of ``a``, the others panels of ``b``); the
product takes ``packed_a``, ``packed_b``, ``out`` (M, N) contiguous, ``counter`` (1,) int64
zero, then dims ``[start, stop, chunk, M, N, K, npad, nc, mc]``. :class:`GemmKernel` prepares them.
"""
from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .abi import Offsets
from .launch import KERNEL_TYPE
from .math import MathDeclarations
from .template import VECTOR_BYTES, TemplateEmitter, lanes

MR = 12                # rows of a per micro-tile: 12 x 2 accumulators, 2 of b, of 32 vector registers
NR_VECTORS = 2         # vectors of b's columns per micro-tile
PANEL_BYTES = 32768    # a block's depth KC: one panel of b, KC x NR, stays in L1 (48 KiB) across a's panels
MC = 12 * MR           # most rows of a per block: MC x KC (144 KiB at float32) stay in L2
KEPT_BYTES = 64 << 20  # packing space a thread keeps between calls, at most (_scratch)
ITEMS_PER_THREAD = 4   # (column block, row block) items per thread at least, where there are columns enough
B_BLOCK_BYTES = 4 << 20  # the panels of b one column block of items shares: L3-resident
MIN_WORK = 1 << 28     # flops x itemsize: below, NumPy's BLAS call costs less than packing (worth())
MIN_THICKNESS = 256    # m * n / (m + n) x itemsize: thinner products are mostly packing (worth())


def depth(dtype: np.dtype) -> int:
    """KC: the rows of ``b`` per packed block."""
    return PANEL_BYTES // (panel_width(dtype) * dtype.itemsize)


def panel_width(dtype: np.dtype) -> int:
    """NR: the columns of ``b`` per packed panel."""
    return NR_VECTORS * lanes(dtype)


def function_name(dtype: np.dtype) -> str:
    """The product's LLVM name: its dtype and the blocking compiled into it."""
    digest = hashlib.sha256(repr((dtype.str, MR, NR_VECTORS, PANEL_BYTES)).encode()).hexdigest()[:12]
    return f"gemm_{dtype.name}_{digest}"


class _Emitter(TemplateEmitter):
    """Writes the pack step, the product and their helpers (template.py's instructions)."""

    def __init__(self, dtype: np.dtype, decls: MathDeclarations, offsets: Offsets):
        super().__init__(dtype, decls, offsets)
        self.name = function_name(self.dtype)
        self.nr = panel_width(self.dtype)
        self.kc = depth(self.dtype)

    # -- packing ----------------------------------------------------------------------------
    def pack(self) -> str:
        """``@<name>_pack(args)``: items ``[start, stop)``, the first ``a_items`` blocks of ``a``
        (row block x depth block), then panels of ``b`` (depth block x panel)."""
        b = self.b
        arrays, (source_a, source_b, packed_a, packed_b, dims) = self.operands(5)
        a_row, a_column = self.strides(arrays[0], 2)
        b_row, b_column = self.strides(arrays[1], 2)
        start, stop, _, m, n, k_total, npad, panels, a_items, mc_block = (self.load("i64", self.at(dims, str(8 * i)))
                                                                          for i in range(10))
        depth_blocks = self.ceil_div(k_total, self.kc)
        unit = b.emit(f"icmp eq i64 {b_column}, {self.dtype.itemsize}")

        def a_block(i: str) -> None:
            row_block = b.emit(f"udiv i64 {i}, {depth_blocks}")
            k0 = b.emit(f"mul i64 {b.emit(f'urem i64 {i}, {depth_blocks}')}, {self.kc}")
            i0 = b.emit(f"mul i64 {row_block}, {mc_block}")
            source = self.at(self.at(source_a, b.emit(f"mul i64 {i0}, {a_row}")), b.emit(f"mul i64 {k0}, {a_column}"))
            block_size = b.emit(f"mul i64 {mc_block}, {k_total}")
            within = b.emit(f"mul i64 {k0}, {mc_block}")
            first = b.emit(f"add i64 {b.emit(f'mul i64 {row_block}, {block_size}')}, {within}")
            b.line(f"call void @{self.name}_pack_a(ptr {source}, i64 {a_row}, i64 {a_column}, "
                   f"i64 {self.smaller(mc_block, b.emit(f'sub i64 {m}, {i0}'))}, "
                   f"i64 {self.smaller(str(self.kc), b.emit(f'sub i64 {k_total}, {k0}'))}, "
                   f"ptr {self.at(packed_a, self.elements(first))})")

        def b_panel(i: str) -> None:
            block = b.emit(f"udiv i64 {i}, {panels}")
            column0 = b.emit(f"mul i64 {b.emit(f'urem i64 {i}, {panels}')}, {self.nr}")
            k0 = b.emit(f"mul i64 {block}, {self.kc}")
            kc = self.smaller(str(self.kc), b.emit(f"sub i64 {k_total}, {k0}"))
            # the block starts at k0 * npad; in it, the panel at column0 * kc
            first = b.emit(f"add i64 {b.emit(f'mul i64 {k0}, {npad}')}, {b.emit(f'mul i64 {column0}, {kc}')}")
            destination = self.at(packed_b, self.elements(first))
            columns = [b.emit(f"add i64 {column0}, {c * self.n}") for c in range(NR_VECTORS)]
            masks = [self.lane_mask(column, n) for column in columns]

            def copy(gather: bool) -> None:
                vector = f"<{self.n} x i64>"
                offsets = [b.emit(f"mul {vector} {b.emit(f'add {vector} {self.iota()}, {self.splat_i64(c)}')}, "
                                  f"{self.splat_i64(b_column)}") for c in columns] if gather else []

                def row(k: str) -> None:
                    start_of_row = self.at(source_b, b.emit(f"mul i64 {b.emit(f'add i64 {k0}, {k}')}, {b_row}"))
                    for c in range(NR_VECTORS):
                        if gather:
                            pointers = b.emit(f"getelementptr i8, ptr {start_of_row}, <{self.n} x i64> {offsets[c]}")
                            value = self.intrinsic("masked.gather", self.v, [
                                (f"<{self.n} x ptr>", pointers), ("i32", "1"), (f"<{self.n} x i1>", masks[c]),
                                (self.v, "zeroinitializer")], suffix=f"{self.suffix}.v{self.n}p0")
                        else:
                            value = self.intrinsic("masked.load", self.v, [
                                ("ptr", self.at(start_of_row, self.elements(columns[c]))), ("i32", "1"),
                                (f"<{self.n} x i1>", masks[c]), (self.v, "zeroinitializer")],
                                suffix=f"{self.suffix}.p0")
                        at = self.elements(b.emit(f"add i64 {b.emit(f'mul i64 {k}, {self.nr}')}, {c * self.n}"))
                        b.line(f"store {self.v} {value}, ptr {self.at(destination, at)}, align 1")

                self.loop("0", kc, 1, row)

            b.branch(unit, lambda: copy(False), lambda: copy(True), stems=("unit", "strided"))

        def one(i: str) -> None:
            b.branch(b.emit(f"icmp slt i64 {i}, {a_items}"), lambda: a_block(i),
                     lambda: b_panel(b.emit(f"sub i64 {i}, {a_items}")), stems=("of_a", "of_b"))

        self.loop(start, stop, 1, one)
        return self.function(f"define void @{self.name}_pack(ptr %args) {{")

    def pack_a(self) -> str:
        """``@<name>_pack_a(a, row, column, mc, kc, to)``: ``mc`` x ``kc`` of ``a`` as panels of
        ``MR`` rows, k-major; a last panel's missing rows repeat its last row (never stored)."""
        b = self.b

        def panel(ir: str) -> None:
            rows = [self.at("%a", b.emit(f"mul i64 {self.smaller(b.emit(f'add i64 {ir}, {r}'), '%last')}, %row"))
                    for r in range(MR)]
            destination = self.at("%to", self.elements(b.emit(f"mul i64 {ir}, %kc")))

            def step(k: str) -> None:
                offset = b.emit(f"mul i64 {k}, %column")
                first = b.emit(f"mul i64 {k}, {MR}")
                for r in range(MR):
                    value = self.load(self.t, self.at(rows[r], offset))
                    at = self.elements(b.emit(f"add i64 {first}, {r}"))
                    b.line(f"store {self.t} {value}, ptr {self.at(destination, at)}, align 1")

            self.loop("0", "%kc", 1, step)

        b.line("%last = sub i64 %mc, 1")
        self.loop("0", "%mc", MR, panel)
        return self.function(f"define internal void @{self.name}_pack_a(ptr noalias %a, i64 %row, i64 %column, "
                             "i64 %mc, i64 %kc, ptr noalias %to) noinline {")

    # -- the micro-kernel ---------------------------------------------------------------------
    def tile(self) -> str:
        """``@<name>_tile(ap, bp, kc, c, c_row, rows, cols, accumulate)``: ``out[:rows, :cols]``
        (+)= the ``MR`` x ``NR`` product of one ``a`` panel and one ``b`` panel."""
        b, v, t = self.b, self.v, self.t
        acc = self.accumulators(MR * NR_VECTORS)
        # The tile's rows of out, wanted after the loop, fetched while it runs (for writing; a
        # missing row's address is never dereferenced): 1024x1024 @ 1024x4096 on one thread
        # 43.6 -> 39.8 ms, the other bench shapes unchanged.
        for r in range(MR):
            row = self.at("%c", b.emit(f"mul i64 {r}, %c_row"))
            for line in range(0, NR_VECTORS * VECTOR_BYTES, 64):
                self.intrinsic("prefetch", "void", [("ptr", self.at(row, str(line))), ("i32", "1"), ("i32", "3"),
                                                    ("i32", "1")], suffix="p0")

        def step(k: str) -> None:
            row = self.at("%bp", self.elements(b.emit(f"mul i64 {k}, {self.nr}")))
            values = [self.load(v, self.at(row, str(c * VECTOR_BYTES))) for c in range(NR_VECTORS)]
            column = self.at("%ap", self.elements(b.emit(f"mul i64 {k}, {MR}")))
            for r in range(MR):
                weight = self.splat(self.load(t, self.at(column, str(r * self.dtype.itemsize))))
                for c in range(NR_VECTORS):
                    slot = acc[r * NR_VECTORS + c]
                    total = self.intrinsic("fma", v, [(v, weight), (v, values[c]), (v, self.load(v, slot))])
                    b.line(f"store {v} {total}, ptr {slot}")

        self.loop("0", "%kc", 1, step)
        masks = [self.lane_mask(str(c * self.n), "%cols") for c in range(NR_VECTORS)]

        def store(accumulate: bool) -> None:
            # (a first block writes without reading: a read of a fresh page first maps the zero page)
            for r in range(MR):
                def store_row(r: int = r) -> None:
                    row = self.at("%c", b.emit(f"mul i64 {r}, %c_row"))
                    for c in range(NR_VECTORS):
                        at = self.at(row, str(c * VECTOR_BYTES))
                        value = self.load(v, acc[r * NR_VECTORS + c])
                        if accumulate:
                            old = self.intrinsic("masked.load", v, [("ptr", at), ("i32", "1"),
                                                                    (f"<{self.n} x i1>", masks[c]),
                                                                    (v, "zeroinitializer")], suffix=f"{self.suffix}.p0")
                            value = b.emit(f"fadd {v} {old}, {value}")
                        else:  # -0.0 + 0.0 is +0.0, as BLAS's sums of products that underflow are
                            value = b.emit(f"fadd {v} {value}, zeroinitializer")
                        self.intrinsic("masked.store", "void", [(v, value), ("ptr", at), ("i32", "1"),
                                                                (f"<{self.n} x i1>", masks[c])],
                                       suffix=f"{self.suffix}.p0")
                b.branch(b.emit(f"icmp slt i64 {r}, %rows"), store_row, lambda: None, stems=("row", "past"))

        b.branch("%accumulate", lambda: store(True), lambda: store(False), stems=("add", "first"))
        return self.function(f"define internal void @{self.name}_tile(ptr noalias %ap, ptr noalias %bp, i64 %kc, "
                             "ptr noalias %c, i64 %c_row, i64 %rows, i64 %cols, i1 %accumulate) noinline {")

    # -- the product --------------------------------------------------------------------------
    def entry(self) -> str:
        """``@<name>(args)``: take (column block, row block) items from the counter until none is
        left; per item, the depth blocks in order, each over the block's panels of ``b`` and ``a``."""
        b = self.b
        _, (packed_a, packed_b, out, counter, dims) = self.operands(5)
        m, n, k_total, npad, nc, mc_block = (self.load("i64", self.at(dims, str(8 * i))) for i in range(3, 9))
        row_blocks = self.ceil_div(m, mc_block)
        items = b.emit(f"mul i64 {row_blocks}, {self.ceil_div(n, nc)}")
        out_row = self.elements(n)

        def work(next_item: str) -> None:
            # column-block-major: consecutive items share their panels of b (L3-resident)
            column_block, row_block = self.split(next_item, row_blocks)
            n0 = b.emit(f"mul i64 {column_block}, {nc}")
            n1 = self.smaller(b.emit(f"add i64 {n0}, {nc}"), n)
            i0 = b.emit(f"mul i64 {row_block}, {mc_block}")
            mc = self.smaller(mc_block, b.emit(f"sub i64 {m}, {i0}"))
            block_size = b.emit(f"mul i64 {mc_block}, {k_total}")
            a_block = self.at(packed_a, self.elements(b.emit(f"mul i64 {row_block}, {block_size}")))
            out_block = self.at(out, b.emit(f"mul i64 {i0}, {out_row}"))

            def depth_block(k0: str) -> None:
                kc = self.smaller(str(self.kc), b.emit(f"sub i64 {k_total}, {k0}"))
                accumulate = b.emit(f"icmp sgt i64 {k0}, 0")
                a_depth = self.at(a_block, self.elements(b.emit(f"mul i64 {k0}, {mc_block}")))
                b_depth = self.at(packed_b, self.elements(b.emit(f"mul i64 {k0}, {npad}")))

                def column_panel(column0: str) -> None:
                    b_panel = self.at(b_depth, self.elements(b.emit(f"mul i64 {column0}, {kc}")))
                    cols = self.smaller(str(self.nr), b.emit(f"sub i64 {n}, {column0}"))
                    out_panel = self.at(out_block, self.elements(column0))

                    def row_panel(ir: str) -> None:
                        rows = self.smaller(str(MR), b.emit(f"sub i64 {mc}, {ir}"))
                        a_panel = self.at(a_depth, self.elements(b.emit(f"mul i64 {ir}, {kc}")))
                        b.line(f"call void @{self.name}_tile(ptr {a_panel}, ptr {b_panel}, i64 {kc}, "
                               f"ptr {self.at(out_panel, b.emit(f'mul i64 {ir}, {out_row}'))}, "
                               f"i64 {out_row}, i64 {rows}, i64 {cols}, i1 {accumulate})")

                    self.loop("0", mc, MR, row_panel)

                self.loop(n0, n1, self.nr, column_panel)

            self.loop("0", k_total, self.kc, depth_block)

        self.for_each_item(counter, items, work)
        return self.function(f"define void @{self.name}(ptr %args) {{")


def gemm_function(dtype: np.dtype, decls: MathDeclarations, offsets: Offsets) -> tuple[str, str]:
    """(name, text) of the product for ``dtype``; the text also defines the pack step,
    ``<name>_pack``. Declarations go to ``decls``."""
    emitter = _Emitter(np.dtype(dtype), decls, offsets)
    return emitter.name, "\n\n".join([emitter.pack_a(), emitter.pack(), emitter.tile(), emitter.entry()])


class GemmKernel:
    """The per-call side: ``kernel(a, b)`` == ``np.matmul(a, b)`` for arrays of its dtype, ``b``
    2-D and ``a`` 2-D or a stack of matrices (``(..., M, K)``: one product of ``(-1, K)`` rows,
    which ``a.reshape`` copies only where its rows do not lie evenly)."""

    def __init__(self, pack: int, product: int, dtype: np.dtype, pool: Any, num_threads: int,
                 reference: Callable[..., np.ndarray] = np.matmul):
        self.pack, self.product = KERNEL_TYPE(pack), KERNEL_TYPE(product)
        self.reference = reference  # np.matmul or np.dot: what runs where this product does not
        self.dtype = np.dtype(dtype)
        self.pool = pool
        self.num_threads = num_threads if pool is not None else 1
        self.nr, self.kc = panel_width(self.dtype), depth(self.dtype)

    def __repr__(self) -> str:
        return f"<own matrix product, {self.dtype.name}, codegen/llvm/gemm.py>"

    def worth(self, m: int, k: int, n: int) -> bool:
        """Packing both operands pays (else NumPy's call): enough work, and not too thin a
        product (packing costs ~(m + n) * k, the product m * n * k). Measured here at 2 threads:
        256^3 float32 0.89x of NumPy, 320^3 1.33x, 384^3 1.47x (the line falls at ~323^3);
        64 x 4096 @ 4096 x 4096 1.01x, 128 rows 1.43x; float64 gains more at the same sizes
        (1.30x at 256^3, which it takes)."""
        size = self.dtype.itemsize
        return 2 * m * n * k * size >= MIN_WORK and m * n * size >= MIN_THICKNESS * (m + n)

    def __call__(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``out``: a C-contiguous array of the result's shape and dtype to write (OutputCache)."""
        if (b.ndim != 2 or a.ndim < 2 or a.shape[-1] != b.shape[0] or a.dtype != self.dtype
                or b.dtype != self.dtype or (out is not None and not out.flags.c_contiguous)):
            return self._numpy(a, b, out)  # not this product: NumPy's call (and its error), as eager
        k, n = b.shape
        m = math.prod(a.shape[:-1])  # a stack of matrices times one: one product of all its rows
        if not self.worth(m, k, n) or 0 in (m, k, n):
            return self._numpy(a, b, out)  # small, thin or empty: NumPy's own call, as eager
        if out is None:
            out = np.empty((*a.shape[:-1], n), self.dtype)
        self._product(a.reshape(m, k), b, out.reshape(m, n))  # (a copy of a where its rows lie unevenly)
        return out

    def _numpy(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        return self.reference(a, b) if out is None else self.reference(a, b, out=out)

    def _product(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        (m, k), n = a.shape, b.shape[1]
        panels = _ceil_div(n, self.nr)
        npad = panels * self.nr
        chunks = self.pool.chunk_count(0, self.num_threads, self.num_threads) if self.num_threads > 1 else 1
        # Blocks of rows of about equal size, at most MC; column blocks whose panels of b fit
        # B_BLOCK_BYTES, more where the items would be too few to share out evenly.
        row_blocks = _ceil_div(m, MC)
        mc_block = _ceil_div(_ceil_div(m, row_blocks), MR) * MR
        row_blocks = _ceil_div(m, mc_block)
        column_blocks = max(_ceil_div(k * npad * self.dtype.itemsize, B_BLOCK_BYTES),
                            _ceil_div(ITEMS_PER_THREAD * chunks, row_blocks))
        nc = _ceil_div(panels, min(column_blocks, panels)) * self.nr
        depth_blocks = _ceil_div(k, self.kc)
        # (packed_b starts on a vector boundary too: its rows are loaded whole by the micro-kernel)
        a_size = _ceil_div(row_blocks * mc_block * k, lanes(self.dtype)) * lanes(self.dtype)
        b_size = depth_blocks * self.kc * npad
        space = _scratch(a_size + b_size, self.dtype)
        packed_a, packed_b = space[:a_size], space[a_size:]
        a_items = row_blocks * depth_blocks
        pack_dims = np.array([0, a_items + depth_blocks * panels, 0, m, n, k, npad, panels, a_items, mc_block],
                             np.int64)
        dims = np.array([0, chunks, 0, m, n, k, npad, nc, mc_block], np.int64)
        operands = (packed_a, packed_b, out, np.zeros(1, np.int64))
        if chunks > 1:
            self.pool.parallel_for(self.pack, (a, b, packed_a, packed_b), pack_dims, chunks)
            self.pool.parallel_for(self.product, operands, dims, chunks)
        else:
            self.pack((a, b, packed_a, packed_b, pack_dims))
            self.product(operands + (dims,))


def _ceil_div(x: int, y: int) -> int:
    return -(-x // y)


_SPACE = threading.local()


def _scratch(size: int, dtype: np.dtype) -> np.ndarray:
    """``size`` elements of packing space starting on a 64-byte boundary. Up to KEPT_BYTES it is
    this thread's, kept between calls (as OpenBLAS keeps its buffers): writing 32 MiB of fresh
    pages took 2.38 ms here against 0.77 ms for kept ones (one thread), beside ~21 ms for mlp's
    first product."""
    nbytes = size * dtype.itemsize + VECTOR_BYTES
    space = getattr(_SPACE, "bytes", None)
    if space is None or space.nbytes < nbytes:
        space = np.empty(nbytes, np.uint8)
        if nbytes <= KEPT_BYTES:
            _SPACE.bytes = space
    start = -space.ctypes.data % VECTOR_BYTES
    return space[start:start + size * dtype.itemsize].view(dtype)
