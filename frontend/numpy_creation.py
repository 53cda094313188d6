"""Array creation: zeros/ones/empty/full and their ``_like`` forms, arange, linspace, eye,
identity (graph ops), and logspace/geomspace of constants (folded to a fresh array per call).
Importing this module registers the handlers (calls.py does); ``CREATION_FUNCTIONS`` in
numpy_api.py names the ones traced even without array arguments."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir import is_static
from .errors import Unsupported, UserCodeError
from .numpy_api import Handler, as_array, check_default, const, dtype_param, numpy_function, shape_param
from .values import Value

if TYPE_CHECKING:
    from .tracer import Tracer


def _creation(name: str) -> Handler:
    def handler(tracer: Tracer, shape: Value, dtype: Any = float, order: Any = "C", *, like: Any = None) -> Value:
        check_default(tracer, "order", order, "C")
        check_default(tracer, "like", like)
        return tracer.emit(name, shape_param(tracer, shape), dtype=dtype_param(tracer, dtype))

    return handler


_fn: Any  # (NumPy callables of different types, in the loops registering them)
for _name, _fn in {"zeros": np.zeros, "ones": np.ones, "empty": np.empty}.items():
    numpy_function(_fn)(_creation(_name))


@numpy_function(np.full)
def _full(tracer: Tracer, shape: Value, fill_value: Value, dtype: Any = None, order: Any = "C", *,
          like: Any = None) -> Value:
    check_default(tracer, "order", order, "C")
    check_default(tracer, "like", like)
    fill = const(tracer, fill_value, "fill_value")
    dtype = dtype_param(tracer, dtype) or np.array(fill).dtype
    return tracer.emit("full", shape_param(tracer, shape), fill, dtype=dtype)


def _like(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, *rest: Value, dtype: Any = None, order: Any = "K",
                subok: Any = True, shape: Any = None) -> Value:
        array = as_array(tracer, a)
        meta = array.node.meta
        target_shape = shape_param(tracer, shape) if shape is not None else meta.shape
        dtype = dtype_param(tracer, dtype) or meta.dtype
        check_default(tracer, "order", order, "K")
        if name == "full" and not rest:
            raise UserCodeError("TypeError: full_like() missing fill_value", tracer.loc)
        fill = [const(tracer, rest[0], "fill_value")] if name == "full" else []
        # Laid out like the array (which only the run time sees) where NumPy keeps its order: the
        # same number of dimensions, at least two.
        if shape is None and meta.ndim >= 2:
            return tracer.emit(f"{name}_like", array.node, *fill, dtype=dtype)
        if len(target_shape) == meta.ndim >= 2 and is_static(target_shape):
            return tracer.emit(f"{name}_like", array.node, *fill, dtype=dtype, shape=tuple(target_shape))
        return tracer.emit(name, target_shape, *fill, dtype=dtype)

    return handler


for _name, _fn in {"zeros": np.zeros_like, "ones": np.ones_like, "empty": np.empty_like,
                   "full": np.full_like}.items():
    numpy_function(_fn)(_like(_name))


@numpy_function(np.arange)
def _arange(tracer: Tracer, *args: Value, dtype: Any = None, like: Any = None, **kw: Value) -> Value:
    params = [const(tracer, a, "arange bound") for a in args]
    params += [const(tracer, v, k) for k, v in kw.items()]  # start=/stop=/step= by keyword
    return tracer.emit("arange", *params, dtype=dtype_param(tracer, dtype))


@numpy_function(np.linspace)
def _linspace(tracer: Tracer, start: Value, stop: Value, num: Any = 50, endpoint: Any = True,
              retstep: Any = False, dtype: Any = None, axis: Any = 0) -> Value:
    check_default(tracer, "retstep", retstep, False)
    check_default(tracer, "axis", axis, 0)
    return tracer.emit("linspace", const(tracer, start, "start"), const(tracer, stop, "stop"),
                       const(tracer, num, "num"), endpoint=const(tracer, endpoint, "endpoint"),
                       dtype=dtype_param(tracer, dtype))


@numpy_function(np.eye)
def _eye(tracer: Tracer, N: Value, M: Any = None, k: Any = 0, dtype: Any = float, order: Any = "C",  # noqa: N803
         *, like: Any = None) -> Value:
    check_default(tracer, "order", order, "C")
    check_default(tracer, "like", like)
    return tracer.emit("eye", const(tracer, N, "N"), const(tracer, M, "M"), const(tracer, k, "k"),
                       dtype=dtype_param(tracer, dtype))


@numpy_function(np.identity)
def _identity(tracer: Tracer, n: Value, dtype: Any = None, *, like: Any = None) -> Value:
    check_default(tracer, "like", like)
    return tracer.emit("eye", const(tracer, n, "n"), None, 0, dtype=dtype_param(tracer, dtype) or np.dtype(float))


def _of_constants(name: str) -> Handler:
    """A pure function NumPy computes from its parameters alone (np.logspace): a call with
    constant arguments is folded to a fresh array per call (call_numpy); one with arrays breaks."""
    def handler(tracer: Tracer, *args: Any, **kwargs: Any) -> Value:
        raise Unsupported(f"np.{name} of arrays", tracer.loc)

    return handler


for _name, _fn in {"logspace": np.logspace, "geomspace": np.geomspace}.items():
    numpy_function(_fn)(_of_constants(_name))
