"""Joins: the parts of ``np.concatenate`` and ``np.stack`` stored straight into their slices of
the result, and a stack reduced over its new first axis computed from the parts themselves.

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

:func:`reduce_stacked_parts` turns ``np.stack([a, b, c]).sum(axis=0)`` into ``(a + b) + c``, and
mean, max, min and prod alike (mean divides by the count): NumPy reduces the first axis of the
stacked copy row after row in that order, so the values are the same for float32 and float64
parts of the result's dtype, and no stacked copy is made or read. The parts are then read where
the reduction stands, so only parts whose memory nothing in the graph writes.

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

from collections.abc import Callable

import numpy as np

from ..ir import Graph, Node, OpKind, is_static
from .rewriting import analyse_aliasing, copy_graph, substitute

_COMPUTED = (OpKind.ELEMENTWISE, OpKind.REDUCTION)
_STACK_REDUCTIONS = {"sum": "add", "mean": "add", "max": "maximum", "min": "minimum", "prod": "multiply"}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def reduce_stacked_parts(graph: Graph) -> Graph:
    """Return a copy of ``graph`` in which reductions of a stack over its first axis combine the
    parts elementwise (module docstring); the stack itself goes if nothing else reads it."""
    graph = copy_graph(graph)
    facts = analyse_aliasing(graph)

    def combined(node: Node) -> Node | None:
        parts = _stacked_parts(node)
        # The parts are read where the reduction stands: not if anything writes their memory, or
        # the stack's (``s[0] = 0.0`` before ``s.sum(axis=0)``).
        if parts is None or any(facts.is_written(part) for part in (node.args[0], *parts)):
            return None
        result = parts[0]
        for part in parts[1:]:
            result = graph.call(_STACK_REDUCTIONS[node.op.name], result, part, loc=node.loc)
        return graph.call("divide", result, len(parts), loc=node.loc) if node.op.name == "mean" else result

    _replace_in_order(graph, combined)
    return graph


def _stacked_parts(node: Node) -> tuple[Node, ...] | None:
    """The parts of the stack that ``node`` reduces over its first axis, when it qualifies."""
    if node.op.name not in _STACK_REDUCTIONS or not node.args or not isinstance(node.args[0], Node):
        return None
    stack = node.args[0]
    join = _join(stack)
    if stack.op.name != "stack" or join is None or join[1] != 0:
        return None
    parts = join[0]
    if (len(node.args) != 1 or set(node.kwargs) - {"axis", "keepdims"} or node.kwargs.get("keepdims", False)
            or node.kwargs.get("axis") not in (0, (0,)) or len(parts) < 2):
        return None
    if not all(p.meta.dtype == node.meta.dtype for p in parts):
        return None
    return parts if node.meta.dtype in _FLOATS else None


def write_joins_in_place(graph: Graph) -> Graph:
    """Return a copy of ``graph`` with qualifying joins written part by part (module docstring)."""
    graph = copy_graph(graph)
    reaches_output = analyse_aliasing(graph).reaches_output

    def written(node: Node) -> Node | None:
        join = _join(node)
        if join is None or node in reaches_output or not _worth_writing_in_place(node, join[0]):
            return None
        parts, axis = join
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
        return joined

    _replace_in_order(graph, written)
    return graph


def _worth_writing_in_place(node: Node, parts: tuple[Node, ...]) -> bool:
    return (type(node.kwargs["axis"]) is int and is_static(node.meta.shape)
            and any(p.op.kind in _COMPUTED for p in parts))


def _join(node: Node) -> tuple[tuple[Node, ...], int] | None:
    """The parts and the axis (of the result, from 0) of a plain concatenate or stack: an axis,
    nothing else."""
    if node.op.name not in ("concatenate", "stack") or set(node.kwargs) != {"axis"} or len(node.args) != 1:
        return None
    parts, axis = node.args[0], node.kwargs["axis"]
    if not (isinstance(parts, tuple) and all(isinstance(p, Node) for p in parts)):
        return None
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer) or not -node.meta.ndim <= axis < node.meta.ndim:
        return None
    return parts, int(axis) % node.meta.ndim


def _replace_in_order(graph: Graph, replace: Callable[[Node], Node | None]) -> None:
    """Rebuild ``graph``'s nodes in program order: ``replace(node)`` either returns None (the node
    stays) or appends, through ``graph.call``, the nodes that compute its value at that point and
    returns the last; later arguments and the outputs then take that one."""
    replacements: dict[Node, Node] = {}
    nodes, graph.nodes = graph.nodes, []
    for node in nodes:
        node.args = substitute(node.args, replacements)
        node.kwargs = substitute(node.kwargs, replacements)
        replaced = replace(node)
        if replaced is None:
            graph.nodes.append(node)
        else:
            replacements[node] = replaced
    graph.outputs = substitute(graph.outputs, replacements)
