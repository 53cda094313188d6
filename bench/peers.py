"""Other compilers on the same workloads, where installed: torch.compile, jax.jit, numba.

Each peer runs the workload's own NumPy source, as directly as the peer allows:

- ``torch.compile``: the NumPy function itself (torch.compile traces NumPy code and returns
  NumPy arrays), on the same NumPy inputs.
- ``jax.jit``: the function with ``np`` rebound to ``jax.numpy`` (helpers too), on jax arrays
  made once before timing; every timed call waits for its result. float64 is enabled.
- ``numba``: ``numba.njit`` of the function (helpers njit-ed too), on the NumPy inputs.

A peer that is not installed, or cannot compile or run a workload (jax cannot branch on data,
numba has no ``keepdims``), is reported as ``n/a`` with the reason in the JSON. Peak memory is
not measured for peers: their allocators do not report to tracemalloc.
"""
from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FunctionType
from typing import Any, cast

import numpy as np

from .check import compare
from .harness import Contender
from .timing import timed_call
from .workloads import Workload

Setup = tuple[Callable[..., Any], tuple[Any, ...], Callable[[Any], Any]]


def rebind(fn: FunctionType, namespace: Any, wrap: Callable[[FunctionType], Any] = lambda f: f) -> Any:
    """``fn`` with the global ``np`` replaced by ``namespace``, and the functions of its module
    (the helpers it calls) rebound the same way and passed through ``wrap``.

    >>> from ember.bench.workloads import l2norm
    >>> rebind(l2norm, np)(np.ones(4, np.float32))
    np.float32(2.0)
    """
    old_globals = fn.__globals__
    new_globals = dict(old_globals)
    new_globals["np"] = namespace
    for name, value in old_globals.items():
        if isinstance(value, FunctionType) and value.__module__ == fn.__module__:
            clone = FunctionType(value.__code__, new_globals, value.__name__, value.__defaults__,
                                 value.__closure__)
            new_globals[name] = wrap(clone)
    return new_globals[fn.__name__]


def _to_numpy(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return type(value)(_to_numpy(v) for v in value)
    array = np.asarray(value)
    return array[()] if array.ndim == 0 else array  # eager NumPy returns scalars, not 0-d arrays


def _setup_torch(workload: Workload, args: Sequence[Any]) -> Setup:
    torch = importlib.import_module("torch")
    reset = getattr(getattr(torch, "_dynamo", None), "reset", None)
    if reset is not None:
        reset()
    return torch.compile(workload.fn), tuple(args), _to_numpy


def _setup_jax(workload: Workload, args: Sequence[Any]) -> Setup:
    jax = importlib.import_module("jax")
    jnp = importlib.import_module("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    jitted = jax.jit(rebind(cast(FunctionType, workload.fn), jnp))  # (the workloads are plain functions)
    jax_args = tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
    return (lambda *a: jax.block_until_ready(jitted(*a))), jax_args, _to_numpy


def _setup_numba(workload: Workload, args: Sequence[Any]) -> Setup:
    numba = importlib.import_module("numba")
    return rebind(cast(FunctionType, workload.fn), np, numba.njit), tuple(args), _to_numpy


@dataclass(frozen=True, slots=True)
class Peer:
    """A peer compiler: its import name and how to prepare a workload for it."""

    name: str
    module: str
    setup: Callable[[Workload, Sequence[Any]], Setup]

    def unavailable_reason(self) -> str | None:
        """Why this peer cannot run here, or ``None`` when it is importable."""
        if importlib.util.find_spec(self.module) is None:
            return f"{self.module} is not installed"
        return None

    def prepare(self, workload: Workload, args: Sequence[Any], expected: Any) -> Contender | str:
        """Compile ``workload`` for this peer, time its first call and check it against eager's result;
        the reason it cannot, as text, when it cannot."""
        reason = self.unavailable_reason()
        if reason is not None:
            return reason
        try:
            fn, peer_args, to_numpy = self.setup(workload, args)
            out, first_call_s = timed_call(fn, peer_args)
        except Exception as exc:  # a peer that cannot run a workload is a table entry, not a crash
            return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        check = compare(expected, to_numpy(out), workload, "first call")
        return Contender(fn, peer_args, first_call_s, check)


PEERS: tuple[Peer, ...] = (
    Peer("torch.compile", "torch", _setup_torch),
    Peer("jax.jit", "jax", _setup_jax),
    Peer("numba", "numba", _setup_numba),
)
