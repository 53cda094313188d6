"""Writes through index arrays: ``x[idx] = v`` with integer arrays, ``np.<ufunc>.at`` and
``np.put_along_axis`` (frontend/access.py, numpy_scatter.py): compiled equals eager, the writes
into the inputs, NumPy's errors and the writes made before them included, in one graph."""
from __future__ import annotations

import numpy as np
import pytest


def rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def function_of(body: str):
    namespace: dict = {"np": np}
    lines = "\n".join(f"    {line}" for line in body.split("; "))
    exec(f"def f(x, y, idx):\n{lines}\n", namespace)
    return namespace["f"]


IDX = np.array([1, 3, 1, 0])   # a repeated index


@pytest.mark.parametrize("body", [
    "x[idx] = 0.0; return x * 2.0", "x[idx] = y[:4]; return x", "x[[0, 2]] = y[:2]; return np.exp(x)",
    "x[idx, 1:3] += 1.0; return x", "x[:, idx] = y[:, :4] * 2.0; return x.sum(axis=0)",
    "x[idx, idx] = -1.0; return x", "x[idx] = x[idx] * 10.0; return x",   # a repeated index: the last write wins
    "x[idx] += 1.0; return x",                  # buffered as in NumPy: once per distinct index
    "z = x.astype(np.int32); z[idx] = y[:4]; return z",   # cast as assignment casts
    "x[idx + 5] = 0.0; return x",               # out of bounds: IndexError, as eager
    "x[0] = 5.0; x[idx * 3] = 0.0; return x",   # the write before the error stays
    "x[idx] = y[:3]; return x",                 # shapes disagree: NumPy's ValueError
])
def test_assignment_through_an_index_array(check, body):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1), IDX.copy())


@pytest.mark.parametrize("body", [
    "np.add.at(x, idx, 1.0); return x", "np.add.at(x, idx, y[:4]); return x * 2.0",
    "np.subtract.at(x, (idx, idx), y[0, :4]); return x", "np.multiply.at(x, idx, 2.0); return x",
    "np.maximum.at(x, idx, y[:4]); return x", "np.minimum.at(x[:, 1:], idx, 0.0); return x",
    "np.add.at(x, idx, y[0]); return x.sum()", "np.add.at(x, (slice(None), idx), 1.0); return x",
    "np.add.at(x, 2, y[0]); return x", "np.add.at(x, [0, 0, 2], 1.0); return x",
    "w = np.zeros((6, 5)); np.add.at(w, idx, y[:4]); return w",   # an embedding's gradient
    "np.add.at(x, idx + 5, 1.0); return x",      # out of bounds: IndexError
    "np.add.at(x, idx, y[:3]); return x",        # shapes disagree: NumPy's ValueError
    "z = x.astype(np.int32); np.add.at(z, idx, 0.5); return z",   # NumPy's casting error
    "np.add.at(np.broadcast_to(y[0], (6, 5)), idx, 1.0); return x",   # a read-only view: ValueError
    "v = np.broadcast_to(x[0], (3, 5)); np.add.at(v, 0, 1.0); return x",   # NumPy's at writes through it anyway
])
def test_ufunc_at(check, body):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1), IDX.copy())


@pytest.mark.parametrize("body", [
    "np.put_along_axis(x, np.argmax(x, axis=1)[:, None], 0.0, axis=1); return x",
    "np.put_along_axis(x, np.argsort(y, axis=0)[:2], y[:2], axis=0); return x * 2.0",
    "np.put_along_axis(x, np.argmin(x, axis=-1)[:, None], -1.0, axis=-1); return x",
    "np.put_along_axis(x, idx, 7.0, axis=None); return x",
    "np.put_along_axis(x, idx[:, None], 7.0, axis=1); return x",   # rows disagree: NumPy's ValueError
    "np.put_along_axis(x, idx, 7.0, axis=1); return x",            # ranks differ: NumPy's ValueError
    "np.put_along_axis(x, np.argmax(x, axis=1)[:, None] + 9, 0.0, axis=1); return x",   # IndexError
])
def test_put_along_axis(check, body):
    check(function_of(body), rand(6, 5), rand(6, 5, seed=1), IDX.copy())
