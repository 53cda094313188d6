"""np.roll read in place (passes/rolls.py): a kernel that reads rolls runs in pieces over views
of the rolled array, equal to eager bit for bit; rolls the pass cannot read so stay NumPy's."""
from __future__ import annotations

import ember
import numpy as np
import pytest


def heat(u, dt):
    lap = np.roll(u, 1, axis=0) + np.roll(u, -1, axis=0) + np.roll(u, 1, axis=1) + np.roll(u, -1, axis=1) - 4 * u
    return u + dt * lap


def shifted(u):
    return np.roll(u, 3, 0) * 2 - np.roll(u, -130, -1) + np.roll(u, 0, 1) + np.roll(u, 517, 0)


def nested(u):
    return np.roll(np.roll(u, 1, 0), -1, 1) + u


def life(g):
    n = np.roll(g, 1, 0) + np.roll(g, -1, 0) + np.roll(g, 1, 1) + np.roll(g, -1, 1)
    n = n + np.roll(np.roll(g, 1, 0), 1, 1) + np.roll(np.roll(g, 1, 0), -1, 1)
    n = n + np.roll(np.roll(g, -1, 0), 1, 1) + np.roll(np.roll(g, -1, 0), -1, 1)
    return ((n == 3) | ((g == 1) & (n == 2))).astype(np.uint8)


def heat_in_place(u, dt):
    u += dt * (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u)
    return u


def into(u, out, dt):
    out[...] = u + dt * (np.roll(u, 1, 0) + np.roll(u, -1, 0) - 2 * u)
    return out


def written_after(u):
    r = np.roll(u, 1, 0) + u
    u[0] = 5.0  # after the kernel that reads the roll
    return r


def into_fresh(u):
    out = np.zeros(u.shape)
    out[...] = np.roll(u, 1, 0) + u  # a setitem kernel that keeps its store (nothing writes u)
    return out * 1.0


def volume(v):
    return np.roll(v, 2, axis=2) - np.roll(v, -1, axis=0) + 0.5 * v


def heat_1d(u):
    return u + 0.1 * (np.roll(u, 1) + np.roll(u, -1) - 2 * u)  # no axis: a 1-D array's only one


def broadcast_row(u, row):
    return u * np.roll(row, 5, axis=1) + np.roll(row, 1, axis=0)


RNG = np.random.default_rng(0)
F64 = RNG.standard_normal((130, 257))


@pytest.mark.parametrize("fn, args", [
    (heat, (F64, 0.1)),
    (heat, (F64.astype(np.float32), 0.1)),
    (heat, (F64.T, 0.1)),                         # F-ordered
    (heat, (RNG.standard_normal((260, 402))[::-2, ::3], 0.25)),  # negative and uneven strides
    (heat, (RNG.standard_normal((1, 5)), 0.5)),                   # a single row: rolls along it are no-ops
    (shifted, (F64,)),
    (nested, (F64,)),
    (life, ((RNG.random((150, 131)) < 0.3).astype(np.uint8),)),
    (volume, (RNG.standard_normal((9, 40, 61)),)),
    (broadcast_row, (F64, RNG.standard_normal((1, 257)))),
    (heat, (RNG.standard_normal((3, 7000)), 0.5)),
    (heat, (RNG.standard_normal((4, 4)), 0.5)),
    (heat_in_place, (F64.copy(), 0.1)),           # the kernel writes a fresh array, then u[...] = it
    (into, (F64, np.zeros_like(F64), 0.1)),
    (written_after, (F64.copy(),)),
    (into_fresh, (F64,)),
    (heat_1d, (RNG.standard_normal(1001).astype(np.float32),)),
    (heat_1d, (RNG.standard_normal(3000)[::-3],)),
], ids=["heat", "heat-f32", "heat-F", "heat-negative-strides", "one-row", "shifts", "nested", "life", "3d", "broadcast",
        "short-axis", "4x4", "in-place", "into-out", "written-after",
        "into-fresh", "1d-no-axis", "1d-no-axis-strided"])
def test_rolls_read_in_place_equal_eager_bit_for_bit(fn, args):
    compiled = ember.compile(fn, backend="llvm", fullgraph=True)
    for _ in range(2):
        mine = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        theirs = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        expected, got = fn(*theirs), compiled(*mine)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
        for m, t in zip(mine, theirs, strict=True):  # the arguments written as eager writes them
            np.testing.assert_array_equal(m, t)
    assert "in place: np.roll" in compiled.entries[0].stages["kernels"]


def test_an_out_argument_that_is_the_rolled_array_itself():
    u = RNG.standard_normal((40, 30))
    mine, theirs = u.copy(), u.copy()
    np.testing.assert_array_equal(ember.compile(into, backend="llvm")(mine, mine, 0.1), into(theirs, theirs, 0.1))
    np.testing.assert_array_equal(mine, theirs)


def as_output(u):
    r = np.roll(u, 1, 0)
    return r + u, r


def written_between(u):
    v = u * 2
    r = np.roll(v, 1, 0)
    v[0] = 100.0  # the roll saw v before this write; a kernel reading it in place would see it after
    return r + v


def overwritten(a, b):
    v = a @ b
    r = np.roll(v, 1, 0)
    return r + v * 2.0  # v dies in the kernel: memory planning would write the sum over it


def heat_steps(u):
    for _ in range(4):
        u = u + 0.1 * (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u)
    return u


def reduced(u):
    return (np.roll(u, 1, 0) * u).sum(axis=1)


def flattened(u):
    return np.roll(u, 7) + u


@pytest.mark.parametrize("fn, shape", [
    (as_output, (130, 257)),      # the caller sees the rolled array
    (written_between, (130, 257)),  # the kernel would read v after the write
    (reduced, (130, 257)),        # a reduction cut in pieces
    (flattened, (130, 257)),      # axis=None
])
def test_other_rolls_stay_numpys_and_equal_eager(fn, shape):
    compiled = ember.compile(fn, backend="llvm")
    u = RNG.standard_normal(shape)
    extra = {heat: (0.1,)}.get(fn, ())
    expected = fn(u.copy(), *extra)
    got = compiled(u.copy(), *extra)
    for e, g in zip(expected if isinstance(expected, tuple) else (expected,),
                    got if isinstance(got, tuple) else (got,), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12)  # (the sum's order differs from NumPy's pairwise)
    assert "in place: np.roll" not in compiled.entries[0].stages["kernels"]


@pytest.mark.parametrize("fn, shape, extra", [
    (overwritten, (1024, 256), (512,)),  # the dead product: read rolled, so a new buffer for the sum
    (heat_steps, (300, 200), ()),        # each step's rolls of the step before (and its input dies)
])
def test_a_rolled_source_that_dies_in_its_kernel_is_read_in_place_not_written_over(fn, shape, extra):
    compiled = ember.compile(fn, backend="llvm")
    u = RNG.standard_normal(shape)
    args = [RNG.standard_normal((shape[1], n)) for n in extra]
    np.testing.assert_allclose(compiled(u.copy(), *args), fn(u.copy(), *args), rtol=1e-12)
    kernels = compiled.entries[0].stages["kernels"]
    assert "= roll(" not in kernels and "in place: np.roll" in kernels, kernels  # no NumPy roll left
    assert "-> over" not in kernels, kernels  # (the sizes are above the take-over threshold)
