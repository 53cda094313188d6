"""NumPy functions and ndarray methods the tracer turns into graph ops.

Each handler has NumPy's own signature, so Python binds the user's arguments exactly as
NumPy would; arguments arrive as symbolic values. Registering a NumPy callable here is how
a new function becomes traceable.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir.symbolic import Dim, SymbolicShapeError, broadcasts_to
from .conversions import NotConstant, computed_value, constant_of, contains_array, graph_arg
from .errors import Unsupported, UserCodeError
from .guards import OTHER_SPELLINGS
from .operators import check_numbers_convert, inplace, stacked, write_into
from .values import (
    ArrayValue,
    ConstValue,
    HandlerValue,
    ListValue,
    QuietContextValue,
    SizeValue,
    TupleValue,
    Value,
)

if TYPE_CHECKING:
    from ..ir import Node
    from .tracer import Tracer

Handler = Callable[..., Value]
NUMPY_FUNCTIONS: dict[Any, Handler] = {}
ARRAY_METHODS: dict[str, Handler] = {}
_NOT_GIVEN: Any = object()  # (the default of parameters typed by what they take when given)


def numpy_function(*callables: Any):
    def register(handler: Handler) -> Handler:
        for fn in callables:
            NUMPY_FUNCTIONS[fn] = handler
        return handler

    return register


def array_method(*names: str):
    def register(handler: Handler) -> Handler:
        for name in names:
            ARRAY_METHODS[name] = handler
        return handler

    return register


def call_numpy(tracer: Tracer, fn: Any, args: list[Value], kwargs: dict[str, Value]) -> Value | None:
    """Trace a call to a NumPy callable, or return None when Ember does not know it."""
    handler = NUMPY_FUNCTIONS.get(fn) if _hashable(fn) else None
    if handler is None and isinstance(fn, np.ufunc) and fn.signature is None:
        from .numpy_ufuncs import other_ufunc_handler  # (which imports this module)
        handler = other_ufunc_handler(fn)
    if handler is None:
        return None
    if not any(contains_array(v) for v in [*args, *kwargs.values()]) and fn not in TRACED_ON_CONSTANTS:
        return fold_constant_call(tracer, fn, args, kwargs)
    return invoke(tracer, handler, getattr(fn, "__name__", "numpy function"), args, kwargs)


def call_handler(tracer: Tracer, fn: Any, args: list, kwargs: dict[str, Any]) -> Value:
    """Ember's handler of the NumPy callable ``fn``, called as NumPy's own code calls ``fn``."""
    return invoke(tracer, NUMPY_FUNCTIONS[fn], getattr(fn, "__name__", "numpy function"), args, kwargs)


def invoke(tracer: Tracer, handler: Handler, name: str, args: list, kwargs: dict) -> Value:
    try:
        bound = inspect.signature(handler).bind(tracer, *args, **kwargs)
    except TypeError as exc:
        raise Unsupported(f"unsupported arguments to {name}: {exc}", tracer.loc) from None
    return handler(*bound.args, **bound.kwargs)


def fold_constant_call(tracer: Tracer, fn: Any, args: list[Value], kwargs: dict[str, Value]) -> Value:
    try:
        result = fn(*(constant_of(a) for a in args), **{k: constant_of(v) for k, v in kwargs.items()})
    except NotConstant:
        raise Unsupported(f"{fn.__name__} on values Ember cannot see", tracer.loc) from None
    except SymbolicShapeError:
        raise
    except Exception as exc:
        raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc
    if isinstance(result, np.ndarray):
        if not result.flags.writeable:  # (a copy would be writeable)
            raise Unsupported(f"{fn.__name__} of constants makes a read-only array", tracer.loc)
        return tracer.emit("copy", result)  # a fresh array each call, as eager makes one
    return computed_value(result, tracer.loc)


def _hashable(fn: Any) -> bool:
    try:
        hash(fn)
    except TypeError:
        return False
    return True


def const(tracer: Tracer, value: Any, what: str) -> Any:
    """A parameter that must be known at trace time (axis, shape, dtype...)."""
    if not isinstance(value, Value):
        return value  # a Python default from the handler's signature
    try:
        return constant_of(value)
    except NotConstant:
        raise Unsupported(f"{what} must be a constant, not an array", tracer.loc) from None


def shape_const(tracer: Tracer, value: Any, what: str) -> Any:
    """A target shape: like ``const``, but a dynamic size from ``x.shape`` or ``len(x)`` (a
    SizeValue) stays a Dim, which reshape and broadcast_to take (ir/symbolic.py)."""
    if isinstance(value, SizeValue):
        return value.dim
    if isinstance(value, TupleValue | ListValue):
        return tuple(shape_const(tracer, item, what) for item in value.items)
    return const(tracer, value, what)


def python_number(value: Value) -> int | float | complex | None:
    """The Python int, float or complex a value is at trace time (not a bool, not a NumPy scalar)."""
    try:
        number = constant_of(value)
    except NotConstant:
        return None
    return number if type(number) in (int, float, complex) else None


def number_or_node(tracer: Tracer, value: Value) -> Any:
    """A Python number as itself (weak in NumPy's promotion), anything else as a graph node."""
    number = python_number(value)
    return number if number is not None else as_array(tracer, value).node


def sequence_items(tracer: Tracer, sequence: Value, name: str) -> list[Value]:
    """The items of a tuple or list argument (np.vstack's, np.select's)."""
    if not isinstance(sequence, TupleValue | ListValue):
        raise Unsupported(f"{name} of something other than a tuple or list", tracer.loc)
    return list(sequence.items)


def as_array(tracer: Tracer, value: Value, dtype: np.dtype | None = None) -> ArrayValue:
    """``np.asarray(value)`` in the graph. ``dtype`` converts Python values as NumPy does, with
    its checks (``[1, 300]`` into uint8 raises; through int64 it would wrap); arrays keep theirs."""
    if isinstance(value, ArrayValue):
        return value
    if contains_array(value):
        if dtype is not None:
            check_numbers_convert(tracer, value, dtype)
        return stacked(tracer, value)
    try:
        return tracer.emit("copy", np.asarray(graph_arg(value), dtype=dtype))
    except (TypeError, ValueError, OverflowError) as exc:
        raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc


def c_ordered(tracer: Tracer, node: Node) -> ArrayValue:
    """A fresh result laid out in C order, as NumPy allocates it where Ember's op would follow its
    operands' order (a gather along the last axis, a select of transposed arrays); 0-d and 1-d
    ones as they are (``np.ascontiguousarray`` makes a 0-d array 1-d)."""
    return tracer.emit("ascontiguousarray", node) if node.meta.ndim >= 2 else ArrayValue(node)


def normalize_axis(tracer: Tracer, axis: Any, ndim: int, single: bool = False):
    """``axis`` as a sorted tuple of axes (or the one axis, ``single``); None stays None. NumPy's
    reductions take an integer or a tuple of them, not a bool or a list (others run eagerly)."""
    if axis is None:
        return None
    if _is_axis(axis):
        axes = (axis,)
    elif type(axis) is tuple and all(map(_is_axis, axis)):
        axes = axis
    else:
        raise UserCodeError(f"TypeError: axis {axis!r} is not an integer or a tuple of integers", tracer.loc)
    try:
        normalized = tuple(sorted(np.lib.array_utils.normalize_axis_tuple(axes, ndim)))
    except Exception as exc:
        raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc
    if single:
        if len(axes) != 1 or not isinstance(axis, int | np.integer):
            raise UserCodeError("TypeError: axis must be an integer", tracer.loc)
        return normalized[0]
    return normalized


def keepdims_flag(tracer: Tracer, keepdims: Any) -> bool:
    """``keepdims`` of a reduction NumPy runs as a ufunc's: a Python bool or an integer (it
    raises TypeError for others, np.True_ included, where argmax or median test truth): others
    run eagerly."""
    value = const(tracer, keepdims, "keepdims")
    if not isinstance(value, bool | int | np.integer):
        raise UserCodeError(f"TypeError: keepdims={value!r} is not a bool or an integer", tracer.loc)
    return bool(value)


def _is_axis(axis: Any) -> bool:
    return isinstance(axis, int | np.integer) and not isinstance(axis, bool)


def dtype_param(tracer: Tracer, dtype: Any) -> np.dtype | None:
    dtype = const(tracer, dtype, "dtype")
    if dtype is None:
        return None
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise UserCodeError(f"TypeError: {exc}", tracer.loc) from exc
    if dtype.hasobject:  # (Python objects: NumPy's loops call their methods)
        raise Unsupported("dtype=object", tracer.loc)
    if dtype.char in OTHER_SPELLINGS:
        raise Unsupported(f"dtype={OTHER_SPELLINGS[dtype.char]} (equal to {dtype}, but NumPy keeps it apart)",
                          tracer.loc)
    return dtype


def check_default(tracer: Tracer, name: str, value: Any, default: Any = None) -> None:
    if value is not default and not (isinstance(value, ConstValue) and value.value is default):
        raise Unsupported(f"argument {name}= is not supported", tracer.loc)


@numpy_function(np.where)
def _where(tracer: Tracer, condition: Value, x: Value = _NOT_GIVEN, y: Value = _NOT_GIVEN) -> Value:
    if x is _NOT_GIVEN or y is _NOT_GIVEN:
        raise Unsupported("np.where with one argument (data-dependent shape)", tracer.loc)
    return tracer.emit("where", graph_arg(condition), graph_arg(x), graph_arg(y))


@numpy_function(np.round, np.around)
def _round(tracer: Tracer, a: Value, decimals: Any = 0, out: Any = None) -> Value:
    check_default(tracer, "out", out)
    return tracer.emit("round", graph_arg(a), decimals=const(tracer, decimals, "decimals"))


_ERRSTATE_KINDS = ("all", "divide", "over", "under", "invalid")


@numpy_function(np.errstate)
def _errstate(tracer: Tracer, *args: Value, **kwargs: Value) -> Value:
    """``with np.errstate(...)`` compiles where it only ignores or warns: compiled kernels raise no
    floating-point warnings (codegen/llvm/__init__.py), and 'raise' or 'call' would need them."""
    settings = {name: const(tracer, value, name) for name, value in kwargs.items()}
    loud = {k: v for k, v in settings.items() if k not in _ERRSTATE_KINDS or v not in (None, "ignore", "warn")}
    if args or loud:
        raise Unsupported(f"np.errstate with {loud or 'positional arguments'}: compiled kernels set no "
                          "floating-point flags to raise or call on", tracer.loc)
    return QuietContextValue(f"np.errstate({', '.join(f'{k}={v!r}' for k, v in settings.items())})")


@numpy_function(np.copy)
def _copy(tracer: Tracer, a: Value, order: Any = "K", subok: Any = False) -> Value:
    if isinstance(a, ArrayValue) and a.node.meta.is_scalar:
        return tracer.emit("array", a.node)  # np.copy(np.float32(1)) is a 0-d array
    return tracer.emit("copy", graph_arg(a), **_order(tracer, order))


def _order(tracer: Tracer, order: Any) -> dict[str, Any]:
    """The ``order=`` of a copy or astype node: none for 'K' (keep the layout, the op's default;
    NumPy reads None as 'K')."""
    order = const(tracer, order, "order")
    if order not in (None, "K", "A", "C", "F"):
        raise Unsupported(f"order={order!r}", tracer.loc)
    return {} if order in (None, "K") else {"order": order}


@numpy_function(np.asarray, np.asanyarray)
def _asarray(tracer: Tracer, a: Value, dtype: Any = None, order: Any = None, **_ignored: Any) -> Value:
    dtype = dtype_param(tracer, dtype)
    array = as_array(tracer, a, dtype)
    order = const(tracer, order, "order")
    if order in ("C", "F") and array.node.meta.ndim > 0:  # a 0-d array is both
        return _contiguous(tracer, array, dtype, order)
    if order not in (None, "K", "A", "C", "F"):
        raise Unsupported(f"np.asarray with order={order!r}", tracer.loc)
    if dtype is None or dtype == array.node.meta.dtype:
        if array.node.meta.is_scalar:
            return tracer.emit("array", array.node)  # asarray(np.float32(1)) is a 0-d array
        return array
    return tracer.emit("astype", array.node, dtype=dtype)


@numpy_function(np.ascontiguousarray)
def _ascontiguousarray(tracer: Tracer, a: Value, dtype: Any = None, *, like: Any = None) -> Value:
    check_default(tracer, "like", like)
    return _contiguous(tracer, as_array(tracer, a), dtype_param(tracer, dtype), "C")


@numpy_function(np.asfortranarray)
def _asfortranarray(tracer: Tracer, a: Value, dtype: Any = None, *, like: Any = None) -> Value:
    check_default(tracer, "like", like)
    return _contiguous(tracer, as_array(tracer, a), dtype_param(tracer, dtype), order="F")


def _contiguous(tracer: Tracer, array: ArrayValue, dtype: np.dtype | None, order: str) -> Value:
    """``array`` in ``order`` with at least one dimension: itself where NumPy's layout at run time
    already is (a write to the result then reaches the argument), else a copy."""
    if dtype is not None and dtype != array.node.meta.dtype:
        array = tracer.emit("astype", array.node, dtype=dtype, order=order)
    return tracer.emit("ascontiguousarray" if order == "C" else "asfortranarray", array.node)


@numpy_function(np.array)
def _array(tracer: Tracer, object: Value, dtype: Any = None, *, copy: Any = True, order: Any = "K",  # noqa: A002
           subok: Any = False, ndmin: Any = 0) -> Value:
    check_default(tracer, "ndmin", ndmin, 0)
    if const(tracer, copy, "copy") is False:  # NumPy raises where it would have to copy: eagerly
        array = object if isinstance(object, ArrayValue) and not object.node.meta.is_scalar else None
        if array is None or dtype_param(tracer, dtype) not in (None, array.node.meta.dtype):
            raise Unsupported("np.array(copy=False) of a value it may have to copy", tracer.loc)
    if const(tracer, copy, "copy") is not True:
        return _asarray(tracer, object, dtype, order)
    array = as_array(tracer, object, dtype := dtype_param(tracer, dtype))
    result = tracer.emit("astype", array.node, dtype=dtype or array.node.meta.dtype, **_order(tracer, order))
    return tracer.emit("array", result.node) if result.node.meta.is_scalar else result


# --- reductions -----------------------------------------------------------------------

# Identities that fill the places a ``where=`` mask leaves out; max and min have none (NumPy asks
# for ``initial=``), mean, var and std divide by a count the mask changes (numpy_statistics.py).
_WHERE_FILL = {"sum": 0, "prod": 1, "any": False, "all": True}
_WITH_INITIAL = {"sum": "add", "prod": "multiply", "max": "maximum", "min": "minimum"}


def reduction_handler(name: str) -> Handler:
    """The handler of reduction ``name``: NumPy's axis, keepdims, dtype, ddof (var and std),
    initial= and where= (sum, prod, max, min, any, all)."""
    def handler(tracer: Tracer, a: Value, axis: Any = None, dtype: Any = None, out: Any = None,
                keepdims: Any = False, *, ddof: Any = 0, initial: Any = _NOT_GIVEN, where: Any = True) -> Value:
        check_default(tracer, "out", out)
        array = as_array(tracer, a)
        kwargs: dict[str, Any] = {"axis": normalize_axis(tracer, const(tracer, axis, "axis"), array.node.meta.ndim)}
        if keepdims_flag(tracer, keepdims):
            kwargs["keepdims"] = True
        dtype = dtype_param(tracer, dtype)
        if dtype is not None:
            if name in ("max", "min", "any", "all"):
                raise Unsupported(f"dtype= for {name}", tracer.loc)
            kwargs["dtype"] = dtype
        if name in ("var", "std") and const(tracer, ddof, "ddof") != 0:
            kwargs["ddof"] = const(tracer, ddof, "ddof")
        if kwargs["axis"] is None:
            del kwargs["axis"]
        start = None if initial is _NOT_GIVEN else const(tracer, initial, "initial")
        if start is not None and name not in _WITH_INITIAL:
            raise Unsupported(f"argument initial= for {name}", tracer.loc)
        if not (where is True or isinstance(where, ConstValue) and where.value is True):
            array = _masked(tracer, name, array, where, start)
        result = tracer.emit(name, array.node, **kwargs)
        if start is not None:  # NumPy starts the reduction at initial, in the result's dtype
            result = tracer.emit(_WITH_INITIAL[name], result.node, exactly(tracer, start, result.node.meta.dtype))
        return result

    return handler


def _masked(tracer: Tracer, name: str, array: ArrayValue, where: Value, start: Any) -> ArrayValue:
    """``array`` with the places ``where`` leaves out set to what changes no reduction: the
    identity, or for max and min the initial value (NumPy raises without one)."""
    if name in ("max", "min") and start is None:
        ufunc = "maximum" if name == "max" else "minimum"
        raise UserCodeError(f"ValueError: reduction operation '{ufunc}' does not have an identity, so to use a "
                            "where mask one has to specify 'initial'", tracer.loc)
    if name not in _WHERE_FILL and name not in ("max", "min"):
        raise Unsupported(f"argument where= for {name}", tracer.loc)
    mask = as_array(tracer, where)
    if not mask_fits(mask, array.node.meta.shape):
        raise Unsupported("a where= mask that is not bool or broadcasts beyond the array", tracer.loc)
    fill = start if name in ("max", "min") else _WHERE_FILL[name]
    return tracer.emit("where", mask.node, array.node, exactly(tracer, fill, array.node.meta.dtype))


def mask_fits(mask: ArrayValue, shape: tuple) -> bool:
    """Whether a ``where=`` mask is bool and broadcasts to ``shape``; where it does not broadcast,
    NumPy raises its own message, so the caller lets eager run."""
    return mask.node.meta.dtype == np.bool_ and broadcasts_to(mask.node.meta.shape, shape)


def exactly(tracer: Tracer, value: Any, dtype: np.dtype) -> Any:
    """``value`` as a NumPy scalar of ``dtype`` (so it promotes nothing), when that is exact."""
    if type(value) not in (bool, int, float):
        raise Unsupported(f"initial= or a fill of type {type(value).__name__}", tracer.loc)
    try:
        typed = dtype.type(value)
    except (OverflowError, ValueError):
        raise Unsupported(f"initial={value!r} does not fit {dtype}", tracer.loc) from None
    if not (typed == value or value != value):  # NaN stays NaN
        raise Unsupported(f"initial={value!r} is not exact in {dtype}", tracer.loc)
    return typed


def _arg_reduction(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, axis: Any = None, out: Any = None, *, keepdims: Any = False) -> Value:
        check_default(tracer, "out", out)
        array = as_array(tracer, a)
        kwargs: dict[str, Any] = {}
        axis = const(tracer, axis, "axis")
        if axis is not None:
            kwargs["axis"] = normalize_axis(tracer, axis, array.node.meta.ndim, single=True)
        if const(tracer, keepdims, "keepdims"):
            kwargs["keepdims"] = True
        return tracer.emit(name, array.node, **kwargs)

    return handler


for _name, _fns in {"sum": (np.sum,), "prod": (np.prod,), "max": (np.max, np.amax), "min": (np.min, np.amin),
                    "any": (np.any,), "all": (np.all,)}.items():  # mean, var, std: numpy_statistics.py
    numpy_function(*_fns)(reduction_handler(_name))
    array_method(_name)(reduction_handler(_name))
_fn: Any  # (NumPy callables of different types, in the loops registering them)
for _name, _fn in {"argmax": np.argmax, "argmin": np.argmin}.items():
    numpy_function(_fn)(_arg_reduction(_name))
    array_method(_name)(_arg_reduction(_name))


# --- products, views, joins -------------------------------------------------------------

@numpy_function(np.dot)
@array_method("dot")
def _dot(tracer: Tracer, a: Value, b: Value, out: Any = None) -> Value:
    check_default(tracer, "out", out)
    return tracer.emit("dot", graph_arg(a), graph_arg(b))


@numpy_function(np.transpose)
def _transpose(tracer: Tracer, a: Value, axes: Any = None) -> Value:
    return tracer.emit("transpose", as_array(tracer, a).node, const(tracer, axes, "axes"))


@array_method("transpose")
def _transpose_method(tracer: Tracer, a: ArrayValue, *axes: Value) -> Value:
    given: Any = [const(tracer, x, "axes") for x in axes]
    if len(given) == 1 and (given[0] is None or isinstance(given[0], tuple | list)):
        given = given[0]
    return tracer.emit("transpose", a.node, tuple(given) if given else None)


@numpy_function(np.reshape)
def _reshape(tracer: Tracer, a: Value, shape: Any = None, order: Any = "C", *, newshape: Any = None,
             copy: Any = None) -> Value:
    check_default(tracer, "order", order, "C")
    check_default(tracer, "copy", copy)
    shape = shape_param(tracer, shape if shape is not None else newshape)
    return tracer.emit("reshape", as_array(tracer, a).node, shape)


@array_method("reshape")
def _reshape_method(tracer: Tracer, a: Value, *shape: Value, order: Any = "C", copy: Any = None) -> Value:
    given = [shape_const(tracer, s, "shape") for s in shape]
    if len(given) == 1 and isinstance(given[0], tuple | list):
        given = list(given[0])
    return _reshape(tracer, a, tuple(given), order, copy=copy)


@numpy_function(np.squeeze)
@array_method("squeeze")
def _squeeze(tracer: Tracer, a: Value, axis: Any = None) -> Value:
    array = as_array(tracer, a)
    axis = normalize_axis(tracer, const(tracer, axis, "axis"), array.node.meta.ndim)
    if axis == () or axis is None and 1 not in array.node.meta.shape:
        return array  # NumPy hands back the array itself when there is nothing to squeeze
    return tracer.emit("squeeze", array.node, axis=axis) if axis is not None else tracer.emit("squeeze", array.node)


def array_part(tracer: Tracer, array: ArrayValue, name: str) -> Value:
    """``array.real`` or ``array.imag``: views of a complex array's parts; a real array's real
    part is the array itself (``x.real is x``), its imaginary part read-only zeros."""
    if name == "real" and array.node.meta.dtype.kind != "c":
        return array
    return tracer.emit(name, array.node)


@numpy_function(np.expand_dims)
def _expand_dims(tracer: Tracer, a: Value, axis: Value) -> Value:
    return tracer.emit("expand_dims", as_array(tracer, a).node, const(tracer, axis, "axis"))


@numpy_function(np.broadcast_to)
def _broadcast_to(tracer: Tracer, array: Value, shape: Value, subok: Any = False) -> Value:
    return tracer.emit("broadcast_to", as_array(tracer, array).node, shape_param(tracer, shape))


@numpy_function(np.flip)
def _flip(tracer: Tracer, m: Value, axis: Any = None) -> Value:
    axis = const(tracer, axis, "axis")
    return tracer.emit("flip", as_array(tracer, m).node, axis=axis)


@numpy_function(np.swapaxes)
@array_method("swapaxes")
def _swapaxes(tracer: Tracer, a: Value, axis1: Value, axis2: Value) -> Value:
    return tracer.emit("swapaxes", as_array(tracer, a).node, const(tracer, axis1, "axis"),
                       const(tracer, axis2, "axis"))


@numpy_function(np.moveaxis)
def _moveaxis(tracer: Tracer, a: Value, source: Value, destination: Value) -> Value:
    return tracer.emit("moveaxis", as_array(tracer, a).node, const(tracer, source, "source"),
                       const(tracer, destination, "destination"))


@numpy_function(np.ravel)
@array_method("ravel")
def _ravel(tracer: Tracer, a: Value, order: Any = "C") -> Value:
    return tracer.emit("ravel", _in_index_order(tracer, as_array(tracer, a), order).node)


@array_method("conj", "conjugate")
def _conj(tracer: Tracer, a: ArrayValue) -> Value:
    # ndarray.conj() of a real array is the array itself (np.conj makes a new one)
    return tracer.emit("conjugate", a.node) if a.node.meta.dtype.kind == "c" else a


@array_method("flatten")
def _flatten(tracer: Tracer, a: ArrayValue, order: Any = "C") -> Value:
    return tracer.emit("copy", tracer.emit("reshape", _in_index_order(tracer, a, order).node, (-1,)).node)


def _in_index_order(tracer: Tracer, array: ArrayValue, order: Any) -> ArrayValue:
    """The array whose C order is ``order``'s: itself for 'C', its transpose for 'F' (a view, so
    NumPy's ravel of it copies or not exactly where ``ravel(order='F')`` does). 'A' and 'K'
    follow the memory layout, which the trace does not know for values computed in it."""
    order = const(tracer, order, "order")
    if order in ("C", None):
        return array
    if order == "F":
        return tracer.emit("transpose", array.node, None)
    raise Unsupported(f"order={order!r} (it follows the memory layout)", tracer.loc)


def _join(name: str) -> Handler:
    def handler(tracer: Tracer, arrays: Value, axis: Any = 0, out: Any = None, *, dtype: Any = None,
                casting: Any = "same_kind") -> Value:
        check_default(tracer, "out", out)
        check_default(tracer, "dtype", dtype)
        check_default(tracer, "casting", casting, "same_kind")
        parts = graph_arg(arrays)
        if not isinstance(parts, tuple):
            raise Unsupported(f"{name} of a single array", tracer.loc)
        return tracer.emit(name, parts, axis=const(tracer, axis, "axis"))

    return handler


numpy_function(np.concatenate)(_join("concatenate"))
numpy_function(np.stack)(_join("stack"))


# --- creation (handlers: numpy_creation.py) -------------------------------------------

def shape_param(tracer: Tracer, shape: Any) -> tuple:
    """A target shape as a tuple of ints and dynamic sizes (Dims), as NumPy normalises one."""
    shape = shape_const(tracer, shape, "shape")
    if not isinstance(shape, tuple | list):
        shape = (shape,)
    for size in shape:  # NumPy takes integers only (a float size, ``n / 2``, raises)
        if not isinstance(size, Dim) and (isinstance(size, bool) or not isinstance(size, int | np.integer)):
            raise UserCodeError(f"TypeError: {type(size).__name__!r} object cannot be interpreted as an integer",
                                tracer.loc)
    return tuple(s if isinstance(s, Dim) else int(s) for s in shape)


CREATION_FUNCTIONS: frozenset[Any] = frozenset({np.zeros, np.ones, np.empty, np.full, np.arange, np.linspace, np.eye,
                                                 np.identity, np.array, np.asarray, np.asanyarray, np.copy})
# Handled even when no argument holds an array: a fresh array each call; a context manager.
TRACED_ON_CONSTANTS = CREATION_FUNCTIONS | {np.errstate}


# --- ndarray attributes and methods ------------------------------------------------------

def array_attribute(tracer: Tracer, array: ArrayValue, name: str) -> Value:
    meta = array.node.meta
    if name == "shape":
        return TupleValue([SizeValue(d) if isinstance(d, Dim) else ConstValue(d) for d in meta.shape])
    if name in ("ndim", "size"):
        return ConstValue(getattr(meta, name))
    if name == "dtype":
        return ConstValue(meta.dtype)
    if name in ("itemsize", "nbytes"):
        return ConstValue(meta.dtype.itemsize * (meta.size if name == "nbytes" else 1))
    if name == "T":
        return tracer.emit("transpose", array.node, None)
    if name in ("real", "imag"):
        return array_part(tracer, array, name)
    if name in ARRAY_METHODS or name in _OTHER_METHODS:
        handler = ARRAY_METHODS.get(name) or _OTHER_METHODS[name]
        return HandlerValue(f"ndarray.{name}",
                            lambda t, args, kwargs: invoke(t, handler, f"ndarray.{name}", [array, *args], kwargs),
                            receiver=array, attribute=name)
    raise Unsupported(f"ndarray attribute {name!r}", tracer.loc)


@numpy_function(np.shape)
def _shape(tracer: Tracer, a: Value) -> Value:
    return array_attribute(tracer, as_array(tracer, a), "shape")


@numpy_function(np.ndim)
def _ndim(tracer: Tracer, a: Value) -> Value:
    return array_attribute(tracer, as_array(tracer, a), "ndim")


@numpy_function(np.size)
def _size(tracer: Tracer, a: Value, axis: Any = None) -> Value:
    array = as_array(tracer, a)
    axis = normalize_axis(tracer, const(tracer, axis, "axis"), array.node.meta.ndim, single=True)
    if axis is None:
        return array_attribute(tracer, array, "size")
    shape = array_attribute(tracer, array, "shape")
    assert isinstance(shape, TupleValue)  # (array_attribute's shape)
    return shape.items[axis]


def _astype(tracer: Tracer, a: ArrayValue, dtype: Any, order: Any = "K", casting: Any = "unsafe",
            subok: Any = True, copy: Any = True) -> Value:
    dtype = dtype_param(tracer, dtype)
    rule = const(tracer, casting, "casting")
    if rule not in ("no", "equiv", "safe", "same_kind", "unsafe") or not np.can_cast(a.node.meta.dtype, dtype, rule):
        raise UserCodeError(f"TypeError: astype from {a.node.meta.dtype} to {dtype} with casting={rule!r}", tracer.loc)
    if not const(tracer, copy, "copy") and dtype == a.node.meta.dtype:
        return a
    return tracer.emit("astype", a.node, dtype=dtype, **_order(tracer, order))


def _copy_method(tracer: Tracer, a: ArrayValue, order: Any = "C") -> Value:
    return tracer.emit("copy", a.node, **_order(tracer, order))  # (C by default, unlike np.copy)


def _round_method(tracer: Tracer, a: Value, decimals: Any = 0, out: Any = None) -> Value:
    return _round(tracer, a, decimals, out)


def _fill(tracer: Tracer, a: ArrayValue, value: Value) -> Value:
    write_into(tracer, a, (Ellipsis,), value)
    return ConstValue(None)


def _to_python(tracer: Tracer, a: Value, *args: Any) -> Value:
    raise Unsupported("converting array data to a Python value (item/tolist)", tracer.loc)


_OTHER_METHODS: dict[str, Handler] = {
    "astype": _astype, "copy": _copy_method, "round": _round_method,
    "fill": _fill, "item": _to_python, "tolist": _to_python,
}

__all__ = ["call_numpy", "array_attribute", "inplace", "NUMPY_FUNCTIONS"]
