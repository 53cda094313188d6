"""Elementwise kernels against the interpreter: every op, dtype, odd size, layout, broadcast."""
from __future__ import annotations

import platform

import numpy as np
import pytest
from ember.codegen.llvm import compile_graph
from ember.ir import Graph, TensorMeta
from ember.passes.kernels import ExternStep
from ember.runtime.threadpool import ThreadPool

FLOATS = [np.dtype("float32"), np.dtype("float64")]
INTS = [np.dtype(n) for n in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-30, -1e-30, 1e30, -1e30, np.inf, -np.inf, np.nan]


def float_values(dtype, size, seed=0, special=True):
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal(size) * 3).astype(dtype)
    if special and size:
        specials = np.array(SPECIAL, dtype=dtype)
        values[: min(size, len(specials))] = specials[: min(size, len(specials))]
    return values


def int_values(dtype, size, seed=0):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    values = rng.integers(info.min, info.max, size=size, dtype=dtype, endpoint=True)
    edges = np.array([0, 1, info.max, info.min, 2, 3] + ([-1, -2, -3] if info.min < 0 else []), dtype=dtype)
    values[: min(size, len(edges))] = edges[: min(size, len(edges))]
    return values


def values_for(dtype, size, seed=0):
    if dtype.kind == "f":
        return float_values(dtype, size, seed)
    if dtype.kind == "b":
        return np.random.default_rng(seed).random(size) < 0.5
    return int_values(dtype, size, seed)


def graph_of(op, metas, *consts, **kwargs):
    g = Graph()
    xs = [g.add_input(f"x{i}", m) for i, m in enumerate(metas)]
    g.set_outputs([g.call(op, *xs, *consts, **kwargs)])
    return g


UNARY_FLOAT = ["negative", "positive", "absolute", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1",
               "sqrt", "cbrt", "sin", "cos", "tan", "tanh", "arctan", "arcsin", "arccos", "arcsinh", "arccosh",
               "arctanh", "sinh", "cosh", "sign", "floor", "ceil", "trunc", "rint", "square", "reciprocal",
               "logical_not", "isnan", "isinf", "isfinite", "signbit", "conjugate", "deg2rad", "rad2deg"]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("op", UNARY_FLOAT)
def test_unary_float(differential, op, dtype):
    size = 67
    g = graph_of(op, [TensorMeta((size,), dtype)])
    differential(g, lambda: [float_values(dtype, size)])


BINARY = ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "fmod", "power", "maximum",
          "minimum", "fmax", "fmin", "arctan2", "hypot", "copysign", "equal", "not_equal", "less", "less_equal",
          "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "logaddexp"]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("op", BINARY)
def test_binary_float(differential, op, dtype):
    size = 200
    meta = TensorMeta((size,), dtype)
    g = graph_of(op, [meta, meta])

    def make():
        a = float_values(dtype, size, 1)
        b = float_values(dtype, size, 2, special=False)
        b[-len(SPECIAL):] = np.array(SPECIAL, dtype)  # specials meet every kind of partner
        b[:5] = [0.0, -0.0, np.inf, np.nan, -1.0]
        return [a, b]
    differential(g, make)


INT_BINARY = ["add", "subtract", "multiply", "floor_divide", "remainder", "fmod", "maximum", "minimum",
              "equal", "not_equal", "less", "greater_equal", "bitwise_and", "bitwise_or", "bitwise_xor",
              "left_shift", "right_shift", "logical_and", "logical_xor", "divide"]


@pytest.mark.parametrize("dtype", INTS, ids=str)
@pytest.mark.parametrize("op", INT_BINARY)
def test_binary_int(differential, op, dtype):
    size = 131
    meta = TensorMeta((size,), dtype)
    g = graph_of(op, [meta, meta])

    def make():
        a, b = int_values(dtype, size, 3), int_values(dtype, size, 4)
        if op in ("left_shift", "right_shift"):
            b = (np.arange(size) % (dtype.itemsize * 8 + 4)).astype(dtype)
        b[:4] = [0, 1, 0, 2] if dtype.kind == "u" else [0, -1, 0, -1]  # INT_MIN // -1, x % 0
        return [a, b]
    differential(g, make)


@pytest.mark.parametrize("dtype", INTS, ids=str)
@pytest.mark.parametrize("op", ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"])
def test_comparisons_with_python_ints_outside_the_dtype(differential, op, dtype):
    """NumPy compares an integer array with a Python int its dtype cannot hold exactly (uint8 < -1
    is False everywhere); converting the constant to the dtype would wrap it (-1 -> 255)."""
    info = np.iinfo(dtype)
    for value in (info.min - 1, info.max + 1, -1 - 2**64, 2**64, -(2**8) if info.min == 0 else 2**40):
        if info.min <= value <= info.max:
            continue
        for operands in ((0, value), (value, 0)):
            g = Graph()
            x = g.add_input("x", TensorMeta((37,), dtype))
            g.set_outputs([g.call(op, *(x if o == 0 else o for o in operands))])
            differential(g, lambda: [int_values(dtype, 37, 5)])


@pytest.mark.parametrize("dtype", INTS + [np.dtype(bool)], ids=str)
@pytest.mark.parametrize("op", ["negative", "absolute", "sign", "square", "invert", "logical_not", "isnan",
                                "floor", "positive"])
def test_unary_int_and_bool(differential, op, dtype):
    size = 45
    try:
        g = graph_of(op, [TensorMeta((size,), dtype)])
    except TypeError:
        pytest.skip(f"NumPy has no {op} for {dtype}")
    differential(g, lambda: [values_for(dtype, size)])


@pytest.mark.parametrize("size", [0, 1, 2, 7, 15, 16, 17, 31, 33, 64, 127, 1021, 65537])
def test_odd_sizes(differential, size):
    f32 = np.dtype("float32")
    g = Graph()
    x, y = g.add_input("x", TensorMeta((size,), f32)), g.add_input("y", TensorMeta((size,), f32))
    out = g.call("subtract", g.call("multiply", g.call("add", x, y), 2.0), g.call("exp", x))
    g.set_outputs([out, g.call("sin", y)])
    # a - exp(x) cancels: an ulp of exp(x) is absolute error, not relative
    differential(g, lambda: [float_values(f32, size, 5), float_values(f32, size, 6)],
                 {np.dtype("float32"): (4e-6, 1e-5)})


@pytest.mark.parametrize("shapes", [
    ((5, 7), (5, 7)), ((5, 1), (1, 7)), ((7,), (5, 7)), ((5, 7), ()), ((1,), (9,)), ((3, 1, 4), (2, 1)),
    ((0, 3), (3,)), ((2, 0, 3), (1, 3)), ((1, 1), (1, 1)), ((4, 1, 1), (1, 3, 1)), ((), ()),
])
def test_broadcasting(differential, shapes):
    f64 = np.dtype("float64")
    g = graph_of("hypot", [TensorMeta(s, f64) for s in shapes])
    differential(g, lambda: [float_values(f64, int(np.prod(s)), i).reshape(s) for i, s in enumerate(shapes)])


def test_scalar_kinds(differential):
    """NumPy scalars in, NumPy scalars out; 0-d arrays give scalars from ufuncs too."""
    f32 = np.dtype("float32")
    g = Graph()
    s = g.add_input("s", TensorMeta((), f32, is_scalar=True))
    z = g.add_input("z", TensorMeta((), f32))
    v = g.add_input("v", TensorMeta((3,), f32))
    g.set_outputs([g.call("exp", s), g.call("add", s, z), g.call("multiply", v, s), g.call("add", z, 1.0)])
    differential(g, lambda: [np.float32(0.5), np.array(2.0, f32), np.arange(3, dtype=f32)])


LAYOUTS = {
    "reversed": lambda a: a[::-1, ::-1],
    "every_other": lambda a: a[::2, 1::3],
    "transposed": lambda a: a.T,
    "column": lambda a: a[:, 3:4],
    "fortran": lambda a: np.asfortranarray(a),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_non_contiguous_inputs(differential, layout):
    f32 = np.dtype("float32")

    def make():
        a = float_values(f32, 23 * 29, 7).reshape(23, 29)
        b = float_values(f32, 23 * 29, 8).reshape(23, 29)
        return [LAYOUTS[layout](a), LAYOUTS[layout](b)]
    shape = make()[0].shape
    g = Graph()
    x, y = g.add_input("x", TensorMeta(shape, f32)), g.add_input("y", TensorMeta(shape, f32))
    g.set_outputs([g.call("add", g.call("multiply", g.call("sin", x), g.call("cos", y)), g.call("multiply", x, y))])
    # Where sin*cos and x*y cancel, the ulp or two of sin and cos (own polynomials on vector lanes,
    # libm's on the scalar rest: which elements take which depends on the layout) is all that is left.
    differential(g, make, {f32: (4e-6, 5e-7)})


def test_views_of_inputs_fold_into_strides(differential):
    f64 = np.dtype("float64")
    g = Graph()
    a = g.add_input("a", TensorMeta((41, 37), f64))
    parts = [g.call("getitem", a, index) for index in [
        (slice(1, -1), slice(1, -1)), (slice(None, -2), slice(1, -1)), (slice(2, None), slice(1, -1)),
        (slice(1, -1), slice(None, -2)), (slice(1, -1), slice(2, None))]]
    total = parts[0]
    for part in parts[1:]:
        total = g.call("add", total, part)
    flipped = g.call("flip", g.call("transpose", a))
    g.set_outputs([g.call("multiply", 0.2, total), g.call("add", flipped, 1.0), flipped])
    artifact = differential(g, lambda: [float_values(f64, 41 * 37, 9).reshape(41, 37)])
    assert len(artifact.kernel_graph.kernels) == 2


@pytest.mark.parametrize("dtype", [np.dtype("float16")], ids=str)
def test_unlowered_dtypes_run_through_numpy(differential, dtype):
    g = graph_of("multiply", [TensorMeta((10,), dtype), TensorMeta((10,), dtype)])
    artifact = differential(g, lambda: [np.arange(10).astype(dtype), np.full(10, 1.5).astype(dtype)])
    assert not artifact.kernel_graph.kernels


@pytest.mark.parametrize("src", [np.dtype(n) for n in ("bool", "int8", "uint16", "int32", "uint64", "float32",
                                                        "float64")], ids=str)
@pytest.mark.parametrize("dst", [np.dtype(n) for n in ("bool", "int8", "uint8", "int64", "float32", "float64")],
                         ids=str)
def test_astype(differential, src, dst):
    g = graph_of("astype", [TensorMeta((50,), src)], dtype=dst)
    differential(g, lambda: [values_for(src, 50, 11)])


# In range, out of every target's range, on the boundaries of the 32- and 64-bit conversions, NaN, inf.
CAST_EDGES = [np.nan, np.inf, -np.inf, 1e10, -1e10, 300.7, -1.5, -129.2, 2.0**31, -2.0**31, 2.0**31 + 5e3,
              2.0**32 + 7, 2.0**63, -2.0**63, 2.0**64, 1e19, 65535.9, 65536.0, -32769.0, 127.9, -0.9, 0.9, -0.0,
              2147483647.9, -2147483648.9, -2147483649.0, 9.2233720368547748e18, -9.223372036854778e18, 1e-30]


@pytest.mark.parametrize("src", [np.dtype("float32"), np.dtype("float64")], ids=str)
@pytest.mark.parametrize("dst", [np.dtype(n) for n in ("int8", "uint8", "int16", "uint16", "int32", "int64")],
                         ids=str)
def test_float_to_integer_casts_give_numpys_results_out_of_range_too(src, dst):
    """NumPy's float -> integer cast is C's: out of range, x86-64's truncating conversion decides
    (lowering.py ``_float_to_integer``); bit for bit NumPy's, contiguous and strided."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("lowered on x86-64 only")
    x = np.repeat(np.array(CAST_EDGES * 9, src), 2)
    for values in (x, x[::2], x[::-2]):  # contiguous, strided, reversed
        artifact = compile_graph(graph_of("astype", [TensorMeta(values.shape, src)], dtype=dst))
        assert not any(isinstance(step, ExternStep) for step in artifact.kernel_graph.steps)
        (got,) = artifact([values])
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(got, values.astype(dst), err_msg=f"{src} -> {dst}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16], ids=lambda d: np.dtype(d).name)
def test_radians_degrees_and_fabs_fuse_as_numpys_loops(dtype):
    """np.radians/np.degrees are other ufunc objects for deg2rad/rad2deg's loops, np.fabs is
    absolute's on floats: one kernel, bit for bit NumPy's (the factor rounded to the dtype)."""
    import ember

    def angles(x):
        return np.degrees(np.fabs(x)) - np.radians(x) * 3

    if np.dtype(dtype).kind == "f":
        with np.errstate(over="ignore"):  # -1e300 is -inf in float32
            x = np.concatenate([float_values(np.float64, 301) * 100, [720.0, -1e300, 1e-310]]).astype(dtype)
    else:
        x = int_values(np.dtype(dtype), 304)
    compiled = ember.compile(angles, backend="llvm", fullgraph=True)
    for values in (x, x[::-3]):
        with np.errstate(over="ignore", invalid="ignore"):
            got, want = compiled(values), angles(values)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    on_integers = [] if np.dtype(dtype).kind == "f" else ["ufunc_call"]  # fabs(int16): NumPy's, in float32
    for entry in compiled.entries:
        assert [s.node.op.name for s in entry.kernel_graph.steps if isinstance(s, ExternStep)] == on_integers


def test_float_to_uint32_and_uint64_stay_numpys():
    """Out of range, NumPy's own loops disagree with each other there: no lowering to copy."""
    for dst in ("uint32", "uint64"):
        g = graph_of("astype", [TensorMeta((10,), np.dtype("float64"))], dtype=np.dtype(dst))
        assert not compile_graph(g).kernel_graph.kernels


def test_where_clip_round_copy(differential):
    f32 = np.dtype("float32")
    g = Graph()
    x, y = g.add_input("x", TensorMeta((64,), f32)), g.add_input("y", TensorMeta((64,), f32))
    cond = g.call("greater", x, y)
    g.set_outputs([g.call("where", cond, x, 0.0), g.call("clip", x, -1.0, 1.0), g.call("clip", x, None, y),
                   g.call("round", x), g.call("copy", y), g.call("where", cond, 1, 2)])
    differential(g, lambda: [float_values(f32, 64, 12), float_values(f32, 64, 13)])


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-1.0, -0.0), (-0.0, 0.0), (0.0, None), (None, -0.0),
                                       (np.nan, 1.0), (1.0, 0.0)], ids=str)
@pytest.mark.parametrize("dtype", [np.dtype("float32"), np.dtype("float64")], ids=str)
def test_clip_by_scalars_keeps_numpys_signed_zeros(low, high, dtype):
    """NumPy's clip by two scalars keeps x on a tie (-0.0 clipped to [0, 1] stays -0.0); by one
    it is np.maximum or np.minimum, where a tie gives the bound; a NaN bound is the result."""
    g = Graph()
    x = g.add_input("x", TensorMeta((40,), dtype))
    g.set_outputs([g.call("clip", x, low, high)])
    values = np.resize(np.array([-0.0, 0.0, 1.0, -1.0, np.nan, 0.5, np.inf, -np.inf], dtype), 40)
    with np.errstate(invalid="ignore"):
        (got,), want = compile_graph(g)([values.copy()]), np.clip(values, low, high)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("low_shape, high", [((40,), 1.0), ((), 1.0), ((1,), 1.0), ((40,), None)], ids=str)
def test_clip_by_an_array_bound_gives_the_bound_on_a_tie(low_shape, high):
    """With a bound that differs per element NumPy's clip gives the bound on a tie (+0.0 for
    -0.0 against 0.0); a 0-d or one-element bound is a scalar's loop, which keeps x."""
    f64 = np.dtype("float64")
    g = Graph()
    x, low = g.add_input("x", TensorMeta((40,), f64)), g.add_input("low", TensorMeta(low_shape, f64))
    g.set_outputs([g.call("clip", x, low, high)])
    values = np.resize(np.array([-0.0, 0.0, 1.0, -1.0, np.nan, 0.5], f64), 40)
    bound = np.zeros(low_shape)
    with np.errstate(invalid="ignore"):
        (got,), want = compile_graph(g)([values.copy(), bound]), np.clip(values, bound, high)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_mixed_dtype_promotion(differential):
    g = Graph()
    a = g.add_input("a", TensorMeta((30,), np.dtype("int16")))
    b = g.add_input("b", TensorMeta((30,), np.dtype("float32")))
    c = g.add_input("c", TensorMeta((30,), np.dtype("uint8")))
    g.set_outputs([g.call("add", a, b), g.call("multiply", a, c), g.call("divide", a, c),
                   g.call("add", c, 3), g.call("multiply", b, 2)])
    differential(g, lambda: [int_values(np.dtype("int16"), 30, 1), float_values(np.dtype("float32"), 30, 2),
                             int_values(np.dtype("uint8"), 30, 3)])


def test_outputs_that_are_inputs_or_constants(differential):
    f32 = np.dtype("float32")
    g = Graph()
    x = g.add_input("x", TensorMeta((5,), f32))
    g.set_outputs([x, 3, g.call("transpose", x), g.call("exp", x)])
    differential(g, lambda: [np.arange(5, dtype=f32)])


def test_one_kernel_serves_every_shape():
    """Kernels are keyed by their IR text: a new size reuses the compiled function."""
    from ember.codegen.llvm import compile_graph

    f32 = np.dtype("float32")
    texts = set()
    for n in (10, 1000, 12345):
        g = Graph()
        x = g.add_input("x", TensorMeta((n, 3), f32))
        g.set_outputs([g.call("tanh", g.call("multiply", x, 2.0))])
        texts.add(compile_graph(g).llvm_ir())
    assert len(texts) == 1


@pytest.mark.parametrize("shape", [(33, 70), (1, 40), (64, 64), (5, 31, 67), (96, 65)])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int16"])
def test_operands_that_cross_the_rows_go_by_tiles(differential, shape, threads, dtype):
    """A transposed operand (its memory runs across the loop's rows) takes the tiled loops: every
    element once, at odd sizes, partial tiles (whole ones transposed in registers, for 4- and
    8-byte elements), negative strides and with the rows split between threads; the values are
    the row-by-row loops' (NumPy's)."""
    *lead, n, m = shape
    g = Graph()
    x = g.add_input("x", TensorMeta((*lead, m, n), np.dtype(dtype)))
    y = g.add_input("y", TensorMeta((*lead, n, m), np.dtype("float64")))
    axes = (*range(len(lead)), len(lead) + 1, len(lead))
    crossed = g.call("transpose", x, axes)
    g.set_outputs([g.call("add", g.call("multiply", crossed, 2), y), g.call("copy", crossed)])

    def make():
        count = m * n * max(1, int(np.prod(lead)))
        x_values = float_values(np.dtype(dtype), count, seed=1) if dtype[0] == "f" else \
            np.arange(count, dtype=dtype) * 7 % 1000
        y_values = float_values(np.dtype("float64"), count, seed=2)
        return [x_values.reshape((*lead, m, n)), y_values.reshape((*lead, n, m))[..., ::-1]]

    artifact = differential(g, make, pool=ThreadPool(threads), num_threads=threads, parallel_threshold=1)
    assert "tiled" in artifact.llvm_ir()


@pytest.mark.parametrize("shape", [(33, 70), (70, 33), (1, 40), (40, 1), (64, 64), (5, 31, 67)])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_operands_that_all_cross_the_rows_go_column_by_column(differential, shape, threads):
    """Every operand laid out across the rows (a transposed input; NumPy lays the output out as
    it): column by column, the columns shared out between threads; every element once."""
    *lead, n, m = shape
    g = Graph()
    x = g.add_input("x", TensorMeta((*lead, m, n), np.dtype("float32")))
    column = g.add_input("c", TensorMeta((n, 1), np.dtype("float32")))
    axes = (*range(len(lead)), len(lead) + 1, len(lead))
    crossed = g.call("transpose", x, axes)
    g.set_outputs([g.call("add", g.call("multiply", crossed, 2.0), column), g.call("negative", crossed)])

    def make():
        values = float_values(np.dtype("float32"), m * n * max(1, int(np.prod(lead))), seed=1)
        return [values.reshape((*lead, m, n))[..., ::-1, :], float_values(np.dtype("float32"), n, seed=2)[:, None]]

    artifact = differential(g, make, pool=ThreadPool(threads), num_threads=threads, parallel_threshold=1)
    assert "columns" in artifact.llvm_ir()


@pytest.mark.parametrize(("op", "dtype", "splits"), [("exp", "float64", True), ("exp", "float32", False),
                                                      ("negative", "float64", False)])
def test_kernels_that_call_vector_math_split_from_fewer_elements(differential, op, dtype, splits):
    """``parallel_threshold`` counts elements of plain arithmetic; a float64 exp costs nine
    times as much per element and a float32 one three (wrapper.py ``MATH_CALL_COST``)."""
    size = 300
    g = graph_of(op, [TensorMeta((size,), np.dtype(dtype))])
    artifact = differential(g, lambda: [float_values(np.dtype(dtype), size)], pool=ThreadPool(2), num_threads=2,
                            parallel_threshold=size * 9)
    assert ("_pool.parallel_for" in artifact.source) == splits


@pytest.mark.parametrize("dtype", ["float32", "complex64", "float16"])
def test_python_ints_beyond_float64_precision_convert_as_numpy_does(dtype):
    """NumPy converts a Python int to a float array's type through float64 (2**63 + 2**39 + 1 ->
    2**63 + 2**39, a tie in float32 -> 2**63), not straight from the integer (-> 2**63 + 2**40)."""
    big = 2**63 + 2**39 + 1
    g = Graph()
    x = g.add_input("x", TensorMeta((3,), np.dtype(dtype)))
    g.set_outputs([g.call("add", x, big), g.call("equal", x, 2**60 + 2**36 + 1)])
    a = np.array([-2.0**63, 2.0**60, 1.0]).astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        total, same = compile_graph(g)([a])
        np.testing.assert_array_equal(total, a + big)
        np.testing.assert_array_equal(same, a == 2**60 + 2**36 + 1)
