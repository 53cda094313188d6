"""Ember's switches: one place, a default and a doc line each, readable from ``EMBER_*``
environment variables and overridable in code.

>>> import ember
>>> ember.config.recompile_limit
8
>>> with ember.config.patch(recompile_limit=2):
...     ember.config.recompile_limit
2
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any


def _env(name: str, default: Any, kind: type) -> Any:
    raw = os.environ.get(f"EMBER_{name.upper()}")
    if raw is None:
        return default
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return kind(raw)


@dataclass
class Config:
    recompile_limit: int = field(default=8, metadata={"doc": "cache entries per function before it runs eagerly"})
    dynamic_shapes: bool = field(default=True, metadata={"doc": "after a recompile caused by a changed array "
                                                                 "size, compile that dimension for any size"})
    backend: str = field(default="llvm", metadata={"doc": "default backend: llvm (fused CPU kernels) or numpy "
                                                          "(the reference interpreter, for debugging)"})
    num_threads: int = field(default=0, metadata={"doc": "kernel threads; 0 means one per core"})
    reuse_outputs: bool = field(default=True, metadata={"doc": "reuse a large output buffer (>= 1 MiB) once the "
                                                               "caller has dropped it, instead of faulting in "
                                                               "fresh pages; holds up to two per output"})
    own_matmul: bool = field(default=True, metadata={"doc": "float32/float64 matrix products by Ember's own "
                                                            "AVX-512 kernel where NumPy's OpenBLAS runs AVX2 "
                                                            "kernels (codegen/llvm/blas.py); off: NumPy's BLAS, "
                                                            "its sums bit for bit"})
    cache_dir: str = field(default="", metadata={"doc": "on-disk kernel cache; empty means ~/.cache/ember"})
    debug_dir: str = field(default="", metadata={"doc": "write generated code (guards, wrappers) to files here"})
    suppress_errors: bool = field(default=True, metadata={"doc": "on an internal compiler error, run eagerly "
                                                                   "and log it instead of raising"})

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, _env(f.name, getattr(self, f.name), type(getattr(self, f.name))))

    @contextlib.contextmanager
    def patch(self, **changes: Any) -> Iterator[Config]:
        """Temporarily change settings: ``with ember.config.patch(backend="numpy"): ...``."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise AttributeError(f"unknown ember.config settings: {sorted(unknown)}")
        saved = {name: getattr(self, name) for name in changes}
        for name, value in changes.items():
            setattr(self, name, value)
        try:
            yield self
        finally:
            for name, value in saved.items():
                setattr(self, name, value)

    def describe(self) -> str:
        return "\n".join(f"{f.name} = {getattr(self, f.name)!r}  # {f.metadata['doc']}" for f in fields(self))


config = Config()
