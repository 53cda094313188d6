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

    def loc(self) -> SourceLoc:
        return SourceLoc(self.code.co_filename, self.lineno)

    def jump_to(self, offset: int) -> None:
        self.next_index = self.index_of[offset]

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
