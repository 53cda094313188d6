"""Workloads and the harness that compares NumPy eager with Ember (and peers where installed).

``ember bench`` and ``ember demo`` are :func:`run_bench` and :func:`run_demo`:

>>> from ember.bench import run_bench
>>> run_bench(["--workloads", "tiny", "--repeat", "3", "--no-progress"],
...           compile_fn=lambda fn, **kw: fn)  # doctest: +SKIP

The modules, in the order a run goes through them: ``workloads`` (the NumPy functions and their
inputs), ``harness`` (one workload: compile, check, time, memory), ``check`` (results against
eager), ``timing`` (interleaved medians, tracemalloc peaks, the allocator regime), ``peers``
(torch.compile, jax.jit, numba where installed), ``report`` (table, JSON, plot, progress),
``demo`` (the stages ``ember demo`` prints) and ``cli`` (``ember bench`` and ``ember demo``).
"""
from .check import TOLERANCES
from .cli import run_bench, run_demo
from .harness import WorkloadResult, run_workload
from .timing import TimingPolicy
from .workloads import DEMO_WORKLOADS, WORKLOADS, Workload, get_workload, select_workloads

__all__ = [
    "run_bench", "run_demo", "TOLERANCES", "TimingPolicy", "WorkloadResult", "run_workload",
    "DEMO_WORKLOADS", "WORKLOADS", "Workload", "get_workload", "select_workloads",
]
