"""Workloads and the harness that compares NumPy eager with Ember (and peers where installed).

``ember bench`` and ``ember demo`` are :func:`run_bench` and :func:`run_demo`:

>>> from ember.bench import run_bench
>>> run_bench(["--workloads", "tiny", "--repeat", "3", "--no-progress"],
...           compile_fn=lambda fn, **kw: fn)  # doctest: +SKIP
"""
from .cli import run_bench, run_demo
from .harness import TOLERANCES, TimingPolicy, WorkloadResult, run_workload
from .workloads import DEMO_WORKLOADS, WORKLOADS, Workload, get_workload, select_workloads

__all__ = [
    "run_bench", "run_demo", "TOLERANCES", "TimingPolicy", "WorkloadResult", "run_workload",
    "DEMO_WORKLOADS", "WORKLOADS", "Workload", "get_workload", "select_workloads",
]
