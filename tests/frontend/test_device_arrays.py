"""Which calls with CuPy arrays run eagerly, and why: the decisions the frontend and the entry
builder make before any kernel runs, checked without a GPU.

A stand-in ``cupy`` module (NumPy's names, and an ndarray subclass with a ``device``) is
enough for them: Ember recognises CuPy's array by its type in ``sys.modules["cupy"]`` and
looks up CuPy's functions there, and every case here runs eagerly, where the stand-in
computes as NumPy does. What runs on the GPU is checked by
tests/codegen/test_triton_cupy.py where there is one.
"""
from __future__ import annotations

import sys
import types

import ember
import numpy as np
import pytest
from ember.frontend.devices import is_device_array
from ember.runtime.errors import GraphBreakError


class StandInArray(np.ndarray):
    device = types.SimpleNamespace(id=0)  # type: ignore[assignment]  # (CuPy's: a Device with an id)


@pytest.fixture
def stand_in_cupy(monkeypatch):
    module = types.ModuleType("cupy")
    module.__dict__.update({name: getattr(np, name) for name in dir(np) if not name.startswith("_")})
    module.ndarray = StandInArray
    module.stream = types.SimpleNamespace(ptr=0)  # (the current stream: the default one)
    module.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDevice=lambda: 0),
                                        get_current_stream=lambda: module.stream)
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module


@pytest.fixture
def gpu_array(stand_in_cupy):
    return lambda values: np.asarray(values, dtype=np.float32).view(StandInArray)


def breaks(compiled) -> str:
    return compiled.entries[-1].stages["breaks"]


def test_only_cupys_own_array_type_counts(gpu_array):
    assert is_device_array(gpu_array([1.0]))
    assert not is_device_array(np.ones(1)) and not is_device_array(gpu_array([1.0]).view(np.ndarray))


def test_without_cupy_imported_nothing_is_a_device_array(monkeypatch):
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    assert not is_device_array(np.ones(1).view(StandInArray))


def test_numpy_and_cupy_arrays_in_one_call_run_eagerly(gpu_array):
    def f(x, y):
        return x * 2.0 + y

    compiled = ember.compile(f)
    got = compiled(gpu_array([1.0, 2.0]), np.ones(2, np.float32))
    np.testing.assert_array_equal(np.asarray(got), [3.0, 5.0])
    assert "NumPy and CuPy arrays in one call" in breaks(compiled)
    with pytest.raises(GraphBreakError, match="NumPy and CuPy"):
        ember.compile(f, fullgraph=True)(gpu_array([1.0]), np.ones(1, np.float32))


@pytest.mark.parametrize("make", [lambda: np.zeros(2, np.float32), lambda: np.array([1.0, 2.0], np.float32)],
                         ids=["zeros", "array"])
def test_an_array_numpy_makes_beside_cupy_arrays_runs_eagerly(gpu_array, make):
    def f(x):
        return x + make()

    compiled = ember.compile(f)
    compiled(gpu_array([1.0, 2.0]))
    assert "makes a NumPy array on the host beside CuPy arrays" in breaks(compiled)


def test_a_cpu_backend_named_runs_cupy_arrays_eagerly_and_says_why(gpu_array):
    def f(x):
        return np.tanh(x) + 1.0

    for backend in ("llvm", "numpy"):
        compiled = ember.compile(f, backend=backend)
        got = compiled(gpu_array([0.5, -0.5]))
        np.testing.assert_allclose(np.asarray(got), np.tanh([0.5, -0.5]) + 1.0, rtol=1e-6)
        assert f"backend={backend!r} runs on the CPU" in breaks(compiled)
        with pytest.raises(GraphBreakError, match="runs on the CPU"):
            ember.compile(f, backend=backend, fullgraph=True)(gpu_array([0.5]))


def test_device_guards_name_the_array_type_and_device(gpu_array):
    def f(x):
        return x * 3.0

    compiled = ember.compile(f, backend="llvm")
    compiled(gpu_array([1.0, 2.0]))
    guards = compiled.entries[-1].stages["guards"]
    assert "type(x) is device_ndarray" in guards and "x.device.id == 0" in guards
    compiled(np.ones(2, np.float32))  # a NumPy array is another kind: compiled for the CPU
    assert len(compiled.entries) == 2 and compiled.entries[-1].stages.get("llvm")


@pytest.mark.parametrize("convert", [np.asarray, np.array, np.ascontiguousarray], ids=lambda f: f.__name__)
def test_a_conversion_to_a_numpy_array_runs_eagerly(gpu_array, convert):
    """NumPy's asarray of a CuPy array raises TypeError in eager code (CuPy converts only when
    asked, with .get()); Ember traces it as the array itself, so it must not compile it."""
    def f(x):
        return convert(x) * 2.0

    compiled = ember.compile(f)
    compiled(gpu_array([1.0, 2.0]))
    assert f"np.{convert.__name__} of a CuPy array" in breaks(compiled)


def test_a_function_cupy_lacks_runs_eagerly(gpu_array, stand_in_cupy, monkeypatch):
    monkeypatch.delattr(stand_in_cupy, "tanh")

    def f(x):
        return np.tanh(x) + np.exp(x)

    compiled = ember.compile(f)
    compiled(gpu_array([1.0, 2.0]))
    assert "np.tanh, which CuPy does not provide" in breaks(compiled)
    compiled = ember.compile(lambda x: np.exp(x) + 1.0, backend="llvm")
    compiled(gpu_array([1.0, 2.0]))
    assert "runs on the CPU" in breaks(compiled)  # (exp is CuPy's: the backend is the reason)


def test_resume_functions_keep_the_backend_each_compile_named():
    """Two compiles of one function share nothing that a named backend decides: where a
    resume function runs CuPy arrays depends on it."""
    def f(x):
        y = x * 2.0
        if y.sum() > 0:
            y = y - 1.0
        return y

    named, chosen = ember.compile(f, backend="llvm"), ember.compile(f)
    named(np.ones(3, np.float32))
    chosen(np.ones(3, np.float32))
    assert named.children and chosen.children
    assert {c._backend for c in named.children} == {"llvm"} and {c._backend for c in chosen.children} == {None}


def test_another_stream_or_gpu_runs_eagerly_until_it_is_the_default_again(gpu_array, stand_in_cupy):
    """Triton launches on the current GPU's default stream: kernels for arrays CuPy works on in
    another stream (or on another GPU) would not run in order with CuPy's own work."""
    def f(x):
        return np.exp(x) * 2.0

    compiled = ember.compile(f, backend="llvm")  # (llvm: the entries stop before any kernel)
    x = gpu_array([1.0, 2.0])
    stand_in_cupy.stream = types.SimpleNamespace(ptr=12345)
    compiled(x)
    assert "a CuPy stream other than the default" in breaks(compiled)
    assert "not launches_in_order(x)" in compiled.entries[-1].stages["guards"]
    stand_in_cupy.stream = types.SimpleNamespace(ptr=0)
    compiled(x)  # the eager entry's guard no longer holds: traced again, now for the default stream
    assert len(compiled.entries) == 2 and "runs on the CPU" in breaks(compiled)
