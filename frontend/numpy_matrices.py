"""Diagonals, vector and Kronecker products and convolution. A matrix's diagonal is a view, as in
NumPy (read-only, ``np.diagonal``); ``np.diag`` of a vector, ``np.cross``, ``np.kron`` and
``np.convolve`` are NumPy's own calls between kernels (ir/ops/library.py), so their values are
eager's to the bit. Shapes they do not take (2-vectors, which NumPy 2 deprecates; other axes;
empty or dynamic sizes where the shape rule would need their values) run eagerly. Importing
this module registers the handlers (calls.py does)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir.symbolic import broadcast_shapes
from .errors import Unsupported, UserCodeError
from .numpy_api import array_method, as_array, const, numpy_function
from .values import Value

if TYPE_CHECKING:
    from .tracer import Tracer


def _integer(tracer: Tracer, value: Any, what: str) -> int:
    number = const(tracer, value, what)
    if not isinstance(number, int | np.integer) or isinstance(number, bool):
        raise Unsupported(f"{what}={number!r}: an integer is expected", tracer.loc)
    return int(number)


@numpy_function(np.diagonal)
@array_method("diagonal")
def _diagonal(tracer: Tracer, a: Value, offset: Any = 0, axis1: Any = 0, axis2: Any = 1) -> Value:
    """A read-only view, NumPy's shape and axis errors from its own probe (ir/ops/views.py)."""
    return tracer.emit("diagonal", as_array(tracer, a).node, _integer(tracer, offset, "offset"),
                       _integer(tracer, axis1, "axis1"), _integer(tracer, axis2, "axis2"))


@numpy_function(np.diag)
def _diag(tracer: Tracer, v: Value, k: Any = 0) -> Value:
    """A matrix's k-th diagonal (a view), or a square matrix with a vector on it (a new array)."""
    array, k = as_array(tracer, v), _integer(tracer, k, "k")
    ndim = array.node.meta.ndim
    if ndim == 2:
        return tracer.emit("diagonal", array.node, k, 0, 1)
    if ndim != 1:
        raise UserCodeError("ValueError: Input must be 1- or 2-d.", tracer.loc)
    if not isinstance(array.node.meta.shape[0], int):
        raise Unsupported("np.diag of a vector of dynamic length", tracer.loc)
    return tracer.emit("diag", array.node, k=k)


@numpy_function(np.cross)
def _cross(tracer: Tracer, a: Value, b: Value, axisa: Any = -1, axisb: Any = -1, axisc: Any = -1,
           axis: Any = None) -> Value:
    left, right = as_array(tracer, a), as_array(tracer, b)
    axes = tuple(const(tracer, x, name) for x, name in ((axisa, "axisa"), (axisb, "axisb"), (axisc, "axisc")))
    if axes != (-1, -1, -1) or const(tracer, axis, "axis") is not None:
        raise Unsupported("np.cross along other axes than the last", tracer.loc)
    shapes = left.node.meta.shape, right.node.meta.shape
    if not all(shape and shape[-1] == 3 for shape in shapes):
        raise Unsupported("np.cross of other than 3-vectors", tracer.loc)
    try:
        broadcast_shapes(shapes[0][:-1], shapes[1][:-1])
    except ValueError:
        raise Unsupported("np.cross of vectors that do not broadcast (NumPy's error, eagerly)", tracer.loc) from None
    return tracer.emit("cross", left.node, right.node)


@numpy_function(np.kron)
def _kron(tracer: Tracer, a: Value, b: Value) -> Value:
    left, right = as_array(tracer, a), as_array(tracer, b)
    if not all(isinstance(d, int) for d in (*left.node.meta.shape, *right.node.meta.shape)):
        raise Unsupported("np.kron with dynamic sizes", tracer.loc)
    return tracer.emit("kron", left.node, right.node)


@numpy_function(np.convolve)
def _convolve(tracer: Tracer, a: Value, v: Value, mode: Any = "full") -> Value:
    left, right = as_array(tracer, a), as_array(tracer, v)
    mode = const(tracer, mode, "mode")
    if not isinstance(mode, str) or mode not in ("full", "same", "valid"):
        raise Unsupported(f"np.convolve with mode={mode!r}", tracer.loc)
    shapes = left.node.meta.shape, right.node.meta.shape
    if not all(len(shape) == 1 and isinstance(shape[0], int) for shape in shapes):
        raise Unsupported("np.convolve of other than vectors of static length", tracer.loc)
    return tracer.emit("convolve", left.node, right.node, mode=mode)
