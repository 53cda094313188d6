"""write_joins_in_place: concatenate/stack of computed parts becomes an empty array and one setitem
per part; joins the caller sees, or of parts that nothing computes, stay NumPy's.
reduce_stacked_parts: a stack reduced over its first axis becomes the parts combined elementwise."""
from __future__ import annotations

import numpy as np
import pytest
from ember.ir import Graph, Node, TensorMeta, format_graph, interpret
from ember.passes.joins import reduce_stacked_parts, write_joins_in_place
from hypothesis import given, note
from hypothesis import strategies as st

from .conftest import checked_pass

F32, F64, I32 = np.dtype("float32"), np.dtype("float64"), np.dtype("int32")


def ops(g: Graph) -> list[str]:
    return [n.op.name for n in g.nodes]


@pytest.mark.parametrize("join, axis", [("concatenate", 0), ("concatenate", 1), ("concatenate", -1),
                                        ("stack", 0), ("stack", 1), ("stack", -1)])
def test_a_join_of_computed_parts_is_written_part_by_part(same_behaviour, join, axis):
    g = Graph("f")
    a, b = g.add_input("a", TensorMeta((3, 4), F32)), g.add_input("b", TensorMeta((3, 4), F32))
    joined = g.call(join, (g.call("exp", a), b, g.call("multiply", b, 2.0)), axis=axis)
    g.set_outputs([g.call("sum", joined, axis=0)])
    out = checked_pass(write_joins_in_place, g)
    assert join not in ops(out) and ops(out).count("setitem") == 3, format_graph(out)
    (empty,) = [n for n in out.nodes if n.op.name == "empty"]
    assert empty.meta == joined.meta


def test_parts_of_other_dtypes_are_cast_as_the_join_casts_them(same_behaviour):
    g = Graph("f")
    i, x = g.add_input("i", TensorMeta((5,), I32)), g.add_input("x", TensorMeta((2,), F64))
    joined = g.call("concatenate", (g.call("add", i, 1), g.call("less", x, 0.5), x), axis=0)
    g.set_outputs([g.call("multiply", joined, 3.0)])
    out = checked_pass(write_joins_in_place, g)
    assert "concatenate" not in ops(out) and joined.meta.dtype == F64


def test_nested_joins_and_a_part_used_twice(same_behaviour):
    g = Graph("f")
    x = g.add_input("x", TensorMeta((2, 3), F64))
    y = g.call("sin", x)
    inner = g.call("concatenate", (y, y), axis=0)
    outer = g.call("stack", (inner, g.call("cos", inner)), axis=2)
    g.set_outputs([g.call("add", outer, 1.0)])
    out = checked_pass(write_joins_in_place, g)
    assert "concatenate" not in ops(out) and "stack" not in ops(out), format_graph(out)


@pytest.mark.parametrize("case", ["output", "view output", "inputs only", "dynamic axis"])
def test_what_stays(same_behaviour, case):
    """The caller sees NumPy's own join (its memory order follows the parts'), through a view
    too; a join of arguments only gains nothing; an axis that is not a constant int stays."""
    g = Graph("f")
    a, b = g.add_input("a", TensorMeta((3, 4), F32)), g.add_input("b", TensorMeta((3, 4), F32))
    parts = (a, b) if case == "inputs only" else (g.call("exp", a), b)
    joined = g.call("concatenate", parts, axis=np.int64(1) if case == "dynamic axis" else 1)
    if case == "output":
        g.set_outputs([joined])
    elif case == "view output":
        g.set_outputs([g.call("getitem", joined, (slice(None), slice(1, 3)))])
    else:
        g.set_outputs([g.call("sum", joined, axis=1)])
    out = checked_pass(write_joins_in_place, g)
    assert "concatenate" in ops(out) and "setitem" not in ops(out), format_graph(out)


@given(st.integers(1, 4), st.integers(1, 3), st.sampled_from(["concatenate", "stack"]), st.integers(-3, 2),
       st.lists(st.sampled_from(["input", "exp", "sum", "cast", "twice"]), min_size=1, max_size=4),
       st.integers(0, 2**16))
def test_random_joins_interpret_like_the_original(same_behaviour, make_inputs, rows, cols, join, axis, kinds, seed):
    """Parts of random kinds (arguments, elementwise and reduction results, casts, one part twice)
    joined along any axis, read by an elementwise op and a reduction."""
    g = Graph("f")
    x = g.add_input("x", TensorMeta((rows, cols), F32))
    z = g.add_input("z", TensorMeta((rows, cols, 2), F32))
    parts: list[Node] = []
    for kind in kinds:
        if kind == "input":
            parts.append(x)
        elif kind == "exp":
            parts.append(g.call("exp", x))
        elif kind == "sum":
            parts.append(g.call("sum", z, axis=2))
        elif kind == "cast":
            parts.append(g.call("astype", g.call("less", x, 0.0), I32))
        elif kind == "twice" and parts:
            parts.append(parts[-1])
    parts = parts or [x]
    axis = max(min(axis, 1 if join == "concatenate" else 2), -2 if join == "concatenate" else -3)
    joined = g.call(join, tuple(parts), axis=axis)
    g.set_outputs([g.call("sum", g.call("multiply", joined, 2.0), axis=0)])
    note(format_graph(g))
    out = checked_pass(write_joins_in_place, g, make_inputs(g, seed))
    computed = any(p.op.name != "input" for p in parts)
    assert (join in ops(out)) is not computed


@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min", "prod"])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_a_stack_reduced_over_its_first_axis_combines_the_parts(same_behaviour, reduction, dtype):
    g = Graph("f")
    a, b = g.add_input("a", TensorMeta((4, 3), dtype)), g.add_input("b", TensorMeta((4, 3), dtype))
    stacked = g.call("stack", (a, g.call("exp", b), b), axis=0)
    g.set_outputs([g.call(reduction, stacked, axis=(0,)), g.call(reduction, stacked, axis=0, keepdims=False)])
    out = checked_pass(reduce_stacked_parts, g)
    assert sum(n.op.name == reduction for n in out.nodes) == 0, format_graph(out)
    # exactly NumPy's values: the stacked copy's rows are reduced in this order
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3)).astype(dtype), rng.standard_normal((4, 3)).astype(dtype)
    want = interpret(g, [x, y])
    got = interpret(out, [x, y])
    assert all(np.array_equal(w, v) for w, v in zip(want, got, strict=True))


@pytest.mark.parametrize("case", ["axis 1", "keepdims", "ints", "written part", "written stack", "dtype", "one part",
                                  "last axis"])
def test_stack_reductions_that_stay(same_behaviour, case):
    """Another axis (NumPy's order differs), keepdims, integers (sums promote), a part written
    after the stack (the reduction would read the new values), the stacked copy written before the
    reduction (the parts lack the write), dtype=, a single part (the sum would be the part itself,
    not a new array), a stack along another axis."""
    g = Graph("f")
    dtype = np.dtype("int32") if case == "ints" else F32
    a, b = g.add_input("a", TensorMeta((4, 3), dtype)), g.add_input("b", TensorMeta((4, 3), dtype))
    parts = (a,) if case == "one part" else (a, b)
    stacked = g.call("stack", parts, axis=-1 if case == "last axis" else 0)
    if case == "written part":
        g.call("setitem", a, (0,), 5)
    if case == "written stack":
        g.call("setitem", stacked, (0,), 5)
    kwargs: dict = {"axis": 1 if case == "axis 1" else -1 if case == "last axis" else 0}
    if case == "keepdims":
        kwargs["keepdims"] = True
    if case == "dtype":
        kwargs["dtype"] = F64
    g.set_outputs([g.call("sum", stacked, **kwargs)])
    out = checked_pass(reduce_stacked_parts, g)
    assert "stack" in ops(out) and "sum" in ops(out), format_graph(out)
