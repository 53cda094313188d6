"""Reductions with NumPy's axis / keepdims / dtype / ddof parameters.

The frontend normalises ``axis`` to a sorted tuple of non-negative ints, or None for all
axes; argmax/argmin keep NumPy's single int or None.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..meta import TensorMeta
from .probing import probe, result_meta
from .registry import Op, OpKind, register


def reduced_shape(shape: tuple[int, ...], axis: tuple[int, ...] | int | None, keepdims: bool) -> tuple[int, ...]:
    axes: Sequence[int] = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    # NumPy counts negative axes from the end; out-of-range ones are left for the probe to reject.
    axes = [a + len(shape) if a < 0 else a for a in axes]
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _infer_reduction(reference):
    def infer(x: TensorMeta, **kwargs: Any) -> TensorMeta:
        axis = kwargs.get("axis")
        shape = reduced_shape(x.shape, axis, kwargs.get("keepdims", False))
        if x.size == 0 and reference in (np.max, np.min, np.argmax, np.argmin):
            # NumPy raises for empty max/min only when a reduced axis is empty; ask it.
            probe(reference, (x,), kwargs, stand_in=_empty_stand_in)
        return result_meta(shape, probe(reference, (x,), kwargs))

    return infer


def _empty_stand_in(meta: TensorMeta):
    return np.empty(meta.shape, meta.dtype)


REDUCTIONS: dict[str, Callable[..., Any]] = {
    "sum": np.sum, "prod": np.prod, "mean": np.mean, "max": np.max, "min": np.min,
    "any": np.any, "all": np.all, "argmax": np.argmax, "argmin": np.argmin,
    "var": np.var, "std": np.std,
}

for _name, _reference in REDUCTIONS.items():
    register(Op(_name, OpKind.REDUCTION, _reference, _infer_reduction(_reference)))
