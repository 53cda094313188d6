"""Complex numbers in fused kernels: each value a pair { re, im } in NumPy's memory layout, and
NumPy's formulas part by part (Smith's division, its SIMD absolute, FMA in multiply where the CPU
has it). Arithmetic, comparisons and classification against NumPy on special values (zeros of
both signs, infinities, NaN, extremes) and random ones, contiguous and strided, both dtypes.

Measured on the development machine (AVX2 + FMA): every result bit for bit NumPy's. The tests
allow 2 ulp for multiply, divide and absolute (NumPy's loops differ between CPUs), none elsewhere."""
from __future__ import annotations

import numpy as np
import pytest
from ember.codegen.llvm import compile_graph
from ember.ir import Graph, TensorMeta

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-300, 1e300, 3.5, -2.25, 1e-45, 1e38])
EXACT = {"add", "subtract", "negative", "conjugate", "positive", "equal", "not_equal", "isnan", "isinf",
         "isfinite"}
BINARY = ["add", "subtract", "multiply", "divide", "equal", "not_equal"]
UNARY = ["negative", "conjugate", "positive", "square", "absolute", "exp", "isnan", "isinf", "isfinite"]


def _operands(dtype: np.dtype, strided: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    grid = np.empty(SPECIAL.size ** 2, np.complex128)  # (not re + 1j * im: 1j * inf has a NaN part)
    grid.real, grid.imag = np.repeat(SPECIAL, SPECIAL.size), np.tile(SPECIAL, SPECIAL.size)
    randoms = rng.standard_normal(500) * np.exp(rng.uniform(-5, 5, 500)) + 1j * rng.standard_normal(500)
    x = np.concatenate([grid, randoms])
    y = np.concatenate([grid[rng.permutation(grid.size)], rng.standard_normal(500) + 1j * rng.standard_normal(500)])
    with np.errstate(all="ignore"):
        x, y = x.astype(dtype), y.astype(dtype)
    if strided:
        return np.repeat(x, 2)[::2], np.repeat(y, 3)[::3]
    return x, y


def _run(op: str, dtype: np.dtype, strided: bool):
    x, y = _operands(dtype, strided)
    g = Graph()
    args = [g.add_input("x", TensorMeta(x.shape, dtype))]
    if op in BINARY:
        args.append(g.add_input("y", TensorMeta(y.shape, dtype)))
    g.set_outputs([g.call(op, *args)])
    artifact = compile_graph(g)
    assert artifact.kernel_graph.kernels, f"{op} of {dtype} did not fuse"
    inputs = [x, y][:len(args)]
    with np.errstate(all="ignore"):
        return artifact(inputs)[0], getattr(np, op)(*inputs)


def _assert_matches(ours: np.ndarray, theirs: np.ndarray, ulps: int) -> None:
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    if ulps == 0 or theirs.dtype.kind == "b":
        np.testing.assert_array_equal(ours, theirs)
        return
    for part in ("real", "imag") if theirs.dtype.kind == "c" else (None,):
        mine, want = (getattr(ours, part), getattr(theirs, part)) if part else (ours, theirs)
        np.testing.assert_array_equal(np.isnan(mine), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(mine) & (mine > 0), np.isinf(want) & (want > 0))
        finite = np.isfinite(want)
        spacing = np.spacing(np.abs(want[finite]))
        assert np.all(np.abs(mine[finite] - want[finite]) <= ulps * spacing), part


@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [np.dtype("complex64"), np.dtype("complex128")], ids=str)
@pytest.mark.parametrize("op", BINARY + UNARY)
def test_complex_ops_match_numpy(op, dtype, strided):
    ours, theirs = _run(op, dtype, strided)
    _assert_matches(ours, theirs, 0 if op in EXACT else 2)


@pytest.mark.parametrize("dtype", [np.dtype("complex64"), np.dtype("complex128")], ids=str)
def test_complex_chains_mix_reals_constants_casts_and_masks(dtype):
    """Promotion (a float array, an int array, a Python complex), casts between the two complex
    dtypes and to bool, np.where and a write into a complex array, in one kernel."""
    x, y = _operands(dtype, False)
    real = np.linspace(-2, 2, x.size)
    ints = np.arange(x.size) % 7 - 3
    g = Graph()
    xs = g.add_input("x", TensorMeta(x.shape, dtype))
    ys = g.add_input("y", TensorMeta(y.shape, dtype))
    rs = g.add_input("r", TensorMeta(real.shape, real.dtype))
    ns = g.add_input("n", TensorMeta(ints.shape, ints.dtype))
    other = np.dtype("complex128") if dtype == np.dtype("complex64") else np.dtype("complex64")
    mixed = g.call("add", g.call("multiply", xs, rs), g.call("multiply", ns, 2.5 - 1j))
    masked = g.call("where", g.call("astype", ys, dtype=np.dtype(bool)), mixed, g.call("divide", xs, ys))
    g.set_outputs([masked, g.call("astype", g.call("multiply", masked, xs), dtype=other),
                   g.call("setitem", g.call("copy", ys), slice(None), g.call("square", xs))])
    artifact = compile_graph(g)
    assert len(artifact.kernel_graph.kernels) >= 1
    with np.errstate(all="ignore"):
        got = artifact([x, y, real, ints])
        want_masked = np.where(y.astype(bool), x * real + ints * (2.5 - 1j), x / y)
        want = [want_masked, (want_masked * x).astype(other), np.square(x)]
    for ours, theirs in zip(got, want, strict=True):
        _assert_matches(ours, theirs, 4)


def test_complex_to_real_casts_and_reductions_stay_with_numpy():
    """NumPy drops the imaginary part with a warning (a cast) or sums pairs (a reduction): not
    lowered, so NumPy runs them."""
    g = Graph()
    x = g.add_input("x", TensorMeta((8,), np.dtype("complex128")))
    g.set_outputs([g.call("sum", x), g.call("equal", x, x)])
    artifact = compile_graph(g)
    z = np.arange(8) * (1 + 2j)
    total, same = artifact([z])
    assert total == z.sum() and same.all()
    assert all(node.op.name != "sum" for kernel in artifact.kernel_graph.kernels for node in kernel.nodes)
