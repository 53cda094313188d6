"""Dead code elimination: drop nodes whose values nobody can observe.

A node is live if an output depends on it, or a ``setitem`` does: a write into an input (or a
view of one) is visible to the caller, so every mutation stays, with everything it reads. So
does an op that raises for some values (``checks_values``: an index out of bounds), as eager would.
Input nodes always stay: the runtime binds inputs by position.

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph("f")
>>> x = g.add_input("x", TensorMeta((3,), np.dtype("float32")))
>>> unused = g.call("exp", x)
>>> g.set_outputs([g.call("negative", x)])
>>> print(eliminate_dead_code(g))
graph f(%x: f32[3]):
    %1 = negative(%x)                             # f32[3]
    return (%1,)
"""
from __future__ import annotations

from ..ir import Graph, Node, OpKind, iter_nodes
from .rewriting import copy_graph


def eliminate_dead_code(graph: Graph) -> Graph:
    """Return a copy of ``graph`` without the nodes no output or mutation depends on."""
    graph = copy_graph(graph)
    live: set[Node] = set()
    pending = list(iter_nodes(graph.outputs))
    pending += [node for node in graph.nodes if node.op.kind is OpKind.MUTATION or node.op.checks_values]
    while pending:
        node = pending.pop()
        if node not in live:
            live.add(node)
            pending.extend(node.input_nodes())
    graph.nodes = [node for node in graph.nodes if node in live or node.op.kind is OpKind.INPUT]
    return graph
