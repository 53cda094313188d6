"""The Triton backend end to end: ``ember.compile(fn, backend="triton")`` on small versions
of the bench workloads, against NumPy eager (Triton's interpreter on CPU)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from ember.codegen.triton.device import cuda_available, use_interpreter

if use_interpreter():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # before anything imports triton
pytest.importorskip("torch", reason="the triton backend's interpreter mode needs torch (CPU wheel)")
pytest.importorskip("triton", reason="triton is not installed")

import ember  # noqa: E402
from ember.bench.check import check_unchanged, compare  # noqa: E402
from ember.bench.workloads import get_workload  # noqa: E402

WORKLOADS = ["elementwise", "gelu", "softmax", "layernorm", "l2norm", "black_scholes", "jacobi", "with_break",
             "tiny", "mlp", "attention"]
SCALES = {"mlp": 1 / 4096, "attention": 1 / 64}


def copies(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("name", WORKLOADS)
def test_workload_matches_eager(name):
    workload = get_workload(name)
    args = workload.make_inputs(scale=SCALES.get(name, 1 / 2048))
    compiled = ember.compile(workload.fn, backend="triton", fullgraph=name != "with_break")
    mine = copies(args)
    got = compiled(*mine)
    want = workload.fn(*copies(args))
    check = compare(want, got, workload)
    assert check.ok, check.message
    assert check_unchanged(args, mine).ok
    entry = compiled.entries[-1]
    assert "@triton.jit" in entry.stages.get("triton", ""), entry.stages.get("breaks")
    # A second call hits the cache and gives the same answer.
    again = compiled(*copies(args))
    assert compare(want, again, workload).ok


def test_new_batch_size_reuses_the_kernel_source():
    workload = get_workload("softmax")
    compiled = ember.compile(workload.fn, backend="triton")
    for rows in (2, 5):
        x = workload.make_inputs(scale=rows / 4096)[0]
        assert compare(workload.fn(x), compiled(x), workload).ok
    sources = [e.stages["triton"].split("\n# kernel")[1].split("\n", 2)[2] for e in compiled.entries]
    assert len(set(sources)) == 1


def test_in_place_update_reaches_the_caller():
    def step(a, b):
        a[1:-1] += np.tanh(b[1:-1]) * 0.5
        return a

    a, b = np.linspace(-1, 1, 64), np.linspace(2, 3, 64)
    expected = step(a.copy(), b)
    compiled = ember.compile(step, backend="triton")
    mine = a.copy()
    result = compiled(mine, b)
    assert result is mine
    np.testing.assert_allclose(mine, expected, rtol=1e-12)


def _x_plus_outer(x, y):
    x += y[:, :1] * y[:1, :]
    return x


def _rows_times_every_other_row(x, y):
    t = x[:3] * x[::2]  # two views that start at one address and span 3 and 5 rows
    y += 1
    return t


def _first_row_plus_trace(x, y):
    x[0] += np.diagonal(x).sum()
    y += 1
    return x


@pytest.mark.parametrize("fn, y_shape", [(_x_plus_outer, (6, 5)), (_rows_times_every_other_row, (3,)),
                                         (_first_row_plus_trace, (3,))], ids=["x_plus_outer", "rows", "trace"])
def test_views_that_start_at_one_address(fn, y_shape):
    """Views of one array that start at one address but span different lengths reach the
    kernels as one buffer (Triton's interpreter once raised on them; in a function that writes
    into its inputs the error reached the caller)."""
    x = np.arange(30, dtype=np.float32).reshape(6, 5)
    y = np.arange(np.prod(y_shape), dtype=np.float32).reshape(y_shape)
    want_x, want_y = x.copy(), y.copy()
    want = fn(want_x, want_y)
    compiled = ember.compile(fn, backend="triton")
    got = compiled(x, y)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(x, want_x)
    np.testing.assert_array_equal(y, want_y)
    assert "@triton.jit" in compiled.entries[-1].stages.get("triton", ""), compiled.entries[-1].stages.get("breaks")


def test_an_integer_array_index_runs_on_the_reference_backend():
    """CuPy's indexing does not check bounds, NumPy's does: such a graph is not given to Triton."""
    def pick(x, idx):
        return x[idx] * 2.0

    compiled = ember.compile(pick, backend="triton")
    x = np.linspace(0, 1, 8)
    np.testing.assert_array_equal(compiled(x, np.array([1, 7])), x[[1, 7]] * 2.0)
    assert "triton" not in compiled.entries[0].stages
    with pytest.raises(IndexError, match="out of bounds"):
        compiled(x, np.array([8]))


def test_dump_stage_triton(capsys, tmp_path):
    from ember.cli import main

    script = tmp_path / "tiny.py"
    script.write_text("import numpy as np\n\ndef tiny(x, y):\n    return (x + y) * 2.0 - np.exp(x)\n")
    main(["dump", f"{script}:tiny", "--args", "f32[100], f32[100]", "--backend", "triton", "--stage", "triton"])
    out = capsys.readouterr().out
    assert "=== triton: tiny ===" in out and "@triton.jit" in out


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason="needs an NVIDIA GPU with CuPy")
def test_cupy_inputs_run_on_the_gpu():
    cupy = pytest.importorskip("cupy")
    workload = get_workload("softmax")
    x = workload.make_inputs(scale=1 / 256)[0]
    compiled = ember.compile(workload.fn, backend="triton")
    got = compiled(cupy.asarray(x))
    assert isinstance(got, cupy.ndarray)
    assert compare(workload.fn(x), cupy.asnumpy(got), workload).ok
