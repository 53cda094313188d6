"""``ember.explain``: what was compiled, what was not, and why."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..frontend import BreakInfo
from ..ir import OpKind
from .compiled_function import CompiledFunction


@dataclass
class ExplainReport:
    """The outcome of compiling and running a function once.

    ``str(report)`` is a readable summary; the fields are for programs and tests.
    """

    name: str
    graph_count: int = 0
    break_count: int = 0
    breaks: list[BreakInfo] = field(default_factory=list)
    ops_per_graph: list[int] = field(default_factory=list)
    guards: list[str] = field(default_factory=list)
    compile_seconds: list[float] = field(default_factory=list)
    graphs: list[str] = field(default_factory=list)
    result: Any = None

    def __str__(self) -> str:
        lines = [f"ember.explain({self.name}): {self.graph_count} graph(s), {self.break_count} graph break(s)"]
        for i, (ops, seconds) in enumerate(zip(self.ops_per_graph, self.compile_seconds, strict=False)):
            lines.append(f"  graph {i}: {ops} ops, compiled in {seconds * 1e3:.1f} ms")
        for info in self.breaks:
            lines.append(f"  break: {info}")
        for text in self.guards:
            lines.append("  guards:\n" + "\n".join("    " + line for line in text.splitlines()))
        return "\n".join(lines)


def explain(fn: Callable, *, backend: str | None = None) -> Callable[..., ExplainReport]:
    """``ember.explain(f)(*args)`` compiles a fresh copy of ``f``, runs it once on the arguments and
    reports its graphs, breaks (with file:line and source), guards and compile times.

    >>> import numpy as np, ember
    >>> def f(x):
    ...     print("hello")
    ...     return x + 1
    >>> report = ember.explain(f)(np.ones(2))  # doctest: +SKIP
    >>> report.break_count  # doctest: +SKIP
    1
    """
    def run(*args: Any, **kwargs: Any) -> ExplainReport:
        compiled = CompiledFunction(fn, backend=backend)
        result = compiled(*args, **kwargs)
        report = ExplainReport(compiled.__qualname__, result=result)
        for function in with_descendants(compiled):
            for entry in function.entries:
                _add_entry(report, entry)
        if compiled._eager_reason is not None:
            report.break_count += 1
            report.breaks.append(BreakInfo(compiled._eager_reason, None))
        return report

    return run


def with_descendants(root: CompiledFunction) -> list[CompiledFunction]:
    """The function, its resume functions and the callees compiled at its breaks, once each."""
    order, pending = [], [root]
    while pending:
        function = pending.pop(0)
        if function not in order:
            order.append(function)
            pending.extend(function.children)
    return order


def _add_entry(report: ExplainReport, entry: Any) -> None:
    report.guards.append(entry.stages.get("guards", ""))
    if entry.eager_reason is not None:
        report.break_count += 1
        report.breaks.append(entry.eager_reason)
        return
    graph = entry.capture.graph
    ops = sum(1 for n in graph.nodes if n.op.kind is not OpKind.INPUT)
    if ops:
        report.graph_count += 1
        report.ops_per_graph.append(ops)
        report.compile_seconds.append(entry.compile_seconds)
        report.graphs.append(entry.stages.get("graph", ""))
    plan = entry.capture.break_plan
    if plan is not None:
        report.break_count += 1
        report.breaks.append(BreakInfo(plan.reason, plan.loc))
