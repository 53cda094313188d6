"""Python float arguments read at run time: after a recompile caused by a float's new value,
operators next to arrays read it from the call, so one entry serves every value.

Each test calls a compiled function with several values through the differential oracle
(conftest.py: values, dtypes, NumPy scalar or array, inputs afterwards), then asserts how many
cache entries that took and what the newest one guards.
"""
from __future__ import annotations

import ember
import numpy as np
import pytest

VALUES = (0.5, 1.5, -2.25, 0.1, -0.0, 0.0, 1e300, float("inf"), float("nan"), 3.0, 2.0, -1.0)


def rand(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def guards(compiled) -> str:
    return compiled.entries[-1].stages["guards"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.bool_, np.complex64, np.float16])
@pytest.mark.parametrize("body", ["x * a + 1.0", "a - x", "x / a", "x > a", "x <= a", "x ** a", "a ** x",
                                  "np.exp(x * a) if x.dtype.kind == 'f' else x * a", "x.sum() * a",
                                  "np.maximum(x, a)", "np.subtract(a, x)", "np.power(x, a)"])
def test_a_float_next_to_arrays_is_read_at_run_time(check, backend, dtype, body):
    """Converted as NumPy converts a Python float (NEP 50): to a float or complex array's dtype
    (``x > a`` compares in float32 for a float32 x), else float64."""
    namespace: dict = {"np": np}
    exec(f"def f(x, a):\n    return {body}\n", namespace)
    f = namespace["f"]
    compiled = ember.compile(f, backend=backend)
    x = rand(5, 3, seed=1).astype(dtype) if dtype is not np.bool_ else rand(5, 3, seed=1) > 0
    x.flat[0] = 0.1  # a float32 x holds float32(0.1): x > 0.1 is False there in NumPy, True in float64
    for a in VALUES:
        check(f, x, a, compiled_fn=compiled, entries=None)
    if body == "x ** a" and dtype in (np.complex64, np.float16):  # NumPy's __pow__ looks at the value
        assert "a ==" in guards(compiled)
        return
    assert len(compiled.entries) == 2, [e.stages["guards"] for e in compiled.entries]
    assert "type(a) is float" in guards(compiled) and "a ==" not in guards(compiled)


def test_python_arithmetic_of_a_float_is_python_s_each_call(check, backend):
    """``(1 - beta) * g``: Python computes ``1 - beta`` from the call's ``beta`` (its rounding is
    Python's), so one entry serves every value; other uses (``beta ** 2``, a comparison) read the
    number and guard it."""
    def step(p, g, lr, beta):
        return p - lr * ((1 - beta) * g) + (beta * 0.5 - 0.25) / 4

    compiled = ember.compile(step, backend=backend)
    p, g = rand(8, seed=1), rand(8, seed=2)
    for lr, beta in ((0.1, 0.9), (0.2, 0.9), (0.3, 0.9), (0.3, 0.8), (0.1, 0.1), (0.1, 1e308), (0.5, 0.5)):
        check(step, p, g, lr, beta, compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == 3  # first call; lr changed (read at run time); beta changed
    assert "(1 - beta)" in compiled.entries[-1].stages["wrapper"] and "beta ==" not in guards(compiled)

    def other_uses(p, beta):
        return p * beta ** 2 if beta > 0.5 else p

    compiled = ember.compile(other_uses, backend=backend)
    for beta in (0.9, 0.8, 0.7, 0.3):
        check(other_uses, p, beta, compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == 4 and "beta == 0.3" in guards(compiled)


def test_a_time_step_loop_carries_its_clock_without_recompiling(check, backend):
    """``t += dt`` in a loop too long to unroll: the body receives ``t`` computed by Python each
    round, so it compiles twice, not once per round until the recompile limit; the clock it
    returns is Python's to the last bit. Dividing by the clock reads it (Python raises at 0)."""
    def f(u, dt):
        t = 0.0
        for _ in range(200):
            t += dt
            u = u + dt * np.sin(u * t) - 0.01 * u
        return u, t

    def g(x):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = x[i] * (i * 0.5) + i / 4 - 3.0 * (0.5 - i)
        return out

    compiled = check(f, rand(50, dtype=np.float64, seed=1), 0.01, compiled=None, entries=None)
    assert all(len(child.entries) <= 2 for child in compiled.children)
    compiled = check(g, rand(100, 3, dtype=np.float64, seed=1), compiled=None, entries=None)
    assert all(len(child.entries) <= 2 for child in compiled.children)

    def h(x, t):
        return x / t + 1.0 / (t * 2.0)

    compiled = ember.compile(h, backend=backend)
    for t in (1.0, 2.0, 3.0, 0.0):
        check(h, rand(4, dtype=np.float64), t, compiled_fn=compiled, entries=None)


def test_a_learning_rate_schedule_writes_in_place_with_one_entry(check, backend):
    def sgd(p, g, lr):
        p -= lr * g

    compiled = ember.compile(sgd, backend=backend)
    for step in range(6):
        check(sgd, rand(16, seed=1), rand(16, seed=2), 0.1 / (step + 1), compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == 2


def test_dynamic_true_reads_floats_from_the_first_call_and_false_never(check, backend):
    def f(x, a):
        return x * a

    eager_first = ember.compile(f, backend=backend, dynamic=True)
    never = ember.compile(f, backend=backend, dynamic=False)
    for a in (0.5, 1.5, 2.5):
        check(f, rand(4), a, compiled_fn=eager_first, entries=None)
        check(f, rand(4), a, compiled_fn=never, entries=None)
    assert len(eager_first.entries) == 1 and "type(a) is float" in guards(eager_first)
    assert len(never.entries) == 3


def test_a_float_passed_across_a_graph_break_is_read_at_run_time_after_it(check, backend, capsys):
    """The resume function after ``print`` takes ``dt`` as an argument of its own, with its own
    entries: it too reads the float at run time once the value changed."""
    def f(x, dt):
        y = x * dt
        print("step")
        return y + dt * np.sin(x)

    compiled = ember.compile(f, backend=backend)
    for dt in (0.1, 0.2, 0.3, 0.4):
        check(f, rand(6), dt, compiled_fn=compiled, entries=None, compiled=None)
    (resume,) = compiled.children
    assert len(compiled.entries) == 2 and len(resume.entries) == 2


def test_constants_equal_in_python_stay_distinct_in_arithmetic(backend):
    """``t + 0.0`` and ``t + -0.0`` compare equal as keys but differ for ``t = -0.0``: each is
    computed by Python on its own (the signs of the zeros they give are eager's)."""
    def f(x, t):
        return x * (t + 0.0), x * (t + -0.0)

    compiled = ember.compile(f, backend=backend)
    x = np.ones(3)
    for t in (1.0, 2.0, -0.0, 0.0):
        for got, want in zip(compiled(x, t), f(x, t), strict=True):
            assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want)), (t, got, want)
    assert len(compiled.entries) == 2


def test_arithmetic_of_two_run_time_floats_stays_run_time(check, backend):
    """``t = t * 0.99 + dt`` with both read at run time: Python computes it from both arguments in
    each round, so the loop's body does not recompile per value of ``t`` (it did, until the
    recompile limit, once ``dt`` changed between calls); the clock returned is Python's."""
    def f(x, dt, n):
        t = 1.0
        for _ in range(n):
            t = t * 0.99 + dt
            x = x + t
        return x, t

    compiled = ember.compile(f, backend=backend)
    for dt in (0.1, 0.2, 0.3, 0.4, -0.5):
        check(f, rand(4, dtype=np.float64), dt, 100, compiled_fn=compiled, compiled=None, entries=None)
    assert all(len(child.entries) <= 3 for child in compiled.children)


def test_an_int_past_two_to_the_53_in_float_arithmetic_is_read_as_a_number(check, backend):
    """``i + 0.5`` for ``i >= 2**53`` rounds in the conversion: the number is read and guarded (the
    entry's guard holds for the call that traced it)."""
    def f(x, i):
        return x * (i + 0.5)

    compiled = ember.compile(f, backend=backend)
    for i in (1, 2, 2**53, 2**60 + 1, 3):
        check(f, rand(3, dtype=np.float64), i, compiled_fn=compiled, entries=None)
    assert any(f"i == {2**60 + 1}" in entry.stages["guards"] for entry in compiled.entries)
