"""Run a graph with the NumPy reference implementations: the oracle for passes and backends."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .graph import Graph, Node, map_nodes


def interpret(graph: Graph, inputs: Sequence[Any]) -> list[Any]:
    """Evaluate ``graph`` on concrete ``inputs`` (one per input node, in order).

    Views stay views and mutations write through, so the caller's arrays change exactly
    as they would under eager NumPy.
    """
    env: dict[Node, Any] = dict(zip(graph.inputs, inputs, strict=True))
    lookup = env.__getitem__
    for node in graph.nodes:
        if node in env:
            continue
        env[node] = node.op.reference(*map_nodes(node.args, lookup), **map_nodes(node.kwargs, lookup))
    return [map_nodes(out, lookup) for out in graph.outputs]
