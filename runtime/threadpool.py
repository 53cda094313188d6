"""A persistent pool of worker threads for splitting a kernel's outer loop.

Kernels are ctypes functions (``CFUNCTYPE``), which release the GIL while they run, so
plain threads run them in parallel. ``parallel_for`` splits the range ``[dims[0], dims[1])``
of a kernel's first outer axis into one chunk per thread (``dims[2]`` is set to the chunk's
number, which kernels that reduce into per-chunk partials use), runs the first chunk on the
calling thread and the others on the workers, and returns when all are done. A split costs
~30 us (the wake-up of a sleeping worker), so the backend only splits kernels that run longer.

Where the workers run (Linux; elsewhere the scheduler decides alone): away from the calling
thread's CPU while the work is split, and, once the caller has finished its own chunk and a
worker still runs a while later (a quarter of the caller's time, at least 0.1 ms), a single
worker is moved onto the caller's CPU. Without this, a thread that keeps a core
busy (OpenBLAS's worker spins for ~0.1 s after every multi-threaded matmul) left both Ember
threads sharing the other core: the fused attention kernel took 6.7-7.1 ms right after a NumPy
matmul against 3.8 ms alone; with it, 4.2 ms (medians of 40, 2 cores).

>>> import numpy as np
>>> pool = ThreadPool(2)
>>> seen = []
>>> pool.parallel_for(lambda args: seen.append(args[-1][:3].tolist()), (), np.array([0, 10, -1, 10]), 2)
>>> sorted(seen)
[[0, 5, 0], [5, 10, 1]]
"""
from __future__ import annotations

import collections
import ctypes
import os
import queue
import threading
import time
from collections.abc import Callable

import numpy as np

HAND_OVER_AFTER_S = 1e-4  # least wait for the workers before one may take the caller's CPU


class ThreadPool:
    """Worker threads that live as long as the process (daemon threads). A process forked from
    this one has none of them (only the forking thread survives a fork): its first split starts
    its own."""

    def __init__(self, num_threads: int | None = None):
        self.num_threads = max(1, num_threads or os.cpu_count() or 1)
        self._start_workers()

    def _start_workers(self) -> None:
        tasks: queue.SimpleQueue = queue.SimpleQueue()
        workers = [threading.Thread(target=_work, args=(tasks,), name=f"ember-worker-{i}", daemon=True)
                   for i in range(self.num_threads - 1)]
        for worker in workers:
            worker.start()
        self._tasks, self._workers = tasks, workers
        self._placement = _Placement([w.native_id for w in workers])
        self._process = os.getpid()  # (last: another thread that sees it sees the rest)

    def chunk_count(self, start: int, stop: int, num_threads: int) -> int:
        """How many chunks ``parallel_for`` makes of ``[start, stop)``."""
        return max(1, min(num_threads, self.num_threads, stop - start))

    def parallel_for(self, kernel: Callable, operands: tuple, dims: np.ndarray, num_threads: int) -> None:
        """Run ``kernel(operands + (chunk_dims,))`` over chunks of ``[dims[0], dims[1])``."""
        start, stop = int(dims[0]), int(dims[1])
        chunks = self.chunk_count(start, stop, num_threads)
        bounds = [start + (stop - start) * i // chunks for i in range(chunks + 1)]
        parts = []
        for i in range(chunks):
            part = dims.copy()
            part[0], part[1], part[2] = bounds[i], bounds[i + 1], i
            parts.append(part)
        if chunks == 1:
            kernel(operands + (parts[0],))
            return
        if self._process != os.getpid():
            with _LOCK:
                if self._process != os.getpid():
                    self._start_workers()
        split = _Split([operands + (part,) for part in parts[1:]])
        caller_cpu = self._placement.away_from_caller()
        try:
            for _ in parts[1:]:
                self._tasks.put((kernel, split))
            started = time.perf_counter()
            kernel(operands + (parts[0],))
            # Workers start ~30 us late: give them a while before moving one onto this CPU.
            if not split.wait(max(HAND_OVER_AFTER_S, (time.perf_counter() - started) / 4)):
                self._placement.hand_over(caller_cpu)
        except BaseException:
            split.pending.clear()  # (a chunk no worker has begun never will)
            raise
        finally:
            # Until no worker runs, whatever is raised meanwhile (_Split); written out here, not
            # called: a call is one more place where Python runs a signal's handler.
            interrupt: BaseException | None = None
            while True:
                try:
                    if interrupt is not None:
                        split.pending.clear()  # (a chunk no worker has begun never will)
                    while split.pending or split.running:
                        split.wait(0.01)  # (polls: pending emptied by the caller releases nothing)
                    break
                except BaseException as error:  # noqa: BLE001 - raised once the workers are done
                    interrupt = interrupt or error
            if interrupt is not None:
                raise interrupt
        if split.errors:
            raise split.errors[0]


def _work(tasks: queue.SimpleQueue) -> None:
    while True:
        kernel, split = tasks.get()
        while split.run_one(kernel):
            pass
        kernel = split = None


class _Split:
    """The chunks of one ``parallel_for`` that workers run: those none has taken, and how many
    run. The caller waits until none does, whatever is raised meanwhile (Ctrl-C): the workers
    write into arrays the caller gets back. So the calling thread only reads the count and
    empties ``pending`` (single operations, which a signal cannot split); workers change both
    under ``lock``, counting a chunk as running before they take it, and the one that leaves
    nothing running or pending releases ``finished`` (a plain lock: a wait on it that a signal
    interrupts leaves it as it was, where an Event's condition could be left broken). What is
    left: a second interrupt raised in the few bytecodes that catch the first (a flood of
    signals), which Python code cannot close."""

    __slots__ = ("pending", "running", "lock", "finished", "released", "errors")

    def __init__(self, tasks: list[tuple]):
        self.pending = collections.deque(tasks)
        self.running = 0
        self.lock = threading.Lock()
        self.finished = threading.Lock()
        self.finished.acquire()
        self.released = False
        self.errors: list[BaseException] = []

    def run_one(self, kernel: Callable) -> bool:
        """Run a chunk no worker has taken (on a worker thread); False when none is left."""
        with self.lock:
            self.running += 1
            args = self.pending.popleft() if self.pending else None
            if args is None:
                self._finished_one()
                return False
        try:
            kernel(args)
        except BaseException as error:  # noqa: BLE001 - re-raised on the calling thread
            self.errors.append(error)
        finally:
            # Drop the operands before the caller may return: an output array the caller
            # then lets go must have no other reference, or its OutputCache cannot reuse it.
            args = None
            with self.lock:
                self._finished_one()
        return True

    def _finished_one(self) -> None:
        self.running -= 1
        if not self.running and not self.pending and not self.released:
            self.released = True
            self.finished.release()

    def wait(self, timeout: float) -> bool:
        """Whether every chunk has run, waiting up to ``timeout`` seconds for it."""
        if self.finished.acquire(timeout=timeout):
            self.finished.release()
            return True
        return False


class _Placement:
    """Worker CPU affinity around one split (module docstring); gives up for good on any error.
    The workers stay where the last split left them, so a caller that keeps its CPU pays no
    system call: each move costs ~25 us here (a split measured 31 us unplaced, 84-114 us when
    every split moved the workers away and back)."""

    def __init__(self, worker_ids: list[int | None]):
        self.ids = [i for i in worker_ids if i is not None]
        self.getcpu = _sched_getcpu()
        self.active = bool(self.ids) and self.getcpu is not None and hasattr(os, "sched_setaffinity")
        self.placed: set[int] | None = None  # the CPUs the workers may use now; None: any

    def away_from_caller(self) -> int | None:
        """Keep the workers off the calling thread's CPU; returns that CPU (None: not placing)."""
        if not self.active or self.getcpu is None:
            return None
        try:
            cpu = self.getcpu()
            if self.placed is not None and cpu not in self.placed:
                return cpu  # away already
            allowed = os.sched_getaffinity(0)
            if len(self.ids) >= len(allowed) or cpu not in allowed:  # more threads than CPUs: leave it
                return None
            self._move(allowed - {cpu})
            return cpu
        except OSError:
            self.active = False
            return None

    def hand_over(self, cpu: int | None) -> None:
        """The caller is done with its chunk and workers still run: one worker may take its CPU,
        several any CPU."""
        if cpu is None or not self.active:
            return
        try:
            self._move({cpu} if len(self.ids) == 1 else os.sched_getaffinity(0))
        except OSError:
            self.active = False

    def _move(self, cpus: set[int]) -> None:
        self.placed = None  # unknown until every worker has moved
        for worker in self.ids:
            os.sched_setaffinity(worker, cpus)
        self.placed = cpus


def _sched_getcpu() -> Callable[[], int] | None:
    try:
        return ctypes.CDLL(None).sched_getcpu  # glibc and musl
    except (OSError, AttributeError):
        return None


_SHARED: dict[int, ThreadPool] = {}
_LOCK = threading.Lock()


def _after_fork() -> None:
    global _LOCK
    _LOCK = threading.Lock()  # (another thread may have held it when the process forked)


os.register_at_fork(after_in_child=_after_fork)


def shared_pool(num_threads: int = 0) -> ThreadPool:
    """The process-wide pool for ``num_threads`` (0: one thread per core)."""
    count = num_threads or os.cpu_count() or 1
    with _LOCK:
        if count not in _SHARED:
            _SHARED[count] = ThreadPool(count)
        return _SHARED[count]
