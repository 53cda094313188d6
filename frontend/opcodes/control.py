"""Jumps, branches, loops and returns. Every condition must be known at trace time."""
from __future__ import annotations

import sys

from ..errors import Unsupported, UserCodeError
from ..iterators import ITERATORS, items_left, make_iterator, next_item
from ..operators import truth
from ..values import ConstValue, HandlerValue, QuietContextValue
from .frame import FrameBase

PY313 = sys.version_info >= (3, 13)


class ControlOps(FrameBase):
    def op_RETURN_VALUE(self, inst) -> None:
        self.result = self.pop()

    def op_RETURN_CONST(self, inst) -> None:
        self.result = ConstValue(inst.argval)

    def op_JUMP_FORWARD(self, inst) -> None:
        self.jump_to(inst.argval)

    op_JUMP_BACKWARD = op_JUMP_BACKWARD_NO_INTERRUPT = op_JUMP = op_JUMP_NO_INTERRUPT = op_JUMP_FORWARD

    def _branch(self, inst, jump_if: bool) -> None:
        if truth(self.tracer, self.pop()) is jump_if:
            self.jump_to(inst.argval)

    def op_POP_JUMP_IF_FALSE(self, inst) -> None:
        self._branch(inst, False)

    def op_POP_JUMP_IF_TRUE(self, inst) -> None:
        self._branch(inst, True)

    op_POP_JUMP_FORWARD_IF_FALSE = op_POP_JUMP_BACKWARD_IF_FALSE = op_POP_JUMP_IF_FALSE
    op_POP_JUMP_FORWARD_IF_TRUE = op_POP_JUMP_BACKWARD_IF_TRUE = op_POP_JUMP_IF_TRUE

    def _branch_none(self, inst, jump_if_none: bool) -> None:
        value = self.pop()
        is_none = isinstance(value, ConstValue) and value.value is None
        if is_none is jump_if_none:
            self.jump_to(inst.argval)

    def op_POP_JUMP_IF_NONE(self, inst) -> None:
        self._branch_none(inst, True)

    def op_POP_JUMP_IF_NOT_NONE(self, inst) -> None:
        self._branch_none(inst, False)

    op_POP_JUMP_FORWARD_IF_NONE = op_POP_JUMP_BACKWARD_IF_NONE = op_POP_JUMP_IF_NONE
    op_POP_JUMP_FORWARD_IF_NOT_NONE = op_POP_JUMP_BACKWARD_IF_NOT_NONE = op_POP_JUMP_IF_NOT_NONE

    def op_JUMP_IF_FALSE_OR_POP(self, inst) -> None:  # 3.11
        if truth(self.tracer, self.stack[-1]):
            self.pop()
        else:
            self.jump_to(inst.argval)

    def op_JUMP_IF_TRUE_OR_POP(self, inst) -> None:  # 3.11
        if truth(self.tracer, self.stack[-1]):
            self.jump_to(inst.argval)
        else:
            self.pop()

    def op_TO_BOOL(self, inst) -> None:  # 3.13
        self.push(ConstValue(truth(self.tracer, self.pop())))

    def op_GET_ITER(self, inst) -> None:
        self.push(make_iterator(self.tracer, self.pop()))

    def op_FOR_ITER(self, inst) -> None:
        from ..tracer import UNROLL_LIMIT

        iterator = self.stack[-1]
        if not isinstance(iterator, ITERATORS):
            raise Unsupported("a for loop over an iterator Ember cannot see into", self.loc())
        if items_left(iterator) > UNROLL_LIMIT:
            raise Unsupported(f"a loop of {items_left(iterator)} iterations (more than the unroll limit "
                              f"{UNROLL_LIMIT}) runs in CPython, its body compiled", self.loc())
        item = next_item(self.tracer, iterator)
        if item is not None:
            self.push(item)
            return
        # Exhausted: CPython pops the iterator and skips the loop's END_FOR (and 3.13's POP_TOP).
        self.pop()
        self.jump_to(inst.argval)
        if self.instructions[self.next_index].opname == "END_FOR":
            self.next_index += 1
            if PY313 and self.instructions[self.next_index].opname == "POP_TOP":
                self.next_index += 1

    def op_END_FOR(self, inst) -> None:
        self.pop()
        if not PY313:
            self.pop()

    def op_LOAD_ASSERTION_ERROR(self, inst) -> None:
        raise UserCodeError("AssertionError: an assert failed while tracing", self.loc())

    def op_RAISE_VARARGS(self, inst) -> None:
        raise UserCodeError("the function raises an exception", self.loc())

    def op_RETURN_GENERATOR(self, inst) -> None:
        if self.yielded is None:
            raise Unsupported("generator functions run eagerly", self.loc())
        self.push(ConstValue(None))  # (what the first next() sends in; the POP_TOP after drops it)

    def op_YIELD_VALUE(self, inst) -> None:
        if self.yielded is None:
            raise Unsupported("yield outside a drained generator", self.loc())
        self.yielded.append(self.pop())
        self.push(ConstValue(None))  # what next() sends back

    def _unsupported_block(self, inst) -> None:
        raise Unsupported(f"{inst.opname}: with/try blocks are not captured", self.loc())

    op_PUSH_EXC_INFO = op_SETUP_FINALLY = op_SETUP_WITH = _unsupported_block

    def op_BEFORE_WITH(self, inst) -> None:
        manager = self.stack[-1]
        if not isinstance(manager, QuietContextValue):
            raise Unsupported("with blocks other than np.errstate(...='ignore'/'warn') are not captured", self.loc())
        self.pop()
        # The body is traced as straight code (tracer.py lets a with body's handler be); a normal
        # exit calls __exit__(None, None, None), which does nothing here.
        self.push(HandlerValue(f"{manager.text}.__exit__", lambda tracer, args, kwargs: ConstValue(None)))
        self.push(ConstValue(None))  # what __enter__ returned
