"""Timing policy, interleaving, peak memory and the allocator regime."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
from ember.bench.timing import TimingPolicy, measure, measure_interleaved, peak_memory, set_malloc_regime

QUICK = TimingPolicy(budget_s=0.005, min_samples=2, max_samples=5, min_sample_s=1e-4, warmup_s=0.001)


def test_measure_batches_fast_calls_and_reports_counts():
    timing = measure(np.negative, (np.ones(10),), QUICK)
    assert 2 <= timing.samples <= 5
    assert timing.number > 1  # a sub-microsecond call is timed in batches
    assert timing.calls == timing.samples * timing.number
    assert 0 < timing.min_s <= timing.median_s <= timing.max_s


def test_measure_repeat_fixes_the_sample_count():
    timing = measure(np.negative, (np.ones(10),), TimingPolicy(repeat=3, min_sample_s=1e-4, warmup_s=0.001))
    assert timing.samples == 3


def test_interleaved_samples_alternate_between_implementations():
    order = []
    calls = [(lambda: order.append("a"), ()), (lambda: order.append("b"), ())]
    first, second = measure_interleaved(calls, TimingPolicy(repeat=3, min_sample_s=0, warmup_s=0))
    assert first.samples == second.samples == 3 and first.number == second.number == 1
    rounds = ["".join(sorted(order[i:i + 2])) for i in range(len(order) - 6, len(order), 2)]
    assert rounds == ["ab", "ab", "ab"]  # each round times each once, in a shuffled order
    assert measure_interleaved([], QUICK) == []


def test_peak_memory_sees_numpy_allocations():
    peak = peak_memory(lambda n: np.ones(n, np.float32) + 1.0, (1 << 20,))
    assert 8 << 20 <= peak < 9 << 20  # the ones and the sum: two 4 MiB arrays live at once


def test_malloc_regimes():
    assert set_malloc_regime("default") is None
    assert "unknown allocator regime 'warm'" in set_malloc_regime("warm")
    # The others change the process for good: try one in a child process.
    code = "from ember.bench.timing import set_malloc_regime as s; print(s('fresh'), s('reuse'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    no_glibc = "--malloc {} needs glibc's mallopt, which this C library lacks"
    assert result.stdout.strip() in ("None None", f"{no_glibc.format('fresh')} {no_glibc.format('reuse')}")
