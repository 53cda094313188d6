"""Measure one workload: eager NumPy against a compiled version, in one process.

What is measured, and how (the table footer and the JSON ``method`` say the same):

- **Time per call**: after warm-up, ``samples`` timed samples, each of ``number`` back-to-back
  calls; a sample's time divided by ``number`` is one per-call time, and the reported time is
  the median over samples. ``number`` is chosen so that one sample lasts at least
  ``min_sample_s`` (thousands of calls for ``tiny``, one call for big workloads), ``samples``
  so that a measurement lasts about ``budget_s`` (clamped to ``min_samples..max_samples``,
  or fixed by ``repeat``). The garbage collector is off while timing.
- **Compile time**: the first call of a freshly compiled function (``ember.reset()`` first,
  when it exists) minus one eager call (the eager median). It includes tracing, passes and
  code generation, and reads a warm on-disk kernel cache if one exists.
- **Peak memory**: ``tracemalloc`` peak above the baseline during one call, in a separate run
  after timing (tracemalloc slows allocation, so it never runs while timing). NumPy reports
  its array allocations to tracemalloc; memory allocated outside NumPy and Python is not seen.
- **Correctness**: the first (tracing) call's result and a warm call's result are each
  compared with eager's: same structure, type, dtype and shape, values ``allclose`` with the
  per-dtype tolerances of :data:`TOLERANCES` (NaN equal to NaN) unless the workload overrides
  them; inputs must come out of the call unchanged.
"""
from __future__ import annotations

import gc
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .workloads import Workload

CompileFn = Callable[..., Callable[..., Any]]

# (rtol, atol) per result dtype; workloads may loosen them (Workload.rtol/atol, with a note).
TOLERANCES: dict[str, tuple[float, float]] = {
    "float16": (1e-2, 1e-3),
    "float32": (1e-4, 1e-5),
    "float64": (1e-9, 1e-12),
    "complex64": (1e-4, 1e-5),
    "complex128": (1e-9, 1e-12),
}
EXACT = (0.0, 0.0)  # integer and boolean results must match exactly

PHASES = ("inputs", "eager", "compile", "timing", "memory")  # what run_workload reports, before peers


@dataclass(frozen=True, slots=True)
class TimingPolicy:
    """How long to time: see the module docstring."""

    budget_s: float = 0.5
    min_samples: int = 10
    max_samples: int = 100
    min_sample_s: float = 2e-3
    warmup_s: float = 0.05
    repeat: int | None = None  # fixes the number of samples


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


@dataclass(frozen=True, slots=True)
class Check:
    """Compiled (or peer) result against eager: ``ok`` or a reason."""

    ok: bool
    message: str = ""
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0


@dataclass(frozen=True, slots=True)
class RunResult:
    """One implementation of a workload (Ember compiled, or a peer): all optional on failure."""

    timing: Timing | None = None
    speedup: float | None = None  # eager median / this median
    first_call_s: float | None = None
    compile_s: float | None = None  # first_call_s - eager median, floored at 0
    peak_bytes: int | None = None
    check: Check | None = None
    error: str | None = None  # why there is no timing (compile failure, peer not installed, ...)


@dataclass(frozen=True, slots=True)
class WorkloadResult:
    """Everything the table and the JSON show about one workload."""

    name: str
    description: str
    inputs: str  # e.g. "2x 8M f32"
    eager: Timing
    eager_peak_bytes: int
    compiled: RunResult
    peers: dict[str, RunResult] = field(default_factory=dict)
    tolerance_note: str = ""  # set where the workload overrides the per-dtype tolerances

    @property
    def ok(self) -> bool:
        return self.compiled.error is None and self.compiled.check is not None and self.compiled.check.ok


# --- timing -------------------------------------------------------------------------------


def _time_calls(fn: Callable[..., Any], args: Sequence[Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn(*args)
    return time.perf_counter() - start


def measure(fn: Callable[..., Any], args: Sequence[Any], policy: TimingPolicy = TimingPolicy()) -> Timing:
    """Median per-call time of ``fn(*args)`` after warm-up (see the module docstring)."""
    per_call = _time_calls(fn, args, 1)
    spent = per_call
    while spent < policy.warmup_s:
        per_call = _time_calls(fn, args, 1)
        spent += per_call
        if per_call > policy.warmup_s / 4:
            break
    number = max(1, math.ceil(policy.min_sample_s / max(per_call, 1e-9)))
    # Calibrate with a real sample: a single call of a 1 us function is mostly timer noise.
    per_call = _time_calls(fn, args, number) / number
    number = max(1, math.ceil(policy.min_sample_s / max(per_call, 1e-9)))
    if policy.repeat is not None:
        samples = max(1, policy.repeat)
    else:
        wanted = round(policy.budget_s / max(per_call * number, 1e-9))
        samples = min(policy.max_samples, max(policy.min_samples, wanted))
    times = []
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(samples):
            times.append(_time_calls(fn, args, number) / number)
    finally:
        if was_enabled:
            gc.enable()
    return Timing(statistics.median(times), min(times), max(times), samples, number)


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


# --- correctness --------------------------------------------------------------------------


def tolerance(dtype: np.dtype, workload: Workload | None = None) -> tuple[float, float]:
    """(rtol, atol) for comparing results of ``dtype``; a workload's override wins."""
    rtol, atol = TOLERANCES.get(np.dtype(dtype).name, EXACT)
    if workload is not None:
        rtol = workload.rtol if workload.rtol is not None else rtol
        atol = workload.atol if workload.atol is not None else atol
    return rtol, atol


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "ndarray"
    if isinstance(value, np.generic):
        return "NumPy scalar"
    return type(value).__name__


def compare(expected: Any, actual: Any, workload: Workload | None = None, where: str = "result") -> Check:
    """Does ``actual`` equal eager's ``expected``: structure, type, dtype, shape and values?"""
    if isinstance(expected, tuple | list):
        if type(actual) is not type(expected) or len(actual) != len(expected):
            return Check(False, f"{where}: {_kind(expected)} of {len(expected)} expected, "
                                f"got {_kind(actual)}")
        checks = [compare(e, a, workload, f"{where}[{i}]")
                  for i, (e, a) in enumerate(zip(expected, actual, strict=True))]
        bad = [c for c in checks if not c.ok]
        return bad[0] if bad else Check(True, "", max((c.max_abs_err for c in checks), default=0.0),
                                         max((c.max_rel_err for c in checks), default=0.0))
    if not isinstance(expected, np.ndarray | np.generic):
        both_nan = actual != actual and expected != expected
        same = type(actual) is type(expected) and (actual == expected or both_nan)
        return Check(True) if same else Check(False, f"{where}: {expected!r} expected, got {actual!r}")
    if _kind(actual) != _kind(expected):
        return Check(False, f"{where}: {_kind(expected)} expected, got {_kind(actual)}")
    if actual.dtype != expected.dtype:
        return Check(False, f"{where}: dtype {expected.dtype} expected, got {actual.dtype}")
    if actual.shape != expected.shape:
        return Check(False, f"{where}: shape {expected.shape} expected, got {actual.shape}")
    rtol, atol = tolerance(expected.dtype, workload)
    exp, act = np.asarray(expected), np.asarray(actual)
    if exp.size == 0:
        return Check(True)
    if (rtol, atol) == EXACT:
        same = np.array_equal(act, exp)
        return Check(same, "" if same else f"{where}: values differ (exact comparison for {exp.dtype})")
    wide = np.complex128 if exp.dtype.kind == "c" else np.float64
    with np.errstate(all="ignore"):
        both_finite = np.isfinite(exp) & np.isfinite(act)
        diff = np.abs(act.astype(wide) - exp.astype(wide))
        diff = np.where(both_finite, diff, 0.0)
        rel = diff / np.maximum(np.abs(exp.astype(wide)), np.finfo(np.float64).tiny)
        max_abs = float(diff.max())
        max_rel = float(rel.max())
    if np.allclose(act, exp, rtol=rtol, atol=atol, equal_nan=True):
        return Check(True, "", max_abs, max_rel)
    bad = int((~np.isclose(act, exp, rtol=rtol, atol=atol, equal_nan=True)).sum())
    return Check(False, f"{where}: {bad} of {exp.size} values differ beyond rtol={rtol:g} atol={atol:g} "
                        f"(max abs err {max_abs:.3g}, max rel err {max_rel:.3g})", max_abs, max_rel)


def _copy_args(args: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _check_unchanged(original: Sequence[Any], after: Sequence[Any]) -> Check:
    for i, (before, now) in enumerate(zip(original, after, strict=True)):
        if isinstance(before, np.ndarray) and not np.array_equal(before, now, equal_nan=True):
            return Check(False, f"argument {i} was modified by the call (eager leaves it unchanged)")
    return Check(True)


def worst(checks: Sequence[Check]) -> Check:
    """The first failing check, or a passing one with the largest errors seen."""
    for check in checks:
        if not check.ok:
            return check
    return Check(True, "", max((c.max_abs_err for c in checks), default=0.0),
                 max((c.max_rel_err for c in checks), default=0.0))


# --- one workload -------------------------------------------------------------------------


def describe_inputs(args: Sequence[Any]) -> str:
    """The first array argument, how many share its shape and how many others there are:
    "2x 8M f32" (two 1-D arrays of 8 * 2**20), "4096x2048 f32 +2" (and two other arrays)."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if not arrays:
        return "-"
    first = arrays[0]
    same = sum(1 for a in arrays if a.shape == first.shape and a.dtype == first.dtype)
    size = format_count(first.size) if first.ndim == 1 else "x".join(map(str, first.shape))
    text = f"{same}x {size}" if same > 1 else size
    others = len(arrays) - same
    return f"{text} {short_dtype(first.dtype)}" + (f" +{others}" if others else "")


def format_count(n: int) -> str:
    """Element counts the way issue 4 writes them: 8M = 8 * 2**20, 4K = 4 * 2**10."""
    for unit, size in (("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.3g}{unit}"
    return str(n)


def short_dtype(dtype: np.dtype) -> str:
    dt = np.dtype(dtype)
    return {"f": "f", "i": "i", "u": "u", "b": "bool", "c": "c"}.get(dt.kind, dt.kind) + (
        str(dt.itemsize * 8) if dt.kind != "b" else "")


def run_compiled(workload: Workload, args: Sequence[Any], expected: Any, eager: Timing,
                 compile_fn: CompileFn, compile_kwargs: dict[str, Any], policy: TimingPolicy,
                 reset: Callable[[], None] | None = None,
                 on_phase: Callable[[str], None] = lambda phase: None) -> RunResult:
    """Compile ``workload.fn`` with ``compile_fn`` and measure it against eager's numbers."""
    if reset is not None:
        reset()
    try:
        compiled = compile_fn(workload.fn, **compile_kwargs)
        first_args = _copy_args(args)
        first_out, first_call_s = timed_call(compiled, first_args)
    except Exception as exc:  # the bench reports a failure and goes on with the next workload
        return RunResult(error=f"{type(exc).__name__}: {exc}")
    on_phase("timing")
    try:
        warm_args = _copy_args(args)
        checks = [compare(expected, first_out, workload, "first call"), _check_unchanged(args, first_args)]
        checks += [compare(expected, compiled(*warm_args), workload, "warm call"),
                   _check_unchanged(args, warm_args)]
        timing = measure(compiled, args, policy)
        on_phase("memory")
        peak = peak_memory(compiled, args)
    except Exception as exc:
        return RunResult(first_call_s=first_call_s, error=f"{type(exc).__name__}: {exc}")
    return RunResult(timing=timing, speedup=eager.median_s / timing.median_s, first_call_s=first_call_s,
                     compile_s=max(0.0, first_call_s - eager.median_s), peak_bytes=peak, check=worst(checks))


def run_workload(workload: Workload, *, scale: float, compile_fn: CompileFn,
                 compile_kwargs: dict[str, Any] | None = None, policy: TimingPolicy = TimingPolicy(),
                 reset: Callable[[], None] | None = None, peers: Sequence[Any] = (),
                 on_phase: Callable[[str], None] = lambda phase: None) -> WorkloadResult:
    """Eager, compiled and (optionally) peer numbers for one workload.

    ``peers`` are objects with ``name`` and ``run(workload, args, expected, eager, policy)``
    returning a :class:`RunResult` (see ``peers.py``).
    """
    on_phase("inputs")
    args = workload.make_inputs(scale)
    on_phase("eager")
    expected = workload.fn(*_copy_args(args))
    eager = measure(workload.fn, args, policy)
    eager_peak = peak_memory(workload.fn, args)
    on_phase("compile")
    compiled = run_compiled(workload, args, expected, eager, compile_fn, dict(compile_kwargs or {}), policy,
                            reset, on_phase)
    peer_results = {}
    for peer in peers:
        on_phase(peer.name)
        peer_results[peer.name] = peer.run(workload, args, expected, eager, policy)
    return WorkloadResult(workload.name, workload.description, describe_inputs(args), eager, eager_peak,
                          compiled, peer_results, _tolerance_note(workload))


def _tolerance_note(workload: Workload) -> str:
    if workload.rtol is None and workload.atol is None:
        return ""
    limits = [f"{name}={value:g}" for name, value in (("rtol", workload.rtol), ("atol", workload.atol))
              if value is not None]
    return f"{' '.join(limits)} ({workload.tolerance_note})"

