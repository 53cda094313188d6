"""Shape and dtype rules derived from NumPy itself, cheaply.

NumPy is the contract, so rather than restating its promotion rules (NEP 50 with weak
Python scalars) we ask NumPy: run the reference on tiny stand-in values of the right
dtypes. Views are probed on zero-stride stand-ins of the real shape, which costs nothing
and reproduces NumPy's shape results and its errors exactly.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..meta import TensorMeta


def tiny_stand_in(meta: TensorMeta) -> np.ndarray | np.generic:
    """A value with ``meta``'s dtype and ndim, every dimension 1."""
    if meta.is_scalar:
        return meta.dtype.type(1)
    return np.ones((1,) * meta.ndim, dtype=meta.dtype)


def full_stand_in(meta: TensorMeta) -> np.ndarray | np.generic:
    """A read-only value with ``meta``'s exact shape and no memory behind it (zero strides)."""
    if meta.is_scalar:
        return meta.dtype.type(0)
    return np.broadcast_to(np.zeros((), dtype=meta.dtype), meta.shape)


def sizeless_stand_in(meta: TensorMeta) -> np.ndarray | np.generic:
    """Like ``full_stand_in`` with elements of no bytes (an empty structured dtype): any shape whose
    element count NumPy can index, however large. Only for rules that never touch the elements."""
    if meta.is_scalar:
        return np.zeros((), dtype=np.dtype([]))[()]
    return np.broadcast_to(np.zeros((), dtype=np.dtype([])), meta.shape)


def map_metas(args: Any, convert: Callable[[TensorMeta], Any]) -> Any:
    """Replace every TensorMeta inside (nested tuples/lists of) ``args`` by ``convert(meta)``."""
    if isinstance(args, TensorMeta):
        return convert(args)
    if isinstance(args, tuple | list):
        return type(args)(map_metas(a, convert) for a in args)
    return args


def probe(fn: Callable[..., Any], args: tuple, kwargs: dict, stand_in=tiny_stand_in) -> Any:
    # What NumPy warns about on made-up values (np.cov of one observation, say) is not the user's.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*map_metas(args, stand_in), **kwargs)


def result_meta(shape: tuple[int, ...], probed: Any) -> TensorMeta:
    """Combine a shape rule with the dtype and scalar-ness NumPy produced on a probe."""
    dtype = np.asarray(probed).dtype
    return TensorMeta(tuple(int(d) for d in shape), dtype, isinstance(probed, np.generic) and not shape)


def shape_of(value: Any) -> tuple[int, ...]:
    return value.shape if isinstance(value, TensorMeta) else np.shape(value)
