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


def test_a_float_in_python_arithmetic_keeps_its_value_guard(check, backend):
    """``(1 - beta) * g``: Python computes ``1 - beta`` (its errors and rounding are Python's), so
    the entry is for that value; a value only next to arrays is read at run time."""
    def step(p, g, lr, beta):
        return p - lr * ((1 - beta) * g)

    compiled = ember.compile(step, backend=backend)
    p, g = rand(8, seed=1), rand(8, seed=2)
    for lr, beta in ((0.1, 0.9), (0.2, 0.9), (0.3, 0.9), (0.3, 0.8)):
        check(step, p, g, lr, beta, compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == 3  # first call; lr changed (read at run time); beta changed
    assert "type(lr) is float" in guards(compiled) and "beta == 0.8" in guards(compiled)


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
