"""Graphviz DOT text of a graph, with each fused kernel drawn as a cluster of its nodes.

``ember dump --stage dot f.py:f --args ... | dot -Tsvg > f.svg`` draws what fusion did: values
flow along the edges; a box around nodes is one kernel (one loop nest, one pass over memory
per level of reduction); nodes outside the boxes run through NumPy (views, matmul, ...).

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph("f")
>>> x = g.add_input("x", TensorMeta((8,), np.dtype("float32")))
>>> g.set_outputs([g.call("exp", g.call("multiply", x, 2.0))])
>>> from .fusion import fuse
>>> print(to_dot(g, fuse(g)))  # doctest: +NORMALIZE_WHITESPACE
digraph "f" {
  node [shape=box, fontname="monospace", fontsize=10];
  "x" [label="%x\\nf32[8]", shape=ellipse];
  subgraph "cluster_k0" {
    label="k0  domain=(8,)";
    "0" [label="%0 = multiply\\nf32[8]"];
    "1" [label="%1 = exp\\nf32[8]"];
  }
  "x" -> "0";
  "0" -> "1";
  "1" -> "output 0";
  "output 0" [shape=plaintext];
}
"""
from __future__ import annotations

from ..ir import Graph, Node, OpKind, iter_nodes
from ..ir.meta import short_dtype
from .kernels import KernelGraph


def to_dot(graph: Graph, kernel_graph: KernelGraph | None = None) -> str:
    """DOT text for ``graph``; with its ``kernel_graph``, one cluster per fused kernel."""
    lines = [f'digraph "{graph.name}" {{', '  node [shape=box, fontname="monospace", fontsize=10];']
    for node in graph.inputs:
        lines.append(f'  "{node.name}" [label="%{node.name}\\n{_meta(node)}", shape=ellipse];')
    clustered: set[Node] = set()
    for kernel in kernel_graph.kernels if kernel_graph is not None else []:
        lines.append(f'  subgraph "cluster_{kernel.name}" {{')
        lines.append(f'    label="{kernel.name}  domain={tuple(kernel.domain)!r}'
                     + (f'  reduce={kernel.reduce_axes!r}";' if kernel.reduce_axes else '";'))
        members = [*kernel.nodes, *(s.setitem for s in kernel.stores if s.setitem is not None)]
        for node in members:
            lines.append(f"    {_node(node)}")
            clustered.add(node)
        lines.append("  }")
    for node in graph.nodes:
        if node.op.kind is not OpKind.INPUT and node not in clustered:
            lines.append(f"  {_node(node)}")
    for node in graph.nodes:
        for arg in dict.fromkeys(node.input_nodes()):
            lines.append(f'  "{arg.name}" -> "{node.name}";')
    for i, output in enumerate(graph.outputs):
        for node in iter_nodes(output):
            lines.append(f'  "{node.name}" -> "output {i}";')
        lines.append(f'  "output {i}" [shape=plaintext];')
    lines.append("}")
    return "\n".join(lines)


def _node(node: Node) -> str:
    style = ", style=dashed" if node.op.kind in (OpKind.VIEW, OpKind.EXTERN, OpKind.CREATION) else ""
    return f'"{node.name}" [label="%{node.name} = {node.op.name}\\n{_meta(node)}"{style}];'


def _meta(node: Node) -> str:
    shape = ", ".join(str(d) for d in node.meta.shape)
    return f"{short_dtype(node.meta.dtype)}[{shape}]"
