"""Array creation: zeros/ones/full/empty (shape only), *_like, arange, linspace, eye."""
from __future__ import annotations

import numpy as np
import pytest


def test_zeros_ones_full(check, arr):
    def f(x):
        n = x.shape[0]
        return (np.zeros(n), np.zeros((n, 2), np.float32), np.ones((2, n), dtype=np.int32), np.ones(3, bool),
                np.full((n,), 7), np.full((2, 2), 1.5, dtype=np.float32), np.full(n, True), x + np.ones(n))

    check(f, arr((4,)))


def test_empty_shape_and_dtype_only(check, arr):
    def f(x):
        e = np.empty((x.shape[0], 3), np.float32)
        like = np.empty_like(x)
        return e.shape, e.dtype, like.shape, like.dtype

    check(f, arr((4,)))


def test_empty_then_filled(check, arr):
    def f(x):
        out = np.empty_like(x)
        out[...] = x * 2
        buf = np.empty(x.shape)
        buf[:] = 1.0
        return out, buf

    check(f, arr((2, 3)))


def test_like_functions(check, arr):
    def f(x):
        return (np.zeros_like(x), np.ones_like(x), np.full_like(x, 3), np.zeros_like(x, dtype=np.int32),
                np.ones_like(x, shape=(2,)), np.full_like(x, 0.5, dtype=np.float64))

    check(f, arr((3, 2), np.float32))


def test_like_of_non_contiguous_input(check, arr):
    def f(x):
        return np.zeros_like(x) + x, np.ones_like(x).shape

    check(f, arr((3, 4), layout="transposed"))


@pytest.mark.parametrize("args", [(5,), (1, 7), (0, 1, 0.25), (10, 0, -3), (2.5,), (0,)])
def test_arange(check, arr, args):
    def f(x):
        return np.arange(*args), np.arange(*args, dtype=np.float32)

    check(f, arr((2,)), compiled=None)


def test_arange_in_expression(check, arr):
    def f(x):
        return x * np.arange(x.shape[-1]) + np.arange(1, 2 * x.shape[-1], 2, dtype=np.float32)

    check(f, arr((3, 4), np.float32))


def test_linspace_and_eye(check, arr):
    def f(x):
        n = x.shape[0]
        return (np.linspace(0, 1, n), np.linspace(-1.0, 1.0, num=5, endpoint=False), np.linspace(0, 10, 4, dtype=int),
                np.eye(n), np.eye(n, 3, k=1), np.eye(2, dtype=np.int32), x @ np.eye(n))

    check(f, arr((4, 4)))


def test_creation_returns_fresh_arrays_each_call(check, arr):
    def f(x):
        a = np.zeros(3)
        b = np.zeros(3)
        a[0] = 1.0
        return a, b, np.array([1.0, 2.0, 3.0])

    compiled = check(f, arr((1,)))
    first, second = compiled(np.ones(1)), compiled(np.ones(1))
    assert first[2] is not second[2] and not np.shares_memory(first[2], second[2])
    first[2][0] = 99.0
    assert compiled(np.ones(1))[2][0] == 1.0


def test_creation_with_bad_shape_raises_as_eager(check, arr):
    def f(x):
        return np.zeros((-1, 2))

    check(f, arr((1,)))


@pytest.mark.parametrize("body", [
    "np.array([x.sum(), y.sum()])", "np.array([x.sum(), 1.0])", "np.array([x.sum(), 1])",
    "np.array([[x.sum(), 1.0], [2.0, y.max()]])", "np.array([x[0], y[0]])",
    "np.array([x[0], y[0]], dtype=np.float64)", "np.array([x.sum(), y.sum()], dtype=np.int64)",
    "np.array((x.sum(), y.sum()))", "np.asarray([x.sum(), y.sum()])", "np.array([x.sum()])",
    "np.array([x[0, 0] > 0, y[0, 0] > 0])", "np.array([np.float32(1.0), x.sum()])",
    "np.array([x.argmax(), 2])", "np.array([x.sum(), 1j])", "np.array([x, y]).sum(0)",
    "np.sum([x.sum(), y.sum()])", "np.maximum([x.sum(), y.sum()], 0)",
    "x[0] + [x.sum(), y.sum(), 1.0, 2.0, 3.0]", "[[1.0], [2.0]] * x[0]", "x[0] - [y[1], y[2]]"])
def test_array_of_a_list_of_traced_values_promotes_like_numpy(check, rand, function_of, body):
    """Each level of the list is one stack, in the dtype np.array discovers (a Python float is
    float64 there, not a weak scalar); before this, the result was an object array of graph nodes."""
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1))


@pytest.mark.parametrize("body", [
    "np.asarray(x.sum())", "np.asanyarray(np.exp(x[0, 0]))", "np.array(x.max())", "np.array(x.sum(), dtype=np.int32)",
    "np.copy(x.sum())", "np.broadcast_arrays(x.sum(), y)[0]", "np.broadcast_arrays(np.exp(x[0, 0]), y[0, 0])[0]",
    "np.asarray(x.sum()) + 1", "x.sum().copy()"])
def test_a_numpy_scalar_made_an_array_is_a_0d_array(check, rand, function_of, body):
    """np.asarray, np.array, np.copy and np.broadcast_arrays turn a NumPy scalar into a 0-d array
    (a scalar's own copy() stays a scalar); compiled code gave back the scalar."""
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1))


def test_array_of_a_ragged_list_raises_as_numpy_does(check, rand, function_of):
    check(function_of("np.array([x[0], y[1:2]])"), rand(6, 5), rand(6, 5, seed=1), compiled=None)


@pytest.mark.parametrize("body", ["np.array([None, x.max()])", "np.array([x.max(), 1.0], dtype=object)",
                                  "np.array([1, None]) + x[0, :2]"])
def test_arrays_of_python_objects_run_eagerly(check, rand, function_of, body):
    """The kernels have no object dtype, and an object array's elements keep their exact types."""
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1), compiled=False)


def written_through_asarray(x, order):
    y = np.asarray(x.T, order=order)  # C/F: a copy of x.T (its layout is neither); K/A/None: x.T itself
    y[0, 0] = 7.0
    return y * 1


@pytest.mark.parametrize("order", ["C", "F", "K", "A", None])
def test_asarray_with_an_order_copies_as_numpy_does(check, order):
    # (order="C" used to return x.T itself: the write then reached the caller's x)
    check(written_through_asarray, np.arange(6.0).reshape(2, 3), order)


@pytest.mark.parametrize("body", [
    "np.ascontiguousarray(x.T) * 2", "np.ascontiguousarray(x)", "np.asfortranarray(x)",
    "np.ascontiguousarray(x[:, ::2])", "np.asfortranarray(x.T)", "np.ascontiguousarray(x + y)",
    "np.ascontiguousarray((x + y).T)", "np.asfortranarray((x * 2).T) + 1", "np.ascontiguousarray(x, dtype=np.float32)",
    "np.asfortranarray(x, dtype=np.int32)", "np.ascontiguousarray(x.sum())", "np.ascontiguousarray(x[0, 0])",
    "np.asarray(x.T, order='C') + 1", "np.asarray(x, order='F')", "np.array(x.T, order='C')",
    "np.array(x.T, order='A')", "np.array(x, order=None) * 1"])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_contiguous_arrays_are_the_argument_itself_or_a_copy_as_in_numpy(check, function_of, body, layout):
    """NumPy returns the argument itself where its layout already is the one asked for (only the
    run time knows that of a computed value), else a copy: same object, strides and values."""
    x = np.arange(12.0).reshape(3, 4)
    fn = function_of(body)
    compiled = check(fn, np.asfortranarray(x) if layout == "F" else x, x + 1)
    want = fn(np.asfortranarray(x) if layout == "F" else x, x + 1)
    got = compiled(np.asfortranarray(x) if layout == "F" else x, x + 1)
    assert np.asarray(got).strides == np.asarray(want).strides


@pytest.mark.parametrize("make", ["np.ascontiguousarray(x)", "np.ascontiguousarray(x.T)", "np.asfortranarray(x)",
                                  "np.asfortranarray(x[::2])", "np.asarray(x, order='C')"])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_writes_into_a_contiguous_array_reach_the_argument_only_where_numpy_returned_it(check, layout, make):
    source = f"def f(x):\n    y = {make}\n    y[0] = 7.0\n    return x * 1, y * 1\n"
    namespace: dict = {"np": np}
    exec(source, namespace)
    x = np.arange(12.0).reshape(4, 3)
    check(namespace["f"], np.asfortranarray(x) if layout == "F" else x)


@pytest.mark.parametrize("order", ["C", "F", "K"])
def test_array_with_an_order_lays_out_as_numpy_does(order):
    import ember

    def f(x):
        return np.array(x.T, order=order)

    x = np.arange(6.0).reshape(2, 3)
    got, want = ember.compile(f)(x), f(x)
    np.testing.assert_array_equal(got, want)
    assert got.strides == want.strides and not np.shares_memory(got, x)


@pytest.mark.parametrize("body", ["x.copy()", "np.copy(x)", "(x * 2).copy()", "x.copy(order='A')",
                                  "x.copy(order='F')", "x.astype(np.float32, order='C') + 1",
                                  "np.copy(x, order='C')", "x.T.copy() * 1"])
def test_copies_are_laid_out_as_numpy_lays_them_out(body, function_of):
    # x.copy() is C-ordered (np.copy keeps the layout): a compiled F-ordered copy made
    # `y.shape = (6,)` fail in the caller where eager's worked
    import ember

    fn = function_of(body)
    x = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    got, want = ember.compile(fn, backend="llvm")(x, None), fn(x, None)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == want.dtype and got.strides == want.strides


@pytest.mark.parametrize("body", ["np.array(x, copy=False) + 1", "np.array(x, dtype=np.int64, copy=False)",
                                  "np.array(x.sum(), copy=False)", "np.array(x, copy=None) * 2",
                                  "np.full((2, 3), 1.5, order='F') + x[:2, :3]", "np.eye(4, order='F') * x[0, 0]"])
def test_array_copy_false_and_creation_orders_behave_as_numpy(check, body, function_of, rand):
    check(function_of(body), rand(3, 4), rand(3, 4, seed=1), compiled=None)


@pytest.mark.parametrize("body", ["np.zeros_like(x)", "np.ones_like(x, dtype=np.int8)", "np.full_like(x, 2.5)",
                                  "np.empty_like(x).shape", "np.zeros_like(x[:, ::2]) + 1",
                                  "np.ones_like(x.T) * x.T", "np.full_like(x, 7, shape=(2, 2))"])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_like_creations_are_laid_out_like_their_array(body, layout, function_of):
    # order='K': the layout of x (F-ordered here) that only the run time sees for computed values
    import ember

    fn = function_of(body)
    x = np.arange(12.0).reshape(3, 4)
    x = np.asfortranarray(x) if layout == "F" else x
    got, want = ember.compile(fn, backend="llvm")(x, None), fn(x, None)
    if isinstance(want, np.ndarray):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype and got.strides == want.strides
    else:
        assert got == want


@pytest.mark.parametrize("body", [
    "a[...] = [1, 2, 300]", "a[1:] = [-1, 2]", "a[:2] = (1, 2)", "a[...] = [1.5, 2.7, 3.2]",
    "a = np.array([1, 2, 300], dtype=np.uint8)", "a = np.asarray([1, -2, 3], dtype=np.uint8)",
    "a = np.array(300, dtype=np.uint8)", "a = np.array([1.0, 2.0, 3.0], dtype=np.uint8)",
    "a[:2] = [a[2], 300]", "a = np.array([b[0], 300], dtype=np.uint8)", "a = np.asarray([b[0], -1], dtype=np.uint8)",
])
def test_python_values_converted_to_a_dtype_with_numpys_checks(check, body):
    """NumPy converts Python values straight to the destination's dtype, raising where they do
    not fit (OverflowError), not through int64 with wrap-around."""
    namespace: dict = {"np": np}
    exec(f"def f(a, b):\n    {body}\n    return a + b\n", namespace)
    check(namespace["f"], np.zeros(3, np.uint8), np.ones(3, np.uint8), compiled=None)
    check(namespace["f"], np.zeros(3, np.int32), np.ones(3, np.int32), compiled=None)


def test_nan_into_integers_raises_as_eager(check):
    def f(a):
        a[:2] = [np.nan, 1.0]
        return a

    check(f, np.zeros(3, np.int32), compiled=None)


@pytest.mark.parametrize("body", ["b = np.broadcast_to(2.0, (3,))\n    b += x",
                                  "b = np.broadcast_to([1.0, 2.0, 3.0], 3)",
                                  "b = np.broadcast_to(2.0, x.shape)\n    b[0] = 5.0",
                                  "b = np.broadcast_to(2.0, (3,))\n    b[0] = 5.0",
                                  "b = np.broadcast_to([1.0, 2.0, 3.0], (2, 3))\n    b += 1"])
def test_a_broadcast_of_constants_is_read_only(check, body):
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    {body}\n    return b, b.flags.writeable\n", namespace)
    check(namespace["f"], np.arange(3.0), compiled=None)
