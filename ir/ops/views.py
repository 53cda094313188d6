"""View ops: results that may share memory with their input, as in NumPy.

Shapes come from running NumPy on a zero-stride stand-in of the real shape, so index
errors and bad reshapes surface exactly as NumPy raises them.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..meta import TensorMeta
from .probing import full_stand_in, probe
from .registry import Op, OpKind, register


def _infer_view(reference):
    def infer(*args: Any, **kwargs: Any) -> TensorMeta:
        return TensorMeta.of(probe(reference, args, kwargs, stand_in=full_stand_in))

    return infer


def getitem(x, index):
    return x[index]


def transpose(x, axes=None):
    return np.transpose(x, axes)


def reshape(x, shape):
    # May copy (non-contiguous input), exactly when NumPy's reshape copies.
    return np.reshape(x, shape)


VIEWS: dict[str, Callable[..., Any]] = {
    "getitem": getitem,            # basic indexing: ints, slices, None, Ellipsis
    "transpose": transpose,
    "reshape": reshape,
    "squeeze": np.squeeze,
    "expand_dims": np.expand_dims,
    "broadcast_to": np.broadcast_to,
    "flip": np.flip,
    "swapaxes": np.swapaxes,
    "moveaxis": np.moveaxis,
    "ravel": np.ravel,
}

for _name, _reference in VIEWS.items():
    register(Op(_name, OpKind.VIEW, _reference, _infer_view(_reference)))
