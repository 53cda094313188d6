"""Fusion: group a graph's nodes into kernels (``fuse(graph) -> KernelGraph``).

What goes into one kernel:

* chains of elementwise nodes of one shape, with broadcasting of smaller inputs;
* reductions over the same axes of the same shape, with the elementwise work that feeds
  them and the work that consumes their results (softmax, layer norm: one loop nest with
  one pass over each row per level of reduction);
* a ``setitem`` whose value the kernel computes, written straight into ``dest[index]``
  when every read of that memory inside the kernel goes through the very same view (so an
  element is read before it is written, at the same index) and the kernel has no reductions
  (those run in passes, each storing what it computed: a later pass would read the new
  values); otherwise the value goes to a temporary and NumPy assigns it.

Plain arithmetic that one kernel would compute only for another (a store there, a load here)
moves into the kernel that uses it, when its operands are in memory anyway.

Everything else is an :class:`ExternStep` run through NumPy: views (O(1) in NumPy: the
kernels then read the view's pointer and strides, so slices, transposes, flips and
broadcasts cost no copies), matmul/dot/concatenate (their elementwise epilogues fuse into
the next kernel), creation ops, mutations that cannot be fused, and anything ``supports``
rejects.

Memory order: a node that reads memory a ``setitem`` writes (the same base array, through
any view) is ordered before the write if it comes first in the program and after it
otherwise, and never shares a kernel with a write it follows. Grouping keeps the graph of
groups acyclic (a merge that would close a cycle is refused), so the steps have a valid
order: the standard library's ``graphlib`` gives it, earliest program position first.
(networkx did this job until it was measured: importing it took 80-145 ms, most of a new
process's first compile from a warm disk cache.)
"""
from __future__ import annotations

import graphlib
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ..ir import OPS, Graph, Node, OpKind, infer_meta, iter_nodes, map_nodes
from .kernels import FULL, KEEP, REDUCED, ExternStep, Kernel, KernelGraph, Load, Store, StoreKind
from .rewriting import is_whole_index

UNLOWERABLE_DTYPES = frozenset(np.dtype(n) for n in ("float16", "complex64", "complex128"))
SIMPLE_REDUCTION_KWARGS = frozenset({"axis", "keepdims", "dtype", "ddof"})
# Elementwise ops cheaper to compute again than to store and load (no division, no libm call).
CHEAP_ARITHMETIC = frozenset({
    "add", "subtract", "multiply", "negative", "positive", "absolute", "square", "maximum", "minimum",
    "fmax", "fmin", "where", "astype", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "invert"})


def default_supports(node: Node) -> bool:
    """A conservative guess at what a backend lowers; backends pass their own predicate."""
    metas = [a.meta for a in node.input_nodes()] + [node.meta]
    if any(m.dtype in UNLOWERABLE_DTYPES for m in metas):
        return False
    if node.op.kind is OpKind.REDUCTION:
        return set(node.kwargs) <= SIMPLE_REDUCTION_KWARGS and node.op.name not in ("argmax", "argmin")
    return node.op.kind is OpKind.ELEMENTWISE or node.op.name == "setitem"


def fuse(graph: Graph, supports: Callable[[Node], bool] = default_supports) -> KernelGraph:
    """Group ``graph`` into kernels and extern steps, in an order that respects data and
    memory dependencies. ``supports(node)`` says whether the backend can lower a node
    (elementwise, reduction, or a setitem's store with its cast)."""
    return _Fuser(graph, supports).run()


def reduction_axes(node: Node) -> tuple[int, ...]:
    ndim = node.args[0].meta.ndim
    axis = node.kwargs.get("axis")
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim if ndim else a for a in axes))


def keep_shape(domain: tuple[int, ...], reduce: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in reduce else d for i, d in enumerate(domain))


def reduced_shape(domain: tuple[int, ...], reduce: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(d for i, d in enumerate(domain) if i not in reduce)


def _converts_by_python(store: Node, value: Node) -> bool:
    """NumPy stores a NumPy float scalar into an integer array as Python's ``int()`` converts it:
    NaN and infinities raise, where a kernel's cast (an array's) would store INT_MIN."""
    return value.meta.is_scalar and value.meta.dtype.kind == "f" and store.meta.dtype.kind in "iu"


def setitem_target_shape(node: Node) -> tuple[int, ...] | None:
    """Shape of ``dest[index]`` when it is a view (a basic index, whose integers may be Python
    ints read at run time: scalar integer nodes, which select one position as a constant does;
    dynamic dimensions as symbols), else None."""
    dest, index = node.args[0], node.args[1]
    if not isinstance(dest, Node) or any(not _integer_scalar(n) for n in iter_nodes(index)):
        return None
    try:
        target = infer_meta(OPS["getitem"], (dest.meta, map_nodes(index, lambda n: n.meta)), {})
    except Exception:
        return None
    return None if target.is_scalar else target.shape  # (never 0-d: _infer_setitem)


def _integer_scalar(node: Node) -> bool:
    return node.meta.is_scalar and node.meta.dtype.kind in "iu"


@dataclass(eq=False)
class _Digraph:
    """The graph of groups while fusion merges them: adjacency both ways, in insertion order."""

    succs: dict = field(default_factory=dict)
    preds: dict = field(default_factory=dict)

    def add_node(self, node) -> None:
        self.succs.setdefault(node, {})
        self.preds.setdefault(node, {})

    def add_edge(self, before, after) -> None:
        self.add_node(before)
        self.add_node(after)
        self.succs[before][after] = None
        self.preds[after][before] = None

    def remove_node(self, node) -> None:
        for succ in self.succs.pop(node):
            del self.preds[succ][node]
        for pred in self.preds.pop(node):
            del self.succs[pred][node]

    def successors(self, node) -> list:
        return list(self.succs[node])

    def predecessors(self, node) -> list:
        return list(self.preds[node])

    def ordered(self, key: Callable) -> Iterable:
        """A topological order that takes the ready node of smallest ``key`` first."""
        sorter = graphlib.TopologicalSorter(self.preds)
        sorter.prepare()  # raises graphlib.CycleError: a merge must never have made one
        ready: list = []
        while sorter.is_active():
            for node in sorter.get_ready():
                heapq.heappush(ready, (key(node), id(node), node))
            _, _, node = heapq.heappop(ready)
            sorter.done(node)
            yield node


@dataclass(eq=False)
class _Group:
    members: list[Node]
    domain: tuple[int, ...] = ()
    reduce: tuple[int, ...] = ()
    layouts: dict | None = None


class _Fuser:
    def __init__(self, graph: Graph, supports: Callable[[Node], bool]):
        self.graph = graph
        self.supports = supports
        self.nodes = [n for n in graph.nodes if n.op.kind is not OpKind.INPUT]
        self.order = {n: i for i, n in enumerate(graph.nodes)}
        self.base: dict[Node, Node] = {}
        self.view_keys: dict[Node, tuple] = {}
        self.separate: set[tuple[Node, Node]] = set()
        self.consistency: dict[tuple, bool] = {}
        self.refused: set[tuple[_Group, _Group]] = set()

    # ---------------------------------------------------------------- analysis
    def run(self) -> KernelGraph:
        self.nodes = self._live_nodes()
        # Each node's arguments, walked once: grouping asks for them again at every merge.
        self.inputs: dict[Node, tuple[Node, ...]] = {n: tuple(n.input_nodes()) for n in self.nodes}
        self.users: dict[Node, list[Node]] = {n: [] for n in self.graph.inputs + self.nodes}
        for node in self.nodes:
            for arg in self.inputs[node]:
                self.users[arg].append(node)
        self.outputs = set(iter_nodes(self.graph.outputs))
        for node in self.graph.inputs + self.nodes:
            self._analyse_memory(node)
        deps = self._dependencies()
        candidates = [n for n in self.nodes if self._is_candidate(n)]
        groups = {n: _Group([n]) for n in candidates}
        for group in groups.values():
            self._validate(group)
        self.group_of: dict[Node, _Group] = dict(groups)
        self.quotient = _Digraph()
        for node in self.nodes:
            self.quotient.add_node(self._q(node))
        for u, v in deps:
            if self._q(u) is not self._q(v):
                self.quotient.add_edge(self._q(u), self._q(v))
        self._merge_producers_into_consumers(candidates)
        self._recompute_arithmetic_where_used()
        return self._build()

    def _live_nodes(self) -> list[Node]:
        live: set[Node] = set()
        stack = [n for n in iter_nodes(self.graph.outputs)]
        stack += [n for n in self.nodes if n.op.kind is OpKind.MUTATION or n.op.checks_values]
        while stack:
            node = stack.pop()
            if node in live:
                continue
            live.add(node)
            stack.extend(node.input_nodes())
        return [n for n in self.nodes if n in live]

    def _analyse_memory(self, node: Node) -> None:
        kind = node.op.kind
        if kind is OpKind.VIEW or kind is OpKind.MUTATION:
            source = node.args[0]
            self.base[node] = self.base[source]
            key = self.view_keys[source]
            if kind is OpKind.VIEW and not (node.op.name == "getitem" and is_whole_index(node.args[1])):
                key = key + (repr((node.op.name, node.args[1:], node.kwargs)),)
            self.view_keys[node] = key
        else:
            self.base[node] = node
            self.view_keys[node] = (node.name,)

    def _reads(self, node: Node) -> set[Node]:
        args = node.input_nodes() if node.op.kind is not OpKind.MUTATION else iter_nodes(node.args[1:])
        return {self.base[a] for a in args}

    def _dependencies(self) -> dict[tuple[Node, Node], None]:
        """Edges (before, after): data flow, then the memory order around each mutation. An op
        that may raise (``checks_values``) keeps its program order with every mutation, so the
        caller sees exactly the writes eager made before the exception."""
        deps: dict[tuple[Node, Node], None] = {}
        for node in self.nodes:
            for arg in node.input_nodes():
                if arg.op.kind is not OpKind.INPUT:
                    deps[arg, node] = None
        for mutation in (n for n in self.nodes if n.op.kind is OpKind.MUTATION):
            written = self.base[mutation]
            for other in self.nodes:
                if other is mutation:
                    continue
                touches = written in self._reads(other) or other.op.checks_values or (
                    other.op.kind is OpKind.MUTATION and self.base[other] is written)
                if not touches:
                    continue
                if self.order[other] < self.order[mutation]:
                    deps[other, mutation] = None
                else:
                    deps[mutation, other] = None
                    self.separate.add((mutation, other))
        return deps

    def _is_candidate(self, node: Node) -> bool:
        kind = node.op.kind
        if kind is OpKind.MUTATION:
            value = node.args[2] if len(node.args) > 2 else None
            return (node.op.name == "setitem" and isinstance(value, Node)
                    and setitem_target_shape(node) == value.meta.shape and not _converts_by_python(node, value)
                    and self.supports(node))
        if kind is OpKind.REDUCTION:
            return isinstance(node.args[0], Node) and self.supports(node)
        return kind is OpKind.ELEMENTWISE and self.supports(node)

    # ---------------------------------------------------------------- grouping
    def _q(self, node: Node):
        return self.group_of.get(node, node)

    def _merge_producers_into_consumers(self, candidates: list[Node]) -> None:
        changed = True
        while changed:
            changed = False
            for node in candidates:
                for arg in dict.fromkeys(self.inputs[node]):
                    if arg in self.group_of and self.group_of[arg] is not self.group_of[node]:
                        changed |= self._try_merge(self.group_of[arg], self.group_of[node])

    def _try_merge(self, a: _Group, b: _Group) -> bool:
        # A pair that failed fails again while both groups stand: validity depends on the members
        # only, and a path between them through a third group survives every other merge.
        if (a, b) in self.refused:
            return False
        merged = _Group(sorted(a.members + b.members, key=self.order.__getitem__))
        if not self._validate(merged) or self._creates_cycle(a, b):
            self.refused.add((a, b))
            return False
        self.quotient.add_node(merged)
        for old in (a, b):
            for pred in self.quotient.predecessors(old):
                if pred is not a and pred is not b:
                    self.quotient.add_edge(pred, merged)
            for succ in self.quotient.successors(old):
                if succ is not a and succ is not b:
                    self.quotient.add_edge(merged, succ)
            self.quotient.remove_node(old)
        for member in merged.members:
            self.group_of[member] = merged
        return True

    def _recompute_arithmetic_where_used(self) -> None:
        """A value computed in one kernel only for another costs a store there and a load here,
        a pass over memory each. When it is plain arithmetic on values in memory anyway (inputs,
        NumPy's results, values its kernel stores for others too), the kernel that uses it
        computes it instead (a step loop: the next step's ``4 * u``, merged into the previous
        step's kernel, stored by it and loaded by the next)."""
        written = {self.base[n] for n in self.nodes if n.op.kind is OpKind.MUTATION}
        for node in self.nodes:  # one at a time: a chain of such values stays where it is
            group = self.group_of.get(node)
            if (group is None or node.op.name not in CHEAP_ARITHMETIC or node in self.outputs
                    or node.op.checks_values or not self.users[node]
                    or any(self.base[a] in written for a in self.inputs[node])):
                continue
            targets = {self.group_of.get(u) for u in self.users[node]}
            target = targets.pop() if len(targets) == 1 else None
            if target is None or target is group:
                continue
            if not all(self._in_memory_anyway(a, group, node) for a in self.inputs[node]):
                continue  # its kernel would store an operand only for this: nothing gained
            moved_to = _Group(sorted(target.members + [node], key=self.order.__getitem__))
            left = _Group([m for m in group.members if m is not node])
            if not (self._validate(moved_to) and self._validate(left)):
                continue
            for old, new in ((target, moved_to), (group, left)):
                old.members, old.domain, old.reduce, old.layouts = new.members, new.domain, new.reduce, new.layouts
            self.group_of[node] = target
            for arg in self.inputs[node]:  # (each comes before `group`, hence before `target`)
                if arg.op.kind is not OpKind.INPUT and self._q(arg) is not target:
                    self.quotient.add_edge(self._q(arg), target)

    def _in_memory_anyway(self, value: Node, group: _Group, besides: Node) -> bool:
        """Whether ``value`` is in memory whatever ``besides`` does: not computed by ``group``,
        or stored by it all the same (an output, or read outside it by another node)."""
        return self.group_of.get(value) is not group or value in self.outputs or any(
            user is not besides and self.group_of.get(user) is not group for user in self.users[value])

    def _creates_cycle(self, a: _Group, b: _Group) -> bool:
        """Merging a and b closes a cycle iff one reaches the other through a third group."""
        pair = {a, b}
        frontier = [s for g in pair for s in self.quotient.successors(g) if s not in pair]
        seen = set(frontier)
        while frontier:
            current = frontier.pop()
            for succ in self.quotient.successors(current):
                if succ in pair:
                    return True
                if succ not in seen:
                    seen.add(succ)
                    frontier.append(succ)
        return False

    def _validate(self, group: _Group) -> bool:
        """Fill in the group's domain/reduce/layouts; False if the members can't share a kernel."""
        members = set(group.members)
        if any(m in members and n in members for m, n in self.separate):  # few pairs, if any
            return False
        reductions = [m for m in group.members if m.op.kind is OpKind.REDUCTION]
        stores = [m for m in group.members if m.op.kind is OpKind.MUTATION]
        values = [m for m in group.members if m.op.kind is not OpKind.MUTATION]
        if not values:
            return False
        if reductions:
            domain, reduce = reductions[0].args[0].meta.shape, reduction_axes(reductions[0])
            if any(r.args[0].meta.shape != domain or reduction_axes(r) != reduce for r in reductions):
                return False
        else:
            domain, reduce = values[0].meta.shape, ()
        keep, small = keep_shape(domain, reduce), reduced_shape(domain, reduce)
        layouts: dict[Node, str] = {}
        for node in values:
            shape = node.meta.shape
            if node.op.kind is OpKind.REDUCTION:
                layouts[node] = KEEP if node.kwargs.get("keepdims") else REDUCED
            elif shape == domain:
                layouts[node] = FULL
            elif reduce and shape == keep:
                layouts[node] = KEEP
            elif reduce and shape == small:
                layouts[node] = REDUCED
            else:
                return False
        group.domain, group.reduce, group.layouts = domain, reduce, layouts
        kernel = Kernel("", domain, reduce, values, layouts)
        for node in values:
            if node.op.kind is OpKind.REDUCTION:
                continue
            for arg in self.inputs[node]:
                if arg in layouts and not self._consistent(kernel, node, arg):
                    return False
        for store in stores:
            if store.args[2] not in layouts or layouts[store.args[2]] != FULL:
                return False
            if not self._store_is_safe(kernel, store, stores):
                return False
        return True

    def _consistent(self, kernel: Kernel, user: Node, arg: Node) -> bool:
        """``_consistent`` remembered: merging asks again for every member of a growing group."""
        key = (user, arg, len(kernel.domain), kernel.reduce_axes,
               kernel.layouts[user] == REDUCED, kernel.layouts[arg] == REDUCED)
        if key not in self.consistency:
            self.consistency[key] = _consistent(kernel, user, arg)
        return self.consistency[key]

    def _store_is_safe(self, kernel: Kernel, store: Node, stores: list[Node]) -> bool:
        written = self.base[store]
        if written in kernel.layouts or sum(1 for s in stores if self.base[s] is written) > 1:
            return False  # the destination is computed by this very kernel, or written twice
        target = self._target_key(store)
        identity = tuple(range(len(kernel.domain)))
        for node in kernel.nodes:
            for arg in self.inputs[node]:
                if arg in kernel.layouts or self.base[arg] is not written:
                    continue
                # A kernel with reductions runs in passes; both code generators write in place
                # in the last one, so earlier passes read the old values, and so does the last
                # (each element is read before it is written, through the same view).
                axes, broadcast = kernel.load_mapping(node, arg)
                if self.view_keys[arg] != target or axes != identity or any(broadcast):
                    return False
        return True

    def _target_key(self, store: Node) -> tuple:
        """The view key of the memory a setitem writes (its destination, indexed)."""
        target = self.view_keys[store.args[0]]
        if not is_whole_index(store.args[1]):
            target = target + (repr(("getitem", (store.args[1],), {})),)
        return target

    # ---------------------------------------------------------------- output
    def _build(self) -> KernelGraph:
        first: dict = {}
        for node in self.nodes:
            q = self._q(node)
            first[q] = min(first.get(q, len(self.order)), self.order[node])
        ordered = self.quotient.ordered(key=first.__getitem__)
        steps: list[Kernel | ExternStep] = []
        count = 0
        for q in ordered:
            if isinstance(q, Node):
                steps.append(ExternStep(q, _extern_reason(q, self.supports)))
                continue
            if all(m.op.kind is OpKind.MUTATION for m in q.members):
                steps.extend(ExternStep(m, _extern_reason(m, self.supports)) for m in q.members)
                continue
            steps.append(self._kernel(f"k{count}", q))
            count += 1
        return KernelGraph(self.graph, steps)

    def _kernel(self, name: str, group: _Group) -> Kernel:
        values = [m for m in group.members if m.op.kind is not OpKind.MUTATION]
        kernel = Kernel(name, group.domain, group.reduce, values, dict(group.layouts or {}))
        members = set(group.members)
        for node in values:
            for arg in self.inputs[node]:
                if arg in kernel.layouts:
                    continue
                axes, broadcast = kernel.load_mapping(node, arg)
                if not any(ld.node is arg and ld.axes == axes for ld in kernel.loads):
                    kernel.loads.append(Load(arg, axes, broadcast))
        for node in values:
            if node in self.outputs or any(u not in members for u in self.users[node]):
                kernel.stores.append(Store(node, StoreKind.NEW, kernel.member_axes(node)))
        identity = tuple(range(len(kernel.domain)))
        for store in (m for m in group.members if m.op.kind is OpKind.MUTATION):
            target = self._target_key(store)
            reads = next((ld.node for ld in kernel.loads if self.view_keys[ld.node] == target
                          and ld.axes == identity and not any(ld.broadcast)), None)
            kernel.stores.append(Store(store.args[2], StoreKind.INTO, identity, store, reads))
        return kernel


def _consistent(kernel: Kernel, user: Node, arg: Node) -> bool:
    """A member read by another member must be indexed the same way it was computed."""
    axes, _ = kernel.load_mapping(user, arg)
    own = kernel.member_axes(arg)
    return all(d == 1 or a == o for d, a, o in zip(arg.meta.shape, axes, own, strict=True))


def _extern_reason(node: Node, supports) -> str:
    kind = node.op.kind
    if kind is OpKind.VIEW:
        return "view: NumPy makes it in O(1); kernels read its strides"
    if kind in (OpKind.EXTERN, OpKind.CREATION):
        return f"{kind.value}: NumPy"
    if kind is OpKind.MUTATION and node.op.name == "setitem":
        return "setitem through NumPy (value not fusable or unsafe to write in place)"
    if kind is OpKind.MUTATION:
        return f"{node.op.name}: NumPy, in place"
    return "not lowered by the backend"
