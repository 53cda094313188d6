"""The per-call program: a generated, printable Python function over the kernel graph.

The shared builder (codegen/wrapper.py) writes everything but the launches. For each step it
allocates fresh outputs with ``np.empty`` (NumPy asks for huge pages on large arrays), makes
views and setitem destinations with NumPy (O(1)), runs extern nodes through their NumPy
reference, and calls each kernel through ctypes with one tuple of arrays (see abi.py).
Kernels above ``parallel_threshold`` elements go through the thread pool when one is given:
the pool splits the first outer axis, or, for a kernel that reduces everything
(``partials``), the first reduced axis into per-thread partial accumulators that one more
call of the same kernel combines.
Everything that can be computed at compile time (shapes, dtypes, index tuples, the dims
arrays) is a constant of the generated function's globals.

Example of the generated text for ``(x + y) * 2.0 - np.exp(x)``::

    def run(inputs):
        v_x, v_y = inputs
        b_3 = _empty((100,), _c0)
        _k0((v_x, v_y, b_3, _dims_k0))
        return [b_3]
"""
from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from ...passes.kernels import Kernel, KernelGraph
from ..wrapper import ProgramBuilder

KERNEL_TYPE = ctypes.CFUNCTYPE(None, ctypes.py_object)


class WrapperBuilder(ProgramBuilder):
    """After ``build()``, ``globals`` holds the kernels (ctypes), their dims arrays and the pool;
    ``namespace()`` is everything the generated text needs."""

    def __init__(self, kernel_graph: KernelGraph, addresses: dict[Kernel, int], pool: Any,
                 num_threads: int, parallel_threshold: int, partials: dict[Kernel, list[np.dtype]],
                 reuse_outputs: bool):
        super().__init__(kernel_graph, reuse_outputs)
        self.addresses = addresses
        self.partials = partials
        self.pool = pool
        self.num_threads = num_threads
        self.threshold = parallel_threshold
        self.globals: dict[str, Any] = {}

    def namespace(self) -> dict[str, Any]:
        references = {name: node.op.reference for name, node in self.references.items()}
        return {"_empty": np.empty, "_asarray": np.asarray, **self.constants, **references, **self.globals}

    def launch(self, kernel: Kernel, operands: list[str]) -> None:
        partials = self.partials.get(kernel, [])
        split_axes = kernel.reduce_axes if partials else kernel.outer_axes
        extent = kernel.domain[split_axes[0]] if split_axes else 1
        dims = np.array([0, extent, -1, *kernel.domain], dtype=np.int64)
        function, dims_name = f"_{kernel.name}", f"_dims_{kernel.name}"
        self.globals[function] = KERNEL_TYPE(self.addresses[kernel])
        self.globals[dims_name] = dims
        parallel = (self.pool is not None and self.num_threads > 1 and kernel.size >= self.threshold
                    and extent > 1)
        if partials and not parallel:  # the whole-reduction mode never touches them
            operands = operands + [self.constant(np.empty(1, dtype)) for dtype in partials]
        elif partials:
            chunks = self.pool.chunk_count(0, extent, self.num_threads)
            names = [f"p_{kernel.name}_{i}" for i in range(len(partials))]
            for name, dtype in zip(names, partials, strict=True):
                self.lines.append(f"    {name} = _empty({chunks}, {self.constant(dtype)})")
            operands = operands + names
            self.globals[f"{dims_name}_combine"] = np.array([0, chunks, -2, *kernel.domain], dtype=np.int64)
        tuple_text = ", ".join(operands)
        if parallel:
            self.globals["_pool"] = self.pool
            self.lines.append(f"    _pool.parallel_for({function}, ({tuple_text},), {dims_name}, {self.num_threads})")
            if partials:
                self.lines.append(f"    {function}(({tuple_text}, {dims_name}_combine))")
        else:
            self.lines.append(f"    {function}(({tuple_text}, {dims_name}))")


def build_wrapper(kernel_graph: KernelGraph, addresses: dict[Kernel, int], *, pool: Any = None,
                  num_threads: int = 1, parallel_threshold: int = 1 << 20,
                  partials: dict[Kernel, list[np.dtype]] | None = None,
                  reuse_outputs: bool = False) -> tuple[Any, str, dict]:
    """(the ``run(inputs)`` function, its source, its globals); ``partials``: the partial
    accumulator dtypes of kernels that split a full reduction (recorded by emit_kernel)."""
    builder = WrapperBuilder(kernel_graph, addresses, pool, num_threads, parallel_threshold, partials or {},
                             reuse_outputs)
    source = builder.build()
    globals_ = builder.namespace()
    namespace = dict(globals_)
    exec(compile(source, "<ember wrapper>", "exec"), namespace)
    return namespace["run"], source, globals_
