"""Diagonals, cross and Kronecker products, convolution and heaviside (frontend/numpy_matrices.py,
numpy_library.py): compiled equals eager, views and read-only flags included, in one graph."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("body", [
    "np.diag(x)", "np.diag(x, 1) * 2.0", "np.diag(x, -4)", "np.diag(x, 9)", "np.diag(x[0])", "np.diag(x[0], -2)",
    "np.diag(x[:, 0] > 0, 1)", "x.diagonal()", "np.diagonal(x, 2)", "np.diagonal(x.reshape(2, 3, 5), 0, 1, 2)",
    "x.diagonal(axis1=1, axis2=0)", "np.diag(x) + np.diag(y)", "np.exp(np.diagonal(x.T, -1))",
    "np.diag(x[0, 0])", "np.diagonal(x, axis1=0, axis2=0)",     # NumPy's ValueErrors
])
def test_diagonals(check, body, function_of, rand):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1))


def test_a_diagonal_is_a_view_that_sees_later_writes(check, rand):
    def f(x, y):
        d = np.diagonal(x)
        x[0, 0] = 7.0
        return d * 1.0, d

    check(f, rand(4, 4), rand(4, 4, seed=1))


def test_writing_into_a_diagonal_raises_as_in_eager(check, rand):
    def f(x, y):
        d = np.diag(x)
        d[0] = 1.0
        return d

    check(f, rand(4, 4), rand(4, 4, seed=1), compiled=None)


@pytest.mark.parametrize("body", [
    "np.cross(x[:, :3], y[:, :3])", "np.cross(x[:, :3], y[0, :3])", "np.cross(x[0, :3], y[0, 2:])",
    "np.cross(x[:, None, :3], y[:4, 1:4]) * 2.0", "np.cross(x[:, :3], (y[:, :3] * 4).astype(np.int32))",
    "np.kron(x[:2, :2], y[:2, :2])", "np.kron(x[0], y[1, :3])", "np.kron(x, 2.0)", "np.kron(x[0], y[:2])",
    "np.kron(x > 0, y[:2, :2])",
    "np.convolve(x[0], y[0])", "np.convolve(x[0], y[1, :3], 'same')", "np.convolve(x[0, :2], y[0], 'valid')",
    "np.convolve(x[0, :3], y[0], mode='same')", "np.convolve((x[0] * 3).astype(np.int64), y[0, :2])",
    "np.convolve(x[0, :0], y[0])", "np.convolve(x[0], y[0, :0])",       # NumPy's ValueErrors
    "np.correlate(x[0], y[0])", "np.correlate(x[0], y[1, :3])", "np.correlate(x[0, :2], y[0], 'full')",
    "np.correlate(x[0, :3], y[0], mode='same')", "np.correlate(x[0].astype(np.complex64), 1j * y[0, :2])",
])
def test_products_and_convolution(check, body, function_of, rand):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1))


@pytest.mark.parametrize("body, compiled", [
    ("np.cross(x[:, :2], y[:, :2])", False),     # 2-vectors: deprecated in NumPy 2, eager
    ("np.cross(x, y, axisa=0, axisb=0)", False),
    ("np.cross(x[:, :3], y[:4, :3])", None),     # does not broadcast: NumPy's ValueError
    ("np.convolve(x, y[0])", False),             # not a vector: NumPy's ValueError, eagerly
])
def test_other_forms_run_eagerly_or_raise(check, body, compiled, function_of, rand):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1), compiled=compiled)


@pytest.mark.parametrize("body", [
    "np.heaviside(x, 0.5)", "np.heaviside(x, y)", "np.heaviside(x, np.nan)", "np.heaviside(x[:, :1], y[0])",
    "np.heaviside((x * 2).astype(np.int32), 2)", "np.heaviside(x.astype(np.float16), y[0])",
    "np.heaviside(x, (y * 3).astype(np.int64))", "np.heaviside(x[0, 0].reshape(()), 0.5)",
    "np.heaviside(x, 1) * 2.0 - 1.0",
])
def test_heaviside(check, body, function_of, rand):
    x = rand(6, 5)
    x[0, :3] = [0.0, -0.0, np.nan]
    check(function_of(body), x, rand(6, 5, seed=1))


@pytest.mark.parametrize("body", [
    "np.linalg.eigh(y[:5] @ y[:5].T)[0]", "np.linalg.eigh(y[:5] @ y[:5].T, UPLO='U')[1] * 2.0",
    "np.linalg.eigvalsh(y[:5] @ y[:5].T)", "np.linalg.svd(y, compute_uv=False)", "np.linalg.qr(y)[1]",
    "np.linalg.qr(y.T)[0]", "np.linalg.cholesky(y[:5] @ y[:5].T + 5 * np.eye(5))", "np.linalg.pinv(y)",
    "np.linalg.matrix_power(y[:5], 3)", "np.linalg.matrix_power(y[:5] + 5 * np.eye(5), -2)",
    "np.linalg.multi_dot([y, y.T, y])", "np.linalg.multi_dot([y[0], y.T, y, y[0]])",
    "np.linalg.cholesky(-np.eye(3) * y[0, 0] ** 2)",   # not positive definite: LinAlgError
    "np.linalg.multi_dot([y, y])",                      # not aligned: NumPy's ValueError
    "np.linalg.matrix_power(y, 2)",                     # not square: LinAlgError
    "np.linalg.matrix_power(y, 1)",
    "np.linalg.slogdet(y[:5])[1]", "np.linalg.slogdet(y[:5] * 0.0)[0]",
    "np.linalg.slogdet(np.stack([y[:5], y[1:]]))[1]",
    "np.linalg.cond(y[:5])", "np.linalg.cond(y[:5] + 5 * np.eye(5)) * 2.0",
    "np.linalg.matrix_rank(y)", "np.linalg.matrix_rank(y[:5] * 0.0)", "np.linalg.matrix_rank(np.outer(y[0], y[1]))",
    "np.linalg.cond(y)", "np.linalg.cond(y[0])",        # a vector: LinAlgError
    # NumPy's named tuples, returned and read by field
    "np.linalg.slogdet(y[:5])", "np.linalg.qr(y)", "np.linalg.eigh(y[:5] @ y[:5].T)",
    "np.linalg.slogdet(y[:5]).logabsdet * 2.0", "np.linalg.eigh(y[:5] @ y[:5].T).eigenvectors + np.linalg.qr(y[:5]).R",
])
def test_linear_algebra_is_numpys_own_call(check, body, function_of, rand):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1))


def test_matrix_power_of_one_is_its_argument(check, rand):
    def f(m, y):
        p = np.linalg.matrix_power(m, 1)   # NumPy hands back m itself
        p[0, 0] = 100.0
        return p is m, m + y

    check(f, rand(5, 5), rand(5, 5, seed=1))


@pytest.mark.parametrize("body, compiled", [
    ("np.linalg.svd(y)[0]", False), ("np.linalg.qr(y, mode='complete')[0]", False),
    ("np.linalg.matrix_rank(y[0]) * x.astype(np.int8)", False),  # a Python int of a vector: eagerly
])
def test_other_factorisations_run_eagerly(check, body, compiled, function_of, rand):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1), compiled=compiled)


@pytest.mark.parametrize("body, compiled", [
    ("np.vander(x[0], 3)", True), ("np.vander(y[0], increasing=True) * 2", True), ("np.vander(x[0])", True),
    ("np.vander(x, 2)", None),   # not a vector: NumPy's ValueError, eagerly
])
def test_vander(check, body, compiled, function_of, rand):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1), compiled=compiled)
