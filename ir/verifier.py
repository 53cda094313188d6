"""Check a graph's invariants; every pass runs this on its output (see passes.manager)."""
from __future__ import annotations

from .graph import Graph, iter_nodes, map_nodes
from .ops import OpKind
from .symbolic import infer_meta


class GraphInvariantError(AssertionError):
    pass


def verify(graph: Graph) -> None:
    """Raise GraphInvariantError unless: inputs come first, names are unique, every argument is
    defined before use, metas match their op's rule, and outputs are defined nodes or constants."""
    seen: set = set()
    names: set[str] = set()
    inputs_done = False
    for node in graph.nodes:
        if node.name in names:
            raise GraphInvariantError(f"duplicate node name %{node.name}")
        names.add(node.name)
        if node.op.kind is OpKind.INPUT:
            if inputs_done:
                raise GraphInvariantError(f"input %{node.name} after computation")
        else:
            inputs_done = True
            for arg in node.input_nodes():
                if arg not in seen:
                    raise GraphInvariantError(f"%{node.name} uses %{arg.name} before it is defined")
            try:
                inferred = infer_meta(node.op, map_nodes(node.args, lambda n: n.meta),
                                      map_nodes(node.kwargs, lambda n: n.meta))
            except Exception as error:
                raise GraphInvariantError(f"%{node.name}: {node.op.name} rejects its arguments: {error}") from error
            if inferred != node.meta:
                raise GraphInvariantError(f"%{node.name}: meta {node.meta!r} but {node.op.name} gives {inferred!r}")
        seen.add(node)
    for out in iter_nodes(graph.outputs):
        if out not in seen:
            raise GraphInvariantError(f"output %{out.name} is not a node of the graph")
