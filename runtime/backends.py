"""Turning an optimised graph into something that runs: one artifact per backend.

An artifact is ``artifact(inputs: list) -> list`` with exactly the semantics of
``ir.interpret(graph, inputs)``, plus readable text for the ``kernels``/``llvm`` stages.
"""
from __future__ import annotations

import importlib
import os
import threading
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


# The code generator each backend imports on its first compile: the LLVM one, with llvmlite,
# takes 50-80 ms in a new process.
GENERATORS = {"llvm": "..codegen.llvm"}
_PREFETCHES: dict[str, threading.Thread] = {}


def prefetch(backend: str) -> None:
    """Start importing ``backend``'s code generator on a background thread (once per process),
    so that a script's first compile, after it has made its inputs, finds it imported. Python's
    import lock makes that compile wait for an import still running."""
    if backend not in GENERATORS or backend in _PREFETCHES:
        return
    if not _PREFETCHES and hasattr(os, "register_at_fork"):
        # A child forked mid-import would inherit module locks that no thread of its own releases.
        os.register_at_fork(before=_finish_prefetches)
    thread = threading.Thread(target=_import_quietly, args=(GENERATORS[backend],),
                              name=f"ember-prefetch-{backend}", daemon=True)
    _PREFETCHES[backend] = thread
    try:
        thread.start()
    except RuntimeError:  # no new threads (at interpreter shutdown): the first compile imports it
        pass


def _finish_prefetches() -> None:
    for thread in _PREFETCHES.values():
        if thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=60)


def _import_quietly(module: str) -> None:
    try:
        importlib.import_module(module, __package__)
    except Exception:  # noqa: BLE001 - the first compile imports it again, and reports what fails
        pass


_DISK_CACHES: dict[str, Any] = {}


def _disk_cache(directory: str) -> Any:
    """One DiskCache per directory ("" is the default: EMBER_CACHE_DIR or ~/.cache/ember)."""
    from .disk_cache import DiskCache

    if directory not in _DISK_CACHES:
        _DISK_CACHES[directory] = DiskCache(directory or None)
    return _DISK_CACHES[directory]


def build_artifact(graph: Graph, backend: str, *, num_threads: int = 0, cache_dir: str = "",
                   reuse_outputs: bool = True, own_matmul: bool = True) -> Any:
    if backend == "numpy":
        return NumpyArtifact(graph)
    if backend == "llvm":
        from ..codegen.llvm import compile_graph
        from .threadpool import shared_pool

        return compile_graph(graph, num_threads=num_threads, pool=shared_pool(num_threads),
                             cache=_disk_cache(cache_dir), reuse_outputs=reuse_outputs, own_matmul=own_matmul)
    if backend == "triton":
        from ..codegen.triton import compile_graph as compile_triton  # lazy: triton is optional

        return compile_triton(graph, cache_dir=cache_dir or None)
    raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
