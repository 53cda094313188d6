"""Statistics as NumPy computes them: mean, var and std (with ``where=``, NumPy's own steps in
``numpy/_core/_methods.py``: masked sums over the count of the places kept), ptp,
count_nonzero, the NaN-skipping reductions, and NumPy's own calls between kernels for a weighted
average, cov and corrcoef (ir/ops/library.py). Importing this module registers the handlers
(calls.py does)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import Unsupported, UserCodeError
from .numpy_api import (
    Handler,
    array_method,
    as_array,
    call_handler,
    check_default,
    const,
    dtype_param,
    exactly,
    keepdims_flag,
    mask_fits,
    normalize_axis,
    numpy_function,
    reduction_handler,
)
from .values import ArrayValue, ConstValue, TupleValue, Value

if TYPE_CHECKING:
    from .tracer import Tracer

_NO_VALUE = object()  # NumPy's <no value> default (mean=, correction=, keepdims=)


# --- mean, var and std ----------------------------------------------------------------------

def _everywhere(where: Any) -> bool:
    return where is True or isinstance(where, ConstValue) and where.value is True


class _Masked:
    """NumPy's ``where=`` steps for one array: sums over the kept places, and their count."""

    def __init__(self, tracer: Tracer, array: ArrayValue, where: Value, axis: Any, keepdims: bool):
        mask = as_array(tracer, where)
        shape = array.node.meta.shape
        if not mask_fits(mask, shape):
            raise Unsupported("a where= mask that is not bool or does not broadcast to the array", tracer.loc)
        if array.node.meta.dtype.kind not in "biufc":
            raise Unsupported(f"mean/var/std with where= of {array.node.meta.dtype} arrays", tracer.loc)
        self.tracer, self.mask, self.shape = tracer, mask, shape
        self.axis = normalize_axis(tracer, const(tracer, axis, "axis"), len(shape))
        self.keepdims = keepdims_flag(tracer, keepdims)

    def _reduce(self, array: ArrayValue, dtype: np.dtype | None, keepdims: bool) -> ArrayValue:
        kwargs: dict[str, Any] = {"dtype": dtype} if dtype is not None else {}
        if self.axis is not None:
            kwargs["axis"] = self.axis
        if keepdims:
            kwargs["keepdims"] = True
        return self.tracer.emit("sum", array.node, **kwargs)

    def total(self, array: ArrayValue, dtype: np.dtype | None, keepdims: bool) -> ArrayValue:
        """``umr_sum(array, axis, dtype, keepdims=keepdims, where=mask)``: left-out places add 0."""
        zero = exactly(self.tracer, 0, array.node.meta.dtype)
        return self._reduce(self.tracer.emit("where", self.mask.node, array.node, zero), dtype, keepdims)

    def count(self, keepdims: bool) -> ArrayValue:
        """``_count_reduce_items``: the kept places along the reduced axes, as intp."""
        everywhere = self.mask if self.mask.node.meta.shape == self.shape else \
            self.tracer.emit("broadcast_to", self.mask.node, self.shape)
        return self._reduce(everywhere, np.dtype(np.intp), keepdims)

    def divide(self, total: ArrayValue, count: ArrayValue) -> ArrayValue:
        """``true_divide(total, count, out=total, casting='unsafe')``: in float64 (an intp divisor),
        cast back to the total's dtype."""
        quotient = self.tracer.emit("divide", total.node, count.node)
        if quotient.node.meta.dtype == total.node.meta.dtype:
            return quotient
        return self.tracer.emit("astype", quotient.node, dtype=total.node.meta.dtype)


def _summing_dtype(array: ArrayValue, dtype: np.dtype | None) -> np.dtype | None:
    """NumPy's default accumulator for a mean: float64 for integers and bools."""
    if dtype is None and array.node.meta.dtype.kind in "biu":
        return np.dtype(np.float64)
    return dtype


@numpy_function(np.mean)
@array_method("mean")
def _mean(tracer: Tracer, a: Value, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = False,
          *, where: Any = True) -> Value:
    if _everywhere(where):
        return _PLAIN["mean"](tracer, a, axis, dtype, out, keepdims)
    check_default(tracer, "out", out)
    array = as_array(tracer, a)
    masked = _Masked(tracer, array, where, axis, keepdims)
    dtype = _summing_dtype(array, dtype_param(tracer, dtype))
    float16 = dtype is None and array.node.meta.dtype == np.float16
    total = masked.total(array, np.dtype(np.float32) if float16 else dtype, masked.keepdims)
    mean = masked.divide(total, masked.count(masked.keepdims))
    return tracer.emit("astype", mean.node, dtype=array.node.meta.dtype) if float16 else mean


def _spread(root: bool) -> Handler:
    """np.var / np.std, with NumPy's positional order (ddof before keepdims)."""
    name = "std" if root else "var"

    def handler(tracer: Tracer, a: Value, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
                keepdims: Any = False, *, where: Any = True, mean: Any = _NO_VALUE,
                correction: Any = _NO_VALUE) -> Value:
        if mean is not _NO_VALUE or correction is not _NO_VALUE:
            raise Unsupported(f"np.{name} with mean= or correction=", tracer.loc)
        if _everywhere(where):
            return _PLAIN[name](tracer, a, axis, dtype, out, keepdims, ddof=ddof)
        check_default(tracer, "out", out)
        array = as_array(tracer, a)
        if array.node.meta.dtype.kind == "c":  # NumPy sums |x - mean|^2 through a float view
            raise Unsupported(f"np.{name} with where= of a complex array", tracer.loc)
        masked = _Masked(tracer, array, where, axis, keepdims)
        dtype = _summing_dtype(array, dtype_param(tracer, dtype))
        centre = masked.divide(masked.total(array, dtype, True), masked.count(True))
        deviation = tracer.emit("subtract", array.node, centre.node)
        squares = tracer.emit("multiply", deviation.node, deviation.node)
        total = masked.total(squares, dtype, masked.keepdims)
        ddof = const(tracer, ddof, "ddof")
        if type(ddof) not in (int, float):
            raise Unsupported(f"ddof of type {type(ddof).__name__}", tracer.loc)
        count = tracer.emit("maximum", tracer.emit("subtract", masked.count(masked.keepdims).node, ddof).node, 0)
        result = masked.divide(total, count)
        return tracer.emit("sqrt", result.node) if root else result

    return handler


_PLAIN = {name: reduction_handler(name) for name in ("mean", "var", "std")}
for _name, _fn in {"var": np.var, "std": np.std}.items():
    numpy_function(_fn)(_spread(root=_name == "std"))
    array_method(_name)(_spread(root=_name == "std"))


# --- ranges, counts and the NaN-skipping reductions ---------------------------------------

@numpy_function(np.ptp)
def _ptp(tracer: Tracer, a: Value, axis: Any = None, out: Any = None, keepdims: Any = False) -> Value:
    check_default(tracer, "out", out)
    array = as_array(tracer, a)
    kwargs: dict[str, Any] = {}
    if (axis := normalize_axis(tracer, const(tracer, axis, "axis"), array.node.meta.ndim)) is not None:
        kwargs["axis"] = axis
    if keepdims_flag(tracer, keepdims):
        kwargs["keepdims"] = True
    return tracer.emit("subtract", tracer.emit("max", array.node, **kwargs).node,
                       tracer.emit("min", array.node, **kwargs).node)


@numpy_function(np.count_nonzero)
def _count_nonzero(tracer: Tracer, a: Value, axis: Any = None, *, keepdims: Any = False) -> Value:
    axis, keepdims = const(tracer, axis, "axis"), keepdims_flag(tracer, keepdims)
    if axis is None and not keepdims:
        raise Unsupported("np.count_nonzero without an axis (a Python int of the values)", tracer.loc)
    array = as_array(tracer, a)
    if array.node.meta.dtype.kind in "SU":
        raise Unsupported("np.count_nonzero of strings", tracer.loc)
    kwargs: dict[str, Any] = {"dtype": np.dtype(np.intp)}
    if (axis := normalize_axis(tracer, axis, array.node.meta.ndim)) is not None:
        kwargs["axis"] = axis
    if keepdims:
        kwargs["keepdims"] = True
    return tracer.emit("sum", tracer.emit("astype", array.node, dtype=np.dtype(bool)).node, **kwargs)

def _without_nan(tracer: Tracer, a: Value, fill: float) -> ArrayValue:
    """NumPy's ``_replace_nan``: NaNs of a float array replaced (a copy); other dtypes as they are."""
    array = as_array(tracer, a)
    if array.node.meta.dtype.kind not in "fc":
        return array
    return tracer.emit("where", tracer.emit("isnan", array.node).node, fill, array.node)


@numpy_function(np.nansum)
def _nansum(tracer: Tracer, a: Value, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = False,
            initial: Any = _NO_VALUE, where: Any = True) -> Value:
    check_default(tracer, "out", out)
    kwargs = {"axis": axis, "dtype": dtype, "keepdims": keepdims, "where": where}
    if initial is not _NO_VALUE:
        kwargs["initial"] = initial
    return call_handler(tracer, np.sum, [_without_nan(tracer, a, 0)], kwargs)


def _nan_extreme(ufunc: np.ufunc) -> Handler:
    """np.nanmax / np.nanmin of an ndarray: NumPy's ``np.fmax.reduce`` (its "All-NaN slice"
    warning is not raised, as compiled code raises no RuntimeWarnings)."""
    def handler(tracer: Tracer, a: Value, axis: Any = None, out: Any = None, keepdims: Any = False,
                initial: Any = _NO_VALUE, where: Any = _NO_VALUE) -> Value:
        check_default(tracer, "out", out)
        if initial is not _NO_VALUE or where is not _NO_VALUE:
            raise Unsupported(f"np.nan{'max' if ufunc is np.fmax else 'min'} with initial= or where=", tracer.loc)
        return call_handler(tracer, ufunc.reduce, [a], {"axis": axis, "keepdims": keepdims})

    return handler


numpy_function(np.nanmax)(_nan_extreme(np.fmax))
numpy_function(np.nanmin)(_nan_extreme(np.fmin))

@numpy_function(np.nanmean)
def _nanmean(tracer: Tracer, a: Value, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = False,
             *, where: Any = _NO_VALUE, mean: Any = _NO_VALUE) -> Value:
    """NumPy's steps for a float array: the NaN-free sum over the count of non-NaN values, divided
    in float64 and cast back (``_divide_by_count``); other dtypes are np.mean's."""
    check_default(tracer, "out", out)
    check_default(tracer, "dtype", dtype)
    if where is not _NO_VALUE or mean is not _NO_VALUE:
        raise Unsupported("np.nanmean with where= or mean=", tracer.loc)
    array = as_array(tracer, a)
    if array.node.meta.dtype.kind not in "fc":
        return call_handler(tracer, np.mean, [array], {"axis": axis, "keepdims": keepdims})
    kwargs = {"axis": axis, "keepdims": keepdims}
    valid = tracer.emit("logical_not", tracer.emit("isnan", array.node).node)
    count = call_handler(tracer, np.sum, [valid], {**kwargs, "dtype": ConstValue(np.dtype(np.intp))})
    total = call_handler(tracer, np.sum, [_without_nan(tracer, array, 0)], kwargs)
    assert isinstance(total, ArrayValue) and isinstance(count, ArrayValue)
    quotient = tracer.emit("divide", total.node, count.node)
    return tracer.emit("astype", quotient.node, dtype=total.node.meta.dtype)



# --- NumPy's own calls: a weighted average, covariance and correlation ---------------------

@numpy_function(np.average)
def _average(tracer: Tracer, a: Value, axis: Any = None, weights: Any = None, returned: Any = False, *,
             keepdims: Any = _NO_VALUE) -> Value:
    """Without weights NumPy's ``a.mean(axis)``; with weights of a's shape, or 1-d along one axis,
    np.average itself (it raises ZeroDivisionError for weights that sum to zero); other weights
    are errors eager NumPy reports."""
    if const(tracer, returned, "returned"):
        raise Unsupported("np.average with returned=True", tracer.loc)
    keepdims_kw = {} if keepdims is _NO_VALUE else {"keepdims": keepdims_flag(tracer, keepdims)}
    if weights is None or isinstance(weights, ConstValue) and weights.value is None:
        mean = call_handler(tracer, np.mean, [a], {"axis": axis, **keepdims_kw})
        if isinstance(mean, ArrayValue) and 0 in mean.node.meta.shape:  # (NumPy divides a.size by its size)
            raise UserCodeError("ZeroDivisionError: np.average with an empty result", tracer.loc)
        return mean
    array, weight = as_array(tracer, a), as_array(tracer, weights)
    axis = const(tracer, axis, "axis")
    shape, weight_shape = array.node.meta.shape, weight.node.meta.shape
    along_axis = isinstance(axis, int) and len(weight_shape) == 1 and -len(shape) <= axis < len(shape) \
        and weight_shape[0] == shape[axis]
    if weight_shape != shape and not along_axis:
        raise Unsupported("np.average with weights not of a's shape nor 1-d along the axis", tracer.loc)
    return tracer.emit("average", array.node, weight.node, axis=axis, **keepdims_kw)


def _static(tracer: Tracer, name: str, *arrays: ArrayValue) -> None:
    for array in arrays:
        if not all(isinstance(d, int) and d > 0 for d in array.node.meta.shape):
            raise Unsupported(f"np.{name} of an empty array or dynamic sizes", tracer.loc)


@numpy_function(np.cov)
def _cov(tracer: Tracer, m: Value, y: Any = None, rowvar: Any = True, bias: Any = False, ddof: Any = None,
         fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Value:
    check_default(tracer, "fweights", fweights)
    check_default(tracer, "aweights", aweights)
    arrays = [as_array(tracer, m)] + ([] if y is None else [as_array(tracer, y)])
    _static(tracer, "cov", *arrays)
    return tracer.emit("cov", *(a.node for a in arrays), rowvar=bool(const(tracer, rowvar, "rowvar")),
                       bias=bool(const(tracer, bias, "bias")), ddof=const(tracer, ddof, "ddof"),
                       dtype=dtype_param(tracer, dtype))


@numpy_function(np.corrcoef)
def _corrcoef(tracer: Tracer, x: Value, y: Any = None, rowvar: Any = True, *, dtype: Any = None) -> Value:
    arrays = [as_array(tracer, x)] + ([] if y is None else [as_array(tracer, y)])
    _static(tracer, "corrcoef", *arrays)
    return tracer.emit("corrcoef", *(a.node for a in arrays), rowvar=bool(const(tracer, rowvar, "rowvar")),
                       dtype=dtype_param(tracer, dtype))


@numpy_function(np.histogram)
def _histogram(tracer: Tracer, a: Value, bins: Any = 10, range: Any = None, density: Any = None,  # noqa: A002
               weights: Any = None) -> Value:
    """A number of bins (their edges depend on the values, their count does not): NumPy's call,
    once per result; bin edges given as an array or a rule ('auto') run eagerly."""
    bins = const(tracer, bins, "bins")
    if not isinstance(bins, int | np.integer) or isinstance(bins, bool):
        raise Unsupported("np.histogram with bins that are not a number", tracer.loc)
    options: dict[str, Any] = {"bins": int(bins)}
    for name, value in (("range", range), ("density", density)):
        if (value := const(tracer, value, name)) is not None:
            options[name] = value
    operands = [as_array(tracer, a).node]
    if weights is not None and not (isinstance(weights, ConstValue) and weights.value is None):
        operands.append(as_array(tracer, weights).node)
    counts, edges = (tracer.emit("histogram", *operands, output=i, **options) for i in (0, 1))
    return TupleValue([counts, edges])


# --- the NaN-skipping statistics NumPy writes with masks and copies: its own calls -------

def _nan_spread(name: str) -> Handler:
    """np.nanstd / np.nanvar: NumPy's call between kernels (ir/ops/library.py)."""
    def handler(tracer: Tracer, a: Value, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
                keepdims: Any = False, *, where: Any = _NO_VALUE, mean: Any = _NO_VALUE,
                correction: Any = _NO_VALUE) -> Value:
        check_default(tracer, "out", out)
        if where is not _NO_VALUE or mean is not _NO_VALUE or correction is not _NO_VALUE:
            raise Unsupported(f"np.{name} with where=, mean= or correction=", tracer.loc)
        options = {"dtype": dtype} if (dtype := dtype_param(tracer, dtype)) is not None else {}
        return tracer.emit(name, as_array(tracer, a).node, axis=const(tracer, axis, "axis"),
                           ddof=const(tracer, ddof, "ddof"), keepdims=keepdims_flag(tracer, keepdims),
                           **options)

    return handler


@numpy_function(np.nanprod)
def _nanprod(tracer: Tracer, a: Value, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = False,
             initial: Any = _NO_VALUE, where: Any = _NO_VALUE) -> Value:
    check_default(tracer, "out", out)
    if initial is not _NO_VALUE or where is not _NO_VALUE:
        raise Unsupported("np.nanprod with initial= or where=", tracer.loc)
    options = {"dtype": dtype} if (dtype := dtype_param(tracer, dtype)) is not None else {}
    return tracer.emit("nanprod", as_array(tracer, a).node, axis=const(tracer, axis, "axis"),
                       keepdims=keepdims_flag(tracer, keepdims), **options)


def _nan_arg_extreme(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, axis: Any = None, out: Any = None, *, keepdims: Any = False) -> Value:
        check_default(tracer, "out", out)
        return tracer.emit(name, as_array(tracer, a).node, axis=const(tracer, axis, "axis"),
                           keepdims=bool(const(tracer, keepdims, "keepdims")))

    return handler


def _nan_scan(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, axis: Any = None, dtype: Any = None, out: Any = None) -> Value:
        check_default(tracer, "out", out)
        options = {"dtype": dtype} if (dtype := dtype_param(tracer, dtype)) is not None else {}
        return tracer.emit(name, as_array(tracer, a).node, axis=const(tracer, axis, "axis"), **options)

    return handler


_NAN_HANDLERS: dict[Any, Handler] = {
    np.nanstd: _nan_spread("nanstd"), np.nanvar: _nan_spread("nanvar"),
    np.nanargmax: _nan_arg_extreme("nanargmax"), np.nanargmin: _nan_arg_extreme("nanargmin"),
    np.nancumsum: _nan_scan("nancumsum"), np.nancumprod: _nan_scan("nancumprod"),
}
for _nan_fn, _handler in _NAN_HANDLERS.items():
    numpy_function(_nan_fn)(_handler)
