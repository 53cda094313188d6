"""Property test: random graphs of elementwise ops, reductions, views and in-place updates
compile to code that matches the interpreter."""
from __future__ import annotations

import numpy as np
from ember.ir import Graph, TensorMeta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FLOAT_UNARY = ["sin", "cos", "tanh", "absolute", "negative", "exp", "sqrt", "floor", "arctan", "log1p"]
INT_UNARY = ["negative", "absolute", "sign", "invert"]
FLOAT_BINARY = ["add", "subtract", "multiply", "maximum", "minimum", "divide", "hypot", "fmin", "copysign"]
INT_BINARY = ["add", "subtract", "multiply", "maximum", "floor_divide", "remainder", "bitwise_xor"]
REDUCTIONS = ["sum", "max", "min", "mean"]


def _inputs(shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    if dtype.kind == "f":
        return [rng.uniform(-2, 2, s).astype(dtype) for s in shapes]
    return [rng.integers(-50, 50, s).astype(dtype) for s in shapes]


def _broadcast_variant(draw, shape):
    dims = [1 if draw(st.booleans()) and draw(st.booleans()) else d for d in shape]
    drop = draw(st.integers(0, len(dims)))
    return tuple(dims[drop:])


@st.composite
def random_graphs(draw):
    dtype = np.dtype(draw(st.sampled_from(["float32", "float64", "int32", "int64"])))
    ndim = draw(st.integers(0, 3))
    base = tuple(draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim)))
    shapes = [base] + [_broadcast_variant(draw, base) for _ in range(draw(st.integers(0, 2)))]
    g = Graph()
    nodes = [g.add_input(f"x{i}", TensorMeta(s, dtype)) for i, s in enumerate(shapes)]
    floats = dtype.kind == "f"
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["unary", "binary", "binary", "const", "reduce", "view", "setitem"]))
        a = draw(st.sampled_from(nodes))
        try:
            if kind == "unary":
                node = g.call(draw(st.sampled_from(FLOAT_UNARY if a.meta.dtype.kind == "f" else INT_UNARY)), a)
            elif kind == "binary":
                b = draw(st.sampled_from(nodes))
                ops = FLOAT_BINARY if floats else INT_BINARY
                node = g.call(draw(st.sampled_from(ops)), a, b)
            elif kind == "const":
                constant = draw(st.sampled_from([0.5, 1.5, -2.0] if floats else [3, -1, 7]))
                node = g.call(draw(st.sampled_from(["add", "multiply", "maximum"])), a, constant)
            elif kind == "reduce":
                if a.meta.ndim == 0:
                    continue
                axes = tuple(sorted(draw(st.sets(st.integers(0, a.meta.ndim - 1), min_size=1))))
                op = draw(st.sampled_from(REDUCTIONS))
                node = g.call(op, a, axis=draw(st.sampled_from([None, axes])), keepdims=draw(st.booleans()))
            elif kind == "view":
                if a.meta.ndim == 0:
                    continue
                index = draw(st.sampled_from([(slice(None, None, -1),), (slice(None, None, 2),), (slice(1, None),)]))
                node = g.call("transpose", a) if draw(st.booleans()) else g.call("getitem", a, index)
            else:
                target = nodes[0]
                if target.meta.is_scalar or target.meta.ndim == 0:
                    continue
                value = g.call("add", target, a)
                if value.meta.shape != target.meta.shape:
                    continue
                node = g.call("setitem", target, Ellipsis, value)
        except (ValueError, TypeError):
            continue
        nodes.append(node)
    count = draw(st.integers(1, min(3, len(nodes))))
    g.set_outputs(nodes[-count:])
    return g, shapes, dtype


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(random_graphs(), st.integers(0, 2**16), st.booleans())
def test_random_graphs_match_the_interpreter(differential, case, seed, plan_every_size):
    """``plan_every_size``: memory planning (taking over and recycling dead arrays,
    passes/memory.py) at these small sizes too, not only from 1 MiB."""
    graph, shapes, dtype = case
    tolerance = {np.dtype("float32"): (1e-4, 1e-4), np.dtype("float64"): (1e-10, 1e-10)}
    differential(graph, lambda: _inputs(shapes, dtype, seed), tolerance, **({"take_over_bytes": 0} if plan_every_size
                                                                            else {}))
