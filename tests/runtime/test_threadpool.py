"""The thread pool's worker placement: where it can, and never at the cost of a result."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from ember.runtime.threadpool import ThreadPool

needs_affinity = pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                                    reason="needs Linux CPU affinity and two CPUs")


def split_sum(pool: ThreadPool, n: int) -> tuple[int, set[str]]:
    seen: list[tuple[int, str]] = []
    lock = threading.Lock()

    def kernel(args):
        dims = args[-1]
        with lock:
            seen.append((int(np.arange(dims[0], dims[1]).sum()), threading.current_thread().name))

    pool.parallel_for(kernel, (), np.array([0, n, -1, n]), pool.num_threads)
    return sum(part for part, _ in seen), {name for _, name in seen}


@needs_affinity
def test_workers_run_off_the_callers_cpu_then_may_take_it():
    pool = ThreadPool(2)
    assert pool._placement.active
    total, threads = split_sum(pool, 1000)
    assert total == sum(range(1000)) and len(threads) == 2
    (worker,) = pool._placement.ids
    allowed = os.sched_getaffinity(0)
    # After the split the one worker was handed the caller's CPU: one CPU, an allowed one.
    assert len(os.sched_getaffinity(worker)) == 1 and os.sched_getaffinity(worker) <= allowed


def test_a_placement_that_fails_turns_itself_off():
    pool = ThreadPool(2)
    pool._placement.ids = [2**22 + 12345]  # no such thread: sched_setaffinity raises
    for _ in range(2):
        total, _ = split_sum(pool, 100)
        assert total == sum(range(100))
    assert not pool._placement.active


@needs_affinity
def test_a_pool_with_a_worker_per_cpu_is_left_to_the_scheduler():
    allowed = os.sched_getaffinity(0)
    pool = ThreadPool(len(allowed) + 1)
    total, _ = split_sum(pool, 1000)
    assert total == sum(range(1000))
    assert all(os.sched_getaffinity(worker) == allowed for worker in pool._placement.ids)
