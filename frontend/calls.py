"""Calling a symbolic value: inline user functions, trace NumPy and builtins, break on the rest."""
from __future__ import annotations

import builtins
import functools
import inspect
import types
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir import OpKind
from . import (  # noqa: F401 - register their handlers in NUMPY_FUNCTIONS
    numpy_creation,
    numpy_elementwise,
    numpy_library,
    numpy_matrices,
    numpy_scatter,
    numpy_shaping,
    numpy_statistics,
    numpy_ufuncs,
)
from .builtin_api import call_builtin
from .conversions import contains_array
from .devices import called_from_numpy, is_numpy_callable
from .errors import FrameBound, Unsupported, UserCodeError
from .markers import TRACED_FUNCTION_ATTRIBUTE, graph_break, is_disabled
from .numpy_api import NUMPY_FUNCTIONS, _hashable, call_numpy, fold_constant_call
from .operators import drain
from .sources import AttrSource, GlobalSource, ItemSource, Source
from .values import (
    ArrayValue,
    BoundMethodValue,
    Cell,
    ConstValue,
    DictValue,
    FunctionValue,
    GeneratorValue,
    HandlerValue,
    ObjectValue,
    TupleValue,
    Value,
)
from .wrapping import function_value, wrap

if TYPE_CHECKING:
    from .tracer import Tracer

CO_VARARGS = inspect.CO_VARARGS
CO_VARKEYWORDS = inspect.CO_VARKEYWORDS
UNSUPPORTED_CODE_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


def call_value(tracer: Tracer, fn: Value, args: list[Value], kwargs: dict[str, Value], depth: int) -> Value:
    if isinstance(fn, FunctionValue):
        if fn.real is graph_break:
            raise Unsupported("ember.graph_break() called", tracer.loc)
        if fn.real is not None and _hashable(fn.real) and fn.real in NUMPY_FUNCTIONS:
            # np.ones, np.full, np.eye are Python functions: use their handlers, never NumPy's internals
            return _call_known(tracer, ConstValue(fn.real, fn.source), args, kwargs, depth)
        return inline_call(tracer, fn, args, kwargs, depth)
    if isinstance(fn, BoundMethodValue):
        return call_value(tracer, fn.function, [fn.self_value, *args], kwargs, depth)
    if isinstance(fn, HandlerValue):
        return fn.handler(tracer, args, kwargs)
    if isinstance(fn, ObjectValue):
        traced = inspect.getattr_static(fn.obj, TRACED_FUNCTION_ATTRIBUTE, None)
        if isinstance(traced, types.FunctionType):  # an ember.compile'd function: the function it traces
            assert fn.source is not None  # (an ObjectValue is made with its source: wrapping.py)
            inner = wrap(tracer, traced, AttrSource(fn.source, TRACED_FUNCTION_ATTRIBUTE))
            assert isinstance(inner, FunctionValue)  # (wrap makes one of a function)
            return inline_call(tracer, inner, args, kwargs, depth)
        call = inspect.getattr_static(type(fn.obj), "__call__", None)
        if isinstance(call, types.FunctionType):  # guarded through the class: it can be reassigned
            assert fn.source is not None  # (an ObjectValue is made with its source: wrapping.py)
            method = wrap(tracer, call, AttrSource(AttrSource(fn.source, "__class__"), "__call__"))
            assert isinstance(method, FunctionValue)  # (wrap makes one of a function)
            return inline_call(tracer, method, [fn, *args], kwargs, depth)
        raise Unsupported(f"calling a {type(fn.obj).__name__} object", tracer.loc)
    if isinstance(fn, ConstValue):
        return _call_known(tracer, fn, args, kwargs, depth)
    raise Unsupported(f"calling a {type(fn).__name__}", tracer.loc)


def _call_known(tracer: Tracer, fn: ConstValue, args: list[Value], kwargs: dict[str, Value], depth: int) -> Value:
    obj = fn.value
    if obj is graph_break:
        raise Unsupported("ember.graph_break() called", tracer.loc)
    if is_disabled(obj):
        raise Unsupported(f"call to {getattr(obj, '__name__', obj)}, marked ember.disable", tracer.loc)
    if is_numpy_callable(obj) and any(contains_array(v) for v in [*args, *kwargs.values()]) and \
            (tracer.loc is None or not called_from_numpy(tracer.loc.filename)):
        tracer.numpy_calls.append((obj, tracer.loc))  # (checked against CuPy's if the arrays are CuPy's)
    result = call_numpy(tracer, obj, args, kwargs)
    if result is not None:
        return result
    result = call_builtin(tracer, obj, args, kwargs)
    if result is not None:
        return result
    if isinstance(obj, types.FunctionType):
        return inline_call(tracer, function_value(tracer, obj, fn.source), args, kwargs, depth)
    if obj is builtins.map and args and not kwargs:
        return _map(tracer, args[0], args[1:], depth)
    if obj is functools.reduce and 2 <= len(args) <= 3 and not kwargs:
        return _reduce(tracer, args, depth)
    if isinstance(obj, type) and issubclass(obj, np.generic | np.dtype) or _is_pure_math(obj) or \
            _is_method_of_an_immutable(obj):
        return fold_constant_call(tracer, obj, args, kwargs)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    module = getattr(obj, "__module__", None)
    raise Unsupported(f"call to {module + '.' if module else ''}{name} is not supported", tracer.loc)


def _is_pure_math(obj: Any) -> bool:
    return getattr(obj, "__module__", None) == "math" or getattr(obj, "__self__", None) is __import__("math")


# Their methods read the object and their arguments and change neither: ``mode.lower()``.
_IMMUTABLE_TYPES = (str, bytes, int, float, complex, bool, tuple, frozenset, range)


def _is_method_of_an_immutable(obj: Any) -> bool:
    return isinstance(obj, types.BuiltinMethodType) and type(obj.__self__) in _IMMUTABLE_TYPES


def _map(tracer: Tracer, fn: Value, iterables: list[Value], depth: int) -> Value:
    """``map(fn, *iterables)``: lazy, as CPython's, so calls run when a builtin drains it (one
    consumed item by item runs in CPython, as a generator does)."""
    def drained() -> list[Value]:
        before = len(tracer.graph.nodes)
        columns = [drain(tracer, iterable, interleaved=True) for iterable in iterables]
        read = len(tracer.graph.nodes)
        results = [call_value(tracer, fn, list(row), {}, depth) for row in zip(*columns, strict=False)]
        _check_items_read_in_turn(tracer, [item for column in columns for item in column], before, read)
        return results
    return GeneratorValue(drained)


def _check_items_read_in_turn(tracer: Tracer, items: list[Value], before: int, read: int) -> None:
    """CPython takes an item, calls, takes the next: items computed from arrays (a vector's
    elements, a generator's values), all read here before the calls, are wrong where a call
    writes into arrays."""
    made = set(tracer.graph.nodes[before:read])
    if any(node.op.kind is OpKind.MUTATION for node in tracer.graph.nodes[read:]) and \
            any(isinstance(item, ArrayValue) and item.node in made for item in items):
        raise Unsupported("map or reduce whose function writes into arrays, over items read from arrays "
                          "(CPython reads each item after the calls before it)", tracer.loc)


def _reduce(tracer: Tracer, args: list[Value], depth: int) -> Value:
    """``functools.reduce(fn, iterable[, initial])``, the calls unrolled."""
    before = len(tracer.graph.nodes)
    fn, items = args[0], drain(tracer, args[1], interleaved=True)
    read = len(tracer.graph.nodes)
    if len(args) == 3:
        items = [args[2], *items]
    if not items:
        raise UserCodeError("TypeError: reduce() of empty iterable with no initial value", tracer.loc)
    total = items[0]
    for item in items[1:]:
        total = call_value(tracer, fn, [total, item], {}, depth)
    _check_items_read_in_turn(tracer, items, before, read)
    return total


def inline_call(tracer: Tracer, fn: FunctionValue, args: list[Value], kwargs: dict[str, Value], depth: int
                ) -> Value:
    from .tracer import MAX_INLINE_DEPTH, FrameTracer

    code = fn.code
    if is_disabled(fn.real):
        raise Unsupported(f"call to {fn.name}, marked ember.disable", tracer.loc)
    if code.co_flags & UNSUPPORTED_CODE_FLAGS:
        raise Unsupported(f"calling coroutine function {fn.name}", tracer.loc)
    if depth >= MAX_INLINE_DEPTH:
        raise Unsupported(f"call depth above {MAX_INLINE_DEPTH} (recursion?) at {fn.name}", tracer.loc)
    locals_ = bind_arguments(tracer, fn, args, kwargs)
    cells = {name: cell for name, cell in zip(code.co_freevars, fn.closure, strict=True)}
    if code.co_flags & inspect.CO_GENERATOR:  # (a generator expression): its body runs when drained
        def drained() -> list[Value]:  # (a fresh frame each time: a rolled-back trace may drain it again)
            return FrameTracer(tracer, code, fn.globals, global_source_for(tracer, fn), dict(locals_), cells,
                               depth + 1).run_generator()
        return GeneratorValue(drained)
    frame = FrameTracer(tracer, code, fn.globals, global_source_for(tracer, fn), locals_, cells, depth + 1)
    try:
        return frame.run()
    except FrameBound as exc:  # CPython can run the whole call, in a frame of its own
        raise Unsupported(exc.reason, exc.loc) from exc


def global_source_for(tracer: Tracer, fn: FunctionValue):
    """How to re-fetch a global name that ``fn``'s body reads."""
    if fn.globals is tracer.top_globals:
        return GlobalSource
    if fn.source is not None:
        base = AttrSource(fn.source, "__globals__")
        return lambda name: ItemSource(base, name)
    return lambda name: None  # made inside the trace from constants: nothing to re-fetch


def bind_arguments(tracer: Tracer, fn: FunctionValue, args: list[Value], kwargs: dict[str, Value]
                   ) -> dict[str, Value]:
    """Python's argument binding for a code object, on symbolic values."""
    code = fn.code
    positional_names = code.co_varnames[:code.co_argcount]
    kwonly_names = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    positional_only = code.co_posonlyargcount
    extra = code.co_argcount + code.co_kwonlyargcount
    varargs_name = code.co_varnames[extra] if code.co_flags & CO_VARARGS else None
    varkw_name = code.co_varnames[extra + bool(varargs_name)] if code.co_flags & CO_VARKEYWORDS else None

    def fail(message: str) -> UserCodeError:
        return UserCodeError(f"TypeError: {fn.name}() {message}", tracer.loc)

    bound: dict[str, Value] = {}
    if len(args) > len(positional_names) and varargs_name is None:
        raise fail(f"takes {len(positional_names)} positional arguments but {len(args)} were given")
    for name, value in zip(positional_names, args, strict=False):  # extra args went to *args
        bound[name] = value
    if varargs_name is not None:
        bound[varargs_name] = TupleValue(list(args[len(positional_names):]))
    extra_kwargs: dict[str, Value] = {}
    for name, value in kwargs.items():
        if name in positional_names[positional_only:] or name in kwonly_names:
            if name in bound:
                raise fail(f"got multiple values for argument '{name}'")
            bound[name] = value
        elif varkw_name is not None:
            extra_kwargs[name] = value
        else:
            raise fail(f"got an unexpected keyword argument '{name}'")
    defaults = fn.defaults
    for i, name in enumerate(positional_names):
        if name not in bound:
            default_index = i - (len(positional_names) - len(defaults))
            if default_index < 0:
                raise fail(f"missing required positional argument: '{name}'")
            bound[name] = defaults[default_index]
    for name in kwonly_names:
        if name not in bound:
            if name not in fn.kwdefaults:
                raise fail(f"missing required keyword-only argument: '{name}'")
            bound[name] = fn.kwdefaults[name]
    if varkw_name is not None:
        bound[varkw_name] = DictValue(extra_kwargs)
    return bound


def make_function(code: types.CodeType, globals_: dict, defaults: tuple[Value, ...],
                  kwdefaults: dict[str, Value], closure: tuple[Cell, ...], annotated: bool = False) -> FunctionValue:
    return FunctionValue(code, globals_, code.co_name, defaults, kwdefaults, closure, None, annotated=annotated)


__all__ = ["call_value", "inline_call", "bind_arguments", "make_function", "wrap", "Source"]
