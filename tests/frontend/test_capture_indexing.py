"""Indexing with integer arrays (NumPy's advanced indexing) and np.take_along_axis: captured as
graph ops that NumPy runs, so an index out of bounds raises exactly as in eager, in eager's order
with the function's writes, even when the result is unused."""
from __future__ import annotations

import ember
import numpy as np
import pytest


def rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def labels(n, classes, seed=1):
    return np.random.default_rng(seed).integers(0, classes, n)


def cross_entropy(logits, labels):
    m = logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(axis=1, keepdims=True)) + m
    return (lse[:, 0] - logits[np.arange(len(labels)), labels]).mean()


def cross_entropy_along_axis(logits, labels):
    m = logits.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(axis=-1, keepdims=True)) + m
    return (lse - np.take_along_axis(logits, labels[:, None], axis=-1)).mean()


@pytest.mark.parametrize("fn", [cross_entropy, cross_entropy_along_axis])
def test_cross_entropy_is_one_graph(check, fn):
    compiled = check(fn, rand(64, 10), labels(64, 10))
    assert "advanced_index" in compiled.entries[0].stages["graph"] or \
        "take_along_axis" in compiled.entries[0].stages["graph"]


@pytest.mark.parametrize("body", [
    "x[idx]", "x[:, idx] * 2.0", "x[idx, 1:3]", "x[..., idx[:2]]", "x[idx[:, None], idx]",
    "x[np.newaxis, idx]", "x[2, idx] + x[idx, 2]", "x.T[idx]", "x[idx][idx[:2]]",
    "np.take_along_axis(x, np.abs(idx[:, None]), axis=1)",
    "x[idx[0:1].reshape(())]", "x[idx[2:3].reshape(()), idx[0:1].reshape(())]",   # 0-d: a copy; two: a scalar
    "x[idx.argmax(), idx]",   # a traced NumPy integer next to an array

])
def test_integer_array_indices_compile(check, body):
    namespace = {"np": np}
    exec(f"def f(x, idx):\n    return {body}\n", namespace)
    check(namespace["f"], rand(6, 6), np.array([3, -1, 5, 0]))


@pytest.mark.parametrize("idx", [np.array([1, 6]), np.array([-7]), np.array([[0], [9]])])
def test_an_index_out_of_bounds_raises_as_in_eager(check, idx):
    def f(x, idx):
        return x[idx] + 1.0

    check(f, rand(6, 3), idx)


def test_an_unused_result_still_raises(check):
    def f(x, idx):
        unused = x[:, idx]  # noqa: F841 - eager raises for a bad index even so
        return x * 2.0

    check(f, rand(3, 4), np.array([0, 1]))
    check(f, rand(3, 4), np.array([0, 4]))


def test_writes_before_a_bad_index_happen_and_writes_after_it_do_not(check):
    def f(x, y, z, idx):
        x[...] = 1.0
        doubled = y * 2.0          # computed before the index, written after it: a kernel with
        picked = z[idx]            # both would start before the index is checked
        y[...] = doubled
        return picked

    for idx in (np.array([0, 2]), np.array([0, 5])):
        check(f, rand(3), rand(3, seed=1), rand(4, seed=2), idx)


def test_take_along_axis_and_a_float_index(check):
    def f(x, idx):
        return np.take_along_axis(x, idx, axis=0), np.take_along_axis(x, idx[:1], None)

    check(f, rand(4, 3), labels(6, 4).reshape(2, 3))
    check(f, rand(4, 3), labels(6, 4).reshape(2, 3).astype(np.float32))  # eager raises IndexError


def test_a_boolean_mask_still_breaks(check):
    def f(x):
        return x[x > 0] * 2.0

    check(f, rand(5), compiled=False, reason="boolean")


def test_dynamic_sizes_compile_the_indexed_array_static(check, backend):
    compiled = ember.compile(cross_entropy, backend=backend, dynamic=True)
    for n in (8, 13, 20):
        check(cross_entropy, rand(n, 10, seed=n), labels(n, 10), compiled_fn=compiled, entries=None)
    assert all(e.run is not None for e in compiled.entries)


def test_the_error_of_a_function_that_wrote_first_names_the_line(backend):
    import ember

    def f(x, z, idx):
        x[...] = 1.0
        return z[idx]

    compiled = ember.compile(f, backend=backend)
    compiled(np.zeros(3), np.arange(4.0), np.array([1]))
    with pytest.raises(IndexError, match="out of bounds") as raised:
        compiled(np.zeros(3), np.arange(4.0), np.array([9]))
    assert any("test_capture_indexing.py" in note and "return z[idx]" in note for note in raised.value.__notes__)


@pytest.mark.parametrize("body", [
    "x[x < 0] = 0.0", "x[x > 1] = 1", "x[(x > 0) & (y > 0)] = -2.5", "y[y < x] = 1e40", "x[x != x] = 0.0",
])
def test_assigning_a_scalar_through_a_mask_compiles(check, body):
    namespace = {"np": np}
    exec(f"def f(x, y):\n    {body}\n    return x * 2.0, y\n", namespace)
    x = rand(5, 4)
    x[0, 0] = np.nan
    check(namespace["f"], x, rand(5, 4, seed=1))


@pytest.mark.parametrize("dtype, value, compiled", [
    (np.int8, "3", True), (np.int8, "300", None), (np.uint8, "-1", None), (np.int32, "2.5", False),
    (np.int64, "np.nan", None), (np.bool_, "True", True), (np.bool_, "1", False), (np.complex64, "2.0", True),
])
def test_a_masked_fill_converts_the_value_as_numpy_does(check, dtype, value, compiled):
    namespace = {"np": np}
    exec(f"def f(x, m):\n    x[m] = {value}\n    return x\n", namespace)
    x = (rand(6, seed=2) * 4).astype(dtype)
    check(namespace["f"], x, rand(6, seed=3) > 0, compiled=compiled)


def test_a_mask_of_another_shape_or_an_array_value_runs_eagerly(check):
    def f(x, y):
        x[x[:, 0] > 0] = 0.0         # a mask over the rows only
        y[y > 0] = x[x > 0][:1]      # values from an array
        return x, y

    check(f, rand(4, 3), rand(4, 3, seed=1), compiled=False)


@pytest.mark.parametrize("body", [
    "x[[0, 2], 1:3]", "x[[0, 2]] * 2.0", "x[:, [4, 0, 4]]", "x[[0, 5], [1, 2]]", "x[[[0], [2]], [1, 3]]",
    "x[[-1, 0]]", "x[[0, 9]]", "x[[1.0]]",   # the last two raise IndexError, as in eager
])
def test_a_list_of_ints_in_an_index_is_an_integer_array_index(check, body):
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    return {body}\n", namespace)
    check(namespace["f"], rand(6, 5))


@pytest.mark.parametrize("body", ["x[[True, False, True, False, True, False]]", "x[[]]",
                                  "x[[[0], [1, 2]]]"])   # ragged: NumPy's ValueError, from the eager run
def test_lists_of_bools_or_nothing_still_break(check, body):
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    return {body}\n", namespace)
    check(namespace["f"], rand(6, 5), compiled=False, reason="sequence")
