"""The fused attention kernel: ``softmax(q @ kt * c, axis=-1) @ v`` in one LLVM function.

passes/attention.py makes the ``attention`` node; this module is its CPU kernel, a hand-blocked
template (as Inductor's CPU GEMM templates are) rather than a loop nest the fusion pass builds.
Per tile of ``ROWS`` query rows of one batch:

1. scores ``S = q[rows] @ kt`` in registers, ``ROWS`` x 2 vectors of accumulators per column
   block, scaled, written to a per-thread row buffer (``ROWS`` x ``npad``; L1-resident). The
   columns past ``N`` (kt is packed with its rows padded to a whole column block) become -inf,
   so they drop out of the max and add 0 to the sum.
2. each row: ``m = max(S)`` (NaN propagates, as in ``np.max``), ``S = exp(S - m)`` in place
   (Ember's own exp, polynomials.py), ``l = sum(S)``.
3. ``out[rows] = (S @ v) / l``, ``ROWS`` x ``OUT_VECTORS`` accumulators per panel of v's
   columns, masked loads and stores at the panel's edge.

Threads take tiles from a shared atomic counter (``counter``), so a thread slowed by another
process (a BLAS thread still spinning after an eager matmul, say) takes fewer tiles instead of
holding everyone up. The scores never reach memory and no BLAS call sits between the steps.

Values: the same steps as NumPy's with a different summation order in both products (as any
BLAS blocking has) and one division per output element instead of one per score:
``(sum_j e_j v_j) / l`` for ``sum_j (e_j / l) v_j``. Within the float tolerance Ember
documents for matmul (rtol 1e-3 at float32, 1e-9 at float64 on well-scaled data); NaN and
infinities propagate as in the NumPy steps (an all -inf row is NaN, as eager's).

Operands (abi.py's tuple): ``q3`` (B, M, D) any strides, ``packed`` (B, D, npad) contiguous,
``v3`` (B, N, Dv) with unit element stride, ``out`` (B, M, Dv) contiguous, ``scratch``
(threads, ROWS * npad), ``counter`` (1,) int64 zero, with a mask ``mask3`` (B, M, N) (zero
strides where broadcast, unit element stride), then dims ``[start, stop, chunk, B, M, N, D, Dv,
npad]``. :class:`AttentionKernel` prepares them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...ir.ops.fused import attention_reference
from .abi import Offsets
from .launch import KERNEL_TYPE
from .math import MathDeclarations
from .polynomials import exp_f32, exp_f64
from .template import TemplateEmitter, lanes

ROWS = 6           # query rows per tile: 6 x 2 score and 6 x 4 output accumulators fit 32 registers
OUT_VECTORS = 4    # vectors of v's columns per output panel
MIN_PARALLEL_FLOPS = 1 << 22  # below this, one thread: a split costs ~20 us


def column_block(dtype: np.dtype) -> int:
    """kt's rows are padded to a multiple of this (two vectors: the score block's width)."""
    return 2 * lanes(dtype)


@dataclass(frozen=True, slots=True)
class Scaling:
    """What happens to the scores between the product and the softmax: the attention node's kwargs."""

    scale: float | None = None
    scale_op: str | None = None  # "multiply", "divide"
    mask_op: str | None = None   # "add", "keep_where", "fill_where" (ir/ops/fused.py)
    fill: float | None = None

    @classmethod
    def of(cls, kwargs: dict) -> Scaling:
        return cls(kwargs.get("scale"), kwargs.get("scale_op"), kwargs.get("mask_op"), kwargs.get("fill"))

    @property
    def skips(self) -> bool:
        """A bool mask whose masked scores are -inf: a tile's columns masked for all its rows add
        exactly nothing (exp(-inf) is 0), so the kernel takes a column range per tile."""
        return self.mask_op in ("keep_where", "fill_where") and self.fill == -np.inf


def function_name(dtype: np.dtype, scaling: Scaling) -> str:
    digest = hashlib.sha256(repr((dtype.str, scaling, ROWS, OUT_VECTORS)).encode()).hexdigest()[:12]
    return f"attention_{dtype.name}_{digest}"


class _Emitter(TemplateEmitter):
    """Writes the kernel's functions (template.py's instructions)."""

    def __init__(self, dtype: np.dtype, scaling: Scaling, decls: MathDeclarations, offsets: Offsets):
        super().__init__(dtype, decls, offsets)
        self.scaling = scaling
        self.name = function_name(self.dtype, scaling)

    # -- the row tile -------------------------------------------------------------------
    def rows_function(self, rows: int) -> str:
        """``@<name>_rows<rows>(q, q_row, q_col, kt, v, v_row, out, out_row, s, n, npad, d, dv, mask,
        mask_row, lo, hi)`` (``mask`` points at the tile's first row; its elements are contiguous).
        Only the score columns ``[lo, hi)`` are computed and read (multiples of the column block;
        ``0, npad`` unless the tile's other columns are masked out for all its rows)."""
        self.scores(rows)
        sums = [self.softmax_row(r) for r in range(rows)]
        self.output(rows, sums)
        return self.function(
            f"define internal void @{self.name}_rows{rows}(ptr noalias %q, i64 %q_row, i64 %q_col, "
            "ptr noalias %kt, ptr noalias %v, i64 %v_row, ptr noalias %out, i64 %out_row, ptr noalias %s, "
            "i64 %n, i64 %npad, i64 %d, i64 %dv, ptr noalias %mask, i64 %mask_row, i64 %lo, i64 %hi) noinline {")

    def scores(self, rows: int) -> None:
        b, v, t = self.b, self.v, self.t
        q_rows = [self.at("%q", b.emit(f"mul i64 {r}, %q_row")) for r in range(rows)]
        kt_row = self.elements("%npad")
        neg_inf = self.splat(self.literal(-np.inf))
        scaling = self.scaling
        factor = None
        if scaling.scale_op is not None and scaling.scale is not None:
            factor = self.splat(self.literal(scaling.scale))

        def column_block(j: str) -> None:
            acc = self.accumulators(2 * rows)

            def depth(k: str) -> None:
                row = self.at("%kt", b.emit(f"mul i64 {k}, {kt_row}"))
                keys = [self.load(v, self.at(row, self.elements(b.emit(f"add i64 {j}, {c * self.n}"))))
                        for c in range(2)]
                q_offset = b.emit(f"mul i64 {k}, %q_col")
                for r in range(rows):
                    query = self.splat(self.load(t, self.at(q_rows[r], q_offset)))
                    for c in range(2):
                        total = self.intrinsic("fma", v, [(v, query), (v, keys[c]), (v, self.load(v, acc[2 * r + c]))])
                        b.line(f"store {v} {total}, ptr {acc[2 * r + c]}")

            self.loop("0", "%d", 1, depth)
            for r in range(rows):
                for c in range(2):
                    column = b.emit(f"add i64 {j}, {c * self.n}")
                    value = self.load(v, acc[2 * r + c])
                    if factor is not None:
                        op = "fmul" if scaling.scale_op == "multiply" else "fdiv"
                        value = b.emit(f"{op} {v} {value}, {factor}")
                    in_row = self.lane_mask(column, "%n")
                    if scaling.mask_op is not None:
                        value = self.apply_mask(value, r, column, in_row)
                    value = b.emit(f"select <{self.n} x i1> {in_row}, {v} {value}, {v} {neg_inf}")
                    offset = self.elements(b.emit(f"add i64 {b.emit(f'mul i64 {r}, %npad')}, {column}"))
                    b.line(f"store {v} {value}, ptr {self.at('%s', offset)}, align 1")

        self.loop("%lo", "%hi", 2 * self.n, column_block)

    def apply_mask(self, value: str, r: int, column: str, in_row: str) -> str:
        """The masked scores: ``value + mask`` or a select with the fill, reading only columns < N."""
        b, v, n = self.b, self.v, self.n
        scaling = self.scaling
        element = self.t if scaling.mask_op == "add" else "i8"
        width = self.dtype.itemsize if scaling.mask_op == "add" else 1
        row = self.at("%mask", b.emit(f"mul i64 {r}, %mask_row"))
        at = self.at(row, b.emit(f"mul i64 {column}, {width}"))
        vector = f"<{n} x {element}>"
        suffix = f"{self.suffix if element == self.t else f'v{n}i8'}.p0"
        mask = self.intrinsic("masked.load", vector, [("ptr", at), ("i32", "1"), (f"<{n} x i1>", in_row),
                                                      (vector, "zeroinitializer")], suffix=suffix)
        if scaling.mask_op == "add":
            return b.emit(f"fadd {v} {value}, {mask}")
        assert scaling.fill is not None
        keep = b.emit(f"icmp ne {vector} {mask}, zeroinitializer")
        fill = self.splat(self.literal(scaling.fill))
        first, second = (value, fill) if scaling.mask_op == "keep_where" else (fill, value)
        return b.emit(f"select <{n} x i1> {keep}, {v} {first}, {v} {second}")

    def softmax_row(self, r: int) -> str:
        """Max, exp in place and sum over row ``r`` of the score buffer; returns the sum."""
        b, v = self.b, self.v
        row = self.at("%s", self.elements(b.emit(f"mul i64 {r}, %npad")))
        (top,) = self.accumulators(1, init=f"<{', '.join([f'{self.t} {self.literal(-np.inf)}'] * self.n)}>")

        def find_max(j: str) -> None:
            x = self.load(v, self.at(row, self.elements(j)))
            b.line(f"store {v} {self.intrinsic('maximum', v, [(v, self.load(v, top)), (v, x)])}, ptr {top}")

        self.loop("%lo", "%hi", self.n, find_max)
        peak = self.splat(self.intrinsic("vector.reduce.fmaximum", self.t, [(v, self.load(v, top))]))
        (total,) = self.accumulators(1)

        def exponentiate(j: str) -> None:
            at = self.at(row, self.elements(j))
            e = b.emit(f"call {v} @{self.name}_vexp({v} {b.emit(f'fsub {v} {self.load(v, at)}, {peak}')})")
            b.line(f"store {v} {e}, ptr {at}, align 1")
            b.line(f"store {v} {b.emit(f'fadd {v} {self.load(v, total)}, {e}')}, ptr {total}")

        self.loop("%lo", "%hi", self.n, exponentiate)
        return self.splat(self.intrinsic("vector.reduce.fadd", self.t, [(self.t, "-0.0"), (v, self.load(v, total))]))

    def output(self, rows: int, sums: list[str]) -> None:
        b, v, t = self.b, self.v, self.t
        width = OUT_VECTORS * self.n
        score_rows = [self.at("%s", self.elements(b.emit(f"mul i64 {r}, %npad"))) for r in range(rows)]
        last_key = self.smaller("%hi", "%n")

        def panel(p: str) -> None:
            masks = [self.lane_mask(b.emit(f"add i64 {p}, {c * self.n}"), "%dv") for c in range(OUT_VECTORS)]
            offsets = [self.elements(b.emit(f"add i64 {p}, {c * self.n}")) for c in range(OUT_VECTORS)]
            acc = self.accumulators(rows * OUT_VECTORS)

            def key(j: str) -> None:
                v_row = self.at("%v", b.emit(f"mul i64 {j}, %v_row"))
                values = [self.intrinsic("masked.load", v, [("ptr", self.at(v_row, offsets[c])), ("i32", "1"),
                                                             (f"<{self.n} x i1>", masks[c]), (v, "zeroinitializer")],
                                         suffix=f"{self.suffix}.p0")
                          for c in range(OUT_VECTORS)]
                for r in range(rows):
                    weight = self.splat(self.load(t, self.at(score_rows[r], self.elements(j))))
                    for c in range(OUT_VECTORS):
                        slot = acc[r * OUT_VECTORS + c]
                        total = self.intrinsic("fma", v, [(v, weight), (v, values[c]), (v, self.load(v, slot))])
                        b.line(f"store {v} {total}, ptr {slot}")

            self.loop("%lo", last_key, 1, key)
            for r in range(rows):
                out_row = self.at("%out", b.emit(f"mul i64 {r}, %out_row"))
                for c in range(OUT_VECTORS):
                    value = b.emit(f"fdiv {v} {self.load(v, acc[r * OUT_VECTORS + c])}, {sums[r]}")
                    self.intrinsic("masked.store", "void", [(v, value), ("ptr", self.at(out_row, offsets[c])),
                                                            ("i32", "1"), (f"<{self.n} x i1>", masks[c])],
                                   suffix=f"{self.suffix}.p0")

        self.loop("0", "%dv", width, panel)

    # -- exp on a vector, and the entry ---------------------------------------------------
    def exp_functions(self) -> list[str]:
        """Own scalar exp (always inlined), and a lane-wise vector form the SLP vectorizer widens."""
        scalar = (exp_f32 if self.t == "float" else exp_f64)(self.b, "%x")
        text = self.function(f"define internal {self.t} @{self.name}_exp({self.t} %x) alwaysinline {{",
                             ret=f"ret {self.t} {scalar}")
        lanes_text = [f"define internal {self.v} @{self.name}_vexp({self.v} %x) alwaysinline {{", "entry:"]
        vector = "poison"
        for i in range(self.n):
            lanes_text += [f"  %x{i} = extractelement {self.v} %x, i64 {i}",
                           f"  %y{i} = call {self.t} @{self.name}_exp({self.t} %x{i})",
                           f"  %r{i} = insertelement {self.v} {vector}, {self.t} %y{i}, i64 {i}"]
            vector = f"%r{i}"
        lanes_text += [f"  ret {self.v} {vector}", "}"]
        return [text, "\n".join(lanes_text)]

    def entry(self) -> str:
        """``@<name>(ptr %args)``: take tiles from the counter until none is left."""
        b = self.b
        masked, skips = self.scaling.mask_op is not None, self.scaling.skips
        operands = 7 + masked + skips
        item, data = self.operands(operands)
        q, packed, v, out, scratch, counter, dims = *data[:6], data[-1]
        size = {name: self.load("i64", self.at(dims, str(8 * i)))
                for i, name in enumerate(("start", "stop", "chunk", "batch", "m", "n", "d", "dv", "npad"))}
        q_stride, v_stride = self.strides(item[0], 3), self.strides(item[2], 2)
        chunk, count, m, n, d, dv, npad = (size[k] for k in ("chunk", "batch", "m", "n", "d", "dv", "npad"))
        s = self.at(scratch, self.elements(b.emit(f"mul i64 {chunk}, {b.emit(f'mul i64 {npad}, {ROWS}')}")))
        tiles_per_batch = self.ceil_div(m, ROWS)
        tiles = b.emit(f"mul i64 {count}, {tiles_per_batch}")
        out_row = self.elements(dv)

        def work(tile: str) -> None:
            batch, tile_in_batch = self.split(tile, tiles_per_batch)
            row0 = b.emit(f"mul i64 {tile_in_batch}, {ROWS}")
            q_batch = self.at(q, b.emit(f"mul i64 {batch}, {q_stride[0]}"))
            q_tile = self.at(q_batch, b.emit(f"mul i64 {row0}, {q_stride[1]}"))
            mask_tile, mask_row = "null", "0"
            if masked:
                mask_stride = self.strides(item[6], 2)
                mask_batch = self.at(data[6], b.emit(f"mul i64 {batch}, {mask_stride[0]}"))
                mask_tile, mask_row = self.at(mask_batch, b.emit(f"mul i64 {row0}, {mask_stride[1]}")), mask_stride[1]
            kt_batch = self.at(packed, self.elements(b.emit(f"mul i64 {batch}, {b.emit(f'mul i64 {d}, {npad}')}")))
            v_batch = self.at(v, b.emit(f"mul i64 {batch}, {v_stride[0]}"))
            first_row = b.emit(f"add i64 {b.emit(f'mul i64 {batch}, {m}')}, {row0}")
            out_tile = self.at(out, self.elements(b.emit(f"mul i64 {first_row}, {dv}")))
            common = f"i64 {n}, i64 {npad}, i64 {d}, i64 {dv}"
            lo, hi = "0", npad
            if skips:  # bounds: (tiles, 2) int64, each tile's first and last-plus-one score column
                bounds = self.at(data[7], b.emit(f"mul i64 {tile}, 16"))
                lo, hi = self.load("i64", bounds), self.load("i64", self.at(bounds, "8"))

            def call(rows: int, q_at: str, out_at: str, mask_at: str) -> None:
                b.line(f"call void @{self.name}_rows{rows}(ptr {q_at}, i64 {q_stride[1]}, i64 {q_stride[2]}, "
                       f"ptr {kt_batch}, ptr {v_batch}, i64 {v_stride[1]}, ptr {out_at}, i64 {out_row}, "
                       f"ptr {s}, {common}, ptr {mask_at}, i64 {mask_row}, i64 {lo}, i64 {hi})")

            left = b.emit(f"sub i64 {m}, {row0}")
            b.line(f"br i1 {b.emit(f'icmp sge i64 {left}, {ROWS}')}, label %full, label %partial")
            b.label("%full")
            call(ROWS, q_tile, out_tile, mask_tile)
            b.line("br label %next")
            b.label("%partial")

            def one_row(r: str) -> None:
                mask_at = self.at(mask_tile, b.emit(f"mul i64 {r}, {mask_row}")) if masked else "null"
                call(1, self.at(q_tile, b.emit(f"mul i64 {r}, {q_stride[1]}")),
                     self.at(out_tile, b.emit(f"mul i64 {r}, {out_row}")), mask_at)

            self.loop("0", left, 1, one_row)

        self.for_each_item(counter, tiles, work)
        return self.function(f"define void @{self.name}(ptr %args) {{")


def attention_function(dtype: np.dtype, scaling: Scaling, decls: MathDeclarations,
                       offsets: Offsets) -> tuple[str, str]:
    """(name, text) of the kernel for this dtype and scaling; its declarations go to ``decls``."""
    emitter = _Emitter(np.dtype(dtype), scaling, decls, offsets)
    parts = [*emitter.exp_functions(), emitter.rows_function(ROWS), emitter.rows_function(1), emitter.entry()]
    return emitter.name, "\n\n".join(parts)




class AttentionKernel:
    """The per-call side: ``kernel(q, kt, v[, mask])`` == ``attention_reference`` with the same arguments."""

    def __init__(self, address: int, dtype: np.dtype, scaling: Scaling, pool: Any, num_threads: int):
        self.kernel = KERNEL_TYPE(address)
        self.dtype = np.dtype(dtype)
        self.scaling = scaling
        self.pool = pool
        self.num_threads = num_threads if pool is not None else 1
        self.block = column_block(self.dtype)

    def __repr__(self) -> str:
        return f"<fused attention kernel, {self.dtype.name}, codegen/llvm/attention.py>"

    def _column_bounds(self, mask3: np.ndarray, v3: np.ndarray, m: int, n: int, npad: int) -> np.ndarray:
        """(batch * tiles, 2) int64: per tile of ``ROWS`` query rows, the column blocks holding
        every score the mask keeps. Columns outside add exactly nothing (exp(-inf) is 0, and 0 * v
        is 0 for finite v), so skipping them changes no bit; a tile that keeps nothing (its rows
        are NaN, as eager's), or non-finite v (0 * inf is NaN in eager's product), takes all."""
        tiles = -(-m // ROWS)
        bounds = np.empty((len(mask3), tiles, 2), np.int64)
        bounds[...] = (0, npad)
        if not np.isfinite(v3).all():
            return bounds.reshape(-1, 2)
        unique = mask3[:1] if mask3.strides[0] == 0 else mask3  # a mask broadcast over the batch: once
        padded = np.zeros((len(unique), tiles * ROWS, n), bool)
        padded[:, :m] = unique if self.scaling.mask_op == "keep_where" else ~unique
        columns: np.ndarray = np.any(padded.reshape(len(unique), tiles, ROWS, n), axis=2)
        any_kept = columns.any(axis=2)
        first = columns.argmax(axis=2) // self.block * self.block
        last = n - columns[..., ::-1].argmax(axis=2)
        limit = np.minimum(-(-last // self.block) * self.block, npad)
        bounds[:, :, 0] = np.where(any_kept, first, 0)
        bounds[:, :, 1] = np.where(any_kept, limit, npad)
        return bounds.reshape(-1, 2)

    def __call__(self, q: np.ndarray, kt: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        m, d = q.shape[-2:]
        n, dv = v.shape[-2:]
        if 0 in q.shape or 0 in kt.shape or 0 in v.shape:  # empty: NumPy's result or NumPy's error
            s = self.scaling
            return attention_reference(*((q, kt, v) if mask is None else (q, kt, v, mask)), scale=s.scale,
                                       scale_op=s.scale_op, mask_op=s.mask_op, fill=s.fill)
        q3 = q.reshape(-1, m, d)
        v3 = v.reshape(-1, n, dv)
        if v3.strides[-1] != self.dtype.itemsize:
            v3 = np.ascontiguousarray(v3)
        batch = q3.shape[0]
        npad = -(-n // self.block) * self.block
        packed = np.empty((batch, d, npad), self.dtype)
        packed[:, :, :n] = kt.reshape(-1, d, n)
        out = np.empty((batch, m, dv), self.dtype)
        flops = 2 * batch * m * n * (d + dv)
        chunks = 1
        if self.num_threads > 1 and flops >= MIN_PARALLEL_FLOPS:
            chunks = self.pool.chunk_count(0, self.num_threads, self.num_threads)
        scratch = np.empty((chunks, ROWS * npad), self.dtype)
        operands: tuple = (q3, packed, v3, out, scratch, np.zeros(1, np.int64))
        if mask is not None:  # broadcast to the scores (zero strides), elements contiguous
            mask3 = np.broadcast_to(mask, (*q.shape[:-1], n)).reshape(-1, m, n)
            if mask3.strides[-1] != mask3.itemsize:
                mask3 = np.ascontiguousarray(mask3)
            operands += (mask3,)
            if self.scaling.skips:
                operands += (self._column_bounds(mask3, v3, m, n, npad),)
        dims = np.array([0, chunks, 0, batch, m, n, d, dv, npad], np.int64)
        if chunks > 1:
            self.pool.parallel_for(self.kernel, operands, dims, chunks)
        else:
            self.kernel(operands + (dims,))
        return out.reshape(*q.shape[:-1], dv)
