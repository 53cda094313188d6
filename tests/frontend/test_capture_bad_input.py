"""Bad input: what cannot be compiled is refused clearly or runs eagerly; user exceptions
surface exactly as in eager; fullgraph=True names the user's file and line; ember.explain."""
from __future__ import annotations

import asyncio
import os
import traceback
from collections.abc import Callable
from typing import Any

import ember
import numpy as np
import pytest


@pytest.mark.parametrize("target", [3, "f", np.ones(3)], ids=["int", "str", "array"])
def test_compile_non_callable_is_type_error(target):
    with pytest.raises(TypeError, match="ember.compile"):
        ember.compile(target)


@pytest.mark.parametrize("target", [len, np.add, np.exp, np.zeros, max, print], ids=lambda t: t.__name__)
def test_compile_builtin_or_ufunc_is_type_error(target):
    with pytest.raises(TypeError, match="builtin or C function"):
        ember.compile(target)


def test_generator_function_runs_eagerly():
    def gen(x):
        yield x * 2
        yield x + 1

    compiled = ember.compile(gen)
    x = np.arange(3.0)
    got = list(compiled(x))
    assert [g.tolist() for g in got] == [g.tolist() for g in gen(x)]
    report = ember.explain(gen)(x)
    assert report.graph_count == 0 and report.break_count == 1 and "generator" in report.breaks[0].reason


def test_async_function_runs_eagerly():
    async def coro(x):
        return x * 2

    compiled = ember.compile(coro)
    x = np.arange(3.0)
    assert np.array_equal(asyncio.run(compiled(x)), x * 2)


@pytest.mark.parametrize("kind", ["generator", "async"])
def test_generator_and_async_with_fullgraph_raise(kind):
    target: Callable[..., Any]
    if kind == "generator":
        def target(x):
            yield x
    else:
        async def target(x):
            return x

    compiled = ember.compile(target, fullgraph=True)
    with pytest.raises(ember.GraphBreakError, match="generator|coroutine"):
        compiled(np.ones(2))


def test_generator_called_inside_compiled_function(check, arr):
    def gen(x):
        yield x

    def drained(x):  # sum takes every item before it returns: traced (test_capture_generators.py)
        return sum(gen(x)) + 1

    def looped(x):
        total = x
        for item in gen(x):  # the loop body runs between items: CPython's
            total = total + item
        return total

    check(drained, arr((3,)))
    check(looped, arr((3,)), compiled=False, reason="generator")


def test_shape_mismatch_surfaces_as_eager(check, arr):
    def f(a, b):
        c = a * 2
        return c + b

    check(f, arr((3, 4)), arr((5,)))


def test_index_error_surfaces_as_eager(check, arr):
    def f(x):
        return x[10] * 2

    check(f, arr((3,)))


def test_python_int_zero_division_surfaces_as_eager(check, arr):
    def f(x, n):
        k = 10 // n
        return x * k

    check(f, arr((3,)), 0)


def test_python_float_zero_division_surfaces_as_eager(check, arr):
    def f(x, s):
        return x * (1.0 / s)

    check(f, arr((3,)), 0.0)


def test_assert_surfaces_as_eager(check, arr):
    def f(x):
        assert x.ndim == 1, "need a vector"
        return x * 2

    check(f, arr((3,)))
    check(f, arr((3, 2)))


def test_raise_statement_surfaces_as_eager(check, arr):
    def f(x):
        if x.shape[0] > 2:
            raise ValueError(f"too long: {x.shape[0]}")
        return x

    check(f, arr((3,)))
    check(f, arr((2,)))


def test_key_and_attribute_errors_surface_as_eager(check, arr):
    def f(x, d):
        return x * d["missing"]

    def g(x):
        return x.no_such_attribute

    check(f, arr((3,)), {"present": 1.0})
    check(g, arr((3,)))


def test_user_traceback_points_at_user_code(arr):
    def f(a, b):
        return a + b  # the failing line

    compiled = ember.compile(f)
    with pytest.raises(ValueError) as info:
        compiled(arr((3,)), arr((4,)))
    frames = traceback.extract_tb(info.value.__traceback__)
    assert any(frame.filename == __file__ and "the failing line" in (frame.line or "") for frame in frames)


def test_fullgraph_print_names_file_and_line(arr):
    def f(x):
        y = x + 1
        print("side effect")
        return y

    compiled = ember.compile(f, fullgraph=True)
    with pytest.raises(ember.GraphBreakError) as info:
        compiled(arr((3,)))
    message = str(info.value)
    line = f.__code__.co_firstlineno + 2
    assert os.path.basename(__file__) in message and f":{line}" in message
    assert "print" in message


def test_fullgraph_on_capturable_function_compiles(arr):
    def f(x):
        return np.exp(x) + 1

    compiled = ember.compile(f, fullgraph=True)
    x = arr((3,))
    np.testing.assert_allclose(compiled(x), np.exp(x) + 1)


def test_fullgraph_user_error_raises_the_user_error(arr):
    def f(a, b):
        return a + b

    compiled = ember.compile(f, fullgraph=True)
    with pytest.raises(ValueError, match="broadcast"):
        compiled(arr((3,)), arr((4,)))


def test_object_arrays_fall_back(check):
    def f(x):
        return x + x

    check(f, np.array([1, "a", None], dtype=object)[:2], compiled=False, reason="object")


def test_unsupported_dtypes_fall_back(check):
    def f(x):
        return x[::-1]

    check(f, np.array(["a", "b"]), compiled=False)
    check(f, np.array([1, 2], dtype="datetime64[D]"), compiled=False)


def test_ndarray_subclass_falls_back(check):
    def f(x):
        return x * 2

    check(f, np.ma.masked_array([1.0, 2.0], mask=[False, True]), compiled=False)


def test_explain_reports_graphs_and_breaks(arr):
    def clean(x):
        return x * 2

    def breaking(x):
        y = x * 2
        print(end="")
        return y + 1

    report = ember.explain(clean)(arr((3,)))
    assert report.graph_count == 1 and report.break_count == 0 and report.breaks == []
    assert report.ops_per_graph and report.ops_per_graph[0] >= 1
    report = ember.explain(breaking)(arr((3,)))
    assert report.break_count >= 1
    info = report.breaks[0]
    assert "print" in info.reason
    assert info.loc is not None and info.loc.filename == __file__
    assert info.loc.lineno == breaking.__code__.co_firstlineno + 2
    assert "print" in str(report)
    np.testing.assert_allclose(report.result, arr((3,)) * 2 + 1)
