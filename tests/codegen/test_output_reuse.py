"""Large outputs are reused across calls only once the caller holds no reference to them."""
from __future__ import annotations

import threading
import weakref

import ember
import numpy as np
import pytest
from ember.codegen.buffers import MIN_BYTES, OutputCache
from ember.codegen.llvm import compile_graph
from ember.ir import Graph, TensorMeta

F64 = np.dtype("float64")
N = MIN_BYTES // 8 + 5  # just over the size that gets a cache


def scaled(n: int = N, constant: float = 3.0):
    g = Graph()
    x = g.add_input("x", TensorMeta((n,), F64))
    g.set_outputs([g.call("multiply", x, constant)])
    return compile_graph(g, reuse_outputs=True)


def test_dropped_output_is_reused_and_owns_its_data():
    artifact = scaled()
    x = np.arange(N, dtype=F64)
    first = artifact([x])[0]
    address = first.__array_interface__["data"][0]
    del first
    second = artifact([x])[0]
    assert second.__array_interface__["data"][0] == address
    assert second.flags.owndata and second.base is None
    np.testing.assert_array_equal(second, x * 3.0)


@pytest.mark.parametrize("hold", ["array", "view", "memoryview", "frombuffer", "weakref", "in a list"])
def test_output_still_referenced_is_never_reused(hold):
    artifact = scaled()
    x = np.arange(N, dtype=F64)
    out = artifact([x])[0]
    keep = {"array": lambda a: a, "view": lambda a: a[10:], "memoryview": memoryview,
            "frombuffer": lambda a: np.frombuffer(a, F64), "weakref": weakref.ref,
            "in a list": lambda a: [a]}[hold](out)
    expected = out.copy()
    address = out.__array_interface__["data"][0]
    del out
    for _ in range(3):  # every later call needs memory of its own
        again = artifact([x + 1.0])[0]
        assert again.__array_interface__["data"][0] != address
    kept = {"weakref": lambda: keep(), "in a list": lambda: keep[0]}.get(hold, lambda: keep)()
    np.testing.assert_array_equal(np.asarray(kept)[:5], expected[10:15] if hold == "view" else expected[:5])


def test_small_outputs_are_plain_allocations():
    assert "take()" not in scaled(1000).source
    assert "take()" in scaled().source


def test_feeding_outputs_back_alternates_buffers_with_right_values():
    artifact = scaled(constant=1.5)
    x = np.ones(N, F64)
    for _ in range(6):
        x = artifact([x])[0]
    np.testing.assert_array_equal(x, np.full(N, 1.5 ** 6))


def test_concurrent_takers_never_share_a_buffer():
    """Four threads each hold what they took at the same moment (a barrier), round after
    round: no two of them ever hold the same array."""
    cache = OutputCache((N,), F64)
    threads_count, rounds = 4, 50
    barrier = threading.Barrier(threads_count)
    held: list[list[int]] = [[] for _ in range(rounds)]
    lock = threading.Lock()

    def worker():
        for r in range(rounds):
            a = cache.take()
            with lock:
                held[r].append(id(a))
            barrier.wait()  # every thread holds its array now
            barrier.wait()  # ... until all have recorded theirs
            del a

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len(set(ids)) == threads_count for ids in held)
    assert len(cache.arrays) <= 2


def test_compiled_function_reuses_and_config_turns_it_off():
    def f(x):
        return np.sin(x) * 2.0

    x = np.linspace(0, 1, N)
    compiled = ember.compile(f)
    first = compiled(x)
    address = first.__array_interface__["data"][0]
    del first
    assert compiled(x).__array_interface__["data"][0] == address
    assert "take()" in compiled.stages["kernels"]
    with ember.config.patch(reuse_outputs=False):
        plain = ember.compile(f)
        first = plain(x)
        assert "take()" not in plain.stages["kernels"]
        np.testing.assert_allclose(first, f(x))


def test_an_idle_reserve_is_let_go_and_the_alternating_pair_is_kept():
    cache = OutputCache((N,), F64)
    held = cache.take()
    cache.take()  # while `held` is alive: a second buffer
    assert len(cache.arrays) == 2
    del held
    for _ in range(20):  # results dropped at once: one buffer serves every call
        cache.take()
    assert len(cache.arrays) == 1
    results = [cache.take()]
    for _ in range(20):  # y = f(x): the old result is alive during each call
        results = [results[-1], cache.take()]
        results.pop(0)
    assert len(cache.arrays) == 2


def test_release_all_forgets_kept_arrays_but_not_the_callers():
    from ember.codegen.buffers import release_all
    cache = OutputCache((N,), F64)
    mine = cache.take()
    mine[:3] = 7.0
    release_all()
    assert cache.arrays == [] and cache.take() is not mine
    np.testing.assert_array_equal(mine[:3], 7.0)


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float32", "float64"), ("int64", "int64")])
def test_large_matmul_writes_into_a_reused_buffer_with_numpys_exact_result(dtypes):
    g = Graph()
    a = g.add_input("a", TensorMeta((4, 256, 128), np.dtype(dtypes[0])))
    b = g.add_input("b", TensorMeta((128, 300), np.dtype(dtypes[1])))
    g.set_outputs([g.call("matmul", a, b)])
    artifact = compile_graph(g, reuse_outputs=True)
    assert "out=" in artifact.source
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 256, 128)) * 10).astype(dtypes[0])
    y = (rng.standard_normal((128, 300)) * 10).astype(dtypes[1])
    first = artifact([x, y])[0]
    np.testing.assert_array_equal(first, np.matmul(x, y))
    assert first.dtype == np.matmul(x, y).dtype
    address = first.__array_interface__["data"][0]
    del first
    again = artifact([x, y])[0]
    assert again.__array_interface__["data"][0] == address
    np.testing.assert_array_equal(again, np.matmul(x, y))


def test_a_dynamic_site_hands_out_the_calls_shape_and_lets_other_sizes_go():
    cache = OutputCache(("s0", 4), F64)  # the shape a site with a dynamic dimension records
    first = cache.take((N, 4))
    address = first.__array_interface__["data"][0]
    assert first.shape == (N, 4)
    del first
    again = cache.take((N, 4))  # the dropped array of the same size comes back
    assert again.__array_interface__["data"][0] == address
    del again
    other = cache.take((N + 1, 4))  # a new size: a new array; the free one of the old size is let go
    assert other.shape == (N + 1, 4)
    assert [a.shape for a in cache.arrays] == [(N + 1, 4)]
    held = cache.take((N + 1, 4))  # `other` is still held: never handed out twice
    assert held is not other and held.shape == (N + 1, 4)


def test_compiled_function_with_a_dynamic_batch_reuses_outputs_per_size():
    def f(x):
        return x * 2.0

    compiled = ember.compile(f, dynamic=True)
    rows = MIN_BYTES // (8 * 16) + 3
    x, y = np.ones((rows, 16)), np.ones((rows + 5, 16))
    first = compiled(x)
    address = first.__array_interface__["data"][0]
    del first
    second = compiled(x)  # the same size again: the dropped output comes back
    assert second.__array_interface__["data"][0] == address
    np.testing.assert_array_equal(second, x * 2.0)
    np.testing.assert_array_equal(compiled(y), y * 2.0)  # another size while `second` is held
    assert second.shape == (rows, 16) and second.flags.owndata
    np.testing.assert_array_equal(second, x * 2.0)  # untouched by the other call
    assert len(compiled.entries) == 1 and ".take((s0, s1))" in compiled.entries[0].stages["kernels"]


def test_a_kept_array_the_caller_changed_is_not_handed_out_again():
    """Made read-only or given another dtype before it was dropped: the next call's output is a
    fresh array, as eager's would be, with the right values."""
    artifact = scaled()
    x = np.arange(N, dtype=F64)
    for change in ("read-only", "dtype"):
        first = artifact([x])[0]
        if change == "read-only":
            first.flags.writeable = False
        else:
            first.dtype = np.int64
        del first
        second = artifact([x])[0]
        assert second.flags.writeable and second.dtype == F64
        np.testing.assert_array_equal(second, x * 3.0)


def test_a_take_that_finds_the_lock_taken_allocates():
    """A finaliser the garbage collector runs inside ``take`` may call the compiled function
    again on the same thread: waiting for the lock would never end."""
    cache = OutputCache((N,), F64)
    cache.take()
    result: list = []
    with cache.lock:
        taker = threading.Thread(target=lambda: result.append(cache.take()), daemon=True)
        taker.start()
        taker.join(5)
    assert not taker.is_alive() and result[0].shape == (N,) and len(cache.arrays) == 1
