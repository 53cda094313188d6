"""Timing and peak memory of calls, and the allocator regime they run under.

Time per call: after warm-up, ``samples`` timed samples, each of ``number`` back-to-back
calls; a sample's time divided by ``number`` is one per-call time, and the reported time is the
median over samples. ``number`` is chosen so that one sample lasts at least ``min_sample_s``
(thousands of calls for ``tiny``, one call for big workloads), ``samples`` so that each
implementation is timed for about ``budget_s`` (clamped to ``min_samples..max_samples``, or
fixed by ``repeat``). The garbage collector is off while timing.

Several implementations of one computation (eager, compiled, peers) are timed *interleaved*:
sample 1 of each, then sample 2 of each, and so on, in a new random order each round. On glibc
the cost of a large NumPy temporary depends on the allocator's state (whether its pages are
fresh from the kernel or reused from the heap), which each implementation's own allocations
change; timed one after the other, the same function measured twice in a row differed by 2x.
Interleaving gives every implementation the same conditions; the random order keeps a
periodic disturbance (another process's time slices on a busy machine) from always landing
on the same implementation.

Peak memory: ``tracemalloc`` peak above the baseline during one call, in a separate run (it
slows allocation, so it never runs while timing). NumPy reports its array allocations to
tracemalloc; memory allocated outside NumPy and Python is not seen.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import math
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Call = tuple[Callable[..., Any], Sequence[Any]]  # a function and its arguments
NOISY_RATIO = 1.25  # a median this much above the fastest sample is flagged as noisy


@dataclass(frozen=True, slots=True)
class TimingPolicy:
    """How long to time: see the module docstring."""

    budget_s: float = 0.5
    min_samples: int = 10
    max_samples: int = 100
    min_sample_s: float = 2e-3
    warmup_s: float = 0.05
    repeat: int | None = None  # fixes the number of samples


DEFAULT_POLICY = TimingPolicy()


@dataclass(frozen=True, slots=True)
class Timing:
    """Per-call times of one function: the median and how it was obtained."""

    median_s: float
    min_s: float
    max_s: float
    samples: int
    number: int  # calls per sample

    @property
    def calls(self) -> int:
        return self.samples * self.number

    @property
    def noisy(self) -> bool:
        """The median is well above the fastest sample: something else ran (a busy machine)."""
        return self.median_s > NOISY_RATIO * self.min_s


def _time_calls(fn: Callable[..., Any], args: Sequence[Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn(*args)
    return time.perf_counter() - start


def _warm_up(fn: Callable[..., Any], args: Sequence[Any], policy: TimingPolicy) -> tuple[int, float]:
    """Warm ``fn`` up; return calls per sample and the per-call time seen."""
    per_call = _time_calls(fn, args, 1)
    spent = per_call
    while spent < policy.warmup_s and per_call < policy.warmup_s / 4:
        per_call = min(per_call, _time_calls(fn, args, 1))
        spent += per_call
    # Calibrate with real samples (one call of a 1 us function is mostly timer noise), and
    # keep the fastest: a calibration slowed by another process would make this function's
    # samples shorter than the others', and so less exposed to the next disturbance.
    for _ in range(3):
        number = max(1, math.ceil(policy.min_sample_s / max(per_call, 1e-9)))
        per_call = min(per_call, _time_calls(fn, args, number) / number)
    return max(1, math.ceil(policy.min_sample_s / max(per_call, 1e-9))), per_call


def measure_interleaved(calls: Sequence[Call], policy: TimingPolicy = DEFAULT_POLICY) -> list[Timing]:
    """Median per-call times of each ``fn(*args)``, sampled in alternation (module docstring)."""
    if not calls:
        return []
    calibrated = [_warm_up(fn, args, policy) for fn, args in calls]
    if policy.repeat is not None:
        samples = max(1, policy.repeat)
    else:
        longest = max(number * per_call for number, per_call in calibrated)
        wanted = round(policy.budget_s / max(longest, 1e-9))
        samples = min(policy.max_samples, max(policy.min_samples, wanted))
    times: list[list[float]] = [[] for _ in calls]
    order = list(range(len(calls)))
    shuffle = random.Random(0).shuffle
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(samples):
            shuffle(order)
            for i in order:
                fn, args = calls[i]
                number = calibrated[i][0]
                times[i].append(_time_calls(fn, args, number) / number)
    finally:
        if was_enabled:
            gc.enable()
    return [Timing(statistics.median(seen), min(seen), max(seen), samples, number)
            for seen, (number, _) in zip(times, calibrated, strict=True)]


def measure(fn: Callable[..., Any], args: Sequence[Any], policy: TimingPolicy = DEFAULT_POLICY) -> Timing:
    """Median per-call time of ``fn(*args)`` after warm-up."""
    return measure_interleaved([(fn, args)], policy)[0]


def timed_call(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[Any, float]:
    """``fn(*args)`` and its wall time in seconds."""
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def peak_memory(fn: Callable[..., Any], args: Sequence[Any]) -> int:
    """Bytes allocated at the peak of one call of ``fn(*args)``, above what was live before."""
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        out = fn(*args)
        _, peak = tracemalloc.get_traced_memory()
        del out
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - baseline)


# --- the allocator regime -----------------------------------------------------------------

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)

MALLOC_REGIMES = {
    "default": "glibc as a user's process has it: arrays over a threshold that adapts at run time "
               "get fresh pages from the kernel, smaller ones reuse heap memory",
    "fresh": "every allocation of 128 KiB or more is fresh memory from the kernel (page faults on each "
             "call, NumPy asks for huge pages), the state of a new process",
    "reuse": "freed memory is kept and reused: no page faults on temporaries, the best case for both",
}


def set_malloc_regime(name: str) -> str | None:
    """Put this process's allocator into one of :data:`MALLOC_REGIMES`; an error text if it cannot.

    It changes the whole process for the rest of its life: ``ember bench`` calls it once, first.
    """
    if name not in MALLOC_REGIMES:
        return f"unknown allocator regime {name!r}; choose from {', '.join(MALLOC_REGIMES)}"
    if name == "default":
        return None
    path = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(path), "mallopt", None) if path else None
    if mallopt is None:
        return f"--malloc {name} needs glibc's mallopt, which this C library lacks"
    # Setting a threshold explicitly also switches glibc's run-time adaptation off.
    settings = [(_M_MMAP_THRESHOLD, 128 << 10)] if name == "fresh" else \
        [(_M_MMAP_THRESHOLD, (1 << 31) - 1), (_M_TRIM_THRESHOLD, (1 << 31) - 1)]
    for param, value in settings:
        if mallopt(ctypes.c_int(param), ctypes.c_int(value)) != 1:
            return f"mallopt({param}, {value}) failed"
    return None
