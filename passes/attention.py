"""Recognise attention, ``softmax(q @ kt * c, axis=-1) @ v``, and make it one ``attention`` node.

A backend with a fused kernel for it (the LLVM backend) runs this pass before fusion, as
torch.compile's pattern matcher turns the same NumPy-style code into scaled dot-product
attention: the scores never go to memory, and no BLAS call sits between the steps.

Matched, node for node as the frontend records the usual spelling::

    s = matmul(q, kt)                       # q (..., M, D), kt (..., D, N), v (..., N, Dv)
    s = multiply(s, c) | multiply(c, s) | divide(s, c)     # optional; c a number
    s = add(s, mask) | add(mask, s) | where(mask, s, f) | where(mask, f, s)     # optional
    e = exp(subtract(s, max(s, axis=(-1,), keepdims=True)))
    out = matmul(divide(e, sum(e, axis=(-1,), keepdims=True)), v)

Conditions, each needed for the fused node to equal the steps it replaces: one float dtype
(float32 or float64) throughout (an added mask's too; a ``where`` mask is bool, the fill ``f`` a
number); a mask no larger than the scores; the same batch dimensions for q, kt and v (no broadcasting);
every intermediate used only inside the pattern (not an output, not read elsewhere); no
mutation between the first matmul and the last (the fused node reads q and kt later than the
first matmul did).

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph("attn")
>>> f32 = lambda *shape: TensorMeta(shape, np.dtype("float32"))
>>> q, k, v = (g.add_input(n, f32(2, 8, 4)) for n in "qkv")
>>> s = g.call("multiply", g.call("matmul", q, g.call("transpose", k, (0, 2, 1))), 0.5)
>>> e = g.call("exp", g.call("subtract", s, g.call("max", s, axis=(2,), keepdims=True)))
>>> g.set_outputs([g.call("matmul", g.call("divide", e, g.call("sum", e, axis=(2,), keepdims=True)), v)])
>>> print(fuse_attention(g))
graph attn(%q: f32[2, 8, 4], %k: f32[2, 8, 4], %v: f32[2, 8, 4]):
    %0 = transpose(%k, (0, 2, 1))                 # f32[2, 4, 8]
    %9 = attention(%q, %0, %v, scale=0.5, scale_op='multiply')  # f32[2, 8, 4]
    return (%9,)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Graph, Node, OpKind, iter_nodes
from ..ir.ops import get_op
from .dce import eliminate_dead_code
from .rewriting import copy_graph, replace_uses

FLOATS = (np.dtype("float32"), np.dtype("float64"))


@dataclass(frozen=True, slots=True)
class Match:
    first: Node   # matmul(q, kt)
    last: Node    # matmul(p, v): replaced by the attention node
    inner: tuple[Node, ...]  # everything in between, used only inside the pattern
    q: Node
    kt: Node
    v: Node
    scale: float | None
    scale_op: str | None
    mask: Node | None
    mask_op: str | None
    fill: float | None

    def args(self) -> tuple[Node, ...]:
        return (self.q, self.kt, self.v) if self.mask is None else (self.q, self.kt, self.v, self.mask)

    def kwargs(self) -> dict:
        scaling = {"scale": self.scale, "scale_op": self.scale_op}
        return scaling if self.mask is None else {**scaling, "mask_op": self.mask_op, "fill": self.fill}


def fuse_attention(graph: Graph) -> Graph:
    """``graph`` with every matched attention replaced by one ``attention`` node."""
    users = graph.users()
    returned = set(iter_nodes(graph.outputs))
    position = {node: i for i, node in enumerate(graph.nodes)}
    matches = [m for node in graph.nodes
               if (m := _match(node, users)) is not None and not returned.intersection(m.inner)
               and _no_mutation_between(graph, position, m)]
    if not matches:
        return graph
    graph = copy_graph(graph)
    current = {node.name: node for node in graph.nodes}  # by name: the copy's node, or its replacement
    op = get_op("attention")
    for m in matches:
        last = current[m.last.name]
        node = Node(graph.fresh_name(), op, tuple(current[arg.name] for arg in m.args()), m.kwargs(),
                    last.meta, last.loc)
        graph.nodes.insert(graph.nodes.index(last), node)
        replace_uses(graph, {last: node})
        current[m.last.name] = node
    return eliminate_dead_code(graph)


def _match(last: Node, users: dict[Node, list[Node]]) -> Match | None:
    """The attention pattern ending at ``last``, or None."""
    if not _is(last, "matmul") or len(last.args) != 2:
        return None
    p, v = last.args
    if not (_is(p, "divide") and isinstance(v, Node)):
        return None
    e, z = p.args
    if not (_is(e, "exp") and _is_row_reduction(z, "sum", e)):
        return None
    d = e.args[0]
    if not (_is(d, "subtract") and isinstance(d.args[0], Node)):
        return None
    s, mx = d.args
    if not _is_row_reduction(mx, "max", s):
        return None
    scaled, mask, mask_op, fill = _unmasked(s)
    first, scale, scale_op = _unscaled(scaled)
    if first is None or not _is(first, "matmul") or len(first.args) != 2:
        return None
    q, kt = first.args
    if not (isinstance(q, Node) and isinstance(kt, Node)):
        return None
    inner = tuple(dict.fromkeys(n for n in (first, scaled, s, mx, d, e, z, p)))
    if not _shapes_fit(q, kt, v, (*inner, last)) or not _mask_fits(mask, mask_op, scaled):
        return None
    inside = set(inner) | {last}
    if any(user not in inside for node in inner for user in users[node]):
        return None
    return Match(first, last, inner, q, kt, v, scale, scale_op, mask, mask_op, fill)


def _is(value: object, op_name: str) -> bool:
    return isinstance(value, Node) and value.op.name == op_name and all(isinstance(a, Node | float | int | np.generic)
                                                                         for a in value.args)


def _is_row_reduction(node: object, op_name: str, of: Node) -> bool:
    """``op_name(of, axis=(last,), keepdims=True)`` and nothing else."""
    if not _is(node, op_name):
        return False
    assert isinstance(node, Node)
    last_axis = of.meta.ndim - 1
    return (node.args == (of,) and node.kwargs.get("keepdims") is True and set(node.kwargs) == {"axis", "keepdims"}
            and node.kwargs["axis"] in ((last_axis,), (-1,), last_axis, -1))


def _unmasked(s: Node) -> tuple[Node, Node | None, str | None, float | None]:
    """(the scores under an optional mask, the mask, how it applies, the fill of a ``where``)."""
    if _is(s, "add") and len(s.args) == 2 and all(isinstance(a, Node) for a in s.args):
        a, b = s.args
        return (a, b, "add", None) if _unscaled(a)[0] is not None else (b, a, "add", None)
    if _is(s, "where") and len(s.args) == 3 and isinstance(s.args[0], Node):
        mask, a, b = s.args
        if isinstance(a, Node) and _is_number(b):
            return a, mask, "keep_where", b
        if isinstance(b, Node) and _is_number(a):
            return b, mask, "fill_where", a
    return s, None, None, None


def _mask_fits(mask: Node | None, mask_op: str | None, scores: Node) -> bool:
    if mask is None:
        return True
    wanted = scores.meta.dtype if mask_op == "add" else np.dtype(bool)
    return (mask.meta.dtype == wanted and not mask.meta.is_scalar and mask.meta.ndim <= scores.meta.ndim
            and all(m in (1, s) for m, s in zip(mask.meta.shape[::-1], scores.meta.shape[::-1], strict=False)))


def _unscaled(s: Node) -> tuple[Node | None, float | None, str | None]:
    """(the matmul under an optional scaling by a number, the number, how it scales)."""
    if _is(s, "matmul"):
        return s, None, None
    if not (_is(s, "multiply") or _is(s, "divide")) or len(s.args) != 2:
        return None, None, None
    a, b = s.args
    if isinstance(a, Node) and _is_number(b):
        return a, b, s.op.name
    if s.op.name == "multiply" and isinstance(b, Node) and _is_number(a):
        return b, a, "multiply"
    return None, None, None


def _is_number(value: object) -> bool:
    """A Python int or float, or a real NumPy scalar (``np.sqrt(d)``): the dtype check of the
    pattern's nodes keeps out one that promotes the scores (a float64 scalar with float32)."""
    return type(value) in (float, int) or isinstance(value, np.integer | np.floating)


def _shapes_fit(q: Node, kt: Node, v: Node, pattern: tuple[Node, ...]) -> bool:
    dtype = q.meta.dtype
    if dtype not in FLOATS or any(n.meta.dtype != dtype or n.meta.is_scalar for n in (q, kt, v, *pattern)):
        return False
    ndim = q.meta.ndim
    if ndim < 2 or kt.meta.ndim != ndim or v.meta.ndim != ndim:
        return False
    return q.meta.shape[:-2] == kt.meta.shape[:-2] == v.meta.shape[:-2]


def _no_mutation_between(graph: Graph, position: dict[Node, int], m: Match) -> bool:
    return not any(n.op.kind is OpKind.MUTATION for n in graph.nodes[position[m.first]:position[m.last]])
