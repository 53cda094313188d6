"""The GPU check of issue 5: run on a machine with an NVIDIA GPU, CuPy and triton.

    python -m ember.bench.gpu_check [--scale 1.0] [--repeat 20] [--workloads softmax gelu]

For every bench workload it (1) checks ``ember.compile(fn)`` on CuPy arrays (which choose
the triton backend) against CuPy eager (values, dtypes, shapes, with bench.check's tolerances), then
(2) times compiled versus CuPy eager, and versus ``torch.compile`` of the same NumPy code
(through ``torch.compiler.wrap_numpy`` on CUDA tensors) where torch is installed, with CUDA
events (median of ``repeat`` calls after warm-up), and (3) reports achieved memory bandwidth
(bytes of the inputs and outputs over the compiled time) as a fraction of the device's
measured copy bandwidth (a large device-to-device copy). The table is printed last; copy it
into the closing note with the device name. Targets on an H100: elementwise, gelu, softmax,
layernorm, l2norm and black_scholes at >= 70% of copy bandwidth; every workload faster
than CuPy eager.

Importing this module needs neither CuPy nor a GPU (the table formatting is tested on CPU).
"""
from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MEMORY_BOUND = ("elementwise", "gelu", "softmax", "layernorm", "l2norm", "black_scholes")
TARGET_FRACTION = 0.70


@dataclass(frozen=True, slots=True)
class Row:
    """One workload's result on the GPU (times in seconds, None where not measured)."""

    workload: str
    ok: bool
    message: str = ""
    eager_s: float | None = None
    compiled_s: float | None = None
    torch_s: float | None = None
    bytes_moved: int = 0
    note: str = ""

    @property
    def speedup(self) -> float | None:
        if self.eager_s and self.compiled_s:
            return self.eager_s / self.compiled_s
        return None

    def bandwidth(self) -> float | None:
        """Achieved bytes per second of the compiled call."""
        return self.bytes_moved / self.compiled_s if self.compiled_s else None


def bytes_moved(args: Sequence[Any], result: Any) -> int:
    """Compulsory traffic: every array argument read once, every array result written once."""
    results = result if isinstance(result, tuple | list) else [result]
    return sum(int(getattr(a, "nbytes", 0)) for a in list(args) + list(results))


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f}"


def format_table(rows: Sequence[Row], device: str, copy_bandwidth: float | None) -> str:
    """The closing table: one line per workload, targets marked, failures listed under it."""
    copy_text = "not measured" if copy_bandwidth is None else f"{copy_bandwidth / 1e9:.0f} GB/s"
    header = ["workload", "check", "cupy ms", "ember ms", "speedup", "torch.compile ms", "GB/s", "of copy", "target"]
    lines = [header]
    for row in rows:
        bandwidth = row.bandwidth()
        fraction = bandwidth / copy_bandwidth if bandwidth and copy_bandwidth else None
        if row.workload in MEMORY_BOUND:
            met = fraction is not None and fraction >= TARGET_FRACTION and (row.speedup or 0) > 1
            target = "met" if met else "MISSED"
        else:
            target = "met" if (row.speedup or 0) > 1 else "MISSED"
        if not row.ok:
            target = "FAILED"
        lines.append([
            row.workload, "ok" if row.ok else "FAIL", _ms(row.eager_s), _ms(row.compiled_s),
            "-" if row.speedup is None else f"{row.speedup:.2f}x", _ms(row.torch_s),
            "-" if bandwidth is None else f"{bandwidth / 1e9:.0f}",
            "-" if fraction is None else f"{fraction:.0%}", target,
        ])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [f"GPU check on {device}; measured copy bandwidth {copy_text}"]
    for index, line in enumerate(lines):
        text.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                              for i, (cell, w) in enumerate(zip(line, widths, strict=True))).rstrip())
        if index == 0:
            text.append("  ".join("-" * w for w in widths))
    text += [f"  {row.workload}: {row.message or row.note}" for row in rows if row.message or row.note]
    return "\n".join(text)


# ---------------------------------------------------------------- on the GPU (not run on CPU)


def time_gpu(fn: Callable[[], Any], cupy: Any, repeat: int) -> float:
    """Median seconds of ``fn()`` over ``repeat`` calls, by CUDA events, after warm-up."""
    for _ in range(3):
        fn()
    cupy.cuda.Device().synchronize()
    times = []
    for _ in range(repeat):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop) / 1e3)
    return statistics.median(times)


def copy_bandwidth(cupy: Any, nbytes: int = 1 << 30, repeat: int = 20) -> float:
    """Bytes per second of a device-to-device copy (read + write counted)."""
    src = cupy.ones(nbytes // 4, dtype=cupy.float32)
    dst = cupy.empty_like(src)
    seconds = time_gpu(lambda: dst.__setitem__(Ellipsis, src), cupy, repeat)
    return 2 * nbytes / seconds


def _torch_compiled(workload: Any, args: Sequence[Any]) -> tuple[Callable[[], Any] | None, str]:
    try:
        import torch
    except ImportError:
        return None, "torch not installed"
    try:
        fn = torch.compile(torch.compiler.wrap_numpy(workload.fn))
        targs = [torch.as_tensor(a, device="cuda") if hasattr(a, "__cuda_array_interface__") else a for a in args]
        fn(*targs)
        return (lambda: fn(*targs)), ""
    except Exception as error:  # a peer that cannot run a workload is a note, not a failure
        return None, f"torch.compile: {type(error).__name__}: {str(error).splitlines()[0][:80]}"


def check_workload(workload: Any, scale: float, repeat: int, cupy: Any, torch: bool = True) -> Row:
    import ember

    from .check import compare

    host = workload.make_inputs(scale=scale)
    args = [cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in host]
    fresh = lambda: [a.copy() if hasattr(a, "__cuda_array_interface__") else a for a in args]
    want = workload.fn(*fresh())
    compiled = ember.compile(workload.fn)  # (CuPy inputs: the triton backend)
    got = compiled(*fresh())
    to_host = lambda v: cupy.asnumpy(v) if hasattr(v, "__cuda_array_interface__") else v
    check = compare(to_host(want), to_host(got), workload)
    note = ""
    stages = compiled.entries[-1].stages if compiled.entries else {}
    if "triton" not in stages:
        note = f"not compiled: {stages.get('breaks', 'no entry')}".splitlines()[0]
    if not check.ok:
        return Row(workload.name, False, check.message, note=note)
    eager_s = time_gpu(lambda: workload.fn(*args), cupy, repeat)
    compiled_s = time_gpu(lambda: compiled(*args), cupy, repeat)
    torch_fn, torch_note = _torch_compiled(workload, args) if torch else (None, "")
    torch_s = time_gpu(torch_fn, cupy, repeat) if torch_fn is not None else None
    return Row(workload.name, True, "", eager_s, compiled_s, torch_s, bytes_moved(args, want),
               "; ".join(n for n in (note, torch_note) if n))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--workloads", nargs="*", default=None)
    parser.add_argument("--no-torch", action="store_true", help="skip torch.compile (minutes of compiling)")
    options = parser.parse_args(argv)
    import cupy

    from .workloads import select_workloads

    device = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"].decode()
    bandwidth = copy_bandwidth(cupy)
    rows = []
    for workload in select_workloads(options.workloads):
        try:
            row = check_workload(workload, options.scale, options.repeat, cupy, torch=not options.no_torch)
        except Exception as error:
            row = Row(workload.name, False, f"{type(error).__name__}: {str(error).splitlines()[0][:120]}")
        print(f"{row.workload}: {'ok' if row.ok else 'FAIL'} {row.message or row.note}", flush=True)
        rows.append(row)
    print()
    print(format_table(rows, device, bandwidth))
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
