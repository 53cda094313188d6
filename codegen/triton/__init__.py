"""The GPU backend: fused kernels as Triton ``@triton.jit`` functions, called from a
generated Python wrapper. One fusion (passes/fusion.py), two code generators.

Contract (the runtime calls this)::

    from ember.codegen.triton import compile_graph
    artifact = compile_graph(graph)     # raises ImportError without triton + torch
    outputs = artifact(inputs)          # == ember.ir.interpret(graph, inputs)
    print(artifact.describe())          # kernel graph, launches, wrapper (`kernels` stage)
    print(artifact.triton_source())     # the generated kernels (`triton` stage)

Inputs are NumPy arrays (kernels run in Triton's interpreter, ``TRITON_INTERPRET=1``, on
CPU torch tensors that share the arrays' memory) or CuPy arrays (kernels run on the GPU).
Without a GPU the interpreter is used automatically. Given NumPy arrays while Triton runs
on a GPU, the artifact runs the graph through NumPy (correct, not fast).

Semantics: outputs have NumPy's values, dtypes, shapes and scalar-versus-0-d kinds; views
of inputs are NumPy views; setitems write into the caller's arrays. What is lowered and
what runs through NumPy (the extern steps, listed by ``describe()``): see lowering.py and
emit_kernel.py; every node this backend cannot lower exactly runs through its NumPy
reference. Tolerances: + - * / sqrt and comparisons are exact (correctly rounded);
libdevice functions are within a few ulp on a GPU (exactly NumPy's in the interpreter);
float sums accumulate per lane then tree-reduce (float32 for float16), so they differ from
NumPy's pairwise sums by about NumPy's own rounding error.
"""
from __future__ import annotations

import typing
import warnings
from typing import Any

import numpy as np

from ...ir import Graph, Node, OpKind, interpret
from ...passes.fusion import fuse
from ...passes.kernels import KernelGraph
from ..common import emit_kernels, lowerable, memoise
from .emit_kernel import HELPERS, KernelSource, check_reduction, emit_kernel
from .lowering import LOWERED_DTYPES, Block, Unsupported, cast, lower_elementwise
from .wrapper import WrapperBuilder

__all__ = ["compile_graph", "TritonArtifact", "can_lower"]


def can_lower(node: Node) -> bool:
    """Whether this backend lowers ``node`` exactly (else fusion leaves it to NumPy)."""
    return lowerable(node, LOWERED_DTYPES, Unsupported, reduction=check_reduction, elementwise=_lower_alone,
                     store=lambda value, dest: cast(Block("x", value.meta.dtype), dest.meta.dtype))


def _lower_alone(node: Node) -> None:
    lower_elementwise(node, [Block("a", a.meta.dtype) if isinstance(a, Node) else None for a in node.args])


# Ember's own view references (ir/ops/views.py) that use only indexing, array methods and NumPy
# functions that dispatch to CuPy.
DEVICE_VIEWS = frozenset({"getitem", "transpose", "reshape", "dynamic_slice", "ascontiguousarray", "asfortranarray"})


class TritonArtifact:
    """A compiled graph: call it with the graph's inputs (a list) to get its outputs."""

    backend = "triton"

    def __init__(self, kernel_graph: KernelGraph, sources: list[KernelSource], module_text: str,
                 wrapper: WrapperBuilder, wrapper_text: str, cache_dir: str | None):
        self.kernel_graph = kernel_graph
        self.sources = sources
        self.module_text = module_text
        self.wrapper = wrapper
        self.source = wrapper_text
        self.cache_dir = cache_dir
        self._runs: dict[str, Any] = {}
        self._launchers: dict[str, dict] = {}

    # ---------------------------------------------------------------- running
    def __call__(self, inputs: list) -> list:
        from .device import is_device_array, use_interpreter

        if any(is_device_array(v) for v in inputs):
            return self._run("cuda")(inputs)
        if not use_interpreter():
            warnings.warn("ember triton backend: NumPy inputs while Triton runs on the GPU; "
                          "running the graph with NumPy", RuntimeWarning, stacklevel=2)
            return interpret(self.kernel_graph.graph, inputs)
        return self._run("interpreter")(inputs)

    def _run(self, device_name: str):
        run = self._runs.get(device_name)
        if run is None:
            run = self._runs[device_name] = self._bind(device_name)
        return run

    def _bind(self, device_name: str):
        import numpy as np

        from .device import CupyDevice, HostDevice
        from .launch import Launcher, load_module

        device = HostDevice() if device_name == "interpreter" else CupyDevice()
        cupy_device = typing.cast(CupyDevice, device)  # (used only when device_name != "interpreter")
        namespace: dict[str, Any] = dict(self.wrapper.constants)
        namespace["_empty"] = device.empty
        namespace["_asarray"] = np.asarray if device_name == "interpreter" else cupy_device.cupy.asarray
        for name, node in self.wrapper.references.items():
            reference = node.op.reference
            if device_name != "interpreter" and node.op.kind is OpKind.CREATION:
                reference = getattr(cupy_device.cupy, node.op.name)
            namespace[name] = reference
        if self.sources:
            module = load_module(self.module_text, device.interpret, self.cache_dir)
            launchers = {}
            for source in self.sources:
                variants = {variant: getattr(module, f"{source.name}_{variant}") for variant in ("rows", "partial",
                            "combine") if hasattr(module, f"{source.name}_{variant}")}
                launchers[f"_{source.kernel.name}"] = Launcher(source, getattr(module, source.name), device, variants)
            namespace.update(launchers)
            self._launchers[device_name] = launchers
        exec(compile(self.source, "<ember triton wrapper>", "exec"), namespace)
        return namespace["run"]

    def device_unsupported(self) -> str | None:
        """Why the graph cannot run on CuPy arrays, or None. A step that runs through NumPy must
        be a NumPy function CuPy has too (NumPy's dispatch then calls CuPy's; a creation op,
        which has no array to dispatch on, is CuPy's own, see _bind), or one of Ember's views
        written with such functions and array methods. An array constant bound into the program
        would stay on the host."""
        from .device import cupy_refusal

        for name, node in self.wrapper.references.items():
            if node.op.name in DEVICE_VIEWS:
                continue
            reference = getattr(np, node.op.name, None) if node.op.kind is OpKind.CREATION else node.op.reference
            if problem := cupy_refusal(reference):
                return f"{node.op.name} runs through {name}: {problem}"
        for name, value in self.wrapper.constants.items():
            if isinstance(value, np.ndarray):
                return f"an array constant ({name}, shape {value.shape}) that would stay on the host"
        return None

    # ---------------------------------------------------------------- stages
    def describe(self) -> str:
        return f"{self.kernel_graph}\n\n{self.source}"

    def triton_source(self) -> str:
        """The generated module: helpers, then each kernel under its fused kernel as comments.
        (The module that runs is the same text without the comments, which name shapes: one
        module, and one compiled kernel, serve every batch size.)"""
        if not self.sources:
            return "# no kernels: every step runs through NumPy"
        return HELPERS + "".join(f"\n\n{s.display}" for s in self.sources)

    def llvm_ir(self) -> str:
        return ""


def compile_graph(graph: Graph, *, cache_dir: str | None = None, check_runnable: bool = True,
                  **_ignored: Any) -> TritonArtifact:
    """Fuse ``graph``, generate one Triton kernel per fused kernel, and build the wrapper.

    Kernels are loaded (and, on a GPU, compiled by Triton's JIT) on the first call.
    ``check_runnable=False`` skips checking that this process can run them (aot.py's use).
    """
    from .device import require_triton

    require_triton(check_runnable)
    kernel_graph = fuse(graph, supports=memoise(can_lower))
    kernel_graph, emitted = emit_kernels(kernel_graph, lambda k: emit_kernel(k, k.name), Unsupported)
    sources = list(emitted.values())
    module_text = HELPERS + "".join(f"\n\n{s.text}" for s in sources)
    wrapper = WrapperBuilder(kernel_graph)
    wrapper_text = wrapper.build()
    return TritonArtifact(kernel_graph, sources, module_text, wrapper, wrapper_text, cache_dir)
