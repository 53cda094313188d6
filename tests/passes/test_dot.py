"""The DOT rendering of a graph: one cluster per fused kernel, NumPy's steps outside them."""
from __future__ import annotations

import re

import numpy as np
from ember.ir import Graph, TensorMeta
from ember.passes.dot import to_dot
from ember.passes.fusion import fuse

F32 = np.dtype("float32")


def clusters(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if match := re.match(r'\s*subgraph "cluster_(\w+)"', line):
            current = found.setdefault(match.group(1), [])
        elif line.strip() == "}":
            current = None
        elif current is not None and (match := re.match(r'\s*"(\w+)" \[label', line)):
            current.append(match.group(1))
    return found


def test_kernels_are_clusters_and_numpy_steps_are_dashed():
    g = Graph("f")
    x = g.add_input("x", TensorMeta((4, 8), F32))
    w = g.add_input("w", TensorMeta((8, 8), F32))
    h = g.call("matmul", x, w)
    m = g.call("max", h, axis=(1,), keepdims=True)
    shifted = g.call("subtract", h, m)
    e = g.call("exp", shifted)
    half = g.call("divide", x, 2.0)
    out = g.call("setitem", x, Ellipsis, half)
    g.set_outputs([e, out])
    text = to_dot(g, fuse(g))
    groups = sorted(sorted(members) for members in clusters(text).values())
    assert groups == sorted([sorted([m.name, shifted.name, e.name]), sorted([half.name, out.name])])
    assert f'"{h.name}" [label="%{h.name} = matmul\\nf32[4, 8]", style=dashed];' in text
    assert f'"{x.name}" -> "{h.name}";' in text and f'"{e.name}" -> "output 0";' in text
    assert text.count("{") == text.count("}") and text.startswith('digraph "f" {')


def test_without_a_kernel_graph_there_are_no_clusters():
    g = Graph("g")
    x = g.add_input("x", TensorMeta((3,), F32))
    g.set_outputs([g.call("negative", x)])
    text = to_dot(g)
    assert "subgraph" not in text and '"x" -> "0";' in text
