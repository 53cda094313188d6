"""Basic indexing and view ops: results must be views exactly where NumPy's are (the oracle
compares memory sharing with the inputs), and joins and creation must produce fresh arrays."""
from __future__ import annotations

import numpy as np
import pytest

INDICES = [
    (1,), (-1,), (slice(1, 3),), (slice(None, None, 2),), (slice(None, None, -1),), (slice(-2, None),),
    (1, 2), (slice(None), 0), (Ellipsis, 1), (None,), (None, slice(None), None), (Ellipsis, None),
    (slice(1, None), slice(None, None, -2)), (0, Ellipsis, None), (slice(5, 1, -1),), (slice(10, 20),),
    (slice(None), slice(None), 1), (Ellipsis,), (),
]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_basic_indexing(check, arr, index):
    def f(x):
        return x[index], x[index] * 2

    check(f, arr((4, 5, 3)))


def test_indexing_written_in_source(check, arr):
    def f(x):
        return x[1], x[-1, ::2], x[1:3, None], x[..., ::-1], x[::2, 1:4:2], x[None, ..., 0], x[:, :0]

    check(f, arr((4, 6)))


def test_integer_index_of_vector_is_numpy_scalar(check, arr):
    def f(x):
        return x[0], x[-1] + 1, x[1] * x

    check(f, arr((3,), np.float32))


def test_index_out_of_range_raises_as_eager(check, arr):
    def f(x):
        return x[7]

    check(f, arr((4,)))


def test_too_many_indices_raises_as_eager(check, arr):
    def f(x):
        return x[1, 2, 3]

    check(f, arr((4, 4)))


def test_index_from_python_arithmetic(check, arr):
    def f(x, k):
        n = len(x)
        return x[n // 2:], x[k - 1], x[: -k]

    check(f, arr((6,)), 2)


def test_transpose_forms(check, arr):
    def f(x):
        return x.T, np.transpose(x), x.transpose(1, 0, 2), x.transpose((2, 0, 1)), np.transpose(x, (0, 2, 1))

    check(f, arr((2, 3, 4)))


def test_reshape_forms(check, arr):
    def f(x):
        return x.reshape(6, 4), x.reshape((4, -1)), np.reshape(x, (2, 12)), x.reshape(-1), np.reshape(x, 24)

    check(f, arr((2, 3, 4)))


def test_reshape_of_non_contiguous_copies(check, arr):
    def f(x):
        return x.T.reshape(-1), x[:, ::2].reshape(2, -1)

    check(f, arr((4, 6)))


def test_bad_reshape_raises_as_eager(check, arr):
    def f(x):
        return x.reshape(5, 5)

    check(f, arr((2, 3)))


def test_squeeze_expand_dims_broadcast_to(check, arr):
    def f(x):
        return (np.squeeze(x), x.squeeze(0), np.squeeze(x, axis=(0, 2)), np.expand_dims(x, 0),
                np.expand_dims(x, -1), np.expand_dims(x, (0, 2)), np.broadcast_to(x, (3, 1, 4, 1)),
                np.broadcast_to(x[0, :, 0], (2, 4)))

    check(f, arr((1, 4, 1)))


def test_flip_swapaxes_moveaxis_ravel(check, arr):
    def f(x):
        return np.flip(x), np.flip(x, axis=1), np.swapaxes(x, 0, 2), x.swapaxes(1, 2), \
            np.moveaxis(x, 0, -1), np.ravel(x), x.ravel(), x.flatten()

    check(f, arr((2, 3, 4)))


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_ravel_and_flatten_in_fortran_order(check, arr, layout):
    """A view exactly where NumPy's is (a Fortran-ordered input), a copy elsewhere."""
    def f(x):
        return x.ravel(order="F"), np.ravel(x, "F"), x.flatten("F"), x[0].ravel("F"), (x * 2).ravel("F")

    check(f, arr((3, 4), layout=layout))


def test_ravel_in_memory_order_runs_eagerly(check, arr):
    check(lambda x: (x * 2).ravel(order="K"), arr((3, 4)), compiled=False)


def test_shape_ndim_and_size_functions(check, arr):
    def f(x):
        return np.shape(x), np.ndim(x), np.size(x), np.size(x, 1), np.size(x, -1) * x, np.shape(x[0])

    check(f, arr((3, 4)))


def test_concatenate_and_stack(check, arr):
    def f(a, b):
        return (np.concatenate([a, b]), np.concatenate((a, b), axis=1), np.concatenate([a, b], axis=-1),
                np.stack([a, b]), np.stack((a, b), axis=-1), np.stack([a, b, a], axis=1),
                np.concatenate([a[0], b[1]]))

    check(f, arr((2, 3)), arr((2, 3), seed=1))


def test_concatenate_mixed_dtypes(check, arr):
    def f(a, b):
        return np.concatenate([a, b]), np.stack([a, b])

    check(f, arr((3,), np.int32), arr((3,), np.float32, seed=1))


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_joins_of_computed_parts_are_written_in_place(check, arr, backend, layout):
    """A rotate-half (RoPE) and a stack read by later work: each computed part's kernel stores into
    its slice of the joined array (passes/joins.py), the stack summed over its first axis is the
    parts added, no NumPy join runs; a join the caller sees stays NumPy's, laid out as NumPy lays it
    out."""
    def f(x, cos, sin):
        half = x.shape[-1] // 2
        rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
        pair = np.stack([x * cos, rotated * sin], axis=0)
        return pair.sum(axis=0), np.concatenate([x * 2, cos], axis=0)

    args = (arr((6, 8), layout=layout), arr((6, 8), seed=1, layout=layout), arr((6, 8), seed=2, layout=layout))
    compiled = check(f, *args)
    optimized = compiled.entries[0].stages["optimized"]
    assert optimized.count("= concatenate(") == 1 and "= stack(" not in optimized, optimized
    if backend == "llvm":  # the rotated half's negative (its other half is a view NumPy copies)
        assert compiled.entries[0].stages["kernels"].count("(setitem)") == 1
    assert compiled(*args)[1].strides == f(*args)[1].strides


def test_an_ensemble_mean_reads_the_members_once(check, arr):
    """``np.stack(members).mean(axis=0)`` combines the members elementwise (passes/joins.py): no
    stacked copy is made."""
    def ensemble(a, b, c):
        return np.stack([a, b * 2, c]).mean(axis=0), np.stack((a, c)).max(0)

    compiled = check(ensemble, arr((6, 5)), arr((6, 5), seed=1), arr((6, 5), seed=2, layout="transposed"))
    assert "stack(" not in compiled.entries[0].stages["optimized"]
    assert "_ref_stack" not in compiled.entries[0].stages["kernels"]


def test_concatenate_shape_mismatch_raises_as_eager(check, arr):
    def f(a, b):
        return np.concatenate([a, b], axis=1)

    check(f, arr((2, 3)), arr((3, 3)))


def test_views_of_views_of_non_contiguous_inputs(check, arr):
    def f(x):
        y = x[::-1].T[1:, ::2]
        return y, y.reshape(-1) + 1, y[None]

    check(f, arr((5, 6), layout="strided"))


def test_copy_is_fresh(check, arr):
    def f(x):
        return x.copy(), np.copy(x), np.array(x), np.asarray(x), np.ascontiguousarray(x) if False else x[:]

    check(f, arr((3, 2)))


def test_asarray_of_python_values_and_scalars(check, arr):
    def f(x, s):
        return np.asarray(s) + x, np.array([1.0, 2.0, 3.0]) * x, np.asarray(x, dtype=np.float32)

    check(f, arr((3,)), np.float64(2.0))


@pytest.mark.parametrize("body", ["y = x.imag\n    y += 1", "x.imag += 1", "y = x.imag\n    np.add(y, 1, out=y)",
                                  "y = np.imag(x)\n    y *= 2"])
@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.complex128])
def test_the_imaginary_parts_of_a_real_array_are_read_only(check, body, dtype):
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    {body}\n    return x\n", namespace)
    check(namespace["f"], np.arange(4).astype(dtype), compiled=None)
