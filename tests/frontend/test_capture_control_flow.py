"""Loops with concrete lengths (unrolled), branches on constants, and what must fall back."""
from __future__ import annotations

import ember
import numpy as np
import pytest


def test_for_over_range(check, arr):
    def f(x, n):
        acc = np.zeros_like(x)
        for i in range(n):
            acc = acc + x * i
        for i in range(n, 0, -2):
            acc -= i
        return acc

    check(f, arr((3,)), 4)


def test_for_over_tuple_list_zip_enumerate(check, arr):
    def f(xs, ws):
        total = 0.0
        for x in xs:
            total = total + x
        for w in [1.0, 2.0]:
            total = total * w
        for x, w in zip(xs, ws):  # noqa: B905 - the tracer's zip is under test
            total = total + x * w
        for i, x in enumerate(xs, 1):
            total = total - i * x
        return total

    check(f, (arr((2,), seed=1), arr((2,), seed=2)), [0.5, -1.0])


def test_for_over_array_rows(check, arr):
    def f(x):
        out = []
        for row in x:
            out.append(row.sum())
        return out

    check(f, arr((3, 4)))


def test_for_over_dict(check, arr):
    def f(x, params):
        for name in params:
            x = x * params[name]
        for _key, value in params.items():
            x = x + value
        return x, list(params.keys()), list(params.values())

    check(f, arr((2,)), {"a": 2.0, "b": arr((2,), seed=3)})


def test_for_over_a_list_sees_what_the_loop_changes(check, arr):
    """CPython's list iterator reads the list's length and item at each step."""
    def f(x):
        work, queue, rows = [1], [1, 2, 3], [10, 20, 30]
        for w in work:
            x = x + w
            if w < 3:
                work.append(w + 1)
        for i, q in enumerate(queue):
            x = x * q
            if i == 0:
                queue.pop()
            queue[-1] = 5
        for r in reversed(rows):
            x = x - r
            if r == 30:
                rows.pop(0)
        return x, work, queue, rows

    check(f, arr((3,)))


def test_changing_a_dicts_size_while_iterating_it_raises(check, arr):
    def f(x):
        table = {"a": 1}
        for key in table:
            table["b"] = 2
            x = x + table[key]
        return x

    check(f, arr((3,)))


def test_zip_and_enumerate_take_items_as_they_go(check, arr):
    def f(x):
        it = iter([1, 2, 3, 4, 5])
        pairs = list(zip(it, it))  # noqa: B905 - the tracer's zip is under test
        rest = list(it)  # 5 was taken by zip before it saw the second one was done
        numbers = iter([6, 7, 8])
        for _, first in enumerate(numbers):
            x = x + first
            break
        later = iter([9, 10])
        return x, pairs, rest, list(numbers), next(later), next(later, 0), next(later, None)

    check(f, arr((3,)))


def test_zip_strict_raises_as_python_does(check, arr):
    def f(x):
        return list(zip([x, x], [1], strict=True))

    check(f, arr((3,)))


def test_dict_views_are_live_and_return_as_views(check, arr):
    def f(x, params):
        table = {"a": 1.0}
        keys, values = table.keys(), table.values()
        table["b"] = 2.0  # the views see it
        for name, value in table.items():
            table[name] = value * 2  # a value changed while iterating: the items view reads it
            x = x + value
        return (x, len(keys), list(values), "b" in keys, keys == frozenset("ab"), keys, table.items(),
                params.keys(), type(params.values()))

    check(f, arr((2,)), {"a": 2.0, "b": arr((2,), seed=3)})


def test_nested_loops_break_continue(check, arr):
    def f(x):
        for i in range(4):
            if i == 1:
                continue
            for j in range(3):
                if j > i:
                    break
                x = x + i * j
            else:
                x = x * 0.5
        return x

    check(f, arr((3,)))


def test_while_loop_on_constants(check, arr):
    def f(x):
        i = 0
        while i < 5:
            x = x * 1.1
            i += 1
        return x

    check(f, arr((2,)))


def test_comprehensions_and_generator_expressions(check, arr):
    def f(xs):
        doubled = [x * 2 for x in xs]
        total = sum(x for x in doubled)
        names = {f"k{i}": x for i, x in enumerate(xs)}
        return total, names["k1"], [i * i for i in range(3)]

    check(f, [arr((3,), seed=i) for i in range(3)], compiled=None)


def test_list_comprehension_compiles(check, arr):
    def f(xs):
        return [np.exp(x) for x in xs]

    check(f, [arr((3,), seed=i) for i in range(3)])


def test_branch_on_dtype_and_shape(check, arr):
    def f(x):
        if x.dtype == np.float32:
            return x * 2
        if x.shape[0] > 3 and x.ndim == 1:
            return x[:3]
        return -x

    compiled = check(f, arr((2,), np.float32))
    check(f, arr((5,)), compiled_fn=compiled, entries=2)
    check(f, arr((2,)), compiled_fn=compiled, entries=3)


def test_data_dependent_branch_runs_eagerly(check, arr):
    def f(x):
        if x.sum() > 0:
            return x
        return -x

    check(f, arr((4,)), compiled=False, reason="data-dependent")


def test_data_dependent_while_runs_eagerly(check, arr):
    def f(x):
        while (x > 1).any():
            x = x / 2
        return x

    check(f, arr((4,), low=0, high=9), compiled=False)


def test_float_of_array_runs_eagerly(check, arr):
    def f(x):
        return float(x.sum()) * x

    check(f, arr((3,)), compiled=False)


def test_item_and_tolist_run_eagerly(check, arr):
    def f(x):
        return x.sum().item(), x.tolist()

    check(f, arr((3,)), compiled=False)


def test_try_except_is_traced_as_its_body(check, arr):
    def f(x):
        try:
            return x + 1
        except ValueError:
            return x

    check(f, arr((3,)))  # (the except clause at run time: test_capture_try.py)


def test_with_block_runs_eagerly(check, arr):
    import threading

    lock = threading.Lock()

    def f(x):
        with lock:  # (np.errstate that only ignores is traced: test_capture_with.py)
            return x / 0

    check(f, arr((3,)), compiled=False)


def test_print_runs_eagerly_with_reason(check, arr, capsys):
    def f(x):
        print("hello")
        return x + 1

    compiled = check(f, arr((3,)), compiled=False, reason="print")
    assert capsys.readouterr().out.count("hello") == 4  # 2 eager + 2 compiled (fell back) calls
    assert len(compiled.entries) == 1  # the fallback is cached, not retraced


def test_graph_break_marker_runs_eagerly(check, arr):
    def f(x):
        y = x * 2
        ember.graph_break()
        return y + 1

    check(f, arr((3,)), compiled=False, reason="graph_break")


def test_disabled_callee_runs_eagerly(check, arr):
    @ember.disable
    def helper(x):
        return x * 3

    def f(x):
        return helper(x) + 1

    check(f, arr((3,)), compiled=False, reason="disable")


def test_fancy_and_boolean_indexing_run_eagerly(check, arr):
    def f(x, idx):
        return x[idx], x[x > 0]

    check(f, arr((5,)), np.array([0, 2, 4]), compiled=False)


def test_global_side_effect_runs_eagerly(check, arr):
    def f(x):
        global _SEEN
        _SEEN = 1
        return x + 1

    check(f, arr((2,)), compiled=False)


def test_long_unroll_limit(check):
    def f(x):
        for _ in range(30000):
            x = x + 1
        return x

    check(f, np.zeros(2), compiled=False, calls=1)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_loop_count_is_guarded(check, arr, n):
    def f(x, n):
        for _ in range(n):
            x = x * 2
        return x

    check(f, arr((2,)), n)
