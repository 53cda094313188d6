"""The on-disk object cache (hit, miss, corrupt entry) and splitting across threads."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import ember
import numpy as np
import pytest
from ember.codegen.llvm import compile_graph
from ember.ir import Graph, TensorMeta
from ember.runtime.disk_cache import DiskCache
from ember.runtime.threadpool import ThreadPool

F32 = np.dtype("float32")


def unique_graph(constant: float, n: int = 50) -> Graph:
    """A graph whose kernel text is new to this process (the constant is in the IR)."""
    g = Graph()
    x = g.add_input("x", TensorMeta((n,), F32))
    g.set_outputs([g.call("multiply", g.call("tanh", x), constant)])
    return g


def check(artifact, n: int = 50, constant: float = 0.0) -> None:
    x = np.linspace(-2, 2, n, dtype=F32)
    np.testing.assert_allclose(artifact([x])[0], np.tanh(x) * np.float32(constant), rtol=4e-6)


def test_miss_then_hit(tmp_path):
    cache = DiskCache(tmp_path / "cache")
    constant = float(np.random.default_rng().random()) + 10
    first = compile_graph(unique_graph(constant), cache=cache)
    assert not first.from_cache and cache.misses == 1
    entries = list((tmp_path / "cache").glob("*.o"))
    assert len(entries) == 1
    assert stat.S_IMODE(os.stat(tmp_path / "cache").st_mode) == 0o700
    check(first, constant=constant)
    # A fresh process finds it on disk and skips LLVM.
    script = textwrap.dedent(f"""
        import numpy as np
        from ember.codegen.llvm import compile_graph
        from ember.ir import Graph, TensorMeta
        from ember.runtime.disk_cache import DiskCache
        g = Graph()
        x = g.add_input("x", TensorMeta((50,), np.dtype("float32")))
        g.set_outputs([g.call("multiply", g.call("tanh", x), {constant!r})])
        artifact = compile_graph(g, cache=DiskCache({str(tmp_path / 'cache')!r}))
        v = np.linspace(-2, 2, 50, dtype=np.float32)
        assert np.allclose(artifact([v])[0], np.tanh(v) * np.float32({constant!r}))
        print(artifact.from_cache)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"


def test_a_kernel_compiled_for_another_layout_goes_to_the_disk_cache_too(tmp_path):
    """A row softmax first called on a Fortran-ordered array compiles its kernel again for that
    order (a second module); a fresh process called the same way finds both on disk."""
    script = textwrap.dedent(f"""
        import numpy as np, ember

        def softmax(x):
            e = np.exp(x - x.max(axis=-1, keepdims=True) + {float(np.random.default_rng().random())!r})
            return e / e.sum(axis=-1, keepdims=True)

        x = np.asfortranarray(np.linspace(-3, 3, 64 * 48, dtype=np.float32).reshape(64, 48))
        with ember.config.patch(cache_dir={str(tmp_path / 'cache')!r}, suppress_errors=False):
            compiled = ember.compile(softmax)
            assert np.allclose(compiled(x), softmax(x), rtol=1e-5, atol=1e-7)
        print(compiled.stages["kernels"].splitlines()[-1].strip())
    """)
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "k0: loops in memory order (1, 0): sweeps into accumulator arrays" in first
    assert len(list((tmp_path / "cache").glob("*.o"))) == 2
    # The second process may not run LLVM's code generation at all.
    refuse = "import importlib; importlib.import_module('ember.codegen.llvm.jit').compile_to_object = None\n"
    again = subprocess.run([sys.executable, "-c", refuse + script], capture_output=True, text=True, check=True)
    assert again.stdout == first


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "wrong_object"])
def test_corrupt_entry_is_recompiled(tmp_path, damage):
    cache = DiskCache(tmp_path)
    constant = float(np.random.default_rng().random()) + 20
    key_holder = {}
    real_put = cache.put

    def spy_put(key, data):
        key_holder["key"] = key
        real_put(key, data)
    cache.put = spy_put
    compile_graph(unique_graph(constant), cache=cache)
    path = cache.path(key_holder["key"])
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        path.write_bytes(raw[:-10] + bytes([raw[-10] ^ 0xFF]) + raw[-9:])
    elif damage == "garbage":
        path.write_bytes(b"not an object file")
    else:  # a valid entry holding the wrong code: loads, but lacks the kernel
        other = DiskCache(tmp_path / "other")
        compile_graph(unique_graph(constant + 1), cache=other)
        raw = next((tmp_path / "other").glob("*.o")).read_bytes()
        path.write_bytes(raw)
    # Forget the in-process copy so that the disk is consulted again.
    from ember.codegen.llvm import jit
    jit._LOADED.clear()
    artifact = compile_graph(unique_graph(constant), cache=cache)
    assert not artifact.from_cache
    check(artifact, constant=constant)
    assert cache.get(key_holder["key"]) is not None  # overwritten with good code


def test_cache_dir_keyword_needs_a_cache_object():
    with pytest.raises(TypeError, match="DiskCache"):
        compile_graph(unique_graph(1.0), cache_dir="/tmp/somewhere")


@pytest.mark.parametrize("shape", [(3000, 1000), (2000003,), (7, 300001)])
def test_parallel_split_matches_single_thread(differential, values, shape):
    pool = ThreadPool(3)
    g = Graph()
    x = g.add_input("x", TensorMeta(shape, F32))
    g.set_outputs([g.call("add", g.call("sin", x), 1.0), g.call("sum", x, axis=(len(shape) - 1,))])
    # float32 sums: ours accumulate in float64, NumPy's pairwise float32 sums are off by ~1e-4 here
    artifact = differential(g, lambda: [values(F32, shape, 1)], {F32: (1e-5, 1e-3)}, pool=pool, num_threads=3)
    assert "_pool.parallel_for" in artifact.source


def _laid_out(x: np.ndarray, layout: str) -> np.ndarray:
    """``x`` in a test's layout: every other column ("strided 2d"), transposed (memory along the
    first axis: the reduction runs its axes in reverse), reversed, or itself."""
    if layout == "strided 2d":
        return x[:, ::2]
    if layout == "transposed":
        return x.T
    return x[::-1] if layout == "reversed" else x


FULL_REDUCTIONS = [("sum", "float32"), ("sum", "float64"), ("sum", "int32"), ("prod", "float64"),
                   ("max", "float32"), ("min", "int64"), ("mean", "float32"), ("any", "bool"), ("all", "bool")]


@pytest.mark.parametrize("name, dtype", FULL_REDUCTIONS)
@pytest.mark.parametrize("layout", ["contiguous", "2d", "strided 2d", "transposed", "reversed"])
def test_full_reduction_splits_into_partials(differential, values, name, dtype, layout):
    """A kernel that reduces everything splits its first reduced axis into per-thread partials,
    combined by one more call: same results as the interpreter, the elementwise output too."""
    pool = ThreadPool(3)
    dtype = np.dtype(dtype)
    base = {"contiguous": (1 << 20) + 7, "2d": (1031, 1021), "strided 2d": (1031, 2042), "transposed": (1021, 1031),
            "reversed": (1 << 20) + 3}[layout]

    def make():
        x = values(dtype, base, 2, special=dtype.kind == "f" and name != "prod")
        if name == "prod":
            x = (1 + x / 1e6).astype(dtype)  # a product that stays finite
        if dtype.kind == "b":  # decided by the last element, which only the last chunk sees
            x = np.ones(base, bool) if name == "any" else np.zeros(base, bool)
            x.flat[-1] = name != "any"
        return [_laid_out(x, layout)]

    shape = make()[0].shape
    g = Graph()
    x = g.add_input("x", TensorMeta(shape, dtype))
    square = g.call("multiply", x, x) if dtype.kind != "b" else g.call("logical_not", x)
    g.set_outputs([g.call(name, square), square])
    artifact = differential(g, make, {np.dtype("float32"): (1e-4, 1e-6), np.dtype("float64"): (1e-10, 1e-12)},
                            pool=pool, num_threads=3)
    assert "_dims_k0_combine" in artifact.source
    single = compile_graph(g, pool=None)
    assert "_combine" not in single.source
    np.testing.assert_allclose(single(make())[0], artifact(make())[0], rtol=1e-5)


def _zscore(g, x):
    centred = g.call("subtract", x, g.call("mean", x))
    return [g.call("divide", centred, g.call("std", x))]


def _softmax(g, x):  # exp is spilled in its pass and read back in the last one
    e = g.call("exp", g.call("subtract", x, g.call("max", x)))
    return [g.call("divide", e, g.call("sum", e))]


def _centred_and_variance(g, x):  # a full output and a reduced one, finished in different passes
    centred = g.call("subtract", x, g.call("mean", x))
    return [centred, g.call("var", x), g.call("sum", g.call("multiply", centred, centred))]


def _shifted_integers(g, x):
    return [g.call("subtract", x, g.call("max", x)), g.call("sum", x)]


def _flag_then_centre(g, x):  # a bool finished in the first pass, read back in the second
    flag = g.call("any", g.call("greater", x, 5.0))
    return [g.call("where", flag, g.call("subtract", x, g.call("mean", x)), x)]


MULTI_PASS = {"zscore": _zscore, "softmax": _softmax, "centred and variance": _centred_and_variance,
              "shifted integers": _shifted_integers, "flag then centre": _flag_then_centre}


@pytest.mark.parametrize("program", MULTI_PASS)
@pytest.mark.parametrize("layout", ["contiguous", "2d", "strided 2d", "transposed", "reversed", "two rows"])
@pytest.mark.parametrize("threads", [2, 3])
def test_full_reductions_over_several_passes_split_pass_by_pass(differential, values, program, layout, threads):
    """A kernel that reduces everything in several passes (a mean, then a deviation, then the
    output) splits each pass across the threads, the finished reductions read back by the later
    passes: the interpreter's results, and the single-threaded kernel's to rounding."""
    dtype = np.dtype("int64") if program == "shifted integers" else np.dtype("float64")
    base = {"contiguous": (10007,), "2d": (101, 103), "strided 2d": (101, 206), "transposed": (103, 101),
            "reversed": (10009,), "two rows": (2, 997)}[layout]

    def make():
        return [_laid_out(values(dtype, base, 5) + (3 if dtype.kind == "f" else 0), layout)]

    shape = make()[0].shape
    g = Graph()
    x = g.add_input("x", TensorMeta(shape, dtype))
    g.set_outputs(MULTI_PASS[program](g, x))
    artifact = differential(g, make, {np.dtype("float64"): (1e-12, 1e-12)}, pool=ThreadPool(threads),
                            num_threads=threads, parallel_threshold=1)
    assert artifact.source.count("_pool.parallel_for") >= 2, artifact.source  # one per pass
    single = compile_graph(g, pool=None)
    for split, whole in zip(artifact(make()), single(make()), strict=True):
        np.testing.assert_allclose(split, whole, rtol=1e-13, atol=1e-13)


def test_a_split_multi_pass_reduction_with_dynamic_sizes(values, monkeypatch):
    """Sizes known per call: the chunk count and every pass's dims are made per call; a kernel
    of several plain passes splits from 1.5 times the single-pass threshold."""
    import ember

    def zscore(x):
        return (x - x.mean()) / x.std()

    splits = []
    real_split = ThreadPool.parallel_for
    monkeypatch.setattr(ThreadPool, "parallel_for", lambda pool, *args: (splits.append(args[2][1]),
                                                                           real_split(pool, *args)))
    compiled = ember.compile(zscore, dynamic=True)
    monkeypatch.setattr(ember.config, "num_threads", 3)
    for n in ((1 << 21) + 5, (1 << 21) + 1001, 1_500_000, 9):
        x = values(np.float32, (n,), n)
        np.testing.assert_allclose(compiled(x), zscore(x), rtol=1e-4, atol=1e-5)
    assert splits == [(1 << 21) + 5] * 3 + [(1 << 21) + 1001] * 3  # three passes each; 1.5M and 9 on one thread
    assert len(compiled.entries) == 1
    assert "_dims((0, c_k0, -2" in compiled.stages["kernels"]


def test_max_over_chunks_propagates_nan_from_any_chunk():
    pool = ThreadPool(2)
    g = Graph()
    x = g.add_input("x", TensorMeta((1 << 21,), F32))
    g.set_outputs([g.call("max", x)])
    artifact = compile_graph(g, pool=pool, num_threads=2)
    for where in (0, (1 << 20) - 1, 1 << 20, (1 << 21) - 1):
        data = np.zeros(1 << 21, F32)
        data[where] = np.nan
        assert np.isnan(artifact([data])[0]), where


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_while_another_thread_compiles_leaves_the_child_able_to_compile(tmp_path, monkeypatch,
                                                                              child_exit_code):
    """The fork waits for the compile: a child that inherited LLVM's (and llvmlite's) state half
    changed hung in its first compile."""
    import threading
    import time

    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path))
    stop = threading.Event()

    def compile_many() -> None:
        k = 0
        while not stop.is_set():
            k += 1
            ember.compile(lambda x, k=k: np.tanh(x) * k + np.exp(x) * (k + 1))(np.ones(5))

    worker = threading.Thread(target=compile_many, daemon=True)
    worker.start()
    try:
        for _ in range(5):
            time.sleep(0.05)
            pid = os.fork()
            if pid == 0:
                ok = ember.compile(lambda x: np.sqrt(x) * 7.0)(np.ones(4))[0] == 7.0
                os._exit(0 if ok else 1)
            assert child_exit_code(pid) == 0, "the child's compile never finished"
    finally:
        stop.set()
        worker.join(30)
