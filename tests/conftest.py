"""The differential oracle shared by the tests: compile a function, run it and NumPy eager on
identical copies of the same inputs, and demand the same result.

``check(fn, *args)`` (a fixture, parametrised over the available backends) compares values
(exact for integers and booleans, per-dtype tolerance for floats, NaN where NaN), dtypes,
shapes, Python types (NumPy scalar vs 0-d array vs Python float), the nesting of returned
containers, identity and memory sharing with the inputs, exceptions (type and message), and
every input array afterwards. ``compiled=True`` (the default) also demands that the call ran
compiled code rather than falling back to eager, so a test cannot pass by proving nothing.
"""
from __future__ import annotations

import copy
import functools
import os
import warnings
from collections.abc import Callable
from typing import Any

import ember
import numpy as np
import pytest
from hypothesis import settings


def _llvm_available() -> bool:
    try:
        from ember.codegen.llvm import compile_graph  # noqa: F401
    except Exception:
        return False
    return True


# Property tests draw new examples on every run, so a local run keeps exploring. `.ci/run` sets
# EMBER_HYPOTHESIS_DERANDOMIZE=1: a landing gate must give the same answer twice (a random find
# there blocked a landing once; run the tests with more examples locally to explore).
settings.register_profile("ember", derandomize=os.environ.get("EMBER_HYPOTHESIS_DERANDOMIZE") == "1")
settings.load_profile("ember")

BACKENDS = ["numpy"] + (["llvm"] if _llvm_available() else [])

# Tolerances per float dtype (complex uses its component's).
TOLERANCE = {
    np.dtype("float16"): (1e-3, 1e-3),
    np.dtype("float32"): (1e-5, 1e-6),
    np.dtype("float64"): (1e-5, 1e-12),
}


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(autouse=True)
def _strict_ember():
    """Internal compiler errors fail tests instead of quietly running eagerly."""
    with ember.config.patch(suppress_errors=False):
        yield


# Every compiled run that failed and fell back to eager (CompiledFunction._failed): with
# compiled=True, assert_same demands there were none, so a wrong-but-caught compiled path (a
# kernel that raises, a generated wrapper that cannot run) cannot pass as "compiled".
RUNTIME_FALLBACKS: list[BaseException] = []


@pytest.fixture(autouse=True)
def _record_runtime_fallbacks(monkeypatch):
    from ember.runtime.compiled_function import CompiledFunction

    original = CompiledFunction._failed

    def recording(self, entry, result, args, kwargs):
        RUNTIME_FALLBACKS.append(result.error)
        return original(self, entry, result, args, kwargs)

    monkeypatch.setattr(CompiledFunction, "_failed", recording)
    RUNTIME_FALLBACKS.clear()
    yield


@pytest.fixture
def check(backend: str) -> Callable[..., Any]:
    return functools.partial(assert_same, backend=backend)


# --- cloning inputs, memory layout and aliasing included ---------------------------------

def _root(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def clone(value: Any, memo: dict | None = None) -> Any:
    """A deep copy that keeps strides, offsets, writeability, and which arrays view which."""
    memo = {} if memo is None else memo
    if id(value) in memo:
        return memo[id(value)]
    result: Any
    if type(value) is np.ndarray:
        root = _root(value)
        if value.size == 0 or value.dtype.hasobject or not (root.flags.c_contiguous or root.flags.f_contiguous):
            result = value.copy(order="K")
        else:
            key = ("root", id(root))
            if key not in memo:
                memo[key] = root.copy(order="K").ravel(order="K").view(np.uint8)
            result = np.ndarray(value.shape, value.dtype, buffer=memo[key],
                                offset=_address(value) - _address(root), strides=value.strides)
        result.flags.writeable = value.flags.writeable
    elif isinstance(value, tuple | list):
        result = type(value)(clone(v, memo) for v in value)
    elif isinstance(value, dict):
        result = {k: clone(v, memo) for k, v in value.items()}
    elif hasattr(value, "__dict__") and not isinstance(value, type) and not callable(value):
        result = copy.copy(value)
        memo[id(value)] = result
        for name, item in vars(value).items():
            setattr(result, name, clone(item, memo))
    else:
        result = copy.deepcopy(value)
    memo[id(value)] = result
    return result


def _input_arrays(value: Any, found: list | None = None, seen: set | None = None) -> list[np.ndarray]:
    """Every ndarray reachable from the arguments (containers and object attributes), in order."""
    found = [] if found is None else found
    seen = set() if seen is None else seen
    if id(value) in seen:
        return found
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        found.append(value)
    elif isinstance(value, tuple | list):
        for v in value:
            _input_arrays(v, found, seen)
    elif isinstance(value, dict):
        for v in value.values():
            _input_arrays(v, found, seen)
    elif hasattr(value, "__dict__") and not isinstance(value, type) and not callable(value):
        for v in vars(value).values():
            _input_arrays(v, found, seen)
    return found


# --- comparing results -----------------------------------------------------------------

def assert_values_equal(got: Any, want: Any, where: str = "result") -> None:
    """Same Python type, dtype, shape and values (per-dtype tolerance, NaN positions equal)."""
    assert type(got) is type(want), f"{where}: type {type(got).__name__}, eager gives {type(want).__name__}"
    if isinstance(want, np.ndarray | np.generic):
        assert got.dtype == want.dtype and got.dtype.char == want.dtype.char, \
            f"{where}: dtype {got.dtype!r} ({got.dtype.char}), eager gives {want.dtype!r} ({want.dtype.char})"
        assert np.shape(got) == np.shape(want), f"{where}: shape {np.shape(got)}, eager gives {np.shape(want)}"
        _assert_close(np.asarray(got), np.asarray(want), where)
    elif isinstance(want, tuple | list):
        assert len(got) == len(want), f"{where}: length {len(got)}, eager gives {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_values_equal(g, w, f"{where}[{i}]")
    elif isinstance(want, dict):
        assert list(got) == list(want), f"{where}: keys {list(got)}, eager gives {list(want)}"
        for key in want:
            assert_values_equal(got[key], want[key], f"{where}[{key!r}]")
    elif isinstance(want, float) and want != want:
        assert got != got, f"{where}: {got!r}, eager gives nan"
    elif isinstance(want, complex) and want != want:  # a NaN part: compare the parts
        assert_values_equal(got.real, want.real, f"{where}.real")
        assert_values_equal(got.imag, want.imag, f"{where}.imag")
    else:
        assert got == want, f"{where}: {got!r}, eager gives {want!r}"


def _assert_close(got: np.ndarray, want: np.ndarray, where: str) -> None:
    if want.dtype.kind in "fc":
        component = np.dtype(want.real.dtype)
        rtol, atol = TOLERANCE[component]
        for part in ((got.real, want.real), (got.imag, want.imag)) if want.dtype.kind == "c" else ((got, want),):
            g, w = part
            nan_g, nan_w = np.isnan(g), np.isnan(w)
            assert np.array_equal(nan_g, nan_w), f"{where}: NaN at different positions\n{got}\neager:\n{want}"
            ok = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
            assert ok.all(), (f"{where}: values differ ({int((~ok).sum())} of {ok.size}; rtol={rtol} atol={atol})"
                              f"\ncompiled:\n{got}\neager:\n{want}")
    else:
        assert np.array_equal(got, want), f"{where}: values differ\ncompiled:\n{got}\neager:\n{want}"


def _leaves(value: Any, path: str = "result") -> list[tuple[str, Any]]:
    if isinstance(value, tuple | list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, f"{path}[{k!r}]")]
    return [(path, value)]


def _aliasing(result: Any, inputs: list[np.ndarray]) -> list[tuple]:
    """For each returned array: which input it is, which inputs it shares memory with,
    which earlier outputs it is / shares memory with, and whether it is writeable."""
    leaves = [(p, v) for p, v in _leaves(result) if isinstance(v, np.ndarray)]
    facts = []
    for i, (path, array) in enumerate(leaves):
        facts.append((
            path,
            tuple(j for j, x in enumerate(inputs) if x is array),
            tuple(j for j, x in enumerate(inputs) if np.shares_memory(x, array)),
            tuple(j for j, (_, y) in enumerate(leaves[:i]) if y is array),
            tuple(j for j, (_, y) in enumerate(leaves[:i]) if np.shares_memory(y, array)),
            bool(array.flags.writeable),
        ))
    return facts


def _run(fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, BaseException | None]:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        try:
            return fn(*args, **kwargs), None
        except Exception as exc:  # compared with the other side's exception
            return None, exc


def assert_same(fn: Callable, *args: Any, backend: str = "numpy", kwargs: dict | None = None,
                make_args: Callable[[], tuple] | None = None, compiled: bool | None = True,
                reason: str | None = None, calls: int = 2, entries: int | None = 1,
                compiled_fn: Any = None, allow: tuple[str, ...] = ()) -> Any:
    """Run ``fn`` eagerly and compiled on identical copies of ``args`` and compare everything.

    ``make_args()`` (instead of ``args``) returns fresh ``(args, kwargs)`` for each run.
    ``compiled``: True demands one whole compiled graph (unless eager raised); False demands an eager
    fallback or a graph break (whose reason contains ``reason``); None accepts either. The compiled function is called
    ``calls`` times (later calls exercise the cache) and must end with ``entries`` entries.
    ``allow``: with compiled=True, breaks whose reason contains one of these are accepted
    (documented fallbacks). Returns the compiled function.
    """
    kwargs = kwargs or {}
    eager_raised = False
    if make_args is None:
        def make_args() -> tuple:
            return clone((args, kwargs))
    compiled_fn = compiled_fn or ember.compile(fn, backend=backend)
    fallbacks_before = len(RUNTIME_FALLBACKS)
    for call in range(calls):
        eager_args, eager_kwargs = make_args()
        mine_args, mine_kwargs = make_args()
        eager_inputs = _input_arrays((eager_args, eager_kwargs))
        mine_inputs = _input_arrays((mine_args, mine_kwargs))
        want, want_exc = _run(fn, eager_args, eager_kwargs)
        got, got_exc = _run(compiled_fn, mine_args, mine_kwargs)
        where = f"call {call + 1}"
        if want_exc is not None:
            eager_raised = True
            assert got_exc is not None, f"{where}: eager raised {want_exc!r}, compiled returned {got!r}"
            assert type(got_exc) is type(want_exc), f"{where}: compiled raised {got_exc!r}, eager {want_exc!r}"
            assert str(got_exc) == str(want_exc), f"{where}: compiled raised {got_exc!r}, eager {want_exc!r}"
        else:
            if got_exc is not None:
                raise AssertionError(f"{where}: compiled raised, eager returned {want!r}") from got_exc
            assert_values_equal(got, want, f"{where}: result")
            assert _aliasing(got, mine_inputs) == _aliasing(want, eager_inputs), \
                f"{where}: aliasing of the result with the inputs differs from eager"
        assert len(mine_inputs) == len(eager_inputs)
        for i, (mine, theirs) in enumerate(zip(mine_inputs, eager_inputs, strict=True)):
            assert_values_equal(mine, theirs, f"{where}: input array {i} afterwards")
    # Code that raises may run eagerly: that is how exceptions surface exactly as in eager.
    _assert_compiled(compiled_fn, None if eager_raised and compiled else compiled, reason, allow)
    if compiled and not eager_raised:
        failed = RUNTIME_FALLBACKS[fallbacks_before:]
        assert not failed, f"compiled code failed at run time and eager ran instead: {failed[0]!r}"
    if entries is not None:
        assert len(compiled_fn.entries) == entries, \
            f"expected {entries} cache entries, got {len(compiled_fn.entries)}: {describe_entries(compiled_fn)}"
    return compiled_fn


def break_reason(entry: Any) -> str | None:
    """Why an entry is not one whole graph: it runs eagerly, or it is split at a graph break."""
    if entry.run is None:
        return entry.eager_reason.reason if entry.eager_reason is not None else "runs eagerly"
    plan = getattr(entry.capture, "break_plan", None)
    return plan.reason if plan is not None else None


def _assert_compiled(compiled_fn: Any, compiled: bool | None, reason: str | None, allow: tuple[str, ...] = ()
                     ) -> None:
    """compiled=True: the last entry is one whole graph. compiled=False: it runs eagerly or is
    split at a graph break, for ``reason``."""
    if compiled is None:
        return
    assert compiled_fn.entries, "the compiled function made no cache entry"
    entry = compiled_fn.entries[-1]
    why = break_reason(entry)
    if compiled:
        assert why is None or any(a in why for a in allow), f"not captured as one graph: {why}"
    else:
        assert why is not None, "expected an eager fallback or a graph break, but it was one graph"
        if reason is not None:
            assert reason in why, f"break reason: {why!r}"


def describe_entries(compiled_fn: Any) -> str:
    return "; ".join(f"break ({break_reason(e)})" if break_reason(e) else "compiled" for e in compiled_fn.entries)


# --- inputs ------------------------------------------------------------------------------

def make_array(shape: tuple[int, ...], dtype: Any = np.float64, seed: int = 0, layout: str = "contiguous",
               low: float = -3.0, high: float = 3.0) -> np.ndarray:
    """Deterministic values of ``dtype`` in a layout: contiguous, transposed, strided or reversed."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    full_shape = tuple(2 * s if layout == "strided" and i == len(shape) - 1 else s for i, s in enumerate(shape))
    if layout == "transposed":
        full_shape = full_shape[::-1]
    data: np.ndarray
    if dtype.kind == "b":
        data = rng.random(full_shape) > 0.5
    elif dtype.kind in "iu":
        data = rng.integers(int(max(low, np.iinfo(dtype).min)), int(high) + 1, full_shape)
    elif dtype.kind == "c":
        data = rng.uniform(low, high, full_shape) + 1j * rng.uniform(low, high, full_shape)
    else:
        data = rng.uniform(low, high, full_shape)
    data = np.asarray(data).astype(dtype)
    if layout == "transposed":
        return data.T
    if layout == "strided":
        return data[..., ::2]
    if layout == "reversed":
        return data[::-1] if data.ndim else data
    return data


@pytest.fixture
def arr() -> Callable[..., np.ndarray]:
    return make_array



@pytest.fixture
def rand() -> Callable[..., np.ndarray]:
    """``rand(6, 5, seed=1)``: standard normal values (float32 unless ``dtype``), the same per seed."""
    def make(*shape: int, seed: int = 0, dtype: Any = np.float32) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal(shape).astype(dtype)

    return make


@pytest.fixture
def child_exit_code() -> Callable[[int], int | None]:
    """``child_exit_code(pid)``: a forked child's exit code, or None (and the child killed) if it
    has not exited within 30 s (a hang in the child fails the test instead of hanging it)."""
    import time

    def wait(pid: int, timeout: float = 30.0) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.01)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        return None

    return wait


@pytest.fixture
def function_of() -> Callable[[str], Callable]:
    """``function_of("np.exp(x) + y")``: the function ``f(x, y)`` returning that expression."""
    def make(body: str) -> Callable:
        namespace: dict = {"np": np}
        exec(f"def f(x, y):\n    return {body}\n", namespace)
        return namespace["f"]

    return make
