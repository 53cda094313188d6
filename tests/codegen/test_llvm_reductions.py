"""Reduction kernels against the interpreter: every reduction, axis, dtype, NaN, fusion."""
from __future__ import annotations

import math

import ember
import numpy as np
import pytest
from ember.codegen.llvm import compile_graph
from ember.ir import Graph, TensorMeta
from ember.runtime.threadpool import ThreadPool

REDUCTION_TOLERANCE = {np.dtype("float32"): (2e-5, 2e-5), np.dtype("float64"): (1e-11, 1e-11)}
DTYPES = [np.dtype(n) for n in ("float32", "float64", "int32", "uint8", "int64", "bool")]
AXES = [None, (0,), (1,), (2,), (0, 2), (1, 2), (0, 1, 2)]
POOLS = {1: ThreadPool(1), 2: ThreadPool(2)}


def reduce_graph(op, meta, **kwargs):
    g = Graph()
    x = g.add_input("x", meta)
    g.set_outputs([g.call(op, x, **kwargs)])
    return g


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("op", ["sum", "prod", "max", "min", "mean", "var", "std", "any", "all"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_reductions(differential, values, op, dtype, axis, keepdims):
    shape = (5, 7, 19)
    try:
        g = reduce_graph(op, TensorMeta(shape, dtype), axis=axis, keepdims=keepdims)
    except TypeError:
        pytest.skip(f"NumPy has no {op} for {dtype}")
    make = lambda: [values(dtype, shape, 3) if op != "prod" or dtype.kind != "f" else
                    (1 + values(dtype, shape, 3) * 0.01).astype(dtype)]
    artifact = differential(g, make, REDUCTION_TOLERANCE)
    assert artifact.kernel_graph.kernels, "the reduction should be compiled"


@pytest.mark.parametrize("op", ["sum", "max", "min", "mean", "prod"])
@pytest.mark.parametrize("dtype", [np.dtype("float32"), np.dtype("float64")], ids=str)
def test_nan_and_inf(differential, values, op, dtype):
    g = reduce_graph(op, TensorMeta((6, 33), dtype), axis=(1,))

    def make():
        x = values(dtype, (6, 33), 1)
        x[0, 5], x[1, 32], x[2, 0] = np.nan, np.inf, -np.inf
        x[3, :] = -np.inf
        x[4, 7], x[4, 8] = np.inf, -np.inf
        return [x]
    differential(g, make, REDUCTION_TOLERANCE)


@pytest.mark.parametrize("shape", [(0,), (1,), (17,), (3, 0), (0, 4), (1, 1), (2, 65537)])
def test_odd_sizes(differential, values, shape):
    f32 = np.dtype("float32")
    g = Graph()
    x = g.add_input("x", TensorMeta(shape, f32))
    g.set_outputs([g.call("sum", x), g.call("sum", x, axis=(len(shape) - 1,)), g.call("mean", x, axis=(0,))])
    differential(g, lambda: [values(f32, shape, 2)], REDUCTION_TOLERANCE)


def test_non_contiguous_reduction_input(differential, values):
    f64 = np.dtype("float64")
    make = lambda: [values(f64, (30, 40), 4)[::-2, 1::3].T]
    g = Graph()
    x = g.add_input("x", TensorMeta(make()[0].shape, f64))
    g.set_outputs([g.call("sum", x, axis=(1,)), g.call("max", x, axis=(0,), keepdims=True), g.call("std", x)])
    differential(g, make, REDUCTION_TOLERANCE)


def test_softmax_is_one_kernel(differential, values, softmax):
    f32 = np.dtype("float32")
    g = Graph()
    x = g.add_input("x", TensorMeta((33, 257), f32))
    g.set_outputs([softmax(g, x)])

    def make():
        v = values(f32, (33, 257), 5)
        v[3, 7] = np.nan
        v[4, :] = -np.inf
        v[5, 9] = np.inf
        return [v]
    artifact = differential(g, make, REDUCTION_TOLERANCE)
    assert len(artifact.kernel_graph.kernels) == 1


def test_layernorm_is_one_kernel(differential, values, layernorm):
    f32 = np.dtype("float32")
    g = Graph()
    x = g.add_input("x", TensorMeta((19, 130), f32))
    w, b = g.add_input("w", TensorMeta((130,), f32)), g.add_input("b", TensorMeta((130,), f32))
    g.set_outputs([layernorm(g, x, w, b)])
    artifact = differential(g, lambda: [values(f32, (19, 130), 6), values(f32, (130,), 7), values(f32, (130,), 8)],
                            REDUCTION_TOLERANCE)
    assert len(artifact.kernel_graph.kernels) == 1


def test_reduction_epilogues_and_scalar_outputs(differential, values):
    """l2norm: sqrt of a full sum is a NumPy scalar; centring by a non-keepdims column mean."""
    f64 = np.dtype("float64")
    g = Graph()
    x = g.add_input("x", TensorMeta((23, 11), f64))
    l2 = g.call("sqrt", g.call("sum", g.call("multiply", x, x)))
    centred = g.call("subtract", x, g.call("mean", x, axis=(0,)))
    g.set_outputs([l2, centred, g.call("add", g.call("sum", x, axis=(1,)), 1.0)])
    artifact = differential(g, lambda: [values(f64, (23, 11), 9)], REDUCTION_TOLERANCE)
    assert isinstance(artifact([values(f64, (23, 11), 9)])[0], np.float64)


def test_reduction_dtype_argument(differential, values):
    g = Graph()
    x = g.add_input("x", TensorMeta((10, 12), np.dtype("int8")))
    g.set_outputs([g.call("sum", x, axis=(1,), dtype=np.float32), g.call("mean", x, dtype=np.float32),
                   g.call("prod", x, axis=(0,), dtype=np.int64)])
    differential(g, lambda: [values(np.dtype("int8"), (10, 12), 10)], REDUCTION_TOLERANCE)


def test_argmax_runs_through_numpy(differential, values):
    g = reduce_graph("argmax", TensorMeta((4, 9), np.dtype("float32")), axis=1)
    differential(g, lambda: [values(np.dtype("float32"), (4, 9), 1)])


def test_zero_dimensional_reductions(differential):
    """A 0-d input has nothing to reduce over: the value itself (and NumPy scalars out)."""
    g = Graph()
    x = g.add_input("x", TensorMeta((), np.dtype("float32")))
    total = g.call("sum", x)
    g.set_outputs([total, g.call("mean", x), g.call("max", x, keepdims=True), g.call("add", total, 1.0),
                   g.call("var", x), g.call("any", x)])
    differential(g, lambda: [np.array(3.0, np.float32)], REDUCTION_TOLERANCE)


@pytest.mark.parametrize("shape, axis", [
    ((256, 256), (0,)), ((64, 8, 64), (0, 1)), ((8, 64, 64), (1,)), ((3, 5, 4100), (0, 1)), ((4096, 16), (0,)),
    ((6, 4097), (0,)),
])
@pytest.mark.parametrize("op", ["sum", "max", "mean", "var", "any"])
@pytest.mark.parametrize("threads", [1, 2])
def test_reductions_that_keep_the_last_axis_sweep_rows(differential, values, shape, axis, op, threads):
    """Rows add into an array of accumulators, as NumPy's loop does (one loop per output
    element strided across rows: 10x slower than NumPy at 4096x1024); two threads split the
    first kept axis, where pieces of rows are long enough."""
    dtype = np.dtype("bool") if op == "any" else np.dtype("float32")
    g = reduce_graph(op, TensorMeta(shape, dtype), axis=axis)
    artifact = differential(g, lambda: [values(dtype, shape, 3)], REDUCTION_TOLERANCE, pool=POOLS[threads],
                            num_threads=threads, parallel_threshold=1)
    assert f"loops in memory order {tuple(range(len(shape)))}: sweeps into accumulator arrays" in artifact.describe()


@pytest.mark.parametrize("shape, axis, layout", [
    ((300, 70), (1,), "F"), ((300, 70), (1,), "T"), ((300, 70), (0,), "F"), ((9, 12, 40), (2,), "F"),
    ((9, 12, 40), (1, 2), "T"), ((40, 12, 9), (1,), "F"), ((8, 16), (1,), "F"),
    ((6, 40, 48), (2,), (0, 2, 1)), ((6, 40, 48), (0,), (0, 2, 1)), ((6, 40, 48), (1,), (2, 0, 1)),
    ((2048, 2, 3), (2,), "F"), ((3, 2, 2048), (0,), (2, 1, 0)),
])
@pytest.mark.parametrize("threads", [1, 2])
def test_reductions_of_transposed_arrays_run_in_memory_order(differential, values, shape, axis, layout, threads):
    """A reduction over a Fortran-ordered or transposed array (``np.asfortranarray(x)``, ``x.T``
    passed as ``x``, a batch of transposed matrices) reads memory in order: its first call
    compiles the kernel again for that order: a row softmax sweeps with the first axis
    innermost, into accumulator arrays (laid out that way too when there are several kept
    axes; two kept axes innermost in memory run as one loop, unless the threads split them), a
    column sum runs per column; a short kernel (8x16) keeps C order, and, where C
    order does not sweep, has no accumulator arrays."""
    f32 = np.dtype("float32")
    g = Graph()
    x = g.add_input("x", TensorMeta(shape, f32))
    e = g.call("exp", g.call("subtract", x, g.call("max", x, axis=axis, keepdims=True)))
    g.set_outputs([g.call("divide", e, g.call("sum", e, axis=axis, keepdims=True)), g.call("var", x, axis=axis)])

    order = layout if isinstance(layout, tuple) else tuple(range(len(shape)))[::-1]

    def make():
        value = values(f32, shape, 3)
        if layout == "F":
            return [np.asfortranarray(value)]
        return [np.ascontiguousarray(value.transpose(order)).transpose(np.argsort(order))]
    artifact = differential(g, make, REDUCTION_TOLERANCE, pool=POOLS[threads], num_threads=threads,
                            parallel_threshold=1)
    short = int(np.prod(shape)) < 1024
    how = "passes per kept index" if order[-1] in axis else "sweeps into accumulator arrays"
    assert (f"loops in memory order {order}: {how}" in artifact.describe()) is not short
    assert ("a stand-in: no sweep in C order" in artifact.source) is (short and len(shape) - 1 in axis)
    relaid = not short and order != tuple(range(len(shape)))  # the llvm stage shows the module compiled then
    assert (f"compiled again for memory order {order} on the first call" in artifact.llvm_ir()) is relaid


def test_a_sweep_that_calls_vector_math_splits_shorter_rows(differential, values):
    """Pieces of 515 columns per thread: split for a column softmax (exp bounds it), not for a
    plain column sum (memory bounds it; codegen/llvm/wrapper.py ``splits_well``); nor for a row
    softmax of a Fortran-ordered 8x40x60 array, which sweeps with the axis of 8 innermost."""
    shape, f32 = (40, 1030), np.dtype("float32")
    g = Graph()
    x = g.add_input("x", TensorMeta(shape, f32))
    e = g.call("exp", g.call("subtract", x, g.call("max", x, axis=(0,), keepdims=True)))
    g.set_outputs([g.call("divide", e, g.call("sum", e, axis=(0,), keepdims=True))])
    artifact = differential(g, lambda: [values(f32, shape, 3)], REDUCTION_TOLERANCE, pool=POOLS[2], num_threads=2,
                            parallel_threshold=1)
    assert "_pool.parallel_for" in artifact.source and artifact.layouts["k0"][0].splits
    plain = differential(reduce_graph("sum", TensorMeta(shape, f32), axis=(0,)), lambda: [values(f32, shape, 3)],
                         REDUCTION_TOLERANCE, pool=POOLS[2], num_threads=2, parallel_threshold=1)
    assert not plain.layouts["k0"][0].splits
    g = Graph()
    x = g.add_input("x", TensorMeta((8, 40, 60), f32))
    e = g.call("exp", g.call("subtract", x, g.call("max", x, axis=(2,), keepdims=True)))
    g.set_outputs([g.call("divide", e, g.call("sum", e, axis=(2,), keepdims=True))])
    for layout, splits in ((np.ascontiguousarray, True), (np.asfortranarray, False)):
        rows = differential(g, lambda layout=layout: [layout(values(f32, (8, 40, 60), 3))], REDUCTION_TOLERANCE,
                            pool=POOLS[2], num_threads=2, parallel_threshold=1)
        assert rows.layouts["k0"][0].splits is splits


def test_a_sweep_feeds_the_elementwise_work_after_it(differential, values):
    """Batch norm: the column means and variances, then every element scaled by them (three
    passes over the rows in one kernel)."""
    g = Graph()
    x = g.add_input("x", TensorMeta((300, 70), np.dtype("float32")))
    mean = g.call("mean", x, axis=(0,), keepdims=True)
    var = g.call("var", x, axis=(0,), keepdims=True)
    g.set_outputs([g.call("divide", g.call("subtract", x, mean), g.call("sqrt", g.call("add", var, 1e-5))), mean])
    artifact = differential(g, lambda: [values(np.dtype("float32"), (300, 70), 3)], REDUCTION_TOLERANCE,
                            pool=POOLS[2], num_threads=2, parallel_threshold=1)
    assert len(artifact.kernel_graph.kernels) == 1


def _relative_error(value, exact: float) -> float:
    return abs(float(value) - exact) / abs(exact)


@pytest.mark.parametrize("layout", ["1-d", "short rows", "transposed", "long rows", "strided"])
@pytest.mark.parametrize("threads", [1, 2])
def test_long_float64_sums_keep_numpys_precision(layout, threads):
    """Float64 sums add up blocks in vector lanes and the blocks into a compensated total: on
    2**20 values of 0.1 (every rounding error of one sign) a sum in lanes alone erred by 2.4e-13
    (rows of 4: 6.5e-12); NumPy's pairwise sum errs by 1.4e-16. The bound here is 20 eps, or
    NumPy's own error where NumPy adds up in order."""
    n = 1 << 20
    x = {"1-d": np.full(n, 0.1), "short rows": np.full((n // 4, 4), 0.1), "transposed": np.full((n // 4, 4), 0.1).T,
         "long rows": np.full((2, n // 2), 0.1), "strided": np.full((n // 2, 4), 0.1)[:, ::2]}[layout]
    exact = math.fsum(x.ravel())
    g = Graph()
    node = g.add_input("x", TensorMeta(x.shape, x.dtype))
    g.set_outputs([g.call("sum", node), g.call("mean", node), g.call("sum", node, axis=(x.ndim - 1,))])
    total, mean, rows = compile_graph(g, pool=POOLS[threads], num_threads=threads, parallel_threshold=1)([x])
    bound = 20 * np.finfo(np.float64).eps
    assert _relative_error(total, exact) <= bound
    assert _relative_error(mean, exact / x.size) <= bound
    # (a transposed array's rows sweep: each adds up in order, as NumPy's own rows do)
    row_exact = math.fsum(np.full(x.shape[-1], 0.1))
    numpys = max(_relative_error(row, row_exact) for row in np.atleast_1d(x.sum(axis=-1)))
    assert all(_relative_error(row, row_exact) <= max(bound, numpys) for row in np.atleast_1d(rows))


def test_compensated_float64_sums_keep_inf_and_nan():
    """The total's error term is NaN once the total is inf or NaN: the sum is the total then."""
    g = Graph()
    node = g.add_input("x", TensorMeta((3, 5000), np.dtype("float64")))
    g.set_outputs([g.call("sum", node, axis=(1,)), g.call("var", node, axis=(1,))])
    x = np.ones((3, 5000))
    x[0, 4000], x[1, 10], x[1, 4999], x[2, 2500] = np.inf, np.inf, -np.inf, np.nan
    with np.errstate(invalid="ignore"):
        sums, variances = compile_graph(g)([x])
        np.testing.assert_array_equal(sums, x.sum(axis=1))
        np.testing.assert_array_equal(variances, x.var(axis=1))


def test_float64_sums_over_dynamic_sizes_decide_per_call():
    """Where the reduced size is dynamic the kernel holds both loops: a short pass sums in lanes,
    a long one keeps a compensated total."""
    f = ember.compile(lambda x: x.sum(axis=-1), backend="llvm")
    for n in (8, 16, 1 << 18):  # (the second size makes the last axis dynamic)
        x = np.full((3, n), 0.1)
        bound = 20 * np.finfo(np.float64).eps
        assert all(_relative_error(v, math.fsum(row)) <= bound for v, row in zip(f(x), x, strict=True))
    assert len(f.entries) == 2


@pytest.mark.parametrize("source", ["int32", "int64", "float64", "uint32", "int16", "float16"])
@pytest.mark.parametrize("op", ["var", "std"])
def test_variance_in_float32_of_wider_values_takes_deviations_in_their_type(op, source):
    """``np.var(x, dtype=np.float32)``: the mean is float32, but NumPy subtracts it from x in the
    type both promote to (float64 for int32 x), so deviations finer than float32's steps count.
    (Values whose float32 mean is the same however the sum is grouped.)"""
    kind = np.dtype(source).kind
    x = (np.array([[16777217, 16777215], [16777219, 16777213]]) if kind in "iu" and source != "int16" else
         1 + np.array([[1e-8, -1e-8], [3e-8, -3e-8]]) if source == "float64" else
         np.array([[1001, 999], [1003, 997]])).astype(source)
    g = Graph()
    node = g.add_input("x", TensorMeta(x.shape, x.dtype))
    g.set_outputs([g.call(op, node, dtype=np.dtype("float32")),
                   g.call(op, node, axis=(1,), dtype=np.dtype("float32"))])
    whole, rows = compile_graph(g)([x])
    np.testing.assert_allclose(whole, getattr(np, op)(x, dtype=np.float32), rtol=1e-6)
    np.testing.assert_allclose(rows, getattr(np, op)(x, axis=1, dtype=np.float32), rtol=1e-6)
