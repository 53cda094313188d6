"""Memory planning: a kernel's fresh output takes over the array of a value dead there or before.

``x @ w + b`` runs as a BLAS matmul into a fresh array, then a kernel that adds ``b``. Eager
NumPy allocates a second array for the sum; so did Ember, until this pass. When the kernel
reads the matmul's result element for element and nothing reads it afterwards, the kernel can
write the sum over it: one buffer instead of two (16 MiB less at mlp's first layer), and
memory that is already in cache and already faulted in.

:func:`plan_buffers` marks such a store: ``Store.reads`` names the dead value, and the code
generator writes through that value's own load pointer (each element is read before it is
written, at the same address), and the wrapper hands the dead value's array out as the output.

A store takes over the buffer of a value ``dead`` when:

* the kernel is elementwise (no reductions: those run in passes, and a later pass would read
  what an earlier one wrote) and the stored value has the kernel's whole domain;
* ``dead`` has the same shape and dtype, is loaded with the identity map (same element, same
  iteration), and the kernel reads no other view of its memory (nor a roll of it read in place,
  passes/rolls.py, which runs before this pass);
* ``dead`` is memory the program made itself: the fresh output of an earlier kernel or of a
  matmul (never an input, and never an extern's result, which may share an input's memory);
* nothing after this kernel touches that memory (no later step reads a view of it, no graph
  output is or views it);
* it is large enough to be worth it (``worth``; small arrays come from malloc's warm heap).

A fresh output that takes over nothing is written into the array of a value that died at an
earlier step instead (``Store.recycles``), under the same rules for that value (made by the
program, same shape and dtype, touched by no later step, not seen by the caller, worth it),
each array once, the last to die first: a loop ``u = step(u)`` then cycles through a few
arrays, as eager's freed memory comes round again, instead of a fresh one per step (heat
equation, 10 steps of 1000x1000 float64: 20.1 -> 15.9 ms). It is not loaded by the kernel,
so the store is an ordinary one into the array the wrapper passes.

Layout: the taken-over array keeps its own strides, which may differ from those NumPy would
give the new value; the wrapper checks on each call and copies in the rare case they do.

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> from .fusion import fuse
>>> g = Graph()
>>> x = g.add_input("x", TensorMeta((4, 4), np.dtype("float32")))
>>> w = g.add_input("w", TensorMeta((4, 4), np.dtype("float32")))
>>> g.set_outputs([g.call("exp", g.call("matmul", x, w))])
>>> print(plan_buffers(fuse(g), worth=lambda node: True))
extern %0 = matmul(%x, %w)   # extern: NumPy
kernel k0  domain=(4, 4)  reduce=()
    load   %0  axes=(0, 1)
    %1 = exp(%0)  [full]
    store  %1 -> over %0 (dead here)  axes=(0, 1)
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..ir import Node, iter_nodes
from .kernels import ExternStep, Kernel, KernelGraph, Step, StoreKind
from .rewriting import analyse_aliasing

FRESH_EXTERNS = frozenset({"matmul"})  # extern ops whose result is always a new array


def plan_buffers(kernel_graph: KernelGraph, worth: Callable[[Node], bool]) -> KernelGraph:
    """The same program, with fresh outputs written over dead values where that is safe
    (module docstring); kernels that change are new objects, the others are kept."""
    aliasing = analyse_aliasing(kernel_graph.graph)
    root = aliasing.root
    last_use: dict[Node, int] = {}
    for position, step in enumerate(kernel_graph.steps):
        for node in _touched(step):
            last_use[root[node]] = position
    fresh = _fresh_values(kernel_graph.steps)
    ownerless = {node for node in fresh if root[node] is node and node not in aliasing.reaches_output}
    dying: dict[int, list[Node]] = {}
    for node in ownerless:
        dying.setdefault(last_use[node], []).append(node)
    free: dict[Node, int] = {}  # dead values whose arrays nothing claimed yet -> the step they died at
    steps: list[Step] = []
    for position, step in enumerate(kernel_graph.steps):
        if isinstance(step, Kernel):
            if not step.reduce_axes:
                def dies_here(node: Node, position: int = position) -> bool:
                    return node in ownerless and last_use[node] == position
                step = _take_over_dead_buffers(step, dies_here, worth, root)
            step = _recycle_dead_buffers(step, free, worth)
            claimed = {s.reads for s in step.stores} | {s.recycles for s in step.stores}
        else:
            claimed = set()
        steps.append(step)
        free.update((node, position) for node in dying.get(position, []) if node not in claimed)
    return KernelGraph(kernel_graph.graph, steps)


def _touched(step: Step) -> list[Node]:
    """Every value whose memory ``step`` reads or writes."""
    if isinstance(step, ExternStep):
        return [step.node, *iter_nodes((step.node.args, step.node.kwargs))]
    nodes = [load.node for load in step.loads] + [store.node for store in step.stores]
    nodes += [roll.source for roll in step.rolls.values()]  # read in place (passes/rolls.py)
    for store in step.stores:
        if store.setitem is not None:
            nodes += [store.setitem, *iter_nodes(store.setitem.args)]
    return nodes


def _fresh_values(steps: list[Step]) -> set[Node]:
    """Values held in arrays the program itself allocated, which nothing else can see yet."""
    fresh: set[Node] = set()
    for step in steps:
        if isinstance(step, Kernel):
            fresh.update(s.node for s in step.stores if s.kind is StoreKind.NEW)
        elif step.node.op.name in FRESH_EXTERNS and not step.node.kwargs:
            fresh.add(step.node)
    return {node for node in fresh if not node.meta.is_scalar}  # (a scalar's array is made per read)


def _take_over_dead_buffers(kernel: Kernel, dies_here: Callable[[Node], bool], worth: Callable[[Node], bool],
                            root: dict) -> Kernel:
    identity = tuple(range(len(kernel.domain)))
    # A roll read in place reads its source at other positions: never written over here.
    loaded_roots = [root[load.node] for load in kernel.loads] + [root[r.source] for r in kernel.rolls.values()]
    # Memory this kernel also writes through a setitem is not free to take over.
    taken: set[Node] = {root[s.setitem.args[0]] for s in kernel.stores if s.setitem is not None}
    stores = list(kernel.stores)
    for i, store in enumerate(stores):
        node = store.node
        if store.kind is not StoreKind.NEW or store.axes != identity or node.meta.shape != kernel.domain:
            continue
        for load in kernel.loads:
            dead = load.node
            if (dead not in taken and load.axes == identity and dead.meta.shape == node.meta.shape
                    and dead.meta.dtype == node.meta.dtype and loaded_roots.count(dead) == 1
                    and dies_here(dead) and worth(node)):
                taken.add(dead)
                stores[i] = dataclasses.replace(store, reads=dead)
                break
    if not taken:
        return kernel
    return dataclasses.replace(kernel, stores=stores)


def _recycle_dead_buffers(kernel: Kernel, free: dict[Node, int], worth: Callable[[Node], bool]) -> Kernel:
    """Fresh outputs written into the arrays of values that died at earlier steps (``free``,
    which loses what is claimed): the last to die first, the likeliest still in cache."""
    stores = list(kernel.stores)
    for i, store in enumerate(stores):
        node = store.node
        if store.kind is not StoreKind.NEW or store.reads is not None or node.meta.is_scalar or not worth(node):
            continue
        alike = [dead for dead in free if dead.meta.shape == node.meta.shape and dead.meta.dtype == node.meta.dtype]
        if alike:
            dead = max(alike, key=free.__getitem__)
            del free[dead]
            stores[i] = dataclasses.replace(store, recycles=dead)
    return kernel if stores == list(kernel.stores) else dataclasses.replace(kernel, stores=stores)
