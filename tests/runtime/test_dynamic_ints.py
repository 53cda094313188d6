"""Python int arguments read at run time: after a recompile caused by an int's new value (a loop
counter handed to a resume function, a row number), an index into an array axis and arithmetic
next to float arrays read it from the call, so one entry serves every value in range.

Each test runs compiled functions through the differential oracle (conftest.py: values, dtypes,
inputs afterwards, exceptions), then asserts how many cache entries that took and what the
newest one guards.
"""
from __future__ import annotations

import os

import ember
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("EMBER_HYPOTHESIS_EXAMPLES", "200"))


def rand(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def guards(compiled) -> str:
    return compiled.entries[-1].stages["guards"]


@pytest.mark.parametrize("body", [
    "x[i] * 2.0", "x[i, 1:] + x[i - 1, :-1]", "x[:, i] - x[:, i + 1]", "x[..., i] * x[:, -1]",
    "np.tanh(x[1 + i]) + x[i][None, :]", "x[i].sum() + x[i - 2].max()"])
def test_an_int_index_is_read_at_run_time(check, backend, body):
    namespace: dict = {"np": np}
    exec(f"def f(x, i):\n    return {body}\n", namespace)
    f = namespace["f"]
    compiled = ember.compile(f, backend=backend)
    x = rand(5, 7, seed=1)
    for i in (0, 1, 2, -1, -2, -3, 3):
        check(f, x, i, compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == 2, [e.stages["guards"] for e in compiled.entries]
    assert "type(i) is int" in guards(compiled) and "i ==" not in guards(compiled)
    assert "%i" in str(compiled.entries[-1].capture.graph)


def test_the_guard_keeps_the_index_inside_the_axis(check, backend):
    """Every index the entry admits lies in the axis (``-5 - 1 <= i < 5 - 1`` for ``x[i + 1]``):
    outside it the function is traced with the number, which raises IndexError as eager does."""
    def f(x, i):
        return x[i + 1] * 2.0

    compiled = ember.compile(f, backend=backend)
    x = rand(5, 3, seed=1)
    for i in (0, 1, 3, -6):
        check(f, x, i, compiled_fn=compiled, entries=None)
    assert "-6 <= i < 4" in guards(compiled)
    for outside in (4, -7, 10**30):
        with pytest.raises(IndexError):
            f(x, outside)
        with pytest.raises(IndexError):
            compiled(x, outside)


def test_an_int_next_to_float_arrays_is_read_at_run_time_and_not_next_to_int_arrays(check, backend):
    """``x * i`` converts the int to a float x's dtype, as NumPy converts a Python int; next to an
    integer array it must fit that dtype (NumPy raises otherwise), so its value stays guarded."""
    def f(x, k, i):
        return x * i + 1.0, k * i

    compiled = ember.compile(f, backend=backend)
    x, k = rand(6, seed=1), np.arange(6, dtype=np.int16)
    for i in (2, 3, -4, 0, 2**24 + 1, 7):
        check(f, x, k, i, compiled_fn=compiled, entries=None)
    assert "type(i) is int" in guards(compiled) and "i == 7" in guards(compiled)
    assert "-9007199254740992 <= i < 9007199254740992" in guards(compiled)


def test_an_int_in_python_arithmetic_keeps_its_value_guard(check, backend):
    def f(x, i):
        return x[i] * (i * 2) + x[i // 2]

    compiled = ember.compile(f, backend=backend)
    x = rand(6, 2, seed=1)
    for i in (1, 2, 3):
        check(f, x, i, compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == 3 and "i == 3" in guards(compiled)


def test_a_long_loop_compiles_its_body_once(check, backend):
    """A loop too long to unroll runs in CPython with its body compiled as a resume function,
    which receives the counter: read at run time, two entries serve every iteration (the first
    iteration's, and the one compiled when the counter changed), not one per value."""
    def f(x):
        out = np.empty_like(x)
        out[0] = x[0]
        for i in range(1, x.shape[0]):
            out[i] = np.tanh(x[i]) * 2.0 + out[i - 1] * 0.5
        return out

    compiled = check(f, rand(200, 9, seed=1), compiled=None, entries=None)
    assert compiled.children and all(len(child.entries) <= 2 for child in compiled.children)
    body = next(child for child in compiled.children if len(child.entries) == 2)
    assert "i ==" not in guards(body) and "__ember_stack" in guards(body)


def test_a_long_loop_over_a_dynamic_dimension(check, backend):
    """The loop's resume function, called with arrays of a new length, traces that dimension as a
    symbol; the index guard reads its size from the array."""
    def f(x):
        total = np.zeros(x.shape[1], np.float32)
        for i in range(x.shape[0]):
            total += x[i] * x[i]
        return total

    compiled = ember.compile(f, backend=backend)
    for rows in (100, 120, 150):
        check(f, rand(rows, 4, seed=rows), compiled_fn=compiled, compiled=None, entries=None)
    body = max(compiled.children, key=lambda child: len(child.entries))
    assert len(body.entries) <= 4, [e.stages["guards"] for e in body.entries]
    assert ".shape[0] <= " in guards(body) and "< x.shape[0]" in guards(body)


def test_a_shifted_int_reaches_a_resume_function_computed_from_the_call(check, backend, capsys):
    """``j = i + 1`` is handed to the code after a graph break as ``(i + 1)`` of the call's ``i``,
    not as the number it was when traced."""
    def f(x, i):
        j = i + 1
        y = x[j] * 2.0
        print("break")
        return y + x[j - 2], j

    compiled = ember.compile(f, backend=backend)
    x = rand(6, 3, seed=1)
    for i in (0, 1, 2, 3, -2):
        check(f, x, i, compiled_fn=compiled, compiled=None, entries=None)
    capsys.readouterr()
    assert len(compiled.entries) == 2


def test_a_row_written_at_a_run_time_index_is_stored_by_its_kernel():
    def f(out, x, i):
        out[i] = np.tanh(x[i]) * 2.0

    compiled = ember.compile(f, backend="llvm")
    out, x = np.zeros((4, 8), np.float32), rand(4, 8, seed=1)
    for i in (0, 1, 2, 3):
        compiled(out, x, i)
    np.testing.assert_allclose(out, np.tanh(x) * 2.0, rtol=1e-6)
    kernels = compiled.entries[-1].stages["kernels"]
    assert "(setitem)" in kernels and "setitem through NumPy" not in kernels


@pytest.mark.parametrize("dynamic", [False, True])
def test_dynamic_false_never_and_true_always_reads_ints_at_run_time(check, dynamic):
    def f(x, i):
        return x[i] + 1.0

    compiled = ember.compile(f, dynamic=dynamic)
    x = rand(4, 3, seed=1)
    for i in (0, 1, 2):
        check(f, x, i, compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == (1 if dynamic else 3)
    assert ("i ==" in guards(compiled)) is not dynamic


def test_numpy_integer_arguments_index_at_run_time_and_bools_do_not(check):
    """A NumPy integer argument is a graph input from the first call (an index read at run time,
    one entry per NumPy type); a bool (an int subclass, but a mask as an index) fails the Python
    int entry's ``type(i) is int`` and runs eagerly."""
    def f(x, i):
        return x[i] + 1.0

    compiled = ember.compile(f)
    x = rand(4, 3, seed=1)
    for i in (0, 1, 2):
        check(f, x, i, compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == 2
    for i in (np.int64(2), np.int64(-4), np.int64(3)):
        check(f, x, i, compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == 3
    assert "type(i) is np_int64" in guards(compiled) and "-4 <= i < 4" in guards(compiled)
    check(f, x, np.uint8(3), compiled_fn=compiled, entries=None)
    check(f, x, True, compiled_fn=compiled, entries=None, compiled=None)
    assert len(compiled.entries) == 5
    with pytest.raises(IndexError):
        compiled(x, np.int64(4))
    # That entry (a graph break before the index, which CPython then raises) is for 4 alone: the
    # next values inside the axis run the compiled entry, not the break's (newer entries first).
    assert len(compiled.entries) == 6 and "4 <= i < 5" in guards(compiled)
    for i in (np.int64(1), np.int64(-2)):
        check(f, x, i, compiled_fn=compiled, entries=None, compiled=None)
    assert len(compiled.entries) == 6


@st.composite
def indexed_programs(draw):
    """A shape, and a function of ``(x, k)`` that reads or writes ``x`` through a basic index
    whose integer items are ``k`` plus a constant (k read at run time), and windows
    ``c*k + a:c*k + b`` (c in 1..3, a < b: tests/runtime/test_dynamic_slices.py), next to slices,
    None and Ellipsis; then the values of k it is called with, inside the axes and outside."""
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=3)))
    items, axis = [], 0
    ellipsis = False
    while axis < len(shape):
        kind = draw(st.sampled_from(["k", "k", "window", "slice", "none", "ellipsis"]))
        if kind == "k":
            offset = draw(st.integers(-3, 3))
            items.append(f"k {'-' if offset < 0 else '+'} {abs(offset)}" if offset else "k")
            axis += 1
        elif kind == "window":
            scale, start = draw(st.integers(1, 3)), draw(st.integers(-2, 3))
            term = "k" if scale == 1 else f"{scale} * k"
            items.append(f"{term} + {start}:{term} + {start + draw(st.integers(1, 4))}")
            axis += 1
        elif kind == "slice":
            items.append(draw(st.sampled_from([":", "1:", ":-1", "::-1", "1:3"])))
            axis += 1
        elif kind == "none":
            items.append("None")
        elif not ellipsis:
            ellipsis = True
            items.append("...")
            axis = len(shape)
    if "k" not in " ".join(items):
        items.append("k") if not ellipsis and len(items) < len(shape) else items.insert(0, "k")
    index = ", ".join(items)
    body = draw(st.sampled_from([
        f"return x[{index}] * 2.0 + 1.0",
        f"x[{index}] = np.sqrt(np.abs(x[{index}])) + 0.5\n    return x",
        f"x[{index}] += 1.0\n    return x.sum()",
        f"return np.exp(x[{index}]).sum(), k",
    ]))
    values = draw(st.lists(st.integers(-7, 7), min_size=2, max_size=5))
    return shape, f"def f(x, k):\n    {body}\n", values


@settings(max_examples=max(EXAMPLES // 2, 20), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(indexed_programs())
def test_random_run_time_indices_match_eager(check, backend, case):
    """Every call agrees with eager (values, the array written, IndexError outside the axes)."""
    shape, source, values = case
    namespace: dict = {"np": np}
    exec(compile(source, "<random index program>", "exec"), namespace)
    compiled = ember.compile(namespace["f"], backend=backend)
    x = rand(*shape, dtype=np.float64, seed=len(source))
    for k in (1, *values):
        check(namespace["f"], x, k, compiled_fn=compiled, entries=None, compiled=None)


def test_a_loop_body_runs_its_following_iterations_itself(check, backend):
    """The body of a loop too long to unroll breaks at its own FOR_ITER and resumes at its own
    start: its wrapper runs the next iteration itself while the entry's guard holds for it."""
    def f(x):
        for _ in range(100):
            x = x * 0.5 + 1.0
        return x

    compiled = check(f, rand(7, seed=1), compiled=None, entries=None)
    body = max(compiled.children, key=lambda child: "while True" in child.entries[-1].stages.get("wrapper", ""))
    assert "while True" in body.entries[-1].stages["wrapper"] and len(body.entries) == 1


def test_a_loop_rechecks_only_the_arguments_that_change_between_rounds(check, backend):
    """Over a plain iterator, nothing but the compiled body runs between two rounds: the arrays it
    writes in place are the same objects, so the next round checks only the counter."""
    def f(x, out):
        for i in range(x.shape[0]):
            out[i] = x[i] * 2.0
        return out

    compiled = check(f, rand(100, 3, seed=1), np.zeros((100, 3), np.float32), compiled=None, entries=None)
    body = max(compiled.children, key=lambda child: "while True" in child.entries[-1].stages.get("wrapper", ""))
    round_guard = body.entries[-1].stages["wrapper"].split("def run_")[0]
    assert "_round(" in round_guard and "type(__ember_stack1) is int" in round_guard
    assert "out.dtype" not in round_guard and "x.dtype" not in round_guard


@pytest.mark.parametrize("loop", ["rows", "enumerate", "enumerate zip", "in place"])
def test_loops_over_the_rows_of_an_array_check_only_what_changes(check, backend, loop):
    """An array with more rows than a loop unrolls is iterated by CPython (its rows are not all
    made up front and handed over in a list); its iterator, an enumerate or a zip over it steps
    in C, so a round checks the new row, not the arrays that stay (an in-place ``acc +=`` gives
    acc itself)."""
    def f(x, y, out):
        acc = np.zeros(x.shape[1], x.dtype)
        if loop == "rows":
            for row in x:
                out[0] += row * row
        elif loop == "enumerate":
            for i, row in enumerate(x):
                out[i] = np.tanh(row) * 2.0
        elif loop == "enumerate zip":
            for i, (a, b) in enumerate(zip(x, y, strict=True)):
                out[i] = a * b + i
        else:
            for row in y:
                acc += row
        return out, acc

    compiled = check(f, rand(200, 3, seed=1), rand(200, 3, seed=2), np.zeros((200, 3), np.float32), compiled=None,
                     entries=None)
    wrappers = [function.entries[-1].stages["wrapper"] for function in _resume_functions(compiled)]
    (body,) = [wrapper for wrapper in wrappers if "while True" in wrapper]
    round_guard = body.split("def run_")[0].split("_round(")[1]
    assert "out.dtype" not in round_guard and "acc.dtype" not in round_guard
    # Rows of one array are alike (guards.rows_alike): the first round's check holds for every one.
    assert ".dtype" not in round_guard and ".strides" not in round_guard, round_guard
    assert "graph_out[199]" not in compiled.entries[-1].stages["wrapper"]  # (no list of every row)


def test_a_loop_over_a_list_of_arrays_checks_each_item(check, backend):
    """A list's items may be any arrays (unlike an array's rows): each round checks its own."""
    def f(items, out):
        for item in items:
            out += item * 2.0
        return out

    items = [rand(3, seed=i) for i in range(99)] + [rand(3, seed=99).astype(np.float64)]
    compiled = check(f, items, np.zeros(3, np.float32), compiled=None, entries=None)
    wrappers = [function.entries[-1].stages["wrapper"] for function in _resume_functions(compiled)]
    (body,) = [wrapper for wrapper in wrappers if "while True" in wrapper]
    assert ".dtype == " in body.split("def run_")[0].split("_round(")[1]


def _rows(x):
    yield from x


@pytest.mark.parametrize("loop", ["enumerate", "zip"])
def test_a_loop_over_an_iterator_that_runs_python_code_keeps_every_check(check, backend, loop):
    """enumerate or zip over a generator (its next item runs Python code, which may change what
    the other arguments are) is no iterator that steps in C: each round keeps the full guard."""
    def f(rows, out):
        for i, row in rows:
            out[i] = row * 2.0
        return out

    def make():
        x = rand(100, 3, seed=1)
        rows = enumerate(_rows(x)) if loop == "enumerate" else zip(range(100), _rows(x), strict=True)
        return (rows, np.zeros((100, 3), np.float32)), {}

    compiled = check(f, make_args=make, compiled=None, entries=None)
    wrappers = [function.entries[-1].stages["wrapper"] for function in _resume_functions(compiled)]
    assert any("while True" in wrapper for wrapper in wrappers)  # (the body runs its own rounds)
    assert not any("_round(" in wrapper for wrapper in wrappers)


@pytest.mark.parametrize("loop", ["swap", "rebind", "generator", "zip"])
def test_loops_whose_arguments_change_between_rounds_check_them(check, backend, loop):
    """Buffers swapped each round, an array made anew, a generator (its ``next`` runs Python
    code) and zip keep the checks they need: the results are eager's."""
    def numbers(n):
        yield from range(n)

    def f(x, y):
        rows = {"swap": range(90), "rebind": range(90), "generator": numbers(90),
                "zip": zip(range(5), x, strict=True)}[loop]
        for item in rows:
            i = item[0] if loop == "zip" else item
            if loop == "swap":
                x, y = y, x
                x[i % 5] = y[i % 5] + 1.0
            else:
                x = x * 0.5 + y[i % 5]
        return x, y

    check(f, rand(5, 3, dtype=np.float64, seed=1), rand(5, 3, dtype=np.float64, seed=2), compiled=None, entries=None)


@pytest.mark.parametrize("writes", [False, True])
def test_a_loop_body_that_raises_in_a_later_iteration(check, backend, writes):
    """Iteration 70 raises (an index out of bounds in np.take): a body that writes re-raises
    after the writes of the iterations before, as eager; one that does not reruns that iteration
    eagerly, which raises the same error."""
    def f(x, idx, out):
        total = np.zeros(x.shape[1])
        for i in range(idx.shape[0]):
            row = np.take(x, idx[i], axis=0).sum(0)
            if writes:
                out[i] = row
            total = total + row
        return total

    x, idx = rand(5, 3, dtype=np.float64, seed=1), np.zeros((80, 2), np.int64)
    idx[:, 0] = np.arange(80) % 5
    idx[70, 1] = 9
    check(f, x, idx, np.zeros((80, 3)), compiled=None, entries=None)
    idx[70, 1] = 4
    check(f, x, idx, np.zeros((80, 3)), compiled=None, entries=None)


def test_an_enumerate_loops_counter_is_read_at_run_time(check, backend):
    """``for i, row in enumerate(x)`` hands the body the tuple ``(i, row)``: an int inside a
    tuple argument is read at run time like an int argument."""
    def f(x, w):
        out = np.empty_like(x)
        for i, (row, weight) in enumerate(zip(x, w, strict=True)):
            out[i] = np.tanh(row) * weight + i
        return out

    compiled = check(f, rand(100, 6, seed=1), rand(100, seed=2), compiled=None, entries=None)
    resumed = _resume_functions(compiled)
    assert all(len(function.entries) <= 2 for function in resumed)
    body = max(resumed, key=lambda function: len(function.entries))
    assert "type(__ember_stack1[0]) is int" in guards(body)


def _resume_functions(compiled) -> list:
    """Every function compiled at the breaks under ``compiled``, each once."""
    found: dict[int, object] = {}
    stack = list(compiled.children)
    while stack:
        function = stack.pop()
        if id(function) not in found:
            found[id(function)] = function
            stack.extend(function.children)
    return list(found.values())


def test_an_int_that_only_indexes_reaches_the_graph_unconverted():
    """An int the graph only indexes with is passed as the Python int (NumPy's fastest index, no
    conversion per call); one next to a float array becomes the np.int64 its input node is."""
    def index_only(x, i):
        return x[i] * 2.0

    def arithmetic(x, i):
        return x[i] * i

    x = rand(4, 3, seed=1)
    for f in (index_only, arithmetic):
        compiled = ember.compile(f)
        for i in (0, 1, 2):
            np.testing.assert_array_equal(compiled(x, i), f(x, i))
        wrapper = compiled.entries[-1].stages["wrapper"]
        assert ("artifact([x, i])" in wrapper) is (f is index_only), wrapper


def test_an_int_too_large_for_a_float_is_read_as_a_number(check, backend):
    """Past 2**53 an int next to a float array is not read at run time (its conversion would round
    twice, and past 2**63 it has no int64): the value is guarded, and the call compiles for it."""
    def f(x, v):
        x *= v
        return x + v

    compiled = ember.compile(f, backend=backend)
    for v in (3, 5, 2**64, -2**70, 2**53, 7):
        check(f, rand(4, dtype=np.float64, seed=1), v, compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == 5
