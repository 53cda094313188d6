"""Writes through an index array: ``np.<ufunc>.at`` (unbuffered: each repeated index applies)
and ``np.put_along_axis``, as in-place ops NumPy runs between kernels (ir/ops/mutation.py).
Assignment ``x[idx] = v`` with integer arrays in the index is access.py's. Importing this module
registers the handlers (calls.py does)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir.ops.elementwise import BINARY_UFUNCS
from .access import array_index, integer_array_index
from .errors import Unsupported
from .numpy_api import Handler, const, normalize_axis, numpy_function
from .operators import write_with
from .values import ArrayValue, ConstValue, Value

if TYPE_CHECKING:
    from .tracer import Tracer


def _array(tracer: Tracer, value: Value, name: str) -> ArrayValue:
    if not isinstance(value, ArrayValue) or value.node.meta.ndim == 0:
        raise Unsupported(f"{name} into something other than an array of one or more dimensions", tracer.loc)
    return value


def _ufunc_at(ufunc: np.ufunc) -> Handler:
    def handler(tracer: Tracer, a: Value, indices: Value, b: Any = None) -> Value:
        name = f"np.{ufunc.__name__}.at"
        target = _array(tracer, a, name)
        if b is None or isinstance(b, ConstValue) and b.value is None:
            raise Unsupported(f"{name} without values (NumPy's TypeError, eagerly)", tracer.loc)
        index = integer_array_index(tracer, indices)
        index = index if index is not None else array_index(tracer, indices, target)
        write_with(tracer, "ufunc_at", target, index, b, checks_writeable=False, ufunc=ufunc.__name__)
        return ConstValue(None)

    return handler


for _ufunc in BINARY_UFUNCS:
    numpy_function(_ufunc.at)(_ufunc_at(_ufunc))


@numpy_function(np.put_along_axis)
def _put_along_axis(tracer: Tracer, arr: Value, indices: Value, values: Value, axis: Any) -> Value:
    target = _array(tracer, arr, "np.put_along_axis")
    if not isinstance(indices, ArrayValue) or indices.node.meta.dtype.kind not in "iu":
        raise Unsupported("np.put_along_axis with indices that are not an integer array", tracer.loc)
    axis = const(tracer, axis, "axis")
    if axis is not None:
        (axis,) = normalize_axis(tracer, axis, target.node.meta.ndim)
    write_with(tracer, "put_along_axis", target, indices.node, values, axis=axis)
    return ConstValue(None)
