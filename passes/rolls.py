"""Rolls read in place: ``np.roll(x, s, axis)`` as pieces of ``x`` instead of a rolled copy.

``np.roll`` copies its array, so a periodic stencil
``np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u``
writes four copies of ``u`` and reads them back. Rolled by ``s`` along an axis of size ``n``,
the rows ``[s, n)`` of the result are the rows ``[0, n - s)`` of ``x`` and the rows ``[0, s)``
are ``[n - s, n)``: two views. A kernel that reads the roll can therefore run in pieces, the
domain cut where any roll wraps, each piece on views (slices of every operand and output):
no copy, the same compiled kernel, the values bit for bit those of eager's steps.

:func:`read_rolls_in_place` drops the roll's extern step and records it in ``Kernel.rolls``
(the wrapper cuts the launches, codegen/wrapper.py) when:

* the roll has a constant integer shift and one axis, and every use of it is a load of such a
  kernel (no view, extern or graph output sees the rolled array);
* the kernel is elementwise (a reduction cut in pieces would need its partial results
  combined), has a static domain and only fresh outputs of its whole domain (no setitem, no
  taken-over buffer: this pass runs before memory planning, which then never writes over a
  rolled source in the kernel that reads it). Small arrays too: a piece costs a launch and its
  views (~1-2 us), a NumPy roll ~8 us (heat equation, 16x16 float64: eager 45.6 us, NumPy's
  rolls in the compiled program 36.9 us, pieces 17.6 us);
* the rolled axis is one of the kernel's domain axes, not broadcast;
* nothing writes the rolled array's memory between the roll and the kernels that read it (they
  read it later than the roll would have copied it). A kernel that writes it itself, as
  ``u += dt * (np.roll(u, 1, 0) + ...)`` or ``out[...] = f(rolls of u)`` with ``out`` an argument
  (which may be ``u``), writes fresh arrays instead, set into their destinations by setitems
  right after it (``_can_defer``): every read sees the values from before, as eager's copies do.
"""
from __future__ import annotations

import dataclasses

from ..ir import Node, OpKind, is_static, iter_nodes
from .kernels import ExternStep, Kernel, KernelGraph, Roll, Step, StoreKind
from .rewriting import analyse_aliasing


def read_rolls_in_place(kernel_graph: KernelGraph) -> KernelGraph:
    """The same program with qualifying rolls read as pieces (module docstring)."""
    graph = kernel_graph.graph
    aliasing = analyse_aliasing(graph)
    users: dict[Node, list[Node]] = {}
    for node in graph.nodes:
        for arg in set(iter_nodes((node.args, node.kwargs))):
            users.setdefault(arg, []).append(node)
    member_of = {node: step for step in kernel_graph.kernels for node in step.nodes}
    position = {id(step): i for i, step in enumerate(kernel_graph.steps)}
    writes = [_roots_written(step, aliasing.root) for step in kernel_graph.steps]
    rolls: dict[Kernel, dict[Node, Roll]] = {}
    deferred: set[Kernel] = set()  # kernels whose setitems run after them, so their reads see the old values
    dropped: set[Node] = set()
    for at, step in enumerate(kernel_graph.steps):
        if not isinstance(step, ExternStep) or step.node.op.name != "roll":
            continue
        roll = _constant_roll(step.node)
        if roll is None or step.node in aliasing.reaches_output:
            continue
        kernels = {member_of.get(user) for user in users.get(step.node, [])}
        if not kernels or None in kernels or not all(_reads_in_pieces(k, step.node, roll) for k in kernels):
            continue
        readers = sorted((k for k in kernels if k is not None), key=lambda k: position[id(k)])
        last = position[id(readers[-1])]
        source = aliasing.root[roll.source]
        if any(source in writes[i] for i in range(at + 1, last)):
            continue  # written between the roll and a kernel that reads it
        if source in writes[last] and not (len(readers) == 1 and _can_defer(readers[0])):
            continue
        if source in writes[last]:
            deferred.add(readers[0])
        dropped.add(step.node)
        for kernel in readers:
            rolls.setdefault(kernel, {})[step.node] = roll
    if not dropped:
        return kernel_graph
    steps: list[Step] = []
    for step in kernel_graph.steps:
        if isinstance(step, ExternStep) and step.node in dropped:
            continue
        if isinstance(step, Kernel) and step in deferred:
            setitems = [s.setitem for s in step.stores if s.setitem is not None]
            stores = [dataclasses.replace(s, kind=StoreKind.NEW, setitem=None, reads=None) if s.setitem is not None
                      else s for s in step.stores]
            steps.append(dataclasses.replace(step, rolls={**step.rolls, **rolls[step]}, stores=stores))
            steps += [ExternStep(setitem, "setitem: after the kernel that reads a roll of its destination")
                      for setitem in setitems if setitem is not None]
            continue
        if isinstance(step, Kernel) and step in rolls:
            step = dataclasses.replace(step, rolls={**step.rolls, **rolls[step]})
        steps.append(step)
    return KernelGraph(graph, steps)


def _roots_written(step: Step, root: dict) -> set:
    """The memory a step writes: a setitem's destination, or a dead value's buffer that a kernel's
    fresh output takes over (passes/memory.py)."""
    if isinstance(step, ExternStep):
        return {root[step.node.args[0]]} if step.node.op.kind is OpKind.MUTATION else set()
    return ({root[s.setitem.args[0]] for s in step.stores if s.setitem is not None}
            | {root[s.reads] for s in step.stores if s.kind is StoreKind.NEW and s.reads is not None})


def _can_defer(kernel: Kernel) -> bool:
    """Whether the kernel's writes can run after it, as setitems of fresh arrays it computes: each
    a plain ``setitem`` whose value covers the kernel's domain, no member reading a setitem's
    result."""
    setitems = {s.setitem for s in kernel.stores if s.setitem is not None}
    return all(s.setitem is None or (len(s.setitem.args) == 3 and s.setitem.args[2] is s.node
                                     and s.node.meta.shape == kernel.domain)
               for s in kernel.stores) and not any(
        arg in setitems for node in kernel.nodes for arg in iter_nodes((node.args, node.kwargs)))


def _constant_roll(node: Node) -> Roll | None:
    source, shift, axis = (*node.args, *[None] * 3)[:3]
    shift, axis = node.kwargs.get("shift", shift), node.kwargs.get("axis", axis)
    if not isinstance(source, Node) or type(shift) is not int or type(axis) is not int:
        return None
    shape = source.meta.shape
    if not -len(shape) <= axis < len(shape) or not is_static(shape) or node.meta.shape != shape:
        return None
    axis %= len(shape)
    return Roll(source, axis, shift % shape[axis]) if shape[axis] else None


def _reads_in_pieces(kernel: Kernel | None, node: Node, roll: Roll) -> bool:
    if kernel is None or kernel.reduce_axes or not is_static(kernel.domain):
        return False
    # fresh outputs of the whole domain (no taken-over buffer), or setitems the pass may defer
    if any(store.node.meta.shape != kernel.domain or store.kind is StoreKind.NEW and store.reads is not None
           for store in kernel.stores):
        return False
    if any(store.kind is StoreKind.INTO for store in kernel.stores) and not _can_defer(kernel):
        return False
    loads = [load for load in kernel.loads if load.node is node]
    return bool(loads) and all(not load.broadcast[roll.axis] for load in loads)
