"""NumPy library functions captured as graph ops (NumPy runs them between kernels) or written
with the ops NumPy's own implementation uses: compiled equals eager, in one graph."""
from __future__ import annotations

import numpy as np
import pytest


def rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def function_of(body: str):
    namespace: dict = {"np": np}
    exec(f"def f(x, y):\n    return {body}\n", namespace)
    return namespace["f"]


@pytest.mark.parametrize("body", [
    "np.cumsum(x, axis=1) * 2.0", "x.cumsum()", "np.cumprod(x + 1.0, axis=0)", "(x > 0).cumsum(axis=1)",
    "np.cumsum(x.astype(np.int8), axis=0, dtype=np.float64)",
    "np.sort(x, axis=0) - y", "np.sort(x, axis=None)", "np.argsort(x, axis=1, kind='stable')",
    "x.argsort() + 1", "np.take_along_axis(x, np.argsort(x, axis=1)[:, -2:], axis=1)",
])
def test_scans_and_sorts(check, body):
    x = rand(5, 6)
    x[1, 2] = np.nan
    check(function_of(body), x, rand(5, 6, seed=1))


def test_sort_method_sorts_in_place_eagerly(check):
    def f(x, y):
        x.sort()
        return x + y

    check(f, rand(5), rand(5, seed=1), compiled=None)


@pytest.mark.parametrize("body", [
    "np.vstack([x, y]) * 2.0", "np.vstack((x[0], y[1], 3.0 * x[2]))", "np.hstack([x, y])",
    "np.hstack((x[0], y[0]))", "np.vstack([x[0, 0], y[0, 0]])", "np.hstack([x[0, 0], y[0, 0]])",
    "np.outer(x[0], y[:, 1])", "np.outer(x, y[:2])", "np.outer(x[0].astype(np.int32), y[0] > 0)",
    "np.diff(x)", "np.diff(x, axis=0)", "np.diff(x, n=2, axis=1)", "np.diff(x > 0)", "np.diff(x, n=0) is x",
    "np.linalg.norm(x)", "np.linalg.norm(x, axis=1)", "np.linalg.norm(x, axis=0, keepdims=True)",
    "np.linalg.norm(x[0], 2)", "np.linalg.norm(x, 'fro', keepdims=True)", "np.linalg.norm(x, 1, axis=1)",
    "np.linalg.norm(x, np.inf, axis=(0,))", "np.linalg.norm(x, -np.inf, axis=-1)",
    "np.linalg.norm(x.astype(np.int64), axis=1)", "x / np.linalg.norm(x, axis=-1, keepdims=True)",
])
def test_functions_numpy_writes_in_python(check, body):
    check(function_of(body), rand(4, 5), rand(4, 5, seed=1))


@pytest.mark.parametrize("body, reason", [
    ("np.diff(x, append=0.0)", "append"),
    ("np.linalg.norm(x, 3, axis=1)", "ord=3"),
    ("np.linalg.norm(x.astype(np.complex64), axis=1)", "complex"),
])
def test_other_forms_run_eagerly(check, body, reason):
    check(function_of(body), rand(4, 5), rand(4, 5, seed=1), compiled=False, reason=reason)


@pytest.mark.parametrize("body", ["np.diff(x[0, 0])", "np.diff(x, n=-1)", "np.vstack([x, y[:, :2]])"])
def test_errors_are_numpys(check, body):
    check(function_of(body), rand(4, 5), rand(4, 5, seed=1))
