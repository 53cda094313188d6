"""Property test: kernels that reduce everything, in chains of passes (a reduction of values
that use an earlier one: ``sum(x - mean(x))``), split pass by pass between threads over any
layout, equal the interpreter and the same kernel on one thread."""
from __future__ import annotations

import numpy as np
from ember.codegen.llvm import compile_graph
from ember.ir import Graph, TensorMeta, interpret
from ember.runtime.threadpool import ThreadPool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

POOLS = {threads: ThreadPool(threads) for threads in (2, 3)}
LAYOUTS = {
    "C": lambda a: a,
    "reversed": lambda a: np.ascontiguousarray(a[::-1])[::-1],
    "strided": lambda a: np.ascontiguousarray(np.repeat(a, 2, -1))[..., ::2],
    "F": np.asfortranarray,
}
# Steps before the last keep values of the data's size (a sum or a square there would make
# ``x - s`` cancel, and float rounding of s, which differs with the order of a sum, decide).
LOCATIONS = ["mean", "max", "min", "std"]
REDUCTIONS = [*LOCATIONS, "sum", "var"]
USES = ["subtract", "multiply", "add"]  # how a step's source combines x with the last reduction
TOLERANCE = {np.dtype("float64"): (1e-9, 1e-9), np.dtype("float32"): (1e-4, 1e-5)}


@st.composite
def chains(draw):
    shape = draw(st.sampled_from([(draw(st.integers(2, 3000)),), (draw(st.integers(2, 60)), draw(st.integers(1, 60)))]))
    dtype = np.dtype(draw(st.sampled_from(["float64", "float32", "int64"])))
    steps = draw(st.lists(st.tuples(st.sampled_from(LOCATIONS), st.sampled_from(USES)), max_size=2))
    last = draw(st.tuples(st.sampled_from(REDUCTIONS), st.sampled_from(USES)))
    return shape, dtype, [*steps, last], draw(st.booleans()), draw(st.sampled_from(sorted(LAYOUTS))), \
        draw(st.sampled_from(sorted(POOLS)))


def build(shape, dtype, steps, square_last: bool) -> tuple[Graph, list]:
    g = Graph()
    x = g.add_input("x", TensorMeta(shape, dtype))
    reduced, outputs = None, []
    for i, (name, use) in enumerate(steps):
        source = x if reduced is None else g.call(use, x, reduced)
        if square_last and i == len(steps) - 1:
            source = g.call("multiply", source, source)
        reduced = g.call(name, source)
        outputs.append(reduced)
    return g, [g.call("subtract", x, reduced), *outputs]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_split_chains_of_full_reductions_equal_the_interpreter(case):
    shape, dtype, steps, square_last, layout, threads = case
    g, outputs = build(shape, dtype, steps, square_last)
    g.set_outputs(outputs)
    base = ((np.arange(int(np.prod(shape))) * 37 % 101 - 45) / (4 if dtype.kind == "f" else 1)).astype(dtype)
    value = LAYOUTS[layout](base.reshape(shape))
    split = compile_graph(g, pool=POOLS[threads], num_threads=threads, parallel_threshold=1)
    assert "_pool.parallel_for" in split.source
    got = split([value])
    with np.errstate(all="ignore"):
        want = interpret(g, [value])
    single = compile_graph(g, pool=None)([value])
    for mine, theirs, alone in zip(got, want, single, strict=True):
        assert type(mine) is type(theirs) and np.asarray(mine).dtype == np.asarray(theirs).dtype
        rtol, atol = TOLERANCE.get(np.asarray(theirs).dtype, (1e-9, 1e-7))
        scale = max(1.0, float(np.max(np.abs(np.asarray(theirs, dtype=np.float64)), initial=0.0)))
        bound = atol * scale
        if np.ndim(theirs) == 0 and dtype.kind == "f":
            # A sum that cancels (x - mean, summed again) keeps the rounding of its terms, not of its
            # result: NumPy's pairwise sum errs by up to ~log2(n) eps of the terms' magnitudes.
            terms = 2 * float(np.abs(value.astype(np.float64)).sum())
            bound = max(bound, float(np.finfo(dtype).eps) * (2 + np.log2(value.size)) * terms)
        np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=bound, equal_nan=True)
        np.testing.assert_allclose(mine, alone, rtol=rtol, atol=bound, equal_nan=True)
