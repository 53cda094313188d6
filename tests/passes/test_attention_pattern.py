"""fuse_attention: which spellings of softmax(q @ kt * c) @ v become one node, and which must not."""
from __future__ import annotations

import numpy as np
import pytest
from ember.ir import Graph, OpKind, TensorMeta, format_graph, verify
from ember.passes.attention import fuse_attention

F32, F64 = np.dtype("float32"), np.dtype("float64")


def ops(graph: Graph) -> list[str]:
    return [n.op.name for n in graph.nodes if n.op.kind is not OpKind.INPUT]


def softmax_rows(g: Graph, s, axis: int = -1):
    axis = axis % s.meta.ndim
    e = g.call("exp", g.call("subtract", s, g.call("max", s, axis=(axis,), keepdims=True)))
    return g.call("divide", e, g.call("sum", e, axis=(axis,), keepdims=True))


def attention_graph(scale="multiply", batch=(2,), dtypes=(F32, F32, F32), m=5, n=7, d=3, dv=4, transpose_k=True):
    g = Graph("attn")
    q = g.add_input("q", TensorMeta((*batch, m, d), dtypes[0]))
    k = g.add_input("k", TensorMeta((*batch, n, d) if transpose_k else (*batch, d, n), dtypes[1]))
    v = g.add_input("v", TensorMeta((*batch, n, dv), dtypes[2]))
    ndim = len(batch) + 2
    kt = g.call("transpose", k, (*range(ndim - 2), ndim - 1, ndim - 2)) if transpose_k else k
    s = g.call("matmul", q, kt)
    if scale == "multiply":
        s = g.call("multiply", s, 0.125)
    elif scale == "multiply first":
        s = g.call("multiply", 0.125, s)
    elif scale == "divide":
        s = g.call("divide", s, 8)
    g.set_outputs([g.call("matmul", softmax_rows(g, s), v)])
    return g


def fused(g: Graph, same_behaviour) -> Graph:
    before = format_graph(g)
    out = fuse_attention(g)
    verify(out)
    assert format_graph(g) == before, "fuse_attention changed its input graph"
    same_behaviour(g, out)
    return out


@pytest.mark.parametrize("scale", ["multiply", "multiply first", "divide", None])
@pytest.mark.parametrize("batch", [(), (2,), (2, 3)])
def test_the_usual_spellings_become_one_node(same_behaviour, scale, batch):
    out = fused(attention_graph(scale, batch), same_behaviour)
    assert ops(out) == ["transpose", "attention"]
    node = out.nodes[-1]
    assert node.kwargs == {"scale": None if scale is None else 8 if scale == "divide" else 0.125,
                           "scale_op": None if scale is None else "divide" if scale == "divide" else "multiply"}


def test_kt_need_not_be_a_transpose(same_behaviour):
    out = fused(attention_graph(transpose_k=False, dtypes=(F64,) * 3), same_behaviour)
    assert ops(out) == ["attention"] and out.nodes[-1].meta.dtype == F64


def test_two_attentions_in_a_row(same_behaviour):
    g = attention_graph(m=7, d=4, dv=4)
    q2, (v,) = g.outputs[0], [n for n in g.inputs if n.name == "v"]
    g.set_outputs([g.call("matmul", softmax_rows(g, g.call("matmul", q2, g.call("transpose", q2, (0, 2, 1)))), v)])
    out = fused(g, same_behaviour)
    assert ops(out).count("attention") == 2 and "matmul" not in ops(out)


def test_an_intermediate_the_caller_sees_stops_the_match(same_behaviour):
    g = attention_graph()
    p = g.outputs[0].args[0]
    g.set_outputs([g.outputs[0], p])
    assert "attention" not in ops(fused(g, same_behaviour))


def test_an_intermediate_read_elsewhere_stops_the_match(same_behaviour):
    g = attention_graph()
    scores = g.outputs[0].args[0].args[0].args[0].args[0]  # p -> e -> (s - max) -> s
    g.set_outputs([g.outputs[0], g.call("sum", scores)])
    assert "attention" not in ops(fused(g, same_behaviour))


def test_a_softmax_over_another_axis_is_not_attention(same_behaviour):
    g = Graph("attn")
    q, k, v = (g.add_input(name, TensorMeta((2, 6, 6), F32)) for name in "qkv")
    g.set_outputs([g.call("matmul", softmax_rows(g, g.call("matmul", q, k), axis=1), v)])
    assert "attention" not in ops(fused(g, same_behaviour))


@pytest.mark.parametrize("dtypes", [(F32, F32, F64), (F64, F32, F32)])
def test_mixed_dtypes_are_left_alone(same_behaviour, dtypes):
    assert "attention" not in ops(fused(attention_graph(dtypes=dtypes), same_behaviour))


def test_a_numpy_scalar_scale_that_promotes_is_left_alone(same_behaviour):
    # np.float64(0.125) * float32 scores is float64 under NEP 50: not one dtype throughout.
    g = Graph("attn")
    q, kt, v = (g.add_input(name, TensorMeta(shape, F32)) for name, shape in
                (("q", (2, 5, 3)), ("kt", (2, 3, 7)), ("v", (2, 7, 4))))
    scores = g.call("multiply", g.call("matmul", q, kt), np.float64(0.125))
    g.set_outputs([g.call("matmul", softmax_rows(g, scores), v)])
    assert "attention" not in ops(fused(g, same_behaviour))


def test_broadcast_batches_are_left_alone(same_behaviour):
    g = Graph("attn")
    q = g.add_input("q", TensorMeta((2, 5, 3), F32))
    kt = g.add_input("kt", TensorMeta((1, 3, 7), F32))
    v = g.add_input("v", TensorMeta((2, 7, 4), F32))
    g.set_outputs([g.call("matmul", softmax_rows(g, g.call("matmul", q, kt)), v)])
    assert "attention" not in ops(fused(g, same_behaviour))


def test_a_write_between_the_matmuls_stops_the_match(same_behaviour):
    # The fused node would read q after the write; the first matmul read it before.
    g = Graph("attn")
    q, kt, v = (g.add_input(name, TensorMeta((4, 4), F32)) for name in ("q", "kt", "v"))
    s = g.call("matmul", q, kt)
    g.call("setitem", q, (0, 0), 5.0)
    g.set_outputs([g.call("matmul", softmax_rows(g, s), v)])
    assert "attention" not in ops(fused(g, same_behaviour))


def masked_graph(how, mask_shape, mask_dtype=F32, fill=-np.inf):
    g = Graph("attn")
    q, kt, v = (g.add_input(name, TensorMeta(shape, F32)) for name, shape in
                (("q", (2, 5, 3)), ("kt", (2, 3, 7)), ("v", (2, 7, 4))))
    mask = g.add_input("mask", TensorMeta(mask_shape, mask_dtype))
    s = g.call("multiply", g.call("matmul", q, kt), 0.5)
    args = {"add": (s, mask), "add first": (mask, s), "keep_where": (mask, s, fill), "fill_where": (mask, fill, s)}
    s = g.call("add" if "add" in how else "where", *args[how])
    g.set_outputs([g.call("matmul", softmax_rows(g, s), v)])
    return g


@pytest.mark.parametrize("how, mask_dtype", [("add", F32), ("add first", F32), ("keep_where", np.dtype(bool)),
                                             ("fill_where", np.dtype(bool))])
@pytest.mark.parametrize("mask_shape", [(7,), (5, 7), (2, 1, 7)])
def test_a_mask_on_the_scores_joins_the_node(same_behaviour, how, mask_dtype, mask_shape):
    out = fused(masked_graph(how, mask_shape, mask_dtype), same_behaviour)
    assert ops(out) == ["attention"]
    node = out.nodes[-1]
    assert node.args[3].name == "mask"
    assert node.kwargs["mask_op"] == how.split()[0] and node.kwargs["fill"] == (None if "add" in how else -np.inf)


@pytest.mark.parametrize("how, mask_dtype, mask_shape", [
    ("add", F64, (7,)),                  # promotes the scores to float64
    ("add", np.dtype("float16"), (7,)),  # another dtype the kernel would read as float32
    ("keep_where", F32, (7,)),           # a float condition
    ("add", F32, (3, 2, 5, 7)),          # larger than the scores
])
def test_masks_that_change_the_dtype_or_the_shape_are_left_alone(same_behaviour, how, mask_dtype, mask_shape):
    assert "attention" not in ops(fused(masked_graph(how, mask_shape, mask_dtype), same_behaviour))


@pytest.mark.parametrize("dtype, scale", [(F64, np.float64(8.0)), (F32, np.float32(8.0)), (F64, np.float32(8.0))])
def test_a_numpy_scalar_scale_that_keeps_the_dtype_joins(same_behaviour, dtype, scale):
    # q @ k.T / np.sqrt(d) on float64 arrays: np.sqrt(d) is a NumPy float64
    g = Graph("attn")
    q, kt, v = (g.add_input(name, TensorMeta(shape, dtype)) for name, shape in
                (("q", (2, 5, 3)), ("kt", (2, 3, 7)), ("v", (2, 7, 4))))
    g.set_outputs([g.call("matmul", softmax_rows(g, g.call("divide", g.call("matmul", q, kt), scale)), v)])
    out = fused(g, same_behaviour)
    assert "attention" in ops(out) and out.nodes[-1].kwargs["scale"] is scale
