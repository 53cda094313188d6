"""What every backend does around its own lowering rules and kernel emitter: decide which nodes
it lowers (``lowerable``, given the backend's checks), ask that only once per node during
fusion, and send a kernel the emitter refuses back to NumPy, node by node.

Example (the shape of a backend's ``compile_graph``)::

    can_lower = lambda node: lowerable(node, LOWERED_DTYPES, Unsupported, store=..., reduction=...,
                                       elementwise=...)
    kernel_graph = fuse(graph, supports=memoise(can_lower))
    kernel_graph, emitted = emit_kernels(kernel_graph, emit_kernel, Unsupported)
    # emitted: {kernel: what emit_kernel returned}, in step order; refused kernels are now ExternSteps
"""
from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

import numpy as np

from ..ir import Node, OpKind
from ..passes.kernels import ExternStep, Kernel, KernelGraph

Emitted = TypeVar("Emitted")


def lowerable(node: Node, dtypes: AbstractSet[np.dtype], unsupported: type[Exception], *,
              store: Callable[[Node, Node], Any], reduction: Callable[[Node], Any],
              elementwise: Callable[[Node], Any]) -> bool:
    """Whether a backend lowers ``node`` exactly (else fusion leaves it to NumPy).

    Every dtype involved must be in ``dtypes``; then the backend's check for the node's kind
    runs (``store(value, dest)`` for a setitem, ``reduction(node)``, ``elementwise(node)``)
    and raises ``unsupported`` (or TypeError, ValueError, KeyError, OverflowError) if it cannot.
    """
    try:
        nodes = list(node.input_nodes())
        if node.op.kind is OpKind.MUTATION:
            if node.op.name != "setitem" or len(node.args) != 3 or node.kwargs:
                return False
            dest, value = node.args[0], node.args[2]
            if not isinstance(value, Node) or not {dest.meta.dtype, value.meta.dtype} <= dtypes:
                return False
            store(value, dest)
            return True
        if any(n.meta.dtype not in dtypes for n in nodes) or node.meta.dtype not in dtypes:
            return False
        if node.op.kind is OpKind.REDUCTION:
            reduction(node)
            return True
        if node.op.kind is OpKind.ELEMENTWISE:
            elementwise(node)
            return True
    except (unsupported, TypeError, ValueError, KeyError, OverflowError):
        return False
    return False


def clip_keeps_ties(node: Node) -> bool:
    """Whether ``np.clip`` keeps x where it equals a bound (-0.0 clipped to [0, 1] stays -0.0):
    NumPy's loop for two bounds that are the same for every element (Python or NumPy scalars,
    arrays of one element) does; with an array bound, or one bound (np.maximum/np.minimum), the
    bound is the result."""
    def same_everywhere(bound: Any) -> bool:
        return bound is not None and (not isinstance(bound, Node) or all(d == 1 for d in bound.meta.shape))
    return same_everywhere(node.args[1]) and same_everywhere(node.args[2])


def clip_bounds(low: Any, high: Any, dtype: np.dtype) -> tuple[Any, Any]:
    """``np.clip``'s bounds as a kernel applies them to values of integer ``dtype``: a Python
    int bound beyond the dtype's range on the side that bounds nothing (-1 as the low bound of
    uint8 values) is None, where NumPy gives the values unchanged there rather than wrapping the
    bound (to 255: clip would then give 2 for every value below 2); raises OverflowError where
    NumPy raises (300 as the low bound of uint8), so that NumPy's own call runs and raises."""
    if dtype.kind not in "iu":
        return low, high
    info = np.iinfo(dtype)

    def beyond(bound: Any, side: int) -> bool:
        return type(bound) is int and (bound < info.min if side < 0 else bound > info.max)
    if beyond(low, 1) or beyond(high, -1):
        raise OverflowError("a clip bound beyond the dtype's range on the side NumPy refuses")
    if beyond(low, -1) or beyond(high, 1):
        try:
            np.clip(np.zeros(1, dtype), low, high)
        except Exception as error:  # noqa: BLE001 - a NumPy that refuses such bounds: eager raises
            raise OverflowError(str(error)) from None
    return (None if beyond(low, -1) else low), (None if beyond(high, 1) else high)


def memoise(predicate: Callable[[Node], bool]) -> Callable[[Node], bool]:
    """``predicate`` asked once per node (fusion asks again as groups grow)."""
    results: dict[Node, bool] = {}

    def memoised(node: Node) -> bool:
        if node not in results:
            results[node] = predicate(node)
        return results[node]
    return memoised


def as_extern_steps(kernel: Kernel) -> list[ExternStep]:
    """The nodes of a kernel that could not be lowered, as NumPy steps in graph order."""
    nodes = list(kernel.nodes) + [s.setitem for s in kernel.stores if s.setitem is not None]
    nodes.sort(key=lambda n: int(n.name) if n.name.isdigit() else -1)
    return [ExternStep(n, "kernel could not be lowered") for n in nodes]


def emit_kernels(kernel_graph: KernelGraph, emit: Callable[[Kernel], Emitted],
                 unsupported: type[Exception]) -> tuple[KernelGraph, dict[Kernel, Emitted]]:
    """Emit every kernel of ``kernel_graph``; one that raises ``unsupported`` becomes extern steps.

    Returns the kernel graph of what will run and ``{kernel: emit(kernel)}`` in step order.
    """
    emitted: dict[Kernel, Emitted] = {}
    steps: list = []
    for step in kernel_graph.steps:
        if isinstance(step, Kernel):
            try:
                emitted[step] = emit(step)
            except unsupported:
                steps.extend(as_extern_steps(step))
                continue
        steps.append(step)
    return KernelGraph(kernel_graph.graph, steps), emitted
