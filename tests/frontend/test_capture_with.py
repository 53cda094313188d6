"""``with np.errstate(...)`` that only ignores or warns is traced as its body (compiled kernels
raise no floating-point warnings), inside or around try blocks too (test_capture_try.py); other
with blocks run in CPython."""
from __future__ import annotations

import warnings

import ember
import numpy as np
import pytest


def safe_log_ratio(a):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(a) / a
    return np.where(np.isfinite(r), r, 0.0)


def returns_inside(a):
    with np.errstate(all="ignore") as state:
        return a / (a - a), state


def nested(a):
    with np.errstate(over="ignore"):
        b = np.exp(a * 1000.0)
        with np.errstate(invalid="warn", under="ignore"):
            c = b - b
    return b, c


def in_a_loop(a):
    total = np.zeros_like(a)
    for k in range(3):
        with np.errstate(divide="ignore"):
            total = total + 1.0 / (a - k)
    return total


def helper(a):
    with np.errstate(divide="ignore"):
        return np.log(a)


def calls_a_helper(a):
    return helper(a) * 2.0


def after_a_break(a):
    print("", end="")  # a graph break before the with block: the resume function traces it
    with np.errstate(all="ignore"):
        return np.sqrt(a) + 1.0


def written_in_the_block(a):
    with np.errstate(invalid="ignore"):
        a[0] = np.sqrt(-1.0 - a[1])
        a *= 2.0
    return a.sum()


def inside_a_try(a):
    try:
        with np.errstate(divide="ignore"):
            return np.log(a)
    except FloatingPointError:
        return a


def try_inside(a):
    with np.errstate(divide="ignore"):
        try:
            return np.log(a)
        except ValueError:
            return a


@pytest.mark.parametrize("fn", [safe_log_ratio, returns_inside, nested, in_a_loop, calls_a_helper,
                                written_in_the_block, inside_a_try, try_inside])
def test_errstate_blocks_that_ignore_or_warn_are_one_graph(check, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (eager's own warnings, under 'warn')
        check(fn, np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0]))


def test_a_break_before_the_block_resumes_into_it(check):
    compiled = check(after_a_break, np.array([0.0, 1.0, -4.0]), compiled=False, reason="print")
    assert sum(len(child.entries) for child in compiled.children) == 1  # the resume function compiled


def raises_inside(a):
    with np.errstate(divide="raise"):
        return np.log(a)


def called_back(a):
    with np.errstate(call=print, divide="call"):
        return np.log(a)


def breaks_inside(a):
    with np.errstate(divide="ignore"):
        b = np.log(a)
        print("", end="")  # cannot split here: a resume function would start inside the block
        return b


def other_manager(a):
    with warnings.catch_warnings():
        return a + 1


@pytest.mark.parametrize("fn, reason", [(raises_inside, "np.errstate"), (called_back, "np.errstate"),
                                        (breaks_inside, "print"), (other_manager, "catch_warnings")])
def test_other_with_blocks_run_in_cpython(check, fn, reason):
    check(fn, np.array([0.0, 1.0, 2.0]), compiled=False, reason=reason)


def test_errstate_raise_still_raises():
    compiled = ember.compile(raises_inside)
    with pytest.raises(FloatingPointError):
        compiled(np.array([0.0, 1.0]))


def test_a_break_inside_the_block_runs_the_whole_function_in_cpython():
    compiled = ember.compile(breaks_inside)
    np.testing.assert_array_equal(compiled(np.array([1.0, np.e])), np.array([0.0, 1.0]))
    (entry,) = compiled.entries
    assert entry.capture.eager is not None and not compiled.children


def log_twice(a):
    return np.log(a) * 2.0


@pytest.mark.parametrize("backend", ["numpy", "llvm"])
def test_a_global_error_state_that_raises_runs_eagerly(backend):
    """``np.seterr(all='raise')`` (or an errstate around the call) makes NumPy raise where compiled
    kernels, which set no floating-point flags, returned NaN: such calls run eagerly, and calls
    after the state is quiet again run the compiled entry."""
    compiled = ember.compile(log_twice, backend=backend)
    x = np.array([-1.0, 2.0])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(compiled(x), log_twice(x))
    saved = np.seterr(all="raise")
    try:
        with pytest.raises(FloatingPointError):
            compiled(x)
        with pytest.raises(FloatingPointError):
            compiled(x)  # (the eager entry serves the loud state)
    finally:
        np.seterr(**saved)
    seen = []
    with np.errstate(invalid="call", call=lambda kind, flag: seen.append(kind)):
        compiled(x)
    assert seen == ["invalid value"]  # (the handler NumPy called, eagerly)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(compiled(x), log_twice(x))
    assert [entry.capture.eager is None for entry in compiled.entries] == [True, False]
    assert "np.seterr" in str(compiled.entries[1].capture.eager)
    with np.errstate(all="raise"):  # a new state object that raises: still the eager entry
        with pytest.raises(FloatingPointError):
            compiled(x)
    assert len(compiled.entries) == 2
