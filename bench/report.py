"""Showing results: the fixed-width table, the JSON document, the speedup plot, a progress bar.

The table's format is pinned by a golden test (tests/bench/test_report.py): change it on purpose.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
import os
import platform
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

from .check import TOLERANCES
from .harness import RunResult, WorkloadResult
from .timing import NOISY_RATIO, Timing, TimingPolicy

JSON_FORMAT_VERSION = 1

METHOD = {
    "time": "median per-call time over `samples` timed samples of `number` back-to-back calls each, "
            "after warm-up; gc off while timing",
    "speedup": "eager median / compiled median, measured in the same process; geomean_speedup only over "
               "workloads whose compiled results match eager",
    "compile": "first call of a freshly compiled function (ember.reset() first, where it exists) "
               "minus the compiled median (the eager median where compiled was not timed); includes tracing, "
               "passes and codegen; a warm disk cache shortens it",
    "memory": "tracemalloc peak above the baseline during one call, in a separate run from timing; "
              "sees NumPy and Python allocations only; compiled starts with no output buffers kept "
              "for reuse (between calls Ember keeps up to two per output of 1 MiB or more)",
    "check": "first and warm compiled results against eager: type, dtype, shape, allclose with the "
             "per-dtype tolerances (workload overrides listed), inputs unchanged",
}


# --- units --------------------------------------------------------------------------------


def format_time(seconds: float | None) -> str:
    """``1.52 us``, ``31.2 ms``, ``1.20 s``: three significant digits."""
    if seconds is None:
        return "-"
    if seconds == 0:
        return "0 s"
    for unit, size in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= size:
            return f"{_sig3(seconds / size)} {unit}"
    return f"{_sig3(seconds / 1e-9)} ns"


def _sig3(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def format_ratio(ratio: float | None) -> str:
    """``11.4x``, ``4.0x``, ``0.58x``, ``123x``; ``n/a`` for no ratio."""
    if ratio is None or not math.isfinite(ratio):
        return "n/a"
    if ratio >= 100:
        return f"{ratio:.0f}x"
    # 0.996 prints as 1.0x, not as a 1.00x that reads like a finer measurement than 1.1x
    return f"{ratio:.1f}x" if ratio >= 0.995 else f"{ratio:.2f}x"


def format_bytes(n: int | None) -> str:
    """``512 B``, ``1.2 KiB``, ``64.0 MiB``."""
    if n is None:
        return "-"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def format_calls(n: int | None) -> str:
    """Timed calls: ``16``, ``2500``, ``25k``, ``1.2M``."""
    if n is None:
        return "-"
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    return f"{n / 1e3:.0f}k" if n >= 10_000 else str(n)


# --- the table ----------------------------------------------------------------------------


def _status(run: RunResult) -> str:
    if run.error is not None:
        return "ERROR"
    return "ok" if run.check is not None and run.check.ok else "MISMATCH"


def _check_cell(run: RunResult) -> str:
    return _status(run) + ("*" if run.note else "")


def _peer_cell(run: RunResult) -> str:
    if run.error is not None or run.speedup is None:
        return "n/a"
    return format_ratio(run.speedup) + ("" if run.check is None or run.check.ok else " (wrong)")


def _speedup_cell(r: WorkloadResult) -> str:
    return format_ratio(r.compiled.speedup) + ("~" if _noisy(r) else "")


def _noisy(r: WorkloadResult) -> bool:
    return r.compiled.timing is not None and (r.eager.noisy or r.compiled.timing.noisy)


def _calls(eager: Timing, compiled: Timing | None) -> str:
    return f"{format_calls(eager.calls)}/{format_calls(compiled.calls if compiled else None)}"


def geometric_mean(values: Sequence[float]) -> float | None:
    """The geometric mean of positive values, ``None`` for none."""
    values = [v for v in values if v > 0 and math.isfinite(v)]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def format_table(results: Sequence[WorkloadResult], peer_names: Sequence[str] = ()) -> str:
    """The eager-versus-compiled table, its loud failures and how it was measured."""
    header = ["workload", "inputs", "eager", "compiled", "speedup", "compile", "peak eager", "peak comp",
              "calls e/c", "check", *peer_names]
    right = {"eager", "compiled", "speedup", "compile", "peak eager", "peak comp", "calls e/c", *peer_names}
    rows = []
    for r in results:
        c = r.compiled
        rows.append([r.name, r.inputs, format_time(r.eager.median_s),
                     format_time(c.timing.median_s if c.timing else None), _speedup_cell(r),
                     format_time(c.compile_s), format_bytes(r.eager_peak_bytes), format_bytes(c.peak_bytes),
                     _calls(r.eager, c.timing), _check_cell(c),
                     *(_peer_cell(r.peers[p]) for p in peer_names)])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.rjust(w) if name in right else cell.ljust(w)
                         for cell, w, name in zip(cells, widths, header, strict=True)).rstrip()

    out = [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]
    correct = [r.compiled.speedup for r in results if r.ok and r.compiled.speedup is not None]
    out.append("")
    out.append(f"geometric mean speedup: {format_ratio(geometric_mean(correct))} over the {len(correct)} "
               f"of {len(results)} workloads whose compiled results match eager")
    out.extend(_failures(results, peer_names))
    notes = [f"* {r.name}: {r.compiled.note}" for r in results if r.compiled.note]
    if notes:
        out.extend(["", "* partly or wholly run eagerly, says the compiler:", *notes])
    noisy = [r for r in results if _noisy(r)]
    if noisy:
        out.extend(["", f"~ noisy: a median over {NOISY_RATIO:g}x its fastest sample (a busy machine?); "
                        "fastest-sample numbers:"])
        for r in noisy:
            fastest = r.compiled.timing.min_s if r.compiled.timing is not None else math.nan
            out.append(f"~ {r.name}: eager {format_time(r.eager.min_s)}, compiled {format_time(fastest)}, "
                       f"speedup {format_ratio(r.eager.min_s / fastest)}")
    out.extend(_footnotes(results))
    return "\n".join(out) + "\n"


def _failures(results: Sequence[WorkloadResult], peer_names: Sequence[str]) -> list[str]:
    lines = []
    for r in results:
        c = r.compiled
        if c.error is not None:
            lines.append(f"!!! ERROR    {r.name}: {c.error}")
        elif c.check is not None and not c.check.ok:
            lines.append(f"!!! MISMATCH {r.name}: compiled differs from eager: {c.check.message}")
        for name in peer_names:
            peer = r.peers[name]
            if peer.check is not None and not peer.check.ok:
                lines.append(f"!!! MISMATCH {r.name}: {name} differs from eager: {peer.check.message}")
    return ["", *lines] if lines else []


def _footnotes(results: Sequence[WorkloadResult]) -> list[str]:
    tolerances = ", ".join(f"{short} rtol={TOLERANCES[name][0]:g} atol={TOLERANCES[name][1]:g}"
                           for name, short in (("float32", "f32"), ("float64", "f64")))
    lines = [
        "",
        "eager, compiled: median time per call; calls e/c: timed calls (samples x calls per sample)",
        "compile: first compiled call minus one compiled call; peak: tracemalloc peak during one call"
        " (compiled: with no output buffers kept for reuse; up to two per large output are kept between calls)",
        f"check: compiled vs eager, allclose with {tolerances}, except:",
    ]
    overrides = [f"  {r.name}: {r.tolerance_note}" for r in results if r.tolerance_note]
    if not overrides:
        lines[-1] = lines[-1].removesuffix(", except:")
    return lines + overrides


# --- JSON ---------------------------------------------------------------------------------


def _timing_dict(timing: Timing | None) -> dict[str, Any] | None:
    if timing is None:
        return None
    return {**dataclasses.asdict(timing), "calls": timing.calls, "noisy": timing.noisy}


def _run_dict(run: RunResult, peer: bool = False) -> dict[str, Any]:
    status = "n/a" if peer and run.error is not None else _status(run)  # a peer that cannot run is n/a
    return {
        "status": status,
        "timing": _timing_dict(run.timing), "speedup": run.speedup, "first_call_s": run.first_call_s,
        "compile_s": run.compile_s, "peak_bytes": run.peak_bytes,
        "check": None if run.check is None else dataclasses.asdict(run.check), "error": run.error,
        "note": run.note,
    }


def environment() -> dict[str, Any]:
    """Where the numbers come from, and how busy the machine was."""
    return {"python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform(),
            "machine": platform.machine(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "load_average_1min": load_average()}


def load_average() -> float | None:
    """The 1-minute load average, where the system has one."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def busy_warning(cpu_count: int | None = None, load: float | None = None) -> str:
    """A warning line when other work competes for the CPUs, else ""."""
    cpus = cpu_count or os.cpu_count() or 1
    load = load_average() if load is None else load
    if load is None or load <= 0.5 * cpus:
        return ""
    return (f"warning: the machine is busy (load average {load:.1f} on {cpus} CPUs): timings are noisy, "
            "rerun on a quiet machine before quoting them\n")


def to_json(results: Sequence[WorkloadResult], settings: dict[str, Any],
            policy: TimingPolicy) -> dict[str, Any]:
    """The whole run as one JSON-ready dictionary (see ``METHOD`` for what each number means)."""
    mean = geometric_mean([r.compiled.speedup for r in results if r.ok and r.compiled.speedup is not None])
    return {
        "format": JSON_FORMAT_VERSION,
        "environment": environment(),
        "settings": {**settings, "policy": dataclasses.asdict(policy)},
        "method": METHOD,
        "tolerances": {name: {"rtol": r, "atol": a} for name, (r, a) in TOLERANCES.items()},
        "geomean_speedup": mean,
        "all_ok": all(r.ok for r in results),
        "results": [
            {"name": r.name, "description": r.description, "inputs": r.inputs, "ok": r.ok,
             "tolerance_note": r.tolerance_note,
             "eager": {"timing": _timing_dict(r.eager), "peak_bytes": r.eager_peak_bytes},
             "compiled": _run_dict(r.compiled),
             "peers": {name: _run_dict(run, peer=True) for name, run in r.peers.items()}}
            for r in results
        ],
    }


# --- the plot -----------------------------------------------------------------------------


def write_plot(results: Sequence[WorkloadResult], path: str, peer_names: Sequence[str] = ()) -> str:
    """A bar chart of speedups over eager at ``path``; returns a one-line message either way."""
    try:
        matplotlib = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        plt = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        return f"--plot: matplotlib is not installed, so {path} was not written (pip install matplotlib)"
    series = [("ember", [r.compiled.speedup for r in results])]
    series += [(name, [r.peers[name].speedup for r in results]) for name in peer_names]
    series = [(label, values) for label, values in series if any(v is not None for v in values)]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(results) + 2), 4.5))
    width = 0.8 / max(1, len(series))
    for i, (label, values) in enumerate(series):
        xs = [k + (i - (len(series) - 1) / 2) * width for k in range(len(results))]
        # Bars grow from 1x (as fast as eager) up for speedups and down for slowdowns.
        heights = [v - 1.0 if v is not None else 0.0 for v in values]
        bars = ax.bar(xs, heights, width, bottom=1.0, label=label)
        ax.bar_label(bars, labels=[format_ratio(v) if v is not None else "" for v in values], fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(results)), [r.name for r in results], rotation=30, ha="right")
    ax.set_ylabel("speedup over NumPy eager (x)")
    ax.set_yscale("log")
    ticker = importlib.import_module("matplotlib.ticker")
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda y, _: f"{y:g}x"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return f"wrote {path}"


# --- progress -----------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a terminal, one line per workload otherwise.

    >>> import io
    >>> p = Progress(total=2, stream=io.StringIO())
    >>> p.update(1, "softmax", "eager")
    """

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True, width: int = 24):
        self.total = max(1, total)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_item: str | None = None

    def update(self, done: int, item: str, phase: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            filled = self.width * min(done, self.total) // self.total
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {done}/{self.total} {item}: {phase}".ljust(78))
        elif item != self._last_item:
            self.stream.write(f"[{done}/{self.total}] {item}\n")
        self._last_item = item
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\r" + " " * 78 + "\r")
            self.stream.flush()
