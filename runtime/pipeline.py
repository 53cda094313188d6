"""The optimisation pipeline between capture and code generation, timed pass by pass."""
from __future__ import annotations

from ..ir import Graph


def optimise_graph(graph: Graph) -> tuple[Graph, list[tuple[str, float, int]]]:
    """Run the pass manager; returns the optimised graph and (pass, seconds, node count) per pass."""
    from ..passes import optimise

    timings: list[tuple[str, float, int]] = []

    def record(name: str, result: Graph, seconds: float) -> None:
        timings.append((name, seconds, len(result.nodes)))

    return optimise(graph, on_pass=record), timings


def format_timings(timings: list[tuple[str, float, int]]) -> str:
    return "\n".join(f"# pass {name}: {seconds * 1e3:.2f} ms, {count} nodes" for name, seconds, count in timings)
