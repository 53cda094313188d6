"""What every opcode handler family works on: one frame's state and its value stack.

``FrameTracer`` (tracer.py) sets these attributes up and runs the loop; the handler mixins
(calls, containers, control, operators, stack) inherit this base, so each reads the frame's
state through names declared once, here.
"""
from __future__ import annotations

import dis
import types
from typing import TYPE_CHECKING, Any

from ...ir import SourceLoc
from ..errors import Unsupported
from ..iterators import ITERATORS, items_left
from ..values import Cell, Value

if TYPE_CHECKING:
    from ..tracer import Tracer


class FrameBase:
    tracer: Tracer
    code: types.CodeType
    globals: dict
    global_source: Any  # name -> Source | None
    locals: dict[str, Value]
    cells: dict[str, Cell]
    depth: int
    stack: list[Any]
    instructions: list[dis.Instruction]
    index_of: dict[int, int]
    next_index: int
    kw_names: tuple[str, ...]
    result: Value | None
    yielded: list[Value] | None  # a generator's items while it is drained
    lineno: int
    resumes_at: int | None  # where this frame's code resumes the original, for a resume function
    loop_rounds: dict[int, int]  # a while loop's header offset -> its rounds traced so far (_count_round)
    nodes_at_start: int  # the graph's size when the frame began
    break_next: str | None  # why the frame splits at ``split_at`` (or the next breakable instruction)
    split_at: int | None

    def loc(self) -> SourceLoc:
        return SourceLoc(self.code.co_filename, self.lineno)

    def jump_to(self, offset: int) -> None:
        index = self.index_of[offset]
        if index < self.next_index - 1:
            self._went_round(offset) if self.depth == 0 else self._went_round_inlined(offset)
        self.next_index = index

    def _went_round_inlined(self, header: int) -> None:
        """A loop of an inlined function goes round again: it cannot split (only the frame being
        compiled can), so past UNROLL_LIMIT rounds of a while loop, or LOOP_GRAPH_BUDGET
        operations traced since the function began, the call itself breaks: CPython calls the
        function, which is compiled on its own and splits its loop there."""
        from ..tracer import LOOP_GRAPH_BUDGET, UNROLL_LIMIT

        while_loop = self.instructions[self.index_of[header]].opname != "FOR_ITER"
        rounds = self._count_round(header) if while_loop else 0
        grown = len(self.tracer.graph.nodes) - self.nodes_at_start
        if rounds > UNROLL_LIMIT or grown > LOOP_GRAPH_BUDGET:
            raise Unsupported(f"a loop in {self.code.co_name} of more than {UNROLL_LIMIT} rounds or "
                              f"{LOOP_GRAPH_BUDGET} operations (the function runs on its own, its loop split)",
                              self.loc())

    def _went_round(self, header: int) -> None:
        """A backward jump to ``header`` in the frame being compiled: a loop goes round again.
        A while loop is unrolled for at most UNROLL_LIMIT rounds, as a for loop (whose FOR_ITER
        knows its length: control.py), and not past LOOP_GRAPH_BUDGET operations; then the frame
        splits at the loop's test, so the rest runs in CPython with the body compiled once as a
        resume function. That function does not
        unroll the loop it continues either: it splits at the test when the loop comes round to
        where it began, so each call runs one round, and CPython, not the trace, reads the
        counter the test compares (its guards need not pin it)."""
        from ..tracer import LOOP_GRAPH_BUDGET, UNROLL_LIMIT

        if self.instructions[self.index_of[header]].opname == "FOR_ITER":
            return
        rounds = self._count_round(header)
        if self.resumes_at is not None and header <= self.resumes_at:
            self.break_next = "the loop a resume function continues comes round again (CPython runs its test)"
        elif rounds > UNROLL_LIMIT or len(self.tracer.graph.nodes) > LOOP_GRAPH_BUDGET:
            self.break_next = (f"a while loop of more than {UNROLL_LIMIT} rounds (or a graph of more than "
                               f"{LOOP_GRAPH_BUDGET} operations) runs in CPython, its body compiled")
        else:
            return
        self.split_at = self._loop_test(self.index_of[header], self.next_index - 1)

    def _count_round(self, header: int) -> int:
        """Count a round of the while loop at ``header``: how many it has gone so far."""
        for inner in [h for h in self.loop_rounds if h > header]:
            del self.loop_rounds[inner]  # a new round of an enclosing loop starts its inner loops afresh
        rounds = self.loop_rounds[header] = self.loop_rounds.get(header, 0) + 1
        return rounds

    def split_reason(self, inst: dis.Instruction) -> str | None:
        """Why the frame being compiled splits before ``inst`` (a breakable instruction), if it
        must: a while loop's test after ``_went_round``, or a for loop with rounds left once the
        graph holds LOOP_GRAPH_BUDGET operations (its other rounds then run in CPython, the body
        compiled). Where the frame cannot split there (a try block), the loop unrolls on."""
        from ..tracer import LOOP_GRAPH_BUDGET

        if self.break_next is not None and self.split_at in (None, inst.offset):
            return self.break_next
        iterator = self.stack[-1] if inst.opname == "FOR_ITER" else None
        if isinstance(iterator, ITERATORS) and items_left(iterator) and \
                len(self.tracer.graph.nodes) > LOOP_GRAPH_BUDGET:
            return (f"the graph holds more than {LOOP_GRAPH_BUDGET} operations: the loop's other rounds run in "
                    "CPython, its body compiled")
        return None

    def _loop_test(self, first: int, last: int) -> int | None:
        """The offset of the loop test between instructions ``first`` and ``last`` (the backward
        jump): the comparison (or truth test) before the loop's last conditional jump, else that
        jump itself; None without one (the next breakable instruction splits then)."""
        for k in range(last, first - 1, -1):
            if "POP_JUMP" in self.instructions[k].opname:
                before = self.instructions[k - 1] if k > first else None
                if before is not None and before.opname in ("COMPARE_OP", "TO_BOOL", "UNARY_NOT"):
                    return before.offset
                return self.instructions[k].offset
        return None

    def pop(self) -> Any:
        return self.stack.pop()

    def popn(self, n: int) -> list[Any]:
        if n == 0:
            return []
        values = self.stack[-n:]
        del self.stack[-n:]
        return values

    def push(self, value: Any) -> None:
        self.stack.append(value)
