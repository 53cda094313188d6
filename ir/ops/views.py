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

# Symbolic shape inference (ir/symbolic.py) probes at stand-in sizes that multiply past what NumPy
# allocates or iterates from three dynamic dimensions on ("array is too big", or for a reshape
# that copies the zero-stride stand-in, "iterator is too large"). The shape then comes from a
# stand-in whose elements take no bytes: every layout of it is contiguous, so no view copies, and
# NumPy's shape rules and errors are the same. (An error of these words from a real shape raises
# again when NumPy makes the view at run time: eager raises it as well.)
_TOO_BIG = ("array is too big", "iterator is too large")


def _infer_view(name: str, reference):
    def infer(*args: Any, **kwargs: Any) -> TensorMeta:
        try:
            return TensorMeta.of(probe(reference, args, kwargs, stand_in=full_stand_in))
        except ValueError as error:
            if not any(words in str(error) for words in _TOO_BIG):
                raise
        shaped = probe(reference, args, kwargs, stand_in=sizeless_stand_in)
        return TensorMeta(np.shape(shaped), args[0].dtype, isinstance(shaped, np.generic))

    return infer


def getitem(x, index):
    return x[index]


def index_axes(items: tuple | list, ndim: int) -> list[int | None]:
    """The axis of an ``ndim``-array each item of a basic index selects from: None for None
    and Ellipsis (which select no axis of their own; Ellipsis skips the axes no item names)."""
    selecting = sum(1 for item in items if item is not None and item is not Ellipsis)
    axes: list[int | None] = []
    axis = 0
    for item in items:
        if item is None or item is Ellipsis:
            axis += ndim - selecting if item is Ellipsis else 0
            axes.append(None)
            continue
        axes.append(axis if axis >= 0 else None)
        axis += 1
    return axes


def dynamic_slice(x, start, *, axis, length):
    """``x[..., start:start + length, ...]`` along ``axis``, ``start`` read at run time (JAX's
    ``lax.dynamic_slice``): a view of ``length`` whatever ``start`` is, because the guards that
    admit it keep ``0 <= start <= x.shape[axis] - length`` (frontend/access.py)."""
    return x[(slice(None),) * axis + (slice(start, start + length),)]


def _infer_dynamic_slice(x: TensorMeta, start: TensorMeta, *, axis: int, length: int) -> TensorMeta:
    """Shape rule that holds for every start the guards admit, which probing at one cannot tell."""
    return TensorMeta(x.shape[:axis] + (length,) + x.shape[axis + 1:], x.dtype)


def transpose(x, axes=None):
    return np.transpose(x, axes)


def broadcast_writeable(x, shape):
    """np.broadcast_arrays's view of x: broadcast_to's, but flagged writeable (NumPy warns on a write)."""
    return np.broadcast_arrays(x, np.broadcast_to(np.empty((), bool), shape))[0]


def reshape(x, shape):
    # May copy (non-contiguous input), exactly when NumPy's reshape copies.
    return np.reshape(x, shape)


def ascontiguousarray(x):
    """NumPy's ``ascontiguousarray``: ``x`` itself when C-contiguous, else a copy in C order; a
    0-d value has one dimension after it. (Array methods, which CuPy's arrays have too.)"""
    if x.ndim == 0:
        return x.reshape(1)
    return x if x.flags.c_contiguous else x.copy(order="C")


def asfortranarray(x):
    """``asfortranarray``: ``x`` itself when F-contiguous, else a copy in F order."""
    if x.ndim == 0:
        return x.reshape(1)
    return x if x.flags.f_contiguous else x.copy(order="F")


# Like reshape and ravel, these are views that may copy: only the run time knows the layout.
# (Their rule is their input's meta: probing would copy the zero-stride stand-in, every element.)
CONTIGUOUS_VIEWS: dict[str, Callable[..., Any]] = {
    "ascontiguousarray": ascontiguousarray,
    "asfortranarray": asfortranarray,
}


def _infer_contiguous(x: TensorMeta) -> TensorMeta:
    return TensorMeta(x.shape or (1,), x.dtype)


VIEWS: dict[str, Callable[..., Any]] = {
    "getitem": getitem,            # basic indexing: ints, slices, None, Ellipsis
    "transpose": transpose,
    "reshape": reshape,
    "squeeze": np.squeeze,
    "expand_dims": np.expand_dims,
    "broadcast_to": np.broadcast_to,
    "broadcast_writeable": broadcast_writeable,
    "flip": np.flip,
    "swapaxes": np.swapaxes,
    "moveaxis": np.moveaxis,
    "ravel": np.ravel,
    "diagonal": np.diagonal,       # read-only in NumPy, as broadcast_to's
    "real": np.real,               # a complex array's real parts (strided), a real array itself
    "imag": np.imag,               # its imaginary parts; of a real array, read-only zeros
}

# Views NumPy makes read-only (a write raises), or whose writes NumPy only warns about and applies
# element by element through overlapping memory (broadcast_writeable): the frontend leaves a
# write into them to eager NumPy.
UNWRITABLE_VIEWS = frozenset({"broadcast_to", "broadcast_writeable", "diagonal"})

for _name, _reference in VIEWS.items():
    register(Op(_name, OpKind.VIEW, _reference, _infer_view(_name, _reference)))
for _name, _reference in CONTIGUOUS_VIEWS.items():
    register(Op(_name, OpKind.VIEW, _reference, _infer_contiguous))
register(Op("dynamic_slice", OpKind.VIEW, dynamic_slice, _infer_dynamic_slice))
