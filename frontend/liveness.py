"""Which locals a frame may still read from a given instruction on (backward dataflow over
bytecode). A graph break passes only live locals to its resume function, so a dead loop
counter does not become a guarded value that changes every iteration."""
from __future__ import annotations

import dis
import types
from functools import cache

READS = {"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR", "DELETE_FAST"}
WRITES = {"STORE_FAST"}
UNCONDITIONAL = {"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP", "JUMP_NO_INTERRUPT",
                 "RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE"}


def _names_read_written(inst: dis.Instruction) -> tuple[tuple[str, ...], tuple[str, ...]]:
    name = inst.opname
    if name in READS:
        return (inst.argval,), ()
    if name in WRITES:
        return (), (inst.argval,)
    if name == "LOAD_FAST_LOAD_FAST":
        return tuple(inst.argval), ()
    if name == "STORE_FAST_LOAD_FAST":
        return (inst.argval[1],), (inst.argval[0],)
    if name == "STORE_FAST_STORE_FAST":
        return (), tuple(inst.argval)
    return (), ()


def _exception_targets(code: types.CodeType, offset: int) -> list[int]:
    table = getattr(dis.Bytecode(code), "exception_entries", [])
    return [entry.target for entry in table if entry.start <= offset < entry.end]


@cache
def prefixed_instructions(code: types.CodeType) -> dict[int, int]:
    """EXTENDED_ARG offset -> the offset of the instruction it prefixes: a jump to an instruction
    with a large argument names its prefix (a loop body past ~255 instructions jumps back to one)."""
    prefixes: dict[int, int] = {}
    pending: list[int] = []
    for inst in dis.get_instructions(code):
        if inst.opname == "EXTENDED_ARG":
            pending.append(inst.offset)
            continue
        prefixes.update(dict.fromkeys(pending, inst.offset))
        pending = []
    return prefixes


@cache
def live_locals_by_offset(code: types.CodeType) -> dict[int, frozenset[str]]:
    """For every instruction offset, the locals that may be read before being written from it on."""
    instructions = [i for i in dis.get_instructions(code) if i.opname != "EXTENDED_ARG"]
    index_of = {inst.offset: k for k, inst in enumerate(instructions)}
    index_of.update({prefix: index_of[at] for prefix, at in prefixed_instructions(code).items()})
    successors: list[list[int]] = []
    for k, inst in enumerate(instructions):
        nexts = [] if inst.opname in UNCONDITIONAL or k + 1 >= len(instructions) else [k + 1]
        if inst.opcode in dis.hasjrel or inst.opcode in dis.hasjabs:
            nexts.append(index_of[inst.argval])
        nexts += [index_of[t] for t in _exception_targets(code, inst.offset)]
        successors.append(nexts)
    live: list[frozenset[str]] = [frozenset()] * len(instructions)
    changed = True
    while changed:
        changed = False
        for k in reversed(range(len(instructions))):
            reads, writes = _names_read_written(instructions[k])
            out: set[str] = set()
            for s in successors[k]:
                out |= live[s]
            new = frozenset((out - set(writes)) | set(reads))
            if new != live[k]:
                live[k], changed = new, True
    return {offset: live[k] for offset, k in index_of.items()}  # (an EXTENDED_ARG's: its instruction's)
