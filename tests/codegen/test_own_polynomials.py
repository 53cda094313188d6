"""The own exp (float32, float64), sin and cos (float32) of codegen/llvm/polynomials.py.

exp: test_ulp.py covers (-80, 80); here also the subnormal results (x in [-104, -87]), overflow
near ln(FLT_MAX), a sample of every float32 bit pattern, and the exact special values.
float64 exp: against long double over (-745, 710) (subnormal results included), specials.
sin/cos: the polynomial range (|x| < 2**20) against float64, and arguments outside it (huge,
inf, NaN), which make the kernel rerun its range with libmvec.
float32 tanh (tanh_v16.py, AVX-512 hosts; libmvec elsewhere, where the same bounds hold):
against float64 over bit patterns, [-10, 10] and every interval edge; specials and signs.
"""
from __future__ import annotations

import numpy as np
import pytest
from ember.codegen.llvm import compile_graph, tanh_v16
from ember.codegen.llvm.math import host_has, vector_variants
from ember.ir import Graph, TensorMeta

F32 = np.dtype("float32")


def compiled(name: str, x: np.ndarray) -> np.ndarray:
    g = Graph()
    g.set_outputs([g.call(name, g.add_input("x", TensorMeta(x.shape, x.dtype)))])
    return compile_graph(g)([x])[0]


def compiled_exp(x: np.ndarray) -> np.ndarray:
    return compiled("exp", x)


def ulp_error(ours: np.ndarray, x: np.ndarray, function=np.exp) -> float:
    reference = function(x.astype(np.float64))
    spacing = np.spacing(np.abs(reference.astype(F32))).astype(np.float64)
    spacing[spacing == 0] = np.finfo(F32).smallest_subnormal
    finite = np.isfinite(reference) & np.isfinite(ours)
    with np.errstate(invalid="ignore"):
        error = np.abs(ours.astype(np.float64) - reference)
    return float(np.max(error[finite] / spacing[finite], initial=0.0))


@pytest.mark.parametrize("inputs", [
    np.arange(0, 2**32, 997, dtype=np.uint64).astype(np.uint32).view(F32),  # every 997th bit pattern
    np.linspace(-110, 90, 1_000_003, dtype=F32),                              # subnormal to overflow
    np.linspace(88.70, 88.75, 100_003, dtype=F32),                            # around ln(FLT_MAX)
    np.linspace(-104.0, -87.0, 100_003, dtype=F32),                           # subnormal results
], ids=["all-bits", "range", "overflow", "subnormal"])
def test_exp_f32_ulp_and_classes(inputs):
    with np.errstate(all="ignore"):
        ours, expected = compiled_exp(inputs), np.exp(inputs.astype(np.float64)).astype(F32)
    assert ulp_error(ours, inputs) <= 1.1
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(expected))
    np.testing.assert_array_equal(ours == 0, expected == 0)


def test_exp_f32_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 88.72283, 88.72284, -103.27893, -104.0, -1e30, 1e30,
                  1e-45, -1e-45], dtype=F32)
    with np.errstate(all="ignore"):
        ours, expected = compiled_exp(x), np.exp(x)
    np.testing.assert_array_equal(ours, expected)  # NaN == NaN for assert_array_equal


RANDOM_BITS = np.random.default_rng(7).integers(0, 2**32, 3_000_000, dtype=np.uint64).astype(np.uint32).view(F32)


@pytest.mark.parametrize("name", ["sin", "cos"])
@pytest.mark.parametrize("inputs", [
    RANDOM_BITS[np.abs(RANDOM_BITS) < 2**20],                               # every exponent in range
    np.linspace(-20, 20, 2_000_003, dtype=F32),                              # where programs live
    np.linspace(2**20 - 100, 2**20 - 0.0625, 1601, dtype=F32),               # the top of the range
], ids=["bits", "small", "top"])
def test_sin_cos_f32_ulp(name, inputs):
    ours = compiled(name, inputs)
    assert ulp_error(ours, inputs, getattr(np, name)) <= 2.0


@pytest.mark.parametrize("name", ["sin", "cos"])
@pytest.mark.parametrize("outsider", [2.0**20, -(2.0**20), 1e30, -3e38, np.inf, -np.inf, np.nan])
def test_sin_cos_f32_outside_the_range_reruns_with_libmvec(name, outsider):
    """One argument outside the polynomial's range anywhere in the array: every element is
    still right (within libmvec's error), NaN where NumPy gives NaN, and sin(-0) = -0."""
    x = np.linspace(-10, 10, 10_001, dtype=F32)
    x[[0, 1, 5000]] = [-0.0, 0.0, outsider]
    with np.errstate(invalid="ignore"):
        ours, expected = compiled(name, x), getattr(np, name)(x)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    finite = ~np.isnan(expected)
    np.testing.assert_allclose(ours[finite], expected[finite], rtol=4e-6, atol=1e-7)
    np.testing.assert_array_equal(np.signbit(ours[:2]), np.signbit(expected[:2]))


def test_sin_f32_written_into_an_input_keeps_libmvec():
    """An in-place kernel cannot rerun (its input is overwritten), so it never takes the own
    polynomial: the text has no in-range flag, and huge arguments are still right."""
    g = Graph()
    x = g.add_input("x", TensorMeta((64,), F32))
    g.set_outputs([g.call("setitem", x, slice(None), g.call("sin", x))])
    artifact = compile_graph(g)
    assert "roundeven" not in artifact.llvm_ir()
    data = np.full(64, 1e30, F32)
    expected = np.sin(data)
    artifact([data])
    np.testing.assert_allclose(data, expected, rtol=4e-6)


@pytest.mark.parametrize("inputs", [
    np.linspace(-745.2, 709.78, 2_000_003),                                   # subnormal to overflow
    np.random.default_rng(3).normal(size=1_000_000) * 3,                      # where programs live
    np.linspace(-1e-3, 1e-3, 100_001),                                        # around 1
], ids=["range", "normal", "small"])
def test_exp_f64_ulp(inputs):
    reference = np.exp(inputs.astype(np.longdouble))
    spacing = np.spacing(reference.astype(np.float64)).astype(np.longdouble)
    spacing[spacing == 0] = np.finfo(np.float64).smallest_subnormal
    error = (np.abs(compiled("exp", inputs).astype(np.longdouble) - reference) / spacing).astype(np.float64)
    assert error.max() <= 1.0


def test_exp_f64_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 709.78, 709.79, 710.0, 1e300, -745.1, -745.2, -746.0,
                  -1e300, 5e-324, -5e-324])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(compiled("exp", x), np.exp(x))


# --- float32 tanh: the 16-lane table function on AVX-512 hosts (tanh_v16.py) ---------------

needs_avx512 = pytest.mark.skipif(not host_has("avx512f"), reason="the own tanh is AVX-512 code")
TANH_EDGES = np.array([((j + 491) << 21) + d for j in range(1, 31) for d in range(-64, 64)],
                      dtype=np.uint32).view(F32)  # every interval edge, +-64 ulp


@pytest.mark.parametrize("inputs", [
    np.arange(0, 2**32, 997, dtype=np.uint64).astype(np.uint32).view(F32),  # every 997th bit pattern
    np.linspace(-10, 10, 2_000_003, dtype=F32),
    np.concatenate([TANH_EDGES, -TANH_EDGES]),
], ids=["all-bits", "range", "interval-edges"])
def test_tanh_f32_ulp(inputs):
    ours = compiled("tanh", inputs)
    assert ulp_error(ours, inputs, np.tanh) <= 1.5
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(inputs))
    assert np.all(np.abs(ours[~np.isnan(ours)]) <= 1)


def test_tanh_f32_special_values_and_signs():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-45, -1e-45, 1e-38, -1e-20, 20, -1e30, 3e38],
                 dtype=F32)
    ours = compiled("tanh", x)
    np.testing.assert_array_equal(ours, np.tanh(x))  # NumPy itself is 1 ulp below 1.0 up to ~9.2: not here
    numbers = ~np.isnan(x)
    np.testing.assert_array_equal(np.signbit(ours[numbers]), np.signbit(x[numbers]))


@needs_avx512
def test_the_tanh_model_in_numpy_is_what_the_kernel_computes():
    x = np.concatenate([np.arange(0, 2**32, 4099, dtype=np.uint64).astype(np.uint32).view(F32), TANH_EDGES])
    np.testing.assert_array_equal(compiled("tanh", x), tanh_v16.evaluate(x))  # bit for bit


@needs_avx512
def test_loops_calling_the_own_tanh_carry_an_interleave_count():
    g = Graph()
    x = g.add_input("x", TensorMeta((64,), F32))
    g.set_outputs([g.call("multiply", g.call("tanh", x), 2.0), g.call("exp", x)])
    text = compile_graph(g).llvm_ir()
    assert f"@{tanh_v16.NAME}" in text and '"llvm.loop.interleave.count", i32 2' in text
    plain = Graph()
    plain.set_outputs([plain.call("exp", plain.add_input("x", TensorMeta((64,), F32)))])
    assert "llvm.loop.interleave.count" not in compile_graph(plain).llvm_ir()  # (strided copies carry llvm.loop)


def test_a_long_loop_around_a_vector_math_call_is_interleaved_and_a_short_one_is_not():
    def module(build) -> str:
        g = Graph()
        x = g.add_input("x", TensorMeta((64,), np.dtype("float64")))
        g.set_outputs([build(g, x)])
        return compile_graph(g).llvm_ir()

    def long_body(g, x):  # black_scholes-like: a libm call among divisions and polynomials
        y = g.call("log", g.call("divide", x, g.call("add", x, 1.0)))
        for _ in range(4):
            y = g.call("divide", g.call("add", g.call("multiply", y, y), 0.5), g.call("add", x, 2.0))
        return g.call("multiply", g.call("exp", y), y)

    if not vector_variants("log", 1, 64):
        pytest.skip("no libmvec here: the call stays scalar and nothing vectorizes")
    assert '"llvm.loop.interleave.count", i32 2' in module(long_body)
    short = module(lambda g, x: g.call("log", x))
    assert "llvm.loop.interleave" not in short
    assert '"llvm.loop.vectorize.enable", i1 false' in short  # the strided copy of the loop, only


def test_only_vector_variants_this_cpu_can_run_are_offered(monkeypatch):
    """libmvec exports its AVX-512 variants on every host; offered to the vectorizer on an AVX2
    CPU, a float32 loop widened to 16 lanes called one and the process died of SIGILL."""
    from ember.codegen.llvm import math

    if math.libmvec() is None:
        pytest.skip("no libmvec here")
    monkeypatch.setattr(math, "host_has", lambda feature: feature != "avx512f")  # an AVX2 host
    math.vector_variants.cache_clear()
    try:
        offered = math.vector_variants("expf", 1, 32)
        assert offered and all(not symbol.startswith("_ZGVe") for _, symbol in offered), offered
        assert (8, "_ZGVdN8v_expf") in offered
    finally:
        math.vector_variants.cache_clear()
