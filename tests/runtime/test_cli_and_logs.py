"""The `ember` command, EMBER_LOGS, ember.config and the debug directory, as a user meets them."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import ember
import numpy as np
import pytest
from ember.cli import main, parse_args_spec

SCRIPT = textwrap.dedent('''
    import numpy as np
    import ember

    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    @ember.compile
    def step(a):
        a[1:-1] = 0.5 * (a[:-2] + a[2:])
        print("stepped")
        return a

    if __name__ == "__main__":
        step(np.ones(8))
''')


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(SCRIPT)
    return path


def test_args_spec_makes_arrays_and_literals():
    x, n, scale, flag = parse_args_spec("f32[4,8], 3, 0.5, b8[2]")
    assert x.dtype == np.float32 and x.shape == (4, 8)
    assert n == 3 and scale == 0.5 and flag.dtype == np.bool_ and flag.shape == (2,)


def test_dump_function_prints_each_stage_with_user_lines(script, capsys):
    assert main(["dump", f"{script}:softmax", "--args", "f32[4,8]", "--backend", "numpy"]) == 0
    out = capsys.readouterr().out
    for stage in ("bytecode", "graph", "optimized", "guards"):
        assert f"=== {stage}: softmax ===" in out
    assert "= exp(" in out and "model.py:6" in out
    assert "x.shape == (4, 8)" in out


def test_dump_llvm_backend_shows_kernels_and_llvm(script, capsys):
    assert main(["dump", f"{script}:softmax", "--args", "f32[4,8]", "--backend", "llvm",
                 "--stage", "kernels", "--stage", "llvm"]) == 0
    out = capsys.readouterr().out
    assert "=== kernels: softmax ===" in out and "kernel k0" in out
    assert "=== llvm: softmax ===" in out and "define" in out


def test_dump_dynamic_shows_symbolic_shapes_guards_and_run_time_sizes(script, capsys):
    assert main(["dump", f"{script}:softmax", "--args", "f32[4,8]", "--backend", "llvm", "--dynamic",
                 "--stage", "graph", "--stage", "guards", "--stage", "kernels"]) == 0
    out = capsys.readouterr().out
    assert "%x: f32[s0, s1]" in out
    assert "x.shape[0] >= 2" in out and "x.shape[1] >= 2" in out and "x.shape == (4, 8)" not in out
    assert "s0 = v_x.shape[0]" in out and "_empty((s0, s1)" in out


def test_dump_script_prints_every_compiled_function_and_its_break(script, capsys):
    assert main(["dump", str(script), "--stage", "graph", "--stage", "breaks"]) == 0
    out = capsys.readouterr().out
    assert "stepped" in out
    assert "=== graph: step ===" in out and "setitem(%a" in out
    assert "=== breaks: step ===" in out and "builtins.print" in out


def test_dump_of_a_function_that_runs_eagerly_says_why(tmp_path, capsys):
    path = tmp_path / "guarded.py"
    path.write_text("import numpy as np\n\ndef f(x):\n    x[0] = 1.0\n    try:\n        return np.sin(x)\n"
                    "    except ValueError:\n        return x\n")
    assert main(["dump", f"{path}:f", "--args", "f32[4]", "--stage", "kernels"]) == 0
    out = capsys.readouterr().out
    assert "=== kernels: f runs eagerly ===" in out
    assert f"{path}:6: a try block in a function that writes into arrays" in out


def test_dump_dot_is_graphviz_text_with_a_cluster_per_kernel(script, capsys):
    assert main(["dump", f"{script}:softmax", "--args", "f32[4,8]", "--backend", "llvm", "--stage", "dot"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("// === dot: softmax ===\ndigraph")  # a DOT comment: the output pipes into dot
    assert 'subgraph "cluster_k0"' in out and "= exp" in out


def test_dump_of_a_call_that_raises_still_shows_what_compiled(tmp_path, capsys):
    path = tmp_path / "gather.py"
    path.write_text("def f(x, idx):\n    return x[idx] * 2.0\n")
    assert main(["dump", f"{path}:f", "--args", "f32[4], i64[3]", "--stage", "kernels"]) == 1  # idx up to 99
    out = capsys.readouterr().out
    assert "advanced_index(%x, (%idx,))" in out
    assert "# the call raised IndexError: index" in out and "random" in out


def test_explain_command(script, capsys):
    assert main(["explain", f"{script}:softmax", "--args", "f32[4,8]"]) == 0
    out = capsys.readouterr().out
    assert "1 graph(s), 0 graph break(s)" in out


def test_ember_logs_reach_logging(monkeypatch, caplog):
    monkeypatch.setenv("EMBER_LOGS", "graph,guards")

    def f(x):
        return np.tanh(x) * 2.0

    with caplog.at_level(logging.INFO, logger="ember"):
        ember.compile(f)(np.ones(3))
    stages = {record.name for record in caplog.records}
    assert {"ember.graph", "ember.guards"} <= stages
    assert "ember.bytecode" not in stages
    assert any("tanh" in record.getMessage() for record in caplog.records if record.name == "ember.graph")


def test_ember_logs_from_any_program_via_the_environment(script, tmp_path):
    env = dict(os.environ, EMBER_LOGS="graph,breaks")
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[ember.graph]" in done.stderr and "setitem" in done.stderr
    assert "[ember.breaks]" in done.stderr and "model.py:12" in done.stderr


def test_config_patch_and_environment(monkeypatch):
    assert ember.config.recompile_limit == 8
    with ember.config.patch(recompile_limit=2, backend="numpy"):
        assert ember.config.recompile_limit == 2 and ember.config.backend == "numpy"
    assert ember.config.recompile_limit == 8
    with pytest.raises(AttributeError):
        with ember.config.patch(no_such_setting=1):
            pass
    monkeypatch.setenv("EMBER_RECOMPILE_LIMIT", "3")
    assert type(ember.config)().recompile_limit == 3


def test_debug_dir_holds_steppable_generated_code(tmp_path):
    def f(x):
        return x + 1.0

    with ember.config.patch(debug_dir=str(tmp_path)):
        compiled = ember.compile(f, backend="numpy")
        compiled(np.ones(2))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert any(n.endswith("guards.py") for n in names) and any(n.endswith("wrapper.py") for n in names)
    wrapper = next(p for p in tmp_path.iterdir() if p.name.endswith("wrapper.py"))
    assert compiled.entries[0].run.__code__.co_filename == str(wrapper)
    assert "def run_f(x):" in wrapper.read_text()


def test_compiled_code_that_raises_where_eager_does_not_is_reported_once(caplog):
    """An error that compiled code raises where eager runs without one is Ember's bug: the call
    returns eager's result, and a warning says so once per entry. An except clause that explains
    the error (tests/frontend/test_capture_try.py) says nothing."""
    from ember.runtime.frame_wrapper import Failed

    def double(x):
        return x * 2

    def guarded(x):
        try:
            return np.linalg.inv(x)
        except np.linalg.LinAlgError:
            return x * 0

    compiled, handled = ember.compile(double), ember.compile(guarded)
    compiled(np.arange(3.0))
    handled(np.eye(2))
    compiled.entries[0].run = lambda *args: Failed(RuntimeError("a kernel that fails"))  # stands in for a bug
    with caplog.at_level(logging.WARNING, logger="ember"):
        results = [compiled(np.arange(3.0)) for _ in range(3)]
        assert np.array_equal(handled(np.zeros((2, 2))), np.zeros((2, 2)))
    assert all(np.array_equal(r, np.arange(3.0) * 2) for r in results)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"{double.__qualname__}: compiled code raised RuntimeError: a kernel that fails where "
                        "eager did not; the call ran eagerly (an Ember bug: EMBER_LOGS=all shows the stages)"]
