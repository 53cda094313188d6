"""One fused kernel -> one LLVM function (textual IR), shape-agnostic.

Shape of the generated code::

    define void @k_<hash>(ptr %args)        ; a tuple: operands..., dims=[start, stop, chunk, n0, ...]
      entry: read each operand's data pointer and byte strides from its PyArrayObject
      elementwise kernel (no reduce axes):
        all operands C-contiguous?  -> one flat loop with unit-stride element GEPs
        else nested loops; innermost loop in two copies: unit-stride (vectorizes) / strided;
        the last two axes also by 32x32 tiles, taken when an operand's memory crosses the rows
      reduction kernel:
        loops over the outer axes; per outer index, one pass over the reduced axes per
        level of reduction (softmax: max, sum, then the output), each pass's innermost loop
        again unit-stride / strided; values of the outer layout in between
      reduction kernel whose innermost axis in memory is kept (x.sum(axis=0), batch norm; a
        row reduction of x.T): per level, one sweep over the whole domain in memory order
        into arrays of accumulators over the kept axes (extra operands), which are then
        finished in place and read back; the memory order is C order, or the one the wrapper
        found on a first call and emitted this kernel again for (wrapper.py)
      full reduction (l2norm, ``x.sum()``, ``(x - x.mean()) / x.std()``; no outer axes to
        split): modes chosen by ``chunk``: -1 every pass over everything; else one pass, the
        last dims item: chunk >= 0 rows [start, stop) of the first reduced axis, accumulators
        written unfinished to ``partials[chunk]``; -2 combine ``partials[0:stop]``, finish, and
        keep the results in ``finished`` for later passes (or store them, after the last)

The loop bodies are scalar; the loop vectorizer widens them (libmvec for math, vector
accumulators for reductions: ``reassoc`` only on the accumulating ``fadd``/``fmul``).
Float32 sums accumulate in float64: more accurate than NumPy's pairwise float32 sums, so
they differ from NumPy by NumPy's own rounding error (~1e-6 relative).
Loops whose element pointers are stored to fresh buffers carry ``!noalias`` metadata so the
vectorizer needs no run-time alias checks; writes into a setitem destination carry none.
Sizes and strides are run-time values, so one compiled kernel serves every shape.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable

import numpy as np

from ...ir import Node, OpKind
from ...passes.kernels import FULL, Kernel, Store, StoreKind
from .abi import Offsets
from .emit_reduction import ReductionEmission, SplitReduction
from .lowering import Builder, Unsupported, Value, abs_i64, cast, constant, lower_elementwise, memory_type, truth
from .math import MathDeclarations, calls_own_vector_math
from .operands import Operand, Scope
from .reductions import SUM_BLOCK, ReductionPlan, plan_reduction
from .staging import TILE, scratch_type, stage_function

F32 = np.dtype("float32")
LONG_LOOP_BODY = 32  # lines of IR: black_scholes' body has 161, log1p(x) * exp(-x) 41, sin(x) 7


class KernelEmitter(ReductionEmission):
    """Lowers one kernel to one LLVM function (the module docstring shows its shape)."""

    def __init__(self, kernel: Kernel, decls: MathDeclarations, offsets: Offsets,
                 layout: tuple[int, ...] | None = None):
        self.k = kernel
        self.b = Builder(decls)
        self.offsets = offsets
        self.ndim = len(kernel.domain)
        self.reduce = kernel.reduce_axes
        self.outer = kernel.outer_axes
        self.operands: list[Operand] = []
        self.load_operand: dict[tuple[Node, tuple[int, ...]], Operand] = {}
        for load in kernel.loads:
            op = Operand(len(self.operands), load.node.meta.dtype, load.axes, load.broadcast, False)
            self.operands.append(op)
            self.load_operand[(load.node, load.axes)] = op
        self.store_operands: list[tuple[Store, Operand]] = []
        for store in kernel.stores:
            dtype = store.node.meta.dtype if store.setitem is None else store.setitem.args[0].meta.dtype
            sizes = store.node.meta.shape if store.setitem is None else kernel.domain
            broadcast = tuple(d == 1 for d in sizes)
            op = Operand(len(self.operands), dtype, store.axes, broadcast, True)
            # A fresh output aliases nothing else the kernel touches (a setitem's destination may
            # be any loaded array's memory: it has no scope, and only fresh outputs are noalias to
            # it). Without scopes, 19 masks stored beside an n += ... kept mandelbrot's loop scalar.
            if store.kind is StoreKind.NEW:
                op.scope = len(self.store_operands)
            self.operands.append(op)
            self.store_operands.append((store, op))
        # An in-place write to memory the kernel also loads goes through the load's pointer: the
        # vectorizer then sees one address read and written per element (two pointers to the same
        # memory, it checks for overlap at run time, finds it, and runs the scalar loop).
        identity = tuple(range(len(kernel.domain)))
        self.written_through: dict[int, int] = {
            op.index: self.load_operand[(store.reads, identity)].index
            for store, op in self.store_operands if store.reads is not None}
        # A fresh output written over a dead value's buffer (passes/memory.py) is that value's
        # memory: its load joins the store's alias scope, so no access is reordered across them.
        for store_index, load_index in self.written_through.items():
            self.operands[load_index].scope = self.operands[store_index].scope
        self.current_pass = 0
        self.plans: dict[Node, ReductionPlan] = {n: plan_reduction(n) for n in kernel.nodes
                                                 if n.op.kind is OpKind.REDUCTION}
        self._analyse()
        # A kernel that reduces everything splits its passes across threads (emit_reduction.py):
        # an accumulator per stage and chunk, and the finished stages that later passes read.
        self.partials: dict[tuple[Node, int], Operand] = {}
        self.finished_buffer: Operand | None = None
        self.finished_slots: dict[tuple[Node, int], int] = {}
        self.finished_dtypes: dict[tuple[Node, int], np.dtype] = {}
        if self.splits:
            for node, plan in self.plans.items():
                for i, stage in enumerate(plan.stages):
                    self.partials[(node, i)] = Operand(len(self.operands), stage.acc_dtype, (), (), True)
                    self.operands.append(self.partials[(node, i)])
            if self.num_passes > 1:
                self.finished_slots = {stage: slot for slot, stage in enumerate(self.partials)}
                self.finished_buffer = Operand(len(self.operands), np.dtype(np.uint8), (), (), True)
                self.operands.append(self.finished_buffer)
        # A reduction whose innermost axis in memory is kept sweeps the domain in memory order,
        # each stage into an array of accumulators over the kept axes (extra operands;
        # emit_reduction.py). ``layout`` is the memory order the kernel is emitted for (outermost
        # first; C order unless the wrapper found another on a first call and asked for this
        # kernel again): any order computes the same values, only the speed differs. The
        # accumulators are operands whatever the order, so every order's kernel takes the same
        # arguments (the wrapper gives one-element stand-ins to a kernel that does not sweep).
        self.layout = layout if layout is not None else tuple(range(self.ndim))
        self.sweep_order: tuple[int, ...] | None = None
        self.accumulators: dict[tuple[Node, int], Operand] = {}
        if self.plans and self.reduce and self.outer:
            if self.layout[-1] in self.outer:
                self.sweep_order = self.layout
            for node, plan in self.plans.items():
                for i, stage in enumerate(plan.stages):
                    op = Operand(len(self.operands), stage.acc_dtype, self.outer, (False,) * len(self.outer), True)
                    op.scope = len(self.store_operands) + len(self.accumulators)  # (fresh scratch: aliases nothing)
                    self.accumulators[(node, i)] = op
                    self.operands.append(op)

    # ------------------------------------------------------------------ analysis
    def _analyse(self) -> None:
        """Level (full: varies along the reduced axes; outer: doesn't) and availability
        (the pass after which a value can be computed) of every member."""
        self.full: dict[Node, bool] = {}
        self.avail: dict[Node, int] = {}
        members = self.k.layouts
        for node in self.k.nodes:
            if node.op.kind is OpKind.REDUCTION:
                source = node.args[0]
                base = self.avail[source] if source in members else 0
                self.full[node] = False
                self.avail[node] = base + len(self.plans[node].stages)
                continue
            full, avail = False, 0
            for arg in node.input_nodes():
                if arg in members:
                    full |= self.full[arg]
                    avail = max(avail, self.avail[arg])
                else:
                    full |= self._load_is_full(self._operand_for(node, arg))
            self.full[node], self.avail[node] = full or not self.reduce, avail
        passes = [self._reduction_pass(n) + len(p.stages) for n, p in self.plans.items()]
        passes += [self.avail[s.node] + 1 for s, _ in self.store_operands if self._store_is_full(s)]
        self.num_passes = max(passes, default=1)
        self._plan_spills()

    @property
    def splits(self) -> bool:
        """Everything reduced (no outer axes): per pass, threads can each run a slice of the first
        reduced axis, and one more call combines the slices' accumulators."""
        return bool(self.plans) and not self.outer and bool(self.reduce)

    def _reduction_pass(self, node: Node) -> int:
        source = node.args[0]
        return self.avail[source] if source in self.k.layouts else 0

    def _operand_for(self, user: Node, arg: Node) -> Operand:
        axes, _ = self.k.load_mapping(user, arg)
        return self.load_operand[(arg, axes)]

    def _load_is_full(self, op: Operand) -> bool:
        return any(a in self.reduce and not bc for a, bc in zip(op.axes, op.broadcast, strict=True))

    def _store_is_full(self, store) -> bool:
        return store.setitem is not None or self.k.layouts[store.node] == FULL

    def _store_pass(self, store) -> int:
        """The pass that writes ``store``: the one that computes its value, except that an
        in-place write (setitem) waits for the last pass, after every read of its destination
        in earlier passes (fusion relies on this; Triton's kernels store in their last pass too)."""
        return self.num_passes - 1 if store.setitem is not None else self.avail[store.node]

    # ------------------------------------------------------------------ emission
    def emit(self) -> tuple[str, str]:
        """(function name, function text with alias-metadata placeholders ``!@N``)."""
        b = self.b
        self._entry()
        if not self.plans:  # (0-d reductions and axis=() ones have no reduced axes but do have passes)
            self._elementwise_body()
        else:
            self._reduction_body()
        b.line("ret void")
        body = "\n".join(["entry:"] + b.allocas + b.lines)
        digest = hashlib.sha256(body.encode()).hexdigest()[:20]
        name = f"k_{digest}"
        return name, f"define void @{name}(ptr %args) nounwind {{\n{body}\n}}"

    def _entry(self) -> None:
        b, off = self.b, self.offsets
        count = len(self.operands)
        dims_obj = self._load_ptr("%args", off.tuple_items + 8 * count)
        self.dims = dims = self._load_ptr(dims_obj, off.array_data)
        self.start = b.emit(f"load i64, ptr {dims}")
        self.stop = b.emit(f"load i64, ptr {b.emit(f'getelementptr i64, ptr {dims}, i64 1')}")
        self.chunk = b.emit(f"load i64, ptr {b.emit(f'getelementptr i64, ptr {dims}, i64 2')}")
        self.sizes = [b.emit(f"load i64, ptr {b.emit(f'getelementptr i64, ptr {dims}, i64 {3 + a}')}")
                      for a in range(self.ndim)]
        for op in self.operands:
            item = b.emit(f"getelementptr i8, ptr %args, i64 {off.tuple_items + 8 * op.index}")
            obj = b.emit(f"load ptr, ptr {item}")
            op.data = self._load_ptr(obj, off.array_data)
            if not op.axes:
                continue
            strides = self._load_ptr(obj, off.array_strides)
            for j, (axis, bc) in enumerate(zip(op.axes, op.broadcast, strict=True)):
                if not bc:
                    at = b.emit(f"getelementptr i64, ptr {strides}, i64 {j}")
                    op.strides[axis] = b.emit(f"load i64, ptr {at}")
        self.count = "1"
        for axis in self.reduce:
            self.count = b.emit(f"mul i64 {self.count}, {self.sizes[axis]}")

    def _load_ptr(self, base: str, offset: int) -> str:
        at = self.b.emit(f"getelementptr i8, ptr {base}, i64 {offset}")
        return self.b.emit(f"load ptr, ptr {at}")

    # -- loops
    def _loop(self, lo: str, hi: str, body: Callable[[str], None]) -> None:
        self.b.loop(lo, hi, body, self._interleave)

    def _scalar(self, body_lines: list[str]) -> str:
        """Loop metadata that keeps the vectorizer off a loop (jit.py)."""
        return f", !llvm.loop !@scalar{self.b.fresh('l')[2:]}"

    def _interleave(self, body_lines: list[str]) -> str:
        """Interleave two vector iterations where the vectorizer's own pick is known to lose:
        own vector math is inlined after vectorization, and more copies than 2 spill its
        tables (it priced a call); a long body around a vector-math call gets no interleaving
        at all, and its division and polynomial chains then run one iteration at a time
        (black_scholes 19.8-20.8 -> 15.9-17.4 ms, log1p(x) * exp(-x) on 4M float64 8.8-9.4 ->
        5.4-5.5 ms; short call loops such as sin(x) lose with 2, so they keep the pick)."""
        b = self.b
        calls = any(f"@{symbol}(" in line for symbol in b.decls.call_attributes for line in body_lines)
        interleave = calls_own_vector_math(body_lines) or (calls and len(body_lines) >= LONG_LOOP_BODY)
        return f", !llvm.loop !@{b.fresh('loop')[1:]}" if interleave else ""

    def _advance(self, ptrs: dict[int, str], axis: int, i: str, ops: list[Operand]) -> dict[int, str]:
        moved = dict(ptrs)
        for op in ops:
            if op.moves_along(axis):
                offset = self.b.emit(f"mul i64 {i}, {op.strides[axis]}")
                moved[op.index] = self.b.emit(f"getelementptr i8, ptr {ptrs[op.index]}, i64 {offset}")
        return moved

    def _nest(self, axes: tuple[int, ...], ptrs: dict[int, str], ops: list[Operand],
              body: Callable[[dict[int, str]], None], split_first: bool, vectorize: bool = True,
              split_axis: int | None = None, tile: bool = False,
              after_block: Callable[[str], None] | None = None) -> None:
        """Loops over ``axes``; the innermost in a unit-stride and a strided copy. The first axis
        (``split_first``), or ``split_axis`` wherever it is, runs over the chunk [start, stop).
        ``tile``: the last two axes also in a copy by tiles, taken when an operand crosses them.
        ``after_block``: the innermost loop runs in blocks of ``SUM_BLOCK``, this after each
        (given the block's length)."""
        if not axes:
            body(ptrs)
            return
        axis = axes[0]
        if split_first:
            split_axis = axis
        lo, hi = (self.start, self.stop) if axis == split_axis else ("0", self.sizes[axis])
        if tile and len(axes) == 2 and vectorize:
            self._crossing_or_not(axis, axes[1], lo, hi, ptrs, ops, body, split_axis)
            return
        if len(axes) > 1 or not vectorize:
            self._loop(lo, hi, lambda i: self._nest(axes[1:], self._advance(ptrs, axis, i, ops), ops, body,
                                                    False, vectorize, split_axis, tile, after_block))
            return
        if after_block is None:
            self._row(axis, lo, hi, ptrs, ops, body)
            return

        def block(first: str, last: str) -> None:
            self._row(axis, first, last, ptrs, ops, body)
            after_block(self.b.emit(f"sub i64 {last}, {first}"))
        self._chunks(lo, hi, SUM_BLOCK, block)

    def _chunks(self, lo: str, hi: str, size: int, each: Callable[[str, str], None]) -> None:
        """``each(first, last)`` for the chunks of ``size`` (the last may be shorter) of [lo, hi)."""
        b = self.b
        b.loop(lo, hi, lambda first: each(first, b.call_intrinsic("smin", "i64", [b.emit(f"add i64 {first}, {size}"),
                                                                                 hi])), step=size)

    def _row(self, axis: int, lo: str, hi: str, ptrs: dict[int, str], ops: list[Operand],
             body: Callable[[dict[int, str]], None]) -> None:
        """The innermost loop, over [lo, hi) of ``axis``: a unit-stride copy (the one that
        vectorizes) and a strided one."""
        b = self.b
        moving = [op for op in ops if op.moves_along(axis)]
        fast = "true"
        for op in moving:
            fast = b.emit(f"and i1 {fast}, {b.emit(f'icmp eq i64 {op.strides[axis]}, {op.itemsize}')}")
        # The strided copy is not vectorized: strides known only at run time leave the vectorizer
        # gathers at best, and its try at every strided copy of a body was a good part of a cold
        # compile (jacobi 0.61 -> 0.45-0.52 s, gelu 0.38 -> 0.29 s; x[:, ::2] * 2 + 1 on 2000x4000
        # float32 3.9 -> 2.7 ms).
        b.branch(fast, lambda: self._loop(lo, hi, lambda i: body(self._element_ptrs(ptrs, i, moving))),
                 lambda: b.loop(lo, hi, lambda i: body(self._advance(ptrs, axis, i, ops)), self._scalar),
                 ("unit", "strided"))

    def _crossing_or_not(self, outer: int, inner: int, lo: str, hi: str, ptrs: dict[int, str], ops: list[Operand],
                         body: Callable[[dict[int, str]], None], split_axis: int | None) -> None:
        """The last two axes: row by row; column by column when the memory of every operand that
        moves along both runs across the rows (``x.T * 2``, whose output NumPy lays out as x.T:
        8.2 ms by tiles, 2000x2000 float32); or, when only some do (``x + x.T``, a copy of a
        transposed array), by tiles of ``TILE`` x ``TILE``, so that the rows they touch stay in
        cache and TLB from one row of the tile to the next (x + x.T of 4096x4096 float32: 56 ms
        row by row)."""
        b = self.b
        crossing, all_crossing = "false", None
        for op in ops:
            if op.moves_along(inner) and op.moves_along(outer):
                wider = b.emit(f"icmp sgt i64 {abs_i64(b, op.strides[inner])}, {abs_i64(b, op.strides[outer])}")
                crossing = b.emit(f"or i1 {crossing}, {wider}")
                all_crossing = wider if all_crossing is None else b.emit(f"and i1 {all_crossing}, {wider}")
        tiled, rows, columns, across, after = (b.fresh(n) for n in ("tiled", "rows", "columns", "across", "after"))
        b.line(f"br i1 {crossing}, label {across}, label {rows}")
        b.label(rows)
        self._loop(lo, hi, lambda i: self._nest((inner,), self._advance(ptrs, outer, i, ops), ops, body, False,
                                                True, split_axis))
        b.line(f"br label {after}")
        b.label(across)
        b.line(f"br i1 {all_crossing or 'false'}, label {columns}, label {tiled}")
        b.label(columns)
        first, last = "0", self.sizes[inner]
        if outer == split_axis:  # a thread takes a share of the columns, whole: its memory is one run
            def share(row: str) -> str:
                return b.emit(f"sdiv i64 {b.emit(f'mul i64 {row}, {self.sizes[inner]}')}, {self.sizes[outer]}")
            first, last = share(lo), share(hi)
        self._loop(first, last, lambda j: self._nest((outer,), self._advance(ptrs, inner, j, ops), ops, body, False,
                                                     True, None))
        b.line(f"br label {after}")
        b.label(tiled)

        # (Not a load whose memory the kernel writes through its pointer: the writes must reach it.)
        written = set(self.written_through.values())
        staged = [op for op in ops if not op.is_store and op.index not in written
                  and op.moves_along(inner) and op.moves_along(outer)]
        scratch = {op.index: b.alloca(scratch_type(op.itemsize)) for op in staged}

        def block(i0: str, i1: str, j0: str, j1: str) -> None:
            tile_ptrs, tile_ops = dict(ptrs), list(ops)
            for op in staged:
                tile_ptrs[op.index], tile_ops[ops.index(op)] = self._staged(op, ptrs[op.index], scratch[op.index],
                                                                            outer, inner, i0, i1, j0, j1)
            self._loop(i0, i1, lambda i: self._row(inner, j0, j1, self._advance(tile_ptrs, outer, i, tile_ops),
                                                   tile_ops, body))

        self._chunks(lo, hi, TILE, lambda i0, i1: self._chunks("0", self.sizes[inner], TILE,
                                                                lambda j0, j1: block(i0, i1, j0, j1)))
        b.line(f"br label {after}")
        b.label(after)

    def _staged(self, op: Operand, data: str, scratch: str, outer: int, inner: int, i0: str, i1: str, j0: str,
                j1: str) -> tuple[str, Operand]:
        """A loaded operand of a tile, read where its memory runs along the tile's rows: when it
        crosses them, the tile is first copied into ``scratch`` (TILE x TILE, row after row; by
        the module's staging function, staging.py), and the kernel's rows then read it with
        unit stride and vectorize (2000x2000 float32: x + x.T 9.2-9.9 -> 6.4-6.7 ms, x.T.copy()
        7.6 -> 4.6-4.8 ms, np.exp(x.T) * x 18.4 -> 10.4-11.5 ms). Returns the pointer and the
        operand (its strides) that index it as [i, j] over the whole domain."""
        b = self.b
        size = op.itemsize
        crosses = b.emit(f"icmp sgt i64 {abs_i64(b, op.strides[inner])}, {abs_i64(b, op.strides[outer])}")
        copy, done = b.fresh("stage"), b.fresh("staged")
        b.line(f"br i1 {crosses}, label {copy}, label {done}")
        b.label(copy)
        offset = b.emit(f"add i64 {b.emit(f'mul i64 {i0}, {op.strides[outer]}')}, "
                        f"{b.emit(f'mul i64 {j0}, {op.strides[inner]}')}")
        corner = b.emit(f"getelementptr i8, ptr {data}, i64 {offset}")  # element [i0, j0]
        rows, columns = b.emit(f"sub i64 {i1}, {i0}"), b.emit(f"sub i64 {j1}, {j0}")
        stage = stage_function(b.decls, size, op.dtype.alignment)
        b.line(f"call void @{stage}(ptr {corner}, i64 {op.strides[outer]}, i64 {op.strides[inner]}, "
               f"ptr {scratch}, i64 {rows}, i64 {columns})")
        b.line(f"br label {done}")
        b.label(done)
        # Indexed as [i, j] from the domain's origin, the tile's copy starts at [i0, j0].
        first = b.emit(f"add i64 {b.emit(f'mul i64 {i0}, {TILE}')}, {j0}")
        origin = b.emit(f"mul i64 {first}, {-size}")
        base = b.emit(f"select i1 {crosses}, ptr {b.emit(f'getelementptr i8, ptr {scratch}, i64 {origin}')}, "
                      f"ptr {data}")
        strides = dict(op.strides)
        strides[outer] = b.emit(f"select i1 {crosses}, i64 {TILE * size}, i64 {op.strides[outer]}")
        strides[inner] = b.emit(f"select i1 {crosses}, i64 {size}, i64 {op.strides[inner]}")
        return base, dataclasses.replace(op, strides=strides)

    def _element_ptrs(self, ptrs: dict[int, str], i: str, moving: list[Operand]) -> dict[int, str]:
        moved = dict(ptrs)
        for op in moving:
            ty = memory_type(op.dtype)
            moved[op.index] = self.b.emit(f"getelementptr {ty}, ptr {ptrs[op.index]}, i64 {i}")
        return moved

    # -- elementwise kernels
    def _elementwise_body(self) -> None:
        """The loops; with float32 sin/cos and only fresh outputs, twice: own polynomials
        first, and libmvec over the same range again if any argument was out of their range
        (rerunning is safe because no output is also an input: not one written over a dead
        input's buffer either, whose values the first run replaced)."""
        b = self.b
        fresh_only = all(store.kind is StoreKind.NEW and store.reads is None for store, _ in self.store_operands)
        if not fresh_only or not any(n.op.name in ("sin", "cos") and n.meta.dtype == F32 for n in self.k.nodes):
            self._elementwise_loops(None)
            return
        all_in_range = b.alloca("i1")
        b.line(f"store i1 true, ptr {all_in_range}")
        self._elementwise_loops(all_in_range)
        done, rerun = b.fresh("done"), b.fresh("rerun")
        b.line(f"br i1 {b.emit(f'load i1, ptr {all_in_range}')}, label {done}, label {rerun}")
        b.label(rerun)
        self._elementwise_loops(None)
        b.line(f"br label {done}")
        b.label(done)

    def _elementwise_loops(self, all_in_range: str | None) -> None:
        b = self.b
        ptrs = {op.index: op.data for op in self.operands}

        def body(p: dict[int, str]) -> None:
            if all_in_range is None:
                self._compute_and_store(Scope(p), 0)
                return
            b.range_checks = []
            self._compute_and_store(Scope(p), 0)
            ok = b.emit(f"load i1, ptr {all_in_range}")
            for check in b.range_checks:
                ok = b.emit(f"and i1 {ok}, {check}")
            b.line(f"store i1 {ok}, ptr {all_in_range}")
            b.range_checks = None

        if self.ndim < 2:
            self._nest(tuple(range(self.ndim)), ptrs, self.operands, body, self.ndim == 1)
            return
        # Flat fast path: every operand C-contiguous over the whole domain.
        flat = "true"
        for op in self.operands:
            expected = str(op.itemsize)
            for axis in reversed(range(self.ndim)):
                size = self.sizes[axis]
                ok = b.emit(f"icmp eq i64 {op.strides.get(axis, '0')}, {expected}")
                ok = b.emit(f"or i1 {ok}, {b.emit(f'icmp ule i64 {size}, 1')}")
                flat = b.emit(f"and i1 {flat}, {ok}")
                expected = b.emit(f"mul i64 {expected}, {size}")
        rest = "1"
        for axis in range(1, self.ndim):
            rest = b.emit(f"mul i64 {rest}, {self.sizes[axis]}")
        flat_block, nest_block, after = b.fresh("flat"), b.fresh("nest"), b.fresh("end")
        b.line(f"br i1 {flat}, label {flat_block}, label {nest_block}")
        b.label(flat_block)
        lo, hi = b.emit(f"mul i64 {self.start}, {rest}"), b.emit(f"mul i64 {self.stop}, {rest}")
        self._loop(lo, hi, lambda i: body(self._element_ptrs(ptrs, i, self.operands)))
        b.line(f"br label {after}")
        b.label(nest_block)
        self._nest(tuple(range(self.ndim)), ptrs, self.operands, body, True, tile=True)
        b.line(f"br label {after}")
        b.label(after)

    # ------------------------------------------------------------------ values
    def _value(self, node: Node, scope: Scope) -> Value:
        if node not in scope.memo and self._lowered_here(node, scope):
            # A fused chain may be thousands of operations deep (a long loop, unrolled): the
            # operands lowered in this scope go first, in post-order from an explicit stack, so
            # lowering each recurses one level at most (2000 ops overflowed Python's recursion limit).
            for operand in self._operands_in_post_order(node, scope):
                self._lower_value(operand, scope)
        return self._lower_value(node, scope)

    def _lowered_here(self, node: Node, scope: Scope) -> bool:
        """Whether ``_lower_value`` computes ``node`` in ``scope`` itself (not a load, a reduction,
        a spilled value or a value of the enclosing scope)."""
        if node in scope.memo or node not in self.k.layouts or node.op.kind is OpKind.REDUCTION:
            return False
        if scope.parent is not None and (not self.full[node] or (
                node in self.spills and self.current_pass > self.spills[node][1])):
            return False
        return True

    def _operands_in_post_order(self, root: Node, scope: Scope) -> list[Node]:
        order: list[Node] = []
        seen, stack = {root}, [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            stack.append((node, True))
            for arg in node.args:
                if isinstance(arg, Node) and arg not in seen and self._lowered_here(arg, scope):
                    seen.add(arg)
                    stack.append((arg, False))
        return order[:-1]  # (the root itself last)

    def _lower_value(self, node: Node, scope: Scope) -> Value:
        if node in scope.memo:
            return scope.memo[node]
        if scope.parent is not None and node in self.k.layouts and not self.full[node]:
            return self._value(node, scope.parent)
        if node.op.kind is OpKind.REDUCTION:
            raise AssertionError(f"reduction %{node.name} used before its pass")
        if node in self.spills and self.current_pass > self.spills[node][1] and scope.parent is not None:
            op = self.spills[node][0]
            raw = self.b.emit(f"load {memory_type(op.dtype)}, ptr {scope.ptrs[op.index]}{self._alias_tags(op)}")
            scope.memo[node] = Value(raw, op.dtype)
            scope.memo[("spilled", node)] = True
            return scope.memo[node]
        args = [self._arg_value(node, arg, scope) if isinstance(arg, Node) else arg for arg in node.args]
        value = lower_elementwise(self.b, node, args)
        scope.memo[node] = value
        return value

    def _arg_value(self, user: Node, arg: Node, scope: Scope) -> Value:
        return self._value(arg, scope) if arg in self.k.layouts else self._load(user, arg, scope)

    def _load(self, user: Node, arg: Node, scope: Scope) -> Value:
        op = self._operand_for(user, arg)
        if scope.parent is not None and not self._load_is_full(op):
            return self._load(user, arg, scope.parent)
        key = ("load", op.index)
        if key not in scope.memo:
            b = self.b
            raw = b.emit(f"load {memory_type(op.dtype)}, ptr {scope.ptrs[op.index]}{self._alias_tags(op)}")
            if op.dtype.kind == "b":
                raw = b.emit(f"icmp ne i8 {raw}, 0")
            value = Value(raw, op.dtype)
            scope.memo[key] = value
        return scope.memo[key]

    def _store_all(self, scope: Scope, p: int | None, full: bool) -> None:
        """Compute every value stored here first, then store (a stored buffer may hold a
        spilled value that another store of the same element still reads)."""
        b = self.b
        pending = []
        for store, op in self.store_operands:
            if self._store_is_full(store) != full or (full and self.plans and self._store_pass(store) != p):
                continue
            value = cast(b, self._value(store.node, scope), op.dtype)
            pending.append((op, value.ref if op.dtype.kind != "b" else b.emit(f"zext i1 {value.ref} to i8")))
        for node, (op, first) in self.spills.items():
            if full and p == first and scope.memo.get(node) is not None and ("spilled", node) not in scope.memo:
                pending.append((op, self._value(node, scope).ref))
        for op, ref in pending:
            ptr = scope.ptrs[self.written_through.get(op.index, op.index)]
            b.line(f"store {memory_type(op.dtype)} {ref}, ptr {ptr}{self._alias_tags(op)}")

    def _compute_and_store(self, scope: Scope, p: int) -> None:
        self._store_all(scope, p, full=True)

    def _alias_tags(self, op: Operand) -> str:
        scopes = [o.scope for _, o in self.store_operands if o.scope is not None]
        scopes += [o.scope for o in self.accumulators.values() if o.scope is not None]
        if not scopes:
            return ""
        if op.scope is not None:
            others = [s for s in scopes if s != op.scope]
            tags = f", !alias.scope !@{op.scope}"
            return tags + (f", !noalias !@{_set_id(others)}" if others else "")
        return f", !noalias !@{_set_id(scopes)}"


def _set_id(scopes: list[int]) -> str:
    """Placeholder for the metadata list of several scopes (resolved by the module)."""
    return "set" + "_".join(map(str, scopes))


def emit_kernel(kernel: Kernel, decls: MathDeclarations, offsets: Offsets,
                splits: dict[Kernel, SplitReduction] | None = None,
                accumulators: dict[Kernel, list[np.dtype]] | None = None,
                layout: tuple[int, ...] | None = None) -> tuple[str, str]:
    """Lower one kernel; raises Unsupported when some member cannot be lowered exactly.
    A kernel that splits a full reduction across threads records, in ``splits``, how the
    wrapper runs it split (its extra operands, passes and combining calls); one
    that may sweep a reduction (a kept axis innermost in memory) records, in ``accumulators``, the
    dtype of each of its accumulator arrays (extra operands shaped like the kept axes, after the
    others). ``layout``: the memory order (outermost axis first) to emit its loops for; C order
    by default."""
    emitter = KernelEmitter(kernel, decls, offsets, layout)
    emitted = emitter.emit()
    if splits is not None and emitter.partials:
        splits[kernel] = emitter.split_plan()
    if accumulators is not None and emitter.accumulators:
        accumulators[kernel] = [op.dtype for op in emitter.accumulators.values()]
    return emitted


def check_store_cast(value_dtype: np.dtype, dest_dtype: np.dtype) -> None:
    b = Builder(MathDeclarations())
    cast(b, Value("%x", value_dtype), dest_dtype)


__all__ = ["emit_kernel", "check_store_cast", "Unsupported", "truth", "constant"]
