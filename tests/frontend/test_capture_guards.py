"""Guards and the cache: a new dtype, shape, layout or type recompiles and answers right; the
recompile limit falls back to eager with a warning; a failed guard is logged."""
from __future__ import annotations

import logging

import ember
import numpy as np
import pytest


def scale_add(x, y):
    return x * 2 + y


def test_same_kinds_hit_the_cache(check, arr):
    compiled = check(scale_add, arr((3,)), arr((3,), seed=1), calls=3)
    assert len(compiled.entries) == 1


@pytest.mark.parametrize("second", [
    ("dtype", lambda arr: (arr((3,), np.float32), arr((3,), np.float32))),
    ("shape", lambda arr: (arr((4,)), arr((4,)))),
    ("ndim", lambda arr: (arr((2, 3)), arr((3,)))),
    ("layout", lambda arr: (arr((3,), layout="reversed"), arr((3,)))),
    ("strided", lambda arr: (arr((3,), layout="strided"), arr((3,)))),
    ("python scalar", lambda arr: (arr((3,)), 2.5)),
    ("numpy scalar", lambda arr: (arr((3,)), np.float32(2.5))),
    ("0-d array", lambda arr: (arr((3,)), np.array(2.5))),
    ("int dtype", lambda arr: (arr((3,), np.int32), arr((3,), np.int64))),
], ids=lambda p: p[0])
def test_new_kind_recompiles_and_is_right(check, arr, second):
    compiled = check(scale_add, arr((3,)), arr((3,), seed=1))
    check(scale_add, *second[1](arr), compiled_fn=compiled, entries=2)
    check(scale_add, arr((3,)), arr((3,), seed=2), compiled_fn=compiled, entries=2)  # the first still holds


def test_python_scalar_values_are_guarded(check, arr):
    def f(x, n):
        return x * n if n > 2 else x - n

    compiled = check(f, arr((3,)), 3)
    check(f, arr((3,)), 1, compiled_fn=compiled, entries=2)
    check(f, arr((3,)), 3.0, compiled_fn=compiled, entries=3)  # float, not int
    check(f, arr((3,)), True, compiled_fn=compiled, entries=4)


class _Holder:
    pass


@pytest.mark.parametrize("body", [
    "return x[s] * 2", "x[s] = 0\n    return x", "x[s] += 1\n    return x", "return x[s.start:s.stop] + 1",
    "return x[t[0]] * 3", "o.s = s\n    return x[o.s]", "return x[WINDOW] * 2",
    "w = s\n    print('break')\n    x[w] += 1\n    return x",
])
def test_slice_values_are_guarded(check, body, capsys):
    """A slice's bounds are the graph's constants: an entry holds only for the slice it was traced
    with (a later call with another window wrote the first one's elements)."""
    namespace: dict = {"np": np, "o": _Holder(), "WINDOW": None}
    exec(f"def f(x, s, t):\n    {body}\n", namespace)
    f = namespace["f"]
    compiled = ember.compile(f)
    for s in (slice(4, 7), slice(7, 10), slice(np.int64(1), np.int64(4)), slice(4, 7), slice(None, None, -2)):
        namespace["WINDOW"] = s
        check(f, np.arange(12), s, (s, 1), compiled_fn=compiled, entries=None, compiled=None)
    capsys.readouterr()


def test_list_length_and_dict_keys_are_guarded(check, arr):
    def f(xs, opts):
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total * opts.get("scale", 1.0)

    compiled = check(f, [arr((2,)), arr((2,), seed=1)], {"scale": 2.0})
    check(f, [arr((2,)), arr((2,), seed=1), arr((2,), seed=2)], {"scale": 2.0}, compiled_fn=compiled, entries=2)
    check(f, [arr((2,))], {}, compiled_fn=compiled, entries=3)


def test_dict_key_types_and_dtype_arguments_are_guarded(check, arr):
    """``True == 1`` and ``np.dtype('float32') == 'float32'``: equal values of another type take
    another entry (the second call once rebuilt the dict with the traced int keys, or took the
    traced dtype's branch for the string)."""
    def keys(x, d):
        return x * len(d), [type(k).__name__ for k in d], list(d)

    def astype(x, dt):
        return x * 0 if isinstance(dt, str) else x.astype(dt)

    compiled = check(keys, arr((2,)), {1: 2.0})
    check(keys, arr((2,)), {True: 2.0}, compiled_fn=compiled, entries=None, compiled=None)
    compiled = check(astype, arr((2,)), np.dtype("float32"))
    check(astype, arr((2,)), "float32", compiled_fn=compiled, entries=None)


def test_keyword_default_and_positional_calls_agree(check, arr):
    def f(x, y=None, scale=1.0):
        return x * scale if y is None else (x + y) * scale

    x, y = arr((3,)), arr((3,), seed=1)
    compiled = check(f, x, entries=None)
    check(f, x, y, compiled_fn=compiled, entries=None)
    check(f, x, kwargs={"y": y}, compiled_fn=compiled, entries=None)
    check(f, x, kwargs={"scale": 3.0, "y": y}, compiled_fn=compiled, entries=None)
    check(f, kwargs={"x": x}, compiled_fn=compiled, entries=None)
    check(f, x, None, 2.0, compiled_fn=compiled, entries=None)


def test_defaults_reassigned_on_the_compiled_function_are_seen(check, arr):
    def f(x, scale=2.0, *, shift=1.0):
        return x * scale + shift

    compiled = check(f, arr((3,)))
    f.__defaults__ = (5.0,)
    check(f, arr((3,)), compiled_fn=compiled, entries=2)
    f.__kwdefaults__["shift"] = 3.0  # changed in place
    check(f, arr((3,)), compiled_fn=compiled, entries=3)
    f.__kwdefaults__ = {"shift": 4.0}  # (shift, seen changing, is now read at run time: no new entry)
    check(f, arr((3,)), compiled_fn=compiled, entries=3)


def test_code_reassigned_on_the_compiled_function_recompiles(check, arr):
    def f(x, y):
        return x * y

    compiled = check(f, arr((3,)), arr((3,), seed=1))
    f.__code__ = (lambda x, y: x - y).__code__
    check(f, arr((3,)), arr((3,), seed=1), compiled_fn=compiled, entries=1)  # the stale entry is dropped
    f.__code__ = (lambda x, y, z=2.0: (x + y) * z).__code__  # another signature: binds as CPython does
    f.__defaults__ = (2.0,)
    check(f, arr((3,)), arr((3,), seed=1), compiled_fn=compiled, entries=1)


def test_bad_call_signature_raises_as_eager(check, arr):
    check(scale_add, arr((3,)), entries=0)
    check(scale_add, arr((3,)), arr((3,)), arr((3,)), entries=0)
    check(scale_add, arr((3,)), kwargs={"z": 1}, entries=0)


def test_recompile_limit_runs_eagerly_with_a_warning(arr, caplog):
    compiled = ember.compile(scale_add, dynamic=False)  # every size its own entry
    with ember.config.patch(recompile_limit=3), caplog.at_level(logging.WARNING, logger="ember.recompiles"):
        for n in range(1, 7):
            x, y = arr((n,)), arr((n,), seed=1)
            np.testing.assert_allclose(compiled(x, y), x * 2 + y)
    assert sum(1 for e in compiled.entries if e.run is not None) == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "recompile limit" in r.getMessage()]
    assert len(warnings) == 1


def test_recompile_limit_default_is_eight():
    assert ember.config.recompile_limit == 8


def test_guard_failure_is_logged(arr, caplog, monkeypatch):
    monkeypatch.setenv("EMBER_LOGS", "recompiles")
    compiled = ember.compile(scale_add)
    compiled(arr((3,)), arr((3,)))
    with caplog.at_level(logging.INFO, logger="ember.recompiles"):
        compiled(arr((3,), np.float32), arr((3,)))
    messages = [r.getMessage() for r in caplog.records if r.name == "ember.recompiles"]
    assert len(messages) == 1
    assert "guard failed" in messages[0] and "float32" in messages[0] and "x.dtype" in messages[0]


def test_guard_failure_logged_at_debug_without_ember_logs(arr, monkeypatch, caplog):
    monkeypatch.delenv("EMBER_LOGS", raising=False)
    compiled = ember.compile(scale_add, dynamic=False)
    compiled(arr((3,)), arr((3,)))
    with caplog.at_level(logging.INFO, logger="ember.recompiles"):
        compiled(arr((5,)), arr((5,)))
    assert not [r for r in caplog.records if r.name == "ember.recompiles"]
    with caplog.at_level(logging.DEBUG, logger="ember.recompiles"):
        compiled(arr((6,)), arr((6,)))
    assert any("(6,)" in r.getMessage() for r in caplog.records if r.name == "ember.recompiles")


def test_guards_text_is_printable(arr):
    compiled = ember.compile(scale_add)
    compiled(arr((3,)), arr((3,)))
    text = compiled.entries[0].stages["guards"]
    assert text.startswith("def guard_scale_add(x, y):")
    assert "x.dtype == float64" in text and "x.shape == (3,)" in text


def test_reset_forgets_entries(arr):
    compiled = ember.compile(scale_add)
    compiled(arr((3,)), arr((3,)))
    ember.reset()
    assert compiled.entries == []
    compiled(arr((3,)), arr((3,)))
    assert len(compiled.entries) == 1


def test_eager_fallback_is_cached_not_retraced(check, arr):
    def f(x):
        print(end="")
        return x + 1

    compiled = check(f, arr((3,)), compiled=False, calls=4)
    assert len(compiled.entries) == 1


def test_distinct_objects_with_the_same_attribute_arrays(check, arr):
    class Box:
        def __init__(self, w):
            self.w = w

    def f(box, x):
        return x * box.w

    compiled = check(f, Box(arr((3,), seed=1)), arr((3,)))
    check(f, Box(arr((3,), seed=2)), arr((3,)), compiled_fn=compiled, entries=1)

    class Other:
        def __init__(self, w):
            self.w = w

    check(f, Other(arr((3,), seed=2)), arr((3,)), compiled_fn=compiled, entries=2)


@pytest.mark.parametrize("first, second", [(0.0, -0.0), (-0.0, 0.0), (0j, complex(0, -0.0)), (1.0, 1.0)])
def test_signed_zero_scalars_are_distinguished(check, arr, first, second):
    def f(x, s):
        return 1 / (x * s), x * s

    compiled = check(f, arr((3,)), first)
    check(f, arr((3,)), second, compiled_fn=compiled, entries=1 if repr(first) == repr(second) else 2)


def test_longlong_arrays_keep_their_spelling(check):
    """np.longlong is int64 here (equal dtypes) but NumPy keeps it apart: its results stay
    longlong (``.dtype.char`` 'q'). Such arrays run eagerly; int64 ones still compile."""
    def f(x, s):
        return x + 1, x * s, x.sum()

    compiled = check(f, np.arange(4), np.int64(2))
    check(f, np.arange(4, dtype=np.longlong), np.longlong(2), compiled_fn=compiled, entries=2, compiled=None)
    check(f, np.arange(4, dtype=np.ulonglong), np.ulonglong(2), compiled_fn=compiled, entries=3, compiled=None)
    check(f, np.arange(4), np.int64(2), compiled_fn=compiled, entries=3, compiled=None)  # (the first entry's)
    check(lambda x: x.astype(np.longlong) + 1, np.arange(4.0), compiled=None)


def test_threads_that_call_with_new_kinds_at_once_compile_each_once():
    """One compile at a time per function: a thread that waited finds the entry another made
    (several threads once compiled the same kind each, and passed the recompile limit)."""
    import threading

    compiled = ember.compile(lambda x: np.sin(x) * 2.0 + x.sum())
    barrier = threading.Barrier(4)
    results: list = []

    def call(n):
        x = np.arange(n, dtype=np.float64)
        barrier.wait()
        results.append(np.allclose(compiled(x), np.sin(x) * 2.0 + x.sum()))

    for n in (5, 7):
        threads = [threading.Thread(target=call, args=(n,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == [True] * 8 and len(compiled.entries) == 2
