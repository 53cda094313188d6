"""The fused kernel graph: what fusion produces and code generators consume.

A :class:`KernelGraph` is the graph's program as an ordered list of steps. A step is a
:class:`Kernel` (a fused loop nest that a backend compiles) or an :class:`ExternStep` (one
node run through its NumPy reference: views, matmul, creation ops, anything a backend does
not lower). Steps run in list order; fusion has already respected data dependencies and
the order of reads and writes of memory that mutations (``setitem``) impose.

A kernel iterates over its ``domain`` (a shape). ``reduce_axes`` are the domain axes its
reductions run over (empty for a purely elementwise kernel); the others are the *outer*
axes. Every member value lives at one of three layouts:

* ``full``: shape == domain (indexed by every axis);
* ``keep``: the domain with the reduced axes set to 1 (a keepdims reduction result);
* ``reduced``: the domain without the reduced axes (a reduction result without keepdims).

Values read from outside the kernel (:class:`Load`) and stored (:class:`Store`) carry an
``axes`` map from each of their dims to a domain axis, and ``broadcast`` flags for dims of
size 1 (read with stride 0). The map is what turns broadcasting and reduction layouts
into index arithmetic; strides themselves are run-time values read from the arrays.

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph()
>>> x = g.add_input("x", TensorMeta((8,), np.dtype("float32")))
>>> g.set_outputs([g.call("exp", g.call("multiply", x, 2.0))])
>>> from .fusion import fuse
>>> print(fuse(g))
kernel k0  domain=(8,)  reduce=()
    load   %x  axes=(0,)
    %0 = multiply(%x, 2.0)  [full]
    %1 = exp(%0)  [full]
    store  %1 -> new buffer  axes=(0,)
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ..ir import Graph, Node, OpKind, format_node

KEEP = "keep"
FULL = "full"
REDUCED = "reduced"


class StoreKind(enum.Enum):
    NEW = "new buffer"          # a fresh output array the wrapper allocates with np.empty
    INTO = "into destination"   # a setitem written straight into ``dest[index]``


@dataclass(frozen=True, slots=True)
class Load:
    """An array the kernel reads: ``node``'s value, its dims mapped onto domain ``axes``."""

    node: Node
    axes: tuple[int, ...]
    broadcast: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class Store:
    """A member value written to memory: a fresh buffer, or the destination of a setitem."""

    node: Node                 # the member computed (for INTO: the setitem's value)
    kind: StoreKind
    axes: tuple[int, ...]
    setitem: Node | None = None
    # A load of exactly the memory written (same element, same iteration), written through its
    # pointer. INTO: the destination's own view; NEW: a dead value whose buffer the store takes
    # over (passes/memory.py).
    reads: Node | None = None
    # NEW only: a value that died at an earlier step, whose array (no longer read or seen by
    # anyone) the store writes instead of a fresh one (passes/memory.py); not loaded here.
    recycles: Node | None = None


@dataclass(frozen=True, slots=True)
class Roll:
    """A load that is ``np.roll(source, shift, axis)`` read in place (passes/rolls.py); ``shift``
    in ``[0, n)``."""

    source: Node
    axis: int
    shift: int


@dataclass(eq=False)
class Kernel:
    """One fused loop nest. ``nodes`` are the members in program order (elementwise and
    reduction nodes); ``layouts`` says which layout (full/keep/reduced) each has."""

    name: str
    domain: tuple[int, ...]
    reduce_axes: tuple[int, ...]
    nodes: list[Node]
    layouts: dict[Node, str]
    loads: list[Load] = field(default_factory=list)
    stores: list[Store] = field(default_factory=list)
    rolls: dict[Node, Roll] = field(default_factory=dict)  # loaded rolls the launches read in pieces

    @property
    def outer_axes(self) -> tuple[int, ...]:
        return tuple(a for a in range(len(self.domain)) if a not in self.reduce_axes)

    @property
    def size(self) -> int:
        size = 1
        for dim in self.domain:
            size *= dim
        return size

    def member_axes(self, node: Node) -> tuple[int, ...]:
        """Domain axis of each dim of a member's value."""
        if self.layouts[node] == REDUCED:
            return self.outer_axes
        return tuple(range(len(self.domain)))

    def load_mapping(self, user: Node, arg: Node) -> tuple[tuple[int, ...], tuple[bool, ...]]:
        """Domain axes and broadcast flags of ``arg``'s dims as member ``user`` reads it
        (NumPy broadcasting: right-aligned onto the user's own axes; dims of size 1 broadcast)."""
        shape = arg.meta.shape
        if user.op.kind is OpKind.REDUCTION:
            return tuple(range(len(shape))), tuple(d == 1 for d in shape)
        user_axes = self.member_axes(user)
        offset = len(user_axes) - len(shape)
        return tuple(user_axes[offset + j] for j in range(len(shape))), tuple(d == 1 for d in shape)

    def load_for(self, node: Node, axes: tuple[int, ...]) -> Load:
        for load in self.loads:
            if load.node is node and load.axes == axes:
                return load
        raise KeyError(node)

    def __str__(self) -> str:
        lines = [f"kernel {self.name}  domain={self.domain}  reduce={self.reduce_axes}"]
        for load in self.loads:
            flags = "".join("b" if b else "." for b in load.broadcast)
            extra = f"  broadcast={flags}" if any(load.broadcast) else ""
            roll = self.rolls.get(load.node)
            if roll is not None:
                extra += f"  in place: np.roll(%{roll.source.name}, {roll.shift}, {roll.axis}), in pieces"
            lines.append(f"    load   %{load.node.name}  axes={load.axes}{extra}")
        for node in self.nodes:
            lines.append(f"    {format_node(node).split('  #')[0].rstrip()}  [{self.layouts[node]}]")
        for store in self.stores:
            target = store.kind.value if store.setitem is None else f"%{store.setitem.name} (setitem)"
            if store.kind is StoreKind.NEW and store.reads is not None:
                target = f"over %{store.reads.name} (dead here)"
            if store.kind is StoreKind.NEW and store.recycles is not None:
                target = f"into the array of %{store.recycles.name} (dead before)"
            lines.append(f"    store  %{store.node.name} -> {target}  axes={store.axes}")
        return "\n".join(lines)


@dataclass(eq=False)
class ExternStep:
    """One node run through its NumPy reference implementation inside the wrapper."""

    node: Node
    reason: str

    def __str__(self) -> str:
        return f"extern {format_node(self.node).split('  #')[0].rstrip()}   # {self.reason}"


Step = Kernel | ExternStep


@dataclass(eq=False)
class KernelGraph:
    """The fused program of one graph: steps in execution order."""

    graph: Graph
    steps: list[Step]

    @property
    def kernels(self) -> list[Kernel]:
        return [s for s in self.steps if isinstance(s, Kernel)]

    def __str__(self) -> str:
        return "\n".join(str(step) for step in self.steps)
