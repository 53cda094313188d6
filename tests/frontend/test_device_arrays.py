"""Which calls with CuPy arrays run eagerly, and why: the decisions the frontend and the entry
builder make before any kernel runs, checked without a GPU.

A stand-in ``cupy`` module (an ndarray subclass with a ``device``) is enough for them: Ember
recognises CuPy's array by its type in ``sys.modules["cupy"]``, and every case here runs
eagerly, where the stand-in computes as NumPy does. What runs on the GPU is checked by
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
    device = types.SimpleNamespace(id=0)


@pytest.fixture
def gpu_array(monkeypatch):
    module = types.ModuleType("cupy")
    module.ndarray = StandInArray
    monkeypatch.setitem(sys.modules, "cupy", module)
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
