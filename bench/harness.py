"""Measure one workload: NumPy eager against a compiled version (and peers), in one process.

For each workload, in this order:

1. make the inputs and compute eager's result, the oracle;
2. compile (``ember.reset()`` first, when it exists) and make the first call, timed: the
   **compile time** is that call minus one compiled call (the compiled median, measured in
   step 5; the eager median where it has none), so it counts tracing, passes and code
   generation, and reads a warm on-disk kernel cache if there is one;
3. check the first (tracing) call's result and a warm call's against eager's (``check.py``);
4. prepare each peer the same way (``peers.py``);
5. time eager, compiled and peers **interleaved** (``timing.py``): speedup = eager median /
   compiled median, from the same rounds;
6. measure **peak memory** of eager and of compiled, each in its own run after timing; the
   compiled run starts with no output buffers kept for reuse, so its outputs count as
   allocations, as eager's do.

A failure to compile or run is recorded for the table and the bench goes on.
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .check import Check, check_unchanged, compare, tolerance_note, worst
from .timing import (
    DEFAULT_POLICY,
    Timing,
    TimingPolicy,
    measure,
    measure_interleaved,
    peak_memory,
    timed_call,
)
from .workloads import Workload

CompileFn = Callable[..., Callable[..., Any]]


@dataclass(frozen=True, slots=True)
class Contender:
    """An implementation of a workload, checked against eager and ready to time."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    first_call_s: float
    check: Check
    note: str = ""  # e.g. why (part of) it runs eagerly


class PeerLike(Protocol):
    @property
    def name(self) -> str: ...

    def prepare(self, workload: Workload, args: Sequence[Any], expected: Any) -> Contender | str: ...


@dataclass(frozen=True, slots=True)
class RunResult:
    """One implementation of a workload (Ember compiled, or a peer): all optional on failure."""

    timing: Timing | None = None
    speedup: float | None = None  # eager median / this median
    first_call_s: float | None = None
    compile_s: float | None = None  # first_call_s - this median (eager's if none), floored at 0
    peak_bytes: int | None = None
    check: Check | None = None
    error: str | None = None  # why there is no timing (compile failure, peer not installed, ...)
    note: str = ""  # what the compiler reported: graph breaks, running eagerly


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


def phases(peer_names: Sequence[str] = ()) -> list[str]:
    """The progress steps of :func:`run_workload`, in order."""
    return ["inputs", "compile", *peer_names, "timing", "memory"]


def copy_args(args: Sequence[Any]) -> tuple[Any, ...]:
    """Fresh copies of the array arguments, so a call that writes to them is caught."""
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _error(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"


def prepare_compiled(workload: Workload, args: Sequence[Any], expected: Any, compile_fn: CompileFn,
                     compile_kwargs: dict[str, Any],
                     reset: Callable[[], None] | None = None) -> Contender | str:
    """Compile ``workload.fn``, time its first call and check two calls against eager's result."""
    try:
        if reset is not None:
            reset()
        compiled = compile_fn(workload.fn, **compile_kwargs)
        first_args = copy_args(args)
        first_out, first_call_s = timed_call(compiled, first_args)
        warm_args = copy_args(args)
        warm_out = compiled(*warm_args)
    except Exception as exc:  # the bench reports a failure and goes on with the next workload
        return _error(exc)
    check = worst([compare(expected, first_out, workload, "first call"), check_unchanged(args, first_args),
                   compare(expected, warm_out, workload, "warm call"), check_unchanged(args, warm_args)])
    return Contender(compiled, tuple(args), first_call_s, check, fallback_note(compiled))


def fallback_note(compiled: Any) -> str:
    """The first line of what Ember's ``stages["breaks"]`` says (graph breaks, or why it runs
    eagerly), or "": a 1.0x speedup from running eagerly must not pass for a compiled result."""
    try:
        stages = getattr(compiled, "stages", None)
        text = stages.get("breaks", "") if isinstance(stages, dict) else ""
    except Exception as exc:  # reading a stage must never fail the bench
        return f"could not read compiled.stages: {_error(exc)}"
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def _time_all(eager: Callable[..., Any], args: Sequence[Any], contenders: dict[str, Contender],
              policy: TimingPolicy) -> tuple[Timing, dict[str, Timing | str]]:
    """Eager's timing and each contender's (or why it failed), interleaved where all run."""
    names = list(contenders)
    try:
        eager_timing, *timings = measure_interleaved(
            [(eager, args), *((contenders[n].fn, contenders[n].args) for n in names)], policy)
        return eager_timing, dict(zip(names, timings, strict=True))
    except Exception:  # find out which contender fails, and time the others one by one
        results: dict[str, Timing | str] = {}
        for name in names:
            try:
                results[name] = measure(contenders[name].fn, contenders[name].args, policy)
            except Exception as exc:
                results[name] = f"while timing: {_error(exc)}"
        return measure(eager, args, policy), results


def _result(prepared: Contender | str, timing: Timing | str | None, eager: Timing,
            peak_bytes: int | None = None) -> RunResult:
    if isinstance(prepared, str):
        return RunResult(error=prepared)
    one_call = timing.median_s if isinstance(timing, Timing) else eager.median_s
    compile_s = max(0.0, prepared.first_call_s - one_call)
    if not isinstance(timing, Timing):
        return RunResult(first_call_s=prepared.first_call_s, compile_s=compile_s, check=prepared.check,
                         error=timing or "not timed", note=prepared.note)
    return RunResult(timing, eager.median_s / timing.median_s, prepared.first_call_s, compile_s, peak_bytes,
                     prepared.check, note=prepared.note)


def run_workload(workload: Workload, *, scale: float, compile_fn: CompileFn,
                 compile_kwargs: dict[str, Any] | None = None, policy: TimingPolicy = DEFAULT_POLICY,
                 reset: Callable[[], None] | None = None, peers: Sequence[PeerLike] = (),
                 on_phase: Callable[[str], None] = lambda phase: None,
                 release_kept: Callable[[], None] = lambda: None) -> WorkloadResult:
    """Eager, compiled and (optionally) peer numbers for one workload: see the module docstring.
    ``release_kept()`` makes the compiler forget output buffers kept for reuse, so that the
    compiled peak counts the outputs as allocations, as eager's does."""
    on_phase("inputs")
    args = workload.make_inputs(scale)
    expected = workload.fn(*copy_args(args))
    on_phase("compile")
    prepared: dict[str, Contender | str] = {
        "compiled": prepare_compiled(workload, args, expected, compile_fn, dict(compile_kwargs or {}), reset)}
    for peer in peers:
        on_phase(peer.name)
        prepared[peer.name] = peer.prepare(workload, args, expected)
    on_phase("timing")
    ready = {name: c for name, c in prepared.items() if isinstance(c, Contender)}
    gc.collect()  # the first calls' outputs and copies are garbage now: time without them
    eager, timings = _time_all(workload.fn, args, ready, policy)
    on_phase("memory")
    eager_peak = peak_memory(workload.fn, args)
    compiled_peak = None
    if isinstance(timings.get("compiled"), Timing):
        release_kept()
        compiled_peak = peak_memory(ready["compiled"].fn, args)
    compiled = _result(prepared["compiled"], timings.get("compiled"), eager, compiled_peak)
    peer_results = {peer.name: _result(prepared[peer.name], timings.get(peer.name), eager) for peer in peers}
    return WorkloadResult(workload.name, workload.description, describe_inputs(args), eager, eager_peak,
                          compiled, peer_results, tolerance_note(workload))


# --- naming the inputs --------------------------------------------------------------------


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
    """``f32``, ``i64``, ``bool``, ``c128``."""
    dt = np.dtype(dtype)
    return "bool" if dt.kind == "b" else f"{dt.kind}{dt.itemsize * 8}"
