"""In-place writes into existing memory: the only ops with side effects.

``setitem(dest, index, value)`` is ``dest[index] = value`` (unsafe cast, broadcasting, as
NumPy assigns; the index may hold integer arrays); augmented assignment ``x += y`` is traced
as ``setitem(x, Ellipsis, add(x, y))`` after the frontend checks NumPy's ``same_kind`` rule.
``ufunc_at(dest, index, values, ufunc=...)`` is ``np.<ufunc>.at`` (unbuffered: a repeated index
applies each time) and ``put_along_axis(dest, indices, values, axis=...)`` NumPy's function of
that name. Each node's value is ``dest`` itself, now updated. Indices from arrays may be out of
bounds: those ops check values (NumPy raises when they run).
"""
from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..meta import TensorMeta
from .probing import full_stand_in, map_metas, probe, shape_of, tiny_stand_in
from .registry import Op, OpKind, register


def setitem(dest, index, value):
    dest[index] = value
    return dest


def _infer_setitem(dest: TensorMeta, index: Any, value: Any) -> TensorMeta:
    if dest.is_scalar:
        raise TypeError(f"'{dest.dtype.type.__name__}' object does not support item assignment")
    _check_assignable(value, np.shape(_target(dest, index)))
    if not isinstance(value, TensorMeta):
        # Cast a constant now, as NumPy would: a Python int out of range, NaN into an integer
        # array or a complex into a real one raise here instead of at run time.
        np.empty(np.shape(value), dest.dtype)[...] = value
    return dest


def _check_assignable(value: Any, target_shape: tuple) -> None:
    """Raise as NumPy would when ``value`` cannot be assigned to ``target_shape`` (no memory)."""
    value_shape = tuple(shape_of(value))
    while len(value_shape) > len(target_shape) and value_shape[0] == 1:
        value_shape = value_shape[1:]  # NumPy drops leading unit dimensions: a[:] = b[None]
    np.broadcast_to(np.broadcast_to(False, value_shape), target_shape)


def _target(dest: TensorMeta, index: Any) -> Any:
    """``dest[index]`` on stand-ins that take no memory: an index array of zeros picks element 0."""
    return cast(np.ndarray, full_stand_in(dest))[map_metas(index, full_stand_in)]


def ufunc_at(dest, index, values, *, ufunc: str):
    getattr(np, ufunc).at(dest, index, values)
    return dest


def _infer_ufunc_at(dest: TensorMeta, index: Any, values: Any, *, ufunc: str) -> TensorMeta:
    if dest.is_scalar or dest.ndim == 0:
        raise TypeError(f"np.{ufunc}.at needs an array of at least one dimension")  # (the frontend's only case)
    np.broadcast_to(np.broadcast_to(False, shape_of(values)), np.shape(_target(dest, index)))
    # NumPy's casting error, if any: the ufunc's loop for (dest, values) cast back into dest.
    probe(getattr(np, ufunc).at, (np.ones(1, dest.dtype), 0, values if not isinstance(values, TensorMeta)
                                  else np.ones((), values.dtype)), {})
    return dest


def put_along_axis(dest, indices, values, *, axis):
    np.put_along_axis(dest, indices, values, axis)
    return dest


def _infer_put_along_axis(dest: TensorMeta, indices: TensorMeta, values: Any, *, axis: Any) -> TensorMeta:
    # The rank and axis errors on tiny stand-ins (index 0, writable), the shapes on the real ones.
    tiny_indices = np.zeros((1,) * indices.ndim, indices.dtype)
    tiny_values = tiny_stand_in(values) if isinstance(values, TensorMeta) else values
    np.put_along_axis(np.ones((1,) * dest.ndim, dest.dtype), tiny_indices, tiny_values, axis)
    if axis is None:
        _check_assignable(values, indices.shape)
    else:  # NumPy's fancy index: indices broadcast against dest's other axes
        axis %= dest.ndim
        shape = list(np.broadcast_shapes(dest.shape[:axis] + (1,) + dest.shape[axis + 1:], indices.shape))
        shape[axis] = indices.shape[axis]
        _check_assignable(values, tuple(shape))
    return dest


register(Op("setitem", OpKind.MUTATION, setitem, _infer_setitem))
register(Op("ufunc_at", OpKind.MUTATION, ufunc_at, _infer_ufunc_at, checks_values=True,
            doc="ufunc_at(dest, index, values, ufunc=...): np.<ufunc>.at, in place"))
register(Op("put_along_axis", OpKind.MUTATION, put_along_axis, _infer_put_along_axis, checks_values=True,
            doc="put_along_axis(dest, indices, values, axis=...): NumPy's, in place"))
