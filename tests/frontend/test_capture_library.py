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
