"""The CPU backend: fused kernels as LLVM functions (llvmlite), called from a generated
Python wrapper.

Contract (the runtime calls this)::

    from ember.codegen.llvm import compile_graph
    artifact = compile_graph(graph, num_threads=1, pool=None, cache=None)
    outputs = artifact(inputs)          # == ember.ir.interpret(graph, inputs)
    artifact.run                        # the raw generated function (one call less)
    print(artifact.describe())          # kernel graph + wrapper source (`kernels` stage)
    print(artifact.llvm_ir())           # the module (`llvm` stage); llvm_ir(optimized=True)

* ``num_threads`` > 1 (0: all of the pool's threads) together with ``pool`` (an object with
  ``parallel_for(kernel, operands: tuple, dims: np.ndarray, num_threads: int)``, e.g.
  ``ember.runtime.threadpool.ThreadPool``; ``chunk_count(start, stop, num_threads)`` says how
  many chunks it will make) splits the outer loop of kernels of at least
  ``parallel_threshold`` elements (default 2**20; fewer for kernels that call vector math,
  wrapper.py's ``math_call_cost``) across threads, or the first reduced axis of a kernel that
  reduces everything. Without a pool, one thread.
* ``reuse_outputs``: fresh outputs of 1 MiB or more come from an ``OutputCache`` per
  allocation site (codegen/buffers.py), which hands an array out again once the caller has
  dropped every reference to it: no page faults on repeated calls, ordinary owning arrays,
  up to two arrays per site held between calls.
* ``own_matmul``: float32/float64 matrix products by codegen/llvm/gemm.py where blas.py finds
  NumPy's OpenBLAS at half the vector width (else, and when False, NumPy's BLAS).
* ``take_over_bytes``: a kernel's fresh output of at least this size is written over the
  buffer of a value that dies in that kernel (the sum in ``x @ w + b`` over the matmul's
  result), where passes/memory.py finds that safe.
* A reduction kernel that keeps axes is compiled for C order; a first call whose operands
  lie in another memory order (Fortran order, ``x.T``) compiles it again for theirs, in a
  module of its own (through the same caches), and runs that code from then on: layouts are
  fixed per compiled entry (guards). ``describe()`` lists the orders so decided.
* ``cache``: an object with ``get(key) -> bytes | None`` and ``put(key, bytes)``, e.g.
  ``ember.runtime.disk_cache.DiskCache()`` (``~/.cache/ember`` or ``EMBER_CACHE_DIR``),
  holding compiled object code. Codegen never imports runtime; the runtime passes these in.
  ``cache_dir=`` (the first draft of the contract) is refused with a TypeError unless
  ``cache`` is given: the runtime should call
  ``compile_graph(graph, num_threads=n, pool=shared_pool(n), cache=DiskCache(cache_dir or None))``
  with ``shared_pool`` from ``ember.runtime.threadpool``.
* Raises ``NotImplementedError`` if this process's CPython/NumPy object layout cannot be
  verified (free-threaded builds): the runtime should then run eagerly.

Semantics: outputs have NumPy's values, dtypes, shapes and scalar-versus-0-d kinds; views
of inputs are NumPy views (made by NumPy in the wrapper) and setitems write into the
caller's arrays. Float tolerances: + - * / sqrt and comparisons are bit-exact; libm /
libmvec transcendental functions are within 4 ulp (measured per function and dtype in
tests/codegen/test_ulp.py), Ember's own exp, sin and cos within 2 ulp (polynomials.py,
tests/codegen/test_own_polynomials.py), x**n for a constant n of 3..8 within half an ulp
(multiplications; lowering.py _integer_power); float sums and means differ from NumPy's
pairwise sums by about NumPy's own rounding error (float32 sums accumulate in float64; float64 sums use vector
partial sums): rtol 1e-5 (f32), 1e-12 (f64) on well-conditioned data. Integer arithmetic is
exact, with NumPy's wrap-around, division and shift rules. NumPy's RuntimeWarnings
(division by zero, overflow, invalid) are not raised by compiled kernels.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ...ir import Graph, Node, hint_size
from ...passes.fusion import fuse
from ...passes.kernels import ExternStep, Kernel, KernelGraph
from ...passes.memory import plan_buffers
from ...passes.rolls import read_rolls_in_place
from ..buffers import MIN_BYTES
from ..common import emit_kernels, lowerable, memoise
from .abi import OFFSETS
from .blas import numpy_blas, own_product_faster
from .emit_kernel import check_store_cast, emit_kernel
from .emit_reduction import SplitReduction
from .jit import ObjectCache, assemble_module, compile_module, optimised_ir
from .launch import TRAMPOLINE, trampoline_function
from .lowering import LOWERED_DTYPES, Builder, Unsupported, Value, lower_elementwise
from .math import MathDeclarations, host_has
from .reductions import plan_reduction
from .scan import SCANNED_DTYPES, SCANS, ScanKernel, scan_function
from .wrapper import build_wrapper, decided_layouts

if TYPE_CHECKING:
    from .attention import AttentionKernel
    from .gemm import GemmKernel

__all__ = ["compile_graph", "CompiledGraph", "can_lower"]


def can_lower(node: Node) -> bool:
    """Whether this backend lowers ``node`` exactly (else fusion leaves it to NumPy)."""
    return lowerable(node, LOWERED_DTYPES, Unsupported, reduction=plan_reduction, elementwise=_lower_alone,
                     store=lambda value, dest: check_store_cast(value.meta.dtype, dest.meta.dtype))


def _lower_alone(node: Node) -> None:
    builder = Builder(MathDeclarations())
    args = [Value("%a", a.meta.dtype) if isinstance(a, Node) else a for a in node.args]
    lower_elementwise(builder, node, args)


class CompiledGraph:
    """A compiled graph: call it with the graph's inputs (a list) to get its outputs."""

    def __init__(self, kernel_graph: KernelGraph, run, source: str, module_text: str, from_cache: bool,
                 layouts: dict[str, list] | None = None, relaid: list[tuple[str, tuple, str]] | None = None):
        self.kernel_graph = kernel_graph
        self.layouts = layouts or {}  # kernel name -> [its KernelLayout once a first call decided it]
        self.relaid = relaid if relaid is not None else []  # (kernel, memory order, module) compiled since
        self.run = run
        self.source = source
        self.module_text = module_text
        self.from_cache = from_cache

    def __call__(self, inputs: list) -> list:
        return self.run(inputs)

    def describe(self) -> str:
        text = f"{self.kernel_graph}\n\n{self.source}"
        decided = [f"    {name}: {laid[0]}" for name, laid in self.layouts.items() if laid[0] is not None]
        if decided:
            text += "\n\ndecided on the first call, for the operands' memory order:\n" + "\n".join(decided)
        return text

    def llvm_ir(self, optimized: bool = False) -> str:
        """The module, then each module a first call compiled for the operands' memory order."""
        if not self.module_text:
            return "; no kernels"
        texts = [self.module_text] + [f"; {name} compiled again for memory order {order} on the first call\n{text}"
                                      for name, order, text in self.relaid]
        return "\n".join(optimised_ir(text) if optimized else text for text in texts)


def compile_graph(graph: Graph, *, num_threads: int = 1, pool: Any = None, cache: ObjectCache | None = None,
                  cache_dir: str | None = None, parallel_threshold: int = 1 << 20,
                  reuse_outputs: bool = False, take_over_bytes: int = MIN_BYTES,
                  own_matmul: bool = True) -> CompiledGraph:
    """Fuse ``graph``, compile its kernels into one LLVM module, and build the wrapper."""
    if cache_dir is not None and cache is None:
        raise TypeError("compile_graph takes cache=ember.runtime.disk_cache.DiskCache(cache_dir), "
                        "not cache_dir")
    if pool is not None and num_threads <= 0:
        num_threads = pool.num_threads
    if OFFSETS is None:
        raise NotImplementedError("the llvm backend cannot verify this Python/NumPy object layout")
    if host_has("avx512f"):  # the attention kernel's register blocking wants 32 vector registers
        from ...passes.attention import fuse_attention  # imported on such hosts only: ~5 ms
        graph = fuse_attention(graph)
    kernel_graph = fuse(graph, supports=memoise(can_lower))
    decls = MathDeclarations()
    splits: dict[Kernel, SplitReduction] = {}  # filled by emit_kernel for split full reductions
    accumulators: dict[Kernel, list[np.dtype]] = {}  # ... for reductions that keep the last axis

    def emit(kernel: Kernel) -> tuple[str, str]:
        return emit_kernel(kernel, decls, OFFSETS, splits, accumulators)

    kernel_graph, functions = emit_kernels(kernel_graph, emit, Unsupported)
    # Planned on what will run (a kernel the emitter refused is NumPy steps now); a kernel that
    # writes over a dead buffer is emitted again, storing through that buffer's pointer. Rolls
    # first: planning then sees which kernels read a value through a roll, and never writes over
    # it there (a rolled read is at another position than the write).
    kernel_graph = read_rolls_in_place(kernel_graph)
    kernel_graph = plan_buffers(kernel_graph, worth=lambda node: hint_size(node.meta.shape)
                                * node.meta.dtype.itemsize >= take_over_bytes)
    functions = {k: functions[k] if k in functions else emit(k) for k in kernel_graph.kernels}
    kernel_graph, templates = _own_kernels(kernel_graph, _attention(decls),
                                           "one fused kernel: codegen/llvm/attention.py")
    kernel_graph, scans = _own_kernels(kernel_graph, _scan(decls), "one loop in NumPy's order: codegen/llvm/scan.py")
    threads = num_threads if pool is not None else 1
    kernel_graph, products = _own_kernels(kernel_graph, _gemm(decls, threads) if own_matmul else lambda node: None,
                                          "own matrix product: codegen/llvm/gemm.py")
    module_text, from_cache, addresses = "", False, {}
    fused: dict[Node, AttentionKernel | ScanKernel | GemmKernel] = {}
    trampoline = None
    relaid: list[tuple[str, tuple, str]] = []
    if functions or templates or scans or products:
        every = [*functions.values(), *templates.values(), *scans.values(), *products.values(),
                 trampoline_function(OFFSETS)]
        module_text = assemble_module(every, decls.text())
        names = {name for name, _ in every} | {f"{name}_pack" for name, _ in products.values()}
        compiled = compile_module(module_text, sorted(names), cache)
        from_cache = compiled.from_cache
        addresses = {kernel: compiled.addresses[name] for kernel, (name, _) in functions.items()}
        trampoline = compiled.addresses[TRAMPOLINE]
        fused.update(_attention_kernels(templates, compiled.addresses, pool, num_threads))
        fused.update({node: ScanKernel(compiled.addresses[name], node.op.name, node.meta.dtype,
                                       node.kwargs.get("axis"), pool, num_threads)
                      for node, (name, _) in scans.items()})
        fused.update(_gemm_kernels(products, compiled.addresses, pool, num_threads))
    run, source, namespace = build_wrapper(kernel_graph, addresses, pool=pool, num_threads=num_threads,
                                           parallel_threshold=parallel_threshold, splits=splits,
                                           accumulators=accumulators, reuse_outputs=reuse_outputs, fused=fused,
                                           trampoline=trampoline,
                                           relayout=functools.partial(_compile_in_order, cache=cache,
                                                                      relaid=relaid))
    return CompiledGraph(kernel_graph, run, source, module_text, from_cache, decided_layouts(namespace), relaid)


def _compile_in_order(kernel: Kernel, layout: tuple[int, ...], cache: ObjectCache | None,
                      relaid: list[tuple[str, tuple, str]]) -> int:
    """The address of ``kernel`` compiled, in a module of its own, for the memory order
    ``layout`` (the wrapper asks on a first call whose operands are not in C order); the module's
    text goes to ``relaid`` (the llvm stage shows it)."""
    assert OFFSETS is not None  # (compile_graph checked)
    decls = MathDeclarations()
    name, text = emit_kernel(kernel, decls, OFFSETS, layout=layout)
    module = assemble_module([(name, text)], decls.text())
    relaid.append((kernel.name, layout, module))
    return compile_module(module, [name], cache).addresses[name]


def _own_kernels(kernel_graph: KernelGraph, make: Callable[[Node], tuple[str, str] | None], reason: str
                 ) -> tuple[KernelGraph, dict[Node, tuple[str, str]]]:
    """The extern nodes this backend runs with a kernel of its own: ``make(node)`` gives its
    (name, LLVM text), or None for NumPy's call; their steps are relabelled with ``reason``."""
    functions: dict[Node, tuple[str, str]] = {}
    steps: list = []
    for step in kernel_graph.steps:
        if isinstance(step, ExternStep) and (made := make(step.node)) is not None:
            functions[step.node] = made
            step = ExternStep(step.node, reason)
        steps.append(step)
    return KernelGraph(kernel_graph.graph, steps), functions


def _attention(decls: MathDeclarations) -> Callable[[Node], tuple[str, str] | None]:
    def make(node: Node) -> tuple[str, str] | None:
        if node.op.name != "attention":
            return None
        assert OFFSETS is not None  # (compile_graph checked)
        from .attention import Scaling, attention_function  # only fuse_attention makes these nodes
        return attention_function(node.meta.dtype, Scaling.of(node.kwargs), decls, OFFSETS)
    return make


def _attention_kernels(templates: dict[Node, tuple[str, str]], addresses: dict[str, int], pool: Any,
                       num_threads: int) -> dict[Node, AttentionKernel]:
    if not templates:
        return {}
    from .attention import AttentionKernel, Scaling
    return {node: AttentionKernel(addresses[name], node.meta.dtype, Scaling.of(node.kwargs), pool, num_threads)
            for node, (name, _) in templates.items()}


def _gemm(decls: MathDeclarations, num_threads: int) -> Callable[[Node], tuple[str, str] | None]:
    """``a @ b`` (or ``np.dot``) of two float32 or two float64 arrays, ``b`` 2-D and ``a`` 2-D or
    a stack of matrices, on AVX-512 hosts where NumPy's BLAS runs half-width kernels
    (codegen/llvm/blas.py, gemm.py)."""
    @functools.cache
    def faster() -> bool:  # (asked once per graph, and only of a graph with a product)
        return host_has("avx512f") and own_product_faster(num_threads, numpy_blas())

    def make(node: Node) -> tuple[str, str] | None:
        if (node.op.name not in ("matmul", "dot") or node.kwargs or len(node.args) != 2
                or not all(isinstance(a, Node) and a.meta.dtype == node.meta.dtype for a in node.args)
                or node.args[0].meta.ndim < 2 or node.args[1].meta.ndim != 2
                or node.meta.dtype not in (np.dtype("float32"), np.dtype("float64")) or not faster()):
            return None
        assert OFFSETS is not None  # (compile_graph checked)
        from .gemm import gemm_function  # ~1 ms, only where a graph has such a product
        return gemm_function(node.meta.dtype, decls, OFFSETS)
    return make


def _gemm_kernels(products: dict[Node, tuple[str, str]], addresses: dict[str, int], pool: Any,
                  num_threads: int) -> dict[Node, GemmKernel]:
    if not products:
        return {}
    from .gemm import GemmKernel
    return {node: GemmKernel(addresses[f"{name}_pack"], addresses[name], node.meta.dtype, pool, num_threads,
                             node.op.reference)
            for node, (name, _) in products.items()}


def _scan(decls: MathDeclarations) -> Callable[[Node], tuple[str, str] | None]:
    """cumsum/cumprod (and nan forms) with the same dtype in and out, no ``dtype=`` (codegen/llvm/scan.py)."""
    def make(node: Node) -> tuple[str, str] | None:
        if (node.op.name not in SCANS or not set(node.kwargs) <= {"axis"}
                or not isinstance(node.args[0], Node) or node.args[0].meta.dtype != node.meta.dtype
                or node.meta.dtype not in SCANNED_DTYPES):
            return None
        assert OFFSETS is not None  # (compile_graph checked)
        return scan_function(node.op.name, node.meta.dtype, decls, OFFSETS)
    return make
