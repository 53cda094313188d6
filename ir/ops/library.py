"""NumPy functions run as they are between kernels, with a shape rule each: sorted-array lookups
(searchsorted, digitize, isin), interpolation (interp) and dense linear algebra (inv, solve,
det). Dtypes, scalar-ness and NumPy's errors for bad parameters come from a probe on tiny
stand-ins (extern.py); errors that depend on the shapes are raised here, as NumPy's types.
``checks_values``: LAPACK's "Singular matrix" and digitize's unsorted bins depend on the values."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..meta import TensorMeta
from .extern import infer_by_rule
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


RULES: dict[str, tuple[Any, Any, bool]] = {  # op: (NumPy function, shape rule, checks_values)
    "searchsorted": (np.searchsorted, _search_shape, False),
    "digitize": (np.digitize, _digitize_shape, True),
    "interp": (np.interp, _interp_shape, False),
    "isin": (np.isin, _isin_shape, False),
    "linalg_inv": (np.linalg.inv, lambda a: (_square(a), a.shape)[1], True),
    "linalg_solve": (np.linalg.solve, _solve_shape, True),
    "linalg_det": (np.linalg.det, lambda a: (_square(a), a.shape[:-2])[1], False),
}

for _name, (_reference, _rule, _checks) in RULES.items():
    register(Op(_name, OpKind.EXTERN, _reference, infer_by_rule(_reference, _rule), checks_values=_checks,
                doc=f"{_name.replace('_', '.')}: NumPy's, its shape by rule"))
