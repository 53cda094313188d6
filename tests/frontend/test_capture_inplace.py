"""In-place updates with NumPy's aliasing semantics: the caller must see the same mutated
arrays as in eager, including writes through views and updates that read what they write."""
from __future__ import annotations

import warnings

import ember
import numpy as np
import pytest
from ember.frontend import trace


@pytest.mark.parametrize("symbol", ["+", "-", "*", "/", "//", "%", "**"])
def test_augmented_assignment_on_input(check, arr, symbol):
    namespace: dict = {}
    exec(f"def f(x, y):\n    x {symbol}= y\n    return x", namespace)
    check(namespace["f"], arr((3, 4), low=1, high=3), arr((4,), seed=1, low=1, high=2))


@pytest.mark.parametrize("symbol", ["&", "|", "^", "<<", ">>"])
def test_augmented_bitwise_on_input(check, arr, symbol):
    namespace: dict = {}
    exec(f"def f(x, y):\n    x {symbol}= y\n    return x", namespace)
    check(namespace["f"], arr((5,), np.int32, low=0, high=5), arr((5,), np.int32, seed=1, low=0, high=3))


def test_inplace_returns_the_same_object(check, arr):
    def f(x, y):
        x += y
        x *= 2
        return x

    check(f, arr((4,)), arr((4,), seed=1))


def test_inplace_with_python_scalar_keeps_dtype(check, arr):
    def f(x):
        x += 1
        x *= 2.5
        return x

    check(f, arr((4,), np.float32))


def test_inplace_same_kind_casting_error_as_eager(check, arr):
    def f(x, y):
        x += y
        return x

    check(f, arr((3,), np.int64), arr((3,), np.float64))


def test_inplace_broadcast_error_as_eager(check, arr):
    def f(x, y):
        x += y
        return x

    check(f, arr((3,)), arr((2, 3)))


def test_slice_assignment_stencil(check, arr):
    def f(a):
        a[1:-1, 1:-1] = 0.25 * (a[:-2, 1:-1] + a[2:, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:])
        return a

    check(f, arr((6, 7)))


def test_stencil_into_output(check, arr):
    def f(a, out):
        out[1:-1, 1:-1] = 0.25 * (a[:-2, 1:-1] + a[2:, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:])
        return out

    check(f, arr((6, 7)), np.zeros((6, 7)))


def test_ellipsis_assignment(check, arr):
    def f(x, out):
        out[...] = x * 2
        return None

    check(f, arr((3, 4)), np.empty((3, 4)))


def test_flip_update_reads_what_it_writes(check):
    def f(y, k):
        y[:k] += np.flip(y[:k])
        return y

    check(f, np.arange(10.0), 6)


def test_overlapping_shifted_update(check):
    def f(y):
        y[1:] += y[:-1]
        y[:-1] = y[1:]
        return y

    check(f, np.arange(8.0))


def test_scalar_and_row_assignment(check, arr):
    def f(x):
        x[0] = 1.0
        x[:, 1] = -1
        x[2, 3] = 7
        x[1, :] = x[0, :] * 3
        x[::2, ::-1] = np.arange(x.shape[1])
        return x

    check(f, arr((4, 5)))


def test_assignment_casts_unsafely_like_numpy(check, arr):
    def f(x, y):
        x[:] = y
        return x

    check(f, arr((4,), np.int32), arr((4,), np.float64, seed=1))


def test_writes_through_views_of_inputs(check, arr):
    def f(x):
        v = x.T
        v[0] = 0.0
        w = x[::2]
        w *= 10
        r = x.reshape(-1)
        r[0] = 5.0
        return x.sum()

    check(f, arr((4, 3)))


def test_write_through_view_then_read_base(check, arr):
    def f(x):
        row = x[1]
        row += 100
        return x * 1, row

    check(f, arr((3, 4)))


def test_mutating_a_temporary_does_not_touch_inputs(check, arr):
    def f(x):
        y = x * 1
        y[0] = 0
        z = x.copy()
        z += 1
        return y, z

    check(f, arr((3,)))


def test_mutation_of_created_array(check, arr):
    def f(x):
        out = np.zeros((3, x.shape[0]))
        out[0] = x
        out[1, ::2] = 1.0
        out[2] += x * x
        return out

    check(f, arr((4,)))


def test_two_arguments_that_alias(check):
    def make():
        base = np.arange(10.0)
        return (base[2:], base[:-2]), {}

    def f(a, b):
        a += b
        return a, b

    check(f, make_args=make, entries=None)


def test_same_array_passed_twice(check):
    def make():
        x = np.arange(6.0)
        return (x, x), {}

    def f(a, b):
        a += 1
        return a + b

    check(f, make_args=make, entries=None)


def test_aliasing_changes_recompile_or_stay_correct(check):
    def f(a, b):
        a += b
        return a

    compiled = check(f, np.arange(5.0), np.ones(5), entries=None)

    def make():
        base = np.arange(6.0)
        return (base[1:], base[:-1]), {}

    check(f, make_args=make, compiled_fn=compiled, entries=None, compiled=None)


def test_read_only_input_raises_as_eager(check):
    def make():
        x = np.arange(4.0)
        x.flags.writeable = False
        return (x,), {}

    def f(x):
        x += 1
        return x

    check(f, make_args=make, compiled=None)


def test_broadcast_view_write_raises_as_eager(check, arr):
    def f(x):
        y = np.broadcast_to(x, (3, 4))
        y[0] = 1
        return y

    check(f, arr((4,)))


def test_a_write_into_a_broadcast_arrays_view_runs_eagerly(check, arr):
    """NumPy writes into np.broadcast_arrays's views (with a FutureWarning), element by element
    through memory the view repeats: eager NumPy does it, and fullgraph=True says so."""
    def f(x, y):
        a, _ = np.broadcast_arrays(x, y)
        a += 1.0
        return x, a

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        check(f, arr((4,)), arr((3, 4), seed=1), compiled=False, reason="a view np.broadcast_arrays made")
        with pytest.raises(ember.GraphBreakError, match="np.broadcast_arrays"):
            ember.compile(f, fullgraph=True)(arr((4,)), arr((3, 4), seed=1))


def test_inplace_on_numpy_scalar_rebinds(check):
    def f(s, x):
        t = s
        t += 1
        return s, t, x

    check(f, np.float32(2.0), np.ones(2))


def test_ufunc_out_into_input(check, arr):
    def f(x, y):
        np.exp(x, out=x)
        np.add(x, y, out=y)
        return x, y

    check(f, arr((3,)), arr((3,), seed=1))


def test_fill_method(check, arr):
    def f(x):
        x.fill(3)
        return x

    check(f, arr((2, 2)))


def test_mutation_order_with_reads_in_between(check, arr):
    def f(x):
        before = x.sum()
        x[0] = 100.0
        middle = x.sum()
        x *= 2
        return before, middle, x.sum(), x

    check(f, arr((4,)))


def test_mutated_input_is_guarded_writeable():
    def f(x):
        x += 1
        return x

    capture = trace(f, (np.ones(3),))
    assert any("writeable" in g.text for g in capture.guards.guards)


def test_same_expression_before_and_after_a_write_through_a_view(check, arr):
    def f(x):
        y = x[:]
        a = x * 2
        y += 1
        b = x * 2
        return a, b

    check(f, arr((4,)))


def test_view_read_before_and_after_a_write_to_its_base(check, arr):
    def f(x):
        v = x[1:]
        a = v * 2
        x += 1
        b = v * 2
        return a, b, v.sum(), x

    check(f, arr((4,)))


def test_stale_view_of_a_created_array(check, arr):
    def f(x):
        buf = np.zeros(4)
        head = buf[:2]
        first = head + 0
        buf[:] = x
        second = head + 0
        return first, second

    check(f, arr((4,)))


def test_argument_aliasing_with_repeated_expressions(check):
    def make():
        base = np.arange(6.0)
        return (base, base[::-1]), {}

    def f(a, b):
        before = b * 1
        a[0] = 100.0
        after = b * 1
        return before, after

    check(f, make_args=make, entries=None)


def test_inplace_on_numpy_scalar_with_array_rebinds(check):
    def f(x, y):
        s = np.exp(x)  # a NumPy scalar: += makes a new array of y's shape
        s += y
        return s

    check(f, np.array(0.5), np.array([1.0, 2.0]))


def test_inplace_on_broadcast_view_raises_as_eager(check, arr):
    def f(x):
        v = np.broadcast_to(x, (2, 3))
        v += x
        return v

    check(f, arr((3,)))


def test_accumulation_in_a_loop_is_one_store(check, backend):
    """``out += k[i, j] * a[...]`` nine times: the stores overwrite each other whole, so one
    write of ``out`` remains (passes/stores.py), one kernel on the llvm backend."""
    def conv(a, k):
        out = np.zeros((a.shape[0] - 2, a.shape[1] - 2), a.dtype)
        for i in range(3):
            for j in range(3):
                out += k[i, j] * a[i:i + a.shape[0] - 2, j:j + a.shape[1] - 2]
        return out

    rng = np.random.default_rng(0)
    compiled = check(conv, rng.standard_normal((40, 37)).astype(np.float32),
                     rng.standard_normal((3, 3)).astype(np.float32))
    assert compiled.entries[0].stages["optimized"].count("setitem(") == 1
    if backend == "llvm":
        assert compiled.entries[0].stages["kernels"].count("kernel k") == 1


def test_accumulation_into_arguments_that_may_alias(check):
    """The updates read ``b``, which may be ``a`` itself: every write stays, in order."""
    def f(a, b):
        for _ in range(3):
            a += 0.5 * b
        a *= 2
        return a

    def same():
        x = np.arange(6.0)
        return (x, x), {}

    def overlapping():
        base = np.arange(10.0)
        return (base[2:], base[:-2]), {}

    compiled = check(f, np.arange(8.0), np.ones(8), entries=None)
    check(f, make_args=same, compiled_fn=compiled, entries=None)
    check(f, make_args=overlapping, compiled_fn=compiled, entries=None)


def test_an_optimizer_step_writes_each_argument_once(check, backend):
    """Adam's in-place updates of three arguments, each reading the others: where the arguments
    share no memory (guarded), each keeps one whole store and every read of an updated array
    takes the value stored (passes/stores.py), so the llvm backend runs one kernel; arguments that
    overlap (the same array twice, or shifted views of one buffer) compile again and behave as
    in eager."""
    def adam(p, g, m, v):
        m *= 0.9
        m += 0.1 * g
        v *= 0.999
        v += 0.001 * g * g
        p -= 1e-3 * m / (np.sqrt(v) + 1e-8)

    def distinct():
        rng = np.random.default_rng(0)
        p, g, m = (rng.standard_normal(50).astype(np.float32) for _ in range(3))
        return (p, g, m, np.abs(rng.standard_normal(50)).astype(np.float32)), {}

    def shared():
        (p, g, _, v), _ = distinct()
        return (p, g, g, v), {}

    def shifted():
        base = np.abs(np.random.default_rng(1).standard_normal(60)).astype(np.float32)
        return (base[2:52], base[1:51], base[:50], base[3:53]), {}

    compiled = check(adam, make_args=distinct)
    optimized = compiled.entries[0].stages["optimized"]
    assert optimized.count("setitem(") == 3, optimized
    if backend == "llvm":
        assert compiled.entries[0].stages["kernels"].count("kernel k") == 1
    check(adam, make_args=shared, compiled_fn=compiled, entries=None)
    check(adam, make_args=shifted, compiled_fn=compiled, entries=None)


def test_accumulation_with_a_view_read_between_updates(check, arr):
    def f(x):
        acc = np.zeros_like(x)
        head = acc[:2]
        acc += x
        first = head.sum()  # reads the first update through a view made before it
        acc += x * x
        return acc, first

    check(f, arr((5, 3)))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e30, 3.7, -1.0, 300.0])
def test_a_numpy_float_scalar_stored_into_an_integer_array(check, dtype, value):
    """NumPy converts a float scalar as Python's ``int()`` does (NaN and infinities raise, past the
    dtype too), where a kernel's cast, an array's, stores INT_MIN: the store runs through NumPy."""
    def f(x, s):
        x[...] = s * 2.0
        return x

    for shape in ((), (3,)):
        check(f, np.zeros(shape, dtype), np.float64(value), compiled=None)


@pytest.mark.parametrize("write", ["s[0] = 0.0", "s[1] *= 3", "s[:, 0] = -1.0", "np.add.at(s, (0, 1), 10.0)"])
@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min", "prod"])
def test_a_stacked_copy_written_before_it_is_reduced(check, rand, write, reduction):
    """A reduction of a stack over its first axis may combine the parts instead, unless the
    stacked copy was written."""
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    s = np.stack([x * 2, x + 1])\n    {write}\n    return s.{reduction}(axis=0)", namespace)
    check(namespace["f"], rand(4))


@pytest.mark.parametrize("make", [
    lambda base: np.lib.stride_tricks.as_strided(base, (4, 5), (0, base.itemsize)),
    lambda base: np.lib.stride_tricks.sliding_window_view(base, 3, writeable=True),
    lambda base: base[::2].reshape(1, -1)[:, ::-1],  # no overlap: compiled as before
], ids=["rows of one row", "sliding window", "plain view"])
def test_an_input_whose_elements_overlap_is_written_as_numpy_does(check, make):
    """NumPy writes an output whose elements share memory through a copy (each element once);
    a kernel updating them in place added once per alias."""
    def f(x):
        x += 1
        x *= 2
        return x

    def make_args():
        return (make(np.arange(6.0)),), {}

    check(f, make_args=make_args, compiled=None)
