"""In-place writes into existing memory: the only ops with side effects.

``setitem(dest, index, value)`` is ``dest[index] = value`` (unsafe cast, broadcasting, as
NumPy assigns); augmented assignment ``x += y`` is traced as
``setitem(x, Ellipsis, add(x, y))`` after the frontend checks NumPy's ``same_kind`` rule.
The node's value is ``dest`` itself, now updated.
"""
from __future__ import annotations

from typing import Any

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
    target = full_stand_in(dest)[index]
    np.broadcast_to(np.empty(shape_of(value), dtype=bool), np.shape(target))  # raises as NumPy would
    return dest


register(Op("setitem", OpKind.MUTATION, setitem, _infer_setitem))
