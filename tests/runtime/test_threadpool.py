"""The thread pool's worker placement: where it can, and never at the cost of a result."""
from __future__ import annotations

import os
import threading
import weakref

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


@pytest.fixture
def caller_on_one_cpu():
    """A pool whose caller stays on one CPU, as placement sees it (pinning the caller itself
    would leave the pool one allowed CPU, which it leaves to the scheduler)."""
    pool = ThreadPool(2)
    cpu = min(os.sched_getaffinity(0))
    pool._placement.getcpu = lambda: cpu
    return pool, cpu


def split_waiting(pool: ThreadPool, caller_waits: bool) -> set[int]:
    """A split in two whose worker chunk finishes first (the caller's chunk waits for it) or last
    (it waits until it has been moved onto the caller's CPU, for at most 5 s); returns the CPUs
    the worker chunk saw itself allowed."""
    worker_done, seen = threading.Event(), []

    def kernel(args):
        if args[-1][2] == 0:  # the caller's chunk
            if caller_waits:
                worker_done.wait(5)
            return
        for _ in range(500):
            seen.append(os.sched_getaffinity(0))
            if caller_waits or len(seen[-1]) == 1 and seen[-1] != seen[0]:
                break
            threading.Event().wait(0.01)
        worker_done.set()

    pool.parallel_for(kernel, (), np.array([0, 2, -1, 2]), 2)
    return seen[-1]


@needs_affinity
def test_a_worker_runs_off_the_callers_cpu_and_takes_it_only_if_still_running(caller_on_one_cpu, monkeypatch):
    pool, cpu = caller_on_one_cpu
    assert pool._placement.active
    assert cpu not in split_waiting(pool, caller_waits=True)
    (worker,) = pool._placement.ids
    assert cpu not in os.sched_getaffinity(worker)  # stays there: it finished first
    moves = []
    monkeypatch.setattr(os, "sched_setaffinity", lambda *args: moves.append(args))
    split_waiting(pool, caller_waits=True)
    assert moves == []  # nothing to move: the next split costs no system call
    monkeypatch.undo()
    assert split_waiting(pool, caller_waits=False) == {cpu}  # handed the caller's CPU
    assert cpu not in split_waiting(pool, caller_waits=True)  # and moved away again


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


def test_workers_hold_no_operand_once_the_split_returns():
    """An output the caller drops must be free again (OutputCache hands it out only then)."""
    pool = ThreadPool(2)
    for _ in range(3):
        operand = np.zeros(10)
        alive = weakref.ref(operand)
        pool.parallel_for(lambda args: None, (operand,), np.array([0, 10, -1, 10]), 2)
        del operand
        assert alive() is None


def test_an_interrupt_while_the_caller_waits_still_waits_for_the_workers():
    """Ctrl-C (here an alarm's handler) raised while the caller waits for its workers: the
    split returns only after them, as a NumPy call would (they write into the caller's arrays)."""
    import signal
    import time

    pool = ThreadPool(2)
    finished: list[int] = []

    def kernel(args):
        if args[-1][2] == 1:  # the worker's chunk
            time.sleep(0.3)
            finished.append(1)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(KeyboardInterrupt):
            pool.parallel_for(kernel, (), np.array([0, 10, -1, 10]), 2)
        assert finished == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_its_own_workers(child_exit_code):
    """Only the forking thread survives a fork: the child's first split must not wait for the
    parent's workers."""
    pool = ThreadPool(2)
    assert split_sum(pool, 100)[0] == 4950
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the split completes
        os._exit(0 if split_sum(pool, 100)[0] == 4950 else 1)
    assert child_exit_code(pid) == 0, "the forked child's split never finished"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_two_threads_first_splitting_in_a_forked_child_both_finish(child_exit_code):
    """The child's workers start once: a thread that saw them restarted must not queue its
    chunks on the parent's queue (which no thread of the child reads) and wait forever."""
    import sys

    pool = ThreadPool(2)
    split_sum(pool, 10)
    for _ in range(20):
        pid = os.fork()
        if pid == 0:
            sys.setswitchinterval(1e-6)
            barrier = threading.Barrier(2)

            def split(barrier: threading.Barrier) -> None:
                barrier.wait()
                split_sum(pool, 10)

            threads = [threading.Thread(target=split, args=(barrier,), daemon=True) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(5)
            os._exit(3 if any(thread.is_alive() for thread in threads) else 0)
        assert child_exit_code(pid) == 0, "a split in the forked child never finished"
