"""Reductions with axis, keepdims and dtype, as functions and as methods."""
from __future__ import annotations

import numpy as np
import pytest

REDUCTIONS = ("sum", "mean", "max", "min", "prod", "any", "all", "var", "std")
AXES = (None, 0, 1, -1, (0, 1), (0, 2), (-1, 0))


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_functions(check, arr, name, axis, keepdims):
    reduce = getattr(np, name)

    def f(x):
        return reduce(x, axis=axis, keepdims=keepdims)

    check(f, arr((2, 3, 4), low=0.5, high=1.5))


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "bool", "float16", "complex128"])
def test_reduction_methods_and_dtypes(check, arr, name, dtype):
    def f(x):
        method = getattr(x, name)
        return method(), method(axis=0), method(1, keepdims=True)

    check(f, arr((3, 4), dtype, low=0, high=3))


@pytest.mark.parametrize("body", [
    "np.sum(x, axis=True)", "x.max(axis=False)", "np.mean(x, axis=[0])", "np.var(x, axis=[0, 1])",
    "np.argmax(x, axis=True)", "np.sum(x, axis=(True,))", "np.count_nonzero(x, axis=[0])",
    "np.take(x, [0], axis=False)", "np.squeeze(x[:1], axis=[0])", "np.trapezoid(x, axis=True)",
    "np.gradient(x[0], axis=True)",
    "x.sum(axis=0, keepdims='a')", "x.sum(keepdims=None)", "x.max(axis=0, keepdims=[1])", "np.ptp(x, keepdims=1.5)",
    "np.linalg.norm(x, axis=0, keepdims=None)", "np.add.reduce(x, keepdims='no')", "np.nanvar(x, keepdims=None)",
    # what NumPy takes
    "np.sum(x, axis=np.int64(1), keepdims=2)", "x.sum(axis=0, keepdims=np.int64(1))",
    "np.argmax(x, axis=0, keepdims='yes')", "np.sort(x, axis=True)",
    "x.sum(dtype=object)", "x.sum(axis=0, dtype=object)",
])
def test_axis_and_keepdims_that_numpy_refuses(check, function_of, rand, body):
    """An axis that is a bool or a list, a keepdims that is not a Python bool or int: TypeError,
    as eager (they were taken as 1, 0 or a tuple). dtype=object runs eagerly (Python objects)."""
    check(function_of(body), rand(3, 4), rand(3, 4, seed=1), compiled=None)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "var", "std"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_reduction_dtype_argument(check, arr, name, dtype):
    reduce = getattr(np, name)

    def f(x):
        return reduce(x, axis=0, dtype=dtype), getattr(x, name)(dtype=dtype)

    check(f, arr((4, 3), np.float32, low=0, high=2))


def test_var_std_ddof(check, arr):
    def f(x):
        return x.var(ddof=1), np.std(x, axis=0, ddof=1), x.var(axis=1, ddof=0, keepdims=True)

    check(f, arr((4, 5)))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_arg_reductions(check, arr, name, axis, keepdims):
    def f(x):
        return getattr(np, name)(x, axis=axis, keepdims=keepdims), getattr(x, name)(axis)

    check(f, arr((3, 5)))


def test_amax_amin_aliases(check, arr):
    def f(x):
        return np.amax(x, axis=0), np.amin(x)

    check(f, arr((3, 4)))


def test_reductions_of_empty_arrays(check):
    def f(x):
        return x.sum(), x.sum(axis=0), x.prod(axis=1), x.any(), x.all(axis=0), x.mean(axis=1)

    check(f, np.zeros((0, 3)))


def test_max_of_empty_raises_as_eager(check):
    def f(x):
        return x.max()

    check(f, np.zeros((0, 3)))


def test_bad_axis_raises_as_eager(check, arr):
    def f(x):
        return x.sum(axis=2)

    check(f, arr((3, 4)))


def test_reductions_on_views_and_layouts(check, arr):
    def f(x):
        return x[::2].sum(axis=1), x.T.mean(axis=0, keepdims=True), x[::-1, 1:].max(axis=0)

    check(f, arr((6, 5), layout="transposed"))


def test_reduction_of_0d_and_scalar_results(check):
    def f(x):
        return x.sum(), np.mean(x), x.max(keepdims=True)

    check(f, np.array(3.0, np.float32))


def test_softmax_and_layernorm(check, arr):
    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def layernorm(x, w, b):
        mu = x.mean(axis=-1, keepdims=True)
        d = x - mu
        return d / np.sqrt((d * d).mean(axis=-1, keepdims=True) + 1e-5) * w + b

    check(softmax, arr((4, 8), np.float32))
    check(layernorm, arr((4, 8), np.float32), arr((8,), np.float32, seed=1), arr((8,), np.float32, seed=2))


@pytest.mark.parametrize("body", [
    "np.sum(x, where=x > 0)", "x.sum(axis=1, where=x > 0, keepdims=True)", "np.prod(x, axis=0, where=x > 0.5)",
    "np.max(x, axis=1, initial=0.0)", "np.max(x, axis=1, where=x < 1, initial=-1.0)",
    "x.min(where=x > 0, initial=10.0)",
    "np.sum(x, initial=2.5)", "np.sum(x > 0, axis=0, where=x[0] > 0)", "np.any(x > 1, where=x > 0, axis=1)",
    "np.all(x, where=x > 0)", "np.sum((x * 10).astype(np.int8), initial=300)", "np.sum(x, where=True)",
    "np.max(np.where(x > 1, np.nan, x), axis=0, initial=0.5)",   # NaN still wins
    "np.prod(x, dtype=np.float64, where=x > 0, initial=2)",
])
def test_where_and_initial(check, arr, body):
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    return {body}\n", namespace)
    check(namespace["f"], arr((4, 5), low=-1, high=2))


@pytest.mark.parametrize("body, compiled", [
    ("np.max(x, where=x > 0)", None),     # NumPy raises: no identity, no initial
    ("np.var(x, where=x.astype(np.int8))", False),   # a mask that is not bool: eager
    ("np.max((x * 10).astype(np.int32), initial=0.5)", None),   # NumPy truncates the initial: eager
    ("np.sum(x, axis=0, where=x.sum(axis=1) > 0)", False),  # a mask that does not broadcast: NumPy's error
])
def test_where_and_initial_that_run_eagerly_or_raise(check, arr, body, compiled):
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    return {body}\n", namespace)
    check(namespace["f"], arr((4, 5), low=-1, high=2), compiled=compiled)
