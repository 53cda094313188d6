"""The harness: timing policy, peak memory, the eager-versus-compiled check, one workload end to end."""
from __future__ import annotations

import numpy as np
import pytest
from ember.bench.harness import (
    TimingPolicy,
    compare,
    describe_inputs,
    format_count,
    measure,
    peak_memory,
    run_workload,
    tolerance,
)
from ember.bench.workloads import get_workload

QUICK = TimingPolicy(budget_s=0.005, min_samples=2, max_samples=5, min_sample_s=1e-4, warmup_s=0.001)


def test_measure_batches_fast_calls_and_reports_counts():
    x = np.ones(10)
    timing = measure(np.negative, (x,), QUICK)
    assert 2 <= timing.samples <= 5
    assert timing.number > 1  # a sub-microsecond call is timed in batches
    assert timing.calls == timing.samples * timing.number
    assert 0 < timing.min_s <= timing.median_s <= timing.max_s


def test_measure_repeat_fixes_the_sample_count():
    timing = measure(np.negative, (np.ones(10),), TimingPolicy(repeat=3, min_sample_s=1e-4, warmup_s=0.001))
    assert timing.samples == 3


def test_peak_memory_sees_numpy_allocations():
    peak = peak_memory(lambda n: np.ones(n, np.float32) + 1.0, (1 << 20,))
    assert 8 << 20 <= peak < 9 << 20  # the ones and the sum: two 4 MiB arrays live at once


def test_tolerances_per_dtype_and_override():
    assert tolerance(np.float32) == (1e-4, 1e-5)
    assert tolerance(np.float64) == (1e-9, 1e-12)
    assert tolerance(np.int64) == (0.0, 0.0)
    assert tolerance(np.float32, get_workload("l2norm")) == (1e-3, 1e-5)


@pytest.mark.parametrize(("expected", "actual", "message"), [
    (np.ones(3, np.float32), np.ones(3, np.float64), "dtype float32 expected, got float64"),
    (np.ones(3, np.float32), np.ones((3, 1), np.float32), "shape (3,) expected, got (3, 1)"),
    (np.float32(1.0), np.array(1.0, np.float32), "NumPy scalar expected, got ndarray"),
    (np.ones(4, np.float32), np.array([1, 1, 1, 1.01], np.float32), "1 of 4 values differ"),
    (np.arange(3), np.array([0, 1, 3]), "values differ (exact comparison for int64)"),
    ((np.ones(2),), [np.ones(2)], "tuple of 1 expected, got list"),
    (np.array([np.nan, 1.0]), np.array([1.0, 1.0]), "1 of 2 values differ"),
])
def test_compare_finds_each_kind_of_difference(expected, actual, message):
    check = compare(expected, actual)
    assert not check.ok and message in check.message


def test_compare_accepts_rounding_and_equal_nans():
    expected = np.array([1.0, np.nan, np.inf, 0.0], np.float32)
    actual = np.array([1.00001, np.nan, np.inf, 1e-6], np.float32)
    check = compare(expected, actual)
    assert check.ok and 0 < check.max_abs_err < 2e-5
    assert compare((np.ones(2), 3.0), (np.ones(2), 3.0)).ok


def test_describe_inputs():
    assert format_count(8 << 20) == "8M" and format_count(3000) == "2.93K" and format_count(100) == "100"
    assert describe_inputs((np.zeros(8 << 20, np.float32),) * 2) == "2x 8M f32"
    assert describe_inputs((np.zeros((4, 6)), np.zeros(6), 0.5)) == "4x6 f64 +1"


def test_run_workload_with_stand_in_compile():
    result = run_workload(get_workload("tiny"), scale=1.0, compile_fn=lambda fn, **kw: fn, policy=QUICK)
    assert result.ok and result.compiled.check.ok
    assert result.compiled.speedup > 0 and result.compiled.compile_s >= 0
    assert result.eager_peak_bytes > 0 and result.compiled.peak_bytes > 0
    assert result.inputs == "2x 100 f32"


def test_run_workload_marks_wrong_results_mutation_and_errors():
    wrong = run_workload(get_workload("tiny"), scale=1.0, policy=QUICK,
                         compile_fn=lambda fn, **kw: lambda x, y: fn(x, y) + 1e-3)
    assert not wrong.ok and "values differ" in wrong.compiled.check.message

    def mutating(fn, **kw):
        def run(x, y):
            out = fn(x, y)
            x[0] = 0.25  # the inputs are random normals: never exactly 0.25
            return out
        return run
    mutated = run_workload(get_workload("tiny"), scale=1.0, compile_fn=mutating, policy=QUICK)
    assert not mutated.ok and "argument 0 was modified" in mutated.compiled.check.message

    def failing(fn, **kw):
        raise NotImplementedError("no backend")
    failed = run_workload(get_workload("tiny"), scale=1.0, compile_fn=failing, policy=QUICK)
    assert not failed.ok and failed.compiled.error == "NotImplementedError: no backend"
    assert failed.compiled.timing is None and failed.eager.median_s > 0


def test_run_workload_passes_compile_kwargs_and_resets():
    seen = []
    run_workload(get_workload("tiny"), scale=1.0, policy=QUICK, compile_kwargs={"backend": "numpy"},
                 compile_fn=lambda fn, **kw: seen.append(kw) or fn, reset=lambda: seen.append("reset"))
    assert seen == ["reset", {"backend": "numpy"}]
