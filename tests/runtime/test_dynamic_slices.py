"""Slices of constant length whose bounds move with a Python int read at run time
(``x[i:i + 4]``, ``x[2 * i:2 * i + 2]``, ``out[i * b:(i + 1) * b] = ...``): a ``dynamic_slice``
view, guarded to lie in the axis, so one entry serves every window and a chunked or sliding
loop compiles its body once, not once per position until the recompile limit.

Each test runs compiled functions through the differential oracle (conftest.py: values, dtypes,
inputs afterwards, exceptions), then asserts how many entries that took and what they guard.
Random windows next to other index items: test_dynamic_ints.py's property test.
"""
from __future__ import annotations

import ember
import numpy as np
import pytest


def rand(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def guards(compiled) -> str:
    return compiled.entries[-1].stages["guards"]


def define(source: str):
    namespace: dict = {"np": np}
    exec(compile(source, "<window program>", "exec"), namespace)
    return namespace["f"]


@pytest.mark.parametrize("body, inside", [
    ("return x[k:k + 3] * 2.0", (0, 1, 2, 3, 4)),
    ("return x[k - 1:k + 2, 1:] + x[k, :-1]", (1, 2, 3, 4, 5)),
    ("return x[:, k:k + 2].sum(axis=1)", (0, 1, 2, 3, 4)),
    ("return np.tanh(x[..., k + 1:k + 3])", (0, 1, 2, 3, 4)),
    ("return x[k:k + 2, k:k + 3] * 1.5", (0, 1, 2, 3, 4)),
    ("return x[2 * k:2 * k + 2] - x[k * 3 + 1, None]", (0, 1)),
    ("x[k:k + 3] = np.sqrt(np.abs(x[k:k + 3]))\n    return x", (0, 1, 2, 3, 4)),
    ("x[k:k + 2] += x[k + 1:k + 3]\n    return x.sum()", (0, 1, 2, 3, 4)),
    ("x[1, k:k + 4] = 5.0\n    return x", (0, 1, 2, 3)),
])
def test_a_window_at_a_run_time_position_is_compiled_once(check, backend, body, inside):
    """Every position inside the axis runs the entry compiled when the int first changed (two
    entries in all); positions outside it (NumPy shortens or empties the slice there) are traced
    with the number and agree with eager too."""
    f = define(f"def f(x, k):\n    {body}\n")
    compiled = ember.compile(f, backend=backend)
    x = rand(7, 7, seed=1)
    for k in inside:
        check(f, x, k, compiled_fn=compiled, entries=None)
    assert len(compiled.entries) == 2, [e.stages["guards"] for e in compiled.entries]
    assert "dynamic_slice(%x, %" in str(compiled.entries[-1].capture.graph)
    assert "k ==" not in guards(compiled)
    for outside in (-1, 6, 7, -9):
        check(f, x, outside, compiled_fn=compiled, entries=None, compiled=None)


def test_the_guard_keeps_the_window_inside_the_axis(check, backend):
    """``x[k + 1:k + 4]`` of 10 rows: ``0 <= k + 1`` and ``k + 4 <= 10``."""
    f = define("def f(x, k):\n    return x[k + 1:k + 4] * 2.0\n")
    compiled = ember.compile(f, backend=backend)
    for k in (0, 2, 6, -1):
        check(f, rand(10, seed=1), k, compiled_fn=compiled, entries=None)
    assert "-1 <= k < 7" in guards(compiled)
    assert len(compiled.entries) == 2
    check(f, rand(10, seed=1), 7, compiled_fn=compiled, entries=None)  # x[8:11]: two rows
    assert len(compiled.entries) == 3 and "k == 7" in guards(compiled)


def test_a_chunked_loop_compiles_its_body_for_the_full_chunks_once(check, backend):
    """``for i in range(0, n, b)`` over 100 chunks: the body's entries are the first chunk's, the
    one for every later full chunk, and the short last chunk's."""
    def f(x, out, b):
        for i in range(0, x.shape[0], b):
            out[i:i + b] = np.tanh(x[i:i + b]) * 2.0
        return out

    compiled = check(f, rand(1010, seed=1), np.zeros(1010, np.float32), 10, compiled=None, entries=None)
    body = max(compiled.children, key=lambda child: len(child.entries))
    assert len(body.entries) <= 3, [e.stages["guards"] for e in body.entries]
    assert any("dynamic_slice" in str(e.capture.graph) for e in body.entries)


def test_blocks_of_a_scaled_counter(check, backend):
    """``x[i * b:(i + 1) * b]``: the counter times a constant, plus one, still a window of b."""
    def f(x, b):
        total = np.zeros(b, np.float32)
        for i in range(x.shape[0] // b):
            total = total + x[i * b:(i + 1) * b] * 2.0 + x[i * b]
        return total

    compiled = check(f, rand(800, seed=1), 8, compiled=None, entries=None)
    body = max(compiled.children, key=lambda child: len(child.entries))
    assert len(body.entries) <= 2 and "8 * __ember_stack" in guards(body)


def test_a_sliding_window_over_a_dynamic_dimension(check, backend):
    """The window's guard reads the axis's size from the array when the length is dynamic."""
    def f(x, w):
        out = np.empty(x.shape[0] - w + 1, x.dtype)
        for i in range(x.shape[0] - w + 1):
            out[i] = x[i:i + w].mean()
        return out

    compiled = ember.compile(f, backend=backend)
    for rows in (100, 120, 150):
        check(f, rand(rows, seed=rows), 5, compiled_fn=compiled, compiled=None, entries=None)
    body = max(compiled.children, key=lambda child: len(child.entries))
    assert len(body.entries) <= 4, [e.stages["guards"] for e in body.entries]
    assert "x.shape[0] - 4" in guards(body)
