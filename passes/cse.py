"""Common subexpression elimination: compute each value once.

Two nodes merge when they have the same op, arguments and kwargs, and:

* no ``setitem`` ran between them, for nodes that read arrays (the count of mutations seen
  so far is part of the key: a write can change what they read);
* neither node's memory is ever written (two fresh arrays must stay two arrays if one of them
  is later changed in place); ``setitem``, ``empty``, ``empty_like`` and inputs never merge;
* the caller cannot tell: when both values reach graph outputs (themselves or through views),
  eager returned distinct arrays, so the second becomes ``copy`` of the first (a view stays
  as it is: a copy would no longer share its base's memory).

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph("f")
>>> x = g.add_input("x", TensorMeta((3,), np.dtype("float32")))
>>> g.set_outputs([g.call("multiply", g.call("exp", x), g.call("exp", x))])
>>> print(eliminate_common_subexpressions(g))
graph f(%x: f32[3]):
    %0 = exp(%x)                                  # f32[3]
    %2 = multiply(%0, %0)                         # f32[3]
    return (%2,)
"""
from __future__ import annotations

from typing import Any

from ..ir import OPS, Graph, Node, OpKind
from .rewriting import Unfreezable, analyse_aliasing, base_of, copy_graph, freeze, substitute


def eliminate_common_subexpressions(graph: Graph) -> Graph:
    """Return a copy of ``graph`` in which each repeated computation is done once."""
    graph = copy_graph(graph)
    facts = analyse_aliasing(graph)
    first_of: dict[Any, Node] = {}
    replacements: dict[Node, Node] = {}
    reaches_output = set(facts.reaches_output)  # grows as merges hand outputs to earlier nodes
    mutations = 0
    for node in graph.nodes:
        node.args = substitute(node.args, replacements)
        node.kwargs = substitute(node.kwargs, replacements)
        if node.op.kind is OpKind.MUTATION:
            mutations += 1
            continue
        if node.op.kind is OpKind.INPUT or node.op.name in ("empty", "empty_like") or facts.is_written(node):
            continue
        try:
            reads_memory = any(True for _ in node.input_nodes())
            epoch = mutations if reads_memory else None
            key = (node.op.name, freeze(node.args), freeze(node.kwargs), node.meta, epoch)
        except Unfreezable:
            continue
        first = first_of.setdefault(key, node)
        if first is node:
            continue
        if first in reaches_output and node in reaches_output:
            # A copy of a view would no longer share its base's memory: views stay as they are.
            if node.op.kind is not OpKind.VIEW:
                node.op, node.args, node.kwargs = OPS["copy"], (first,), {}
            continue
        replacements[node] = first
        if node in reaches_output:  # first, and the arrays it views, now reach that output
            view: Node | None = first
            while view is not None and view not in reaches_output:
                reaches_output.add(view)
                view = base_of(view)
    graph.outputs = substitute(graph.outputs, replacements)
    graph.nodes = [node for node in graph.nodes if node not in replacements]
    return graph
