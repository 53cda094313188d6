"""fold_constants: scalar results of small creation chains become constants; nothing else."""
from __future__ import annotations

import numpy as np
from ember.ir import Graph, Node, OpKind, TensorMeta, format_graph, verify
from ember.passes import eliminate_dead_code, fold_constants
from ember.passes.fold import MAX_ELEMENTS

F64, I64 = np.dtype("float64"), np.dtype("int64")


def ops(graph: Graph) -> list[str]:
    return [n.op.name for n in graph.nodes if n.op.kind is not OpKind.INPUT]


def fold(g: Graph, same_behaviour) -> Graph:
    before = format_graph(g)
    out = fold_constants(g)
    verify(out)
    assert format_graph(g) == before, "folding changed its input graph"
    same_behaviour(g, out)
    same_behaviour(g, eliminate_dead_code(out))
    return out


def test_a_full_reduction_of_a_creation_becomes_a_constant_output(same_behaviour) -> None:
    g = Graph("f")
    total = g.call("sum", g.call("arange", 10))
    g.set_outputs([total])
    out = fold(g, same_behaviour)
    (constant,) = out.outputs
    assert not isinstance(constant, Node) and constant == 45 and type(constant) is np.int64
    assert ops(eliminate_dead_code(out)) == []


def test_constants_flow_into_users(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((3,), F64))
    scale = g.call("add", g.call("max", g.call("linspace", 0.0, 1.0, 5)), 1)
    g.set_outputs([g.call("multiply", x, scale)])
    out = fold(g, same_behaviour)
    multiply = out.nodes[-1]
    assert multiply.args[1] == 2.0 and type(multiply.args[1]) is np.float64
    assert ops(eliminate_dead_code(out)) == ["multiply"]


def test_arrays_are_not_folded(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((3,), I64))
    g.set_outputs([g.call("add", x, g.call("multiply", g.call("arange", 3), 2))])
    assert ops(eliminate_dead_code(fold(g, same_behaviour))) == ["arange", "multiply", "add"]


def test_large_creations_are_not_evaluated(same_behaviour) -> None:
    g = Graph("f")
    g.set_outputs([g.call("sum", g.call("ones", (MAX_ELEMENTS + 1,))), g.call("sum", g.call("ones", (MAX_ELEMENTS,)))])
    out = fold(g, same_behaviour)
    assert isinstance(out.outputs[0], Node) and not isinstance(out.outputs[1], Node)


def test_empty_is_garbage_and_never_folded(same_behaviour) -> None:
    g = Graph("f")
    g.set_outputs([g.call("getitem", g.call("multiply", g.call("empty", (3,)), 0), slice(0, 0))])
    fold(g, same_behaviour)
    g = Graph("f")
    g.set_outputs([g.call("sum", g.call("empty", (0,)))])
    assert isinstance(fold(g, same_behaviour).outputs[0], Node)


def test_written_creations_are_not_known(same_behaviour) -> None:
    g = Graph("f")
    a = g.call("zeros", (3,))
    total_before = g.call("sum", a)
    g.call("setitem", a, 0, 5.0)
    g.set_outputs([total_before, g.call("sum", a)])
    out = fold(g, same_behaviour)
    assert all(isinstance(o, Node) for o in out.outputs)


def test_evaluations_that_warn_or_raise_are_left_for_run_time(same_behaviour) -> None:
    g = Graph("f")
    g.set_outputs([g.call("divide", g.call("sum", g.call("zeros", (3,))), 0)])  # 0/0 warns
    out = fold(g, same_behaviour)
    assert isinstance(out.outputs[0], Node) and out.outputs[0].op.name == "divide"


def test_a_constant_that_would_change_its_users_meta_stays_a_node(same_behaviour) -> None:
    # min(arange(-3, 0)) is -3; x ** np.int64(-3) is an error NumPy reports when the value is
    # known, so the constant is not handed to the power: the run raises, eager raises.
    g = Graph("f")
    x = g.add_input("x", TensorMeta((3,), I64))
    exponent = g.call("min", g.call("arange", -3, 0))
    g.set_outputs([g.call("power", x, exponent)])
    out = fold(g, same_behaviour)
    assert out.nodes[-1].args[1].op.name == "min"


def test_chains_of_scalars_fold_completely(same_behaviour) -> None:
    g = Graph("f")
    n = g.call("sum", g.call("eye", 3))
    g.set_outputs([g.call("sqrt", g.call("multiply", n, n)), g.call("astype", n, dtype=np.dtype("int32"))])
    out = fold(g, same_behaviour)
    assert [type(o) for o in out.outputs] == [np.float64, np.int32]
    assert ops(eliminate_dead_code(out)) == []


# --- arrays of one repeated value (zeros, ones, full) -----------------------------------------

F32 = np.dtype("float32")


def test_a_filled_array_is_its_value_to_elementwise_users_at_any_size(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((MAX_ELEMENTS + 5,), F32))
    ones = g.call("ones", (MAX_ELEMENTS + 5,), dtype=F32)
    half = g.call("full", (MAX_ELEMENTS + 5,), 0.5, dtype=F32)
    g.set_outputs([g.call("add", g.call("multiply", x, ones), half)])
    out = fold(g, same_behaviour)
    assert ops(eliminate_dead_code(out)) == ["multiply", "add"]
    multiply, add = eliminate_dead_code(out).nodes[-2:]
    assert type(multiply.args[1]) is np.float32 and multiply.args[1] == 1
    assert type(add.args[1]) is np.float32 and add.args[1] == 0.5


def test_a_filled_array_stays_where_the_value_would_differ(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((3,), F64))
    wide = g.call("zeros", (2, 3))                  # broadcasts x to (2, 3): a scalar would not
    ones = g.call("ones", (3,), dtype=I64)
    total = g.call("sum", ones)                    # the sum of ones is their count, not 1
    written = g.call("full", (3,), 7, dtype=I64)
    g.call("setitem", written, 0, 1)               # not one value any more
    g.set_outputs([g.call("add", x, wide), g.call("multiply", x, total), g.call("add", x, written), ones])
    out = eliminate_dead_code(fold(g, same_behaviour))
    assert ops(out).count("zeros") == 1 and "ones" in ops(out) and "full" in ops(out)


def test_a_full_fill_value_is_converted_as_numpy_converts_it(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((4,), I64))
    g.set_outputs([g.call("add", x, g.call("full", (4,), 2.7, dtype=I64))])  # int64(2), as np.full
    out = eliminate_dead_code(fold(g, same_behaviour))
    assert ops(out) == ["add"] and out.nodes[-1].args[1] == 2 and type(out.nodes[-1].args[1]) is np.int64


def test_a_fill_value_whose_conversion_warns_is_left_for_run_time(same_behaviour) -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((4,), F32))
    with np.errstate(over="ignore"):
        g.set_outputs([g.call("add", x, g.call("full", (4,), 1e300, dtype=F32))])  # inf, with a warning
    out = fold_constants(g)
    assert out.nodes[-1].args[1].op.name == "full"
