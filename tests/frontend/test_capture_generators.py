"""Generator expressions (and generator functions) drained by sum, list, tuple, min or max are
traced where CPython runs them; a generator consumed item by item runs in CPython."""
from __future__ import annotations

import numpy as np
import pytest


def neighbours(g):
    return sum(np.roll(np.roll(g, i, 0), j, 1) for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0))


def powers(x, n):
    return tuple(x ** k for k in range(n)), list(x * k for k in (2, 3))


def stacked(x):
    return np.stack([row * 2 for row in x]) + sum(row for row in x)


def smallest(x):
    return min(float(k) for k in range(3, 6)) * x


def yields(x):
    def steps(y):
        for k in range(3):
            y = y * 0.5 + k
            yield y
    return sum(steps(x))


def drained_twice(x):
    g = (x * k for k in range(3))
    return sum(g) + sum(g)  # the second sum sees an exhausted generator: 0


@pytest.mark.parametrize("fn, args", [
    (neighbours, ((np.arange(35) % 3 == 0).astype(np.uint8).reshape(5, 7),)),
    (powers, (np.linspace(0, 1, 6), 3)),
    (stacked, (np.arange(12.0).reshape(3, 4),)),
    (smallest, (np.ones(3),)),
    (yields, (np.arange(4.0),)),
    (drained_twice, (np.arange(4.0),)),
])
def test_drained_generators_are_one_graph(check, fn, args):
    check(fn, *args)


def mutates_between_items(a):
    out = []
    for s in (a.sum() for _ in range(3)):  # each item sees the update the loop body made
        a += 1.0
        out.append(s)
    return out


def zipped(x):
    return [a + b for a, b in zip((x * k for k in range(3)), range(3), strict=True)]


@pytest.mark.parametrize("fn", [mutates_between_items, zipped])
def test_a_generator_consumed_item_by_item_runs_in_cpython(check, fn):
    check(fn, np.arange(4.0), compiled=False, reason="generator")


def mapped(x):
    return list(map(lambda r: r * 2, x)), sum(map(np.sqrt, x)), tuple(map(np.add, x, (k for k in range(9))))


def mapped_late(x):
    m = map(lambda r: r * 2, x)  # nothing is called yet: the write below shows in every item
    x[0] = 100.0
    return list(m), list(m)  # the second list finds the map exhausted


def folded(x):
    import functools

    return functools.reduce(np.maximum, x), functools.reduce(lambda p, q: p * 0.5 + q, x, 10.0)


@pytest.mark.parametrize("fn", [mapped, mapped_late, folded])
def test_map_and_reduce_are_traced_where_cpython_calls(check, fn):
    check(fn, np.linspace(0.5, 2.0, 12).reshape(4, 3))


def mapped_item_by_item(x):
    return [r + 1 for r in map(np.exp, x)]


def test_a_map_consumed_item_by_item_runs_in_cpython(check):
    check(mapped_item_by_item, np.arange(4.0), compiled=False, reason="generator")


def test_reduce_of_nothing_raises_as_python_does(check):
    import functools

    def f(x):
        return functools.reduce(np.add, x[:0]) + x
    check(f, np.arange(4.0), compiled=None)
