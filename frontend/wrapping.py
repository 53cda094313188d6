"""Turn a Python object from outside the frame into a symbolic value, guarding what it relied on."""
from __future__ import annotations

import builtins
import types
from typing import TYPE_CHECKING, Any

import numpy as np

from .devices import is_device_array
from .errors import Unsupported
from .guards import OTHER_SPELLINGS, Guard
from .sources import AttrSource, CellContentsSource, DefaultSource, ItemSource, Source
from .values import (
    BoundMethodValue,
    Cell,
    ConstValue,
    DictValue,
    DynamicFloat,
    DynamicInt,
    FunctionValue,
    ListValue,
    ObjectValue,
    OpaqueValue,
    TupleValue,
    Value,
)

if TYPE_CHECKING:
    from .tracer import Tracer

SCALAR_TYPES = (bool, int, float, complex, str, type(None), type(Ellipsis), slice, bytes)
# Callables whose identity is the guard: NumPy's and the builtins' functions and types.
OPAQUE_CALLABLE_TYPES = (types.BuiltinFunctionType, np.ufunc, type, types.BuiltinMethodType)
# Modules whose attributes Ember trusts not to be reassigned (NumPy's functions are fixed).
TRUSTED_MODULES = ("numpy", "math", "builtins", "operator")


def wrap(tracer: Tracer, obj: Any, source: Source | None) -> Value:
    """The symbolic value for ``obj``; with a source, the guards that pin what tracing assumes."""
    if source is not None and source in tracer.wrapped:
        return tracer.wrapped[source]
    value = _wrap(tracer, obj, source)
    if source is not None:
        tracer.wrapped[source] = value
    return value


def _wrap(tracer: Tracer, obj: Any, source: Source | None) -> Value:
    guard = tracer.guards.add if source is not None else (lambda _g: None)
    on_device = is_device_array(obj)
    if type(obj) is np.ndarray or isinstance(obj, np.generic) or on_device:
        if source is None:
            raise Unsupported("an array constant with no source cannot become a graph input", tracer.loc)
        if obj.dtype.char in OTHER_SPELLINGS:
            # (the eager entry's guard: the usual spelling still compiles)
            guard(Guard.device_tensor(source, obj) if on_device else Guard.tensor(source, obj))
            raise Unsupported(f"arrays of {OTHER_SPELLINGS[obj.dtype.char]} (dtype {obj.dtype} that NumPy keeps "
                              "apart from its own)", tracer.loc)
        return tracer.array_input(obj, source)
    if isinstance(obj, np.ndarray):
        raise Unsupported(f"ndarray subclass {type(obj).__name__} is not supported", tracer.loc)
    if type(obj) in SCALAR_TYPES:
        if source is None:
            return ConstValue(obj)
        pending = Guard.value(source, obj) if type(obj) is not slice else Guard.slice_value(source, obj)
        if type(obj) in (float, int) and source.expr() in tracer.dynamic_scalars:
            kind = DynamicFloat if type(obj) is float else DynamicInt
            return kind(obj, source, (tracer.guards, pending))
        return ConstValue(obj, source, (tracer.guards, pending))
    if type(obj) in (tuple, list):
        guard(Guard.length(source, obj)) if source is not None else None
        items = [wrap(tracer, item, ItemSource(source, i) if source else None) for i, item in enumerate(obj)]
        return TupleValue(items, source) if type(obj) is tuple else ListValue(items, source)
    if type(obj) is dict:
        if not all(type(k) in (str, int) for k in obj):
            raise Unsupported("dicts with keys other than str/int are not supported", tracer.loc)
        if source is not None:
            guard(Guard.dict_keys(source, obj))
        return DictValue({k: wrap(tracer, v, ItemSource(source, k) if source else None)
                          for k, v in obj.items()}, source)
    if isinstance(obj, types.ModuleType):
        guard(Guard.identity(source, obj)) if source is not None else None
        return ConstValue(obj, source)
    if isinstance(obj, types.FunctionType):
        guard(Guard.identity(source, obj)) if source is not None else None
        return function_value(tracer, obj, source)
    if isinstance(obj, types.MethodType):
        return BoundMethodValue(wrap(tracer, obj.__func__, AttrSource(source, "__func__") if source else None),
                                wrap(tracer, obj.__self__, AttrSource(source, "__self__") if source else None),
                                source)
    if isinstance(obj, OPAQUE_CALLABLE_TYPES) or callable(obj) and _is_trusted(obj):
        guard(Guard.identity(source, obj)) if source is not None else None
        return ConstValue(obj, source)
    if isinstance(obj, np.dtype):
        guard(Guard.equals(source, obj)) if source is not None else None
        return ConstValue(obj, source)
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        if source is None:
            raise Unsupported(f"object of type {type(obj).__name__} with no source", tracer.loc)
        guard(Guard.type_is(source, obj))
        return ObjectValue(obj, source)
    if source is not None:
        guard(Guard.plain_iterator(source, obj) or Guard.type_is(source, obj))
        return OpaqueValue(obj, source)
    raise Unsupported(f"values of type {type(obj).__name__} are not supported", tracer.loc)


def _is_trusted(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in TRUSTED_MODULES


def function_value(tracer: Tracer, fn: types.FunctionType, source: Source | None) -> FunctionValue:
    """A real function as an inlinable value: its defaults and closure cells read lazily. Its
    code and how many defaults it has are guarded (both can be reassigned on the same function)."""
    if source is not None:
        tracer.guards.add(Guard.identity(AttrSource(source, "__code__"), fn.__code__))
        tracer.guards.add(Guard.defaults_count(AttrSource(source, "__defaults__"), fn.__defaults__))
    defaults = tuple(wrap(tracer, d, DefaultSource(source, i) if source else None)
                     for i, d in enumerate(fn.__defaults__ or ()))
    kwdefaults = {k: wrap(tracer, v, ItemSource(AttrSource(source, "__kwdefaults__"), k) if source else None)
                  for k, v in (fn.__kwdefaults__ or {}).items()}
    closure = tuple(RealCell(cell, CellContentsSource(source, i) if source else None)
                    for i, cell in enumerate(fn.__closure__ or ()))
    return FunctionValue(fn.__code__, fn.__globals__, fn.__name__, defaults, kwdefaults, closure, source, fn)


class RealCell(Cell):
    """A cell of a real function: its contents are wrapped (and guarded) on first read."""

    def __init__(self, cell: types.CellType, source: Source | None):
        super().__init__(None, source)
        self.cell = cell

    def read(self, tracer: Tracer) -> Value:
        if self.contents is None:
            try:
                obj = self.cell.cell_contents
            except ValueError:
                raise Unsupported("free variable referenced before assignment", tracer.loc) from None
            self.contents = wrap(tracer, obj, self.source)
        return self.contents


def builtin_lookup(tracer: Tracer, name: str, globals_: dict) -> Value:
    table = globals_.get("__builtins__", builtins)
    table = table.__dict__ if isinstance(table, types.ModuleType) else table
    if name not in table:
        raise Unsupported(f"name {name!r} is not defined", tracer.loc)
    return wrap(tracer, table[name], None)
