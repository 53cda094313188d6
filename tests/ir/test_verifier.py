"""The verifier catches each broken invariant, and accepts what passes may legally produce."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from ember.ir import OPS, Graph, GraphInvariantError, Node, TensorMeta, verify

F32 = np.dtype("float32")


def small_graph() -> tuple[Graph, Node, Node, Node]:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((3, 4), F32))
    y = g.call("add", x, 1.0)
    z = g.call("sum", y, axis=(1,))
    g.set_outputs([z, y])
    return g, x, y, z


def test_a_well_formed_graph_passes() -> None:
    g, *_ = small_graph()
    verify(g)
    g.set_outputs([1.5, (g.nodes[-1], [g.nodes[0]])])  # constants and nested structures are fine
    verify(g)
    assert issubclass(GraphInvariantError, AssertionError)


def test_input_after_computation() -> None:
    g, *_ = small_graph()
    late = Node("late", OPS["input"], (), {}, TensorMeta((2,), F32))
    g.nodes.append(late)
    with pytest.raises(GraphInvariantError, match="input %late after computation"):
        verify(g)


def test_duplicate_names() -> None:
    g, _, y, z = small_graph()
    z.name = y.name
    with pytest.raises(GraphInvariantError, match="duplicate node name %0"):
        verify(g)


def test_the_same_node_listed_twice() -> None:
    g, _, y, _ = small_graph()
    g.nodes.append(y)
    with pytest.raises(GraphInvariantError, match="duplicate"):
        verify(g)


def test_use_before_definition() -> None:
    g, _, y, z = small_graph()
    g.nodes[1], g.nodes[2] = z, y
    with pytest.raises(GraphInvariantError, match="%1 uses %0 before it is defined"):
        verify(g)


def test_argument_from_another_graph() -> None:
    g, _, y, _ = small_graph()
    other, *_ = small_graph()
    foreign = other.nodes[1]
    foreign.name = "foreign"
    g.nodes.append(Node("9", OPS["negative"], (foreign,), {}, foreign.meta))
    with pytest.raises(GraphInvariantError, match="uses %foreign before"):
        verify(g)


def test_node_inside_kwargs_before_definition() -> None:
    g = Graph()
    x = g.add_input("x", TensorMeta((3,), F32))
    later = Node("later", OPS["negative"], (x,), {}, TensorMeta((3,), F32))
    g.nodes.append(Node("0", OPS["clip"], (x,), {"a_min": later}, TensorMeta((3,), F32)))
    g.nodes.append(later)
    with pytest.raises(GraphInvariantError, match="uses %later before"):
        verify(g)


@pytest.mark.parametrize("change", [
    {"shape": (4,)},
    {"dtype": np.dtype("float64")},
    {"is_scalar": True},
])
def test_meta_disagrees_with_the_op_rule(change: dict) -> None:
    g, _, _, z = small_graph()
    z.meta = dataclasses.replace(z.meta, **change)
    with pytest.raises(GraphInvariantError, match="%1: meta .* but sum gives f32\\[3\\]"):
        verify(g)


def test_scalar_ness_of_a_full_reduction_is_checked() -> None:
    g = Graph()
    x = g.add_input("x", TensorMeta((3,), F32))
    s = g.call("sum", x)
    s.meta = TensorMeta((), F32, is_scalar=False)  # a 0-d array where NumPy gives a scalar
    with pytest.raises(GraphInvariantError, match="scalar"):
        verify(g)


def test_arguments_the_op_rejects() -> None:
    g, x, y, _ = small_graph()
    bad = g.add_input("w", TensorMeta((5,), F32))
    y.args = (x, bad)  # a rewrite that no longer broadcasts
    with pytest.raises(GraphInvariantError, match="%0: add rejects its arguments"):
        verify(g)


def test_output_not_in_the_graph() -> None:
    g, _, y, z = small_graph()
    g.nodes.remove(z)
    with pytest.raises(GraphInvariantError, match="output %1 is not a node of the graph"):
        verify(g)


def test_nested_output_not_in_the_graph() -> None:
    g, _, y, _ = small_graph()
    other, *_ = small_graph()
    stray = other.nodes[-1]
    stray.name = "stray"
    g.set_outputs([y, (1, [stray])])
    with pytest.raises(GraphInvariantError, match="output %stray"):
        verify(g)
