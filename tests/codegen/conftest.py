"""Graph-level differential oracle for the code generators (LLVM unless told otherwise).

``differential(graph, make_inputs)`` compiles ``graph``, runs it and ``ir.interpret`` on two
fresh, identical sets of inputs (``make_inputs()`` is called twice, so non-contiguous and
negative-stride inputs keep their layout), and compares outputs (Python type, dtype, shape,
values: exact for integers/bools, ``rtol``/``atol`` per float dtype, NaN where NaN), memory
sharing with inputs, and the inputs afterwards (mutations). ``compile_graph=`` picks another
backend's compiler; a test module overrides the ``differential`` fixture to do so for all its tests.
``softmax`` and ``layernorm`` build those rows-of-a-matrix workloads into a graph.
"""
from __future__ import annotations

import numpy as np
import pytest
from ember.codegen.llvm import compile_graph
from ember.ir import interpret

# (rtol, atol) for values of elementwise kernels; transcendental functions may differ from
# NumPy's own SIMD versions by a few ulp each way.
ELEMENTWISE_TOLERANCE = {np.dtype("float16"): (1e-3, 0), np.dtype("float32"): (4e-6, 1e-30),
                         np.dtype("float64"): (1e-14, 1e-300)}
REDUCTION_TOLERANCE = {np.dtype("float32"): (1e-5, 1e-6), np.dtype("float64"): (1e-12, 1e-12)}


def assert_same_value(actual, expected, tolerance=None, where="output") -> None:
    assert type(actual) is type(expected), f"{where}: {type(actual)} vs {type(expected)}"
    actual_array, expected_array = np.asarray(actual), np.asarray(expected)
    assert actual_array.dtype == expected_array.dtype, f"{where}: dtype {actual_array.dtype} vs {expected_array.dtype}"
    assert actual_array.shape == expected_array.shape, f"{where}: shape {actual_array.shape} vs {expected_array.shape}"
    if actual_array.dtype.kind in "fc":
        rtol, atol = (tolerance or ELEMENTWISE_TOLERANCE).get(actual_array.dtype, (1e-6, 0))
        np.testing.assert_allclose(actual_array, expected_array, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=where)
    else:
        np.testing.assert_array_equal(actual_array, expected_array, err_msg=where)


def run_differential(graph, make_inputs, tolerance=None, *, compile_graph=compile_graph, **compile_kwargs):
    artifact = compile_graph(graph, **compile_kwargs)
    ours, theirs = make_inputs(), make_inputs()
    with np.errstate(all="ignore"):
        got = artifact(list(ours))
        want = interpret(graph, list(theirs))
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert_same_value(g, w, tolerance, f"output {i}")
        for j, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
            if w is reference:
                assert g is mine, f"output {i} should be input {j} itself"
            elif isinstance(w, np.ndarray) and isinstance(reference, np.ndarray):
                if np.shares_memory(w, reference):
                    assert isinstance(g, np.ndarray) and np.shares_memory(g, mine), f"output {i} views input {j}"
    for j, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
        assert_same_value(mine, reference, tolerance, f"input {j} after the call")
    return artifact


@pytest.fixture
def differential():
    return run_differential


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-30, -1e-30, 1e30, -1e30, np.inf, -np.inf, np.nan]


def values_for(dtype, shape, seed=0, special=False):
    """Deterministic test values of ``dtype`` and ``shape`` (NaN/inf first if ``special``)."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    if dtype.kind == "f":
        values = (rng.standard_normal(size) * 3).astype(dtype)
        if special and size:
            count = min(size, len(SPECIAL))
            values[:count] = np.array(SPECIAL, dtype)[:count]
    elif dtype.kind == "b":
        values = rng.random(size) < 0.5
    else:
        info = np.iinfo(dtype)
        values = rng.integers(max(info.min, -100), min(info.max, 100), size=size, dtype=dtype, endpoint=True)
    return values.reshape(shape)


@pytest.fixture
def values():
    return values_for


def build_softmax(g, x):
    m = g.call("max", x, axis=(1,), keepdims=True)
    e = g.call("exp", g.call("subtract", x, m))
    return g.call("divide", e, g.call("sum", e, axis=(1,), keepdims=True))


def build_layernorm(g, x, w, b):
    mu = g.call("mean", x, axis=(1,), keepdims=True)
    d = g.call("subtract", x, mu)
    var = g.call("mean", g.call("multiply", d, d), axis=(1,), keepdims=True)
    return g.call("add", g.call("multiply", g.call("divide", d, g.call("sqrt", g.call("add", var, 1e-5))), w), b)


@pytest.fixture
def softmax():
    return build_softmax


@pytest.fixture
def layernorm():
    return build_layernorm
