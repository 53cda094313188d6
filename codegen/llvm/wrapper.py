"""The per-call program: a generated, printable Python function over the kernel graph.

For each step it allocates fresh outputs with ``np.empty`` (NumPy asks for huge pages on
large arrays), makes views and setitem destinations with NumPy (O(1)), runs extern nodes
through their NumPy reference, and calls each kernel through ctypes with one tuple of
arrays (see abi.py). Kernels above ``parallel_threshold`` elements go through the thread
pool when one is given. Everything that can be computed at compile time (shapes, dtypes,
index tuples, the dims arrays) is a constant of the generated function's globals.

Example of the generated text for ``(x + y) * 2.0 - np.exp(x)``::

    def run(inputs):
        v_x, v_y = inputs
        b_3 = _empty((100,), _dtype_0)
        _k0((v_x, v_y, b_3, _dims_0))
        return [b_3]
"""
from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from ...ir import Node, OpKind, iter_nodes
from ...passes.kernels import ExternStep, Kernel, KernelGraph, StoreKind

KERNEL_TYPE = ctypes.CFUNCTYPE(None, ctypes.py_object)


class WrapperBuilder:
    def __init__(self, kernel_graph: KernelGraph, addresses: dict[Kernel, int], pool: Any,
                 num_threads: int, parallel_threshold: int):
        self.kg = kernel_graph
        self.addresses = addresses
        self.pool = pool
        self.num_threads = num_threads
        self.threshold = parallel_threshold
        self.lines: list[str] = []
        self.globals: dict[str, Any] = {"_empty": np.empty, "_asarray": np.asarray}
        self.values: dict[Node, str] = {}
        self.arrays: dict[Node, str] = {}
        self.counter = 0
        self.idents: dict[Node, str] = {}

    def ident(self, node: Node) -> str:
        if node not in self.idents:
            stem = "".join(c if c.isalnum() else "_" for c in node.name)
            taken = set(self.idents.values())
            name, n = stem, 1
            while name in taken:
                name, n = f"{stem}_{n}", n + 1
            self.idents[node] = name
        return self.idents[node]

    # ---------------------------------------------------------------- helpers
    def constant(self, value: Any) -> str:
        if value is None or isinstance(value, bool | int | str) and not isinstance(value, np.generic):
            return repr(value)
        if isinstance(value, float) and np.isfinite(value):
            return repr(value)
        for name, existing in self.globals.items():
            if name.startswith("_c") and type(existing) is type(value) and _same(existing, value):
                return name
        name = f"_c{self.counter}"
        self.counter += 1
        self.globals[name] = value
        return name

    def render(self, value: Any) -> str:
        if isinstance(value, Node):
            return self.value(value)
        if not any(True for _ in iter_nodes(value)) and not isinstance(value, dict):
            return self.constant(value)
        if isinstance(value, tuple):
            inner = ", ".join(self.render(v) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        if isinstance(value, list):
            return "[" + ", ".join(self.render(v) for v in value) + "]"
        if isinstance(value, slice):
            return f"slice({self.render(value.start)}, {self.render(value.stop)}, {self.render(value.step)})"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {self.render(v)}" for k, v in value.items()) + "}"
        return self.constant(value)

    def value(self, node: Node) -> str:
        return self.values[node]

    def array(self, node: Node) -> str:
        if node not in self.arrays:
            if node.meta.is_scalar:
                name = f"a_{self.ident(node)}"
                self.lines.append(f"    {name} = _asarray({self.values[node]})")
                self.arrays[node] = name
            else:
                self.arrays[node] = self.values[node]
        return self.arrays[node]

    # ---------------------------------------------------------------- program
    def build(self) -> str:
        inputs = self.kg.graph.inputs
        for node in inputs:
            self.values[node] = f"v_{self.ident(node)}"
        if inputs:
            self.lines.append(f"    {', '.join(self.values[n] for n in inputs)}, = inputs")
        for index, step in enumerate(self.kg.steps):
            if isinstance(step, ExternStep):
                self.extern(step.node)
            else:
                self.kernel(index, step)
        outputs = ", ".join(self.render(o) for o in self.kg.graph.outputs)
        self.lines.append(f"    return [{outputs}]")
        return "def run(inputs):\n" + "\n".join(self.lines) + "\n"

    def extern(self, node: Node) -> None:
        name = f"v_{self.ident(node)}"
        if node.op.name == "getitem" and not any(True for _ in iter_nodes(node.args[1])):
            self.lines.append(f"    {name} = {self.value(node.args[0])}[{self.render(node.args[1])}]")
        elif node.op.kind is OpKind.MUTATION and node.op.name == "setitem" and len(node.args) == 3:
            dest, index, value = node.args
            self.lines.append(f"    {self.value(dest)}[{self.render(index)}] = {self.render(value)}")
            self.values[node] = self.value(dest)
            return
        else:
            ref = f"_ref_{node.op.name}"
            self.globals[ref] = node.op.reference
            args = [self.render(a) for a in node.args]
            args += [f"{k}={self.render(v)}" for k, v in node.kwargs.items()]
            self.lines.append(f"    {name} = {ref}({', '.join(args)})")
        self.values[node] = name

    def kernel(self, index: int, kernel: Kernel) -> None:
        operands = [self.array(load.node) for load in kernel.loads]
        after = []
        for store in kernel.stores:
            if store.kind is StoreKind.NEW:
                node = store.node
                buffer = f"b_{self.ident(node)}"
                dtype = self.constant(node.meta.dtype)
                self.lines.append(f"    {buffer} = _empty({node.meta.shape!r}, {dtype})")
                operands.append(buffer)
                self.arrays[node] = buffer
                if node.meta.is_scalar:
                    self.values[node] = f"v_{self.ident(node)}"
                    after.append(f"    v_{self.ident(node)} = {buffer}[()]")
                else:
                    self.values[node] = buffer
            else:
                setitem = store.setitem
                dest, target = setitem.args[0], f"t_{self.ident(setitem)}"
                self.lines.append(f"    {target} = {self.value(dest)}[{self.render(setitem.args[1])}]")
                operands.append(target)
                self.values[setitem] = self.value(dest)
        outer = kernel.outer_axes
        extent = kernel.domain[outer[0]] if outer else 1
        dims = np.array([0, extent, *kernel.domain], dtype=np.int64)
        function = f"_{kernel.name}"
        self.globals[function] = KERNEL_TYPE(self.addresses[kernel])
        self.globals[f"_dims_{kernel.name}"] = dims
        tuple_text = ", ".join(operands)
        if self.pool is not None and self.num_threads > 1 and kernel.size >= self.threshold and extent > 1:
            self.globals["_pool"] = self.pool
            self.lines.append(f"    _pool.parallel_for({function}, ({tuple_text},), _dims_{kernel.name}, "
                              f"{self.num_threads})")
        else:
            self.lines.append(f"    {function}(({tuple_text}, _dims_{kernel.name}))")
        self.lines.extend(after)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and repr(a) == repr(b)
    except Exception:
        return False


def build_wrapper(kernel_graph: KernelGraph, addresses: dict[Kernel, int], *, pool: Any = None,
                  num_threads: int = 1, parallel_threshold: int = 1 << 20) -> tuple[Any, str, dict]:
    """(the ``run(inputs)`` function, its source, its globals)."""
    builder = WrapperBuilder(kernel_graph, addresses, pool, num_threads, parallel_threshold)
    source = builder.build()
    namespace = dict(builder.globals)
    exec(compile(source, "<ember wrapper>", "exec"), namespace)
    return namespace["run"], source, builder.globals
