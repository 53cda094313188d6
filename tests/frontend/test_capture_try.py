"""A try body is traced as straight code. An error while tracing runs the function eagerly; an
error the compiled code raises at run time (a NumPy call in the graph) reruns it eagerly, so the
except clause runs as in CPython. That rerun is only exact before any write, so a function with
a try block that writes into arrays runs eagerly, as does one that would split inside the block."""
from __future__ import annotations

import ember
import numpy as np
import pytest


def factor(a):
    try:
        return np.linalg.cholesky(a) * 2.0
    except np.linalg.LinAlgError:
        return np.zeros_like(a)


def gather(x, i):
    try:
        y = x[i] * 2
    except IndexError:
        y = x[:1] * 0
    return y + 1


def finally_and_else(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    else:
        y = y + 1
    try:
        return y - 1
    finally:
        y = None


def inverse(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return a * 0


def calls_a_helper_in_a_loop(a):
    total = np.zeros_like(a)
    for k in range(3):
        total = total + inverse(a * (k - 1))  # singular for k == 1
    return total


@pytest.mark.parametrize("fn, calls", [
    (factor, [(np.eye(3) * 2,), (-np.eye(3),), (np.diag([1.0, 4.0, 9.0]),)]),
    (gather, [(np.arange(5.0), np.array([1, 2])), (np.arange(5.0), np.array([1, 9])),
              (np.arange(5.0), np.array([4, 0]))]),
    (finally_and_else, [(np.arange(3.0),)]),
    (calls_a_helper_in_a_loop, [(np.eye(2) + 1,), (np.ones((2, 2)),)]),
])
def test_the_except_clause_runs_when_compiled_code_raises(check, backend, fn, calls):
    compiled = ember.compile(fn, backend=backend)
    for args in calls:
        check(fn, *args, compiled_fn=compiled, entries=None, compiled=None)  # (a rerun is no failure here)
    assert all(entry.capture.eager is None for entry in compiled.entries)


def writes_then_tries(x, i):
    x[0] = 5.0
    try:
        return x[i]
    except IndexError:
        return x


def splits_inside(x):
    try:
        print("", end="")
        return x + 1
    except ValueError:
        return x


def raises_while_tracing(x):
    try:
        return x + {}["missing"]
    except KeyError:
        return x * 2


@pytest.mark.parametrize("fn, args, reason", [
    (writes_then_tries, (np.arange(5.0), np.array([9])), "writes into arrays"),
    (splits_inside, (np.arange(3.0),), "print"),
    (raises_while_tracing, (np.arange(3.0),), "KeyError"),
])
def test_try_blocks_that_cannot_be_compiled_run_eagerly(check, fn, args, reason):
    compiled = check(fn, *args, compiled=False, reason=reason)
    assert not compiled.children  # no split: the whole function is CPython's
