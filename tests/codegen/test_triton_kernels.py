"""Triton backend against the interpreter, on hand-built graphs (Triton's interpreter on CPU,
or the GPU where there is one).

Every test compiles a graph with ``ember.codegen.triton.compile_graph``, runs it and
``ember.ir.interpret`` on two identical fresh sets of inputs, and compares outputs (type,
dtype, shape, values), memory sharing with inputs, and the inputs afterwards (mutations).
On a GPU the compiled graph runs on CuPy copies of the inputs, laid out as on the host
(``OnDevice``), and what it wrote and returned comes back to the host for the comparison.
"""
from __future__ import annotations

import os
import weakref

import numpy as np
import pytest
from ember.codegen.triton.device import use_interpreter

if use_interpreter():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # before anything imports triton
pytest.importorskip("torch", reason="the triton backend's interpreter mode needs torch (CPU wheel)")
pytest.importorskip("triton", reason="triton is not installed")

from ember.codegen.triton import compile_graph as compile_triton  # noqa: E402
from ember.ir import Graph, TensorMeta, interpret  # noqa: E402
from ember.passes.kernels import ExternStep  # noqa: E402

TOLERANCE = {np.dtype("float16"): (2e-3, 1e-3), np.dtype("float32"): (2e-6, 1e-6),
             np.dtype("float64"): (1e-13, 1e-13)}
REDUCTION_TOLERANCE = {np.dtype("float16"): (1e-2, 1e-2), np.dtype("float32"): (2e-5, 2e-5),
                       np.dtype("float64"): (1e-11, 1e-11)}
F16, F32, F64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")


class OnDevice:
    """A compiled graph run on the GPU for host arrays: each input's memory (its base array,
    copied whole, so strides, offsets and sharing stay as they are) goes to the device, and
    back after the call; outputs come back as host arrays, host views of inputs, or the
    inputs themselves, as the device's outputs were."""

    def __init__(self, artifact):
        import cupy

        self.artifact, self.cupy = artifact, cupy
        self.scalar_outputs = [node.meta.is_scalar for node in artifact.kernel_graph.graph.outputs]

    def __getattr__(self, name):  # (describe(), kernel_graph, ...: the artifact's)
        return getattr(self.artifact, name)

    def __call__(self, inputs):
        cupy = self.cupy
        bases = {}  # id(host base) -> (host base, its device copy)
        device_inputs = []
        for value in inputs:
            if not isinstance(value, np.ndarray):
                device_inputs.append(value)
                continue
            base = value
            while isinstance(base.base, np.ndarray):
                base = base.base
            assert base.flags.c_contiguous, "OnDevice copies C-ordered owners of memory only"
            if id(base) not in bases:
                bases[id(base)] = (base, cupy.asarray(np.ascontiguousarray(base)))
            host, device = bases[id(base)]
            offset = value.__array_interface__["data"][0] - host.__array_interface__["data"][0]
            device_inputs.append(cupy.ndarray(value.shape, value.dtype, device.data + offset, value.strides))
        outputs = self.artifact(device_inputs)
        for host, device in bases.values():
            if host.flags.writeable:
                host[...] = cupy.asnumpy(device).reshape(host.shape)
        return [self._to_host(out, scalar, inputs, device_inputs, bases)
                for out, scalar in zip(outputs, self.scalar_outputs, strict=True)]

    def _to_host(self, out, scalar, inputs, device_inputs, bases):
        if not isinstance(out, self.cupy.ndarray):
            return out
        for host_input, device_input in zip(inputs, device_inputs, strict=True):
            if out is device_input:
                return host_input
        for host, device in bases.values():
            offset = out.data.ptr - device.data.ptr
            if 0 <= offset < device.nbytes:
                return np.ndarray(out.shape, out.dtype, host, offset, out.strides)
        host = self.cupy.asnumpy(out)
        return host[()] if scalar else host


def compile_graph(graph, **options):
    artifact = compile_triton(graph, **options)
    return artifact if use_interpreter() else OnDevice(artifact)


@pytest.fixture(params=["whole rows", "column loops"])
def loops(request, monkeypatch):
    """Run a test with both variants of the reduction kernels: rows loaded once where they fit
    one block of columns (the default), and every pass looping over the columns."""
    if request.param == "column loops":
        from ember.codegen.triton.device import CupyDevice, HostDevice

        monkeypatch.setattr(HostDevice, "whole_rows", 0)
        monkeypatch.setattr(CupyDevice, "whole_rows", 0)
    return request.param


@pytest.fixture
def differential(differential):
    """The conftest oracle on this backend, with its tolerances."""
    def run(graph, make_inputs, tolerance=TOLERANCE):
        return differential(graph, make_inputs, tolerance, compile_graph=compile_graph)
    return run


def graph_of(metas, build):
    g = Graph()
    xs = [g.add_input(f"x{i}", m) for i, m in enumerate(metas)]
    outs = build(g, *xs)
    g.set_outputs(list(outs) if isinstance(outs, list | tuple) else [outs])
    return g


# ---------------------------------------------------------------- elementwise

UNARY_FLOAT = ["negative", "absolute", "exp", "log", "sqrt", "sin", "cos", "tanh", "exp2", "log2", "log1p",
               "expm1", "floor", "ceil", "square", "reciprocal", "sign", "isnan", "isfinite", "arctan", "rint",
               "deg2rad", "rad2deg"]


@pytest.mark.parametrize("dtype", [F32, F64, F16], ids=str)
def test_unary_float(differential, values, dtype):
    def build(g, x):
        return [g.call(op, x) for op in UNARY_FLOAT]
    special = np.array([0.0, -0.0, 1.0, -1.0, 0.5, np.inf, -np.inf, np.nan], dtype)

    def make():
        x = values(dtype, (3, 40), 1)
        x.flat[:len(special)] = special
        return [x]
    artifact = differential(graph_of([TensorMeta((3, 40), dtype)], build), make)
    assert len(artifact.kernel_graph.kernels) >= 1
    assert not any(isinstance(s, ExternStep) and s.node.op.kind.value == "elementwise"
                   for s in artifact.kernel_graph.steps)


BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "fmax", "fmin", "equal", "less",
          "greater_equal", "not_equal", "logical_and", "arctan2", "hypot", "power", "copysign"]


@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
def test_binary_float_with_broadcast_and_constants(differential, values, dtype):
    def build(g, x, y):
        outs = [g.call(op, x, y) for op in BINARY]
        outs += [g.call("multiply", x, 0.7978845608), g.call("add", 1, y), g.call("maximum", x, np.nan)]
        outs += [g.call("where", g.call("less", x, 0.0), x, 2.5), g.call("clip", x, -1.0, 1.0)]
        return outs

    def make():
        x, y = values(dtype, (4, 33), 2), np.abs(values(dtype, (33,), 3))
        x[0, :4] = [np.nan, np.inf, -np.inf, 0.0]
        return [x, y]
    differential(graph_of([TensorMeta((4, 33), dtype), TensorMeta((33,), dtype)], build), make)


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-1.0, -0.0), (np.nan, 1.0), (0.0, None)], ids=str)
def test_clip_by_scalars_keeps_numpys_signed_zeros(low, high):
    """NumPy's clip by two scalars keeps x on a tie (-0.0 clipped to [0, 1] stays -0.0), where a
    maximum gives +0.0 on a GPU; by one it is np.maximum or np.minimum; a NaN bound wins."""
    g = graph_of([TensorMeta((40,), F32)], lambda g, x: g.call("clip", x, low, high))
    values = np.resize(np.array([-0.0, 0.0, 1.0, -1.0, np.nan, 0.5, np.inf, -np.inf], F32), 40)
    with np.errstate(invalid="ignore"):
        (got,), want = compile_graph(g)([values.copy()]), np.clip(values, low, high)
    np.testing.assert_array_equal(np.asarray(got), want)
    if high is not None:  # (a lone bound is np.maximum's tie, which the device decides)
        np.testing.assert_array_equal(np.signbit(np.asarray(got)), np.signbit(want))


@pytest.mark.parametrize("op", ["less", "less_equal", "greater", "greater_equal", "equal", "not_equal"])
@pytest.mark.parametrize("signed", ["int8", "int64"])
def test_signed_against_uint64_compares_exactly(op, signed):
    """NumPy compares int64 with uint64 exactly; Triton's own ``<`` made both unsigned (-1 was
    2**64 - 1, so ``-1 < 2**64 - 1`` was False)."""
    g = graph_of([TensorMeta((6,), np.dtype(signed)), TensorMeta((6,), np.dtype("uint64"))],
                 lambda g, a, b: [g.call(op, a, b), g.call(op, b, a)])
    a = np.array([-1, 5, -3, 0, 7, -128], signed)
    b = np.array([2**64 - 1, 3, 2**64 - 3, 0, 7, 2**63], np.uint64)
    got = compile_graph(g)([a, b])
    np.testing.assert_array_equal(np.asarray(got[0]), getattr(np, op)(a, b))
    np.testing.assert_array_equal(np.asarray(got[1]), getattr(np, op)(b, a))


def test_python_floats_round_to_float16_first():
    """A Python float next to float16 values is a float16 (NEP 50): 0.1 rounds to 0.0999755859375
    before the float32 arithmetic, so x < 0.1 is False for x = float16(0.1)."""
    x = np.array([0.1, 0.2, 1000.0, 3.0], F16)
    g = graph_of([TensorMeta((4,), F16)], lambda g, v: [g.call("less", v, 0.1), g.call("multiply", v, 1e-8),
                                                       g.call("subtract", g.call("add", v, 70000.0), 70000.0)])
    with np.errstate(all="ignore"):
        got = compile_graph(g)([x])
        want = [x < 0.1, x * 1e-8, x + 70000.0 - 70000.0]
    for mine, theirs in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(mine), theirs)


@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
def test_sign_of_zero_and_square_roots_by_power(dtype):
    """np.sign(-0.0) is +0.0; x ** 0.5 by a constant is NumPy's sqrt (-inf gives NaN, -0.0 stays -0.0)."""
    x = np.array([-0.0, 0.0, -np.inf, 4.0, -4.0, np.nan], dtype)
    g = graph_of([TensorMeta((6,), dtype)], lambda g, v: [g.call("sign", v), g.call("power", v, 0.5)])
    artifact = compile_graph(g)
    with np.errstate(all="ignore"):
        got = artifact([x])
        want = [np.sign(x), np.power(x, 0.5)]
    for mine, theirs in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(mine), theirs)
        number = ~np.isnan(theirs)  # (a NaN's sign bit is the hardware's: x86 makes -NaN, a GPU +NaN)
        np.testing.assert_array_equal(np.signbit(np.asarray(mine))[number], np.signbit(theirs)[number])
    # (the interpreter's stand-in for pow takes NumPy's sqrt shortcut itself: only the source tells)
    assert "libdevice.pow" not in artifact.triton_source()


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "int8", "bool"])
def test_integer_and_bool(differential, values, dtype):
    dtype = np.dtype(dtype)

    def build(g, x, y):
        outs = [g.call("add", x, y), g.call("multiply", x, y), g.call("maximum", x, y), g.call("minimum", x, y),
                g.call("equal", x, y), g.call("bitwise_xor", x, y), g.call("invert", x),
                g.call("astype", x, dtype=np.dtype("float32")), g.call("sum", x, axis=(1,)),
                g.call("max", x, axis=(1,)), g.call("any", x, axis=(0,))]
        if dtype.kind != "b":
            outs += [g.call("subtract", x, y), g.call("add", x, 3), g.call("absolute", x), g.call("sign", x)]
        return outs
    make = lambda: [values(dtype, (5, 17), 4), values(dtype, (5, 17), 5)]
    differential(graph_of([TensorMeta((5, 17), dtype)] * 2, build), make)


def test_mixed_dtypes_promote_as_numpy(differential, values):
    def build(g, a, b, c):
        return [g.call("add", a, b), g.call("multiply", c, a), g.call("divide", c, c),
                g.call("astype", a, dtype=np.dtype("int16")), g.call("astype", b, dtype=np.dtype("bool"))]
    metas = [TensorMeta((50,), F32), TensorMeta((50,), F64), TensorMeta((50,), np.dtype("int32"))]
    differential(graph_of(metas, build), lambda: [values(F32, (50,), 1), values(F64, (50,), 2),
                                                  values("int32", (50,), 3)])


def test_non_contiguous_negative_stride_and_broadcast_views(differential, values):
    make = lambda: [values(F64, (30, 40), 4)[::-2, 1::3].T, values(F64, (1, 15), 5)]
    shape = make()[0].shape

    def build(g, x, y):
        return [g.call("add", g.call("exp", x), y), g.call("multiply", x, 2.0)]
    differential(graph_of([TensorMeta(shape, F64), TensorMeta((1, 15), F64)], build), make)


def test_scalar_inputs_and_outputs_keep_their_kind(differential, values):
    def build(g, x, s):
        total = g.call("sum", x)
        return [total, g.call("multiply", total, s), g.call("add", s, 1.0)]
    make = lambda: [values(F32, (64,), 6), np.float32(1.5)]
    artifact = differential(graph_of([TensorMeta((64,), F32), TensorMeta((), F32, is_scalar=True)], build), make)
    assert artifact.kernel_graph.kernels


# ---------------------------------------------------------------- reductions


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, (0,), (1,), (2,), (0, 2), (1, 2)], ids=str)
@pytest.mark.parametrize("op", ["sum", "prod", "max", "min", "mean", "any", "all"])
def test_reductions(differential, values, loops, op, axis, keepdims):
    shape = (3, 5, 19)
    g = graph_of([TensorMeta(shape, F32)], lambda g, x: g.call(op, x, axis=axis, keepdims=keepdims))
    make = lambda: [values(F32, shape, 3) if op != "prod" else (1 + values(F32, shape, 3) * 0.01).astype(F32)]
    artifact = differential(g, make, REDUCTION_TOLERANCE)
    assert artifact.kernel_graph.kernels, "the reduction should be compiled"


@pytest.mark.parametrize("op", ["sum", "prod", "max", "min", "mean", "any", "all"])
@pytest.mark.parametrize("shape, axis", [((3, 50001), (1,)), ((120, 300), None), ((40000, 2), (0,))], ids=str)
def test_long_rows_split_their_columns(differential, values, op, shape, axis):
    """A reduction of few long rows (a whole-array sum runs on one program) splits each row's
    columns over programs: partial values, then their combination and the per-row work after it."""
    def build(g, x):
        reduced = g.call(op, x, axis=axis)
        return [reduced, g.call("sqrt", g.call("absolute", reduced))] if op not in ("any", "all") else [reduced]

    # (float64 where the order of additions or products shows: NumPy's float32 loop over 40000
    # rows, or a product of 50000 factors, is further from the exact value than the kernel)
    dtype = F32 if op in ("max", "min", "any", "all") else F64

    def make():
        x = values(dtype, shape, 5, special=op in ("max", "min"))
        return [(1 + x * 1e-5).astype(dtype) if op == "prod" else x]
    artifact = differential(graph_of([TensorMeta(shape, dtype)], build), make, REDUCTION_TOLERANCE)
    launchers = artifact._launchers["interpreter" if use_interpreter() else "cuda"].values()
    assert any(launcher.split for launcher in launchers), [launcher.describe() for launcher in launchers]


def test_two_reductions_of_one_split_kernel_keep_apart(differential, values):
    """``x.max(1) + x.mean(1)`` of long rows: one kernel, two scratch arrays of partial values."""
    def build(g, x):
        return g.call("add", g.call("max", x, axis=(1,)), g.call("mean", x, axis=(1,)))
    artifact = differential(graph_of([TensorMeta((2, 40000), F64)], build), lambda: [values(F64, (2, 40000), 8)],
                            REDUCTION_TOLERANCE)
    (launcher,) = artifact._launchers["interpreter" if use_interpreter() else "cuda"].values()
    assert launcher.split is not None and len(launcher.source.partials) == 2


def test_scratch_arrays_live_until_both_split_kernels_are_launched(values):
    """On a GPU a kernel gets a bare device pointer: the launcher must hold each scratch array
    until both launches are queued, or CuPy hands freed memory to the next one."""
    from ember.codegen.triton.device import Carrier
    from ember.codegen.triton.launch import Launcher

    alive: list[weakref.ref] = []
    launches: list[bool] = []

    class PointerOnlyDevice:
        interpret, programs, whole_rows = False, 4, 0

        def empty(self, shape, dtype):
            array = np.empty(shape, dtype)
            alive.append(weakref.ref(array))
            return array

        def carrier(self, array):
            return Carrier(array.__array_interface__["data"][0], 0, tuple(s // array.itemsize for s in array.strides),
                           True)

    class Kernel:
        def __getitem__(self, grid):
            return lambda *args, **options: launches.append(all(ref() is not None for ref in alive))

    graph = graph_of([TensorMeta((2, 40000), F64)],
                     lambda g, x: g.call("add", g.call("max", x, axis=(1,)), g.call("mean", x, axis=(1,))))
    (source,) = compile_triton(graph).sources
    launcher = Launcher(source, Kernel(), PointerOnlyDevice(), {"partial": Kernel(), "combine": Kernel()})
    launcher((values(F64, (2, 40000), 8), np.empty(2)))
    assert len(alive) == 2 and launches == [True, True]


@pytest.mark.parametrize("shape, axis", [((1, 50001), (1,)), ((300, 200), None), ((6, 33), (1,))], ids=str)
def test_values_stored_beside_a_reduction_are_read_once(differential, values, loops, shape, axis):
    """``t = tanh(x * 1.1)`` stored beside ``t.sum() > 0`` (the with_break workload): the store is
    made in the reduction's pass over the columns, so long rows still split."""
    def build(g, x):
        t = g.call("tanh", g.call("multiply", x, 1.1))
        return [t, g.call("greater", g.call("sum", t, axis=axis), 0.0)]
    artifact = differential(graph_of([TensorMeta(shape, F32)], build), lambda: [values(F32, shape, 6)],
                            REDUCTION_TOLERANCE)
    (source,) = artifact.sources
    assert source.text.split("def ")[1].count("for c0 in range") == 1, source.text
    launcher = next(iter(artifact._launchers["interpreter" if use_interpreter() else "cuda"].values()))
    assert (launcher.split is not None) == (shape[0] * shape[1] > 40000), launcher.describe()


def test_a_store_a_later_pass_reads_waits_for_it(differential, values, loops):
    """Layer norm with ``d = x - mean`` also returned, written over x (an in-place update): the
    variance pass reads x, so d is stored in the last pass, after every read."""
    def build(g, x):
        mu = g.call("mean", x, axis=(1,), keepdims=True)
        d = g.call("subtract", x, mu)
        var = g.call("mean", g.call("multiply", d, d), axis=(1,), keepdims=True)
        written = g.call("setitem", x, (slice(None),), d)
        return [written, g.call("divide", d, g.call("sqrt", g.call("add", var, 1e-5)))]
    differential(graph_of([TensorMeta((5, 40), F32)], build), lambda: [values(F32, (5, 40), 7)], REDUCTION_TOLERANCE)


def test_in_place_stores_leave_what_later_values_read(differential, values):
    """``t = x + s; x[...] = s; z[...] = t`` in one kernel: t reads x as the kernel found it,
    though its load comes after the store into x in the program (it once did not)."""
    def build(g, x, z, y):
        s = g.call("multiply", y, 3.0)
        t = g.call("add", x, s)
        return [g.call("setitem", x, (slice(None),), s), g.call("setitem", z, (slice(None),), t)]
    make = lambda: [values(F32, (37,), 1), np.zeros(37, F32), values(F32, (37,), 2)]
    artifact = differential(graph_of([TensorMeta((37,), F32)] * 3, build), make)
    assert len(artifact.kernel_graph.kernels) == 1


@pytest.mark.parametrize("rows, cols", [(2, 4), (3, 20000)])
def test_in_place_stores_beside_a_reduction_leave_what_later_values_read(differential, values, loops, rows, cols):
    """``s = y.sum(1); t = x * s; x[...] = y / s; z[...] = t`` (and the per-row ``m[...] = s``
    beside ``s * m``): every value reads the memory as the kernel found it."""
    def build(g, x, z, y, m, w):
        s = g.call("sum", y, axis=(1,), keepdims=True)
        flat = g.call("sum", y, axis=(1,))
        t = g.call("multiply", x, s)
        u = g.call("multiply", flat, m)
        return [g.call("setitem", x, (slice(None),), g.call("divide", y, s)), g.call("setitem", z, (slice(None),), t),
                g.call("setitem", m, (slice(None),), flat), g.call("setitem", w, (slice(None),), u)]
    shape = (rows, cols)
    metas = [TensorMeta(shape, F64)] * 3 + [TensorMeta((rows,), F64)] * 2
    make = lambda: [values(F64, shape, 1), np.zeros(shape), values(F64, shape, 2), values(F64, (rows,), 3),
                    np.zeros(rows)]
    differential(graph_of(metas, build), make, REDUCTION_TOLERANCE)


@pytest.mark.parametrize("op", ["sum", "max", "min", "mean"])
def test_reductions_with_nan_and_inf(differential, values, loops, op):
    g = graph_of([TensorMeta((6, 33), F64)], lambda g, x: g.call(op, x, axis=(1,)))

    def make():
        x = values(F64, (6, 33), 1)
        x[0, 5], x[1, 32], x[2, 0] = np.nan, np.inf, -np.inf
        x[3, :] = -np.inf
        x[4, 7], x[4, 8] = np.inf, -np.inf
        return [x]
    differential(g, make, REDUCTION_TOLERANCE)


def test_float16_accumulates_in_float32(differential, values, loops):
    g = graph_of([TensorMeta((4, 300), F16)], lambda g, x: [g.call("sum", x, axis=(1,)), g.call("mean", x, axis=(1,))])
    artifact = differential(g, lambda: [values(F16, (4, 300), 2)], REDUCTION_TOLERANCE)
    assert "tl.float32" in artifact.triton_source()


@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 7), (5, 300), (2, 5000)])
def test_softmax_and_layernorm_fuse_into_one_kernel_each(differential, values, loops, softmax, layernorm, rows, cols):
    def build(g, x, w, b):
        return [softmax(g, x), layernorm(g, x, w, b)]
    metas = [TensorMeta((rows, cols), F32), TensorMeta((cols,), F32), TensorMeta((cols,), F32)]
    make = lambda: [values(F32, (rows, cols), 1), values(F32, (cols,), 2), values(F32, (cols,), 3)]
    artifact = differential(graph_of(metas, build), make, REDUCTION_TOLERANCE)
    assert len(artifact.kernel_graph.kernels) <= 2
    assert "tl.sum" in artifact.triton_source() and "tl.reduce" in artifact.triton_source()


# ---------------------------------------------------------------- mutation, fallbacks, stages


def test_setitem_writes_into_the_callers_array(differential, values):
    def build(g, a, b):
        view = g.call("getitem", a, (slice(1, -1), slice(None, None, 2)))
        value = g.call("add", g.call("multiply", view, 2.0), b)
        return g.call("setitem", a, (slice(1, -1), slice(None, None, 2)), value)
    metas = [TensorMeta((6, 10), F64), TensorMeta((5,), F64)]
    artifact = differential(graph_of(metas, build), lambda: [values(F64, (6, 10), 1), values(F64, (5,), 2)])
    assert artifact.kernel_graph.kernels


@pytest.mark.parametrize("row", [0, 3, -1])
def test_a_row_at_an_index_read_at_run_time(differential, values, row):
    """An index that is a graph input (a Python int read at run time) makes a view as a constant
    index does: the row is read and written in place."""
    def build(g, a, i):
        value = g.call("tanh", g.call("multiply", g.call("getitem", a, (i,)), 2.0))
        return g.call("setitem", a, (i,), value)
    metas = [TensorMeta((6, 10), F32), TensorMeta((), np.dtype(np.int64), is_scalar=True)]
    differential(graph_of(metas, build), lambda: [values(F32, (6, 10), 1), np.int64(row)])


def test_in_place_update_of_a_transposed_input(differential, values):
    def build(g, a):
        return g.call("setitem", a, Ellipsis, g.call("tanh", a))
    make = lambda: [values(F32, (9, 7), 3).T]
    differential(graph_of([TensorMeta((7, 9), F32)], build), make)


def test_unsupported_nodes_run_through_numpy(differential, values):
    def build(g, x, m):
        return [g.call("var", x, axis=(1,)), g.call("floor_divide", x, 0.7), g.call("matmul", x, m),
                g.call("argmax", x, axis=1), g.call("exp", g.call("matmul", x, m)),
                g.call("concatenate", (x, x), axis=0)]
    metas = [TensorMeta((4, 6), F64), TensorMeta((6, 3), F64)]
    artifact = differential(graph_of(metas, build), lambda: [values(F64, (4, 6), 1), values(F64, (6, 3), 2)])
    reasons = [s.reason for s in artifact.kernel_graph.steps if isinstance(s, ExternStep)]
    assert any("extern" in r for r in reasons)


def test_empty_arrays_fall_back_to_numpy(differential, values):
    g = graph_of([TensorMeta((0, 5), F32)], lambda g, x: [g.call("exp", x), g.call("sum", x, axis=(0,))])
    artifact = differential(g, lambda: [values(F32, (0, 5), 1)])
    assert not artifact.kernel_graph.kernels


def test_one_kernel_source_serves_every_batch_size(values, softmax):
    def compile_for(rows):
        return compile_graph(graph_of([TensorMeta((rows, 64), F32)], softmax))
    small, large = compile_for(2), compile_for(9)
    assert small.module_text == large.module_text  # sizes and strides are run-time arguments
    assert "(2, 64)" in small.triton_source() and "(9, 64)" in large.triton_source()
    for artifact, rows in ((small, 2), (large, 9)):
        x = values(F32, (rows, 64), 1)
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(artifact([x])[0], interpret(artifact.kernel_graph.graph, [x])[0], rtol=1e-5)
    device = "interpreter" if use_interpreter() else "cuda"
    assert small._launchers[device]["_k0"].function is large._launchers[device]["_k0"].function


def test_describe_and_source_are_readable():
    artifact = compile_graph(graph_of([TensorMeta((8,), F32)], lambda g, x: g.call("exp", g.call("multiply", x, 2.0))))
    assert "kernel k0" in artifact.describe() and "def run(inputs):" in artifact.describe()
    source = artifact.triton_source()
    assert "@triton.jit" in source and "def k0(" in source and "tl.load" in source and "tl.store" in source
    compile(source, "<kernels>", "exec")
