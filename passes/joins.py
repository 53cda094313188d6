"""Joins written in place: the parts of ``np.concatenate`` and ``np.stack`` stored straight into
their slices of the result.

NumPy's join copies every part into a new array, so ``np.concatenate([a * 2, b + 1], axis=1)``
writes ``a * 2`` and ``b + 1`` to memory, reads them back and writes them again. Written as
``out = np.empty(shape); out[:, :n] = a * 2; out[:, n:] = b + 1``, each part's kernel stores
its values into its slice of ``out`` (fusion writes a setitem's value straight into its
destination), and the join's copy is gone. The values are the same bit for bit: setitem casts
each part to the result's dtype as the join does.

:func:`write_joins_in_place` rewrites a join when:

* it is a plain ``concatenate``/``stack`` (an ``axis``, nothing else) of a static shape;
* some part is an elementwise or reduction result, which a kernel computes and can store in
  place (parts that NumPy makes, or arguments, gain nothing: setitem copies them as the join would);
* the result is not seen by the caller, not even through a view: NumPy lays a join out in the
  parts' memory order (Fortran-ordered parts, a Fortran-ordered result), ``np.empty`` in C order.

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph("f")
>>> a = g.add_input("a", TensorMeta((2, 3), np.dtype("float32")))
>>> joined = g.call("concatenate", (g.call("exp", a), a), axis=1)
>>> g.set_outputs([g.call("sum", joined, axis=1)])
>>> print(write_joins_in_place(g))
graph f(%a: f32[2, 3]):
    %0 = exp(%a)                                  # f32[2, 3]
    %3 = empty((2, 6), dtype=f32)                 # f32[2, 6]
    %4 = setitem(%3, (:, 0:3), %0)                # f32[2, 6]
    %5 = setitem(%4, (:, 3:6), %a)                # f32[2, 6]
    %2 = sum(%5, axis=1)                          # f32[2]
    return (%2,)
"""
from __future__ import annotations

from ..ir import Graph, Node, OpKind, is_static
from .rewriting import analyse_aliasing, copy_graph, substitute

_COMPUTED = (OpKind.ELEMENTWISE, OpKind.REDUCTION)


def write_joins_in_place(graph: Graph) -> Graph:
    """Return a copy of ``graph`` with qualifying joins written part by part (module docstring)."""
    graph = copy_graph(graph)
    reaches_output = analyse_aliasing(graph).reaches_output
    replacements: dict[Node, Node] = {}
    nodes, graph.nodes = graph.nodes, []
    for node in nodes:
        node.args = substitute(node.args, replacements)
        node.kwargs = substitute(node.kwargs, replacements)
        if node in reaches_output or not _worth_writing_in_place(node):
            graph.nodes.append(node)
            continue
        parts, axis = node.args[0], node.kwargs["axis"] % node.meta.ndim
        joined = graph.call("empty", node.meta.shape, dtype=node.meta.dtype, loc=node.loc)
        start = 0
        for part in parts:
            if node.op.name == "stack":
                at: int | slice = start
                start += 1
            else:
                at = slice(start, start + part.meta.shape[axis])
                start = at.stop
            joined = graph.call("setitem", joined, (slice(None),) * axis + (at,), part, loc=node.loc)
        replacements[node] = joined
    return graph


def _worth_writing_in_place(node: Node) -> bool:
    if node.op.name not in ("concatenate", "stack") or set(node.kwargs) != {"axis"}:
        return False
    parts = node.args[0] if len(node.args) == 1 else None
    if not (isinstance(parts, tuple) and all(isinstance(p, Node) for p in parts)):
        return False
    return (type(node.kwargs["axis"]) is int and is_static(node.meta.shape)
            and any(p.op.kind in _COMPUTED for p in parts))
