"""optimise: the pipeline order, the per-pass hook, verification after each pass, purity."""
from __future__ import annotations

import importlib

import numpy as np
import pytest
from ember.ir import Graph, GraphInvariantError, OpKind, TensorMeta, format_graph
from ember.passes import PASSES, optimise

manager = importlib.import_module("ember.passes.manager")
F32 = np.dtype("float32")


def example() -> Graph:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((4, 3), F32))
    square = g.call("power", g.call("multiply", x, 1), 2)
    again = g.call("power", g.call("multiply", x, 1), 2)
    scale = g.call("sum", g.call("ones", (3,)))
    g.call("exp", x)  # dead
    g.set_outputs([g.call("multiply", g.call("add", square, again), scale)])
    return g


def test_the_pipeline_runs_in_order_and_reports_each_pass(same_behaviour) -> None:
    g = example()
    before = format_graph(g)
    seen = []
    out = optimise(g, on_pass=lambda name, graph, seconds: seen.append((name, format_graph(graph), seconds)))
    assert [name for name, _, _ in seen] == [p.__name__ for p in PASSES] == [
        "simplify", "fold_constants", "eliminate_common_subexpressions", "forward_whole_array_stores",
        "reduce_stacked_parts", "eliminate_dead_code", "write_joins_in_place"]
    assert all(seconds >= 0 for _, _, seconds in seen)
    assert seen[-1][1] == format_graph(out)
    assert format_graph(g) == before
    same_behaviour(g, out)
    assert format_graph(out) == """\
graph f(%x: f32[4, 3]):
    %1 = multiply(%x, %x)                         # f32[4, 3]
    %7 = add(%1, %1)                              # f32[4, 3]
    %8 = multiply(%7, f64(3.0))                   # f64[4, 3]
    return (%8,)"""


def test_no_hook_is_fine_and_an_empty_graph_survives() -> None:
    g = Graph("empty")
    assert format_graph(optimise(g)) == "graph empty():\n    return ()"


def test_a_pass_that_breaks_the_graph_is_named(monkeypatch) -> None:
    def break_metas(graph: Graph) -> Graph:
        node = next(n for n in graph.nodes if n.op.kind is not OpKind.INPUT)
        node.meta = TensorMeta((1,), F32)
        return graph

    monkeypatch.setattr(manager, "PASSES", (manager.simplify, break_metas))
    with pytest.raises(GraphInvariantError, match="output of break_metas is broken"):
        optimise(example())


def test_a_broken_input_graph_is_blamed_on_the_input() -> None:
    g = example()
    g.nodes[3], g.nodes[4] = g.nodes[4], g.nodes[3]
    with pytest.raises(GraphInvariantError, match="the input graph is broken"):
        optimise(g)
