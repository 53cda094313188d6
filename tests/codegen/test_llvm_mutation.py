"""setitem and aliasing: writes land in the caller's arrays, in program order, safely."""
from __future__ import annotations

import re

import numpy as np
import pytest
from ember.ir import Graph, TensorMeta

F32 = np.dtype("float32")


def test_augmented_assignment_writes_in_place(differential, values):
    g = Graph()
    x = g.add_input("x", TensorMeta((37,), F32))
    s = g.call("setitem", x, Ellipsis, g.call("add", x, 1.0))
    g.set_outputs([s])
    artifact = differential(g, lambda: [values(F32, (37,), 1)])
    assert "setitem" in str(artifact.kernel_graph.kernels[0])  # written straight into x


def test_an_in_place_write_goes_through_the_loads_pointer_and_vectorizes(differential, values):
    """x[...] = x / x.sum(axis=1, keepdims=True): one kernel reads x and writes it; the store
    uses the load's pointer (one address per element), so the loop vectorizes instead of
    checking two pointers to the same memory for overlap and running the scalar loop."""
    g = Graph()
    x = g.add_input("x", TensorMeta((8, 67), F32))
    total = g.call("sum", x, axis=(1,), keepdims=True)
    g.set_outputs([g.call("setitem", x, Ellipsis, g.call("divide", x, total))])
    artifact = differential(g, lambda: [values(F32, (8, 67), 4) + 10])
    (store,) = [st for k in artifact.kernel_graph.kernels for st in k.stores if st.setitem is not None]
    assert store.reads is x
    optimized = artifact.llvm_ir(optimized=True)
    # vectorized at the host's width (8 lanes with AVX2, 16 with AVX-512), with no run-time overlap check
    assert re.search(r"fdiv <(8|16) x float>", optimized) and "conflict" not in optimized


def test_overlapping_read_goes_through_a_temporary(differential, values):
    """y[:k] = y[:k] + np.flip(y[:k]) reads elements the kernel would already have written."""
    g = Graph()
    y = g.add_input("y", TensorMeta((20,), F32))
    head = g.call("getitem", y, (slice(None, 11),))
    s = g.call("setitem", y, (slice(None, 11),), g.call("add", head, g.call("flip", head)))
    g.set_outputs([s])
    artifact = differential(g, lambda: [values(F32, (20,), 2)])
    assert not any(st.setitem is not None for k in artifact.kernel_graph.kernels for st in k.stores)


def test_read_before_write_is_not_moved_past_it(differential, values):
    g = Graph()
    x = g.add_input("x", TensorMeta((5, 6), F32))
    before = g.call("multiply", x, 2.0)
    source = g.call("getitem", x, (slice(None), slice(3, 5)))
    g.call("setitem", x, (slice(None), slice(1, 3)), g.call("negative", source))
    after = g.call("add", before, x)
    g.set_outputs([after, before])
    differential(g, lambda: [values(F32, (5, 6), 3)])


def test_row_normalisation_in_place(differential, values):
    """x /= x.sum(axis=1, keepdims=True): the reduction pass reads a row before it is written."""
    g = Graph()
    x = g.add_input("x", TensorMeta((9, 31), F32))
    total = g.call("sum", x, axis=(1,), keepdims=True)
    s = g.call("setitem", x, Ellipsis, g.call("divide", x, total))
    g.set_outputs([s, total])
    differential(g, lambda: [np.abs(values(F32, (9, 31), 4)) + 1], {F32: (1e-5, 1e-6)})


def test_write_into_a_strided_view_with_cast(differential, values):
    g = Graph()
    a = g.add_input("a", TensorMeta((8, 10), np.dtype("int32")))
    b = g.add_input("b", TensorMeta((4, 10), np.dtype("int16")))
    g.call("setitem", a, (slice(None, None, 2),), g.call("multiply", b, 3))
    g.set_outputs([a])
    differential(g, lambda: [values(np.dtype("int32"), (8, 10), 5), values(np.dtype("int16"), (4, 10), 6)])


def test_float_into_int_destination_runs_through_numpy(differential, values):
    g = Graph()
    a = g.add_input("a", TensorMeta((6,), np.dtype("int64")))
    x = g.add_input("x", TensorMeta((6,), F32))
    g.call("setitem", a, Ellipsis, g.call("multiply", x, 10.0))
    g.set_outputs([a])
    differential(g, lambda: [values(np.dtype("int64"), (6,), 1), values(F32, (6,), 2)])


def test_chain_of_updates_and_views_returned(differential, values):
    g = Graph()
    x = g.add_input("x", TensorMeta((12,), F32))
    first = g.call("getitem", x, (slice(None, 6),))
    g.call("setitem", x, (slice(None, 6),), g.call("multiply", first, 2.0))
    rest = g.call("getitem", x, (slice(6, None),))
    g.call("setitem", x, (slice(6, None),), g.call("add", rest, g.call("sum", x)))
    g.set_outputs([g.call("getitem", x, (slice(None, None, -1),)), g.call("exp", x)])
    differential(g, lambda: [values(F32, (12,), 7)], {F32: (1e-5, 1e-5)})


def test_same_array_twice_after_update(differential, values):
    g = Graph()
    x = g.add_input("x", TensorMeta((7, 7), F32))
    t = g.call("transpose", x)
    g.call("setitem", x, Ellipsis, g.call("add", x, t))  # x += x.T reads what it writes: temporary
    g.set_outputs([x])
    differential(g, lambda: [values(F32, (7, 7), 8)])


def test_update_of_a_value_computed_by_the_same_chain(differential, values):
    """acc = acc + x; acc -= 4: the destination is a kernel's own result, not an input."""
    g = Graph()
    x = g.add_input("x", TensorMeta((3,), np.dtype("float64")))
    acc = g.call("add", g.call("multiply", x, 3), x)
    first = g.call("setitem", acc, Ellipsis, g.call("subtract", acc, 4))
    second = g.call("setitem", first, (slice(None, None, -1),), g.call("subtract", first, 2))
    g.set_outputs([second])
    differential(g, lambda: [values(np.dtype("float64"), (3,), 1)])


def test_a_reduction_kernel_writes_in_place_in_its_last_pass(differential, values):
    """x[...] = x + sin(x) next to s = x + sin(x).sum(): the store's value is known in the first
    pass, and the second reads x again for s. Found by test_llvm_property: written in the first
    pass, the second read the new x. The write waits for the last pass."""
    g = Graph()
    x = g.add_input("x", TensorMeta((2,), F32))
    wave = g.call("sin", x)
    shifted = g.call("add", x, g.call("sum", wave, axis=None, keepdims=False))
    s = g.call("setitem", x, Ellipsis, g.call("add", x, wave))
    g.set_outputs([shifted, s, g.call("sin", x)])
    artifact = differential(g, lambda: [values(F32, (2,), 5)])
    reducing = [k for k in artifact.kernel_graph.kernels if k.reduce_axes]
    assert reducing and any(st.setitem is not None for k in reducing for st in k.stores)


def test_a_reshape_of_a_result_from_a_fortran_ordered_input_copies_as_in_eager():
    """Kernel outputs take the memory order NumPy gives them (codegen/layouts.py): exp of a
    Fortran-ordered array is Fortran-ordered, so its reshape is a copy, and writing through it
    leaves the result alone, as in eager (it changed the result when outputs were always C)."""
    import ember

    def program(x):
        v = np.exp(x)
        flat = v.reshape(-1)
        flat[0] = 5.0
        return v

    x = np.asfortranarray(np.random.default_rng(1).standard_normal((2, 3)))
    report = ember.explain(program, backend="llvm")(x.copy(order="K"))
    assert report.graph_count == 1 and report.break_count == 0
    got = ember.compile(program, backend="llvm")(x.copy(order="K"))
    np.testing.assert_array_equal(got, program(x.copy(order="K")))


LAYOUTS = {
    "fortran": lambda rng: np.asfortranarray(rng.standard_normal((3, 4))),
    "fortran 3-d": lambda rng: np.asfortranarray(rng.standard_normal((2, 3, 4))),
    "fortran with a 1": lambda rng: np.asfortranarray(rng.standard_normal((1, 3, 4))),
    "permuted": lambda rng: rng.standard_normal((2, 3, 4)).transpose(1, 2, 0),
    "c": lambda rng: rng.standard_normal((3, 4)),
    "strided": lambda rng: rng.standard_normal((3, 8))[:, ::2],
    "reversed": lambda rng: rng.standard_normal((3, 4))[::-1],
}
BODIES = {
    "exp": lambda x: np.exp(x),
    "chain": lambda x: x * x + 1.0,
    "disagreeing operands": lambda x: x + np.ascontiguousarray(x),
    "reduction": lambda x: np.exp(x).sum(axis=1),
    "softmax-like": lambda x: np.exp(x - x.max(axis=-1, keepdims=True)),
    "of a transpose": lambda x: np.exp(x.T),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("body", BODIES)
def test_outputs_are_laid_out_as_numpys(layout, body):
    """Contiguity (what decides whether a reshape copies) and strides as eager's; the stride of an
    axis of size 1 may differ (NumPy itself picks it by the path it takes)."""
    import ember

    x = LAYOUTS[layout](np.random.default_rng(0))
    fn = BODIES[body]
    got, want = ember.compile(fn, backend="llvm")(x), fn(x)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert (got.flags.c_contiguous, got.flags.f_contiguous) == (want.flags.c_contiguous, want.flags.f_contiguous)
    assert [s for s, n in zip(got.strides, got.shape, strict=True) if n > 1] == \
        [s for s, n in zip(want.strides, want.shape, strict=True) if n > 1]
