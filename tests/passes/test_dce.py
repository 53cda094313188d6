"""eliminate_dead_code: what goes, and what must stay (inputs, mutations and what they read)."""
from __future__ import annotations

import numpy as np
from ember.ir import Graph, OpKind, TensorMeta, format_graph, verify
from ember.passes import eliminate_dead_code

F64 = np.dtype("float64")


def ops(graph: Graph) -> list[str]:
    return [n.op.name for n in graph.nodes if n.op.kind is not OpKind.INPUT]


def dce(g: Graph, same_behaviour) -> Graph:
    before = format_graph(g)
    out = eliminate_dead_code(g)
    verify(out)
    assert format_graph(g) == before, "DCE changed its input graph"
    same_behaviour(g, out)
    return out


def test_unused_work_goes(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((3,), F64))
    g.call("exp", g.call("sin", x))
    g.call("zeros", (5,))
    g.set_outputs([g.call("cos", x)])
    out = dce(g, same_behaviour)
    assert ops(out) == ["cos"] and len(out.nodes) == len(g.nodes) - 3


def test_unused_inputs_stay_in_place(same_behaviour) -> None:
    g = Graph("f")
    a = g.add_input("a", TensorMeta((3,), F64))
    g.add_input("b", TensorMeta((2,), F64))
    c = g.add_input("c", TensorMeta((3,), F64))
    g.set_outputs([g.call("add", a, c)])
    out = dce(g, same_behaviour)
    assert [n.name for n in out.inputs] == ["a", "b", "c"]


def test_a_write_into_an_input_stays_with_what_it_reads(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((4,), F64))
    value = g.call("multiply", g.call("exp", x), 2.0)
    g.call("setitem", x, slice(0, 2), g.call("getitem", value, slice(0, 2)))
    g.call("negative", x)  # dead
    g.set_outputs([])
    out = dce(g, same_behaviour)  # checks x ends in the same state
    assert ops(out) == ["exp", "multiply", "getitem", "setitem"]


def test_a_write_through_a_view_of_an_input_stays(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((3, 4), F64))
    row = g.call("getitem", g.call("transpose", x), 1)
    g.call("setitem", row, Ellipsis, 0.0)
    g.set_outputs([1.5])
    out = dce(g, same_behaviour)
    assert ops(out) == ["transpose", "getitem", "setitem"]
    assert out.outputs == [1.5]


def test_outputs_nested_in_structures_are_live(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((3,), F64))
    a, b = g.call("sin", x), g.call("cos", x)
    g.call("tan", x)
    g.set_outputs([(a, [b])])
    assert ops(dce(g, same_behaviour)) == ["sin", "cos"]


def test_the_counter_survives_so_new_names_stay_fresh(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((3,), F64))
    g.call("sin", x)
    g.set_outputs([g.call("cos", x)])
    out = dce(g, same_behaviour)
    assert out.fresh_name() == "2"
