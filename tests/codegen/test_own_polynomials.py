"""The own float32 exp (codegen/llvm/polynomials.py) over the whole float32 range.

test_ulp.py covers (-80, 80); here also the subnormal results (x in [-104, -87]), overflow
near ln(FLT_MAX), a sample of every float32 bit pattern, and the exact special values.
"""
from __future__ import annotations

import numpy as np
import pytest
from ember.codegen.llvm import compile_graph
from ember.ir import Graph, TensorMeta

F32 = np.dtype("float32")


def compiled_exp(x: np.ndarray) -> np.ndarray:
    g = Graph()
    g.set_outputs([g.call("exp", g.add_input("x", TensorMeta(x.shape, F32)))])
    return compile_graph(g)([x])[0]


def ulp_error(ours: np.ndarray, x: np.ndarray) -> float:
    reference = np.exp(x.astype(np.float64))
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
