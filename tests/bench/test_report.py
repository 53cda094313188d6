"""The printed formats: the table is pinned by a golden string, the units by examples."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ember.bench.check import Check
from ember.bench.harness import RunResult, WorkloadResult
from ember.bench.report import (
    Progress,
    busy_warning,
    format_bytes,
    format_ratio,
    format_table,
    format_time,
    geometric_mean,
    to_json,
    write_plot,
)
from ember.bench.timing import Timing, TimingPolicy

OK = Check(True, "", 1e-7, 1e-6)
PEERS = ["torch.compile", "numba"]
NO_NUMBA = RunResult(error="numba is not installed")


def fake_results():
    """Fixed timings: one fast, one wrong, one that failed to compile, one slower than eager."""
    return [
        WorkloadResult("elementwise", "d", "2x 8M f32", Timing(31.2e-3, 30.9e-3, 33.0e-3, 16, 1), 96 << 20,
                       RunResult(Timing(2.74e-3, 2.7e-3, 2.9e-3, 100, 1), 31.2 / 2.74, 0.3133, 0.2821,
                                 32 << 20, OK, note="x.py:3: graph break (print)"),
                       {"torch.compile": RunResult(Timing(2.9e-3, 2.8e-3, 3e-3, 100, 1), 31.2 / 2.9, 1.2,
                                                   1.17, None, OK),
                        "numba": NO_NUMBA}),
        WorkloadResult("softmax", "d", "4096x2048 f32", Timing(17e-3, 16e-3, 18e-3, 29, 1), 64 << 20,
                       RunResult(Timing(4.4e-3, 4.3e-3, 4.6e-3, 100, 1), 17 / 4.4, 0.4, 0.383, 32 << 20,
                                 Check(False, "warm call: 3 of 8388608 values differ beyond rtol=0.0001 "
                                       "atol=1e-05 (max abs err 0.5, max rel err 1)", 0.5, 1.0)),
                       {"torch.compile": RunResult(Timing(5e-3, 5e-3, 5e-3, 10, 1), 17 / 5, 1.0, 0.98, None,
                                                   Check(False, "first call: dtype float32 expected, "
                                                         "got float64")),
                        "numba": RunResult(error="TypingError: keepdims")},
                       "rtol=0.001 (why)"),
        WorkloadResult("mlp", "d", "1024x1024 f32 +4", Timing(0.152, 0.15, 0.16, 10, 1), 20 << 20,
                       RunResult(error="NotImplementedError: matmul"),
                       {"torch.compile": RunResult(error="torch is not installed"), "numba": NO_NUMBA}),
        WorkloadResult("tiny", "d", "2x 100 f32", Timing(1.52e-6, 1.5e-6, 1.7e-6, 100, 1316), 1650,
                       RunResult(Timing(2.8e-6, 2.7e-6, 3e-6, 100, 715), 1.52 / 2.8, 0.0213, 0.0213, 1200,
                                 OK),
                       {"torch.compile": RunResult(Timing(25e-6, 24e-6, 30e-6, 100, 80), 1.52 / 25, 1.5, 1.5,
                                                   None, OK),
                        "numba": NO_NUMBA}),
    ]


GOLDEN = Path(__file__).with_name("table.golden.txt")


def test_table_golden():
    # A deliberate format change: write format_table(fake_results(), PEERS) to the golden file.
    assert format_table(fake_results(), PEERS) == GOLDEN.read_text(encoding="utf-8")


def test_table_without_peers_has_no_peer_columns():
    text = format_table(fake_results()[:1])
    assert text.splitlines()[0].endswith("check")
    assert "except:" not in text  # no workload in it overrides the tolerances


def test_units():
    assert [format_time(t) for t in (1.52e-6, 31.2e-3, 1.2, 4e-10, 0.0, None)] == [
        "1.52 us", "31.2 ms", "1.20 s", "0.40 ns", "0 s", "-"]
    assert [format_ratio(r) for r in (11.44, 4.0, 0.58, 0.996, 123.4, None, float("inf"))] == [
        "11.4x", "4.0x", "0.58x", "1.0x", "123x", "n/a", "n/a"]
    assert [format_bytes(n) for n in (512, 1300, 32 << 20, 3 << 30, None)] == [
        "512 B", "1.3 KiB", "32.0 MiB", "3.0 GiB", "-"]
    assert geometric_mean([2.0, 8.0]) == 4.0 and geometric_mean([]) is None


def test_json_document():
    doc = to_json(fake_results(), {"backend": "llvm", "scale": 1.0}, TimingPolicy())
    assert doc["all_ok"] is False and abs(doc["geomean_speedup"] - (31.2 / 2.74 * 1.52 / 2.8) ** 0.5) < 1e-9
    assert set(doc) >= {"format", "environment", "settings", "method", "tolerances", "results"}
    first, wrong, failed = doc["results"][:3]
    assert first["compiled"]["status"] == "ok" and first["compiled"]["timing"]["calls"] == 100
    assert first["compiled"]["note"] == "x.py:3: graph break (print)"
    assert wrong["compiled"]["status"] == "MISMATCH" and wrong["tolerance_note"] == "rtol=0.001 (why)"
    assert failed["compiled"]["status"] == "ERROR" and failed["compiled"]["timing"] is None
    assert first["peers"]["numba"] == {"status": "n/a", "timing": None, "speedup": None,
                                       "first_call_s": None, "compile_s": None, "peak_bytes": None,
                                       "check": None, "error": "numba is not installed", "note": ""}
    assert wrong["peers"]["torch.compile"]["status"] == "MISMATCH"


def test_plot_without_matplotlib_says_so(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` raise ImportError
    message = write_plot(fake_results(), str(tmp_path / "speedups.png"))
    assert "matplotlib is not installed" in message and not (tmp_path / "speedups.png").exists()


class FakeTerminal:
    def __init__(self, tty):
        self.text, self.tty = "", tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return self.tty


def test_progress_bar_on_a_terminal_and_lines_otherwise():
    term = FakeTerminal(tty=True)
    bar = Progress(4, stream=term, width=8)
    bar.update(2, "softmax", "eager")
    bar.close()
    assert term.text.startswith("\r[####....] 2/4 softmax: eager") and term.text.endswith("\r")
    log = FakeTerminal(tty=False)
    bar = Progress(4, stream=log)
    for step, (item, phase) in enumerate([("a", "eager"), ("a", "compile"), ("b", "eager")]):
        bar.update(step, item, phase)
    assert log.text == "[0/4] a\n[2/4] b\n"


def test_noisy_timings_are_flagged_with_fastest_sample_numbers():
    eager = Timing(3e-3, 1e-3, 4e-3, 10, 1)  # median 3x the fastest sample
    result = WorkloadResult("softmax", "d", "8x8 f32", eager, 100,
                            RunResult(Timing(1e-3, 1e-3, 1e-3, 10, 1), 3.0, 0.1, 0.1, 100, OK))
    text = format_table([result])
    assert text.splitlines()[2].split()[7] == "3.0x~"
    assert "~ softmax: eager 1.00 ms, compiled 1.00 ms, speedup 1.0x" in text


def test_busy_warning():
    assert busy_warning(cpu_count=2, load=0.4) == ""
    warning = busy_warning(cpu_count=2, load=3.6)
    assert warning.startswith("warning: the machine is busy (load average 3.6 on 2 CPUs)")


def test_plot_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed; the no-matplotlib path is tested above")
    path = tmp_path / "speedups.png"
    assert write_plot(fake_results(), str(path), PEERS) == f"wrote {path}"
    assert path.read_bytes().startswith(b"\x89PNG")
