"""What ``ember demo`` shows of one compiled function: its stages, wherever Ember exposes them.

The stages come from ``CompiledFunction.stages`` (a mapping of stage name to text) or, failing
that, from an ``ember.explain(fn)(*args)`` report; a missing or failing accessor becomes a
one-line note, never an error. Argument parsing stays in ``cli.py``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

LLVM_SLICE_LINES = 40

STAGE_ORDER = ("graph", "optimized", "kernels", "llvm")


def collect_stages(package: Any | None, compiled: Any, fn: Callable[..., Any],
                   args: Sequence[Any]) -> tuple[dict[str, str], str]:
    """The readable stages of a compiled function, wherever this Ember exposes them.

    Looks for a ``stages`` attribute (a mapping, or a method returning one) on the compiled
    function, then for ``ember.explain(fn)(*args)`` (its report's ``stages``, or its text).
    Returns the stages by name and a note saying where they came from, or why there are none.
    """
    for source, getter in (("compiled.stages", lambda: getattr(compiled, "stages", None)),
                           ("ember.explain", lambda: _explain(package, fn, args))):
        try:
            found = getter()
            if callable(found):
                found = found()
        except Exception as exc:  # a stage dump must never break the demo
            return {}, f"({source} failed: {type(exc).__name__}: {exc})"
        stages = _as_stage_mapping(found)
        if stages:
            return stages, f"(stages from {source})"
    return {}, "(this Ember exposes no stage dumps yet: no compiled.stages, no ember.explain; skipped)"


def _explain(package: Any | None, fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    explain = getattr(package, "explain", None)
    return explain(fn)(*args) if callable(explain) else None


def _as_stage_mapping(found: Any) -> dict[str, str]:
    if found is None:
        return {}
    if isinstance(found, Mapping):
        return {str(k): str(v) for k, v in found.items()}
    inner = getattr(found, "stages", None)
    if inner is not None and inner is not found:
        return _as_stage_mapping(inner() if callable(inner) else inner)
    text = str(found)
    return {"explain": text} if text.strip() else {}


_FLOAT_WORK = re.compile(r"^\s*%\S+ = (fadd|fsub|fmul|fdiv|call\b.*\b(float|double)\b)")
_LABEL = re.compile(r"^[\w.$-]+:")


def llvm_slice(lines: Sequence[str], count: int) -> str:
    """``count`` lines of LLVM IR where the arithmetic starts (from the label of the block that
    holds the first floating-point instruction), else from the first ``define``."""
    first = next((i for i, line in enumerate(lines) if _FLOAT_WORK.match(line)), None)
    if first is not None:
        labels = [i for i in range(max(0, first - 15), first) if _LABEL.match(lines[i])]
        start = labels[-1] if labels else max(0, first - 5)
    else:
        start = next((i for i, line in enumerate(lines) if line.startswith("define")), 0)
    end = min(len(lines), start + count)
    head = [f"... ({start} lines before)"] if start else []
    tail = [f"... ({len(lines) - end} more lines)"] if end < len(lines) else []
    return "\n".join([*head, *lines[start:end], *tail])


def format_stages(stages: Mapping[str, str], llvm_lines: int = LLVM_SLICE_LINES) -> str:
    """The demo's stages in pipeline order (graph, optimized, kernels, llvm, then breaks or an
    explain report), the LLVM cut to its first ``llvm_lines`` lines; the others only named."""
    shown = [*STAGE_ORDER, "breaks", "explain"]
    parts = []
    for name in (n for n in shown if n in stages):
        text = stages[name].rstrip("\n")
        lines = text.splitlines()
        if name == "llvm" and len(lines) > llvm_lines:
            text = llvm_slice(lines, llvm_lines)
        parts.append(f"--- {name} ---\n{text}\n")
    missing = [n for n in STAGE_ORDER if n not in stages]
    others = [n for n in stages if n not in shown]
    if missing and "explain" not in stages:
        parts.append(f"(no {', '.join(missing)} stage from this backend)\n")
    if others:
        parts.append(f"(also {', '.join(others)}: see `ember dump`)\n")
    return "\n".join(parts)


def new_batch_size_note(compiled: Any, inputs: Sequence[Any]) -> str:
    """Call ``compiled`` on inputs of another batch size and show the guard of the entry that now
    serves it: with dynamic dimensions it admits every size (``x.shape[0] >= 2``). Never raises."""
    try:
        compiled(*inputs)
        entries = getattr(compiled, "entries", None) or []
        guards = entries[-1].stages.get("guards", "") if entries else ""
    except Exception as exc:  # the demo goes on
        return f"(a second batch size failed: {type(exc).__name__}: {exc})\n"
    if not guards:
        return "(this Ember shows no guards; skipped)\n"
    shapes = ", ".join("x".join(map(str, getattr(a, "shape", ()))) for a in inputs if hasattr(a, "shape"))
    return (f"--- a new batch size ({shapes}): {len(entries)} cache entries; the newest one's guard ---\n"
            f"{guards.rstrip()}\n")
