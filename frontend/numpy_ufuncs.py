"""Ufuncs: Ember's elementwise ops with NumPy's ``out=``, ``where=`` (with ``out=``) and ``dtype=``
(the loop NumPy resolves), ``np.clip``, and every other ufunc as NumPy's own call between
kernels. Importing this module registers the handlers (calls.py does)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir import Node
from ..ir.ops.elementwise import BINARY_UFUNCS, UNARY_UFUNCS
from ..ir.symbolic import broadcasts_to
from .conversions import graph_arg
from .errors import Unsupported, UserCodeError
from .numpy_api import _NOT_GIVEN, Handler, array_method, as_array, check_default, dtype_param, numpy_function
from .operators import write_into
from .run_time_scalars import scalars_read_at_run_time, size_as_value
from .values import ArrayValue, ConstValue, TupleValue, Value

if TYPE_CHECKING:
    from .tracer import Tracer


def _loops_take_ints_with_floats(ufunc: np.ufunc) -> bool:
    """Whether some loop of ``ufunc`` takes an integer next to a float (``ldexp``): there NumPy
    keeps a Python int an int, where other ufuncs convert it to the float's dtype."""
    def kinds(signature: str) -> set[str]:
        return {np.dtype(c).kind for c in signature.split("->")[0] if c != "O"}

    return any({"i", "f"} <= kinds(t) or {"u", "f"} <= kinds(t) for t in ufunc.types)


def _ufunc_handler(ufunc: np.ufunc) -> Handler:
    def handler(tracer: Tracer, *args: Value, out: Any = None, where: Any = _NOT_GIVEN, dtype: Any = None,
                casting: Any = "same_kind") -> Value:
        if len(args) != ufunc.nin:
            raise UserCodeError(f"TypeError: {ufunc.__name__} takes {ufunc.nin} arguments", tracer.loc)
        check_default(tracer, "casting", casting, "same_kind")
        if len(args) == 2:
            args = size_as_value(tracer, ufunc.__name__, *args)
            if dtype is None:
                args = scalars_read_at_run_time(tracer, *args, ints=not _loops_take_ints_with_floats(ufunc))
        operands = [a.node if isinstance(a, ArrayValue) else graph_arg(a) for a in args]
        loop_output = None
        if dtype is not None:
            operands, loop_output = _in_loop_dtypes(tracer, ufunc, operands, dtype_param(tracer, dtype))
        result = tracer.emit(ufunc.__name__, *operands)
        if loop_output is not None and result.node.meta.dtype != loop_output:
            raise Unsupported(f"{ufunc.__name__} with dtype={loop_output} (NumPy's loop differs from Ember's op)",
                              tracer.loc)
        if where is not _NOT_GIVEN and ufunc.signature is not None:  # (np.matmul takes no where=)
            raise UserCodeError(f"TypeError: {ufunc.__name__}() got an unexpected keyword argument 'where'",
                                tracer.loc)
        where = True if where is _NOT_GIVEN else where
        masked = not (where is True or isinstance(where, ConstValue) and where.value is True)
        target = _out_target(tracer, out)
        if target is None:
            check_default(tracer, "where", where, True)  # (NumPy leaves the other places uninitialised)
            return result
        if masked:
            mask = as_array(tracer, where)
            if mask.node.meta.dtype != np.dtype(bool):
                raise Unsupported("where= of other than booleans", tracer.loc)
            result = tracer.emit("where", mask.node, result.node, target.node)  # out keeps the rest
        if ufunc.signature is not None and result.node.meta.shape != target.node.meta.shape:
            # (a matrix product's output has its shape exactly: no broadcasting into a larger one)
            raise UserCodeError(f"ValueError: {ufunc.__name__}: output operand of another shape", tracer.loc)
        return _write_out(tracer, target, result)

    return handler


def _out_target(tracer: Tracer, out: Any) -> ArrayValue | None:
    """The array ``out=`` names (given alone or as a one-tuple); None for none."""
    if out is None or isinstance(out, ConstValue) and out.value is None:
        return None
    target = out.items[0] if isinstance(out, TupleValue) and len(out.items) == 1 else out
    if not isinstance(target, ArrayValue):
        raise Unsupported("out= that is not an array", tracer.loc)
    return target


def _in_loop_dtypes(tracer: Tracer, ufunc: np.ufunc, operands: list, dtype: np.dtype | None
                    ) -> tuple[list, np.dtype]:
    """The operands cast to the inner loop NumPy picks for ``dtype=`` (which computes in that
    dtype: ``np.add(int8, int8, dtype=int64)`` does not wrap at 127), and the loop's output
    dtype; NumPy's errors for dtypes it has no loop for."""
    given = tuple(o.meta.dtype if isinstance(o, Node) else type(o) for o in operands)
    try:
        loop = ufunc.resolve_dtypes((*given, None), signature=(*(None,) * len(given), dtype))
    except Exception as exc:  # noqa: BLE001 - NumPy's own error for these dtypes, as eager raises it
        raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc
    cast = []
    for operand, wanted in zip(operands, loop, strict=False):
        if isinstance(operand, Node):
            cast.append(operand if operand.meta.dtype == wanted else tracer.emit("astype", operand, dtype=wanted).node)
        elif type(operand) in (bool, int, float, complex):
            try:
                cast.append(wanted.type(operand))
            except (OverflowError, ValueError) as exc:
                raise UserCodeError(f"{type(exc).__name__}: {exc}", tracer.loc) from exc
        else:
            raise Unsupported(f"dtype= with an operand of type {type(operand).__name__}", tracer.loc)
    return cast, loop[-1]


def other_ufunc_handler(ufunc: np.ufunc) -> Handler:
    """A ufunc without an op of Ember's (np.fabs, np.gcd, a SciPy special function; np.divmod,
    np.frexp and np.modf give a tuple, one call per output): NumPy calls it between kernels
    (ir/ops/library.py), so its values and dtypes are its own."""
    def handler(tracer: Tracer, *args: Value, out: Any = None, where: Any = True, dtype: Any = None,
                casting: Any = "same_kind", order: Any = "K", subok: Any = True) -> Value:
        for name, value, default in (("out", out, None), ("where", where, True), ("dtype", dtype, None),
                                     ("casting", casting, "same_kind"), ("order", order, "K"), ("subok", subok, True)):
            check_default(tracer, name, value, default)
        if len(args) != ufunc.nin:
            raise UserCodeError(f"TypeError: {ufunc.__name__} takes {ufunc.nin} arguments", tracer.loc)
        operands = [graph_arg(a) for a in args]
        outputs = [tracer.emit("ufunc_call", *operands, ufunc=ufunc, **({} if ufunc.nout == 1 else {"output": i}))
                   for i in range(ufunc.nout)]
        if any(o.node.meta.dtype.kind not in "biufc" for o in outputs):
            raise Unsupported(f"{ufunc.__name__} giving {outputs[0].node.meta.dtype} values", tracer.loc)
        return outputs[0] if ufunc.nout == 1 else TupleValue(list(outputs))

    return handler


def _write_out(tracer: Tracer, target: ArrayValue, result: ArrayValue) -> ArrayValue:
    if not np.can_cast(result.node.meta.dtype, target.node.meta.dtype, casting="same_kind"):
        raise UserCodeError(f"Cannot cast ufunc output from {result.node.meta.dtype} to "
                            f"{target.node.meta.dtype} with casting rule 'same_kind'", tracer.loc)
    if not broadcasts_to(result.node.meta.shape, target.node.meta.shape):  # eager raises NumPy's error
        raise UserCodeError("non-broadcastable output operand", tracer.loc)
    return write_into(tracer, target, (Ellipsis,), result)


for _ufunc in UNARY_UFUNCS + BINARY_UFUNCS:
    numpy_function(_ufunc)(_ufunc_handler(_ufunc))
numpy_function(np.matmul)(_ufunc_handler(np.matmul))
numpy_function(np.abs)(_ufunc_handler(np.absolute))
# Other names of the same loops (NumPy keeps both ufunc objects: np.radians is not np.deg2rad).
numpy_function(np.radians)(_ufunc_handler(np.deg2rad))
numpy_function(np.degrees)(_ufunc_handler(np.rad2deg))


@numpy_function(np.fabs)
def _fabs(tracer: Tracer, x: Value, **kwargs: Any) -> Value:
    """``np.absolute`` on floats (the same loops); on integers NumPy's fabs casts to a float type
    first (int8 to float16), so those stay NumPy's own call."""
    if isinstance(x, ArrayValue) and x.node.meta.dtype.kind == "f":
        return _ufunc_handler(np.absolute)(tracer, x, **kwargs)
    return other_ufunc_handler(np.fabs)(tracer, x, **kwargs)



@numpy_function(np.clip)
def _clip(tracer: Tracer, a: Value, a_min: Any = _NOT_GIVEN, a_max: Any = _NOT_GIVEN, out: Any = None,
          *, min: Any = _NOT_GIVEN, max: Any = _NOT_GIVEN) -> Value:  # noqa: A002 - NumPy's names
    """NumPy's rules: both bounds positionally (or by a_min=, a_max=), or by min= and max=."""
    if a_min is _NOT_GIVEN and a_max is _NOT_GIVEN:
        a_min, a_max = min, max
    elif a_min is _NOT_GIVEN or a_max is _NOT_GIVEN:
        missing = "a_min" if a_min is _NOT_GIVEN else "a_max"
        raise UserCodeError(f"TypeError: clip() missing 1 required positional argument: '{missing}'", tracer.loc)
    elif min is not _NOT_GIVEN or max is not _NOT_GIVEN:
        raise UserCodeError("ValueError: Passing `min` or `max` keyword argument when `a_min` and `a_max` are "
                            "provided is forbidden.", tracer.loc)
    return _clipped(tracer, a, a_min, a_max, out)


@array_method("clip")
def _clip_method(tracer: Tracer, a: Value, min: Any = None, max: Any = None, out: Any = None) -> Value:  # noqa: A002
    return _clipped(tracer, a, min, max, out)


def _clipped(tracer: Tracer, a: Value, low: Any, high: Any, out: Any) -> Value:
    bounds = [None if bound is _NOT_GIVEN or bound is None else graph_arg(bound) for bound in (low, high)]
    result = tracer.emit("clip", graph_arg(a), *bounds)
    target = _out_target(tracer, out)
    return result if target is None else _write_out(tracer, target, result)
