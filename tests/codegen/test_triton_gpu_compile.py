"""The generated kernels compile for a real GPU (sm_90), checked without one.

Triton's interpreter runs kernels as Python and accepts much that Triton's compiler rejects;
this compiles every kernel of a set of graphs (the workloads' shapes of work, each
reduction, dtypes, constants) to PTX/cubin for sm_90 in a subprocess where triton is
imported without the interpreter flag.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

# Not imported here: this process may run other tests in Triton's interpreter, whose flag must
# be set before triton's first import.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")

SCRIPT = textwrap.dedent('''
    import numpy as np
    import triton  # imported before Ember: the compiler, not the interpreter
    from ember.ir import Graph, TensorMeta
    from ember.codegen.triton import compile_graph
    from ember.codegen.triton.aot import compile_for_gpu

    def graph(metas, build):
        g = Graph()
        xs = [g.add_input(f"x{i}", m) for i, m in enumerate(metas)]
        g.set_outputs(list(build(g, *xs)))
        return g

    f16, f32, f64, i32, i64, b8 = (np.dtype(n) for n in ("float16", "float32", "float64", "int32", "int64", "bool"))
    graphs = [
        graph([TensorMeta((4, 33), f32), TensorMeta((33,), f32)], lambda g, x, y: [
            g.call(op, x, y) for op in ("add", "divide", "maximum", "fmin", "arctan2", "power", "less")]
            + [g.call(op, x) for op in ("exp", "tanh", "sqrt", "isnan", "isinf", "sign", "reciprocal", "rint")]
            + [g.call("where", g.call("less", x, 0.0), x, np.inf), g.call("clip", x, -1.0, 1.0),
               g.call("clip", x, -1.0, -0.0), g.call("maximum", x, np.nan)]),
        graph([TensorMeta((4, 33), f64)], lambda g, x: [g.call("sqrt", x), g.call("divide", x, 3.0),
                                                         g.call("multiply", x, 0.3989422804014327),
                                                         g.call("where", g.call("less", x, 0.0), -0.0, np.nan)]),
        graph([TensorMeta((4, 33), f16)], lambda g, x: [g.call("exp", x), g.call("sum", x, axis=(1,)),
                                                         g.call("mean", x, axis=(1,))]),
        graph([TensorMeta((3, 5, 7), f32)], lambda g, x: [
            g.call(op, x, axis=(1, 2), keepdims=k) for op in ("sum", "prod", "max", "min", "mean", "any", "all")
            for k in (False, True)] + [g.call("sum", x)]),
        graph([TensorMeta((3, 5), i32), TensorMeta((3, 5), i64), TensorMeta((3, 5), b8)], lambda g, a, b, c: [
            g.call("max", a, axis=(1,)), g.call("min", b, axis=(0,)), g.call("sum", a, axis=(1,)),
            g.call("bitwise_xor", a, 3), g.call("any", c, axis=(1,)), g.call("astype", a, dtype=f32),
            g.call("logical_not", c)]),
    ]
    total, split, rows = 0, 0, 0
    for g in graphs:
        sizes = compile_for_gpu(compile_graph(g, check_runnable=False), arch=90)
        assert sizes and all(sizes.values()), sizes
        total += len(sizes)
        split += sum(name.endswith(("_partial", "_combine")) for name in sizes)
        rows += sum(name.endswith("_rows") for name in sizes)
    assert split >= 8 and rows >= 8, (split, rows)  # (the variants of the reductions)
    print("compiled", total, "kernels")
''')


def test_generated_kernels_compile_for_sm90():
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_DEFAULT_FP_FUSION"] = "0"
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "compiled" in result.stdout
