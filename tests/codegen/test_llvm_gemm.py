"""Ember's own matrix product (codegen/llvm/gemm.py) against NumPy's, shape by shape and layout
by layout; and when the backend chooses it (codegen/llvm/blas.py)."""
from __future__ import annotations

import re

import numpy as np
import pytest
from ember.codegen.llvm import compile_graph, gemm
from ember.codegen.llvm.math import host_has
from ember.ir import Graph, TensorMeta
from ember.runtime.threadpool import ThreadPool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(not host_has("avx512f"), reason="the own product needs AVX-512")

F32, F64 = np.dtype("float32"), np.dtype("float64")
# Sums of the same products in another order (KC blocks) than BLAS's; the data is well scaled.
TOLERANCE = {F32: (1e-4, 1e-4), F64: (1e-12, 1e-12)}
OWN = "own matrix product"
POOL = ThreadPool(2)


@pytest.fixture
def every_size(monkeypatch):
    """The backend takes its own product for every float product it can, however small; yields
    the products the kernel ran (shapes of ``a``), so a test can tell it from NumPy's call."""
    monkeypatch.setattr("ember.codegen.llvm.own_product_faster", lambda threads, found: True)
    monkeypatch.setattr(gemm, "MIN_WORK", 0)
    monkeypatch.setattr(gemm, "MIN_THICKNESS", 0)
    ran: list[tuple[int, ...]] = []
    product = gemm.GemmKernel._product

    def counted(self, a, b, out):
        ran.append(a.shape)
        product(self, a, b, out)

    monkeypatch.setattr(gemm.GemmKernel, "_product", counted)
    return ran


def product_graph(a_shape, b_shape, dtype=F32, op="matmul", transpose_b=False):
    g = Graph("product")
    a = g.add_input("a", TensorMeta(a_shape, dtype))
    b = g.add_input("b", TensorMeta(b_shape[::-1] if transpose_b else b_shape, dtype))
    g.set_outputs([g.call(op, a, g.call("transpose", b, (1, 0)) if transpose_b else b)])
    return g


def normal(shape, dtype, seed, layout="C"):
    """Standard normal values of ``shape`` laid out as ``layout``: C, F, a negative-stride view,
    every other row and column of a bigger array, or a row broadcast (zero stride)."""
    rng = np.random.default_rng(seed)
    if layout == "F":
        return np.asfortranarray(rng.standard_normal(shape).astype(dtype))
    if layout == "reversed":
        return rng.standard_normal(shape).astype(dtype)[::-1, ::-1]
    if layout == "strided":
        return rng.standard_normal((2 * shape[0], 2 * shape[1])).astype(dtype)[::2, ::2]
    if layout == "broadcast":
        return np.broadcast_to(rng.standard_normal((1, shape[1])).astype(dtype), shape)
    return rng.standard_normal(shape).astype(dtype)


def check(differential, ran, a_shape, b_shape, dtype=F32, layouts=("C", "C"), threads=2, **graph_kwargs):
    g = product_graph(a_shape, b_shape, dtype, **graph_kwargs)
    b_stored = b_shape[::-1] if graph_kwargs.get("transpose_b") else b_shape
    before = len(ran)
    artifact = differential(g, lambda: [normal(a_shape, dtype, 0, layouts[0]), normal(b_stored, dtype, 1, layouts[1])],
                            TOLERANCE, num_threads=threads, pool=POOL)
    assert OWN in artifact.describe(), artifact.describe()
    assert len(ran) > before, "the own product never ran"


# (M, K, N) around the blocking's edges: 1, primes, MR = 12 rows, NR = 32 (f32) / 16 (f64)
# columns, KC = 256 deep, MC = 144 rows, several column blocks.
SHAPES = [(1, 1, 1), (1, 7, 1), (12, 256, 32), (13, 257, 33), (11, 255, 31), (145, 300, 65), (144, 512, 64),
          (289, 97, 7), (3, 1000, 500), (500, 3, 300), (7, 600, 1100), (300, 64, 2)]


@pytest.mark.parametrize("m, k, n", SHAPES)
@pytest.mark.parametrize("dtype", [F32, F64])
def test_matches_numpy(differential, every_size, m, k, n, dtype):
    check(differential, every_size, (m, k), (k, n), dtype)


@pytest.mark.parametrize("layouts", [("F", "F"), ("reversed", "C"), ("C", "reversed"), ("strided", "strided"),
                                     ("broadcast", "C"), ("C", "broadcast"), ("F", "strided")])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_any_layout(differential, every_size, layouts, dtype):
    check(differential, every_size, (37, 290), (290, 45), dtype, layouts)


@pytest.mark.parametrize("a_shape, layout", [((3, 37, 50), "C"), ((2, 3, 5, 50), "C"), ((4, 30, 50), "batch last"),
                                             ((1, 1, 50), "C")])
@pytest.mark.parametrize("op", ["matmul", "dot"])
def test_a_stack_of_matrices_times_one(differential, every_size, a_shape, layout, op):
    """``(..., M, K) @ (K, N)``: one product of all the rows (``a`` copied where its rows do not
    lie evenly: batches that are its last axis in memory)."""
    g = Graph("stacked")
    a = g.add_input("a", TensorMeta(a_shape, F32))
    b = g.add_input("b", TensorMeta((50, 40), F32))
    g.set_outputs([g.call(op, a, b)])

    def inputs():
        stored = normal((a_shape[1], a_shape[0] * a_shape[2]), F32, 0).reshape(a_shape[1], a_shape[0], a_shape[2])
        first = stored.transpose(1, 0, 2) if layout == "batch last" else normal(a_shape, F32, 0)
        return [first, normal((50, 40), F32, 1)]

    artifact = differential(g, inputs, TOLERANCE, num_threads=2, pool=POOL)
    assert OWN in artifact.describe()
    assert every_size and every_size[-1] == (int(np.prod(a_shape[:-1])), 50)  # all the rows, in one product
    result = artifact([normal(a_shape, F32, 0), normal((50, 40), F32, 1)])[0]
    assert result.flags.owndata and result.flags.c_contiguous  # as eager's: not a view of a 2-D product


def test_stacks_of_both_are_numpys(every_size):
    g = Graph("batched")
    g.set_outputs([g.call("matmul", g.add_input("a", TensorMeta((3, 20, 30), F32)),
                          g.add_input("b", TensorMeta((3, 30, 10), F32)))])
    assert OWN not in str(compile_graph(g, num_threads=2, pool=POOL).kernel_graph)


def test_transposed_operand_and_dot(differential, every_size):
    check(differential, every_size, (40, 70), (70, 50), transpose_b=True)
    check(differential, every_size, (40, 70), (70, 50), F64, op="dot")


@pytest.mark.parametrize("threads", [1, 2])
def test_one_thread_or_two(differential, every_size, threads):
    check(differential, every_size, (300, 260), (260, 70), threads=threads)


def test_nan_and_infinity_propagate(every_size):
    a = np.random.default_rng(0).standard_normal((30, 40)).astype(F32)
    b = np.random.default_rng(1).standard_normal((40, 50)).astype(F32)
    a[3, 5], a[7, 0], b[2, 9], b[11, 49] = np.nan, np.inf, -np.inf, np.nan
    a[20, :] = 0.0  # 0 * inf: NaN where b's column holds an infinity
    artifact = compile_graph(product_graph(a.shape, b.shape), num_threads=2, pool=POOL)
    got, expected = artifact([a, b])[0], a @ b
    assert every_size
    for where in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(where(got), where(expected), err_msg=where.__name__)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-4, atol=1e-4)


def test_the_product_is_fresh_and_inputs_unchanged(every_size):
    a, b = normal((20, 30), F32, 0), normal((30, 40), F32, 1)
    a_before, b_before = a.copy(), b.copy()
    artifact = compile_graph(product_graph(a.shape, b.shape), num_threads=2, pool=POOL)
    first, second = artifact([a, b])[0], artifact([a, b])[0]
    assert len(every_size) == 2
    assert first.flags.c_contiguous and first.flags.owndata and not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, second)  # the same sums in the same order, call after call
    np.testing.assert_array_equal(a, a_before)
    np.testing.assert_array_equal(b, b_before)


@pytest.mark.parametrize("a_shape, b_shape", [((0, 5), (5, 7)), ((5, 0), (0, 7)), ((5, 7), (7, 0)),
                                              ((3, 5, 0), (0, 7)), ((0, 5, 4), (4, 7)), ((3, 5, 4), (4, 0))])
def test_empty_products_are_numpys(every_size, a_shape, b_shape):
    """Even where every size takes the kernel (an empty one would divide by zero blocks, or
    leave its output unwritten when nothing is summed; a stack's rows with nothing in them
    cannot be reshaped to (-1, 0))."""
    kernel = gemm.GemmKernel(0, 0, F32, POOL, 2)  # addresses never called for these shapes
    a, b = np.ones(a_shape, F32), np.ones(b_shape, F32)
    got = kernel(a, b)
    assert got.shape == (a @ b).shape and got.dtype == F32 and not every_size
    np.testing.assert_array_equal(got, a @ b)


@pytest.mark.parametrize("a_shape, b_shape", [((5, 7), (6, 3)), ((2, 5, 7), (6, 3)), ((5, 7), (2, 7, 3))])
@pytest.mark.parametrize("reference", [np.matmul, np.dot])
def test_what_is_not_a_product_raises_as_numpy(every_size, a_shape, b_shape, reference):
    kernel = gemm.GemmKernel(0, 0, F32, POOL, 2, reference)
    a, b = np.ones(a_shape, F32), np.ones(b_shape, F32)
    try:
        eager = reference(a, b)
    except ValueError as error:
        with pytest.raises(ValueError, match=re.escape(str(error))):
            kernel(a, b)
    else:
        np.testing.assert_array_equal(kernel(a, b), eager)
    assert not every_size


def test_sums_of_underflowed_products_are_positive_zeros(every_size):
    """+0.0 as BLAS gives, where FMAs into +0.0 would keep a negative product's sign."""
    for dtype, tiny in ((F32, 1e-30), (F64, 1e-200)):
        a = np.full((13, 300), tiny, dtype)
        b = np.full((300, 33), -tiny, dtype)
        artifact = compile_graph(product_graph(a.shape, b.shape, dtype), num_threads=2, pool=POOL)
        got = artifact([a, b])[0]
        assert every_size and not np.signbit(got).any() and not got.any()
        np.testing.assert_array_equal(np.signbit(got), np.signbit(a @ b))


def test_reused_outputs_are_written_by_the_product(every_size):
    """With ``reuse_outputs`` a large product writes into a reused buffer, as NumPy's call did."""
    a, b = normal((400, 300), F32, 0), normal((300, 700), F32, 1)
    artifact = compile_graph(product_graph(a.shape, b.shape), num_threads=2, pool=POOL, reuse_outputs=True)
    assert "out=" in artifact.source.split("own matrix product")[0].rsplit("\n", 1)[-1]
    first = artifact([a, b])[0]
    address = first.ctypes.data
    expected = first.copy()
    del first
    second = artifact([a, b])[0]
    assert second.ctypes.data == address and len(every_size) == 2
    np.testing.assert_array_equal(second, expected)
    np.testing.assert_allclose(second, a @ b, rtol=1e-4, atol=1e-4)


def test_small_products_are_numpys_own_call():
    """Below the size where packing pays, the kernel calls NumPy: bit for bit eager's result."""
    a, b = normal((40, 30), F32, 0), normal((30, 20), F32, 1)
    kernel = gemm.GemmKernel(0, 0, F32, None, 1)  # addresses never called for this size
    assert not kernel.worth(40, 30, 20)
    np.testing.assert_array_equal(kernel(a, b), a @ b)
    assert kernel.worth(1024, 1024, 4096) and not kernel.worth(8, 4096, 4096)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(m=st.integers(1, 160), k=st.integers(1, 300), n=st.integers(1, 100), dtype=st.sampled_from([F32, F64]),
       layouts=st.tuples(*[st.sampled_from(["C", "F", "reversed", "strided"])] * 2))
def test_property_matches_numpy(differential, every_size, m, k, n, dtype, layouts):
    check(differential, every_size, (m, k), (k, n), dtype, layouts)
