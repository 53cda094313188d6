"""Property: on random graphs, optimise(g) (and every pass alone) interprets exactly like g.

Random graphs chain elementwise ops, reductions, views and creations over random shapes
and dtypes (with broadcasting), repeat earlier calls (CSE bait), include the patterns
simplify rewrites (x * 1, x ** 2, -(-x), ...), and write with setitem into inputs, views of
inputs and fresh arrays. Ops the rules reject (bad broadcasts, bool negation) are skipped.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from ember.ir import Graph, Node, TensorMeta, format_graph
from ember.passes import PASSES, optimise
from hypothesis import given, note
from hypothesis import strategies as st

DTYPES = tuple(np.dtype(n) for n in ("float32", "float64", "int32", "int64", "bool"))
CONSTANTS = (0, 1, 2, 3, 0.5, 1.0, 0.0, -0.0, 2.0)
Call = tuple[str, tuple, dict]


def any_value(draw, values: list[Node]) -> Node:
    return draw(st.sampled_from(values))


def unary(draw, values, calls) -> Call:
    op = draw(st.sampled_from(["negative", "positive", "exp", "sqrt", "absolute", "copy", "square", "logical_not"]))
    return op, (any_value(draw, values),), {}


def binary(draw, values, calls) -> Call:
    op = draw(st.sampled_from(["add", "subtract", "multiply", "divide", "maximum", "floor_divide"]))
    return op, (any_value(draw, values), any_value(draw, values)), {}


def with_constant(draw, values, calls) -> Call:
    op = draw(st.sampled_from(["add", "subtract", "multiply", "divide", "floor_divide", "power"]))
    x, c = any_value(draw, values), draw(st.sampled_from(CONSTANTS))
    # A constant base could meet a negative integer exponent, which NumPy rejects at run time.
    return (op, (c, x), {}) if op != "power" and draw(st.booleans()) else (op, (x, c), {})


def simplify_bait(draw, values, calls) -> Call:
    x = any_value(draw, values)
    return draw(st.sampled_from([
        ("multiply", (x, 1), {}), ("multiply", (1, x), {}), ("add", (x, 0), {}), ("subtract", (x, 0), {}),
        ("divide", (x, 1), {}), ("power", (x, 2), {}), ("power", (x, 0.5), {}), ("power", (x, 1), {}),
        ("astype", (x,), {"dtype": x.meta.dtype}), ("positive", (x,), {}),
        ("negative", (x,), {}),  # negative of a negative, when x is one
    ]))


def astype(draw, values, calls) -> Call:
    return "astype", (any_value(draw, values),), {"dtype": draw(st.sampled_from(DTYPES))}


def reduction(draw, values, calls) -> Call:
    x = any_value(draw, values)
    op = draw(st.sampled_from(["sum", "max", "mean", "prod", "any"]))
    axis = None if x.meta.ndim == 0 or draw(st.booleans()) else (draw(st.integers(0, x.meta.ndim - 1)),)
    return op, (x,), {"axis": axis, "keepdims": draw(st.booleans())}


def view(draw, values, calls) -> Call:
    x = any_value(draw, values)
    index = draw(st.sampled_from([slice(1, None), slice(None, None, -1), 0, (Ellipsis, slice(None, None, 2)), None,
                                  (None, Ellipsis), ()]))
    return draw(st.sampled_from([
        ("getitem", (x, index), {}), ("transpose", (x,), {}), ("reshape", (x, (-1,)), {}), ("ravel", (x,), {}),
        ("flip", (x,), {}), ("expand_dims", (x, 0), {}),
    ]))


def creation(draw, values, calls) -> Call:
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return draw(st.sampled_from([("zeros", (shape,), {}), ("ones", (shape,), {"dtype": draw(st.sampled_from(DTYPES))}),
                                 ("arange", (draw(st.integers(1, 4)),), {})]))


def mutation(draw, values, calls) -> Call:
    target = any_value(draw, values)
    index = draw(st.sampled_from([Ellipsis, 0, slice(0, 1), (Ellipsis, -1)]))
    value = draw(st.one_of(st.sampled_from([0, 1, 2.5]), st.sampled_from(values)))
    return "setitem", (target, index, value), {}


def repeat(draw, values, calls) -> Call | None:
    return draw(st.sampled_from(calls)) if calls else None


STEPS = (unary, binary, with_constant, simplify_bait, astype, reduction, view, creation,
         mutation, mutation, repeat, repeat)


@st.composite
def random_graphs(draw) -> Graph:
    g = Graph("random")
    base = tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
    values: list[Node] = []
    for i in range(draw(st.integers(1, 3))):
        if values and draw(st.booleans()):  # a twin, so that inputs may be one array (see below)
            values.append(g.add_input(f"in{i}", draw(st.sampled_from(values)).meta))
            continue
        ndim = draw(st.integers(0, len(base)))
        shape = tuple(1 if draw(st.integers(0, 3)) == 0 else d for d in base[len(base) - ndim:])
        is_scalar = ndim == 0 and draw(st.booleans())
        values.append(g.add_input(f"in{i}", TensorMeta(shape, draw(st.sampled_from(DTYPES)), is_scalar)))
    calls: list[Call] = []
    for _ in range(draw(st.integers(1, 14))):
        call = draw(st.sampled_from(STEPS))(draw, values, calls)
        if call is None:
            continue
        op, args, kwargs = call
        try:
            node = g.call(op, *args, **kwargs)
        except Exception:  # NumPy would reject it: not a graph anyone could trace
            continue
        values.append(node)
        calls.append(call)
    outputs: list[Any] = draw(st.lists(st.sampled_from(values), max_size=4))
    if draw(st.booleans()):
        outputs.append(draw(st.sampled_from([1.5, (values[-1], 2)])))
    g.set_outputs(outputs)
    return g


def sharing_inputs(graph: Graph, make_inputs):
    """The caller may pass one array for several inputs: inputs of equal metas get the same one."""
    def make() -> list:
        values = make_inputs()
        first_of: dict[TensorMeta, Any] = {}
        for i, node in enumerate(graph.inputs):
            if not node.meta.is_scalar:
                values[i] = first_of.setdefault(node.meta, values[i])
        return values

    return make


@given(random_graphs(), st.integers(0, 2**16), st.booleans())
def test_optimise_interprets_like_the_original(same_behaviour, make_inputs, graph: Graph, seed: int,
                                               shared: bool) -> None:
    before = format_graph(graph)
    note(before)
    inputs = make_inputs(graph, seed)
    if shared:
        inputs = sharing_inputs(graph, inputs)
    for run_pass in PASSES:
        same_behaviour(graph, run_pass(graph), inputs)
    optimised = optimise(graph)
    same_behaviour(graph, optimised, inputs)
    assert format_graph(graph) == before
    assert len(optimised.nodes) <= len(graph.nodes)
