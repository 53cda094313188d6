"""NumPy functions run as they are between kernels, with a shape rule each: sorted-array lookups
(searchsorted, digitize, isin), interpolation (interp), dense linear algebra (inv, solve, det,
slogdet, cond, matrix_rank, the norms not fused, cholesky, pinv, matrix_power, eigh, singular
values, qr, multi_dot),
statistics (weighted average, histogram, cov, corrcoef, the NaN-skipping std, var, prod and
arg-extremes), partitions and lexsort, unravel_index, calculus (gradient, trapezoid), products and signals
(cross, kron, convolve, correlate, diag of a vector), np.block, and any other ufunc. Dtypes,
scalar-ness and NumPy's errors for bad parameters come from a probe on tiny stand-ins
(extern.py); errors that depend on the shapes are raised here, as NumPy's types, or the
frontend leaves such calls to eager NumPy. ``checks_values``: LAPACK's "Singular matrix" and
"SVD did not converge", digitize's unsorted bins, average's weights that sum to zero,
histogram's range of NaN or inf values and unravel_index's bounds depend on the values."""
from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..meta import TensorMeta
from .elementwise import infer_elementwise
from .extern import infer_by_rule
from .probing import probe, sizeless_stand_in, tiny_stand_in
from .reductions import reduced_shape
from .registry import Op, OpKind, register


def _search_shape(a: TensorMeta, v: TensorMeta | Any, **_: Any) -> tuple:
    if a.ndim != 1:
        raise ValueError("object too deep for desired array")
    return v.shape if isinstance(v, TensorMeta) else np.shape(v)


def _digitize_shape(x: TensorMeta, bins: TensorMeta | Any, **_: Any) -> tuple:
    if (bins.ndim if isinstance(bins, TensorMeta) else np.ndim(bins)) != 1:
        raise ValueError("bins must be 1d")
    return x.shape


def _interp_shape(x: TensorMeta, xp: TensorMeta | Any, fp: TensorMeta | Any, **_: Any) -> tuple:
    xp_shape = xp.shape if isinstance(xp, TensorMeta) else np.shape(xp)
    fp_shape = fp.shape if isinstance(fp, TensorMeta) else np.shape(fp)
    if len(xp_shape) != 1 or len(fp_shape) != 1:
        raise ValueError("data and xp must be 1D arrays")  # NumPy's words for fp
    if xp_shape != fp_shape:
        raise ValueError("fp and xp are not of the same length.")
    if xp_shape[0] == 0:
        raise ValueError("array of sample points is empty")
    return x.shape


def _isin_shape(element: TensorMeta, *_: Any, **__: Any) -> tuple:
    return element.shape


def _square(a: TensorMeta) -> int:
    if a.ndim < 2:
        raise np.linalg.LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")
    if a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    return a.shape[-1]


def _solve_shape(a: TensorMeta, b: TensorMeta) -> tuple:
    """NumPy 2's rule: b is one vector (M,) or a stack of matrices (..., M, K)."""
    m = _square(a)
    if b.ndim == 1:
        if b.shape[0] != m:
            raise ValueError(f"solve1: Input operand 1 has a mismatch in its core dimension 0 ({b.shape[0]} != {m})")
        return (*a.shape[:-2], m)
    if b.shape[-2] != m:
        raise ValueError(f"solve: Input operand 1 has a mismatch in its core dimension 0 ({b.shape[-2]} != {m})")
    return (*np.broadcast_shapes(a.shape[:-2], b.shape[:-2]), m, b.shape[-1])


def _norm_shape(x: TensorMeta, ord: Any = None, axis: Any = None, keepdims: bool = False) -> tuple:  # noqa: A002
    """The axes np.linalg.norm reduces: the given ones, else all (its probe rejected the rest)."""
    axes = range(x.ndim) if axis is None else np.lib.array_utils.normalize_axis_tuple(axis, x.ndim)
    return reduced_shape(x.shape, tuple(axes), keepdims)


def weighted_average(a: Any, weights: Any, **kwargs: Any) -> Any:
    """np.average with the weights an operand (a graph node), not a keyword."""
    return np.average(a, weights=weights, **kwargs)


def _average_shape(a: TensorMeta, weights: TensorMeta, axis: Any = None, keepdims: bool = False) -> tuple:
    """The frontend passes weights of a's shape, or 1-d along one axis (NumPy's other cases raise)."""
    return reduced_shape(a.shape, axis, keepdims)


def _variables(m: TensorMeta, rowvar: bool, name: str) -> tuple[int, int]:
    """(variables, observations) np.cov sees in ``m``: ``atleast_2d(m)``, transposed unless rowvar
    (or a single row)."""
    if m.ndim > 2:
        raise ValueError(f"{name} has more than 2 dimensions")
    rows, columns = ((1, 1) + m.shape)[-2:]
    return (rows, columns) if rowvar or rows == 1 else (columns, rows)


def _covariance_shape(m: TensorMeta, y: TensorMeta | None = None, rowvar: bool = True, **_: Any) -> tuple:
    """(variables, variables), squeezed to () for one variable (np.cov returns ``c.squeeze()``)."""
    count, observations = _variables(m, rowvar, "m")
    if y is not None:
        more, others = _variables(y, rowvar, "y")
        if others != observations:  # np.concatenate's words
            raise ValueError("all the input array dimensions except for the concatenation axis must match exactly, "
                             f"but along dimension 1, the array at index 0 has size {observations} and the array "
                             f"at index 1 has size {others}")
        count += more
    return () if count == 1 else (count, count)


def _cross_shape(a: TensorMeta, b: TensorMeta) -> tuple:
    """Vectors of 3 along the last axes (the frontend's only case), the others broadcast."""
    return (*np.broadcast_shapes(a.shape[:-1], b.shape[:-1]), 3)


def _vector_stand_in(meta: TensorMeta) -> Any:
    """Tiny, but with the last axis's real length (np.cross checks it is 2 or 3)."""
    return tiny_stand_in(meta) if meta.ndim == 0 else np.ones((1,) * (meta.ndim - 1) + meta.shape[-1:], meta.dtype)


def _kron_shape(a: TensorMeta, b: TensorMeta) -> tuple:
    if a.ndim == 0 or b.ndim == 0:
        return np.broadcast_shapes(a.shape, b.shape)
    ndim = max(a.ndim, b.ndim)
    left, right = (1,) * (ndim - a.ndim) + a.shape, (1,) * (ndim - b.ndim) + b.shape
    return tuple(i * j for i, j in zip(left, right, strict=True))


def _correlate_shape(a: TensorMeta, v: TensorMeta, mode: str = "valid") -> tuple:
    return _convolve_shape(a, v, mode)


def _convolve_shape(a: TensorMeta, v: TensorMeta, mode: str = "full") -> tuple:
    """1-d operands (the frontend's only case); the longer one first, as NumPy swaps them."""
    if a.ndim > 1 or v.ndim > 1:
        raise ValueError("object too deep for desired array")
    n, m = sorted((a.shape[0], v.shape[0]), reverse=True)
    if n == 0:
        raise ValueError("a cannot be empty")
    if m == 0:
        raise ValueError("v cannot be empty")
    return ({"full": n + m - 1, "same": n, "valid": n - m + 1}[mode],)


def _diag_shape(v: TensorMeta, k: int = 0) -> tuple:
    """np.diag of a vector (the frontend's only case: a matrix's diagonal is a view)."""
    size = v.shape[0] + abs(k)
    return (size, size)


def _reduced(x: TensorMeta, *_: Any, axis: Any = None, keepdims: bool = False, **__: Any) -> tuple:
    """nanstd, nanvar, nanprod, nanargmax, nanargmin, trapezoid: x reduced over ``axis``."""
    return reduced_shape(x.shape, axis, keepdims)


def _same(x: TensorMeta, *_: Any, **__: Any) -> tuple:
    return x.shape


def _square_same(a: TensorMeta, *_: Any, **__: Any) -> tuple:
    _square(a)
    return a.shape


def _matrices(a: TensorMeta) -> tuple:
    """The stack's shape (all but the last two axes) of an array of matrices."""
    if a.ndim < 2:
        raise np.linalg.LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")
    return a.shape[:-2]


def _pinv_shape(a: TensorMeta, **_: Any) -> tuple:
    return (*_matrices(a), a.shape[-1], a.shape[-2])


def eigh(a: Any, *, output: int, **kwargs: Any) -> Any:
    """One of np.linalg.eigh's results: 0 the eigenvalues, 1 the eigenvectors."""
    return np.linalg.eigh(a, **kwargs)[output]


def _eigh_shape(a: TensorMeta, *, output: int = 0, **_: Any) -> tuple:
    m = _square(a)
    return a.shape if output else (*a.shape[:-2], m)


def slogdet(a: Any, *, output: int) -> Any:
    """One of np.linalg.slogdet's results: 0 the sign, 1 the log of the absolute determinant."""
    return np.linalg.slogdet(a)[output]


def singular_values(a: Any) -> Any:
    return np.linalg.svd(a, compute_uv=False)


def _singular_values_shape(a: TensorMeta) -> tuple:
    if a.ndim < 2:
        raise np.linalg.LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")
    return (*a.shape[:-2], min(a.shape[-2:]))


def qr(a: Any, *, output: int) -> Any:
    """One of np.linalg.qr's results (mode 'reduced'): 0 q, 1 r."""
    return np.linalg.qr(a)[output]


def _qr_shape(a: TensorMeta, *, output: int) -> tuple:
    if a.ndim < 2:
        raise np.linalg.LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")
    m, n = a.shape[-2:]
    return (*a.shape[:-2], m, min(m, n)) if output == 0 else (*a.shape[:-2], min(m, n), n)


def multi_dot(*arrays: Any) -> Any:
    return np.linalg.multi_dot(arrays)


def _multi_dot_shape(first: TensorMeta, *rest: TensorMeta) -> tuple:
    """The chain's outer sizes; a 1-d end is a vector (its size drops). Mismatched inner sizes are
    NumPy's error when it runs (the op checks values)."""
    return (*first.shape[:-1][:1], *rest[-1].shape[1:][:1])


def lexsort(*keys: Any, axis: int = -1) -> Any:
    """np.lexsort with the keys as operands (the frontend passes a tuple or list of arrays)."""
    return np.lexsort(keys, axis=axis)


def _lexsort_shape(first: TensorMeta, *rest: TensorMeta, axis: int = -1) -> tuple:
    if any(key.shape != first.shape for key in rest):
        raise ValueError("all keys need to be the same shape")
    return first.shape


def unravel_index(indices: Any, *, shape: tuple, order: Literal["C", "F"] = "C", output: int) -> Any:
    """One of np.unravel_index's results: the index along axis ``output``."""
    return np.unravel_index(indices, shape, order=order)[output]


def _gradient_stand_in(meta: TensorMeta) -> Any:
    """Up to 3 elements per axis: np.gradient needs edge_order + 1 of them along each."""
    return tiny_stand_in(meta) if meta.ndim == 0 else np.ones(tuple(min(d, 3) for d in meta.shape), meta.dtype)


def _infer_partition(reference: Any):
    """The shape of a; the dtype and NumPy's errors (kth out of bounds) from a stand-in with the
    real length along the axis and 1 elsewhere."""
    def infer(a: TensorMeta, kth: Any, axis: int = -1, **kwargs: Any) -> TensorMeta:
        along = axis % a.ndim if a.ndim and -a.ndim <= axis < a.ndim else None
        stand_in = np.zeros(tuple(d if i == along else 1 for i, d in enumerate(a.shape)), a.dtype)
        probed = probe(reference, (stand_in, kth), {"axis": axis, **kwargs})
        return TensorMeta(a.shape, np.asarray(probed).dtype, False)

    return infer


def ufunc_call(*args: Any, ufunc: np.ufunc, output: int | None = None) -> Any:
    """Any other ufunc (np.fabs, np.gcd, scipy.special.erf, ...): called as it is; ``output``
    picks one result of a ufunc with several (np.divmod, np.frexp, np.modf)."""
    result = ufunc(*args)
    return result if output is None else result[output]


def histogram(a: Any, weights: Any = None, *, output: int, **kwargs: Any) -> Any:
    """One of np.histogram's results (0 the counts, 1 the bin edges); the weights an operand."""
    return np.histogram(a, weights=weights, **kwargs)[output]


def _histogram_shape(a: TensorMeta, weights: Any = None, *, output: int, bins: int, **_: Any) -> tuple:
    """``bins`` counts and ``bins + 1`` edges (the frontend passes only a number of bins)."""
    if weights is not None and weights.shape != a.shape:
        raise ValueError("weights should have the same shape as a.")
    return (bins + output,)


RULES: dict[str, tuple[Any, Any, bool]] = {  # op: (NumPy function, shape rule, checks_values)
    "searchsorted": (np.searchsorted, _search_shape, False),
    "digitize": (np.digitize, _digitize_shape, True),
    "interp": (np.interp, _interp_shape, False),
    "isin": (np.isin, _isin_shape, False),
    "linalg_inv": (np.linalg.inv, lambda a: (_square(a), a.shape)[1], True),
    "linalg_solve": (np.linalg.solve, _solve_shape, True),
    "linalg_det": (np.linalg.det, lambda a: (_square(a), a.shape[:-2])[1], False),
    "linalg_slogdet": (slogdet, lambda a, output: (_square(a), a.shape[:-2])[1], False),
    "linalg_cond": (np.linalg.cond, _matrices, True),
    # An SVD may not converge. (Of a vector NumPy returns a Python int, which no node stands for.)
    "linalg_matrix_rank": (np.linalg.matrix_rank, _matrices, True),
    "linalg_norm": (np.linalg.norm, _norm_shape, True),   # the matrix 2-norm's SVD may not converge
    "average": (weighted_average, _average_shape, True),
    "histogram": (histogram, _histogram_shape, True),   # a range that is not finite raises (NaN in a)
    "nanstd": (np.nanstd, _reduced, False),
    "nanvar": (np.nanvar, _reduced, False),
    "nanprod": (np.nanprod, _reduced, False),
    "nanargmax": (np.nanargmax, _reduced, True),   # an all-NaN slice raises
    "nanargmin": (np.nanargmin, _reduced, True),
    "trapezoid": (np.trapezoid, _reduced, False),
    "gradient": (np.gradient, _same, False),
    # LAPACK's errors depend on the values: not positive definite, not converged, singular
    "linalg_cholesky": (np.linalg.cholesky, _square_same, True),
    "linalg_pinv": (np.linalg.pinv, _pinv_shape, True),
    "linalg_matrix_power": (np.linalg.matrix_power, _square_same, True),
    "linalg_eigvalsh": (np.linalg.eigvalsh, _eigh_shape, True),
    "linalg_eigh": (eigh, _eigh_shape, True),
    "linalg_svdvals": (singular_values, _singular_values_shape, True),
    "linalg_qr": (qr, _qr_shape, True),
    "linalg_multi_dot": (multi_dot, _multi_dot_shape, True),
    "lexsort": (lexsort, _lexsort_shape, False),
    "unravel_index": (unravel_index, _same, True),   # an index out of bounds raises
    "vander": (np.vander, lambda x, N=None, increasing=False: (x.shape[0], x.shape[0] if N is None else N), False),
    "cov": (np.cov, _covariance_shape, False),
    "corrcoef": (np.corrcoef, _covariance_shape, False),
    "cross": (np.cross, _cross_shape, False),
    "kron": (np.kron, _kron_shape, False),
    "convolve": (np.convolve, _convolve_shape, False),
    "correlate": (np.correlate, _correlate_shape, False),
    "diag": (np.diag, _diag_shape, False),
}
def _zero_stand_in(meta: TensorMeta) -> Any:
    """Tiny, and 0: an index in bounds of any shape that has elements (np.unravel_index's)."""
    return meta.dtype.type(0) if meta.is_scalar else np.zeros((1,) * meta.ndim, meta.dtype)


_STAND_INS = {"cross": _vector_stand_in, "gradient": _gradient_stand_in, "unravel_index": _zero_stand_in}

def block(arrays: Any) -> Any:
    """np.block of nested tuples (the graph's form of the nested lists NumPy requires)."""
    return np.block(_as_lists(arrays))


def _as_lists(value: Any) -> Any:
    return [_as_lists(item) for item in value] if isinstance(value, tuple | list) else value


def _infer_block(arrays: Any) -> TensorMeta:
    """The shape (and NumPy's errors) from blocks whose elements take no bytes; the dtype is the
    arrays' common one, as concatenate promotes."""
    shaped = probe(block, (arrays,), {}, stand_in=sizeless_stand_in)
    return TensorMeta(shaped.shape, np.result_type(*_leaves(arrays)))


def _leaves(value: Any) -> list:
    if isinstance(value, tuple | list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value.dtype if isinstance(value, TensorMeta) else value]


register(Op("block", OpKind.EXTERN, block, _infer_block, doc="block(nested tuples of arrays): NumPy's np.block"))

for _name, _reference in {"partition": np.partition, "argpartition": np.argpartition}.items():
    register(Op(_name, OpKind.EXTERN, _reference, _infer_partition(_reference),
                doc=f"{_name}(a, kth, axis=..., kind=...): NumPy's, along one axis"))

# An unknown ufunc may raise for some values (it is someone else's code): it runs even when
# unused, in program order with every mutation, and on NumPy arrays (under Triton too).
register(Op("ufunc_call", OpKind.EXTERN, ufunc_call, infer_elementwise(ufunc_call), checks_values=True,
            doc="ufunc_call(*operands, ufunc=..., output=...): a ufunc Ember has no op for, NumPy's broadcasting"))

for _name, (_reference, _rule, _checks) in RULES.items():
    _infer = infer_by_rule(_reference, _rule, stand_in=_STAND_INS.get(_name, tiny_stand_in))
    register(Op(_name, OpKind.EXTERN, _reference, _infer, checks_values=_checks,
                doc=f"{_name.replace('_', '.')}: NumPy's, its shape by rule"))
