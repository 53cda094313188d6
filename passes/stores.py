"""Whole-array stores: later reads take the stored value, and a store overwritten whole is dropped.

An accumulation ``out += k[i, j] * a[i:..., j:...]`` in a loop traces as a chain of writes of
the whole array, each reading the one before::

    %4 = add(%0, %3)
    %5 = setitem(%0, (...,), %4)
    %9 = add(%5, %8)
    %10 = setitem(%5, (...,), %9)

Fusion keeps each write in a kernel of its own (a write and a later read of the same memory are
never reordered), so nine updates made nine passes over ``out``. Two rewrites make them one:

* **forwarding**: right after ``%5 = setitem(%0, (...,), %4)`` the array holds exactly ``%4``'s
  values when ``%4`` is a fresh value (an elementwise or reduction result) of the array's own
  shape and dtype. A value read of ``%5`` (by an elementwise or reduction op) before the next
  write or possible exception reads ``%4`` instead;
* **overwritten stores**: a whole-array store whose array is, before anything reads its memory
  or anything may raise, stored whole again (``%10 = setitem(%5, (...,), ...)``) and is not seen
  by the caller, is dropped; the next store writes into its destination. The memory ends with
  the same values, as the caller sees it.

"Whole" means an index of ``...`` or ``:`` only. A write into other memory than the array's and
the value's does not end the forwarding. Inputs share one root unless the graph's inputs are
disjoint (``Graph.disjoint_inputs``: the frontend guards it where the code writes into an input);
where they share it, a read of any input between two stores into an input keeps the first one.

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph("f")
>>> x = g.add_input("x", TensorMeta((3,), np.dtype("float32")))
>>> out = g.call("zeros", (3,), dtype=np.dtype("float32"))
>>> once = g.call("setitem", out, (Ellipsis,), g.call("add", out, x))
>>> twice = g.call("setitem", once, (Ellipsis,), g.call("multiply", once, 2.0))
>>> g.set_outputs([twice])
>>> print(forward_whole_array_stores(g))
graph f(%x: f32[3]):
    %0 = zeros((3,), dtype=f32)                   # f32[3]
    %1 = add(%0, %x)                              # f32[3]
    %3 = multiply(%1, 2.0)                        # f32[3]
    %4 = setitem(%0, (...,), %3)                  # f32[3]
    return (%4,)
"""
from __future__ import annotations

from ..ir import Graph, Node, OpKind, iter_nodes
from .rewriting import analyse_aliasing, copy_graph, is_whole_index, replace_uses, substitute

_VALUE_READERS = (OpKind.ELEMENTWISE, OpKind.REDUCTION)
# Ops between two stores that cannot raise at run time (shapes are checked when traced).
_QUIET = (OpKind.ELEMENTWISE, OpKind.REDUCTION, OpKind.VIEW, OpKind.CREATION)


def forward_whole_array_stores(graph: Graph) -> Graph:
    """Return a copy of ``graph`` with forwarded reads and overwritten stores dropped (module docstring)."""
    graph = copy_graph(graph)
    root = analyse_aliasing(graph).root  # (forwarding changes value reads only: roots stay)
    _forward_values(graph, root)
    _drop_overwritten_stores(graph, root)
    return graph


def _whole_store(node: Node) -> bool:
    return (node.op.name == "setitem" and len(node.args) == 3 and isinstance(node.args[0], Node)
            and is_whole_index(node.args[1]))


def _forward_values(graph: Graph, root: dict) -> None:
    for at, store in enumerate(graph.nodes):
        if not _whole_store(store):
            continue
        value = store.args[2]
        if not (isinstance(value, Node) and value.op.kind in _VALUE_READERS and value.meta == store.meta):
            continue
        for node in graph.nodes[at + 1:]:
            if node.op.kind is OpKind.MUTATION and root[node] in (root[store], root[value]) or node.op.checks_values:
                break  # either memory may change, or an exception may show it: later reads read the store
            if node.op.kind in _VALUE_READERS:
                node.args = substitute(node.args, {store: value})
                node.kwargs = substitute(node.kwargs, {store: value})


def _drop_overwritten_stores(graph: Graph, root: dict) -> None:
    destination: dict[Node, Node] = {}  # a dropped store -> the array it would have written
    for at, store in enumerate(graph.nodes):
        if _whole_store(store) and _overwritten(graph, at, store, root):
            destination[store] = destination.get(store.args[0], store.args[0])
    if not destination:
        return
    # The same array object: the next store writes into it, later reads and outputs see it.
    graph.nodes = [node for node in graph.nodes if node not in destination]
    replace_uses(graph, destination)


def _overwritten(graph: Graph, at: int, store: Node, root: dict) -> bool:
    """Whether the next thing done with ``store``'s memory is another whole store into this very
    array, with nothing between that reads that memory or may raise."""
    memory = root[store]
    for node in graph.nodes[at + 1:]:
        if node.op.kind is OpKind.MUTATION:
            values = iter_nodes((node.args[1:], node.kwargs))
            return node.args[0] is store and _whole_store(node) and all(root[n] is not memory for n in values)
        if node.op.kind not in _QUIET or node.op.checks_values:
            return False
        if any(root[n] is memory for n in node.input_nodes()):
            return False
    return False
