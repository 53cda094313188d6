"""Statistics as NumPy computes them (frontend/numpy_statistics.py): mean, var and std with
``where=``, a weighted average, cov and corrcoef; compiled equals eager, in one graph."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("body", [
    "x.mean(where=x > 0)", "np.mean(x, axis=0, where=y > 0)", "np.mean(x, axis=1, keepdims=True, where=y > 0)",
    "np.mean(x, axis=(0, 1), where=y[0] > 0)", "np.mean((x * 10).astype(np.int32), axis=0, where=y > 0)",
    "np.mean(x > 0, axis=1, where=y > 0)", "np.mean(x.astype(np.float16), axis=0, where=y > 0)",
    "np.mean(x, dtype=np.float64, where=y > 0)", "np.mean(x, axis=1, where=y > 10)",   # an all-masked row: NaN
    "np.var(x, where=y > 0)", "np.var(x, axis=1, where=x > 0)", "x.std(axis=0, ddof=1, where=y > 0)",
    "np.std(x, axis=1, keepdims=True, where=y > 0)", "np.var((x * 10).astype(np.int16), axis=0, where=y > 0)",
    "np.var(x.astype(np.float16), axis=1, where=y > 0)", "np.var(x, ddof=2.5, axis=1, where=y > 0)",
    "np.std(x, axis=0, ddof=5, where=y > 0)",   # fewer kept places than ddof: 0 clamps the divisor, inf as eager
    "x.var(0, None, None, 1)", "np.std(x, 1, None, None, 1, True)",   # ddof comes before keepdims
    "x.var(where=True)", "(x * 2.0).mean(where=x > 0) + 1.0", "np.mean(x.astype(np.complex64), axis=0, where=y > 0)",
])
def test_mean_var_std_with_where(check, body, function_of, rand):
    x = rand(6, 5)
    x[2, 3] = np.nan
    check(function_of(body), x, rand(6, 5, seed=1))


@pytest.mark.parametrize("body, compiled", [
    ("np.var(x, where=x.astype(np.int8))", False),          # a mask that is not bool: eager (NumPy's TypeError)
    ("np.var(x, mean=x.mean(axis=0, keepdims=True), axis=0)", False),
    ("np.var(x.astype(np.complex64), where=x > 0)", False),
    ("np.mean(x, where=y[:, :2] > 0)", None),               # does not broadcast: NumPy's ValueError
])
def test_other_where_forms_run_eagerly_or_raise(check, body, compiled, function_of, rand):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1), compiled=compiled)


@pytest.mark.parametrize("body", [
    "np.average(x, axis=0, weights=y[:, 0] ** 2)", "np.average(x, weights=y ** 2)", "np.average(x, axis=1)",
    "np.average(x)", "np.average(x, axis=-1, weights=np.arange(1, 6))", "np.average(x, axis=1, weights=y[0] ** 2, "
    "keepdims=True)", "np.average((x * 4).astype(np.int32), axis=0, weights=np.arange(6))",
    "np.average(x, axis=(0, 1), weights=y ** 2)",
    "np.average(x, axis=0, weights=y[:, 0] * 0.0)",       # weights that sum to zero: ZeroDivisionError
    "np.average(x, weights=y[0])", "np.average(x, axis=0, weights=y[0])",   # NumPy's TypeError, ValueError
    "np.average(x[:, :0], axis=0)", "np.average(x[:0], axis=0)",   # empty: ZeroDivisionError; NaNs
])
def test_average(check, body, function_of, rand):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1))


def test_weights_that_sum_to_zero_raise_even_unused(check, rand):
    def f(x, y):
        unused = np.average(x, axis=0, weights=y[:, 0] - y[:, 0])  # noqa: F841 - eager raises all the same
        return y * 2.0

    check(f, rand(6, 5), rand(6, 5, seed=1))


@pytest.mark.parametrize("body", [
    "np.cov(x)", "np.cov(x, rowvar=False)", "np.cov(x, y)", "np.cov(x[0], y[0])", "np.cov(x[0])",
    "np.cov(x, bias=True)", "np.cov(x, ddof=0)", "np.cov(x, dtype=np.float32)", "np.cov((x * 3).astype(np.int32))",
    "np.cov(x[:1])", "np.cov(x, y[:, :4])", "np.cov(x.reshape(2, 3, 5))",      # 0-d; NumPy's ValueErrors
    "np.corrcoef(x)", "np.corrcoef(x, rowvar=False)", "np.corrcoef(x[0], y[0])", "np.corrcoef(x[0])",
    "np.corrcoef(x, y, dtype=np.float32)", "np.corrcoef(x * 0.0)",          # zero variance: NaN, as eager
    "np.cov(x) @ x[:, :1] + 1.0",
])
def test_cov_and_corrcoef(check, body, function_of, rand):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1))


@pytest.mark.parametrize("body", [
    "np.histogram(x, bins=4)[0]", "np.histogram(x, 7, range=(-1, 1))", "np.histogram(x, 5, density=True)[0] * 2",
    "np.histogram(x, 3, weights=np.exp(y))", "np.histogram((x * 4).astype(np.int32), 4)[1]",
    "np.histogram(x * np.nan, 4)", "np.histogram(x, 0)",     # NumPy's ValueErrors
])
def test_histogram_with_a_number_of_bins(check, body, function_of, rand):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1))


def test_histogram_with_bins_chosen_from_the_values_runs_eagerly(check, function_of, rand):
    check(function_of("np.histogram(x, 'auto')[0]"), rand(6, 5), rand(6, 5, seed=1), compiled=False,
          reason="bins that are not a number")


@pytest.mark.parametrize("body", [
    "np.nanstd(x, axis=0)", "np.nanvar(x)", "np.nanvar(x, 1, None, None, 1, True)", "np.nanstd(x, dtype=np.float64)",
    "np.nanmedian(x, axis=1)", "np.nanpercentile(x, 50)", "np.nanquantile(x, [0.2, 0.8], axis=0)",
    "np.nanargmax(x, axis=0)", "np.nanargmin(x, axis=1, keepdims=True)", "np.nancumsum(x, axis=1)", "np.nancumprod(x)",
    "np.nanprod(x, axis=0, keepdims=True)", "np.nanstd(x, axis=0) / np.nanmean(x, axis=0)",
    "np.nanargmax(x * np.nan, axis=0)",     # an all-NaN slice: NumPy's ValueError
])
def test_the_nan_skipping_statistics_are_numpys_own_calls(check, body, function_of, rand):
    x = rand(6, 5)
    x[1, 2] = np.nan
    x[4, :] = np.nan
    check(function_of(body), x, rand(6, 5, seed=1))
