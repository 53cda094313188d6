"""What the graph passes share: copying a graph, freezing arguments into keys, and alias facts.

Every pass is a pure function: it copies its input with :func:`copy_graph`, rewrites the copy
in place, and returns it, so a caller's graph (and the nodes it holds) never changes.

Alias facts are what make rewrites safe in the presence of views and ``setitem``:

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph()
>>> x = g.add_input("x", TensorMeta((4,), np.dtype("float64")))
>>> y = g.call("add", x, 1.0)
>>> row = g.call("getitem", y, slice(0, 2))
>>> _ = g.call("setitem", row, Ellipsis, 0.0)
>>> g.set_outputs([y])
>>> facts = analyse_aliasing(g)
>>> facts.root[row] is y, facts.is_written(y), y in facts.reaches_output
(True, True, True)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ir import Graph, GraphInvariantError, Node, OpKind, iter_nodes, map_nodes


def copy_graph(graph: Graph) -> Graph:
    """A copy with new Node objects (same names, ops, constants, metas and locations), so a
    pass may rewrite it in place. Constants are shared: they are never mutated."""
    clones: dict[Node, Node] = {}

    def clone_of(node: Node) -> Node:
        try:
            return clones[node]
        except KeyError:
            raise GraphInvariantError(f"%{node.name} is used before it is defined") from None

    for node in graph.nodes:
        clones[node] = dataclasses.replace(node, args=map_nodes(node.args, clone_of),
                                           kwargs=map_nodes(node.kwargs, clone_of))
    # replace() keeps every other field: the name, the fresh-name counter, whatever comes later.
    outputs = map_nodes(list(graph.outputs), clone_of)
    return dataclasses.replace(graph, nodes=list(clones.values()), outputs=outputs)


def substitute(value: Any, replacements: dict[Node, Any]) -> Any:
    """``value`` with every Node that has a replacement replaced (constants included)."""
    return map_nodes(value, lambda node: replacements.get(node, node))


def replace_uses(graph: Graph, replacements: dict[Node, Any]) -> None:
    """Point every argument and output at the replacements, in place."""
    if not replacements:
        return
    for node in graph.nodes:
        node.args = substitute(node.args, replacements)
        node.kwargs = substitute(node.kwargs, replacements)
    graph.outputs = substitute(graph.outputs, replacements)


class Unfreezable(TypeError):
    """An argument with no value-based key (an ndarray constant, an unknown object)."""


def freeze(value: Any) -> Any:
    """A hashable key for an argument structure: equal keys mean interchangeable arguments.

    Nodes stand for themselves; constants keep their type (``1``, ``1.0`` and ``True`` promote
    differently) and floats their sign (``-0.0``); slices, unhashable on Python 3.11, become tuples.
    """
    if isinstance(value, Node) or value is None or value is Ellipsis:
        return value
    if isinstance(value, tuple | list):
        return (type(value).__name__, *(freeze(item) for item in value))
    if isinstance(value, dict):
        return ("dict", *((key, freeze(item)) for key, item in sorted(value.items())))
    if isinstance(value, slice):
        return ("slice", freeze(value.start), freeze(value.stop), freeze(value.step))
    if isinstance(value, float | complex | np.inexact):
        return (type(value), repr(value))
    if isinstance(value, bool | int | str | np.integer | np.bool_):
        return (type(value), value)
    if isinstance(value, np.dtype):
        return ("dtype", value)
    if isinstance(value, type):
        return ("type", value)
    raise Unfreezable(f"no key for {type(value).__name__} argument")


class _External:
    def __repr__(self) -> str:
        return "EXTERNAL"


EXTERNAL = _External()
"""The root of every graph input unless ``graph.disjoint_inputs``: the caller's arrays may then
overlap each other in any way."""


@dataclass(frozen=True, slots=True)
class Aliasing:
    """Which memory each node's value may share, and what is written or seen by the caller.

    ``root[n]`` is ``n`` itself for a fresh array and for an input of a graph whose inputs are
    disjoint, the root of the base for views and ``setitem`` (its value is its destination), and
    :data:`EXTERNAL` for other inputs. Reshapes
    that happen to copy are treated as views: that only makes the facts more cautious.
    """

    root: dict[Node, Any]
    mutated: frozenset             # roots some setitem writes into
    reaches_output: frozenset      # nodes that are outputs, or whose views are

    def is_written(self, node: Node) -> bool:
        """Is any memory that ``node``'s value may share written by a setitem of this graph?"""
        return self.root[node] in self.mutated


def is_whole_index(index: Any) -> bool:
    """Whether indexing with ``index`` (``...``, ``:``, or a tuple of those) selects the whole array."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is Ellipsis or (isinstance(i, slice) and i == slice(None)) for i in items)


def base_of(node: Node) -> Node | None:
    """The array whose memory a view or setitem result shares, or None for fresh values."""
    if node.op.kind in (OpKind.VIEW, OpKind.MUTATION) and node.args and isinstance(node.args[0], Node):
        return node.args[0]
    return None


def analyse_aliasing(graph: Graph) -> Aliasing:
    root: dict[Node, Any] = {}
    mutated = set()
    for node in graph.nodes:
        base = base_of(node)
        if node.op.kind is OpKind.INPUT:
            root[node] = node if graph.disjoint_inputs else EXTERNAL
        else:
            root[node] = root[base] if base is not None else node
        if node.op.kind is OpKind.MUTATION:
            mutated.add(root[node])
    reaches = set(iter_nodes(graph.outputs))
    for node in reversed(graph.nodes):
        if node in reaches and (base := base_of(node)) is not None:
            reaches.add(base)
    return Aliasing(root, frozenset(mutated), frozenset(reaches))
