"""Products, norms, diagonals and linear algebra. ``outer``, ``inner``, ``vdot``, ``tensordot``,
``trace`` and the vector norms are traced as the ops NumPy's own code uses (matmul/dot through
BLAS, the rest fused); a matrix's diagonal is a view, as in NumPy (read-only, ``np.diagonal``);
``np.diag`` of a vector, ``np.cross``, ``np.kron``, ``np.convolve``/``correlate``, the other
norms and ``linalg.inv``/``solve``/``det``/``slogdet``/``cond``/``matrix_rank`` are NumPy's
own calls between kernels (ir/ops/library.py), so their values are eager's to the bit. Shapes
they do not take (2-vectors, which NumPy 2 deprecates; other axes; empty or dynamic sizes where
the shape rule would need their values) run eagerly. Importing this module registers the handlers (calls.py does)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir.symbolic import broadcast_shapes
from .errors import Unsupported, UserCodeError
from .numpy_api import (
    Handler,
    array_method,
    as_array,
    call_handler,
    check_default,
    const,
    keepdims_flag,
    normalize_axis,
    numpy_function,
    sequence_items,
)
from .values import TupleValue, Value

if TYPE_CHECKING:
    from .tracer import Tracer


def _integer(tracer: Tracer, value: Any, what: str) -> int:
    number = const(tracer, value, what)
    if not isinstance(number, int | np.integer) or isinstance(number, bool):
        raise Unsupported(f"{what}={number!r}: an integer is expected", tracer.loc)
    return int(number)


@numpy_function(np.diagonal)
@array_method("diagonal")
def _diagonal(tracer: Tracer, a: Value, offset: Any = 0, axis1: Any = 0, axis2: Any = 1) -> Value:
    """A read-only view, NumPy's shape and axis errors from its own probe (ir/ops/views.py)."""
    return tracer.emit("diagonal", as_array(tracer, a).node, _integer(tracer, offset, "offset"),
                       _integer(tracer, axis1, "axis1"), _integer(tracer, axis2, "axis2"))


@numpy_function(np.diag)
def _diag(tracer: Tracer, v: Value, k: Any = 0) -> Value:
    """A matrix's k-th diagonal (a view), or a square matrix with a vector on it (a new array)."""
    array, k = as_array(tracer, v), _integer(tracer, k, "k")
    ndim = array.node.meta.ndim
    if ndim == 2:
        return tracer.emit("diagonal", array.node, k, 0, 1)
    if ndim != 1:
        raise UserCodeError("ValueError: Input must be 1- or 2-d.", tracer.loc)
    if not isinstance(array.node.meta.shape[0], int):
        raise Unsupported("np.diag of a vector of dynamic length", tracer.loc)
    return tracer.emit("diag", array.node, k=k)


@numpy_function(np.cross)
def _cross(tracer: Tracer, a: Value, b: Value, axisa: Any = -1, axisb: Any = -1, axisc: Any = -1,
           axis: Any = None) -> Value:
    left, right = as_array(tracer, a), as_array(tracer, b)
    axes = tuple(const(tracer, x, name) for x, name in ((axisa, "axisa"), (axisb, "axisb"), (axisc, "axisc")))
    if axes != (-1, -1, -1) or const(tracer, axis, "axis") is not None:
        raise Unsupported("np.cross along other axes than the last", tracer.loc)
    shapes = left.node.meta.shape, right.node.meta.shape
    if not all(shape and shape[-1] == 3 for shape in shapes):
        raise Unsupported("np.cross of other than 3-vectors", tracer.loc)
    try:
        broadcast_shapes(shapes[0][:-1], shapes[1][:-1])
    except ValueError:
        raise Unsupported("np.cross of vectors that do not broadcast (NumPy's error, eagerly)", tracer.loc) from None
    return tracer.emit("cross", left.node, right.node)


@numpy_function(np.kron)
def _kron(tracer: Tracer, a: Value, b: Value) -> Value:
    left, right = as_array(tracer, a), as_array(tracer, b)
    if not all(isinstance(d, int) for d in (*left.node.meta.shape, *right.node.meta.shape)):
        raise Unsupported("np.kron with dynamic sizes", tracer.loc)
    return tracer.emit("kron", left.node, right.node)


def _signal(name: str, default_mode: str) -> Handler:
    """np.convolve and np.correlate of two vectors (NumPy's own call)."""
    def handler(tracer: Tracer, a: Value, v: Value, mode: Any = default_mode) -> Value:
        left, right = as_array(tracer, a), as_array(tracer, v)
        mode = const(tracer, mode, "mode")
        if not isinstance(mode, str) or mode not in ("full", "same", "valid"):
            raise Unsupported(f"np.{name} with mode={mode!r}", tracer.loc)
        shapes = left.node.meta.shape, right.node.meta.shape
        if not all(len(shape) == 1 and isinstance(shape[0], int) for shape in shapes):
            raise Unsupported(f"np.{name} of other than vectors of static length", tracer.loc)
        return tracer.emit(name, left.node, right.node, mode=mode)

    return handler


numpy_function(np.convolve)(_signal("convolve", "full"))
numpy_function(np.correlate)(_signal("correlate", "valid"))


@numpy_function(np.outer)
def _outer(tracer: Tracer, a: Value, b: Value, out: Any = None) -> Value:
    check_default(tracer, "out", out)
    rows = tracer.emit("reshape", as_array(tracer, a).node, (-1,))
    columns = tracer.emit("reshape", as_array(tracer, b).node, (-1,))
    return tracer.emit("multiply", tracer.emit("getitem", rows.node, (slice(None), None)).node,
                       tracer.emit("getitem", columns.node, (None, slice(None))).node)


@numpy_function(np.inner)
def _inner(tracer: Tracer, a: Value, b: Value) -> Value:
    """The sum over the last axes: ``dot(a, b.T)`` for 1-d and 2-d real arrays (a scalar times an array)."""
    left, right = as_array(tracer, a), as_array(tracer, b)
    if left.node.meta.ndim == 0 or right.node.meta.ndim == 0:
        return tracer.emit("multiply", left.node, right.node)
    if left.node.meta.ndim > 2 or right.node.meta.ndim > 2:
        raise Unsupported("np.inner of arrays with more than two dimensions", tracer.loc)
    if right.node.meta.ndim == 2:
        right = tracer.emit("transpose", right.node, None)
    return tracer.emit("dot", left.node, right.node)


@numpy_function(np.vdot)
def _vdot(tracer: Tracer, a: Value, b: Value) -> Value:
    left, right = as_array(tracer, a), as_array(tracer, b)
    if "c" in (left.node.meta.dtype.kind, right.node.meta.dtype.kind):
        raise Unsupported("np.vdot of complex arrays (it conjugates the first)", tracer.loc)
    flat = [tracer.emit("reshape", side.node, (-1,)).node for side in (left, right)]
    return tracer.emit("dot", *flat)


@numpy_function(np.tensordot)
def _tensordot(tracer: Tracer, a: Value, b: Value, axes: Any = 2) -> Value:
    """NumPy's steps: the summed axes moved to the end of a and the front of b, two reshapes to
    matrices, one dot, a reshape back (static shapes)."""
    axes = const(tracer, axes, "axes")
    if np.ndim(axes) == 0:
        axes_a, axes_b = list(range(-int(axes), 0)), list(range(int(axes)))
    else:
        axes_a, axes_b = ([x] if np.ndim(x) == 0 else list(x) for x in axes)
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        raise UserCodeError("ValueError: duplicate axes are not allowed in tensordot", tracer.loc)
    left, right = as_array(tracer, a), as_array(tracer, b)
    shape_a, shape_b = left.node.meta.shape, right.node.meta.shape
    if not all(isinstance(d, int) for d in (*shape_a, *shape_b)):
        raise Unsupported("np.tensordot with dynamic sizes", tracer.loc)
    try:
        if len(axes_a) != len(axes_b) or any(shape_a[i] != shape_b[j] for i, j in zip(axes_a, axes_b, strict=True)):
            raise UserCodeError("ValueError: shape-mismatch for sum", tracer.loc)
    except IndexError as error:
        raise UserCodeError(f"IndexError: {error}", tracer.loc) from error
    axes_a = [i % len(shape_a) for i in axes_a]
    axes_b = [i % len(shape_b) for i in axes_b]
    kept_a = [k for k in range(len(shape_a)) if k not in axes_a]
    kept_b = [k for k in range(len(shape_b)) if k not in axes_b]
    summed = int(np.prod([shape_a[i] for i in axes_a], dtype=np.int64))
    matrix_a = tracer.emit("reshape", tracer.emit("transpose", left.node, tuple(kept_a + axes_a)).node,
                           (int(np.prod([shape_a[i] for i in kept_a], dtype=np.int64)), summed))
    matrix_b = tracer.emit("reshape", tracer.emit("transpose", right.node, tuple(axes_b + kept_b)).node,
                           (summed, int(np.prod([shape_b[i] for i in kept_b], dtype=np.int64))))
    product = tracer.emit("dot", matrix_a.node, matrix_b.node)
    return tracer.emit("reshape", product.node, tuple(shape_a[i] for i in kept_a) + tuple(shape_b[i] for i in kept_b))


@numpy_function(np.trace)
@array_method("trace")
def _trace(tracer: Tracer, a: Value, offset: Any = 0, axis1: Any = 0, axis2: Any = 1, dtype: Any = None,
           out: Any = None) -> Value:
    """The sum of a matrix's diagonal (2-d arrays, static shape): the diagonal gathered by two
    constant index arrays, then NumPy's sum (its dtype rule)."""
    check_default(tracer, "out", out)
    array = as_array(tracer, a)
    offset = const(tracer, offset, "offset")
    shape = array.node.meta.shape
    if len(shape) != 2 or (const(tracer, axis1, "axis1"), const(tracer, axis2, "axis2")) != (0, 1) \
            or not all(isinstance(d, int) for d in shape) or not isinstance(offset, int | np.integer):
        raise Unsupported("np.trace other than of a 2-d array of static shape along its two axes", tracer.loc)
    rows, columns = shape
    start_row, start_column = max(0, -int(offset)), max(0, int(offset))
    length = max(0, min(rows - start_row, columns - start_column))
    diagonal = tracer.emit("advanced_index", array.node,
                           (tracer.emit("copy", np.arange(start_row, start_row + length)).node,
                            tracer.emit("copy", np.arange(start_column, start_column + length)).node))
    return call_handler(tracer, np.sum, [diagonal], {"dtype": dtype})


@numpy_function(np.linalg.norm)
def _norm(tracer: Tracer, x: Value, ord: Any = None, axis: Any = None, keepdims: Any = False) -> Value:  # noqa: A002
    """The vector norms NumPy computes with ufuncs: ord None or 2 (and, along one axis, 1 and
    +-inf) of real arrays, fused; other orders, matrix norms and complex arrays are NumPy's own
    call between kernels (ir/ops/library.py)."""
    array = as_array(tracer, x)
    ord_, axis, keepdims = const(tracer, ord, "ord"), const(tracer, axis, "axis"), keepdims_flag(tracer, keepdims)
    if array.node.meta.dtype.kind == "c":
        return tracer.emit("linalg_norm", array.node, ord=ord_, axis=axis, keepdims=bool(keepdims))
    if array.node.meta.dtype.kind not in "f":
        array = tracer.emit("astype", array.node, dtype=np.dtype(float))
    ndim = array.node.meta.ndim
    if axis is None and (ord_ is None or (ndim == 1 and ord_ == 2) or (ndim == 2 and ord_ in ("f", "fro"))):
        # NumPy: sqrt(dot(x.ravel(), x.ravel()))
        flat = tracer.emit("reshape", array.node, (-1,))
        result = tracer.emit("sqrt", tracer.emit("dot", flat.node, flat.node).node)
        return tracer.emit("reshape", result.node, (1,) * ndim) if keepdims else result
    if isinstance(axis, int | np.integer) or (isinstance(axis, tuple) and len(axis) == 1):
        axis = normalize_axis(tracer, axis, ndim)
        kwargs = {"axis": axis, **({"keepdims": True} if keepdims else {})}
        if ord_ is None or ord_ == 2:
            squares = tracer.emit("multiply", array.node, array.node)
            return tracer.emit("sqrt", tracer.emit("sum", squares.node, **kwargs).node)
        if ord_ == 1:
            return tracer.emit("sum", tracer.emit("absolute", array.node).node, **kwargs)
        if ord_ in (np.inf, -np.inf):
            return tracer.emit("max" if ord_ > 0 else "min", tracer.emit("absolute", array.node).node, **kwargs)
    return tracer.emit("linalg_norm", array.node, ord=ord_, axis=axis, keepdims=bool(keepdims))


@numpy_function(np.linalg.inv)
def _inv(tracer: Tracer, a: Value) -> Value:
    return tracer.emit("linalg_inv", as_array(tracer, a).node)


@numpy_function(np.linalg.solve)
def _solve(tracer: Tracer, a: Value, b: Value) -> Value:
    return tracer.emit("linalg_solve", as_array(tracer, a).node, as_array(tracer, b).node)


@numpy_function(np.linalg.det)
def _det(tracer: Tracer, a: Value) -> Value:
    return tracer.emit("linalg_det", as_array(tracer, a).node)


def _linalg(name: str) -> Handler:
    """np.linalg.<name> of one array: NumPy's call between kernels (ir/ops/library.py)."""
    def handler(tracer: Tracer, a: Value) -> Value:
        return tracer.emit(f"linalg_{name}", as_array(tracer, a).node)

    return handler


for _name, _fn in {"cholesky": np.linalg.cholesky, "eigvalsh": np.linalg.eigvalsh}.items():
    numpy_function(_fn)(_linalg(_name))


# The named tuples NumPy returns (``sign, logabsdet = ...`` and ``.logabsdet`` both work), taken
# from NumPy's own results, not its private module.
_RESULT_TYPES = {"slogdet": type(np.linalg.slogdet(np.eye(1))), "eigh": type(np.linalg.eigh(np.eye(1))),
                 "qr": type(np.linalg.qr(np.eye(1)))}


@numpy_function(np.linalg.slogdet)
def _slogdet(tracer: Tracer, a: Value) -> Value:
    array = as_array(tracer, a).node
    return TupleValue([tracer.emit("linalg_slogdet", array, output=i) for i in (0, 1)], kind=_RESULT_TYPES["slogdet"])


@numpy_function(np.linalg.cond)
def _cond(tracer: Tracer, x: Value, p: Any = None) -> Value:
    check_default(tracer, "p", p)
    return tracer.emit("linalg_cond", as_array(tracer, x).node)


@numpy_function(np.linalg.matrix_rank)
def _matrix_rank(tracer: Tracer, A: Value, tol: Any = None, hermitian: Any = False, *,  # noqa: N803 - NumPy's
                 rtol: Any = None) -> Value:
    check_default(tracer, "tol", tol)
    check_default(tracer, "hermitian", hermitian, False)
    check_default(tracer, "rtol", rtol)
    array = as_array(tracer, A)
    if array.node.meta.ndim < 2:
        raise Unsupported("np.linalg.matrix_rank of a vector (NumPy returns a Python int)", tracer.loc)
    return tracer.emit("linalg_matrix_rank", array.node)


@numpy_function(np.linalg.pinv)
def _pinv(tracer: Tracer, a: Value, rcond: Any = None, hermitian: Any = False, *, rtol: Any = None) -> Value:
    options = {name: value for name, value in (("rcond", const(tracer, rcond, "rcond")),
                                               ("rtol", const(tracer, rtol, "rtol"))) if value is not None}
    if const(tracer, hermitian, "hermitian"):
        options["hermitian"] = True
    return tracer.emit("linalg_pinv", as_array(tracer, a).node, **options)


@numpy_function(np.linalg.matrix_power)
def _matrix_power(tracer: Tracer, a: Value, n: Any) -> Value:
    n = const(tracer, n, "n")
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise Unsupported("np.linalg.matrix_power with an exponent that is not an integer", tracer.loc)
    array = as_array(tracer, a)
    power = tracer.emit("linalg_matrix_power", array.node, int(n))  # (its checks: a stack of square matrices)
    return array if n == 1 else power  # NumPy hands back a itself


@numpy_function(np.linalg.eigh)
def _eigh(tracer: Tracer, a: Value, UPLO: Any = "L") -> Value:  # noqa: N803 - NumPy's name
    array, uplo = as_array(tracer, a).node, const(tracer, UPLO, "UPLO")
    return TupleValue([tracer.emit("linalg_eigh", array, output=i, UPLO=uplo) for i in (0, 1)],
                      kind=_RESULT_TYPES["eigh"])


@numpy_function(np.linalg.svd)
def _svd(tracer: Tracer, a: Value, full_matrices: Any = True, compute_uv: Any = True, hermitian: Any = False) -> Value:
    """The singular values (compute_uv=False); the factors run eagerly."""
    if const(tracer, compute_uv, "compute_uv") or const(tracer, hermitian, "hermitian"):
        raise Unsupported("np.linalg.svd other than its singular values (compute_uv=False)", tracer.loc)
    return tracer.emit("linalg_svdvals", as_array(tracer, a).node)


@numpy_function(np.linalg.qr)
def _qr(tracer: Tracer, a: Value, mode: Any = "reduced") -> Value:
    if const(tracer, mode, "mode") != "reduced":
        raise Unsupported("np.linalg.qr in a mode other than 'reduced'", tracer.loc)
    array = as_array(tracer, a).node
    return TupleValue([tracer.emit("linalg_qr", array, output=i) for i in (0, 1)], kind=_RESULT_TYPES["qr"])


@numpy_function(np.linalg.multi_dot)
def _multi_dot(tracer: Tracer, arrays: Value, *, out: Any = None) -> Value:
    """NumPy's call, which picks the cheapest order of the products (so the same rounding)."""
    check_default(tracer, "out", out)
    items = sequence_items(tracer, arrays, "np.linalg.multi_dot")
    if len(items) < 2:
        raise UserCodeError("ValueError: Expecting at least two arrays.", tracer.loc)
    return tracer.emit("linalg_multi_dot", *(as_array(tracer, item).node for item in items))


@numpy_function(np.vander)
def _vander(tracer: Tracer, x: Value, N: Any = None, increasing: Any = False) -> Value:  # noqa: N803
    array = as_array(tracer, x)
    if array.node.meta.ndim != 1 or not isinstance(array.node.meta.shape[0], int):
        raise Unsupported("np.vander of other than a vector of static length (NumPy's error, eagerly)", tracer.loc)
    return tracer.emit("vander", array.node, N=const(tracer, N, "N"), increasing=bool(const(tracer, increasing,
                                                                                           "increasing")))
