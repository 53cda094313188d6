"""`ember bench` and `ember demo` end to end, with a stand-in for ember.compile."""
from __future__ import annotations

import io
import json
import types

import numpy as np
import pytest
from ember.bench import cli
from ember.bench.cli import run_bench, run_demo
from ember.bench.demo import collect_stages, format_stages, llvm_slice
from ember.bench.peers import Peer

FAST = ["--scale", "0.001", "--repeat", "2", "--budget", "0.01", "--no-progress"]


def stand_in(fn, **kwargs):
    return fn


def bench(argv, compile_fn=stand_in):
    out, err = io.StringIO(), io.StringIO()
    code = run_bench(argv, compile_fn=compile_fn, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def table(out):
    """The table's lines from the header on (a busy machine adds a warning line above it)."""
    lines = out.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("workload")):]


def test_bench_end_to_end_writes_table_and_json(tmp_path):
    path = tmp_path / "bench.json"
    code, out, err = bench(["--workloads", "tiny,softmax,with_break", *FAST, "--json", str(path)])
    assert code == 0, out + err
    assert out.startswith("ember bench: ") and "scale=0.001" in out.splitlines()[0]
    lines = table(out)
    assert lines[0].split()[:3] == ["workload", "inputs", "eager"]
    assert [line.split()[0] for line in lines[2:5]] == ["tiny", "softmax", "with_break"]
    assert all(line.split()[-1] == "ok" for line in lines[2:5])
    doc = json.loads(path.read_text())
    assert doc["all_ok"] is True and doc["settings"]["scale"] == 0.001
    assert doc["settings"]["policy"]["repeat"] == 2
    assert [r["name"] for r in doc["results"]] == ["tiny", "softmax", "with_break"]
    for result in doc["results"]:
        assert result["eager"]["timing"]["samples"] == 2 and result["eager"]["peak_bytes"] > 0
        compiled = result["compiled"]
        assert compiled["status"] == "ok" and compiled["speedup"] > 0 and compiled["compile_s"] >= 0
        fields = {"median_s", "min_s", "max_s", "samples", "number", "calls", "noisy"}
        assert set(compiled["timing"]) == fields
        assert compiled["check"]["ok"] is True and compiled["peak_bytes"] > 0
    assert f"wrote {path}" in err


def test_bench_marks_a_wrong_compiler_loudly_and_fails():
    def off_by_a_bit(fn, **kwargs):
        return lambda *args: fn(*args) * np.float32(1.001)
    code, out, _ = bench(["--workloads", "tiny", *FAST], compile_fn=off_by_a_bit)
    assert code == 1
    assert "MISMATCH" in out and "!!! MISMATCH tiny: compiled differs from eager" in out


def test_bench_passes_backend_and_reports_peers_as_na(monkeypatch):
    monkeypatch.setattr(Peer, "unavailable_reason", lambda self: f"{self.module} is not installed")
    seen = []
    code, out, err = bench(["--workloads", "tiny", *FAST, "--peers", "--backend", "numpy"],
                           compile_fn=lambda fn, **kw: seen.append(kw) or fn)
    assert code == 0 and seen == [{"backend": "numpy"}]
    header, _, row = table(out)[:3]
    assert header.split()[-3:] == ["torch.compile", "jax.jit", "numba"]
    assert row.split()[-3:] == ["n/a", "n/a", "n/a"]
    assert "peer torch.compile is n/a: torch is not installed" in err


def test_bench_dynamic_compiles_with_dynamic_true_and_says_so():
    seen = []
    code, out, _ = bench(["--workloads", "tiny", *FAST, "--dynamic"], compile_fn=lambda fn, **kw: seen.append(kw) or fn)
    assert code == 0 and seen == [{"dynamic": True}]
    assert "dynamic=True" in out.splitlines()[0]


def test_bench_plot_without_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    code, _, err = bench(["--workloads", "tiny", *FAST, "--plot", str(tmp_path / "s.png")])
    assert code == 0 and "matplotlib is not installed" in err


def test_bench_without_ember_compile(monkeypatch):
    monkeypatch.setattr(cli, "_ember_package", lambda: types.SimpleNamespace())
    code, out, err = bench(["--workloads", "tiny"], compile_fn=None)
    assert code == 2 and out == "" and "no ember.compile" in err


def test_bench_rejects_unknown_workloads(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_bench(["--workloads", "tiny,nope"])
    assert exit_info.value.code == 2 and "no workload 'nope'" in capsys.readouterr().err


def test_demo_with_stand_in_compile(monkeypatch):
    monkeypatch.setattr(cli, "_ember_package", lambda: types.SimpleNamespace())  # no explain, no reset
    out, err = io.StringIO(), io.StringIO()
    code = run_demo(["--scale", "0.001", "--budget", "0.01", "--no-progress"], compile_fn=stand_in,
                    stdout=out, stderr=err)
    text = out.getvalue()
    assert code == 0, text
    assert "compiling softmax, layernorm, gelu, tiny" in text and "exposes no stage dumps" in text
    assert "this Ember shows no guards; skipped" in text
    assert [line.split()[0] for line in text.splitlines() if line.split()[-1:] == ["ok"]] == [
        "softmax", "layernorm", "gelu", "tiny"]


def test_demo_shows_stages_in_order_and_slices_llvm():
    llvm = "\n".join(f"line {i}" for i in range(100))
    compiled = types.SimpleNamespace(
        stages={"llvm": llvm, "guards": "g", "kernels": "k0", "graph": "%0 = exp(%x)"})
    stages, note = collect_stages(None, compiled, None, ())
    assert note == "(stages from compiled.stages)"
    text = format_stages(stages, llvm_lines=3)
    assert text == ("--- graph ---\n%0 = exp(%x)\n\n--- kernels ---\nk0\n\n"
                    "--- llvm ---\nline 0\nline 1\nline 2\n... (97 more lines)\n\n"
                    "(no optimized stage from this backend)\n\n(also guards: see `ember dump`)\n")
    method = types.SimpleNamespace(stages=lambda: {"graph": "g"})
    assert collect_stages(None, method, None, ())[0] == {"graph": "g"}


def test_demo_uses_ember_explain_and_survives_its_failure():
    package = types.SimpleNamespace(explain=lambda fn: lambda *args: "f: 1 graph(s), 0 graph break(s)")
    assert collect_stages(package, object(), None, ()) == (
        {"explain": "f: 1 graph(s), 0 graph break(s)"}, "(stages from ember.explain)")

    def broken(fn):
        raise RuntimeError("boom")
    stages, note = collect_stages(types.SimpleNamespace(explain=broken), object(), None, ())
    assert stages == {} and note == "(ember.explain failed: RuntimeError: boom)"


def test_bench_and_demo_with_the_real_ember_compile():
    import ember
    if not callable(getattr(ember, "compile", None)):
        pytest.skip("ember.compile does not exist yet in this checkout")
    code, out, err = bench(["--workloads", "tiny,with_break", *FAST, "--backend", "numpy"], compile_fn=None)
    assert code == 0, out + err
    assert out.startswith("ember bench: ember.compile, backend=numpy, scale=0.001, malloc=default;")
    assert "* with_break:" in out  # the data-dependent branch is reported, not hidden behind "ok"
    demo_out = io.StringIO()
    code = run_demo(["--scale", "0.001", "--budget", "0.01", "--no-progress", "--backend", "numpy"],
                    stdout=demo_out, stderr=io.StringIO())
    assert code == 0 and "--- graph ---\ngraph softmax(" in demo_out.getvalue()
    # the second batch size made the batch dimension dynamic: one entry now serves every size
    assert "2 cache entries; the newest one's guard" in demo_out.getvalue()
    assert "x.shape[0] >= 2" in demo_out.getvalue()


def test_llvm_slice_starts_at_the_arithmetic():
    ir = ["declare float @expf(float)", "define void @k(ptr %a) {", "entry:", "  %t1 = load ptr, ptr %a",
          "body3:", "  %t2 = load float, ptr %t1", "  %t3 = fmul float %t2, %t2", "  ret void", "}"]
    assert llvm_slice(ir, 3) == "... (4 lines before)\nbody3:\n  %t2 = load float, ptr %t1\n" \
        "  %t3 = fmul float %t2, %t2\n... (2 more lines)"
    assert llvm_slice(ir[:4], 2) == (
        "... (1 lines before)\ndefine void @k(ptr %a) {\nentry:\n... (1 more lines)")
