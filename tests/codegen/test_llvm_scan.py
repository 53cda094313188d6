"""np.cumsum / np.cumprod as the LLVM backend's own loops: NumPy's values bit for bit (the same
order of adds), on every axis, with and without threads; NumPy's own call for the rest."""
from __future__ import annotations

import numpy as np
import pytest
from ember.codegen.llvm import compile_graph
from ember.codegen.llvm.scan import MIN_ELEMENTS
from ember.ir import Graph, TensorMeta
from ember.runtime.threadpool import ThreadPool

POOLS = {1: ThreadPool(1), 2: ThreadPool(2)}


def scan_graph(op: str, shape: tuple, dtype: str, axis) -> Graph:
    g = Graph()
    x = g.add_input("x", TensorMeta(shape, np.dtype(dtype)))
    g.set_outputs([g.call(op, x, axis=axis)])
    return g


def values(shape: tuple, dtype: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "i":
        return rng.integers(-1000, 1000, shape).astype(dtype)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    x.flat[::97] = np.nan
    x.flat[5::89] = np.inf
    return x


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "nancumsum", "nancumprod"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("shape, axis", [((40, 70), 0), ((40, 70), 1), ((40, 70), -1), ((6, 9, 50), 1),
                                         ((6, 9, 50), 0), ((3000,), 0), ((30, 50), None), ((2, 1500), 0),
                                         ((1, 1), 0), ((5,), None)])
@pytest.mark.parametrize("threads", [1, 2])
def test_scans_are_numpys_bit_for_bit(op, dtype, shape, axis, threads, monkeypatch):
    monkeypatch.setattr("ember.codegen.llvm.scan.MIN_PARALLEL_ELEMENTS", 1)
    monkeypatch.setattr("ember.codegen.llvm.scan.MIN_ELEMENTS", 1)  # the kernel, not NumPy's call
    artifact = compile_graph(scan_graph(op, shape, dtype, axis), pool=POOLS[threads], num_threads=threads)
    assert "codegen/llvm/scan.py" in artifact.source
    x = values(shape, dtype)
    with np.errstate(all="ignore"):
        want = getattr(np, op)(x, axis=axis)
        got = artifact([x])[0]
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)  # (integers wrap around as NumPy's do)


@pytest.mark.parametrize("make", [lambda: values((60, 40), "float32").T, lambda: values((60, 80), "float32")[:, ::2],
                                  lambda: values((3, 3), "float32"), lambda: values((0, 40), "float32")])
def test_other_layouts_and_small_or_empty_arrays_are_numpys_call(make):
    x = make()
    assert not x.flags.c_contiguous or x.size < MIN_ELEMENTS
    artifact = compile_graph(scan_graph("cumsum", x.shape, "float32", 0))
    np.testing.assert_array_equal(artifact([x])[0], np.cumsum(x, axis=0))


def test_other_dtypes_stay_numpys():
    """int32 sums to int64 and float16 rounds per step: NumPy's loops, not this kernel's."""
    for dtype in ("int32", "float16", "bool"):
        artifact = compile_graph(scan_graph("cumsum", (50, 40), dtype, 1))
        assert "scan.py" not in artifact.source
        x = values((50, 40), "float32").astype(dtype)
        np.testing.assert_array_equal(artifact([x])[0], np.cumsum(x, axis=1))
