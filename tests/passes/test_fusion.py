"""Fusion: which nodes share a kernel, and that the step order keeps the program's meaning.

``execute`` runs a KernelGraph with NumPy only (each kernel's members in order at the
kernel's position, then its in-place stores): equal to ``interpret`` means the grouping
and the order of steps respect data dependencies and reads/writes of memory.
"""
from __future__ import annotations

import graphlib

import numpy as np
import pytest
from ember.ir import Graph, OpKind, TensorMeta, interpret, map_nodes
from ember.passes.fusion import _Digraph, fuse
from ember.passes.kernels import FULL, KEEP, REDUCED, ExternStep, Kernel, StoreKind

F32 = np.dtype("float32")


def execute(kernel_graph, inputs):
    env = dict(zip(kernel_graph.graph.inputs, inputs, strict=True))
    run = lambda node: node.op.reference(*map_nodes(node.args, env.__getitem__),
                                         **map_nodes(node.kwargs, env.__getitem__))
    for step in kernel_graph.steps:
        if isinstance(step, ExternStep):
            env[step.node] = run(step.node)
            continue
        for node in step.nodes:
            env[node] = run(node)
        for store in step.stores:
            if store.kind is StoreKind.INTO:
                env[store.setitem] = run(store.setitem)
    return [map_nodes(o, env.__getitem__) for o in kernel_graph.graph.outputs]


def assert_same_program(graph, make):
    kernel_graph = fuse(graph)
    ours, theirs = make(), make()
    with np.errstate(all="ignore"):
        got, want = execute(kernel_graph, ours), interpret(graph, theirs)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    return kernel_graph


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(F32)


def test_softmax_is_one_row_kernel():
    g = Graph()
    x = g.add_input("x", TensorMeta((8, 16), F32))
    m = g.call("max", x, axis=(1,), keepdims=True)
    e = g.call("exp", g.call("subtract", x, m))
    out = g.call("divide", e, g.call("sum", e, axis=(1,), keepdims=True))
    g.set_outputs([out])
    kg = assert_same_program(g, lambda: [rand(8, 16)])
    (kernel,) = kg.steps
    assert kernel.reduce_axes == (1,) and kernel.layouts[m] == KEEP and kernel.layouts[out] == FULL
    assert [s.node for s in kernel.stores] == [out]


def test_elementwise_chain_with_broadcast_is_one_kernel():
    g = Graph()
    x, b = g.add_input("x", TensorMeta((6, 5), F32)), g.add_input("b", TensorMeta((5,), F32))
    c = g.add_input("c", TensorMeta((6, 1), F32))
    g.set_outputs([g.call("tanh", g.call("add", g.call("multiply", x, b), c))])
    kg = assert_same_program(g, lambda: [rand(6, 5), rand(5, seed=1), rand(6, 1, seed=2)])
    (kernel,) = kg.steps
    loads = {ld.node.name: (ld.axes, ld.broadcast) for ld in kernel.loads}
    assert loads == {"x": ((0, 1), (False, False)), "b": ((1,), (False,)), "c": ((0, 1), (False, True))}


def test_reduction_without_keepdims_feeds_consumers_by_broadcasting():
    g = Graph()
    x = g.add_input("x", TensorMeta((4, 7), F32))
    col = g.call("mean", x, axis=(0,))         # (7,): right-aligned onto axis 1: fusable
    row = g.call("sum", x, axis=(1,))          # (4,): would broadcast onto axis 1: not fusable
    g.set_outputs([g.call("subtract", x, col), g.call("multiply", row, 2.0)])
    kg = assert_same_program(g, lambda: [rand(4, 7)])
    kernels = kg.kernels
    assert len(kernels) == 2
    assert kernels[0].layouts[col] == REDUCED and kernels[1].layouts[row] == REDUCED


def test_different_reduction_axes_are_different_kernels():
    g = Graph()
    x = g.add_input("x", TensorMeta((3, 4, 5), F32))
    g.set_outputs([g.call("sum", x, axis=(0,)), g.call("max", x, axis=(2,)), g.call("min", x)])
    assert len(assert_same_program(g, lambda: [rand(3, 4, 5)]).kernels) == 3


def test_matmul_is_extern_and_its_epilogue_fuses():
    g = Graph()
    x, w = g.add_input("x", TensorMeta((4, 8), F32)), g.add_input("w", TensorMeta((8, 6), F32))
    b = g.add_input("b", TensorMeta((6,), F32))
    h = g.call("matmul", x, w)
    g.set_outputs([g.call("maximum", g.call("add", h, b), 0.0)])
    kg = assert_same_program(g, lambda: [rand(4, 8), rand(8, 6, seed=1), rand(6, seed=2)])
    assert isinstance(kg.steps[0], ExternStep) and kg.steps[0].node is h
    assert len(kg.kernels) == 1 and kg.kernels[0].loads[0].node is h


def test_merging_never_creates_a_cycle_through_an_extern():
    g = Graph()
    x, w = g.add_input("x", TensorMeta((5, 5), F32)), g.add_input("w", TensorMeta((5, 5), F32))
    a = g.call("exp", x)
    m = g.call("matmul", a, w)
    g.set_outputs([g.call("add", a, m)])
    kg = assert_same_program(g, lambda: [rand(5, 5), rand(5, 5, seed=1)])
    kinds = [type(s).__name__ for s in kg.steps]
    assert kinds == ["Kernel", "ExternStep", "Kernel"]


def test_reads_stay_before_a_later_write():
    g = Graph()
    x = g.add_input("x", TensorMeta((6,), F32))
    before = g.call("multiply", x, 2.0)
    write = g.call("setitem", x, Ellipsis, g.call("negative", x))
    after = g.call("add", before, x)
    g.set_outputs([after])
    kg = assert_same_program(g, lambda: [rand(6)])
    order = [s.node if isinstance(s, ExternStep) else tuple(s.nodes) for s in kg.steps]
    position = {n: i for i, item in enumerate(order) for n in (item if isinstance(item, tuple) else (item,))}
    assert position[before] < position[write.args[2]] <= position[after]
    store_kernel = next(k for k in kg.kernels if k.stores and k.stores[0].setitem is write)
    assert after not in store_kernel.nodes


def test_arithmetic_used_by_a_later_kernel_only_is_computed_there():
    """``t = 4 * a`` merges into a's kernel, but only the kernel after the matmul reads it: that
    kernel computes it from ``a`` (in memory anyway, the matmul reads it) instead of loading it."""
    g = Graph()
    u, w = g.add_input("u", TensorMeta((5, 5), F32)), g.add_input("w", TensorMeta((5, 5), F32))
    a = g.call("exp", u)
    t = g.call("multiply", 4.0, a)
    g.set_outputs([g.call("subtract", g.call("matmul", a, w), t)])
    kg = assert_same_program(g, lambda: [rand(5, 5), rand(5, 5, seed=1)])
    first, last = kg.kernels
    assert [s.node for s in first.stores] == [a] and t in last.nodes and a in {ld.node for ld in last.loads}


def test_arithmetic_on_an_input_moves_too():
    g = Graph()
    u, w = g.add_input("u", TensorMeta((5, 5), F32)), g.add_input("w", TensorMeta((5, 5), F32))
    a = g.call("exp", u)
    t = g.call("multiply", u, a)  # an input (in memory already) and a value stored for the matmul
    g.set_outputs([g.call("subtract", g.call("matmul", a, w), t)])
    kg = assert_same_program(g, lambda: [rand(5, 5), rand(5, 5, seed=1)])
    assert t in kg.kernels[1].nodes and {ld.node for ld in kg.kernels[1].loads} >= {u, a}


def test_arithmetic_stays_where_moving_it_would_store_an_operand():
    g = Graph()
    u, w = g.add_input("u", TensorMeta((5, 5), F32)), g.add_input("w", TensorMeta((5, 5), F32))
    a = g.call("exp", u)  # read by t and t2 only: kept in registers
    t, t2 = g.call("multiply", 4.0, a), g.call("add", a, 1.0)
    g.set_outputs([g.call("subtract", g.call("matmul", t2, w), t)])
    kg = assert_same_program(g, lambda: [rand(5, 5), rand(5, 5, seed=1)])
    assert {s.node for s in kg.kernels[0].stores} == {t, t2}


def test_arithmetic_is_not_computed_again_after_a_write_of_its_operands():
    g = Graph()
    x = g.add_input("x", TensorMeta((6,), F32))
    y = g.call("exp", x)
    before = g.call("multiply", x, y)  # in y's kernel; read after the write only
    g.call("setitem", x, Ellipsis, g.call("negative", x))
    g.set_outputs([y, g.call("add", before, x)])
    kg = assert_same_program(g, lambda: [rand(6)])
    assert before in kg.kernels[0].nodes


def test_setitem_written_in_place_when_safe_and_through_numpy_when_not():
    g = Graph()
    y = g.add_input("y", TensorMeta((10,), F32))
    head = g.call("getitem", y, (slice(None, 5),))
    unsafe = g.call("setitem", y, (slice(None, 5),), g.call("add", head, g.call("flip", head)))
    tail = g.call("getitem", y, (slice(5, None),))
    safe = g.call("setitem", y, (slice(5, None),), g.call("multiply", tail, 3.0))
    g.set_outputs([y])
    kg = assert_same_program(g, lambda: [rand(10)])
    externs = [s.node for s in kg.steps if isinstance(s, ExternStep)]
    assert unsafe in externs and safe not in externs
    assert any(st.setitem is safe for k in kg.kernels for st in k.stores)


def test_dead_nodes_are_dropped_and_unsupported_nodes_go_extern():
    g = Graph()
    x = g.add_input("x", TensorMeta((4,), F32))
    g.call("exp", x)  # dead
    y = g.call("sin", x)
    g.set_outputs([g.call("cos", y)])
    kg = fuse(g, supports=lambda node: node.op.name != "sin")
    assert [type(s).__name__ for s in kg.steps] == ["ExternStep", "Kernel"]
    assert kg.steps[0].node is y and kg.steps[0].reason == "not lowered by the backend"
    assert all(n.op.kind is not OpKind.INPUT for k in kg.kernels for n in k.nodes)


def test_printed_kernel_graph():
    g = Graph()
    x = g.add_input("x", TensorMeta((8,), F32))
    g.set_outputs([g.call("exp", g.call("multiply", x, 2.0))])
    assert str(fuse(g)) == (
        "kernel k0  domain=(8,)  reduce=()\n"
        "    load   %x  axes=(0,)\n"
        "    %0 = multiply(%x, 2.0)  [full]\n"
        "    %1 = exp(%0)  [full]\n"
        "    store  %1 -> new buffer  axes=(0,)")
    assert isinstance(fuse(g).steps[0], Kernel)


def test_the_step_order_takes_the_earliest_ready_group_first():
    graph = _Digraph()
    for before, after in [("c", "d"), ("a", "d"), ("b", "c")]:
        graph.add_edge(before, after)
    graph.add_node("e")
    position = {"a": 3, "b": 0, "c": 1, "d": 4, "e": 2}
    assert list(graph.ordered(position.__getitem__)) == ["b", "c", "e", "a", "d"]
    graph.remove_node("c")
    assert graph.successors("b") == [] and graph.predecessors("d") == ["a"]
    assert list(graph.ordered(position.__getitem__)) == ["b", "e", "a", "d"]


def test_a_cycle_in_the_group_graph_is_an_error_not_an_order():
    graph = _Digraph()
    graph.add_edge("a", "b")
    graph.add_edge("b", "a")
    with pytest.raises(graphlib.CycleError):
        list(graph.ordered(str))
