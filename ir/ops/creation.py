"""Ops that make new arrays from static parameters (shapes, fill values, ranges), or laid out like
another array (``zeros_like``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..meta import TensorMeta
from .registry import Op, OpKind, register

CREATIONS: dict[str, Callable[..., Any]] = {
    "zeros": np.zeros, "ones": np.ones, "full": np.full, "empty": np.empty,
    "arange": np.arange, "linspace": np.linspace, "eye": np.eye,
}


def _infer_creation(reference):
    def infer(*args: Any, **kwargs: Any) -> TensorMeta:
        # Parameters are constants; a zero-size call would lose the shape, so ask for the
        # real one. These are rare and small next to the work that reads them.
        return TensorMeta.of(reference(*args, **kwargs))

    return infer


for _name, _reference in CREATIONS.items():
    register(Op(_name, OpKind.CREATION, _reference, _infer_creation(_reference)))

# ``np.zeros_like(a)`` and kin: a new array laid out like ``a`` (NumPy's order='K'), which only
# the run time sees for values computed in the graph; the array is an argument, never read.
LIKE_CREATIONS: dict[str, Callable[..., Any]] = {
    "zeros_like": np.zeros_like, "ones_like": np.ones_like, "empty_like": np.empty_like, "full_like": np.full_like,
}


def _infer_like(reference):
    def infer(array: TensorMeta, *args: Any, shape: Any = None, **kwargs: Any) -> TensorMeta:
        # NumPy's dtype (and errors: a fill value out of range) from a 0-d stand-in
        dtype = reference(np.empty((), array.dtype), *args, **kwargs).dtype
        return TensorMeta(array.shape if shape is None else tuple(shape), dtype)

    return infer


for _name, _reference in LIKE_CREATIONS.items():
    register(Op(_name, OpKind.CREATION, _reference, _infer_like(_reference)))
