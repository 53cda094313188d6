"""Run a graph with the NumPy reference implementations: the oracle for passes and backends."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .graph import Graph, Node, iter_nodes, map_nodes
from .symbolic import SHAPE_PARAMETER_OPS, input_sizes, resolve


def release_plan(graph: Graph) -> dict[int, list[Node]]:
    """After which node index each intermediate value is no longer needed (outputs never)."""
    last_use: dict[Node, int] = {}
    for index, node in enumerate(graph.nodes):
        for arg in node.input_nodes():
            last_use[arg] = index
    kept = set(iter_nodes(graph.outputs))
    plan: dict[int, list[Node]] = {}
    for node, index in last_use.items():
        if node not in kept:
            plan.setdefault(index, []).append(node)
    return plan


def interpret(graph: Graph, inputs: Sequence[Any], release: dict[int, list[Node]] | None = None) -> list[Any]:
    """Evaluate ``graph`` on concrete ``inputs`` (one per input node, in order).

    Views stay views and mutations write through, so the caller's arrays change exactly
    as they would under eager NumPy. With a ``release`` plan (see release_plan), values are
    dropped after their last use, so peak memory stays close to eager's.
    """
    env: dict[Node, Any] = dict(zip(graph.inputs, inputs, strict=True))
    lookup = env.__getitem__
    sizes = None  # the call's sizes of dynamic dimensions (ir/symbolic.py), read when a target shape needs them
    for index, node in enumerate(graph.nodes):
        if node not in env:
            args, kwargs = map_nodes(node.args, lookup), map_nodes(node.kwargs, lookup)
            if node.op.name in SHAPE_PARAMETER_OPS:
                sizes = input_sizes(graph.inputs, inputs) if sizes is None else sizes
                args = resolve(args, sizes) if sizes else args
            try:
                env[node] = node.op.reference(*args, **kwargs)
            except Exception as error:
                if node.op.checks_values and node.loc is not None:  # an index out of bounds: say where
                    error.add_note(f"(at {node.loc.with_source()})")
                raise
        if release is not None:
            for dead in release.get(index, ()):
                del env[dead]
    return [map_nodes(out, lookup) for out in graph.outputs]
