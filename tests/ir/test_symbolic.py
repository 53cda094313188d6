"""Dynamic dimensions in the IR: what a Dim answers, and shape rules run on symbols.

The property test is the soundness argument in executable form: a meta inferred on symbols,
with each symbol then replaced by any size the symbol's guard admits, equals the meta NumPy's
own rule gives on those sizes; and when the symbolic rule raises, nothing is claimed.
"""
from __future__ import annotations

import numpy as np
import pytest
from ember.ir import OPS, Dim, SymbolicShapeError, TensorMeta, infer_meta
from hypothesis import given, settings
from hypothesis import strategies as st

F32 = np.dtype("float32")


def test_a_dim_equals_only_itself_and_refuses_arithmetic():
    s0, s1 = Dim("s0", 8), Dim("s1", 8)
    assert s0 == s0 and s0 != s1 and s0 != 8 and s0 != 1 and s0 != 0
    assert (s0, 4) == (s0, 4) and (s0, 4) != (s1, 4)
    for question in (lambda: s0 * 4, lambda: s0 + 1, lambda: s0 > 3, lambda: int(s0), lambda: range(s0),
                     lambda: bool(s0), lambda: TensorMeta((s0, 4), F32).size):
        with pytest.raises(SymbolicShapeError):
            question()


def test_shifted_dims_are_one_object_per_offset_and_raise_the_minimum():
    s0 = Dim("s0", 10)
    assert s0.shifted(-2) is s0.shifted(-1).shifted(-1) and repr(s0.shifted(-2)) == "s0 - 2"
    assert s0.shifted(-2).shifted(2) is s0
    assert s0.minimum == 4  # s0 - 2 must stay >= 2
    s0.shifted(-3).require(5)
    assert s0.minimum == 8
    with pytest.raises(SymbolicShapeError):  # traced at 10: an 11-row minimum cannot have held
        s0.require(11)


def test_rules_on_symbols():
    s0, s1 = Dim("s0", 64), Dim("s1", 32)
    x = TensorMeta((s0, s1), F32)
    assert infer_meta(OPS["sum"], (x,), {"axis": (1,), "keepdims": True}).shape == (s0, 1)
    assert infer_meta(OPS["add"], (x, TensorMeta((s1,), F32)), {}).shape == (s0, s1)
    assert infer_meta(OPS["matmul"], (x, TensorMeta((s1, 16), F32)), {}).shape == (s0, 16)
    assert infer_meta(OPS["transpose"], (x, None), {}).shape == (s1, s0)
    assert infer_meta(OPS["reshape"], (TensorMeta((s0, 32), F32), (-1, 2, 16)), {}).shape == (s0, 2, 16)
    assert infer_meta(OPS["getitem"], (x, (slice(1, -1), 0)), {}).shape == (s0.shifted(-2),)
    z = TensorMeta((s0, 16, 4), F32)
    assert infer_meta(OPS["reshape"], (z, (-1, 4)), {}).shape == (s0.times(16), 4)
    assert repr(s0.times(16)) == "16*s0" and s0.times(16).shifted(-2) is s0.derived(16, -2)
    assert infer_meta(OPS["concatenate"], ((x, x),), {"axis": 0}).shape == (s0.times(2), s1)
    assert infer_meta(OPS["reshape"], (TensorMeta((s0.times(16), 4), F32), (s0, 16, 4)), {}).shape == (s0, 16, 4)


def test_views_of_three_dynamic_dimensions_stay_dynamic():
    """Their stand-in sizes multiply past what NumPy allocates: the shape comes from a stand-in of
    zero-byte elements (NumPy's own rule), for views that may copy or grow too."""
    s0, s1, s2 = Dim("s0", 4), Dim("s1", 5), Dim("s2", 6)
    x = TensorMeta((s0, s1, s2), F32)
    assert infer_meta(OPS["transpose"], (x, (2, 0, 1)), {}).shape == (s2, s0, s1)
    assert infer_meta(OPS["broadcast_to"], (TensorMeta((s0, 1, s2), F32), (s0, s1, s2)), {}).shape == (s0, s1, s2)
    assert infer_meta(OPS["reshape"], (x, (s0, s1, s2, 1)), {}).shape == (s0, s1, s2, 1)
    with pytest.raises(SymbolicShapeError):   # s0 * s1 * s2 elements: not affine
        infer_meta(OPS["ravel"], (x,), {})


@pytest.mark.parametrize("shape", [("s0", "s1"), ("s1", "s0"), ("s0", 5), (5, "s0"), ("s0", 1000)])
def test_a_size_that_is_the_smaller_of_two_is_not_taken_for_affine(shape):
    """A diagonal has min(rows, columns) elements: s0 while the markers keep their order, 5 while
    they stay above 5; the run at the smallest admitted sizes (in reverse order) tells."""
    dims = {"s0": Dim("s0", 6), "s1": Dim("s1", 7)}
    x = TensorMeta(tuple(dims.get(d, d) for d in shape), F32)
    with pytest.raises(SymbolicShapeError, match="not affine"):
        infer_meta(OPS["diagonal"], (x, 0, 0, 1), {})


def test_a_diagonal_of_dynamic_sizes_compiles_them_static_and_right():
    import ember

    compiled = ember.compile(lambda x: np.diagonal(x) * 2.0, dynamic=True)
    for shape in ((6, 5), (3, 5), (7, 4)):   # the first compile read the diagonal as 6 rows long
        x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
        np.testing.assert_array_equal(compiled(x), np.diagonal(x) * 2.0)


@pytest.mark.parametrize("op, args, kwargs", [
    ("reshape", "flat", {}),                          # s0 * s1: not affine
    ("getitem", "straddling", {}),                    # x[-3:10]: 10 - (s0 - 3) rows, clamped
    ("getitem", "strided", {}),                       # ceil(s0 / 2)
    ("add", "mismatch", {}),                          # s0 against a static 5: only a size decides
])
def test_rules_that_need_a_number_raise(op, args, kwargs):
    s0, s1 = Dim("s0", 64), Dim("s1", 32)
    x = TensorMeta((s0, s1), F32)
    chosen = {"parts": ((x, x),), "flat": (x, (-1,)), "straddling": (x, (slice(-3, 10),)),
              "strided": (x, (slice(None, None, 2),)),
              "mismatch": (x, TensorMeta((5, 1), F32))}[args]
    with pytest.raises(SymbolicShapeError):
        infer_meta(OPS[op], chosen, kwargs)


def test_a_bounded_slice_has_a_static_length_above_a_guarded_minimum():
    s0 = Dim("s0", 64)
    assert infer_meta(OPS["getitem"], (TensorMeta((s0, 3), F32), (slice(None, 10),)), {}).shape == (10, 3)
    assert s0.minimum == 10
    assert infer_meta(OPS["getitem"], (TensorMeta((s0,), F32), (slice(-40, -2),)), {}).shape == (38,)
    assert s0.minimum == 40
    with pytest.raises(SymbolicShapeError):  # the traced size is below what the slice needs
        infer_meta(OPS["getitem"], (TensorMeta((s0,), F32), (slice(None, 65),)), {})
    with pytest.raises(SymbolicShapeError):  # a bound the marker sizes cannot stand for
        infer_meta(OPS["getitem"], (TensorMeta((Dim("s1", 1 << 22),), F32), (slice(None, 1 << 21),)), {})


def test_a_dim_as_a_parameter_raises_except_as_a_target_shape():
    s0 = Dim("s0", 6)
    with pytest.raises(SymbolicShapeError):
        infer_meta(OPS["arange"], (s0,), {})
    assert infer_meta(OPS["zeros"], ((s0, 3),), {"dtype": F32}) == TensorMeta((s0, 3), F32)
    assert infer_meta(OPS["full"], ((s0.shifted(1), 3), 1.5), {}) == TensorMeta((s0.shifted(1), 3), np.dtype("float64"))
    x = TensorMeta((s0, 1), F32)
    assert infer_meta(OPS["broadcast_to"], (x, (s0, 5)), {}).shape == (s0, 5)
    with pytest.raises(SymbolicShapeError):  # 2*s0 rows from s0 rows: only some sizes would fit
        infer_meta(OPS["reshape"], (x, (s0.times(2), -1)), {})


INDEXES = [slice(None), slice(1, None), slice(None, -1), slice(2, -3), slice(None, None, -1), 0, 2, -1, -4,
           slice(None, 5), slice(-2, None), slice(1, None, 2), slice(2, 6), slice(-5, -2), slice(-3, 4),
           slice(6, 2), slice(-2, -5)]


@settings(max_examples=300, deadline=None)
@given(first=st.sampled_from(INDEXES), second=st.sampled_from(INDEXES), op=st.sampled_from(["getitem", "setitem"]),
       hint=st.integers(2, 12), sizes=st.lists(st.integers(0, 40), min_size=1, max_size=6))
def test_symbolic_indexing_agrees_with_numpy_wherever_the_guard_admits(first, second, op, hint, sizes):
    s0 = Dim("s0", hint)
    x = TensorMeta((s0, 7), F32)
    index = (first, slice(None)) if op == "getitem" else (first,)
    args = (x, index) if op == "getitem" else (x, index, 1.0)
    try:
        meta = infer_meta(OPS[op], args, {})
        if op == "getitem" and isinstance(meta.shape[0], Dim):
            meta = infer_meta(OPS["getitem"], (meta, (second,)), {})
    except SymbolicShapeError:
        return  # nothing claimed: the dimension is compiled static
    for size in sizes:
        if size < s0.minimum:
            continue  # the guard sends this size elsewhere
        concrete = TensorMeta((size, 7), F32)
        want = OPS[op].infer(concrete, *args[1:])
        if op == "getitem" and isinstance(infer_meta(OPS[op], args, {}).shape[0], Dim):
            want = OPS["getitem"].infer(want, (second,))
        got = tuple(d.scale * size + d.offset if isinstance(d, Dim) else d for d in meta.shape)
        assert got == want.shape, (index, second, size)


CASES = {  # name -> (op, args builder over metas x: (s0, s1), y: (s1, s0), z: (s0, 4))
    "concat0": ("concatenate", lambda x, y, z: ((x, x),), {"axis": 0}),
    "concat1": ("concatenate", lambda x, y, z: ((z, z),), {"axis": 1}),
    "concat_xy": ("concatenate", lambda x, y, z: ((x, y),), {"axis": 0}),
    "stack": ("stack", lambda x, y, z: ((z, z),), {"axis": 0}),
    "flat": ("reshape", lambda x, y, z: (z, (-1,)), {}),
    "rows": ("reshape", lambda x, y, z: (z, (-1, 2)), {}),
    "keep": ("reshape", lambda x, y, z: (z, (-1, 2, 2)), {}),
    "add_xy": ("add", lambda x, y, z: (x, y), {}),
    "add_xz": ("add", lambda x, y, z: (x, z), {}),
    "matmul_xy": ("matmul", lambda x, y, z: (x, y), {}),
    "matmul_yz": ("matmul", lambda x, y, z: (y, z), {}),
    "transpose": ("transpose", lambda x, y, z: (x, None), {}),
    "sum": ("sum", lambda x, y, z: (x,), {"axis": (0,), "keepdims": False}),
    "squeeze": ("squeeze", lambda x, y, z: (z,), {"axis": 0}),
    "broadcast_to": ("broadcast_to", lambda x, y, z: (z, (3, 5, 4)), {}),
    "flatten_rows": ("reshape", lambda x, y, z: (TensorMeta((_first(z), 4, 4), F32), (-1, 4)), {}),
    "unflatten": ("reshape", lambda x, y, z: (TensorMeta((_times(z, 4), 4), F32), (_first(z), 4, 4)), {}),
}


@settings(max_examples=300, deadline=None)
@given(case=st.sampled_from(sorted(CASES)), hints=st.tuples(st.integers(2, 9), st.integers(2, 9)),
       sizes=st.lists(st.tuples(st.integers(2, 30), st.integers(2, 30)), min_size=1, max_size=4))
def test_symbolic_rules_agree_with_numpy_at_every_admitted_size(case, hints, sizes):
    op, build, kwargs = CASES[case]
    s0, s1 = Dim("s0", hints[0]), Dim("s1", hints[1])
    try:
        meta = infer_meta(OPS[op], build(*_metas(s0, s1)), kwargs)
    except SymbolicShapeError:
        return  # nothing claimed: compiled static
    for a, b in sizes:
        if a < s0.minimum or b < s1.minimum:
            continue
        want = OPS[op].infer(*build(*_metas(a, b)), **kwargs)  # must not raise where the graph claims to hold
        values = {s0: a, s1: b}
        got = tuple(d.scale * values[d.base] + d.offset if isinstance(d, Dim) else d for d in meta.shape)
        assert got == want.shape and meta.dtype == want.dtype, (case, a, b)


def _first(meta):
    return meta.shape[0]


def _times(meta, factor):
    d = meta.shape[0]
    return d.times(factor) if isinstance(d, Dim) else d * factor


def _metas(first, second):
    return TensorMeta((first, second), F32), TensorMeta((second, first), F32), TensorMeta((first, 4), F32)


@pytest.mark.parametrize("size", [1_299_709, 1_299_709 - 3, 2 * 1_400_017 + 5, 10_007, 3 * 10_069])
def test_static_sizes_that_could_pass_for_a_symbol_are_refused(size):
    """A static size near a multiple of a marker (or a multiple of a marker step) could make the
    two runs agree by accident; such a rule is compiled static instead."""
    s0 = Dim("s0", 8)
    with pytest.raises(SymbolicShapeError):
        infer_meta(OPS["concatenate"], ((TensorMeta((s0, 2), F32), TensorMeta((size, 2), F32)),), {"axis": 0})
    assert infer_meta(OPS["concatenate"], ((TensorMeta((s0, 2), F32), TensorMeta((7, 2), F32)),),
                      {"axis": 0}).shape == (s0.shifted(7), 2)


def test_static_rules_remembered_per_argument_type():
    """Static shape rules are memoised; ``1``, ``1.0`` and ``True`` compare equal in Python but
    give NumPy different results, and so must the memo."""
    x = TensorMeta((3, 4), np.dtype("int16"))
    array = np.ones((3, 4), np.int16)
    for _ in range(2):  # the second round answers from the memo
        for value in (1, 1.0, True, np.int8(1), np.float32(1.0)):
            assert infer_meta(OPS["add"], (x, value), {}).dtype == (array + value).dtype, value
        for index in ((slice(None), 0), (slice(None), False), (slice(1, None), True)):
            assert infer_meta(OPS["getitem"], (x, index), {}).shape == array[index].shape, index
