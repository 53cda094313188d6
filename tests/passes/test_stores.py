"""forward_whole_array_stores: reads of a whole-array store take its value, and a store that is
overwritten whole before anything reads its memory goes; what must stay, stays."""
from __future__ import annotations

import numpy as np
import pytest
from ember.ir import Graph, Node, OpKind, TensorMeta, format_graph
from ember.passes.stores import forward_whole_array_stores
from hypothesis import given, note
from hypothesis import strategies as st

from .conftest import checked_pass

F32, F64 = np.dtype("float32"), np.dtype("float64")


def stores(g: Graph) -> list[Node]:
    return [n for n in g.nodes if n.op.kind is OpKind.MUTATION]


def rewrite(g: Graph, same_behaviour, make_inputs=None) -> Graph:
    return checked_pass(forward_whole_array_stores, g, make_inputs)


def accumulate(g: Graph, acc: Node, a: Node, k: Node, taps: int = 3) -> Node:
    """``acc += k[j] * a[j:j + n]`` for each tap, as the tracer records ``+=`` on an array."""
    n = acc.meta.shape[0]
    for j in range(taps):
        term = g.call("multiply", g.call("getitem", k, j), g.call("getitem", a, slice(j, j + n)))
        acc = g.call("setitem", acc, (Ellipsis,), g.call("add", acc, term))
    return acc


def test_an_accumulation_into_a_fresh_array_is_one_store(same_behaviour):
    g = Graph("conv")
    a, k = g.add_input("a", TensorMeta((12,), F32)), g.add_input("k", TensorMeta((3,), F32))
    g.set_outputs([accumulate(g, g.call("zeros", (10,), dtype=F32), a, k)])
    out = rewrite(g, same_behaviour)
    (store,) = stores(out)
    assert store.args[0].op.name == "zeros" and out.outputs == [store]


def test_an_accumulation_into_an_argument_keeps_the_stores_that_other_arguments_are_read_after(same_behaviour):
    """``a`` may be ``acc`` itself (inputs may overlap): each update reads it after the one before."""
    g = Graph("f")
    acc, a, k = (g.add_input("acc", TensorMeta((10,), F32)), g.add_input("a", TensorMeta((12,), F32)),
                 g.add_input("k", TensorMeta((3,), F32)))
    g.set_outputs([accumulate(g, acc, a, k)])
    out = rewrite(g, same_behaviour)
    assert len(stores(out)) == 3


def test_updates_that_read_no_other_memory_collapse_into_an_argument(same_behaviour):
    g = Graph("f")
    u = g.add_input("u", TensorMeta((4, 5), F64))
    once = g.call("setitem", u, (Ellipsis,), g.call("multiply", u, 2.0))
    twice = g.call("setitem", once, (slice(None),), g.call("add", once, 1.0))
    g.set_outputs([twice, g.call("sum", twice)])
    out = rewrite(g, same_behaviour)
    (store,) = stores(out)
    assert store.args[0] is out.inputs[0]
    assert out.nodes[2].op.name == "add" and out.nodes[2].args[0] is out.nodes[1]  # 2*u + 1, forwarded


@pytest.mark.parametrize("case", ["view read", "may raise", "partial", "cast"])
def test_what_stays(same_behaviour, case):
    """A store is kept when its memory is read before the next store (through a view made
    earlier), when an op that may raise runs between (eager's write is visible then), or when
    the next store writes part of it only; a store of a value of another dtype (a cast) is
    read as what it stored, not as the value."""
    g = Graph("f")
    x = g.add_input("x", TensorMeta((6,), F64))
    acc = g.call("zeros", (6,), dtype=F64)
    head = g.call("getitem", acc, slice(0, 3))
    total = g.call("add", acc, x)
    first = g.call("setitem", acc, (Ellipsis,), g.call("astype", total, F32) if case == "cast" else total)
    outputs: list = []
    if case == "view read":
        outputs.append(g.call("sum", head))
    if case == "may raise":
        outputs.append(g.call("advanced_index", x, (np.array([0, 5]),)))
    if case == "cast":
        outputs.append(g.call("multiply", first, 2.0))
    value = g.call("multiply", x, 3.0)
    second = g.call("setitem", first, slice(0, 4), 5.0) if case == "partial" else g.call(
        "setitem", first, (Ellipsis,), value)
    g.set_outputs([second, *outputs])
    out = rewrite(g, same_behaviour)
    assert len(stores(out)) == 2, format_graph(out)
    if case == "cast":
        assert out.outputs[1].args[0] is stores(out)[0]  # not forwarded past the cast


def test_disjoint_arguments_are_read_between_the_stores_of_another(same_behaviour):
    """Where the frontend guards that the arguments share no memory, the updates of ``acc`` that
    read ``a`` collapse into one store, and a read of ``acc`` after a write into ``a`` takes the
    value stored; where they may share it, every store stays."""
    for disjoint in (True, False):
        g = Graph("f", disjoint_inputs=disjoint)
        acc, a, k = (g.add_input("acc", TensorMeta((10,), F32)), g.add_input("a", TensorMeta((12,), F32)),
                     g.add_input("k", TensorMeta((3,), F32)))
        acc = accumulate(g, acc, a, k)
        written = g.call("setitem", a, (Ellipsis,), g.call("negative", a))
        g.set_outputs([acc, written, g.call("multiply", acc, 2.0)])
        out = rewrite(g, same_behaviour)
        assert len(stores(out)) == (2 if disjoint else 4), format_graph(out)
        assert (out.nodes[-1].args[0].op.name == "add") is disjoint  # forwarded past the write into a


# Random programs over an accumulator (a fresh array or an argument, which may be the same
# array as x unless the graph's inputs are disjoint) mixing whole and partial stores, value
# reads, views read later, outputs and writes into x.
STEPS = ["update", "overwrite", "partial", "read", "view", "read view", "output", "read old", "write x"]


@given(st.lists(st.sampled_from(STEPS), min_size=1, max_size=10), st.booleans(), st.booleans(),
       st.booleans(), st.integers(0, 2**16))
def test_random_store_programs_interpret_like_the_original(same_behaviour, make_inputs, steps, fresh, shared,
                                                           disjoint, seed):
    g = Graph("f", disjoint_inputs=disjoint and not shared)
    meta = TensorMeta((3, 4), F64)
    x = g.add_input("x", meta)
    acc = g.call("zeros", (3, 4), dtype=F64) if fresh else g.add_input("acc", meta)
    outputs: list = []
    views: list[Node] = []
    accs = [acc]  # each store's result: a read of an older one reads the memory as it is then
    for step in steps:
        if step == "update":
            acc = g.call("setitem", acc, (Ellipsis,), g.call("add", g.call("multiply", acc, 0.5), x))
        elif step == "overwrite":
            acc = g.call("setitem", acc, (slice(None),), g.call("exp", x))
        elif step == "partial":
            acc = g.call("setitem", acc, (0,), 7.0)
        elif step == "read":
            outputs.append(g.call("multiply", acc, 2.0))
        elif step == "view":
            views.append(g.call("getitem", acc, slice(1, None)))
        elif step == "read view" and views:
            outputs.append(g.call("sum", views[-1]))
        elif step == "output":
            outputs.append(acc)
        elif step == "read old":
            outputs.append(g.call("multiply", accs[len(outputs) % len(accs)], 2.0))
        elif step == "write x":
            x = g.call("setitem", x, (Ellipsis,), g.call("multiply", x, 1.5))
        accs.append(acc)
    g.set_outputs([acc, *outputs])
    note(format_graph(g))
    inputs = make_inputs(g, seed)
    if shared and not fresh:
        def inputs_shared(make=inputs):
            values = make()
            return [values[0], values[0]]
        inputs = inputs_shared
    rewrite(g, same_behaviour, inputs)
