"""View ops: results that may share memory with their input, as in NumPy.

Shapes come from running NumPy on a zero-stride stand-in of the real shape, so index
errors and bad reshapes surface exactly as NumPy raises them.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..meta import TensorMeta
from .probing import full_stand_in, probe, sizeless_stand_in
from .registry import Op, OpKind, register

# Views that only rearrange their input's elements (never copy, never grow): a real input is never
# too big to make, so "array is too big" from one can only come from symbolic shape inference,
# whose stand-in sizes (ir/symbolic.py) multiply past what NumPy allows from three dynamic
# dimensions on. Their shape then comes from a stand-in whose elements take no bytes.
_REARRANGING = frozenset({"getitem", "transpose", "squeeze", "expand_dims", "flip", "swapaxes", "moveaxis",
                          "diagonal"})


def _infer_view(name: str, reference):
    def infer(*args: Any, **kwargs: Any) -> TensorMeta:
        try:
            return TensorMeta.of(probe(reference, args, kwargs, stand_in=full_stand_in))
        except ValueError as error:
            if name not in _REARRANGING or "array is too big" not in str(error):
                raise
        shaped = probe(reference, args, kwargs, stand_in=sizeless_stand_in)
        return TensorMeta(np.shape(shaped), args[0].dtype, isinstance(shaped, np.generic))

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
    "diagonal": np.diagonal,       # read-only in NumPy, as broadcast_to's
}

for _name, _reference in VIEWS.items():
    register(Op(_name, OpKind.VIEW, _reference, _infer_view(_name, _reference)))
