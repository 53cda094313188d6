"""The generated Python function a cache entry runs: fetch the graph inputs from their
sources, call the artifact, then either rebuild the frame's return value or, at a graph
break, rebuild the stack and live locals, let CPython run the breaking instruction, and
hand over to the resume function (as a ``Resume`` the caller's driver loop follows).

It is printable (the ``wrapper`` stage) and is all that runs per call besides the guard.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, cast

from ..frontend import (
    Attribute,
    BreakPlan,
    Constant,
    Container,
    FrameCapture,
    FreshIterator,
    FromSource,
    GraphOutput,
    ResumedIterator,
)
from ..frontend.guards import GuardKind, GuardSet
from ..frontend.resume import ResumePoint
from ..frontend.sources import argument_only, identifier
from ..ir import Node, same_object

SIMPLE_CONSTANTS = (int, float, bool, str, type(None))


@dataclass(frozen=True, slots=True)
class Resume:
    """Continue in ``target`` (a compiled resume function) with these positional arguments."""

    target: Any
    args: tuple


@dataclass(frozen=True, slots=True)
class Failed:
    """The compiled graph raised: the caller decides between re-raising and running eagerly.
    ``args``: the frame's arguments at the failing run when they are no longer the call's (a
    loop's later iteration, run inside one wrapper call), else None."""

    error: BaseException
    args: tuple | None = None


class _Emitter:
    """Python expressions for rebuild specs; containers become one temporary each, so a list
    seen twice (on the stack and in a local) stays one object, as in eager, and so do values
    read from globals, attributes and items (read before the breaking instruction)."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}
        self.lines: list[str] = []
        self.temps: dict[int | str, str] = {}  # by a container's identity, or a source's text

    def constant(self, value: Any) -> str:
        special_float = isinstance(value, float) and (value != value or abs(value) == float("inf"))
        if type(value) in SIMPLE_CONSTANTS and not special_float:
            return repr(value)
        name = f"K{len(self.constants)}"
        self.constants[name] = value
        return name

    def expr(self, spec: Any) -> str:
        if isinstance(spec, GraphOutput):
            return f"graph_out[{spec.index}]"
        if isinstance(spec, FromSource):
            if argument_only(spec.source):
                return spec.source.expr()
            # Read before the breaking instruction runs, as the trace read it: that instruction may
            # assign it (``old = o.k; o.k = old + 10``), and eager's ``old`` is the value before.
            text = spec.source.expr()
            return self.temps.get(text) or self._temp(text, text)
        if isinstance(spec, Constant):
            return self.constant(spec.value)
        if isinstance(spec, Attribute):
            return f"{self.expr(spec.of)}.{spec.name}"
        if isinstance(spec, FreshIterator | ResumedIterator | Container) and spec.identity in self.temps:
            return self.temps[spec.identity]
        if isinstance(spec, FreshIterator):
            return self._temp(spec.identity, f"iter({self.expr(spec.items)})")
        if isinstance(spec, ResumedIterator):
            return self._resumed_iterator(spec)
        if isinstance(spec, Container):
            if spec.kind is dict:
                text = "{" + ", ".join(f"{self.constant(k)}: {self.expr(v)}" for k, v in spec.children.items()) + "}"
            else:
                items = [self.expr(c) for c in spec.children]
                if spec.kind is tuple:
                    text = f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
                elif spec.kind is list:
                    text = f"[{', '.join(items)}]"
                else:  # a bound method, kind(function, self), or a slice, kind(start, stop, step)
                    text = f"{self.constant(spec.kind)}({', '.join(items)})"
            return self._temp(spec.identity, text)
        raise TypeError(f"cannot rebuild {spec!r}")

    def _resumed_iterator(self, spec: ResumedIterator) -> str:
        name = self._temp(spec.identity, f"{self.constant(spec.make)}({self.expr(spec.of)})")
        if spec.state is not None:
            self.lines.append(f"    {name}.__setstate__({spec.state})")
        elif spec.advance:  # the items already taken: islice(it, n, n) steps over n and yields none
            skip = f"{self.constant(itertools.islice)}({name}, {spec.advance}, {spec.advance})"
            self.lines.append(f"    next({skip}, None)")
        return name

    def _temp(self, key: int | str, text: str) -> str:
        name = f"t{len(self.temps)}"
        self.temps[key] = name
        self.lines.append(f"    {name} = {text}")
        return name


def wrapper_source(capture: FrameCapture, resume_targets: list[Any] | None = None,
                   loop_target: Any = None) -> tuple[str, dict[str, Any]]:
    """The wrapper's text. ``loop_target``: the frame's own compiled function, where the break
    resumes in it again (a loop's body that splits where the loop comes round: a loop too long
    to unroll): while the next round's arguments pass the entry's guard (``guard`` in the
    namespace), the wrapper runs that round itself, without a Resume and a cache lookup each."""
    emitter = _Emitter()
    # A Python float or int read at run time enters the graph as the NumPy scalar its input node is
    # (np.float64, np.int64), unless it is only an index (capture.py: the int itself, a view too).
    inputs = ", ".join(f"{emitter.constant(capture.scalar_inputs[s.expr()])}({s.expr()})"
                       if s.expr() in capture.scalar_inputs else s.expr() for s in capture.input_sources)
    loops = loop_target is not None
    params = ", ".join(capture.params) + ("," if len(capture.params) == 1 else "") if loops else ""
    round_guard: list[str] = []  # the text of the next round's check, where it can be smaller
    indent = "    " if loops else ""
    lines = [f"def run_{capture.name}({', '.join(capture.params)}):"]
    if loops:
        lines.append("    while True:  # one round of the loop per turn")
    lines += [f"{indent}    try:",
              f"{indent}        graph_out = artifact([{inputs}])",
              f"{indent}    except Exception as failure:",
              f"{indent}        return Failed(failure, ({params}))" if loops else "        return Failed(failure)"]
    plan = capture.break_plan
    if plan is None:
        result = emitter.expr(capture.output_spec)
        lines += emitter.lines + [f"    return {result}"]
    else:
        loop = _Loop(loop_target, params, capture, round_guard) if loops else None
        body = _break_step(plan, emitter, resume_targets or [], loop)
        lines += [indent + line for line in emitter.lines + body]
    return "\n".join(round_guard + lines), emitter.constants


@dataclass
class _Loop:
    """A loop's body that resumes in itself (see wrapper_source): the frame's own function, its
    parameters (as text), the capture, and where the round guard's text goes."""

    target: Any
    params: str
    capture: FrameCapture
    round_guard: list[str]

    def guard_for(self, plan: BreakPlan, stack: list[str | None], next_args: list[str]) -> str:
        """The check the next round's arguments must pass: the entry's guard, or, for a loop over
        an iterator whose ``next`` runs no Python code (Guard.plain_iterator), the part of it that
        names an argument that is not the last round's own object (the counter, a row; not the
        arrays the body wrote in place): between two rounds nothing but the compiled graph ran."""
        guards, params = self.capture.guards, self.capture.params
        kinds = {guard.kind for guard in guards.guards if guard.sources and guard.sources[0].expr() == stack[-1]}
        if plan.kind != "for_iter" or not kinds & {GuardKind.ITERATOR, GuardKind.ROWS}:
            return "guard"
        kept = _passed_through(self.capture)
        changed = [p for p, value in zip(params, next_args, strict=True) if value != p and kept.get(value) != p]
        names = re.compile(r"\b(" + "|".join(map(re.escape, changed)) + r")\b") if changed else None
        # Over an array's rows (guards.rows_alike), each item is as the first round's was checked.
        items = [p for p, value in zip(params, next_args, strict=True) if value == "next_item"]
        alike = None
        if GuardKind.ROWS in kinds and items:
            alike = re.compile(r"(" + "|".join(map(re.escape, items)) + r")\b")
        subset = GuardSet()
        for guard in guards.guards:
            if alike is not None and guard.kind is GuardKind.TENSOR and alike.match(guard.sources[0].expr()):
                continue
            if names is not None and names.search(guard.text):
                subset.add(guard)
        self.round_guard[:] = [subset.source_text(f"{self.capture.name}_round", params), "", ""]
        return f"guard_{identifier(self.capture.name)}_round"


def _passed_through(capture: FrameCapture) -> dict[str, str]:
    """``graph_out[k]`` -> the parameter whose array the graph returns as output k itself (the
    input, or what an in-place update of it gives: ``acc += row`` is acc)."""
    graph = capture.graph
    assert graph is not None  # (a compiled capture)
    sources = {node: source.expr() for node, source in zip(graph.inputs, capture.input_sources, strict=True)}
    passed = {}
    for k, output in enumerate(graph.outputs):
        node = same_object(output) if isinstance(output, Node) else None
        if node in sources and sources[node] not in capture.scalar_inputs:
            passed[f"graph_out[{k}]"] = sources[node]
    return passed


def _break_step(plan: BreakPlan, emitter: _Emitter, targets: list[Any], loop: _Loop | None = None) -> list[str]:
    """The lines that run the breaking instruction in CPython and resume after it; with
    ``loop`` (see wrapper_source), a resume in the frame's own function makes the next round's
    arguments the parameters again where its guard holds."""
    stack = [None if spec is None else emitter.expr(spec) for spec in plan.stack]
    lines = [f"    # graph break at {plan.loc}: {plan.reason}"]
    kind = plan.kind

    def resume(index: int, new_stack: list[str | None], indent: str = "    ") -> list[str]:
        point, local_specs = plan.resumes[index]
        values = [s for s, slot in zip(new_stack, point.slots, strict=True) if slot == "value"]
        values += [emitter.expr(spec) for spec in local_specs]
        inner = ", ".join(cast(list[str], values)) + ("," if len(values) == 1 else "")  # (NULL slots hold None)
        target = emitter.constant(targets[index])
        if loop is None or targets[index] is not loop.target:
            return [f"{indent}return Resume({target}, ({inner}))"]
        guard = loop.guard_for(plan, stack, cast(list[str], values))
        return [f"{indent}{line}" for line in (  # the next round here, where the guard holds for it
            f"next_args = ({inner})", "try:", f"    held = {guard}(*next_args)", "except Exception:",
            "    held = False", "if not held:", f"    return Resume({target}, next_args)",
            f"{loop.params} = next_args", "continue")]

    if kind == "call":
        fn, args, kwargs, consumed = _call_parts(plan, stack)
        lines.append(f"    call_result = call({fn}, ({', '.join(cast(list[str], args))}"
                     f"{',' if len(args) == 1 else ''}), {kwargs})")
        lines += resume(0, stack[:len(stack) - consumed] + ["call_result"])
    elif kind == "branch":
        lines.append(f"    if {stack[-1]}:")
        lines += resume(0, stack[:-1], "        ")
        lines += resume(1, stack[:-1])
    elif kind == "for_iter":
        lines += ["    try:", f"        next_item = next({stack[-1]})", "    except StopIteration:"]
        lines += resume(1, stack[:-1], "        ")
        lines += resume(0, stack + ["next_item"])
    else:
        operation, consumed = _simple_operation(plan, stack)
        lines.append(f"    {operation}")
        pushed: list[str | None] = ["call_result"] if operation.startswith("call_result = ") else []
        lines += resume(0, stack[:len(stack) - consumed] + pushed)
    return lines


def _call_parts(plan: BreakPlan, stack: list[str | None]) -> tuple[str | None, list[str | None], str, int]:
    import sys

    inst = plan.inst
    assert inst.arg is not None  # (calls have an argument)
    if inst.opname == "CALL_FUNCTION_EX":
        has_kwargs = inst.arg & 1
        kwargs = stack[-1] if has_kwargs else "{}"
        args: list[str | None] = [f"*{stack[-1 - has_kwargs]}"]
        below, above = stack[-3 - has_kwargs], stack[-2 - has_kwargs]
        consumed = 3 + has_kwargs
        fn = below if sys.version_info >= (3, 13) else (above if below is None else below)
        return fn, args, f"dict({kwargs})" if has_kwargs else "{}", consumed
    kw_names = plan.kw_names
    top = stack
    if inst.opname == "CALL_KW":
        kw_names = plan.stack[-1].value if isinstance(plan.stack[-1], Constant) else ()
        top = stack[:-1]
    argc = inst.arg
    args = list(top[len(top) - argc:])
    below, above = top[len(top) - argc - 2], top[len(top) - argc - 1]
    if sys.version_info >= (3, 13):
        fn = below
        if above is not None:
            args = [above, *args]
    elif below is None:
        fn = above
    else:
        fn, args = below, [above, *args]
    split = len(args) - len(kw_names)
    kwargs = "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(kw_names, args[split:], strict=True)) + "}"
    return fn, args[:split], kwargs, argc + 2 + (inst.opname == "CALL_KW")


def _simple_operation(plan: BreakPlan, stack: list[str | None]) -> tuple[str, int]:
    kind, inst = plan.kind, plan.inst
    if kind == "to_bool":
        return f"call_result = bool({stack[-1]})", 1
    if kind == "unary_not":
        return f"call_result = not {stack[-1]}", 1
    if kind == "compare":
        symbol = inst.argrepr.removeprefix("bool(").removesuffix(")")
        text = f"({stack[-2]} {symbol} {stack[-1]})"
        return f"call_result = {'bool' + text if 'bool(' in inst.argrepr else text}", 2
    if kind == "get_iter":
        return f"call_result = iter({stack[-1]})", 1
    if kind == "store_attr":
        return f"{stack[-1]}.{inst.argval} = {stack[-2]}", 2
    if kind == "store_subscr":
        return f"{stack[-2]}[{stack[-1]}] = {stack[-3]}", 3
    if kind == "subscr":
        return f"call_result = {stack[-2]}[{stack[-1]}]", 2
    if kind == "format":
        return f"call_result = format({stack[-1]})", 1
    if kind == "list_append":
        assert inst.arg is not None  # (LIST_APPEND has an argument)
        return f"{stack[-inst.arg - 1]}.append({stack[-1]})", 1
    if kind == "map_add":
        assert inst.arg is not None  # (MAP_ADD has an argument)
        return f"{stack[-inst.arg - 2]}[{stack[-2]}] = {stack[-1]}", 2
    raise ValueError(f"no step for a {kind} break")


def build_wrapper(capture: FrameCapture, artifact: Any, globals_: dict, closure: tuple | None,
                  resume_targets: list[Any] | None = None, call: Any = None, filename: str | None = None,
                  loop_target: Any = None, loop_guard: Any = None):
    """Compile the wrapper; ``filename`` (a real file holding the source) lets a debugger step in.
    ``loop_target``, ``loop_guard``: the frame's own function, where a break resumes in it again,
    and the entry's guard (wrapper_source)."""
    source, constants = wrapper_source(capture, resume_targets, loop_target)
    # An artifact may expose its raw generated program as ``run``: one Python call less per call.
    namespace = {"artifact": getattr(artifact, "run", artifact), "G": globals_, "C": closure or (),
                 "Resume": Resume, "Failed": Failed,
                 "call": call, "guard": loop_guard, **capture.guards.constants(), **constants}
    exec(compile(source, filename or f"<ember wrapper {capture.name}>", "exec"), namespace)
    return namespace[f"run_{capture.name}"], source


__all__ = ["Resume", "Failed", "build_wrapper", "wrapper_source", "ResumePoint"]
