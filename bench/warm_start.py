"""Compile time in a new process whose disk cache is warm: what a user's next script pays.

``ember bench --warm-start`` runs, for each workload after its table row was measured (so the
kernels are in the disk cache), a fresh Python that imports Ember, compiles the workload and
makes one call; the child reports how long ``import ember`` and that first call took::

    ember bench --workloads softmax --warm-start    # the table's rows, then these times

The child runs as a user's script does: import, decorate the workload (``@ember.compile`` runs
at definition), make the inputs, call. The first call counts what the first compile of a new
process still pays then: tracing, passes, fusion, code generation, loading the kernels' object
code from the cache, and whatever of importing the code generator (llvmlite: 50-80 ms), which
decorating starts on a background thread, has not finished beside the making of the inputs.
``script`` is the whole: from ``import ember`` to the first result.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WarmStart:
    """One workload's new-process times, or why there are none."""

    name: str
    import_s: float | None = None
    first_call_s: float | None = None
    compile_s: float | None = None  # Ember's own count: tracing to loaded code, breaks' resumes included
    script_s: float | None = None  # import ember, decorate, make the inputs, the first call
    error: str | None = None


# Run by a new interpreter: argv is the package, the workload, the scale and the backend ("" for default).
_CHILD = """
import importlib, json, sys, time
start = time.perf_counter()
package = importlib.import_module(sys.argv[1])
imported = time.perf_counter()
first_call, compile_s = importlib.import_module(sys.argv[1] + ".bench.warm_start").first_call(package, *sys.argv[2:])
print(json.dumps({"import_s": imported - start, "first_call_s": first_call, "compile_s": compile_s,
                  "script_s": time.perf_counter() - start}))
"""


def measure_warm_start(name: str, scale: float, backend: str | None = None, timeout_s: float = 120.0) -> WarmStart:
    """Time ``import ember`` and the first call of workload ``name`` in a new interpreter."""
    package = __package__.rpartition(".")[0]
    command = [sys.executable, "-c", _CHILD, package, name, repr(scale), backend or ""]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return WarmStart(name, error=f"no answer in {timeout_s:g} s")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return WarmStart(name, error=f"exit {done.returncode}: {last}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return WarmStart(name, report["import_s"], report["first_call_s"], report["compile_s"], report["script_s"])


def first_call(package, name: str, scale: str, backend: str) -> tuple[float, float | None]:
    """Seconds the first call of ``package.compile(workload)`` takes (tracing, compiling and
    running: a first run also pays page faults on fresh outputs), and of that the compiling,
    as the compiled function recorded it (None if it keeps no such record). Decorated before
    the inputs are made, as in a script."""
    from .workloads import get_workload
    workload = get_workload(name)
    compiled = package.compile(workload.fn, **({"backend": backend} if backend else {}))
    inputs = workload.make_inputs(scale=float(scale))
    begin = time.perf_counter()
    compiled(*inputs)
    return time.perf_counter() - begin, _compile_seconds(compiled)


def _compile_seconds(compiled) -> float | None:
    if not hasattr(compiled, "entries"):
        return None
    own = sum(entry.compile_seconds for entry in compiled.entries)
    return own + sum(_compile_seconds(child) or 0.0 for child in getattr(compiled, "children", []))


def format_warm_starts(starts: list[WarmStart]) -> str:
    lines = ["\nin a new process with the disk cache warm: import ember (numpy included); the first call; "
             "of which compiling (tracing to loaded kernels); the script (import, decorate, inputs, first call)"]
    for start in starts:
        if start.import_s is None or start.first_call_s is None or start.compile_s is None or start.script_s is None:
            lines.append(f"  {start.name:<14} n/a: {start.error}")
        else:
            lines.append(f"  {start.name:<14} import {start.import_s * 1e3:6.1f} ms   "
                         f"first call {start.first_call_s * 1e3:6.1f} ms   compile {start.compile_s * 1e3:6.1f} ms   "
                         f"script {start.script_s * 1e3:6.1f} ms")
    return "\n".join(lines) + "\n"
