"""When the backend takes its own matrix product (codegen/llvm/blas.py): NumPy's BLAS read, and
the rule; these need no AVX-512 themselves."""
from __future__ import annotations

import numpy as np
import pytest
from ember.codegen.llvm import blas, compile_graph
from ember.codegen.llvm.math import host_has
from ember.ir import Graph, TensorMeta
from ember.runtime.threadpool import ThreadPool

F32 = np.dtype("float32")
OWN = "own matrix product"
POOL = ThreadPool(2)


@pytest.mark.parametrize("core, blas_threads, threads, chosen", [
    ("Haswell", 2, 2, True), ("Zen", 2, 2, True), ("Haswell", 2, 1, False), ("Haswell", 4, 3, True),
    ("SkylakeX", 2, 2, False), ("SAPPHIRERAPIDS", 1, 8, False)])
def test_chosen_where_blas_runs_half_width_kernels(core, blas_threads, threads, chosen):
    assert blas.own_product_faster(threads, blas.Blas(core, blas_threads)) is chosen
    assert not blas.own_product_faster(threads, None)  # another BLAS: NumPy's


def test_numpy_blas_is_found():
    found = blas.numpy_blas()
    config = str(np.show_config(mode="dicts")).lower()
    if "openblas" not in config:
        assert found is None
        return
    assert found is not None and found.core and found.threads >= 1


@pytest.mark.skipif(not host_has("avx512f"), reason="the own product needs AVX-512")
@pytest.mark.parametrize("chosen", [True, False])
def test_decision_reaches_the_kernels_stage(monkeypatch, chosen):
    monkeypatch.setattr("ember.codegen.llvm.own_product_faster", lambda threads, found: chosen)
    g = Graph("mlp")
    x = g.add_input("x", TensorMeta((64, 32), F32))
    w = g.add_input("w", TensorMeta((32, 16), F32))
    h = g.call("maximum", g.call("add", g.call("matmul", x, w), 1.0), 0.0)
    ints = g.call("matmul", g.add_input("i", TensorMeta((4, 4), np.dtype("int64"))),
                  g.add_input("j", TensorMeta((4, 4), np.dtype("int64"))))
    g.set_outputs([h, ints])
    steps = str(compile_graph(g, num_threads=2, pool=POOL).kernel_graph)
    assert steps.count(OWN) == int(chosen), steps  # never for integers


@pytest.mark.skipif(not host_has("avx512f"), reason="the own product needs AVX-512")
def test_ember_config_turns_it_off(monkeypatch):
    """``ember.config.own_matmul = False``: NumPy's BLAS for every product, its result bit for bit."""
    import ember

    monkeypatch.setattr("ember.codegen.llvm.own_product_faster", lambda threads, found: True)

    def product(a, b):
        return a @ b

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((600, 500), np.float32), rng.standard_normal((500, 700), np.float32)
    for own in (True, False):
        with ember.config.patch(own_matmul=own):
            compiled = ember.compile(product, backend="llvm")
            result = compiled(a, b)
        assert (OWN in compiled.entries[0].stages["kernels"]) is own
        if not own:
            np.testing.assert_array_equal(result, a @ b)
