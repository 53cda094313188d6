"""Golden tests: the printed graph format is pinned here, so changing it is a visible decision."""
from __future__ import annotations

import numpy as np
from ember.ir import Graph, SourceLoc, TensorMeta, format_graph, format_node

F32 = np.dtype("float32")
F64 = np.dtype("float64")


def test_getitem_with_slices_none_and_ellipsis() -> None:
    g = Graph("slicing")
    x = g.add_input("x", TensorMeta((4, 5, 6), F32))
    z = g.add_input("z", TensorMeta((), F64))
    a = g.call("getitem", x, (slice(1, None), None, Ellipsis, slice(None, None, -2)))
    b = g.call("getitem", x, 0)
    c = g.call("getitem", x, (0, 1, 2))
    d = g.call("getitem", x, (slice(None), slice(2, 4), slice(None, -1, 3)))
    e = g.call("getitem", z, ())
    f = g.call("getitem", z, Ellipsis)
    g.set_outputs([a, b, c, d, e, f])
    assert format_graph(g) == """\
graph slicing(%x: f32[4, 5, 6], %z: f64[]):
    %0 = %x[1:, None, ..., ::-2]                  # f32[3, 1, 5, 3]
    %1 = %x[0]                                    # f32[5, 6]
    %2 = %x[0, 1, 2]                              # f32[] scalar
    %3 = %x[:, 2:4, :-1:3]                        # f32[4, 2, 2]
    %4 = %z[()]                                   # f64[] scalar
    %5 = %z[...]                                  # f64[]
    return (%0, %1, %2, %3, %4, %5)"""


def test_kwargs_constants_scalars_and_source_locations() -> None:
    g = Graph("reduce")
    x = g.add_input("x", TensorMeta((3, 4), F64), SourceLoc("/home/user/model.py", 2))
    y = g.add_input("y", TensorMeta((), np.dtype("int32"), is_scalar=True))
    s = g.call("sum", x, axis=(1,), keepdims=True, loc=SourceLoc("/home/user/model.py", 7))
    h = g.call("astype", s, dtype=np.dtype("float16"), loc=SourceLoc("model.py", 8))
    t = g.call("add", h, np.float16(0.5))
    u = g.call("multiply", y, 2)
    v = g.call("mean", x)
    w = g.call("clip", x, None, 1.5)
    z = g.call("zeros", (2, 3), dtype=np.int64)
    g.call("setitem", x, (slice(None), 0), 0.0)
    g.set_outputs([t, u, v, w, z, 3])
    assert format_graph(g) == """\
graph reduce(%x: f64[3, 4], %y: i32[] scalar):
    %0 = sum(%x, axis=(1,), keepdims=True)        # f64[3, 1]  model.py:7
    %1 = astype(%0, dtype=f16)                    # f16[3, 1]  model.py:8
    %2 = add(%1, f16(0.5))                        # f16[3, 1]
    %3 = multiply(%y, 2)                          # i32[] scalar
    %4 = mean(%x)                                 # f64[] scalar
    %5 = clip(%x, None, 1.5)                      # f64[3, 4]
    %6 = zeros((2, 3), dtype=i64)                 # i64[2, 3]
    %7 = setitem(%x, (:, 0), 0.0)                 # f64[3, 4]
    return (%2, %3, %4, %5, %6, 3)"""


def test_long_lines_keep_two_spaces_before_the_comment() -> None:
    g = Graph()
    x = g.add_input("a_rather_long_input_name", TensorMeta((2, 3), F32))
    node = g.call("concatenate", (x, x, x), axis=1, loc=SourceLoc("/tmp/deep/path/to/layers.py", 120))
    assert format_node(node) == (
        "%0 = concatenate((%a_rather_long_input_name, %a_rather_long_input_name, %a_rather_long_input_name),"
        " axis=1)  # f32[2, 9]  layers.py:120"
    )


def test_single_output_and_empty_graph() -> None:
    g = Graph("f")
    x = g.add_input("x", TensorMeta((4,), F32))
    g.set_outputs([g.call("multiply", x, 0.5)])
    assert str(g) == """\
graph f(%x: f32[4]):
    %0 = multiply(%x, 0.5)                        # f32[4]
    return (%0,)"""
    assert format_graph(Graph("nothing")) == "graph nothing():\n    return ()"


def test_source_loc_spellings() -> None:
    loc = SourceLoc("/home/user/project/model.py", 12)
    assert str(loc) == "/home/user/project/model.py:12"
    assert loc.short == "model.py:12"
    assert repr(TensorMeta((4096, 2048), F32)) == "f32[4096, 2048]"
    assert repr(TensorMeta((), np.dtype("complex128"), is_scalar=True)) == "c128[] scalar"
