"""In-place writes into existing memory: the only ops with side effects.

``setitem(dest, index, value)`` is ``dest[index] = value`` (unsafe cast, broadcasting, as
NumPy assigns); augmented assignment ``x += y`` is traced as
``setitem(x, Ellipsis, add(x, y))`` after the frontend checks NumPy's ``same_kind`` rule.
The node's value is ``dest`` itself, now updated.
"""
from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..meta import TensorMeta
from .probing import full_stand_in, shape_of
from .registry import Op, OpKind, register


def setitem(dest, index, value):
    dest[index] = value
    return dest


def _infer_setitem(dest: TensorMeta, index: Any, value: Any) -> TensorMeta:
    if dest.is_scalar:
        raise TypeError(f"'{dest.dtype.type.__name__}' object does not support item assignment")
    target = cast(np.ndarray, full_stand_in(dest))[index]  # (dest is not 0-d: checked above)
    value_shape = tuple(shape_of(value))
    while len(value_shape) > np.ndim(target) and value_shape[0] == 1:
        value_shape = value_shape[1:]  # NumPy drops leading unit dimensions: a[:] = b[None]
    np.broadcast_to(np.broadcast_to(False, value_shape), np.shape(target))  # raises as NumPy would (no memory)
    if not isinstance(value, TensorMeta):
        # Cast a constant now, as NumPy would: a Python int out of range, NaN into an integer
        # array or a complex into a real one raise here instead of at run time.
        np.empty(np.shape(value), dest.dtype)[...] = value
    return dest


register(Op("setitem", OpKind.MUTATION, setitem, _infer_setitem))
