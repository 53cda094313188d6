"""Compiled results against eager's: every kind of difference is found, rounding is not."""
from __future__ import annotations

import numpy as np
import pytest
from ember.bench.check import check_unchanged, compare, tolerance, tolerance_note
from ember.bench.workloads import get_workload


def test_tolerances_per_dtype_and_override():
    assert tolerance(np.float32) == (1e-4, 1e-5)
    assert tolerance(np.float64) == (1e-9, 1e-12)
    assert tolerance(np.int64) == (0.0, 0.0)
    assert tolerance(np.float32, get_workload("l2norm")) == (1e-3, 1e-5)
    assert tolerance_note(get_workload("l2norm")).startswith("rtol=0.001 (a sum of 16M")
    assert tolerance_note(get_workload("tiny")) == ""


@pytest.mark.parametrize(("expected", "actual", "message"), [
    (np.ones(3, np.float32), np.ones(3, np.float64), "dtype float32 expected, got float64"),
    (np.ones(3, np.float32), np.ones((3, 1), np.float32), "shape (3,) expected, got (3, 1)"),
    (np.float32(1.0), np.array(1.0, np.float32), "NumPy scalar expected, got ndarray"),
    (np.ones(4, np.float32), np.array([1, 1, 1, 1.01], np.float32), "1 of 4 values differ"),
    (np.arange(3), np.array([0, 1, 3]), "values differ (exact comparison for int64)"),
    ((np.ones(2),), [np.ones(2)], "tuple of 1 expected, got list"),
    ((np.ones(2), np.ones(2)), (np.ones(2), np.zeros(2)), "result[1]: 2 of 2 values differ"),
    (np.array([np.nan, 1.0]), np.array([1.0, 1.0]), "1 of 2 values differ"),
    (2.0, 2, "2.0 expected, got 2"),
])
def test_compare_finds_each_kind_of_difference(expected, actual, message):
    check = compare(expected, actual)
    assert not check.ok and message in check.message


def test_compare_accepts_rounding_and_equal_nans():
    expected = np.array([1.0, np.nan, np.inf, 0.0], np.float32)
    actual = np.array([1.00001, np.nan, np.inf, 1e-6], np.float32)
    check = compare(expected, actual)
    assert check.ok and 0 < check.max_abs_err < 2e-5
    assert compare((np.ones(2), 3.0), (np.ones(2), 3.0)).ok
    assert compare(np.zeros((0, 3)), np.zeros((0, 3))).ok


def test_check_unchanged():
    x = np.arange(3.0)
    assert check_unchanged((x, 1.0), (x.copy(), 1.0)).ok
    assert "argument 0 was modified" in check_unchanged((x,), (x + 1,)).message
