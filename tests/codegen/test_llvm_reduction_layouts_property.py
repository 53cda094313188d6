"""Property test: reductions that keep some axes (row and column sums, softmax, layer norm,
variance, chains of them), over operands of any layout (C, Fortran, transposed, reversed,
strided; 3-d ones in any axis order) and on one to three threads, equal the interpreter.
Which body a kernel runs (passes per kept index, a sweep in axis order, a sweep in reverse
order) is a run-time test on the operands' strides: every layout takes one of them. Short
kernels get accumulator arrays in half the examples (in use, the wrapper gives them none)."""
from __future__ import annotations

import itertools
from unittest import mock

import numpy as np
from ember.codegen.llvm import compile_graph, wrapper
from ember.ir import Graph, TensorMeta, interpret
from ember.runtime.threadpool import ThreadPool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

POOLS = {threads: ThreadPool(threads) for threads in (2, 3)}
TOLERANCE = {np.dtype("float64"): (1e-9, 1e-9), np.dtype("float32"): (2e-4, 2e-5)}


def laid_out(base: np.ndarray, layout: str, order: tuple[int, ...]) -> np.ndarray:
    """``base``'s values in memory whose axes run in ``order`` (outermost first), then
    reversed or strided."""
    array = np.ascontiguousarray(base.transpose(order)).transpose(np.argsort(order))
    if layout == "reversed":
        flipped = tuple(slice(None, None, -1) for _ in base.shape)
        return np.ascontiguousarray(array[flipped].transpose(order)).transpose(np.argsort(order))[flipped]
    if layout == "strided":
        wide = np.repeat(array, 2, axis=order[-1])
        wide = np.ascontiguousarray(wide.transpose(order)).transpose(np.argsort(order))
        return wide[tuple(slice(None, None, 2) if axis == order[-1] else slice(None) for axis in range(base.ndim))]
    return array


def program(g: Graph, x, w, name: str, axis: tuple[int, ...]) -> list:
    """Outputs of one reduction program over ``axis`` of ``x`` (``w``: an operand broadcast
    along the reduced axes, as layer norm's weight)."""
    if name == "softmax":
        e = g.call("exp", g.call("subtract", x, g.call("max", x, axis=axis, keepdims=True)))
        return [g.call("divide", e, g.call("sum", e, axis=axis, keepdims=True))]
    if name == "layernorm":
        d = g.call("subtract", x, g.call("mean", x, axis=axis, keepdims=True))
        var = g.call("mean", g.call("multiply", d, d), axis=axis, keepdims=True)
        return [g.call("add", g.call("divide", d, g.call("sqrt", g.call("add", var, 1e-5))), w)]
    if name == "centred":  # an output of the kept shape and one of the domain's
        mean = g.call("mean", x, axis=axis, keepdims=True)
        return [g.call("subtract", x, mean), g.call("multiply", g.call("max", x, axis=axis), 2.0)]
    if name == "var":
        return [g.call("var", x, axis=axis), g.call("sum", g.call("multiply", x, w), axis=axis)]
    return [g.call(name, x, axis=axis)]  # sum, max, min


FLOAT_ONLY = {"softmax", "layernorm", "centred", "var"}


@st.composite
def cases(draw):
    ndim = draw(st.sampled_from([2, 2, 3]))
    shape = tuple(draw(st.integers(1, 40 if ndim == 2 else 9)) for _ in range(ndim))
    name = draw(st.sampled_from(["sum", "max", "min", "softmax", "layernorm", "centred", "var"]))
    kinds = ["float32", "float64"] + ([] if name in FLOAT_ONLY else ["int32", "int64"])
    dtype = np.dtype(draw(st.sampled_from(kinds)))
    axes = [a for r in range(1, ndim) for a in itertools.combinations(range(ndim), r)]
    axis = draw(st.sampled_from(axes))
    order = draw(st.permutations(range(ndim)))
    layout = draw(st.sampled_from(["plain", "plain", "reversed", "strided"]))
    return shape, dtype, name, axis, tuple(order), layout, draw(st.sampled_from([1, 2, 3])), draw(st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_reductions_over_any_layout_equal_the_interpreter(case):
    shape, dtype, name, axis, order, layout, threads, short_sweeps = case
    g = Graph()
    x = g.add_input("x", TensorMeta(shape, dtype))
    kept = tuple(1 if a in axis else n for a, n in enumerate(shape))
    w = g.add_input("w", TensorMeta(kept, dtype))
    g.set_outputs(program(g, x, w, name, axis))
    size = int(np.prod(shape))
    base = ((np.arange(size) * 37 % 101 - 45) / (8 if dtype.kind == "f" else 1)).astype(dtype).reshape(shape)
    value = laid_out(base, layout, order)
    weight = (np.arange(int(np.prod(kept))) % 7 - 3).astype(dtype).reshape(kept)
    pool = POOLS.get(threads)
    least = 0 if short_sweeps else wrapper.SWEEP_ACCUMULATORS_LEAST
    with mock.patch.object(wrapper, "SWEEP_ACCUMULATORS_LEAST", least):
        artifact = compile_graph(g, pool=pool, num_threads=threads, parallel_threshold=1)
    got = artifact([value, weight])
    with np.errstate(all="ignore"):
        want = interpret(g, [value, weight])
    for mine, theirs in zip(got, want, strict=True):
        assert type(mine) is type(theirs) and mine.dtype == theirs.dtype and mine.shape == theirs.shape
        if dtype.kind == "f":
            rtol, atol = TOLERANCE[dtype]
            scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
            np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=atol * scale)
        else:
            np.testing.assert_array_equal(mine, theirs)
