"""Resume functions: the original bytecode with a prologue that restores the stack and the
live locals, then jumps to the instruction after a graph break.

A resume function is a real Python function: Ember traces and compiles it on its first call
like any other, and it can always run eagerly in CPython. One is made per break point and
shared by every call that reaches it.
"""
from __future__ import annotations

import dis
import types
from dataclasses import dataclass
from functools import cache

from .liveness import prefixed_instructions

STACK_PREFIX = "__ember_stack"
# Instructions that must stay ahead of the prologue (cells are made before anything runs).
PREAMBLE = {"MAKE_CELL", "COPY_FREE_VARS", "RESUME", "NOP"}


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a resume function starts: the original code, the offset of the first instruction
    to run, what each stack slot holds ("value": passed in; "null": CPython's NULL marker;
    "unbound": a cleared local saved by a 3.12+ comprehension), and the live locals."""

    code: types.CodeType
    offset: int
    slots: tuple[str, ...]
    live_locals: tuple[str, ...]

    @property
    def params(self) -> tuple[str, ...]:
        stack = tuple(f"{STACK_PREFIX}{i}" for i, kind in enumerate(self.slots) if kind == "value")
        return stack + self.live_locals


@cache
def resume_code(point: ResumePoint) -> types.CodeType:
    """The code object of the resume function for ``point`` (cached: shared, not regenerated)."""
    from bytecode import Bytecode, Instr, Label  # (~20 ms to import: only a graph break needs it)

    code = point.code
    bytecode = Bytecode.from_code(code)
    real = [i for i in dis.get_instructions(code) if i.opname != "EXTENDED_ARG"]
    position = next(k for k, inst in enumerate(real) if inst.offset == point.offset)
    target = Label()
    body: list = []
    seen = 0
    start = None
    for item in bytecode:
        if isinstance(item, Instr):
            if seen == position:
                body.append(target)
            if start is None and item.name not in PREAMBLE:
                start = len(body)
            seen += 1
        body.append(item)
    if start is None:
        raise ValueError("resume target not found")
    prologue: list = []
    for i, kind in enumerate(point.slots):
        if kind == "null":
            prologue.append(Instr("PUSH_NULL"))
        elif kind == "unbound":  # a never-assigned local: pushes "unbound", as the original did
            prologue.append(Instr("LOAD_FAST_AND_CLEAR", f"{STACK_PREFIX}_unbound"))
        else:
            prologue.append(Instr("LOAD_FAST", f"{STACK_PREFIX}{i}"))
    prologue.append(Instr("JUMP_FORWARD", target))
    bytecode.clear()
    bytecode.extend(body[:start] + prologue + body[start:])
    bytecode.argnames = list(point.params)
    bytecode.argcount = len(point.params)
    bytecode.posonlyargcount = 0
    bytecode.kwonlyargcount = 0
    bytecode.flags &= ~(0x04 | 0x08)  # CO_VARARGS, CO_VARKEYWORDS: those become plain locals
    bytecode.name = f"{code.co_name}__resume_at_{point.offset}"
    bytecode.qualname = f"{code.co_qualname}__resume_at_{point.offset}"
    resumed = bytecode.to_code()
    # Instructions after the prologue are the original ones in the original order.
    new = [i.offset for i in dis.get_instructions(resumed) if i.opname != "EXTENDED_ARG"]
    old = [i.offset for i in real]
    skip = len(prologue)
    offsets = {new[k]: old[k] for k in range(start)}
    offsets.update({new[k + skip]: old[k] for k in range(start, len(old))})
    # (a jump to an instruction with a large argument names its EXTENDED_ARG prefix)
    offsets.update({prefix: offsets[at] for prefix, at in prefixed_instructions(resumed).items() if at in offsets})
    _ORIGINS[resumed] = (code, offsets)
    _STARTS[resumed] = new[position + skip] if position >= start else new[position]
    return resumed


# resume code -> (original code, resume offset -> original offset): a break inside a resume
# function resumes in terms of the original code, so the resume functions of one frame form a
# finite set however often its loops go round.
_ORIGINS: dict[types.CodeType, tuple[types.CodeType, dict[int, int]]] = {}


# resume code -> the offset, in it, of the first original instruction it runs.
_STARTS: dict[types.CodeType, int] = {}


def resume_start(code: types.CodeType) -> int | None:
    """Where a resume function's own code resumes the original (None for any other code)."""
    return _STARTS.get(code)


def original_location(code: types.CodeType, offset: int) -> tuple[types.CodeType, int]:
    """The original code and instruction offset behind an offset of (possibly) a resume
    function's code (one naming an EXTENDED_ARG prefix: the instruction it prefixes)."""
    origin = _ORIGINS.get(code)
    if origin is None:
        return code, prefixed_instructions(code).get(offset, offset)
    original, offsets = origin
    return original, offsets[offset]


def resume_function(point: ResumePoint, globals_: dict, closure: tuple | None) -> types.FunctionType:
    code = resume_code(point)
    if len(code.co_freevars) != len(closure or ()):
        raise ValueError("closure does not match the resumed code")
    return types.FunctionType(code, globals_, code.co_name, None, closure)
