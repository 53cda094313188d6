"""CuPy arrays through ``ember.compile`` on a real GPU: captured, run as Triton kernels, and
equal to CuPy eager (values, dtypes, shapes, Python types, writes into inputs, errors).
Skipped without an NVIDIA GPU and CuPy (CI has none; a GPU session runs them)."""
from __future__ import annotations

import numpy as np
import pytest
from ember.codegen.triton.device import cuda_available, use_interpreter

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(use_interpreter() or not cuda_available(), reason="needs an NVIDIA GPU")]
cupy = pytest.importorskip("cupy")

import ember  # noqa: E402
from ember.bench.check import compare  # noqa: E402
from ember.bench.workloads import get_workload  # noqa: E402
from ember.runtime.errors import GraphBreakError  # noqa: E402

WORKLOADS = ["elementwise", "gelu", "softmax", "layernorm", "l2norm", "black_scholes", "jacobi", "with_break",
             "tiny", "mlp", "attention"]
SCALES = {"mlp": 1 / 64, "attention": 1 / 4, "tiny": 1.0}


def to_host(value):
    if isinstance(value, tuple | list):
        return type(value)(to_host(v) for v in value)
    return cupy.asnumpy(value) if isinstance(value, cupy.ndarray) else value


def on_device(args):
    return [cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]


def compiled_on_gpu(compiled) -> bool:
    return any("@triton.jit" in entry.stages.get("triton", "") for entry in compiled.entries)


@pytest.mark.parametrize("name", WORKLOADS)
def test_workload_runs_as_kernels_and_matches_cupy_eager(name):
    workload = get_workload(name)
    args = on_device(workload.make_inputs(scale=SCALES.get(name, 1 / 64)))
    kept = [a.copy() if isinstance(a, cupy.ndarray) else a for a in args]
    compiled = ember.compile(workload.fn)  # no backend named: CuPy inputs choose triton
    want = workload.fn(*[a.copy() if isinstance(a, cupy.ndarray) else a for a in args])
    got = compiled(*args)
    assert type(got) is type(want)
    check = compare(to_host(want), to_host(got), workload)
    assert check.ok, check.message
    assert compiled_on_gpu(compiled), compiled.entries[-1].stages.get("breaks")
    for before, after in zip(kept, args, strict=True):
        if isinstance(after, cupy.ndarray):
            assert bool((before == after).all()), "an input changed"
    assert compare(to_host(want), to_host(compiled(*args)), workload).ok  # the cached entry


def test_in_place_update_reaches_the_callers_gpu_array():
    def step(a, b):
        a[1:-1] += np.tanh(b[1:-1]) * 0.5
        return a

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(1000).astype(np.float32), rng.standard_normal(1000).astype(np.float32)
    want = step(cupy.asarray(a), cupy.asarray(b))
    mine = cupy.asarray(a)
    compiled = ember.compile(step)
    got = compiled(mine, cupy.asarray(b))
    assert got is mine and compiled_on_gpu(compiled)
    np.testing.assert_allclose(cupy.asnumpy(mine), cupy.asnumpy(want), rtol=1e-6, atol=1e-6)


def test_reductions_return_what_cupy_returns():
    def stats(x):
        return x.sum(), x.max(axis=0), np.mean(x, axis=-1, keepdims=True)

    x = cupy.asarray(np.random.default_rng(1).standard_normal((37, 129)))
    want, got = stats(x), ember.compile(stats)(x)
    for w, g in zip(want, got, strict=True):
        assert type(g) is type(w) and g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(cupy.asnumpy(g), cupy.asnumpy(w), rtol=1e-12)


def test_views_strides_and_a_new_shape():
    def f(x):
        return np.exp(x[::-1, 1::2].T) * 2.0

    compiled = ember.compile(f)
    for shape in ((20, 31), (7, 9)):
        x = cupy.asarray(np.random.default_rng(2).standard_normal(shape).astype(np.float32))
        got, want = compiled(x), f(x)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(cupy.asnumpy(got), cupy.asnumpy(want), rtol=2e-6)
    assert len(compiled.entries) == 2 and compiled_on_gpu(compiled)
    assert "device_ndarray" in compiled.entries[-1].stages["guards"]


def test_host_and_device_arrays_in_one_call_raise_as_cupy_does():
    def f(x, y):
        return x + y

    x, y = cupy.ones(4, np.float32), np.ones(4, np.float32)
    with pytest.raises(TypeError) as eager:
        f(x, y)
    compiled = ember.compile(f)
    with pytest.raises(type(eager.value)):
        compiled(x, y)
    assert "NumPy and CuPy arrays" in compiled.entries[-1].stages["breaks"]
    with pytest.raises(GraphBreakError, match="NumPy and CuPy"):
        ember.compile(f, fullgraph=True)(x, y)


def test_an_array_numpy_makes_stays_eager():
    def f(x):
        return x * 2.0, np.arange(4.0)

    x = cupy.arange(4.0)
    got = ember.compile(f)(x)
    assert isinstance(got[0], cupy.ndarray) and type(got[1]) is np.ndarray


def test_a_cpu_backend_named_runs_cupy_arrays_eagerly():
    def f(x):
        return np.tanh(x) + 1.0

    x = cupy.linspace(-2, 2, 50)
    compiled = ember.compile(f, backend="llvm")
    got = compiled(x)
    assert isinstance(got, cupy.ndarray) and not compiled_on_gpu(compiled)
    assert "runs on the CPU" in compiled.entries[-1].stages["breaks"]
    np.testing.assert_allclose(cupy.asnumpy(got), cupy.asnumpy(f(x)))


def test_numpy_inputs_of_the_same_function_still_run_on_the_cpu():
    def f(x):
        return np.sin(x) * 3.0

    compiled = ember.compile(f)
    host = np.linspace(0, 1, 64, dtype=np.float32)
    assert type(compiled(host)) is np.ndarray
    assert type(compiled(cupy.asarray(host))) is cupy.ndarray
    assert [e.stages.get("llvm", "") != "" for e in compiled.entries] == [True, False]
