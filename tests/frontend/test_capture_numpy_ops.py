"""NumPy operators and ufuncs, type promotion (NEP 50), broadcasting, dtypes and layouts."""
from __future__ import annotations

import ember
import numpy as np
import pytest

FLOATS = ("float16", "float32", "float64")
DTYPES = ("float16", "float32", "float64", "int32", "int64", "bool", "complex64", "complex128")
LAYOUTS = ("contiguous", "transposed", "strided", "reversed")

BINARY_OPERATORS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "//": lambda a, b: a // b, "%": lambda a, b: a % b, "**": lambda a, b: a ** b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}
BITWISE_OPERATORS = {
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
}
UNARY_UFUNCS = ("exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "arctan", "arcsin",
                "arccos", "sinh", "cosh", "abs", "absolute", "sign", "floor", "ceil", "square", "reciprocal",
                "negative", "isnan", "isinf", "isfinite", "logical_not", "exp2", "log2", "log10", "trunc",
                "rint", "cbrt")
BINARY_UFUNCS = ("add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "logical_and",
                 "logical_or", "logical_xor", "arctan2", "hypot", "fmax", "fmin", "copysign", "fmod",
                 "floor_divide", "remainder", "equal", "less", "greater_equal")


@pytest.mark.parametrize("symbol", list(BINARY_OPERATORS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_binary_operators(check, arr, symbol, dtype):
    op = BINARY_OPERATORS[symbol]

    def f(a, b):
        return op(a, b)

    low = 1 if symbol in ("**", "//", "%") else -3
    high = 3 if symbol == "**" else 5
    # Integer ** with an array exponent runs eagerly: NumPy raises on negative exponents.
    compiled = not (symbol == "**" and dtype.startswith("int"))
    check(f, arr((3, 4), dtype, low=low, high=high), arr((3, 4), dtype, seed=1, low=low, high=high),
          compiled=compiled)


@pytest.mark.parametrize("symbol", list(BITWISE_OPERATORS))
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_bitwise_operators(check, arr, symbol, dtype):
    if dtype == "bool" and symbol in ("<<", ">>"):
        pytest.skip("shifts are not defined on booleans")
    op = BITWISE_OPERATORS[symbol]

    def f(a, b):
        return op(a, b)

    check(f, arr((5,), dtype, low=0, high=6), arr((5,), dtype, seed=1, low=0, high=6))


def test_unary_operators(check, arr):
    def f(a, b, c):
        return -a, +a, abs(a), ~b, -c, abs(c)

    check(f, arr((4,)), arr((4,), np.int32), arr((4,), np.int64))


def test_matmul_operator_and_dot(check, arr):
    def f(a, b, v):
        return a @ b, np.dot(a, b), a.dot(b), np.matmul(a, b), a @ v, v @ b, v @ v, np.dot(v, v)

    check(f, arr((3, 4)), arr((4, 5), seed=1), arr((4,), seed=2))


def test_batched_matmul(check, arr):
    def f(a, b):
        return a @ b

    check(f, arr((2, 3, 4), np.float32), arr((4, 2), np.float32, seed=1))


@pytest.mark.parametrize("name", UNARY_UFUNCS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_ufuncs(check, arr, name, dtype):
    ufunc = getattr(np, name)
    low, high = (0.1, 0.9) if name in ("arcsin", "arccos", "log", "log1p", "sqrt") else (-2.0, 2.0)

    def f(x):
        return ufunc(x)

    check(f, arr((3, 5), dtype, low=low, high=high))


@pytest.mark.parametrize("name", ["negative", "abs", "sign", "square", "isnan", "exp", "sqrt", "floor"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "float16", "complex128"])
def test_unary_ufuncs_other_dtypes(check, arr, name, dtype):
    if dtype == "bool" and name in ("negative", "sign"):
        pytest.skip("NumPy refuses these on booleans")
    if dtype == "complex128" and name == "floor":
        pytest.skip("NumPy refuses floor on complex")
    ufunc = getattr(np, name)

    def f(x):
        return ufunc(x)

    check(f, arr((6,), dtype, low=0, high=4))


@pytest.mark.parametrize("name", BINARY_UFUNCS)
def test_binary_ufuncs(check, arr, name):
    ufunc = getattr(np, name)

    def f(a, b):
        return ufunc(a, b)

    low = 0.5 if name in ("power",) else -2.0
    check(f, arr((3, 4), low=low), arr((4,), seed=1, low=low))


def test_round_where_clip(check, arr):
    def f(x, y):
        return (np.round(x, 2), np.around(x), x.round(1), np.where(x > 0, x, y), np.where(x > y, 1.0, 0),
                np.clip(x, -1, 1), np.clip(x, None, 0.5), x.clip(-0.5, 0.5), x.clip(max=0.0))

    check(f, arr((3, 4)), arr((3, 4), seed=1))


@pytest.mark.parametrize("low, high", [(-1, 2), (0, 300), (-1, 1000), (3, None), (300, 400), (None, -1)])
def test_clip_of_integers_with_python_bounds_beyond_their_range(check, low, high):
    """NumPy gives uint8 values clipped at -1 from below unchanged there (a random program found
    the kernels wrapping -1 to 255: every value came out 2), and raises OverflowError for 300 as
    the low bound or -1 as the high one."""
    def f(x, y):
        return np.clip(x, low, high), np.clip(y, low, high)

    x = np.array([0, 1, 5, 200, 255], np.uint8)
    y = np.array([-128, -1, 5, 100, 127], np.int8)
    check(f, x, y)


def test_ufunc_keywords_dtype_and_out(check, arr):
    def f(x, y, out):
        np.add(x, y, out=out)
        np.multiply(out, 2.0, out=out)
        return np.exp(x, dtype=np.float64), out

    check(f, arr((3,), np.float32), arr((3,), np.float32, seed=1), np.zeros(3, np.float32))


@pytest.mark.parametrize("scalar", [2, 2.5, True, 1 + 2j, -3, 300])
@pytest.mark.parametrize("dtype", DTYPES + ("int8",))
def test_nep50_python_scalars_are_weak(check, arr, dtype, scalar):
    def f(x, s):
        return x + s, s * x, x - s

    check(f, arr((4,), dtype, low=0, high=4), scalar)


@pytest.mark.parametrize("scalar_type", [np.float64, np.float32, np.int64, np.int32, np.float16])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
def test_numpy_scalars_are_strong(check, arr, dtype, scalar_type):
    def f(x, s):
        return x * s, s + 1, s * 2.0, s / s

    check(f, arr((3,), dtype), scalar_type(3))


@pytest.mark.parametrize("first", DTYPES)
@pytest.mark.parametrize("second", DTYPES)
def test_array_array_promotion(check, arr, first, second):
    def f(a, b):
        return a + b, a * b

    check(f, arr((2, 3), first, low=0, high=4), arr((3,), second, seed=1, low=0, high=4))


@pytest.mark.parametrize("shapes", [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((1,), (5, 1, 1)), ((), (3,)),
                                    ((4, 1, 3), (2, 1)), ((0, 3), (3,)), ((2, 0), (1, 1))])
def test_broadcasting(check, arr, shapes):
    def f(a, b):
        return a * b + a - b, np.maximum(a, b)

    check(f, arr(shapes[0]), arr(shapes[1], seed=1))


def test_incompatible_broadcast_raises_as_eager(check, arr):
    def f(a, b):
        return a + b

    check(f, arr((3,)), arr((4,)), compiled=False)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_layouts(check, arr, layout, dtype):
    def f(a, b):
        return a * 2 + b, (a - b).sum(axis=0), a.T + 1

    check(f, arr((4, 6), dtype, layout=layout), arr((4, 6), dtype, seed=1, layout="reversed"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_dimensional_arrays(check, dtype):
    def f(x, y):
        return x + y, x * 2, np.exp(x) if x.dtype.kind in "fc" else x, x[()], x[...], x.sum()

    check(f, np.array(2, dtype), np.array(3, dtype))


def test_numpy_scalar_inputs_and_results(check, arr):
    def f(s, x):
        t = s * 2 + 1
        return t, x.sum(), x[0], np.float32(1.5) * s, x.sum() + s

    check(f, np.float32(2.5), arr((3,), np.float32))


def test_python_float_results_stay_python(check, arr):
    def f(x, s):
        return x * s, s * 2.0, s // 2

    check(f, arr((2,)), 3.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_arrays(check, arr, dtype):
    def f(x):
        return x * 2, x.sum(axis=0), x.reshape(0, 4), x.T + 1, np.concatenate([x, x])

    check(f, np.zeros((0, 4), dtype))


def test_complex_arithmetic(check, arr):
    def f(z, w):
        return z * w + 1j, np.abs(z), np.conjugate(z), z.real if False else z / w, np.exp(z)

    check(f, arr((4,), np.complex128), arr((4,), np.complex64, seed=1))


def test_float16_chain(check, arr):
    def f(x):
        return np.tanh(x * 0.5) + np.sqrt(np.abs(x)) - x.mean()

    check(f, arr((8,), np.float16))


def test_integer_division_by_zero_arrays_is_eager_equivalent(check):
    def f(a, b):
        return a // b, a % b

    check(f, np.array([1, 2, 3], np.int64), np.array([0, 1, 0], np.int64))


def test_float_division_by_zero_gives_inf_and_nan(check):
    def f(a, b):
        return a / b, np.log(a - 1)

    check(f, np.array([1.0, 0.0, -1.0]), np.array([0.0, 0.0, 0.0]))


def test_astype(check, arr):
    def f(x):
        return (x.astype(np.float32), x.astype("int32"), x.astype(bool), x.astype(np.float64, copy=False),
                x.astype(complex))

    check(f, arr((3, 4), low=-5, high=5))


@pytest.mark.parametrize("casting", ["no", "equiv", "safe", "same_kind", "unsafe", "sideways"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "complex128"])
def test_astype_checks_its_casting_rule(check, arr, casting, dtype):
    """``casting=`` raises TypeError where NumPy's rule forbids the cast (it was ignored)."""
    def f(x):
        return x.astype(dtype, casting=casting) * 2

    check(f, arr((3,)))


def test_astype_same_dtype_copies(check, arr):
    def f(x):
        y = x.astype(x.dtype)
        y[0] = 100.0
        return y

    check(f, arr((3,)))


def test_shape_attributes(check, arr):
    def f(x):
        n, m = x.shape
        return x.reshape(m, n) * x.size + x.ndim + len(x), x.dtype, x.itemsize, x.nbytes

    check(f, arr((3, 4)))


def test_integer_power_with_negative_array_exponent_raises_as_eager(check):
    def f(x, y):
        unused = x ** y  # noqa: F841 - eager raises even though the result is dead
        return x + 1

    check(f, np.array([2, 3], np.int64), np.array([1, -1], np.int64), compiled=None)
    check(f, np.array([2, 3], np.int64), np.array([1, 2], np.int64), compiled=None)


def test_integer_power_with_constant_exponent_compiles(check, arr):
    def f(x):
        return x ** 2, x ** 0, np.power(x, 3)

    check(f, arr((4,), np.int64))


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint16])
def test_array_squared_by_the_operator_takes_numpys_shortcut(check, dtype):
    """``a ** 2`` on an array is ``np.square(a)`` in NumPy: for bool that is int8, where
    ``np.power(a, 2)`` gives int64. A NumPy bool scalar has no shortcut (int64)."""
    def f(x, s):
        return x ** 2, x[0] ** 2, s ** 2, np.power(x, 2)

    check(f, np.array([True, False, True]).astype(dtype), np.array(True).astype(dtype))
    check(f, np.array([1, 0]).astype(dtype), dtype(1))


def powers_of_a_numpy_scalar(x, e):
    s = np.log(x)  # a NumPy scalar: -inf at 0, the value where pow and sqrt disagree
    return s ** 0.5, s ** e, s ** 1.5, (-s) ** 0.5, 2.0 ** s, s ** np.float32(0.5), np.power(s, 0.5), s ** 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64])
@pytest.mark.parametrize("value", [0, 0.25, np.inf])
@pytest.mark.parametrize("exponent", [np.float64(0.5), np.float64(2.5), np.float32(0.5)])
def test_a_power_of_a_numpy_scalar_is_scalar_maths_pow(check, dtype, value, exponent):
    # Scalar math computes C's pow (inf at -inf, 0.0 at -0.0); the ufunc, sqrt for a scalar 0.5.
    check(powers_of_a_numpy_scalar, np.array(value).astype(dtype), exponent)


@pytest.mark.parametrize("exponent", [np.float64(0.5), np.array(0.5), np.array([0.5]), np.full(8, 0.5),
                                      np.float32(0.5), np.float64(1.5)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_power_by_an_exponent_array_takes_numpys_sqrt_loop_for_one_half(check, exponent, dtype):
    # NumPy's loop takes sqrt for a stride-0 exponent of 0.5 (nan at -inf, -0.0 at -0.0), pow otherwise.
    def f(x, e):
        return np.power(x, e), x ** e

    check(f, np.array([-np.inf, -0.0, 0.0, 4.0, 2.0, np.inf, np.nan, -1.0], dtype), exponent)


@pytest.mark.parametrize("body", [
    "np.fabs(x) + 1.0", "np.radians(x) - np.degrees(y)", "np.logaddexp2(x, y)", "np.float_power(np.abs(x), y)",
    "np.gcd((x * 10).astype(np.int32), 6)", "np.lcm((y * 10).astype(np.int64), np.int16(4))", "np.ldexp(x, 3)",
    "np.nextafter(x, np.inf) - x", "np.spacing(x)", "np.fabs(x[0, 0])", "np.fabs(x.reshape(-1)[:1].reshape(()))",
    "np.divmod(x, 0.7)[1] * 2", "np.frexp(x)", "np.modf(y)[0] + np.modf(y)[1]", "np.divmod((y * 9).astype(np.int8), 4)",
    "np.gcd(x, 2)", "np.divmod(x, 1j)",   # no loop: NumPy's TypeError
])
def test_ufuncs_without_an_op_of_embers_are_numpys_own_call(check, body):
    namespace: dict = {"np": np}
    exec(f"def f(x, y):\n    return {body}\n", namespace)
    rng = np.random.default_rng(0)
    check(namespace["f"], rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal((4, 5)))


def test_a_scipy_special_function_is_a_ufunc_call():
    special = pytest.importorskip("scipy.special")

    def gelu(x):
        return 0.5 * x * (1.0 + special.erf(x / np.sqrt(2.0)))

    compiled = ember.compile(gelu, fullgraph=True)
    x = np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32)
    np.testing.assert_array_equal(compiled(x), gelu(x))
    assert "ufunc_call(" in compiled.entries[0].stages["graph"]


def test_a_ufunc_giving_objects_runs_eagerly(check):
    identity = np.frompyfunc(lambda value: value, 1, 1)

    def f(x, y):
        return identity(x)

    check(f, np.arange(3.0), np.arange(3.0), compiled=False, reason="dtype=object")


UFUNC_X = np.array([[1.1, 2.3, -0.5], [0.0, 4.0, 7.5]], np.float32)
UFUNC_Y = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 1.0]], np.float32)
UFUNC_A = np.array([[100, 120, -7], [3, 4, 5]], np.int8)


@pytest.mark.parametrize("body", [
    "np.add(a, a, dtype=np.int64)", "np.multiply(x, x, dtype=np.float64)", "np.add(x, 1.5, dtype=np.float64)",
    "np.less(x, y, dtype=bool)", "np.sqrt(a, dtype=np.float32)", "np.maximum(a, x, dtype=np.float16)",
    "np.divide(a, a, dtype=np.float32)", "np.exp(x, dtype=np.float64)", "np.add(a, 3, dtype=np.int16)",
    "np.power(a, 2, dtype=np.int64)",
    "np.add(x, y, dtype=np.int32)", "np.less(x, y, dtype=np.float64)", "np.negative(a, dtype=np.uint8)",
    "np.add(a, 300, dtype=np.int8)",   # NumPy's errors: no such loop, a Python int out of bounds
])
def test_a_ufunc_computes_in_its_dtype_argument(check, body):
    """dtype= picks NumPy's loop: the operands are cast first (int8 + int8 in int64 does not wrap,
    float32 * float32 in float64 is not a rounded float32 product); before, the result was cast."""
    namespace: dict = {"np": np}
    exec(f"def f(x, y, a):\n    return {body}\n", namespace)
    check(namespace["f"], UFUNC_X, UFUNC_Y, UFUNC_A)


@pytest.mark.parametrize("body", [
    "np.divide(x, y, where=y != 0, out=np.zeros_like(x))", "np.sqrt(x, out=np.full_like(x, -1.0), where=x >= 0)",
    "np.add(x, y, out=np.ones_like(x), where=np.array([True, False, True]))",
    "np.add(x, y, out=np.ones((2, 3)), where=x > 1)", "np.multiply(a, 2, out=np.zeros_like(a), where=a > 4)",
    "np.add(x, y, out=np.zeros((2, 3), np.int32), where=y > 0)",           # NumPy's casting error
    "np.add(x, y, out=np.zeros_like(x), where=np.ones((3, 2, 3), bool))",  # a mask bigger than out
    "np.add(x, y, out=np.zeros((2, 5)))",  # an out= that does not broadcast: NumPy's error message
])
def test_a_ufunc_writes_out_only_where_told(check, body):
    namespace: dict = {"np": np}
    exec(f"def f(x, y, a):\n    return {body}\n", namespace)
    check(namespace["f"], UFUNC_X, UFUNC_Y, UFUNC_A)


def test_where_without_out_runs_eagerly(check):
    """NumPy leaves the other places of a fresh result uninitialised: only eager can say what they hold."""
    check(lambda x, y: np.add(x, y, where=y > 0).shape, UFUNC_X, UFUNC_Y, compiled=False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_power_by_a_constant_one_half_takes_numpys_sqrt_loop(check, dtype):
    # x ** np.float64(0.5) of float32 x runs NumPy's float64 loop: sqrt for the scalar exponent.
    def f(x):
        return x ** np.float64(0.5), np.power(x, np.float64(0.5)), np.power(x, np.float32(0.5)), x ** 0.5

    values = [-np.inf, -0.0, 0.0, 4.0, 2.0, np.inf, np.nan, -1.0] if dtype != np.int32 else [0, 4, -1, 7]
    check(f, np.array(values, dtype))


@pytest.mark.parametrize("body", [
    "np.matmul(x[:1], y, out=z)", "np.matmul(x, y[:, :1], out=z)", "np.matmul(x, y, where=x[:, :3] > 0, out=z)",
    "np.matmul(x, y, where=True)", "np.matmul(x, y, out=z)",   # (what NumPy takes)
    "np.clip(x, 0)", "np.clip(x, a_max=1)", "np.clip(x, a_min=0, max=1)", "np.clip(x, 0, 1, min=0)",
    "np.clip(x, min=0)", "np.clip(x)", "np.clip(x, 0, None, out=None)", "np.clip(x, -0.5, 0.5, out=(z,))",
    "x.clip(0)", "x.clip(max=0.5, out=z)",
])
def test_matmul_and_clip_arguments_as_numpy_takes_them(check, body):
    """np.matmul writes only an out of its result's shape and takes no where=; np.clip wants both
    bounds, or min= and max=, never a mix (each was taken as given)."""
    namespace: dict = {"np": np}
    exec(f"def f(x, y, z):\n    r = {body}\n    return r, z\n", namespace)
    rng = np.random.default_rng(0)
    check(namespace["f"], rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), np.zeros((3, 3)), compiled=None)
