"""Turning an optimised graph into something that runs: one artifact per backend.

An artifact is ``artifact(inputs: list) -> list`` with exactly the semantics of
``ir.interpret(graph, inputs)``, plus readable text for the ``kernels``/``llvm`` stages.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..ir import Graph, interpret
from ..ir.interpreter import release_plan

BACKENDS = ("numpy", "llvm", "triton")


class NumpyArtifact:
    """The reference backend: run the graph node by node with NumPy (a debugging backend)."""

    backend = "numpy"

    def __init__(self, graph: Graph):
        self.graph = graph
        self.release = release_plan(graph)

    def __call__(self, inputs: Sequence[Any]) -> list[Any]:
        return interpret(self.graph, inputs, self.release)

    def describe(self) -> str:
        return f"numpy backend: {sum(1 for n in self.graph.nodes if n.op.name != 'input')} ops run by the interpreter"

    def llvm_ir(self) -> str:
        return ""


_DISK_CACHES: dict[str, Any] = {}


def _disk_cache(directory: str) -> Any:
    """One DiskCache per directory ("" is the default: EMBER_CACHE_DIR or ~/.cache/ember)."""
    from .disk_cache import DiskCache

    if directory not in _DISK_CACHES:
        _DISK_CACHES[directory] = DiskCache(directory or None)
    return _DISK_CACHES[directory]


def build_artifact(graph: Graph, backend: str, *, num_threads: int = 0, cache_dir: str = "",
                   reuse_outputs: bool = True) -> Any:
    if backend == "numpy":
        return NumpyArtifact(graph)
    if backend == "llvm":
        from ..codegen.llvm import compile_graph
        from .threadpool import shared_pool

        return compile_graph(graph, num_threads=num_threads, pool=shared_pool(num_threads),
                             cache=_disk_cache(cache_dir), reuse_outputs=reuse_outputs)
    if backend == "triton":
        from ..codegen.triton import compile_graph as compile_triton  # lazy: triton is optional

        return compile_triton(graph, cache_dir=cache_dir or None)
    raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
