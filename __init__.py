"""Ember: a Dynamo-style tracing compiler for plain NumPy functions.

>>> import numpy as np, ember
>>> @ember.compile
... def layernorm(x, w, b):
...     mu = x.mean(axis=-1, keepdims=True)
...     d = x - mu
...     return d / np.sqrt((d * d).mean(axis=-1, keepdims=True) + 1e-5) * w + b
>>> x = np.ones((4, 8), np.float32)
>>> layernorm(x, np.ones(8, np.float32), np.zeros(8, np.float32)).shape
(4, 8)
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from .frontend.markers import disable, graph_break
from .runtime import CompiledFunction, GraphBreakError, config
from .runtime.compiled_function import clear_shared_caches
from .runtime.explain import ExplainReport, explain
from .version import __version__ as __version__

_compiled: weakref.WeakSet[CompiledFunction] = weakref.WeakSet()


def compile(fn: Callable | None = None, *, backend: str | None = None, fullgraph: bool = False,  # noqa: A001
            dynamic: bool | None = None) -> Any:
    """Compile a NumPy function: ``@ember.compile`` or ``@ember.compile(backend="llvm", fullgraph=True)``.

    The first call traces the function's bytecode into a graph, guarded by what it relied on
    (types, dtypes, shapes, globals); later calls whose guards hold run the compiled code.
    What cannot be captured runs eagerly with the reason recorded (``ember.explain``), or
    raises ``GraphBreakError`` with ``fullgraph=True``. ``backend``: "numpy" (reference
    interpreter) or "llvm" (fused CPU kernels); default ``ember.config.backend``.
    ``dynamic``: None (default) traces a dimension whose size changed between calls as a symbol,
    so one entry serves every size (README, "Dynamic dimensions"); True does so for every
    dimension of the array arguments from the first call; False compiles every shape anew.
    """
    def decorate(function: Callable) -> CompiledFunction:
        compiled = CompiledFunction(function, backend=backend, fullgraph=fullgraph, dynamic=dynamic)
        _compiled.add(compiled)
        return compiled

    return decorate if fn is None else decorate(fn)


def reset() -> None:
    """Forget every compiled entry of every function compiled in this process."""
    for compiled in _compiled:
        compiled.reset()
    clear_shared_caches()


__all__ = ["compile", "explain", "reset", "config", "disable", "graph_break", "GraphBreakError",
           "CompiledFunction", "ExplainReport"]
