"""The graph IR: an ordered list of nodes, its inputs and its outputs.

>>> import numpy as np
>>> g = Graph("f")
>>> x = g.add_input("x", TensorMeta((4,), np.dtype("float32")))
>>> y = g.call("multiply", x, 0.5)
>>> g.set_outputs([y])
>>> print(g)
graph f(%x: f32[4]):
    %0 = multiply(%x, 0.5)                        # f32[4]
    return (%0,)
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .meta import SourceLoc, TensorMeta
from .ops import OPS, Op, OpKind
from .symbolic import infer_meta


@dataclass(eq=False, slots=True)
class Node:
    """One operation. ``args`` hold Nodes, Python constants, and tuples/lists of either;
    ``kwargs`` hold static parameters (axis, dtype, index, shape). Identity is the node."""

    name: str
    op: Op
    args: tuple
    kwargs: dict[str, Any]
    meta: TensorMeta
    loc: SourceLoc | None = None

    def input_nodes(self) -> Iterator[Node]:
        yield from iter_nodes(self.args)
        yield from iter_nodes(tuple(self.kwargs.values()))

    def __repr__(self) -> str:
        return f"%{self.name}"


def same_object(node: Node) -> Node:
    """The node whose value is the same Python object as ``node``'s: an in-place update (a
    mutation: ``x += 1``, ``x[i] = v``) gives the very array it writes into."""
    while node.op.kind is OpKind.MUTATION:
        node = node.args[0]
    return node


def iter_nodes(value: Any) -> Iterator[Node]:
    """Every Node inside a (nested) tuple/list/dict of arguments, in order."""
    if isinstance(value, Node):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from iter_nodes(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_nodes(item)


def map_nodes(value: Any, fn) -> Any:
    """Rebuild a (nested) argument structure with ``fn`` applied to every Node."""
    if isinstance(value, Node):
        return fn(value)
    if isinstance(value, tuple | list):
        return type(value)(map_nodes(item, fn) for item in value)
    if isinstance(value, dict):
        return {key: map_nodes(item, fn) for key, item in value.items()}
    return value


@dataclass(eq=False)
class Graph:
    """A straight-line program over arrays. Nodes are in program order; inputs come first.

    Outputs are Nodes or constants; how they rebuild the Python return value is the
    frontend's business, not the graph's.
    """

    name: str = "graph"
    nodes: list[Node] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)
    # Whether passes may take distinct inputs for distinct memory: the frontend sets it where no
    # input is written, or where guards check that no two inputs share memory (as when traced).
    disjoint_inputs: bool = False
    _counter: int = 0

    @property
    def inputs(self) -> list[Node]:
        return [n for n in self.nodes if n.op.kind is OpKind.INPUT]

    def add_input(self, name: str, meta: TensorMeta, loc: SourceLoc | None = None) -> Node:
        node = Node(name, OPS["input"], (), {}, meta, loc)
        position = len(self.inputs)
        self.nodes.insert(position, node)
        return node

    def call(self, op_name: str, *args: Any, loc: SourceLoc | None = None, **kwargs: Any) -> Node:
        """Append a node, inferring its meta from the op's rule (which raises as NumPy would)."""
        op = OPS[op_name]
        meta = infer_meta(op, map_nodes(args, lambda n: n.meta), map_nodes(kwargs, lambda n: n.meta))
        return self.append(op, args, kwargs, meta, loc)

    def append(self, op: Op, args: tuple, kwargs: dict, meta: TensorMeta,
               loc: SourceLoc | None = None) -> Node:
        node = Node(self.fresh_name(), op, tuple(args), dict(kwargs), meta, loc)
        self.nodes.append(node)
        return node

    def fresh_name(self) -> str:
        name = str(self._counter)
        self._counter += 1
        return name

    def set_outputs(self, outputs: list[Any]) -> None:
        self.outputs = list(outputs)

    def users(self) -> dict[Node, list[Node]]:
        result: dict[Node, list[Node]] = {n: [] for n in self.nodes}
        for node in self.nodes:
            for arg in node.input_nodes():
                result[arg].append(node)
        return result

    def __str__(self) -> str:
        from .printer import format_graph

        return format_graph(self)
