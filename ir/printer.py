"""Readable text for a graph: one line per node with its meta and the user's source line.

The format is pinned by golden tests (tests/ir/test_printer.py); change it on purpose.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .graph import Graph, Node
from .meta import short_dtype
from .ops import OpKind

COMMENT_COLUMN = 48


def format_value(value: Any) -> str:
    if isinstance(value, Node):
        return f"%{value.name}"
    if isinstance(value, tuple):
        inner = ", ".join(format_value(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, slice):
        parts = ["" if p is None else format_value(p) for p in (value.start, value.stop)]
        text = ":".join(parts)
        return text + f":{format_value(value.step)}" if value.step is not None else text
    if value is Ellipsis:
        return "..."
    if isinstance(value, np.dtype):
        return short_dtype(value)
    if isinstance(value, type) and issubclass(value, np.generic):
        return short_dtype(np.dtype(value))
    if isinstance(value, np.generic):
        return f"{short_dtype(value.dtype)}({value.item()!r})"
    return repr(value)


def format_index(index: Any) -> str:
    if isinstance(index, tuple) and not index:
        return "[()]"  # x[()] (a scalar from a 0-d array), not the invalid x[]
    items = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(format_value(i) for i in items) + "]"


def format_node(node: Node) -> str:
    if node.op.name == "getitem":
        text = f"%{node.name} = {format_value(node.args[0])}{format_index(node.args[1])}"
    else:
        args = [format_value(a) for a in node.args]
        args += [f"{key}={format_value(value)}" for key, value in node.kwargs.items()]
        text = f"%{node.name} = {node.op.name}({', '.join(args)})"
    comment = f"# {node.meta!r}"
    if node.loc is not None:
        comment += f"  {node.loc.short}"
    return f"{text.ljust(COMMENT_COLUMN - 4)}  {comment}" if len(text) < COMMENT_COLUMN - 4 else f"{text}  {comment}"


def format_graph(graph: Graph) -> str:
    params = ", ".join(f"%{n.name}: {n.meta!r}" for n in graph.inputs)
    lines = [f"graph {graph.name}({params}):"]
    lines += ["    " + format_node(n) for n in graph.nodes if n.op.kind is not OpKind.INPUT]
    lines.append(f"    return {format_value(tuple(graph.outputs))}")
    return "\n".join(lines)
