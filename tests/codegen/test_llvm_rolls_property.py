"""Property test: programs that roll arrays and write them (in place, through views, into an
``out`` argument that may be the rolled array itself, before and after the roll's reader)
give eager's results and leave the arguments as eager does, bit for bit (passes/rolls.py)."""
from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.codegen.llvm import compile_graph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TEMPLATES = [
    "u += 0.5 * (np.roll(u, {s1}, {a1}) - np.roll(u, {s2}, {a2}))\n    return u",
    "u[1:] = np.roll(u, {s1}, {a1})[1:] + u[:-1]\n    return u",
    "w[...] = np.roll(u, {s1}, {a1}) * 2 + np.roll(w, {s2}, {a2})\n    return w",
    "r = np.roll(u, {s1}, {a1})\n    u[0] = 3\n    return r + u",
    "r = np.roll(u, {s1}, {a1}) + w\n    w += 1\n    return r * np.roll(w, {s2}, {a2})",
    "v = u * 2\n    v += np.roll(v, {s1}, {a1})\n    return v, np.roll(v, {s2}, {a2}) - w",
    "u[::2] = np.roll(u, {s1}, {a1})[::2] * 3\n    return u.sum(0) + np.roll(u, {s2}, {a2})[0]",
    "out = np.empty_like(u)\n    out[...] = np.roll(np.roll(u, {s1}, {a1}), {s2}, {a2}) - u\n    return out",
    "v = u * 2\n    return v + 0.5 * np.roll(v, {s1}, {a1})",  # v dies in the kernel that reads its roll
    "for _ in range(3):\n        u = u + np.roll(u, {s1}, {a1}) - np.roll(u, {s2}, {a2})\n    return u",
]


@st.composite
def programs(draw):
    template = draw(st.sampled_from(TEMPLATES))
    source = "def f(u, w):\n    " + template.format(
        s1=draw(st.integers(-9, 9)), s2=draw(st.integers(-9, 9)),
        a1=draw(st.sampled_from([0, 1, -1])), a2=draw(st.sampled_from([0, 1, -2])))
    shape = (draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    dtype = draw(st.sampled_from(["float64", "float32", "int64"]))
    fortran = draw(st.booleans())
    aliased = "w[...]" in template and draw(st.booleans())  # out= is the rolled array itself
    take_over = draw(st.booleans())  # memory planning at every size, not only above 1 MiB
    return source, shape, np.dtype(dtype), fortran, aliased, take_over


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_rolls_with_writes_equal_eager(program):
    source, shape, dtype, fortran, aliased, take_over = program
    defaults = compile_graph.__kwdefaults__
    saved = defaults["take_over_bytes"]
    defaults["take_over_bytes"] = 0 if take_over else saved
    try:
        check_against_eager(source, shape, dtype, fortran, aliased)
    finally:
        defaults["take_over_bytes"] = saved


def check_against_eager(source, shape, dtype, fortran, aliased):
    namespace: dict = {"np": np}
    exec(source, namespace)
    fn = namespace["f"]
    base = (np.arange(shape[0] * shape[1]).reshape(shape) % 7).astype(dtype)
    base = np.asfortranarray(base) if fortran else base

    def arguments():
        u = base.copy(order="K")
        return u, u if aliased else (u * 3 + 1).astype(dtype)

    theirs = arguments()
    try:
        expected = fn(*theirs)
    except Exception as error:  # (an int array += a float: NumPy's casting error) compiled raises it too
        with pytest.raises(type(error)):
            ember.compile(fn, backend="llvm")(*arguments())
        return
    compiled = ember.compile(fn, backend="llvm")
    for _ in range(2):
        mine = arguments()
        got = compiled(*mine)
        for e, g in zip(expected if isinstance(expected, tuple) else (expected,),
                        got if isinstance(got, tuple) else (got,), strict=True):
            assert g.dtype == e.dtype and g.shape == e.shape, source
            np.testing.assert_array_equal(g, e, err_msg=source)
        for m, t in zip(mine, theirs, strict=True):
            np.testing.assert_array_equal(m, t, err_msg=source)
