"""The reduction half of ``KernelEmitter`` (emit_kernel.py): passes over the reduced axes.

Per outer index, one pass per level of reduction (softmax: max, then sum and the output),
each with its accumulators; values of the outer layout computed between passes; a costly
value needed in several passes spilled to an output buffer once. A kernel whose innermost axis
in memory is kept (the last in C order; in the layout the kernel is emitted for) sweeps
instead: per level, the whole domain in memory order into accumulator arrays. A kernel that reduces
everything splits across threads (``SplitReduction``): besides the whole run (``chunk`` -1),
one pass at a time (``pass``, the last dims item), either over a chunk of the first reduced
axis, its accumulators into ``partials[chunk]`` (``chunk`` >= 0), or combining the partials
(``chunk`` -2): finished, they go to the ``finished`` buffer, where later passes read them.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...ir import Node, OpKind
from ...passes.kernels import FULL
from .lowering import Value, abs_i64, cast, memory_type, register_type
from .math import BINARY_LIBM, UNARY_LIBM
from .operands import Operand, Scope
from .reductions import SHORT_ROWS_BLOCK, SUM_BLOCK, add_compensated, compensated_sum

if TYPE_CHECKING:
    from ...passes.kernels import Kernel, Store
    from .lowering import Builder
    from .reductions import ReductionPlan


FINISHED_SLOT = 16  # bytes per finished stage value in the ``finished`` buffer (any register type fits)


@dataclass(frozen=True)
class SplitReduction:
    """How the wrapper runs a kernel that reduces everything on several threads: for each pass,
    one call per chunk of the first reduced axis (dims ``[start, stop, chunk, *sizes, pass]``),
    then, for a pass that finishes reductions (``combined``), one call with chunk -2 that
    combines the chunks' partial accumulators; the last of those stores the reduced outputs.
    Extra operands after the kernel's own: one buffer per partial accumulator (``partials``:
    their dtypes, a slot per chunk), then, if ``finished_bytes``, the finished values' buffer."""

    partials: tuple[np.dtype, ...]
    passes: int
    combined: tuple[int, ...]
    finished_bytes: int


class ReductionEmission:
    """Mixed into KernelEmitter, whose state (``b``, ``k``, ``plans``, ``operands``, ...) it uses."""

    # KernelEmitter's state used here (set in its __init__, _analyse and _entry).
    k: Kernel
    b: Builder
    reduce: tuple[int, ...]
    outer: tuple[int, ...]
    operands: list[Operand]
    store_operands: list[tuple[Store, Operand]]
    partials: dict[tuple[Node, int], Operand]  # (reduction, stage): its accumulator per chunk
    finished_buffer: Operand | None
    finished_slots: dict[tuple[Node, int], int]
    finished_dtypes: dict[tuple[Node, int], np.dtype]  # (node, stage): the dtype its finish gives, once emitted
    plans: dict[Node, ReductionPlan]
    full: dict[Node, bool]
    avail: dict[Node, int]
    num_passes: int
    current_pass: int
    start: str
    stop: str
    sizes: list[str]
    chunk: str
    dims: str  # the dims array's data (the split pass is its last item)
    ndim: int
    count: str
    accumulators: dict[tuple[Node, int], Operand]
    layout: tuple[int, ...]  # the memory order emitted for, outermost axis first
    sweep_order: tuple[int, ...] | None  # the layout, where a kept axis is innermost in it

    if TYPE_CHECKING:  # KernelEmitter's methods used here
        def _reduction_pass(self, node: Node) -> int: ...
        def _operand_for(self, user: Node, arg: Node) -> Operand: ...
        def _load_is_full(self, op: Operand) -> bool: ...
        def _store_is_full(self, store: Store) -> bool: ...
        def _store_pass(self, store: Store) -> int: ...
        def _loop(self, lo: str, hi: str, body: Callable[[str], None]) -> None: ...
        def _nest(self, axes: tuple[int, ...], ptrs: dict[int, str], ops: list[Operand],
                  body: Callable[[dict[int, str]], None], split_first: bool, vectorize: bool = True,
                  split_axis: int | None = None, tile: bool = False,
                  after_block: Callable[[str], None] | None = None) -> None: ...
        def _row(self, axis: int, lo: str, hi: str, ptrs: dict[int, str], ops: list[Operand],
                 body: Callable[[dict[int, str]], None]) -> None: ...
        def _value(self, node: Node, scope: Scope) -> Value: ...
        def _arg_value(self, user: Node, arg: Node, scope: Scope) -> Value: ...
        def _load(self, user: Node, arg: Node, scope: Scope) -> Value: ...
        def _store_all(self, scope: Scope, p: int | None, full: bool) -> None: ...
        def _alias_tags(self, op: Operand) -> str: ...

    def _reduction_body(self) -> None:
        ptrs = {op.index: op.data for op in self.operands}
        if not self.partials:
            if self.outer:
                self._layout_body(ptrs)
            else:  # (nothing kept and nothing reduced: a 0-d or axis=() reduction)
                self._outer_body(ptrs)
            return
        b = self.b
        whole, split, after = b.fresh("whole"), b.fresh("split"), b.fresh("end")
        b.line(f"br i1 {b.emit(f'icmp eq i64 {self.chunk}, -1')}, label {whole}, label {split}")
        b.label(whole)
        self._outer_body(ptrs)
        b.line(f"br label {after}")
        # One block per (pass, partial or combine), chosen by pass * 2 + (chunk == -2).
        b.label(split)
        at = b.emit(f"getelementptr i64, ptr {self.dims}, i64 {3 + self.ndim}")
        split_pass = b.emit(f"load i64, ptr {at}")
        combining = b.emit(f"zext i1 {b.emit(f'icmp eq i64 {self.chunk}, -2')} to i64")
        key = b.emit(f"add i64 {b.emit(f'mul i64 {split_pass}, 2')}, {combining}")
        blocks = [(2 * p + (mode == "combine"), p, mode, b.fresh(f"{mode}{p}_"))
                  for p in range(self.num_passes) for mode in ("partial", "combine")
                  if mode == "partial" or p in self.split_plan().combined]
        b.line(f"switch i64 {key}, label {after} [{' '.join(f'i64 {k}, label {label}' for k, _, _, label in blocks)}]")
        for _, p, mode, label in blocks:
            b.label(label)
            self._outer_body(ptrs, mode, p)
            b.line(f"br label {after}")
        b.label(after)

    def _compensated_nest(self, ptrs: dict[int, str], ops: list[Operand], body: Callable[[dict[int, str]], None],
                          split: bool, accs) -> None:
        """The pass's loops over the reduced axes. Where they cover more than ``SUM_BLOCK``
        elements, a float64 sum's accumulator (``compensated``) adds up a block (at most
        ``SUM_BLOCK`` elements of a row, in vector lanes, or short rows until they reach
        ``SHORT_ROWS_BLOCK``), then goes into a total that keeps its rounding error; in the end
        the accumulator holds that total. Lanes in memory order alone lose precision with the
        length (16M values of 0.1: relative error 3.3e-12; NumPy's pairwise sum 2.9e-16)."""
        b = self.b
        sums = [(acc, stage.init, b.alloca("double"), b.alloca("double"))
                for _, _, stage, acc in accs if stage.compensated]
        if not sums:
            self._reduced_nest(ptrs, ops, body, split)
            return
        for _, _, total, error in sums:
            b.line(f"store double 0.0, ptr {total}")
            b.line(f"store double 0.0, ptr {error}")
        pending = b.alloca("i64")  # elements in the accumulators since they last went into the totals
        b.line(f"store i64 0, ptr {pending}")

        def flush() -> None:
            for acc, init, total, error in sums:
                add_compensated(b, total, error, b.emit(f"load double, ptr {acc}"))
                b.line(f"store double {init}, ptr {acc}")
            b.line(f"store i64 0, ptr {pending}")

        def after_block(length: str) -> None:
            count = b.emit(f"add i64 {b.emit(f'load i64, ptr {pending}')}, {length}")
            b.line(f"store i64 {count}, ptr {pending}")
            b.branch(b.emit(f"icmp sge i64 {count}, {SHORT_ROWS_BLOCK}"), flush, lambda: None, ("flush", "more"))

        def compensated() -> None:
            self._reduced_nest(ptrs, ops, body, split, after_block)
            flush()
            for acc, _, total, error in sums:
                b.line(f"store double {compensated_sum(b, total, error)}, ptr {acc}")
        # A pass over one block needs no total (rows of 8 float64 summed twice as slowly with
        # one); where the reduced sizes are dynamic, each call decides (both copies cost compile
        # time: x.var() of a 4096x2048 array took 395-472 ms with both, 261-274 with one, 154
        # without compensation).
        extents = [self.k.domain[axis] for axis in self.reduce]
        if not all(isinstance(extent, int) for extent in extents):
            b.branch(b.emit(f"icmp sgt i64 {self.count}, {SUM_BLOCK}"), compensated,
                     lambda: self._reduced_nest(ptrs, ops, body, split), ("compensated", "short"))
        elif math.prod(extents) > SUM_BLOCK:
            compensated()
        else:
            self._reduced_nest(ptrs, ops, body, split)

    def _reduced_nest(self, ptrs: dict[int, str], ops: list[Operand], body: Callable[[dict[int, str]], None],
                      split: bool, after_block: Callable[[str], None] | None = None) -> None:
        """Loops over the reduced axes, in their order, or in reverse where an operand's memory
        runs along the first of them (``x.T.sum()``, a Fortran-ordered array): a reduction may
        visit its elements in any order, and memory order keeps the inner loop unit-stride
        (x.T.sum() of 4096x4096 float32 took 74 ms in axis order, NumPy 6.6 ms)."""
        axes = self.reduce
        crossing = self._memory_runs_along_first(axes, ops)
        if crossing is None:
            self._nest(axes, ptrs, ops, body, split, after_block=after_block)
            return
        self.b.branch(crossing, lambda: self._nest(axes[::-1], ptrs, ops, body, False,
                                                  split_axis=axes[0] if split else None, after_block=after_block),
                      lambda: self._nest(axes, ptrs, ops, body, split, after_block=after_block), ("across", "along"))

    def _memory_runs_along_first(self, axes: tuple[int, ...], ops: list[Operand]) -> str | None:
        """An i1: whether some operand's memory runs along the first of ``axes`` rather than
        the last (a larger stride along the last); None where no operand moves along both."""
        if len(axes) < 2:
            return None
        first, last = axes[0], axes[-1]
        b, crossing = self.b, None
        for op in ops:
            if op.moves_along(first) and op.moves_along(last):
                wider = b.emit(f"icmp sgt i64 {abs_i64(b, op.strides[last])}, {abs_i64(b, op.strides[first])}")
                crossing = wider if crossing is None else b.emit(f"or i1 {crossing}, {wider}")
        return crossing

    def _layout_body(self, ptrs: dict[int, str]) -> None:
        """A kernel with kept axes, read in the memory order it is emitted for (``layout``): a
        sweep where a kept axis is innermost, else passes per kept index, the kept axes in that
        order (the threads still split the first kept axis). A row softmax of a Fortran-ordered
        2048x4096 float32 array sweeps: 145 ms per row, 16 ms swept (NumPy 37-42); its
        ``x.sum(axis=0)`` runs per column: 32 ms swept, 1.0-1.1 ms (NumPy 2.5-2.9)."""
        if self.sweep_order is not None:
            self._sweep_body(self.sweep_order)
            return
        kept = tuple(axis for axis in self.layout if axis in self.outer)
        self._nest(kept, ptrs, self.operands, self._outer_body, False, vectorize=False, split_axis=self.outer[0])

    def split_plan(self) -> SplitReduction:
        """What the wrapper needs to run this kernel split (only for a kernel with ``partials``)."""
        combined = tuple(sorted({self._reduction_pass(n) + i for n, i in self.partials}))
        return SplitReduction(tuple(op.dtype for op in self.partials.values()), self.num_passes, combined,
                              FINISHED_SLOT * len(self.finished_slots))

    def _outer_body(self, ptrs: dict[int, str], mode: str = "whole", split_pass: int | None = None) -> None:
        """The passes at one outer index (``whole``), or, split, one pass over a chunk
        (``partial``) or its combining step (``combine``), after reading back the stages that
        earlier passes finished."""
        b = self.b
        outer = Scope(ptrs)
        self.outer_scope = outer
        inner_ops = [op for op in self.operands if any(op.moves_along(a) for a in self.reduce)]
        if split_pass is not None:
            self._load_finished(outer, split_pass)
        for p in range(self.num_passes) if split_pass is None else (split_pass,):
            stages = [(n, plan.stages[p - self._reduction_pass(n)]) for n, plan in self.plans.items()
                      if 0 <= p - self._reduction_pass(n) < len(plan.stages)]
            roots = self._pass_roots(p, stages)
            for root in roots:
                self._prepare_outer(root, outer)
            for node, _ in stages:
                source = node.args[0]
                if source not in self.k.layouts and not self._load_is_full(self._operand_for(node, source)):
                    self._load(node, source, outer)
            accs = []
            for node, stage in stages:
                acc = b.alloca(stage.acc_dtype_ty)
                b.line(f"store {stage.acc_dtype_ty} {stage.init}, ptr {acc}")
                accs.append((node, p - self._reduction_pass(node), stage, acc))

            def pass_body(p_ptrs, p=p, accs=accs):
                self.current_pass = p
                scope = Scope(p_ptrs, outer)
                for node, _, stage, acc in accs:
                    source = self._arg_value(node, node.args[0], scope)
                    x = stage.element(b, source, self._stage_values(node, outer))
                    old = Value(b.emit(f"load {stage.acc_dtype_ty}, ptr {acc}"), stage.acc_dtype)
                    b.line(f"store {stage.acc_dtype_ty} {stage.combine(b, old, x)}, ptr {acc}")
                self._store_all(scope, p, full=True)

            if mode == "combine":
                self._combine_partials(accs)
            else:
                self._compensated_nest(ptrs, inner_ops, pass_body, mode == "partial", accs)
            if mode == "partial":
                self._store_partials(accs)
                return
            for node, i, stage, acc in accs:
                total = Value(b.emit(f"load {stage.acc_dtype_ty}, ptr {acc}"), stage.acc_dtype)
                done = stage.finish(b, total, self._count_value(), self._stage_values(node, outer))
                self._finished(outer, node, i, done)
                if mode == "combine" and (node, i) in self.finished_slots:
                    b.line(f"store {done.ty} {done.ref}, ptr {self._finished_slot(node, i)}")
        if split_pass is None or split_pass == self.split_plan().combined[-1]:
            self._store_all(outer, None, full=False)

    def _finished(self, outer: Scope, node: Node, i: int, value: Value) -> None:
        """Stage ``i`` of ``node`` is ``value`` from here on (the reduction's, after its last)."""
        self.finished_dtypes[(node, i)] = value.dtype
        outer.memo.setdefault(("stage", node), []).append(value)
        if i == len(self.plans[node].stages) - 1:
            outer.memo[node] = value

    def _finished_slot(self, node: Node, i: int) -> str:
        assert self.finished_buffer is not None  # (a kernel with finished slots has the buffer)
        offset = FINISHED_SLOT * self.finished_slots[(node, i)]
        return self.b.emit(f"getelementptr i8, ptr {self.finished_buffer.data}, i64 {offset}")

    def _load_finished(self, outer: Scope, split_pass: int) -> None:
        """Read back every stage that a pass before ``split_pass`` finished, in stage order."""
        for node, i in self.finished_slots:
            if self._reduction_pass(node) + i < split_pass:
                dtype = self.finished_dtypes[(node, i)]  # (set where the whole mode finished it)
                ref = self.b.emit(f"load {register_type(dtype)}, ptr {self._finished_slot(node, i)}")
                self._finished(outer, node, i, Value(ref, dtype))

    # -- reductions whose innermost axis in memory is kept: sweeps into accumulator arrays
    def _sweep_body(self, order: tuple[int, ...]) -> None:
        """Per pass: set the pass's accumulators, sweep the whole domain in memory order
        (``order``, outermost first: its innermost axis is kept, so rows add into the
        accumulators as NumPy's ``x.sum(axis=0)`` does, and the loop vectorizes), then finish
        each accumulator in place; the values of the kept axes are read back from the arrays
        where needed. The threads split the first kept axis: each owns its accumulators."""
        b = self.b
        ptrs = {op.index: op.data for op in self.operands}
        split = self.outer[0]
        every_axis = order
        kept_axes = tuple(axis for axis in order if axis in self.outer)  # (accumulators are laid out so)
        every_acc = list(self.accumulators.values())
        for p in range(self.num_passes):
            stages = [(n, p - self._reduction_pass(n)) for n in self.plans
                      if 0 <= p - self._reduction_pass(n) < len(self.plans[n].stages)]

            def start(q, stages=stages):
                for node, i in stages:
                    stage = self.plans[node].stages[i]
                    self._acc_store(self.accumulators[(node, i)], q, Value(stage.init, stage.acc_dtype))

            self._nest(kept_axes, ptrs, every_acc, start, False, split_axis=split)

            def sweep(q, p=p, stages=stages):
                self.current_pass = p
                kept = self._kept_scope(q)
                scope = Scope(q, kept)
                for node, i in stages:
                    stage, acc = self.plans[node].stages[i], self.accumulators[(node, i)]
                    x = stage.element(b, self._arg_value(node, node.args[0], scope), self._stage_values(node, kept))
                    old = self._acc_load(acc, q)
                    self._acc_store(acc, q, Value(stage.combine(b, old, x), stage.acc_dtype))
                self._store_all(scope, p, full=True)

            self._sweep_nest(every_axis, ptrs, sweep, split)

            def finish(q, stages=stages):
                kept = self._kept_scope(q)
                for node, i in stages:
                    stage, acc = self.plans[node].stages[i], self.accumulators[(node, i)]
                    done = stage.finish(b, self._acc_load(acc, q), self._count_value(), self._stage_values(node, kept))
                    self.finished_dtypes[(node, i)] = done.dtype
                    self._acc_store(acc, q, Value(cast(b, done, stage.acc_dtype).ref, stage.acc_dtype))

            self._nest(kept_axes, ptrs, every_acc, finish, False, split_axis=split)
        self._nest(kept_axes, ptrs, self.operands, lambda q: self._store_all(self._kept_scope(q), None, full=False),
                   False, split_axis=split)

    def _sweep_nest(self, axes: tuple[int, ...], ptrs: dict[int, str], body: Callable[[dict[int, str]], None],
                    split: int) -> None:
        """The sweep's loops over ``axes``; in a kernel emitted for another order than C, where its
        two innermost axes are kept and every operand's memory runs through them as through one
        (a Fortran-ordered batch: 8 x 512 -> 4096; a run-time test, also that the threads do not
        split them), also a copy that runs them as one loop: an innermost axis of 8 elements is
        no loop to vectorize (a row sum of a Fortran-ordered 8x512x512 float32 array 0.55 ms
        against NumPy's 0.14-0.20 ms)."""
        b, ops = self.b, self.operands
        pair = axes[-2:] if self.layout != tuple(range(self.ndim)) and len(axes) > 1 and axes[-2] in self.outer else ()
        movers = [op for op in ops if any(op.moves_along(axis) for axis in pair)]
        if not pair or any(not all(op.moves_along(axis) for axis in pair) for op in movers):
            self._nest(axes, ptrs, ops, body, False, split_axis=split)
            return
        middle, inner = pair
        runs = "true"
        for op in movers:
            through = b.emit(f"mul i64 {self.sizes[inner]}, {op.strides[inner]}")
            runs = b.emit(f"and i1 {runs}, {b.emit(f'icmp eq i64 {op.strides[middle]}, {through}')}")
        if split in pair:
            whole = b.emit(f"and i1 {b.emit(f'icmp eq i64 {self.start}, 0')}, "
                           f"{b.emit(f'icmp eq i64 {self.stop}, {self.sizes[split]}')}")
            runs = b.emit(f"and i1 {runs}, {whole}")
        length = b.emit(f"mul i64 {self.sizes[middle]}, {self.sizes[inner]}")
        b.branch(runs, lambda: self._nest(axes[:-2], ptrs, ops, lambda p: self._row(inner, "0", length, p, ops, body),
                                          False, vectorize=False, split_axis=split),
                 lambda: self._nest(axes, ptrs, ops, body, False, split_axis=split), ("merged", "nested"))

    def _kept_scope(self, q: dict[int, str]) -> Scope:
        """The values of the kept axes at ``q``: every stage finished so far, read from its array."""
        kept = Scope(q)
        for (node, i), dtype in self.finished_dtypes.items():
            value = cast(self.b, self._acc_load(self.accumulators[(node, i)], q), dtype)
            kept.memo.setdefault(("stage", node), []).append(value)
            if i == len(self.plans[node].stages) - 1:
                kept.memo[node] = value
        return kept

    def _acc_load(self, acc: Operand, q: dict[int, str]) -> Value:
        raw = self.b.emit(f"load {memory_type(acc.dtype)}, ptr {q[acc.index]}{self._alias_tags(acc)}")
        if acc.dtype.kind == "b":
            raw = self.b.emit(f"icmp ne i8 {raw}, 0")
        return Value(raw, acc.dtype)

    def _acc_store(self, acc: Operand, q: dict[int, str], value: Value) -> None:
        ref = value.ref if acc.dtype.kind != "b" else self.b.emit(f"zext i1 {value.ref} to i8")
        self.b.line(f"store {memory_type(acc.dtype)} {ref}, ptr {q[acc.index]}{self._alias_tags(acc)}")

    def _store_partials(self, accs) -> None:
        b = self.b
        for node, i, stage, acc in accs:
            op = self.partials[(node, i)]
            at = b.emit(f"getelementptr {memory_type(op.dtype)}, ptr {op.data}, i64 {self.chunk}")
            b.line(f"store {stage.acc_dtype_ty} {b.emit(f'load {stage.acc_dtype_ty}, ptr {acc}')}, ptr {at}")

    def _combine_partials(self, accs) -> None:
        """Fold ``partials[0:stop]`` into the accumulators, in chunk order."""
        b = self.b

        def body(chunk: str) -> None:
            for node, i, stage, acc in accs:
                op = self.partials[(node, i)]
                part = b.emit(f"load {stage.acc_dtype_ty}, ptr "
                              f"{b.emit(f'getelementptr {memory_type(op.dtype)}, ptr {op.data}, i64 {chunk}')}")
                old = Value(b.emit(f"load {stage.acc_dtype_ty}, ptr {acc}"), stage.acc_dtype)
                b.line(f"store {stage.acc_dtype_ty} {stage.combine(b, old, Value(part, stage.acc_dtype))}, "
                       f"ptr {acc}")
        self._loop("0", self.stop, body)

    def _pass_roots(self, p: int, stages) -> list[Node]:
        roots = [node.args[0] for node, _ in stages if node.args[0] in self.k.layouts]
        roots += [s.node for s, _ in self.store_operands
                  if self._store_is_full(s) and self._store_pass(s) == p]
        return roots

    def _prepare_outer(self, node: Node, outer: Scope) -> None:
        """Compute, at the outer level (before a pass's loop), every outer value and outer
        load that ``node`` reads, so that later passes may use them (SSA dominance)."""
        if node not in self.k.layouts or node in outer.memo or ("prepared", node) in outer.memo:
            return
        if not self.full[node]:
            if node.op.kind is not OpKind.REDUCTION:
                self._value(node, outer)
            return
        outer.memo[("prepared", node)] = True
        for arg in node.input_nodes():
            if arg in self.k.layouts:
                self._prepare_outer(arg, outer)
            elif not self._load_is_full(self._operand_for(node, arg)):
                self._load(node, arg, outer)

    def _stage_values(self, node: Node, outer: Scope) -> list[Value]:
        return outer.memo.get(("stage", node), [])

    def _count_value(self) -> str:
        return self.count


    def _plan_spills(self) -> None:
        """A costly full value needed in several passes (softmax's exp) is computed once: in
        its first pass it is stored into a fresh output buffer of the same dtype that is
        only written (finally) in a later pass, and reloaded from there afterwards."""
        self.spills: dict[Node, tuple[Operand, int]] = {}
        if not self.plans:
            return
        needed: dict[Node, set[int]] = {}
        for p in range(self.num_passes):
            stages = [n for n in self.plans if 0 <= p - self._reduction_pass(n) < len(self.plans[n].stages)]
            stack = self._pass_roots(p, [(n, None) for n in stages])
            seen: set[Node] = set()
            while stack:
                node = stack.pop()
                if node in seen or node not in self.k.layouts or not self.full[node]:
                    continue
                seen.add(node)
                needed.setdefault(node, set()).add(p)
                stack.extend(node.input_nodes())
        free = [(store, op) for store, op in self.store_operands
                if store.setitem is None and self.k.layouts[store.node] == FULL]
        for node in self.k.nodes:
            passes = needed.get(node, set())
            if len(passes) < 2 or node.op.kind is not OpKind.ELEMENTWISE or not _costly(node, self.k.layouts):
                continue
            for i, (store, op) in enumerate(free):
                if op.dtype == node.meta.dtype and self.avail[store.node] >= max(passes):
                    self.spills[node] = (op, min(passes))
                    del free[i]
                    break


def _costly(node: Node, members) -> bool:
    """Whether computing ``node`` inside the kernel calls a math library function."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if current in seen or current not in members:
            continue
        seen.add(current)
        if current.op.name in UNARY_LIBM or current.op.name in BINARY_LIBM or current.op.name == "logaddexp":
            return True
        stack.extend(current.input_nodes())
    return False
