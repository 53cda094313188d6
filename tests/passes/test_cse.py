"""eliminate_common_subexpressions: merges, keys, and the mutation and output rules."""
from __future__ import annotations

import numpy as np
from ember.ir import Graph, OpKind, TensorMeta
from ember.passes import eliminate_common_subexpressions

from .conftest import checked_pass

F32, F64, I64 = np.dtype("float32"), np.dtype("float64"), np.dtype("int64")


def ops(graph: Graph) -> list[str]:
    return [n.op.name for n in graph.nodes if n.op.kind is not OpKind.INPUT]


def cse(g: Graph, same_behaviour, make_inputs=None) -> Graph:
    return checked_pass(eliminate_common_subexpressions, g, make_inputs)


def graph_with_x(shape=(3, 4), dtype=F64) -> tuple[Graph, object]:
    g = Graph("f")
    return g, g.add_input("x", TensorMeta(shape, dtype))


def test_repeated_work_is_done_once(same_behaviour) -> None:
    g, x = graph_with_x()
    a, b = g.call("exp", x), g.call("exp", x)
    s1, s2 = g.call("sum", a, axis=(1,), keepdims=True), g.call("sum", b, keepdims=True, axis=(1,))
    g.set_outputs([g.call("add", s1, s2)])
    out = cse(g, same_behaviour)
    assert ops(out) == ["exp", "sum", "add"]
    add = out.nodes[-1]
    assert add.args[0] is add.args[1]


def test_slices_and_nested_indices_are_keys(same_behaviour) -> None:
    g, x = graph_with_x()
    a = g.call("getitem", x, (slice(1, None), None, Ellipsis, 0))
    b = g.call("getitem", x, (slice(1, None), None, Ellipsis, 0))
    c = g.call("getitem", x, (slice(1, None, 2), None, Ellipsis, 0))
    g.set_outputs([g.call("add", g.call("add", a, b), c)])
    assert ops(cse(g, same_behaviour)) == ["getitem", "getitem", "add", "add"]


def test_constants_that_promote_or_round_differently_stay_apart(same_behaviour) -> None:
    g, x = graph_with_x(dtype=np.dtype("int32"))
    variants = [g.call("add", x, 1), g.call("add", x, 1.0), g.call("add", x, True), g.call("add", x, np.int64(1))]
    g.set_outputs([g.call("sum", v) for v in variants])
    assert ops(cse(g, same_behaviour)).count("add") == 4

    g, x = graph_with_x()
    pos, neg = g.call("multiply", x, 0.0), g.call("multiply", x, -0.0)
    g.set_outputs([g.call("divide", 1.0, g.call("add", pos, neg))])
    assert ops(cse(g, same_behaviour)).count("multiply") == 2


def test_a_write_separates_reads(same_behaviour) -> None:
    g, x = graph_with_x()
    before = g.call("add", x, 1.0)
    g.call("setitem", x, (0, 0), 50.0)
    after = g.call("add", x, 1.0)
    g.set_outputs([g.call("subtract", after, before)])
    out = cse(g, same_behaviour)
    assert ops(out).count("add") == 2


def test_reads_merge_within_the_same_stretch_between_writes(same_behaviour) -> None:
    g, x = graph_with_x()
    g.call("setitem", x, 0, 1.0)
    a, b = g.call("negative", x), g.call("negative", x)
    g.set_outputs([g.call("multiply", a, b)])
    assert ops(cse(g, same_behaviour)) == ["setitem", "negative", "multiply"]


def test_fresh_arrays_that_are_written_stay_distinct(same_behaviour) -> None:
    g = Graph("f")
    a, b = g.call("zeros", (3,)), g.call("zeros", (3,))
    g.call("setitem", a, 0, 1.0)
    g.set_outputs([g.call("sum", a), g.call("sum", b)])
    assert ops(cse(g, same_behaviour)).count("zeros") == 2

    g, x = graph_with_x()
    a, b = g.call("add", x, 1.0), g.call("add", x, 1.0)
    g.call("setitem", g.call("getitem", b, 0), Ellipsis, 0.0)  # written through a view
    g.set_outputs([g.call("sum", a), g.call("sum", b)])
    assert ops(cse(g, same_behaviour)).count("add") == 2


def test_views_of_written_memory_stay_distinct(same_behaviour) -> None:
    # A reshape of a transposed input copies; merging two would make one copy serve both.
    g, x = graph_with_x()
    t = g.call("transpose", x)
    r1, r2 = g.call("ravel", t), g.call("ravel", t)
    g.call("setitem", r1, 0, 99.0)
    g.set_outputs([g.call("sum", r1), g.call("sum", r2)])
    assert ops(cse(g, same_behaviour)).count("ravel") == 2


def test_mutations_empties_and_inputs_never_merge(same_behaviour) -> None:
    g, x = graph_with_x()
    g.call("setitem", x, 0, 1.0)
    g.call("setitem", x, 0, 1.0)
    e1, e2 = g.call("empty", (2,)), g.call("empty", (2,))
    g.set_outputs([g.call("getitem", e1, slice(0, 0)), g.call("getitem", e2, slice(0, 0))])
    out = cse(g, same_behaviour)
    assert ops(out).count("setitem") == 2 and ops(out).count("empty") == 2


def test_two_equal_outputs_stay_two_arrays(same_behaviour) -> None:
    g, x = graph_with_x()
    g.set_outputs([g.call("add", x, 1.0), g.call("add", x, 1.0)])
    out = cse(g, same_behaviour)  # checks the outputs are distinct and share no memory
    first, second = out.outputs
    assert second.op.name == "copy" and second.args == (first,)


def test_an_output_and_a_view_output_of_its_twin(same_behaviour) -> None:
    g, x = graph_with_x()
    a, b = g.call("add", x, 1.0), g.call("add", x, 1.0)
    g.set_outputs([g.call("getitem", a, 0), b])
    out = cse(g, same_behaviour)
    assert out.outputs[1].op.name == "copy"


def test_an_output_merges_with_a_private_twin(same_behaviour) -> None:
    g, x = graph_with_x()
    a, b = g.call("add", x, 1.0), g.call("add", x, 1.0)
    g.set_outputs([g.call("sum", a), b])
    out = cse(g, same_behaviour)
    assert ops(out) == ["add", "sum"] and out.outputs[1] is out.nodes[1]


def test_equal_view_outputs_stay_and_scalar_outputs_copy(same_behaviour) -> None:
    g, x = graph_with_x()
    g.set_outputs([g.call("getitem", x, 0), g.call("getitem", x, 0), g.call("sum", x), g.call("sum", x)])
    out = cse(g, same_behaviour)  # distinct view objects on x's memory, distinct scalar objects
    assert ops(out) == ["getitem", "getitem", "sum", "copy"]


def test_equal_views_inside_the_graph_merge(same_behaviour) -> None:
    g, x = graph_with_x()
    v1, v2 = g.call("getitem", x, 0), g.call("getitem", x, 0)
    g.set_outputs([v1, g.call("sum", v2)])
    out = cse(g, same_behaviour)
    assert ops(out) == ["getitem", "sum"]


def test_array_constants_are_not_keys(same_behaviour) -> None:
    g, x = graph_with_x(shape=(3,))
    weights = np.array([1.0, 2.0, 3.0])
    a, b = g.call("multiply", x, weights), g.call("multiply", x, weights)
    g.set_outputs([g.call("add", a, b)])
    assert ops(cse(g, same_behaviour)).count("multiply") == 2


def test_creations_without_writes_merge(same_behaviour) -> None:
    g, x = graph_with_x(shape=(4,), dtype=I64)
    g.set_outputs([g.call("add", g.call("add", x, g.call("arange", 4)), g.call("arange", 4))])
    assert ops(cse(g, same_behaviour)) == ["arange", "add", "add"]


def test_a_third_twin_sees_outputs_handed_to_the_first(same_behaviour) -> None:
    # The private first twin takes over the second's output; the third, also an output,
    # must then stay distinct from it.
    g, x = graph_with_x()
    g.call("add", x, 1.0)
    g.set_outputs([g.call("add", x, 1.0), g.call("add", x, 1.0)])
    out = cse(g, same_behaviour)
    first, second = out.outputs
    assert first is out.nodes[1] and second.op.name == "copy"

    g, x = graph_with_x(shape=(), dtype=F32)
    g.call("negative", x)
    g.set_outputs([g.call("negative", x), g.call("negative", x)])  # scalars: distinct objects
    out = cse(g, same_behaviour)
    assert out.outputs[0] is not out.outputs[1]


def test_a_view_handed_an_output_makes_its_base_visible(same_behaviour) -> None:
    g, x = graph_with_x()
    a = g.call("add", x, 1.0)
    g.call("getitem", a, 0)
    a2 = g.call("add", x, 1.0)
    g.set_outputs([g.call("getitem", a, 0), a2])
    out = cse(g, same_behaviour)  # a2 must not become a: it would share memory with output 0
    assert out.outputs[1].op.name == "copy"
