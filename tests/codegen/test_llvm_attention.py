"""The fused attention kernel (codegen/llvm/attention.py) against NumPy's steps, shape by shape."""
from __future__ import annotations

import os

import numpy as np
import pytest
from ember.codegen.llvm import compile_graph
from ember.codegen.llvm.math import host_has
from ember.ir import Graph, TensorMeta
from ember.ir.ops.fused import attention_reference
from ember.runtime.threadpool import ThreadPool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(not host_has("avx512f"), reason="the fused kernel needs AVX-512")

F32, F64 = np.dtype("float32"), np.dtype("float64")
# Two products summed in another order than BLAS's, one division per output instead of per score.
TOLERANCE = {F32: (1e-4, 1e-5), F64: (1e-12, 1e-13)}


def attention_graph(q_shape, kt_shape, v_shape, dtype=F32, scale=(0.125, "multiply"), transposed_k=False,
                    mask=None):
    """``mask``: (how, shape[, fill]) with how "add" (a float mask added), "keep_where" or
    "fill_where" (a bool mask choosing between the scores and the fill)."""
    g = Graph("attn")
    q = g.add_input("q", TensorMeta(q_shape, dtype))
    if transposed_k:  # k given as (..., N, D), used as k.transpose
        k = g.add_input("k", TensorMeta((*kt_shape[:-2], kt_shape[-1], kt_shape[-2]), dtype))
        ndim = len(kt_shape)
        kt = g.call("transpose", k, (*range(ndim - 2), ndim - 1, ndim - 2))
    else:
        kt = g.add_input("kt", TensorMeta(kt_shape, dtype))
    v = g.add_input("v", TensorMeta(v_shape, dtype))
    s = g.call("matmul", q, kt)
    if scale is not None:
        s = g.call(scale[1], s, scale[0])
    if mask is not None:
        how, shape, *fill = mask
        m = g.add_input("mask", TensorMeta(shape, dtype if how == "add" else np.dtype(bool)))
        s = (g.call("add", s, m) if how == "add" else g.call("where", m, s, *fill) if how == "keep_where"
             else g.call("where", m, *fill, s))
    e = g.call("exp", g.call("subtract", s, g.call("max", s, axis=(len(q_shape) - 1,), keepdims=True)))
    p = g.call("divide", e, g.call("sum", e, axis=(len(q_shape) - 1,), keepdims=True))
    g.set_outputs([g.call("matmul", p, v)])
    return g


def normal_inputs(shapes, dtype=F32):
    """A factory of the same standard normal inputs on every call (the oracle calls it twice)."""
    return lambda: [np.random.default_rng(i).standard_normal(s).astype(dtype) for i, s in enumerate(shapes)]


def check(differential, g, make_inputs, **compile_kwargs):
    artifact = differential(g, make_inputs, TOLERANCE, **compile_kwargs)
    assert "one fused kernel" in artifact.describe(), artifact.describe()
    return artifact


# (batch, M, D, N, Dv): ones, primes, rows not a multiple of the 6-row tile, N not a multiple
# of the 32-column block, several 64-column output panels, a ragged last panel.
SHAPES = [((), 1, 1, 1, 1), ((1,), 7, 5, 13, 3), ((2,), 13, 64, 100, 70), ((3,), 6, 16, 33, 17),
          ((2, 2), 12, 8, 32, 64), ((1,), 61, 3, 257, 130), ((2,), 1, 128, 64, 16)]


@pytest.mark.parametrize("batch, m, d, n, dv", SHAPES)
@pytest.mark.parametrize("dtype", [F32, F64])
def test_matches_numpy_steps(differential, batch, m, d, n, dv, dtype):
    g = attention_graph((*batch, m, d), (*batch, d, n), (*batch, n, dv), dtype, transposed_k=True)
    check(differential, g, normal_inputs([(*batch, m, d), (*batch, n, d), (*batch, n, dv)], dtype))


@pytest.mark.parametrize("scale", [None, (0.125, "multiply"), (8, "divide"), (3, "multiply"),
                                   (np.float32(0.3), "multiply"), (np.float64(np.sqrt(8)), "divide")])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_each_scaling(differential, scale, dtype):
    shapes = [(2, 9, 8), (2, 8, 40), (2, 40, 8)]
    g = attention_graph(*shapes, dtype=dtype, scale=scale)
    if "one fused kernel" not in str(compile_graph(g).kernel_graph):
        assert dtype == F32 and isinstance(scale[0], np.float64)  # promotes the scores: left alone
        return
    check(differential, g, normal_inputs(shapes, dtype))


def test_any_strides(differential):
    """q transposed and reversed, kt a plain array, v with a column step (copied to unit stride)."""
    def make():
        rng = np.random.default_rng(2)
        q = rng.standard_normal((3, 16, 20)).astype(F32).transpose(0, 2, 1)[:, ::-1]
        kt = rng.standard_normal((3, 16, 45)).astype(F32)
        v = rng.standard_normal((3, 45, 24)).astype(F32)[:, :, ::2]
        return [q, kt, v]

    check(differential, attention_graph((3, 20, 16), (3, 16, 45), (3, 45, 12)), make)


def test_nan_and_infinity_rows_come_out_as_numpys(differential):
    """A NaN score, +inf and -inf scores (overflowing products), and an all -inf row."""
    def make():
        q = np.random.default_rng(3).standard_normal((1, 8, 4)).astype(F32)
        q[0, 1, 0] = np.nan
        q[0, 2] = 1e30   # scores of +-inf and NaN
        q[0, 3] = -1e30
        kt = np.abs(np.random.default_rng(4).standard_normal((1, 4, 20))).astype(F32)
        kt[0, :, 5] = 1e30
        v = np.random.default_rng(5).standard_normal((1, 20, 8)).astype(F32)
        return [q, kt, v]

    check(differential, attention_graph((1, 8, 4), (1, 4, 20), (1, 20, 8)), make)


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_share_tiles(differential, threads):
    shapes = [(4, 70, 32), (4, 32, 150), (4, 150, 40)]  # above the size where it splits
    pool = ThreadPool(threads)
    splits = []
    real_split = pool.parallel_for
    pool.parallel_for = lambda kernel, operands, dims, n: (splits.append(n), real_split(kernel, operands, dims, n))
    check(differential, attention_graph(*shapes), normal_inputs(shapes), pool=pool, num_threads=threads)
    assert splits == [threads]  # one split of the fused kernel, a chunk per thread


def mask_value(how, shape, seed=7):
    """Odd seeds give a bool mask that keeps one run of columns per row (as a causal mask does),
    sometimes none: whole column blocks of a tile go unused (the kernel skips them for -inf)."""
    rng = np.random.default_rng(seed)
    if how == "add":
        return np.where(rng.random(shape) < 0.3, -np.inf, rng.standard_normal(shape)).astype(F32)
    if seed % 2 == 0 or not shape:
        return rng.random(shape) < 0.7
    columns = np.arange(shape[-1])
    first = rng.integers(0, shape[-1] + 1, (*shape[:-1], 1))
    keep = (columns >= first) & (columns < first + rng.integers(0, shape[-1] + 1, (*shape[:-1], 1)))
    return keep if how == "keep_where" else ~keep


@pytest.mark.parametrize("how, fill", [("add", ()), ("keep_where", (-np.inf,)), ("keep_where", (-1e9,)),
                                       ("fill_where", (-np.inf,)), ("fill_where", (-10000.0,))])
@pytest.mark.parametrize("mask_shape", [(37,), (1, 37), (20, 37), (3, 20, 37), (3, 1, 37)])
def test_masks(differential, how, fill, mask_shape):
    shapes = [(3, 20, 16), (3, 16, 37), (3, 37, 24)]
    g = attention_graph(*shapes, mask=(how, mask_shape, *fill))
    check(differential, g, lambda: [*normal_inputs(shapes)(), mask_value(how, mask_shape)])


def test_a_causal_mask_with_a_row_masked_out_entirely(differential):
    """The first row keeps nothing: NaN, as NumPy's (exp(-inf - -inf)); the others are causal."""
    shapes = [(2, 64, 32), (2, 32, 64), (2, 64, 32)]

    def make():
        causal = np.tril(np.ones((64, 64), bool), -1)
        return [*normal_inputs(shapes)(), causal]

    g = attention_graph(*shapes, mask=("keep_where", (64, 64), -np.inf))
    check(differential, g, make, pool=ThreadPool(2), num_threads=2)


def fused_kernel(artifact):
    return next(value for name, value in artifact.run.__globals__.items() if name.startswith("_fused_"))


@pytest.mark.parametrize("how", ["keep_where", "fill_where"])
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("mask_shape", [(200, 200), (2, 200, 200)])
def test_a_causal_mask_skips_the_blocks_it_masks_out_with_eagers_values(differential, how, dtype, mask_shape):
    shapes = [(2, 200, 24), (2, 24, 200), (2, 200, 40)]

    def make():
        causal = np.tril(np.ones(mask_shape, bool))
        return [*normal_inputs(shapes, dtype)(), causal if how == "keep_where" else ~causal]

    g = attention_graph(*shapes, dtype=dtype, mask=(how, mask_shape, -np.inf))
    artifact = check(differential, g, make, pool=ThreadPool(2), num_threads=2)
    q, kt, v, mask = make()
    mask3 = np.broadcast_to(mask, (2, 200, 200))
    bounds = fused_kernel(artifact)._column_bounds(mask3, v, 200, 200, 224)
    block = 32 if dtype == F32 else 16
    rows_end = np.minimum(np.arange(0, 200, 6) + 6, 200)   # a causal tile keeps columns < its last row + 1
    expected_hi = np.minimum(-(-rows_end // block) * block, 224)
    assert (bounds[:, 0] == 0).all() and (bounds.reshape(2, -1, 2)[:, :, 1] == expected_hi).all()


def test_skipping_changes_no_bit_of_the_result():
    """The same kernel on the same inputs with every tile's full column range: identical output."""
    shapes = [(3, 90, 16), (3, 16, 120), (3, 120, 20)]
    g = attention_graph(*shapes, mask=("keep_where", (90, 120), -np.inf))
    kernel = fused_kernel(compile_graph(g))
    q, kt, v = normal_inputs(shapes)()
    mask = np.tril(np.ones((90, 120), bool), 10)
    skipped = kernel(q, kt, v, mask)
    full_range = kernel._column_bounds
    kernel._column_bounds = lambda mask3, v3, m, n, npad: np.tile([0, npad], (len(mask3) * -(-m // 6), 1))
    try:
        dense = kernel(q, kt, v, mask)
    finally:
        kernel._column_bounds = full_range
    assert np.array_equal(skipped, dense, equal_nan=True)


@pytest.mark.parametrize("poison", [np.inf, np.nan])
def test_a_value_row_that_is_not_finite_turns_off_skipping_as_eagers_product_spreads_it(differential, poison):
    """A masked-out key's weight is 0, and 0 * inf is NaN in eager's product: no tile skips."""
    shapes = [(1, 40, 8), (1, 8, 64), (1, 64, 8)]

    def make():
        q, kt, v = normal_inputs(shapes)()
        v[0, 63, 2] = poison
        return [q, kt, v, np.tril(np.ones((40, 64), bool))]

    check(differential, attention_graph(*shapes, mask=("keep_where", (40, 64), -np.inf)), make)


def test_empty_sizes_give_numpys_result_or_error():
    artifact = compile_graph(attention_graph((2, 0, 4), (2, 4, 5), (2, 5, 3)))
    (out,) = artifact([np.ones((2, 0, 4), F32), np.ones((2, 4, 5), F32), np.ones((2, 5, 3), F32)])
    assert out.shape == (2, 0, 3) and out.dtype == F32
    # No keys: the max of an empty row raises (a dynamic N can be 0 at run time).
    kernel = next(value for name, value in artifact.run.__globals__.items() if name.startswith("_fused_"))
    inputs = [np.ones((2, 3, 4), F32), np.ones((2, 4, 0), F32), np.ones((2, 0, 3), F32)]
    with pytest.raises(ValueError) as expected:
        attention_reference(*inputs, scale=0.125, scale_op="multiply")
    with pytest.raises(ValueError) as got:
        kernel(*inputs)
    assert str(got.value) == str(expected.value)


def test_the_ir_names_the_kernel():
    artifact = compile_graph(attention_graph((2, 8, 4), (2, 4, 8), (2, 8, 4)))
    text = artifact.llvm_ir()
    assert "define void @attention_float32_" in text and "atomicrmw add" in text


def attention_as_users_write_it(q, kt, v):
    s = q @ kt * q.shape[-1] ** -0.5
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    return p @ v


def test_through_ember_compile_with_dynamic_sizes():
    import ember

    compiled = ember.compile(attention_as_users_write_it, dynamic=True)
    for b, m, n in [(2, 10, 20), (3, 17, 33), (2, 5, 7)]:
        q, kt, v = normal_inputs([(b, m, 16), (b, 16, n), (b, n, 16)])()
        got, want = compiled(q, kt, v), attention_as_users_write_it(q, kt, v)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, *TOLERANCE[F32])
    (entry,) = compiled.entries  # one compiled program for every size
    assert "one fused kernel" in str(entry.kernel_graph)


TWO_THREADS = ThreadPool(2)


@st.composite
def attention_cases(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    m, d, n, dv = (draw(st.integers(1, hi)) for hi in (20, 70, 100, 80))
    dtype = draw(st.sampled_from([F32, F64]))
    scale = draw(st.sampled_from([None, (0.125, "multiply"), (3, "divide"), (0.01, "multiply")]))
    q_transposed, k_transposed = draw(st.booleans()), draw(st.booleans())
    threads = draw(st.sampled_from([1, 2]))
    mask = draw(st.sampled_from([None, "add", "keep_where", "fill_where"]))
    if mask is not None:
        shape = (*batch, m, n)[draw(st.integers(0, len(batch) + 1)):]  # a trailing part of the scores' shape
        shape = tuple(1 if draw(st.booleans()) and draw(st.booleans()) else size for size in shape)
        mask = (mask, shape) if mask == "add" else (mask, shape, draw(st.sampled_from([-np.inf, -1e4])))
    return batch, m, d, n, dv, dtype, scale, q_transposed, k_transposed, threads, mask, draw(st.integers(0, 2**16))


@settings(max_examples=int(os.environ.get("EMBER_HYPOTHESIS_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=attention_cases())
def test_random_shapes_layouts_and_scalings(differential, case):
    batch, m, d, n, dv, dtype, scale, q_transposed, k_transposed, threads, mask, seed = case
    g = attention_graph((*batch, m, d), (*batch, d, n), (*batch, n, dv), dtype, scale, transposed_k=k_transposed,
                        mask=mask)

    def make():
        rng = np.random.default_rng(seed)
        q = rng.standard_normal((*batch, d, m) if q_transposed else (*batch, m, d)).astype(dtype)
        k = rng.standard_normal((*batch, n, d) if k_transposed else (*batch, d, n)).astype(dtype)
        v = rng.standard_normal((*batch, n, dv)).astype(dtype)
        masks = [] if mask is None else [mask_value(mask[0], mask[1], seed).astype(dtype if mask[0] == "add" else bool)]
        return [np.swapaxes(q, -1, -2) if q_transposed else q, k, v, *masks]

    differential(g, make, TOLERANCE, pool=TWO_THREADS if threads > 1 else None, num_threads=threads)
