"""Graph breaks that resume: where the top frame splits, and how its state is rebuilt.

When the top frame meets something it cannot capture at a *breakable* instruction (a call
Ember does not know, a branch on array data, a loop too long to unroll...), tracing stops
there instead of giving up on the frame. The captured prefix becomes a graph; the runtime
generates a step function that runs it, rebuilds the stack and the live locals, lets
CPython do that one instruction, and hands the rest to a resume function (resume.py).
"""
from __future__ import annotations

import dis
import sys
import types
from dataclasses import dataclass, field

from ..ir import Node, SourceLoc
from .errors import Unsupported
from .liveness import live_locals_by_offset
from .rebuild import Rebuilder, Spec
from .resume import ResumePoint, original_location
from .tracer_state import UNBOUND
from .values import NULL, Value

PY313 = sys.version_info >= (3, 13)

BRANCHES = {"POP_JUMP_IF_TRUE": True, "POP_JUMP_IF_FALSE": False, "POP_JUMP_FORWARD_IF_TRUE": True,
            "POP_JUMP_FORWARD_IF_FALSE": False, "POP_JUMP_BACKWARD_IF_TRUE": True,
            "POP_JUMP_BACKWARD_IF_FALSE": False}
# opname -> kind of step the runtime emits for it.
BREAKABLE = {"CALL": "call", "CALL_KW": "call", "CALL_FUNCTION_EX": "call", "TO_BOOL": "to_bool",
             "UNARY_NOT": "unary_not", "COMPARE_OP": "compare", "FOR_ITER": "for_iter", "GET_ITER": "get_iter",
             "STORE_ATTR": "store_attr", "STORE_SUBSCR": "store_subscr", "BINARY_SUBSCR": "subscr",
             "FORMAT_SIMPLE": "format", "LIST_APPEND": "list_append", "MAP_ADD": "map_add",
             **{name: "branch" for name in BRANCHES}}


class GraphBreak(Exception):
    """Raised by the top frame at a breakable instruction: tracing stops before it."""

    def __init__(self, plan: BreakPlan):
        super().__init__(plan.reason)
        self.plan = plan


@dataclass
class BreakPlan:
    """Everything the runtime needs to run one break: the instruction, the stack before it,
    and the resume point(s) with the specs of the values they receive."""

    reason: str
    loc: SourceLoc | None
    kind: str
    inst: dis.Instruction
    stack: list[Spec] = field(default_factory=list)
    kw_names: tuple[str, ...] = ()
    # resume point -> specs of its live locals, in ResumePoint.live_locals order
    resumes: list[tuple[ResumePoint, list[Spec]]] = field(default_factory=list)
    outputs: list[Node] = field(default_factory=list)


def plan_break(frame, inst: dis.Instruction, stack: list[Value], locals_: dict[str, Value],
               kw_names: tuple[str, ...], reason: str) -> BreakPlan:
    """Decide whether the top frame can split before ``inst``; raise Unsupported if not."""
    loc = frame.loc()
    kind = BREAKABLE.get(inst.opname)
    code = frame.code
    if kind is None:
        raise Unsupported(reason, loc)
    if code.co_cellvars:
        raise Unsupported(f"{reason} (and the frame has cell variables, so it cannot be split)", loc)
    if _reads_its_frame(code, frame.instructions):
        raise Unsupported(f"{reason} (and the function reads its own frame, with locals(), eval(), vars(), "
                          "dir() or super(): a resume function would hold other locals, and no __class__)", loc)
    if _inside_try(code, inst.offset):
        raise Unsupported(f"{reason} (inside a try/with block, which cannot be split)", loc)
    if not all(name.isidentifier() for name in code.co_varnames):
        # Resume functions take the live locals as parameters (pytest's assert rewriting makes
        # locals named "@py_assert1").
        raise Unsupported(f"{reason} (a local's name is not an identifier, so the frame cannot be split)", loc)
    rebuilder = Rebuilder()
    plan = BreakPlan(reason, loc, kind, inst, kw_names=kw_names)
    plan.stack = [rebuilder.spec(v, loc) for v in stack]
    slots = ["null" if v is NULL else "unbound" if v is UNBOUND else "value" for v in stack]
    for offset, stack_nulls in _successors(frame, inst, kind, slots):
        original, original_offset = original_location(code, offset)
        live = sorted(live_locals_by_offset(original)[original_offset] & set(locals_))
        point = ResumePoint(original, original_offset, tuple(stack_nulls), tuple(live))
        plan.resumes.append((point, [rebuilder.spec(locals_[name], loc) for name in live]))
    plan.outputs = rebuilder.outputs
    return plan


# Builtins that, called without arguments (or eval/exec given no namespace), read the frame that
# calls them: a resume function's frame holds only the locals it needs, and no ``__class__`` cell.
_FRAME_READERS = frozenset({"locals", "vars", "dir", "eval", "exec", "super"})


def _reads_its_frame(code: types.CodeType, instructions: list[dis.Instruction]) -> bool:
    """Whether the code may read its own frame: it loads one of those builtins by name (a global
    shadowing one counts too; ``model.eval()``, an attribute, does not) or has super()'s cell."""
    return "__class__" in code.co_freevars or any(
        inst.opname in ("LOAD_GLOBAL", "LOAD_NAME") and inst.argval in _FRAME_READERS for inst in instructions)


def _successors(frame, inst: dis.Instruction, kind: str, nulls: list[str]) -> list[tuple[int, list[str]]]:
    """(resume offset, kind of each slot of the stack it starts with) per successor.
    The first successor of a branch is taken when the condition is true."""
    following = frame.instructions[frame.index_of[inst.offset] + 1].offset
    if kind == "branch":
        taken = inst.argval
        jump_if_true = BRANCHES[inst.opname]
        true_target, false_target = (taken, following) if jump_if_true else (following, taken)
        return [(true_target, nulls[:-1]), (false_target, nulls[:-1])]
    if kind == "for_iter":
        return [(following, [*nulls, "value"]), (_loop_exit(frame, inst), nulls[:-1])]
    consumed, pushed = _stack_effect(inst, kind)
    return [(following, nulls[:len(nulls) - consumed] + ["value"] * pushed)]


def _loop_exit(frame, inst: dis.Instruction) -> int:
    index = frame.index_of[inst.argval]
    if frame.instructions[index].opname == "END_FOR":
        index += 1
        if PY313 and frame.instructions[index].opname == "POP_TOP":
            index += 1
    return frame.instructions[index].offset


def _stack_effect(inst: dis.Instruction, kind: str) -> tuple[int, int]:
    if kind == "call":
        assert inst.arg is not None  # (calls have an argument)
        if inst.opname == "CALL_FUNCTION_EX":
            return 3 + (inst.arg & 1), 1
        return inst.arg + 2 + (inst.opname == "CALL_KW"), 1
    return {"to_bool": (1, 1), "unary_not": (1, 1), "compare": (2, 1), "get_iter": (1, 1),
            "store_attr": (2, 0), "store_subscr": (3, 0), "subscr": (2, 1), "format": (1, 1),
            "list_append": (1, 0), "map_add": (2, 0)}[kind]


def _inside_try(code, offset: int) -> bool:
    """Is ``offset`` covered by a try/except/with handler? (3.12's inlined comprehensions have
    cleanup handlers too; those only restore a local and re-raise, so splitting is fine.)"""
    entries = getattr(dis.Bytecode(code), "exception_entries", [])
    instructions = {i.offset: i for i in dis.get_instructions(code)}
    for entry in entries:
        if entry.start <= offset < entry.end:
            handler = instructions.get(entry.target)
            if handler is not None and handler.opname == "PUSH_EXC_INFO":
                return True
            if handler is not None and handler.opname not in ("SWAP", "POP_TOP", "STORE_FAST", "RERAISE"):
                return True
    return False
