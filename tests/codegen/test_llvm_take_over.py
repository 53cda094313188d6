"""A kernel's output written over a value that dies in it (passes/memory.py), end to end on the
LLVM backend: NumPy's values and layouts, results the caller holds left alone, memory saved."""
from __future__ import annotations

import re
import tracemalloc

import ember
import numpy as np
import pytest
from ember.codegen.buffers import MIN_BYTES, release_all
from ember.codegen.llvm import compile_graph
from ember.ir import Graph, TensorMeta, interpret
from ember.runtime.threadpool import ThreadPool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

F32, F64 = np.dtype("float32"), np.dtype("float64")


def dense(x, w, b):
    return np.maximum(x @ w + b, 0.0)


def dense_graph(n: int, dtype=F64) -> Graph:
    g = Graph()
    x = g.add_input("x", TensorMeta((n, n), dtype))
    w = g.add_input("w", TensorMeta((n, n), dtype))
    b = g.add_input("b", TensorMeta((n,), dtype))
    g.set_outputs([g.call("maximum", g.call("add", g.call("matmul", x, w), b), 0.0)])
    return g


def inputs(n: int, dtype=F64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype),
            rng.standard_normal(n).astype(dtype)]


@pytest.mark.parametrize("n", [1, 7, 33])
@pytest.mark.parametrize("threads", [1, 2])
def test_written_over_the_matmul_result_with_numpys_values(n, threads):
    artifact = compile_graph(dense_graph(n), take_over_bytes=0, pool=ThreadPool(threads), num_threads=threads,
                             parallel_threshold=1)
    assert "written over %0" in artifact.source
    args = inputs(n)
    got = artifact(args)[0]
    want = dense(*args)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert got.strides == want.strides and got.flags.owndata


@pytest.mark.parametrize("n", [6, 70])
def test_a_buffer_of_another_layout_is_copied_into_numpys(n):
    """``d`` is Fortran-ordered (as NumPy lays out exp of a Fortran array); ``d + m`` with a
    C-ordered ``m`` is C-ordered in NumPy: the kernel writes over ``d`` (by tiles, as ``d``
    crosses the rows: never through a tile's copy of it), and the wrapper copies."""
    def f(x, w):
        d = np.exp(x)
        m = d @ w
        return d + m

    g = Graph()
    x = g.add_input("x", TensorMeta((n, n), F64))
    w = g.add_input("w", TensorMeta((n, n), F64))
    d = g.call("exp", x)
    g.set_outputs([g.call("add", d, g.call("matmul", d, w))])
    artifact = compile_graph(g, take_over_bytes=0)
    assert "written over %0" in artifact.source
    x_f = np.asfortranarray(np.linspace(-1, 1, n * n).reshape(n, n))
    w_c = np.linspace(0, 2, n * n).reshape(n, n) / n
    got, want = artifact([x_f, w_c])[0], f(x_f, w_c)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got.strides == want.strides == (8 * n, 8)


def test_a_result_the_caller_holds_is_never_written_by_a_later_call():
    n = 512  # 2 MiB of float64: large enough to be taken over, and for the matmul's OutputCache
    artifact = compile_graph(dense_graph(n), reuse_outputs=True)
    assert "written over %0" in artifact.source
    first_args, second_args = inputs(n, seed=1), inputs(n, seed=2)
    first = artifact(first_args)[0]
    kept = first.copy()
    second = artifact(second_args)[0]
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_allclose(second, dense(*second_args), rtol=1e-12, atol=1e-12)
    del first, second
    third = artifact(first_args)[0]  # buffers dropped by the caller come round again
    np.testing.assert_allclose(third, kept, rtol=1e-12, atol=1e-12)


def peak_bytes(fn, args) -> int:
    release_all()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        fn(*args)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_the_matmul_epilogue_needs_no_second_buffer():
    n = 512
    size = n * n * 8
    assert size >= MIN_BYTES
    compiled = ember.compile(dense)
    args = inputs(n)
    np.testing.assert_allclose(compiled(*args), dense(*args), rtol=1e-12, atol=1e-12)
    assert peak_bytes(dense, args) >= 2 * size  # eager: x @ w, then the sum, then the maximum
    assert peak_bytes(compiled, args) < 1.5 * size


def test_the_load_of_the_written_over_value_shares_the_stores_alias_scope():
    """Both access the same memory: a load tagged ``!noalias`` with the store's scope would let
    LLVM move it past the store."""
    text = compile_graph(dense_graph(8), take_over_bytes=0).llvm_ir()
    stores = re.findall(r"store double %\w+, ptr (%\w+)(, !alias\.scope !\d+)", text)
    assert stores
    for pointer, scope in stores:
        loads = re.findall(rf"load double, ptr {pointer}(,[^\n]*)?\n", text)
        assert loads and all(tags.startswith(scope) and "noalias" not in tags for tags in loads)


# Programs of steps that end kernels (a matmul, a reduction read back, rolls), each on operands
# picked among all earlier values, so values die at every distance from where arrays of their
# shape are made: written over, recycled into a later output, or kept.
STEPS = ("matmul", "exp", "add", "multiply", "centre", "roll", "transpose")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 99), st.integers(0, 99)), min_size=2, max_size=12),
       st.integers(1, 3), st.integers(0, 2**16))
def test_arrays_taken_over_or_recycled_never_hold_a_value_still_read(steps, outputs, seed):
    n, g = 6, Graph()
    values = [g.add_input("x", TensorMeta((n, n), F64)), g.add_input("y", TensorMeta((n, n), F64))]
    for op, i, j in steps:
        a, b = values[i % len(values)], values[j % len(values)]
        if op == "matmul":
            values.append(g.call("matmul", a, b))
        elif op == "centre":
            values.append(g.call("subtract", a, g.call("mean", a, axis=(0,), keepdims=True)))
        elif op == "roll":
            values.append(g.call("add", g.call("roll", a, 1, 0), b))
        elif op == "transpose":
            values.append(g.call("add", g.call("transpose", a, (1, 0)), b))
        elif op == "exp":
            values.append(g.call("exp", g.call("multiply", a, 0.1)))
        else:
            values.append(g.call(op, a, b))
    g.set_outputs(values[-outputs:])
    def make():
        return [np.random.default_rng(seed + k).standard_normal((n, n)) for k in range(2)]

    artifact = compile_graph(g, take_over_bytes=0)
    want = interpret(g, make())
    for _ in range(2):  # a second call runs on the arrays the first one's caches kept
        got = artifact(make())
        for w, v in zip(want, got, strict=True):
            np.testing.assert_allclose(v, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["sin", "cos"])
@pytest.mark.parametrize("outside", [np.nan, np.inf, 3e7])
def test_float32_sin_of_a_value_written_over_keeps_its_arguments(op, outside):
    """float32 sin/cos rerun through libmvec when an argument is out of their polynomial's range:
    not over a buffer the first run already wrote (the rerun gave sin(sin(x)))."""
    g = Graph()
    x, w = g.add_input("x", TensorMeta((64, 64), F32)), g.add_input("w", TensorMeta((64, 64), F32))
    g.set_outputs([g.call(op, g.call("matmul", x, w))])
    artifact = compile_graph(g, take_over_bytes=0)
    assert "written over %0" in artifact.source
    a, eye = np.full((64, 64), 0.5, np.float32), np.eye(64, dtype=np.float32)
    a[0, 0] = outside
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(artifact([a, eye])[0], getattr(np, op)(a @ eye), rtol=2e-6, atol=1e-6)
