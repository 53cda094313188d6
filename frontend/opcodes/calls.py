"""CALL and its relatives, and making functions (lambdas, closures, comprehensions on 3.11)."""
from __future__ import annotations

import builtins
import inspect
import sys
from typing import Any, cast

from ..calls import call_value, make_function
from ..conversions import constant_of
from ..errors import FrameBound, Unsupported, UserCodeError
from ..numpy_api import _hashable
from ..operators import iterate
from ..values import NULL, ConstValue, DictValue, FunctionValue, TupleValue, Value
from .frame import FrameBase

PY313 = sys.version_info >= (3, 13)

# Callables that read the frame calling them when given at most this many arguments (super's
# __class__ cell and first argument, the frame's locals or globals, the frame itself).
FRAME_READERS = {builtins.super: 0, builtins.locals: 0, builtins.vars: 0, builtins.dir: 0, builtins.globals: 0,
                 builtins.eval: 1, builtins.exec: 1, sys._getframe: 1, inspect.currentframe: 0}
MAKE_FUNCTION_FLAGS = (("closure", 0x08), ("annotations", 0x04), ("kwdefaults", 0x02), ("defaults", 0x01))


class CallOps(FrameBase):
    def op_KW_NAMES(self, inst) -> None:  # 3.11, 3.12
        self.kw_names = self.code.co_consts[inst.arg]

    def op_CALL(self, inst) -> None:
        args = self.popn(inst.arg)
        kw_names, self.kw_names = self.kw_names, ()
        self._call(args, kw_names)

    def op_CALL_KW(self, inst) -> None:  # 3.13
        kw_names = constant_of(self.pop())
        self._call(self.popn(inst.arg), kw_names)

    def _call(self, args: list, kw_names: tuple[str, ...]) -> None:
        below, above = self.popn(2)
        if PY313:
            fn = below
            if above is not NULL:
                args = [above, *args]
        elif below is NULL:
            fn = above
        else:
            fn, args = below, [above, *args]
        split = len(args) - len(kw_names)
        kwargs = dict(zip(kw_names, args[split:], strict=True))
        self._refuse_frame_reader(fn, len(args))
        self.push(call_value(self.tracer, fn, args[:split], kwargs, self.depth))

    def op_CALL_FUNCTION_EX(self, inst) -> None:
        kwargs_value = self.pop() if inst.arg & 1 else DictValue({})
        args = iterate(self.tracer, self.pop())
        below, above = self.popn(2)
        fn = below if PY313 else (above if below is NULL else below)
        if not isinstance(kwargs_value, DictValue):
            raise Unsupported("**kwargs that is not a dict", self.loc())
        if not all(isinstance(key, str) for key in kwargs_value.items):
            raise UserCodeError("TypeError: keywords must be strings", self.loc())
        self._refuse_frame_reader(fn, len(args) + len(kwargs_value.items))
        self.push(call_value(self.tracer, fn, args, dict(kwargs_value.items), self.depth))

    def _refuse_frame_reader(self, fn: Value, count: int) -> None:
        reader: Any = fn.peek() if isinstance(fn, ConstValue) else None
        if reader is not None and _hashable(reader) and reader in FRAME_READERS and count <= FRAME_READERS[reader]:
            raise FrameBound(f"{reader.__name__}() reads the frame that calls it, so CPython runs that function",
                             self.loc())

    def op_MAKE_FUNCTION(self, inst) -> None:
        code = constant_of(self.pop())
        parts = {}
        if not PY313:
            for name, flag in MAKE_FUNCTION_FLAGS:
                if inst.arg & flag:
                    parts[name] = self.pop()
        self.push(self._build_function(code, parts))

    def op_SET_FUNCTION_ATTRIBUTE(self, inst) -> None:  # 3.13
        fn = self.pop()
        value = self.pop()
        name = dict((flag, name) for name, flag in MAKE_FUNCTION_FLAGS)[inst.arg]
        parts = {"defaults": TupleValue(list(fn.defaults)), "kwdefaults": DictValue(dict(fn.kwdefaults)),
                 "closure": TupleValue(cast(list[Value], [_CellHolder(c) for c in fn.closure])), name: value}
        if fn.annotated:
            parts.setdefault("annotations", value)
        self.push(self._build_function(fn.code, parts))

    def _build_function(self, code, parts: dict) -> FunctionValue:
        defaults = tuple(_items(parts["defaults"])) if "defaults" in parts else ()
        kwdefaults = _mapping(parts["kwdefaults"]) if "kwdefaults" in parts else {}
        closure = tuple(item.cell for item in parts["closure"].items) if "closure" in parts else ()
        return make_function(code, self.globals, defaults, kwdefaults, closure, "annotations" in parts)

    def op_CALL_INTRINSIC_1(self, inst) -> None:  # 3.12+
        from ..operators import unary

        if inst.argrepr == "INTRINSIC_UNARY_POSITIVE":
            self.push(unary(self.tracer, "+", self.pop()))
        elif inst.argrepr == "INTRINSIC_LIST_TO_TUPLE":
            self.push(TupleValue(list(self.pop().items)))
        else:
            raise Unsupported(f"unsupported intrinsic {inst.argrepr}", self.loc())


class _CellHolder:
    def __init__(self, cell):
        self.cell = cell


def _items(value) -> list:
    if isinstance(value, ConstValue):
        return [ConstValue(v) for v in value.value]
    return list(value.items)


def _mapping(value) -> dict:
    if isinstance(value, ConstValue):
        return {k: ConstValue(v) for k, v in value.value.items()}
    return dict(value.items)

