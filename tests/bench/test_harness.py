"""One workload end to end: a stand-in compile, wrong and failing compilers, a fake peer."""
from __future__ import annotations

import time

import numpy as np
from ember.bench.check import compare
from ember.bench.harness import Contender, describe_inputs, format_count, run_workload
from ember.bench.timing import TimingPolicy, timed_call
from ember.bench.workloads import get_workload

QUICK = TimingPolicy(budget_s=0.005, min_samples=2, max_samples=5, min_sample_s=1e-4, warmup_s=0.001)
TINY = get_workload("tiny")


def stand_in(fn, **kwargs):
    return fn


def test_describe_inputs():
    assert format_count(8 << 20) == "8M" and format_count(3000) == "2.93K" and format_count(100) == "100"
    assert describe_inputs((np.zeros(8 << 20, np.float32),) * 2) == "2x 8M f32"
    assert describe_inputs((np.zeros((4, 6)), np.zeros(6), 0.5)) == "4x6 f64 +1"
    assert describe_inputs((np.zeros(3, bool), 1)) == "3 bool" and describe_inputs((1.0,)) == "-"


def test_run_workload_with_stand_in_compile():
    phases = []
    result = run_workload(TINY, scale=1.0, compile_fn=stand_in, policy=QUICK, on_phase=phases.append)
    assert phases == ["inputs", "compile", "timing", "memory"]
    assert result.ok and result.compiled.check.ok and result.peers == {}
    assert result.compiled.speedup > 0 and result.compiled.compile_s >= 0
    assert result.compiled.timing.samples == result.eager.samples  # timed in the same rounds
    assert result.eager_peak_bytes > 0 and result.compiled.peak_bytes > 0
    assert result.inputs == "2x 100 f32" and result.tolerance_note == ""


def test_run_workload_marks_wrong_results_mutation_and_errors():
    wrong = run_workload(TINY, scale=1.0, policy=QUICK,
                         compile_fn=lambda fn, **kw: lambda x, y: fn(x, y) + 1e-3)
    assert not wrong.ok and "values differ" in wrong.compiled.check.message
    assert wrong.compiled.timing is not None  # still timed, and marked

    def mutating(fn, **kw):
        def run(x, y):
            out = fn(x, y)
            x[:] = 0.25  # the inputs are random normals: never all 0.25
            return out
        return run
    mutated = run_workload(TINY, scale=1.0, compile_fn=mutating, policy=QUICK)
    assert not mutated.ok and "argument 0 was modified" in mutated.compiled.check.message

    def failing(fn, **kw):
        raise NotImplementedError("no backend\nmore detail")
    failed = run_workload(TINY, scale=1.0, compile_fn=failing, policy=QUICK)
    assert not failed.ok and failed.compiled.error == "NotImplementedError: no backend"
    assert failed.compiled.timing is None and failed.eager.median_s > 0


def test_a_compiled_function_that_fails_while_timing():
    def flaky(fn, **kw):
        calls = []

        def run(*args):
            calls.append(1)
            if len(calls) > 2:
                raise RuntimeError("third call")
            return fn(*args)
        return run
    result = run_workload(TINY, scale=1.0, compile_fn=flaky, policy=QUICK)
    assert result.compiled.error == "while timing: RuntimeError: third call" and result.eager.median_s > 0


def test_run_workload_passes_compile_kwargs_and_resets():
    seen = []
    run_workload(TINY, scale=1.0, policy=QUICK, compile_kwargs={"backend": "numpy"},
                 compile_fn=lambda fn, **kw: seen.append(kw) or fn, reset=lambda: seen.append("reset"))
    assert seen == ["reset", {"backend": "numpy"}]


class FakePeer:
    """A peer that runs eager NumPy: exercises the peer path with nothing installed."""

    def __init__(self, name, reason=None):
        self.name, self.reason = name, reason

    def prepare(self, workload, args, expected):
        if self.reason:
            return self.reason
        out, first_call_s = timed_call(workload.fn, args)
        return Contender(workload.fn, tuple(args), first_call_s, compare(expected, out, workload))


def test_peers_are_timed_with_eager_and_compiled():
    phases = []
    result = run_workload(TINY, scale=1.0, compile_fn=stand_in, policy=QUICK, on_phase=phases.append,
                          peers=[FakePeer("fast"), FakePeer("absent", "absent is not installed")])
    assert phases == ["inputs", "compile", "fast", "absent", "timing", "memory"]
    fast, absent = result.peers["fast"], result.peers["absent"]
    assert fast.check.ok and fast.speedup > 0 and fast.timing.samples == result.eager.samples
    assert fast.peak_bytes is None  # peers' allocators are not seen by tracemalloc
    assert absent.error == "absent is not installed" and absent.timing is None


def test_compile_time_is_the_first_call_minus_a_compiled_call():
    def slow_first_call(fn, **kw):
        calls = []

        def run(*args):
            if not calls:
                time.sleep(0.05)  # stands for tracing and code generation
            calls.append(1)
            return fn(*args)
        return run
    result = run_workload(TINY, scale=1.0, compile_fn=slow_first_call, policy=QUICK)
    c = result.compiled
    assert c.first_call_s >= 0.05 and c.compile_s == c.first_call_s - c.timing.median_s
