"""Python features the tracer captures: arguments, globals, closures, containers, constants,
Python scalar arithmetic, builtins. Each function is compiled and compared with eager."""
from __future__ import annotations

import math
import warnings

import ember
import numpy as np
import pytest

SCALE = 3.0
OFFSETS = (1.0, 2.0, 3.0)
TABLE = {"a": 2.0, "b": -1.0}
WEIGHT = np.linspace(0.0, 1.0, 5)


def test_locals_and_arguments(check, arr):
    def f(x, y):
        z = x + y
        w = z * z
        return w - x

    check(f, arr((4, 5)), arr((4, 5), seed=1))


def test_globals_scalar_tuple_dict_and_array(check, arr):
    def f(x):
        return x * SCALE + OFFSETS[1] - TABLE["b"] + WEIGHT

    check(f, arr((3, 5)))


def test_module_attribute_reads(check, arr):
    def f(x):
        return x * math.pi + np.pi - np.e + np.float32(2.0)

    check(f, arr((4,), np.float32))


def test_closure_cells(check, arr):
    bias = arr((5,), seed=3)
    scale = 0.5

    def f(x):
        return x * scale + bias

    check(f, arr((2, 5)))


def test_default_and_keyword_arguments(check, arr):
    def f(x, y=None, *, alpha=2.0, beta=1):
        if y is None:
            y = x
        return alpha * x + beta * y

    x, y = arr((3,)), arr((3,), seed=1)
    check(f, x)
    check(f, x, y)
    check(f, x, kwargs={"alpha": -1.5})
    check(f, x, kwargs={"y": y, "beta": 3})


def test_star_args_and_kwargs(check, arr):
    def f(*xs, **options):
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total * options.get("scale", 1.0)

    check(f, arr((2, 3)), arr((2, 3), seed=1), arr((2, 3), seed=2), kwargs={"scale": 4.0})


def _keywords(**options):
    return options


def test_double_star_arguments_merge_as_python_does(check, arr):
    def f(x, extra):
        merged = {**extra, "a": x, **extra}  # a dict display: later keys win
        return _keywords(b=x, **extra), _keywords(**merged, c=2), merged

    check(f, arr((3,)), {"a": 1.0})


@pytest.mark.parametrize("call", ["_keywords(a=1, **{'a': 2})", "_keywords(**{'a': 1}, **{'a': 2})",
                                  "_keywords(**{1: 2})"])
def test_double_star_arguments_raise_as_python_does(check, arr, call):
    namespace: dict = {"_keywords": _keywords}
    exec(f"def f(x):\n    return {call}, x", namespace)
    check(namespace["f"], arr((3,)))


def test_positional_only_arguments(check, arr):
    def f(x, y, /, z=1.0):
        return x - y * z

    check(f, arr((4,)), arr((4,), seed=1), kwargs={"z": 0.25})


def test_tuple_list_dict_build_index_unpack(check, arr):
    def f(x, y):
        pair = (x, y)
        items = [x * 2, y * 3]
        table = {"first": x, "second": items[1]}
        a, b = pair
        first, *rest = [a, b, x]
        return table["first"] + table["second"] + rest[-1] - first, [a, b], {"k": (b,)}

    check(f, arr((3,)), arr((3,), seed=1))


@pytest.mark.parametrize("expression", ["[x, y] + 3", "(x,) + [y]", "[x] * 2 + [y] * -1", "(x, y) * 2",
                                        "3 * [x]", "[x] * True"])
def test_sequence_arithmetic_as_python_does_it(check, arr, expression):
    """Repetition needs ``*`` and an int; ``[x, y] + 3`` raises TypeError, as in Python."""
    namespace: dict = {}
    exec(f"def f(x, y):\n    return {expression}\n", namespace)
    check(namespace["f"], arr((3,)), arr((3,), seed=1), compiled=None)


def test_returning_inputs_and_containers_of_inputs(check, arr):
    def f(x, y):
        return x, (y, x), {"x": x}

    check(f, arr((3,)), arr((3,), seed=1))


def test_returning_constants_and_python_values(check, arr):
    def f(x):
        return x.shape, x.ndim, x.dtype, None, "text", 2.5, len(x)

    check(f, arr((3, 4)), compiled=None)


def test_constants_in_the_graph(check, arr):
    def f(x):
        return x + 1, x * 1.5, x - True, x / 2j

    check(f, arr((3,)))


def test_python_scalar_arithmetic(check, arr):
    def f(x, n):
        k = (n * 3 + 1) // 2
        r = n % 4
        p = 2 ** n
        q = n / 4
        return x * k + r - p * q + (-n) + abs(-n) + divmod(n, 3)[1]

    check(f, arr((3,)), 5)


def test_python_comparisons_and_boolean_logic(check, arr):
    def f(x, n):
        if n > 2 and not n == 7 or n is None:
            x = x + 1
        if 1 < n <= 10:
            x = x * 2
        return x, n != 3, n in (1, 2, 5), n not in [5]

    check(f, arr((3,)), 5)


def test_if_on_constants_and_shapes(check, arr):
    def f(x, mode="relu"):
        if x.ndim == 2:
            x = x.sum(axis=0)
        if mode == "relu":
            return np.maximum(x, 0)
        elif mode == "tanh":
            return np.tanh(x)
        return x

    check(f, arr((3, 4)))
    check(f, arr((4,)), "tanh")
    check(f, arr((4,)), "none")


def test_conditional_expression_and_isinstance(check, arr):
    def f(x, y):
        z = y if isinstance(y, np.ndarray) else np.full(x.shape, y)
        return x + z if len(x) > 1 else x

    check(f, arr((3,)), arr((3,), seed=1))
    check(f, arr((3,)), 2.0)


def test_builtins_min_max_sum_len_range(check, arr):
    def f(xs):
        n = min(len(xs), 3)
        m = max(1, 2, n)
        return sum(xs[i] for i in range(n)) * m

    check(f, [arr((2,), seed=i) for i in range(4)], compiled=None)


def test_builtin_sum_over_list(check, arr):
    def f(xs):
        return sum(xs) / len(xs)

    check(f, [arr((2, 2), seed=i) for i in range(4)])


@pytest.mark.parametrize("call", [
    "sum(values)",  # 3.12+ adds Python floats with compensation: 1.0, not 0.0
    "sum([True, *values, 1])",  # ints and bools first: CPython's int fast path, then its float one
    "sum(values, 0.5)",
    "sum([*values, x.sum(), 1.0])",  # from the NumPy scalar on, ``+`` item by item
    "sum([x.sum(), *values])",
    "sum([[x], [1.0]], [])",
    "sum(['a', 'b'], '')",  # raises: CPython rejects a string start
    "sum([x, x], b'')",
    "sum(['a', 'b'])",
])
def test_builtin_sum_as_cpython_adds(check, arr, call):
    namespace: dict = {}
    exec(f"def f(x, values):\n    return {call}", namespace)
    check(namespace["f"], arr((3,)), [1e100, 1.0, -1e100])


def test_string_formatting_of_constants(check, arr):
    def f(x, n):
        name = f"layer{n}"
        return x * len(name)

    check(f, arr((2,)), 12)


def test_math_module_on_constants(check, arr):
    def f(x, n):
        return x * math.sqrt(n) + math.log(n) + math.floor(2.5)

    check(f, arr((2,)), 4)


def test_list_append_and_comprehension(check, arr):
    def f(x):
        parts = []
        for i in range(3):
            parts.append(x * i)
        squares = [p * p for p in parts]
        table = {i: p for i, p in enumerate(parts)}
        return squares[2] + table[1]

    check(f, arr((3,)))


def test_inplace_operators_change_lists_and_dicts_in_place(check, arr):
    def f(x):
        parts, table = [x], {"a": x}
        alias, same = parts, table
        parts *= 2
        parts += [x * 2]
        table |= {"b": x + 1}
        table |= [("c", 3.0)]
        return alias, same, alias is parts, len(parts)

    check(f, arr((3,)))


@pytest.mark.parametrize("body", ["parts *= 2.0", "table |= 5", "table |= [(1, 2, 3)]"])
def test_inplace_operators_on_containers_raise_as_python_does(check, arr, body):
    namespace: dict = {}
    exec(f"def f(x):\n    parts, table = [x], {{}}\n    {body}\n    return x", namespace)
    check(namespace["f"], arr((3,)))


def test_inplace_operators_on_an_argument_list_or_dict_reach_the_caller(backend):
    import ember

    def f(x, items, table):
        items *= 2
        table |= {"k": 1}
        return x + 1

    items, table = [1], {"a": 0}
    ember.compile(f, backend=backend)(np.zeros(1), items, table)
    assert items == [1, 1] and table == {"a": 0, "k": 1}


def test_nested_tuples_and_reversed(check, arr):
    def f(pairs):
        out = []
        for a, (b, c) in reversed(pairs):
            out.append(a * b - c)
        return tuple(out)

    check(f, [(arr((2,), seed=i), (arr((2,), seed=i + 1), 1.0)) for i in range(3)])


def test_float_int_builtins_on_constants(check, arr):
    def f(x, s):
        return x * float(s) + int("3") + round(2.7)

    check(f, arr((2,)), 2)


def test_walrus_and_augmented_python_scalars(check, arr):
    def f(x):
        n = 1
        n += 2
        n *= 3
        if (m := n - 1) > 5:
            x = x * m
        return x

    check(f, arr((3,)))


def test_slice_objects_and_ellipsis_constants(check, arr):
    def f(x):
        s = slice(1, None, 2)
        return x[s], x[..., 0]

    check(f, arr((5, 3)))


@pytest.mark.parametrize("value", [complex("nan+1j"), complex("inf-0j"), complex(1, -np.inf), complex(2, 3)],
                         ids=str)
def test_complex_arguments_with_nan_or_inf_parts_match_their_guard(check, arr, value):
    """A guard ``c == (nan+1j)`` never held (and ``(inf-0j)`` is no literal): the entry traced for
    the value rejected it on every call, which ran eagerly with a warning."""
    def f(x, c):
        return x * c

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        check(f, arr((3,)), value)


@pytest.mark.parametrize("value", [0, 1, -2, 3.5, True])
def test_python_scalar_arguments_specialise(check, arr, value):
    def f(x, s):
        return x * s + s

    check(f, arr((3,)), value)


def test_identity_survives_inplace_updates(check, arr):
    def f(x, z):
        y = x
        x += 1
        v = x[1:]
        return x is y, y is x, v is x, x is z, x is not None

    check(f, arr((3,)), arr((3,), seed=1))


def test_functions_that_may_hand_back_their_argument_keep_its_identity(check, arr):
    """``x.real``, ``np.real(x)`` of a real array and ``np.squeeze(x)`` with nothing to squeeze
    are x itself in NumPy, and ``is`` says so when traced: it said False, and the idiom
    ``if y is x: y = y.copy()`` then wrote into the caller's array."""
    def f(x, c):
        return (np.real(x) is x, x.real is x, x.imag is x, np.squeeze(x) is x, x.squeeze(()) is x,
                np.squeeze(x[None]) is x, np.real(c) is c, c.real is c)

    check(f, arr((3, 2)), arr((3,)) + 1j)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_is_on_ascontiguousarray_asks_the_run_time(check, layout):
    """``np.ascontiguousarray(x) is x`` holds only for a C-contiguous x: the layout decides at run
    time, so the test runs in CPython at a graph break."""
    def f(x):
        y = np.ascontiguousarray(x)
        if y is x:  # a copy for the caller's sake, where NumPy handed back x itself
            y = y.copy()
        y += 1
        return y, np.asfortranarray(x) is x

    def make():
        x = np.arange(12.0).reshape(3, 4)
        return ({"C": x, "F": np.asfortranarray(x), "strided": x[:, ::2]}[layout],), {}
    check(f, make_args=make, compiled=False, reason="identity test of np.ascontiguousarray")


@pytest.mark.parametrize("op", ["+=", "*="])
@pytest.mark.parametrize("other", ["np.ones(3)", "np.ones((2, 3))", "np.float64(2.0)", "np.int64(2)", "np.array(2)"])
def test_a_list_updated_in_place_by_an_array_becomes_numpys_result(check, op, other):
    """CPython tries ``lst + x`` before extending, and an array's (or NumPy scalar's) __radd__
    wins: ``lst += np.ones(3)`` is an array (it extended the list); ``lst *= np.int64(2)`` still
    repeats the list, ``lst *= np.float64(2)`` raises TypeError."""
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    lst = [1.0, 2.0, 3.0]\n    alias = lst\n    lst {op} {other}\n    return lst, alias",
         namespace)
    check(namespace["f"], np.ones(3), compiled=None)  # (a NumPy scalar made here: a constant, run eagerly)


@pytest.mark.parametrize("rows", [3, 100])
def test_an_iterator_over_an_array_is_cpythons_when_it_escapes(check, rows):
    """``iter(x)`` and ``reversed(x)`` handed back to the caller, part consumed, are CPython's
    own iterator and reversed object over x (a list iterator over the rows before)."""
    def f(x):
        forward, backward = iter(x), reversed(x)
        first, last = next(forward), next(backward)
        return forward, backward, first * 2.0, last * 2.0

    def make():
        return (np.arange(rows * 2.0).reshape(rows, 2),), {}

    compiled = ember.compile(f)
    for want, got in zip(f(*make()[0]), compiled(*make()[0]), strict=True):
        assert type(got) is type(want)
        if isinstance(want, np.ndarray):
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_array_equal(np.array(list(got)), np.array(list(want)))


def test_same_array_twice_is_identical(check):
    def make():
        a = np.arange(3.0)
        return (a, a), {}

    def f(x, y):
        return x is y

    check(f, make_args=make, compiled=None)


def test_comprehension_variable_does_not_leak(check, arr):
    def f(xs):
        x = 10
        out = [x * 2 for x in xs]
        return out, x

    check(f, [arr((2,), seed=i) for i in range(3)])


@pytest.mark.parametrize("expression", ["2j + v", "2j * v", "2j - v", "2j / v", "2j == v", "v + 2j", "2.5 + v"])
def test_python_complex_with_a_float64_scalar_keeps_pythons_result_type(check, expression):
    """np.float64 subclasses float: ``2j + np.float64(x)`` is answered by complex's own operator
    (a Python complex), not NumPy's reflected one; Ember must hand back the same type."""
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    v = np.exp(x)\n    return {expression}\n", namespace)
    check(namespace["f"], np.array(0.5), compiled=None)


def test_methods_of_immutable_constants_are_evaluated_while_tracing(check, arr):
    def f(x, mode="Mean", sep="-"):
        if mode.lower().startswith("mean"):
            x = x.mean(axis=0)
        name = sep.join(("a", "b")).upper() + f"{x.shape[0]}"
        return x * len(name) + (7).bit_length() + (2.5).as_integer_ratio()[1] + (1, 2, 2).count(2)

    x = arr((3, 4))
    check(f, x)
    check(f, x, kwargs={"mode": "SUM", "sep": "++"})


def test_imports_of_loaded_modules_inside_the_function_are_looked_up(check, arr):
    def f(x):
        import functools
        import os.path
        from math import sqrt

        import numpy.linalg
        from numpy import linalg as la
        return functools.reduce(np.add, x) * sqrt(2.0) + la.norm(x) + numpy.linalg.norm(x) + len(os.path.sep)

    check(f, arr((3, 4)))


def test_a_first_import_runs_in_cpython(tmp_path, monkeypatch):
    import sys

    import ember
    (tmp_path / "ember_fresh_module.py").write_text("FACTOR = 3.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ember_fresh_module", raising=False)

    def f(x):
        import ember_fresh_module  # type: ignore[import-not-found]  # (written by the test)
        return x * ember_fresh_module.FACTOR

    compiled = ember.compile(f)
    np.testing.assert_array_equal(compiled(np.ones(3)), np.full(3, 3.0))
    assert "not imported yet" in str(compiled.entries[0].capture.eager)


def test_dict_of_pairs_mappings_and_keywords(check, arr):
    def f(x, y, options):
        d = dict(zip(("a", "b"), (x, y), strict=True))
        e = dict(d, c=x * 3)
        g = dict([(1, x), (1, y)])  # the later pair wins
        h = dict((k + "2", v * 2) for k, v in d.items())
        o = dict(options, scale=2.0)
        return d["a"] + d["b"] + e["c"] + g[1] + h["a2"] * o["scale"] - o["shift"], len(e), list(h)

    check(f, arr((3,)), arr((3,), seed=1), {"shift": 0.5})


@pytest.mark.parametrize("body", ["[7] * k", "k * [7]", "(1, 2) * k", "len([0] * k)", "[x[0]] * k"])
@pytest.mark.parametrize("k", [np.int64(3), np.uint8(2), np.bool_(True), np.float64(2.0)])
def test_a_sequence_times_a_numpy_scalar_repeats_it(check, body, k):
    """A NumPy scalar hands the sequence back to Python: an integer repeats it, a bool or a float
    raises (an ndarray, even 0-d, would multiply elementwise)."""
    namespace: dict = {"np": np}
    exec(f"def f(x, k):\n    return {body}, x * 2\n", namespace)
    check(namespace["f"], np.arange(3.0), k, compiled=None)


@pytest.mark.parametrize("body", [
    "{x.dtype: x * 2}", "{np.float64(1.0): x + 1}", "{float('inf'): x}", "{(np.int64(1), 2): x}",
    "{x.sum(): 1}", "{v: i for i, v in enumerate(x)}", "{1: 2}.get(x[0], 3)",
])
def test_dicts_keyed_by_numpy_values(check, body):
    """Keys are bound into the generated wrapper as objects (their text, ``dtype('float64')``,
    named nothing there); a key computed from array data breaks the graph there."""
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    return {body}\n", namespace)
    check(namespace["f"], np.arange(3.0), compiled=None)


@pytest.mark.parametrize("body", [
    "for v in x:\n        x += 1\n        out.append(v)",
    "for v in reversed(x):\n        x[0] = v * 10\n        out.append(v)",
    "for i, v in enumerate(x):\n        x[(i + 1) % 3] += v\n        out.append(v)",
    "it = iter(x)\n    out.append(next(it))\n    x[1] = -5.0\n    out.append(next(it))",
    "for a, b in zip(x, x[::-1]):\n        x[2] = 9.0\n        out.append(a + b)",
])
def test_an_iterator_over_a_vector_reads_each_element_when_it_steps(check, body):
    """A vector's elements are values, read as CPython's iterator steps: the loop body's writes
    to the vector come before the later elements are read."""
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    out = []\n    {body}\n    return out, x\n", namespace)
    check(namespace["f"], np.arange(3.0))


def _bump(a):
    a += 1
    return a


@pytest.mark.parametrize("body", [
    "sum(_bump(a) for a in [x, x, x])", "sum(map(_bump, [x, x, x]))", "sum((_bump(a) for a in [x, x]), np.zeros(2))",
    "list(map(np.copy, map(_bump, [x, x, x])))", "functools.reduce(np.add, map(_bump, [x, x, x]))",
    "sum(a * 2 for a in [x, x, x])", "list(map(_bump, [x, x]))",   # (no interleaving to keep)
    "list(map(lambda s: _bump(x)[0] * 0 + s, (x.sum() for _ in range(3))))",
    "list(map(lambda v: _bump(x)[0] * 0 + v, x))",
    "functools.reduce(lambda acc, s: acc + s + _bump(x)[0] * 0, (x.sum() for _ in range(3)))",
    "sum(((lst.append(1) or lst) for _ in range(3)), []), x * 2",
])
def test_a_generator_that_writes_arrays_is_consumed_item_by_item(check, body):
    """sum, map and reduce use each item before the next is made: a generator (or map) whose
    body writes the array it yields gives each state in turn, not the last one three times."""
    import functools

    namespace: dict = {"np": np, "_bump": _bump, "functools": functools}
    exec(f"def f(x):\n    lst = []\n    return {body}\n", namespace)
    check(namespace["f"], np.zeros(2), compiled=None)
