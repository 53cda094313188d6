"""plan_buffers: which fresh outputs may be written over a value that dies in their kernel."""
from __future__ import annotations

import numpy as np
from ember.ir import Graph, TensorMeta
from ember.passes.fusion import fuse
from ember.passes.kernels import Kernel, StoreKind
from ember.passes.memory import plan_buffers

F32, I64 = np.dtype("float32"), np.dtype("int64")


def plan(g: Graph, worth=lambda node: True) -> dict[str, str | None]:
    """{stored value: the value it is written over, or None} for every fresh store."""
    planned = plan_buffers(fuse(g), worth)
    return {s.node.name: (s.reads.name if s.reads is not None else None)
            for k in planned.steps if isinstance(k, Kernel) for s in k.stores if s.kind is StoreKind.NEW}


def matmul_graph(dtype=F32) -> tuple[Graph, object, object]:
    g = Graph()
    x = g.add_input("x", TensorMeta((4, 4), dtype))
    w = g.add_input("w", TensorMeta((4, 4), dtype))
    return g, x, g.call("matmul", x, w)


def test_a_matmul_result_read_once_is_written_over():
    g, x, m = matmul_graph()
    g.set_outputs([g.call("add", m, x)])
    assert plan(g) == {"1": "0"}


def test_nothing_is_taken_below_the_size_that_is_worth_it():
    g, x, m = matmul_graph()
    g.set_outputs([g.call("add", m, x)])
    assert plan(g, worth=lambda node: False) == {"1": None}


def test_a_value_still_needed_keeps_its_buffer():
    g, x, m = matmul_graph()
    y = g.call("exp", m)
    g.set_outputs([y, m])  # returned itself
    assert plan(g) == {"1": None}

    g, x, m = matmul_graph()
    y = g.call("exp", m)
    g.set_outputs([g.call("matmul", y, m)])  # read by a later step
    assert plan(g) == {"1": None}

    g, x, m = matmul_graph()
    y = g.call("exp", m)
    g.set_outputs([y, g.call("transpose", m, (1, 0))])  # a view of it is returned
    assert plan(g) == {"1": None}

    g, x, m = matmul_graph()
    y = g.call("exp", m)
    g.set_outputs([g.call("matmul", y, g.call("getitem", m, (slice(None, None, -1),)))])  # a view read later
    assert plan(g) == {"1": None}


def test_only_a_load_of_exactly_the_written_elements_qualifies():
    g, x, m = matmul_graph()
    g.set_outputs([g.call("add", g.call("transpose", m, (1, 0)), x)])  # read transposed
    assert plan(g) == {"2": None}

    g, x, m = matmul_graph()
    flipped = g.call("getitem", m, (slice(None, None, -1),))
    g.set_outputs([g.call("add", m, flipped)])  # read at another element as well
    assert plan(g) == {"2": None}

    g = Graph()
    x = g.add_input("x", TensorMeta((4, 1), F32))
    m = g.call("matmul", x, g.add_input("w", TensorMeta((1, 1), F32)))
    g.set_outputs([g.call("add", m, g.add_input("y", TensorMeta((4, 5), F32)))])  # broadcast to a bigger domain
    assert plan(g) == {"1": None}


def test_another_dtype_or_an_input_never_qualifies():
    g, x, m = matmul_graph(I64)
    g.set_outputs([g.call("sqrt", m)])  # float64 result over int64 memory: no
    assert plan(g) == {"1": None}

    g = Graph()
    x = g.add_input("x", TensorMeta((4, 4), F32))
    g.set_outputs([g.call("exp", x)])  # the caller's array
    assert plan(g) == {"0": None}


def test_reductions_keep_their_own_buffers():
    g, x, m = matmul_graph()
    total = g.call("sum", m, axis=1, keepdims=True)
    g.set_outputs([g.call("subtract", m, total)])  # softmax-like: passes over each row
    assert plan(g) == {"2": None}


def test_memory_the_kernel_also_writes_through_a_setitem_is_not_taken():
    g, x, m = matmul_graph()
    y = g.call("exp", m)
    written = g.call("setitem", m, (slice(None),), y)
    g.set_outputs([y, written])
    assert plan(g)["1"] is None


def test_a_kernel_output_can_be_written_over_by_a_later_kernel():
    g = Graph()
    x = g.add_input("x", TensorMeta((4, 4), F32))
    a = g.call("exp", x)               # kernel k0: stored for the matmul and for k1
    b = g.call("matmul", a, x)
    g.set_outputs([g.call("add", a, b)])  # k1: a and b both die here; the first load wins
    assert plan(g) == {"0": None, "2": "0"}


def recycled(g: Graph, worth=lambda node: True) -> dict[str, str]:
    """{stored value: the value that died before whose array it is written into}."""
    planned = plan_buffers(fuse(g), worth)
    return {s.node.name: s.recycles.name for k in planned.steps if isinstance(k, Kernel) for s in k.stores
            if s.recycles is not None}


def chain(g: Graph, x, m):
    """exp(m) over m (dies there); a second matmul of it (where it dies); a sum that cannot be
    written over that product (returned too): it reuses the array of exp(m)."""
    y = g.call("exp", m)
    m2 = g.call("matmul", y, x)
    z = g.call("add", m2, x)
    return y, m2, z


def test_a_fresh_output_reuses_the_array_of_a_value_dead_before_it():
    g, x, m = matmul_graph()
    y, m2, z = chain(g, x, m)
    g.set_outputs([z, m2])
    assert plan(g) == {y.name: m.name, z.name: None}
    assert recycled(g) == {z.name: y.name}


def test_arrays_still_seen_taken_or_unlike_are_not_reused():
    g, x, m = matmul_graph()
    y, m2, z = chain(g, x, m)
    g.set_outputs([z, m2, g.call("getitem", y, 0)])  # a view of y is returned
    assert recycled(g) == {}

    g, x, m = matmul_graph()
    y, m2, z = chain(g, x, m)
    g.set_outputs([z, m2])
    assert recycled(g, worth=lambda node: False) == {}

    g, x, m = matmul_graph()  # m's array went to y; only y's can be reused, and only once
    y, m2, z = chain(g, x, m)
    w = g.call("multiply", m2, 2.0)
    g.set_outputs([z, w, m2])
    assert list(recycled(g).values()) == [y.name]

    g, x, m = matmul_graph()
    y = g.call("exp", m)
    m2 = g.call("matmul", y, x)
    z = g.call("astype", g.call("add", m2, x), I64)  # another dtype
    g.set_outputs([z, m2])
    assert recycled(g) == {}
