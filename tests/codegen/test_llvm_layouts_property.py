"""Property test: elementwise kernels over 2-d operands of every layout (C, Fortran, transposed,
reversed, strided) at sizes up to several tiles, split between threads, equal NumPy: the row,
column and tiled loops (in-register transposes of whole tiles included) each take their turn."""
from __future__ import annotations

import numpy as np
from ember.codegen.llvm import compile_graph
from ember.ir import Graph, TensorMeta, interpret
from ember.runtime.threadpool import ThreadPool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LAYOUTS = {
    "C": lambda a: a,
    "F": np.asfortranarray,
    "T": lambda a: np.ascontiguousarray(a.T).T,  # F-ordered memory reached through a transpose
    "reversed": lambda a: np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
    "strided": lambda a: np.ascontiguousarray(np.repeat(np.repeat(a, 2, 0), 2, 1))[::2, ::2],
    "strided F": lambda a: np.asfortranarray(np.repeat(np.repeat(a, 2, 0), 3, 1))[::2, ::3],
}
POOLS = {threads: ThreadPool(threads) for threads in (1, 2, 3)}


@st.composite
def cases(draw):
    n, m = draw(st.integers(1, 80)), draw(st.integers(1, 80))
    dtype = np.dtype(draw(st.sampled_from(["float32", "float64", "int32", "int64", "int16"])))
    layouts = draw(st.lists(st.sampled_from(sorted(LAYOUTS)), min_size=1, max_size=3))
    transposed = draw(st.lists(st.booleans(), min_size=len(layouts), max_size=len(layouts)))
    ops = draw(st.lists(st.sampled_from(["add", "multiply", "subtract", "maximum"]), min_size=len(layouts) - 1,
                        max_size=len(layouts) - 1))
    return n, m, dtype, layouts, transposed, ops, draw(st.sampled_from(sorted(POOLS))), draw(st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_elementwise_kernels_over_any_layout_equal_numpy(case):
    n, m, dtype, layouts, transposed, ops, threads, copy_first = case
    g = Graph()
    inputs, values = [], []
    for i, (layout, flip) in enumerate(zip(layouts, transposed, strict=True)):
        shape = (m, n) if flip else (n, m)
        base = (np.arange(n * m) * (7 + i) % 97 - 40).astype(dtype).reshape(shape)
        values.append(LAYOUTS[layout](base))
        node = g.add_input(f"x{i}", TensorMeta(shape, dtype))
        inputs.append(g.call("transpose", node) if flip else node)
    result = g.call("copy", inputs[0]) if copy_first else inputs[0]
    for op, operand in zip(ops, inputs[1:], strict=True):
        result = g.call(op, result, operand)
    g.set_outputs([result, g.call("multiply", inputs[-1], 3)])
    artifact = compile_graph(g, pool=POOLS[threads], num_threads=threads, parallel_threshold=1)
    got = artifact([v.copy(order="K") if v.flags.owndata else v for v in values])
    want = interpret(g, list(values))
    for mine, theirs in zip(got, want, strict=True):
        np.testing.assert_array_equal(mine, theirs)
        assert mine.dtype == theirs.dtype and mine.strides == theirs.strides
