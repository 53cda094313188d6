"""The workloads: they run eagerly at the sizes of issue 4, and compiled they match eager."""
from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.bench import workloads
from ember.bench.check import compare
from ember.bench.workloads import DEMO_WORKLOADS, WORKLOADS, get_workload, select_workloads

SMALL = 1 / 1024
M = 1 << 20
F32, F64 = np.dtype("float32"), np.dtype("float64")

# Issue 4's table: argument shapes and dtypes at scale 1.
FULL_SIZE = {
    "elementwise": [((8 * M,), F32)] * 2,
    "gelu": [((4096, 4096), F32)],
    "softmax": [((4096, 2048), F32)],
    "layernorm": [((4096, 2048), F32), ((2048,), F32), ((2048,), F32)],
    "mlp": [((1024, 1024), F32), ((1024, 4096), F32), ((4096,), F32), ((4096, 1024), F32), ((1024,), F32)],
    "attention": [((8, 512, 64), F32)] * 3,
    "black_scholes": [((4 * M,), F64)] * 3 + [float, float],
    "l2norm": [((16 * M,), F32)],
    "jacobi": [((4096, 4096), F64)],
    "with_break": [((4 * M,), F32)],
    "tiny": [((100,), F32)] * 2,
}


def _describe(args):
    return [type(a) if not isinstance(a, np.ndarray) else (a.shape, a.dtype) for a in args]


def _expected_output(name, args):
    """(shape, dtype, is NumPy scalar) that eager NumPy must produce."""
    first = args[0]
    if name == "mlp":
        return (first.shape[0], args[3].shape[1]), first.dtype, False
    if name == "jacobi":
        return (first.shape[0] - 2, first.shape[1] - 2), first.dtype, False
    if name == "l2norm":
        return (), first.dtype, True
    return first.shape, first.dtype, False


def test_registry_matches_the_issue():
    assert [w.name for w in WORKLOADS] == list(FULL_SIZE)
    assert [w.name for w in select_workloads(DEMO_WORKLOADS)] == ["softmax", "layernorm", "gelu", "tiny"]
    assert select_workloads(None) == list(WORKLOADS)
    with pytest.raises(KeyError, match="choose from elementwise"):
        get_workload("nope")


def test_full_scale_shapes_without_allocating(monkeypatch):
    def fake(rng, shape, dtype, *args, **kwargs):
        return np.broadcast_to(np.zeros((), dtype), shape)
    monkeypatch.setattr(workloads, "_normal", fake)
    monkeypatch.setattr(workloads, "_uniform", fake)
    for workload in WORKLOADS:
        assert _describe(workload.make_inputs(1.0)) == FULL_SIZE[workload.name], workload.name


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_runs_eagerly_at_small_scale(workload):
    args = workload.make_inputs(scale=SMALL)
    out = workload.fn(*args)
    shape, dtype, is_scalar = _expected_output(workload.name, args)
    assert isinstance(out, np.generic if is_scalar else np.ndarray)
    assert out.shape == shape and out.dtype == dtype
    assert np.all(np.isfinite(out))
    assert np.prod(shape) > 0


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_inputs_are_deterministic_and_scale(workload):
    first, again = workload.make_inputs(SMALL), workload.make_inputs(SMALL)
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)
    other_seed = workload.make_inputs(SMALL, seed=1)
    assert not np.array_equal(first[0], other_seed[0])
    small = sum(np.size(a) for a in first)
    larger = sum(np.size(a) for a in workload.make_inputs(4 * SMALL))
    assert larger > small or workload.name == "tiny"


def test_with_break_takes_the_branch_with_margin():
    # The harness compares compiled and eager; the branch must not depend on rounding.
    x = get_workload("with_break").make_inputs(SMALL)[0]
    for _ in range(3):
        x = np.tanh(x) * 1.1
    assert x.sum() > 0.05 * x.size


def test_black_scholes_is_a_valid_price():
    price, strike, years, rate, vol = get_workload("black_scholes").make_inputs(SMALL)
    call = workloads.black_scholes(price, strike, years, rate, vol)
    assert np.all(call >= -1e-9) and np.all(call <= price + 1e-9)
    # Put-call parity through the same CDF: N(d) + N(-d) = 1 to the polynomial's accuracy.
    d = np.linspace(-6, 6, 101)
    assert np.allclose(workloads.normal_cdf(d) + workloads.normal_cdf(-d), 1.0, atol=1e-12)
    assert abs(workloads.normal_cdf(np.array([1.0]))[0] - 0.8413447460685429) < 1e-7


def _ember_compile():
    return getattr(ember, "compile", None)


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_compiled_numpy_backend_matches_eager(workload):
    compile_fn = _ember_compile()
    if compile_fn is None:
        pytest.skip("ember.compile does not exist yet in this checkout")
    compiled = compile_fn(workload.fn, backend="numpy")
    args = workload.make_inputs(SMALL)
    expected = workload.fn(*args)
    for call in ("first", "warm"):
        copies = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
        out = compiled(*copies)
        assert type(out) is type(expected), call
        assert out.shape == expected.shape and out.dtype == expected.dtype, call
        check = compare(expected, out, workload, call)
        assert check.ok, check.message
        for before, after in zip(args, copies, strict=True):
            assert not isinstance(before, np.ndarray) or np.array_equal(before, after)
