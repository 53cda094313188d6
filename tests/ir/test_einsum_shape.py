"""einsum's shape rule against NumPy itself on random subscripts and shapes: where NumPy gives a
result the rule gives its shape, and where NumPy raises the rule raises."""
from __future__ import annotations

import numpy as np
from ember.ir.ops.extern import einsum_shape
from hypothesis import given, settings
from hypothesis import strategies as st

LABELS = "abcB"


@st.composite
def einsum_calls(draw):
    sizes = {label: draw(st.integers(1, 3)) for label in LABELS}
    terms = draw(st.lists(st.text(LABELS, max_size=3), min_size=1, max_size=3))
    shapes = [tuple(sizes[c] if draw(st.integers(0, 4)) else draw(st.integers(1, 3)) for c in term)
              for term in terms]
    subscripts = ",".join(terms)
    if draw(st.booleans()):
        subscripts += "->" + "".join(draw(st.permutations(LABELS))[:draw(st.integers(0, 3))])
    return subscripts, shapes


@settings(max_examples=2000, deadline=None)
@given(einsum_calls())
def test_einsum_shape_agrees_with_numpy(call):
    subscripts, shapes = call
    try:
        expected = np.shape(np.einsum(subscripts, *(np.ones(s) for s in shapes)))
    except ValueError:
        expected = None
    try:
        got = einsum_shape(subscripts, shapes)
    except ValueError:
        got = None
    assert got == expected, (subscripts, shapes, got, expected)


def test_examples():
    assert einsum_shape("bqd,bkd->bqk", [(8, 5, 4), (8, 6, 4)]) == (8, 5, 6)
    assert einsum_shape("ij,jk", [(2, 1), (3, 4)]) == (2, 4)   # a size 1 broadcasts between operands
    assert einsum_shape("aB", [(2, 3)]) == (3, 2)              # implicit output: sorted, capitals first
    assert einsum_shape("ii", [(3, 3)]) == ()
