"""Locals, constants, globals, cells, attributes and stack shuffles."""
from __future__ import annotations

import importlib.util
import sys
from typing import cast

from ..attributes import get_attr
from ..conversions import constant_of
from ..errors import Unsupported, UserCodeError
from ..guards import Guard
from ..values import NULL, Cell, ConstValue, Value
from ..wrapping import builtin_lookup, wrap
from .frame import FrameBase

PY313 = sys.version_info >= (3, 13)
PY312 = sys.version_info >= (3, 12)


class CellRef(Value):
    """A cell object itself on the stack (LOAD_CLOSURE), on its way into a new closure."""

    def __init__(self, cell: Cell):
        self.cell = cell


class StackOps(FrameBase):
    def op_NOP(self, inst) -> None:
        pass

    op_RESUME = op_PRECALL = op_CACHE = op_EXTENDED_ARG = op_COPY_FREE_VARS = op_NOP

    def op_MAKE_CELL(self, inst) -> None:
        from ..tracer import UNBOUND

        initial = self.locals.pop(inst.argval, UNBOUND)
        self.cells[inst.argval] = Cell(None if initial is UNBOUND else cast(Value, initial))

    def op_LOAD_FAST(self, inst) -> None:
        name = inst.argval
        if name in self.cells and name not in self.locals:  # 3.13 loads cells for closures with LOAD_FAST
            self.push(CellRef(self.cells[name]))
            return
        if name not in self.locals:
            raise UserCodeError(f"UnboundLocalError: local variable {name!r} referenced before assignment",
                                self.loc())
        self.push(self.locals[name])

    op_LOAD_FAST_CHECK = op_LOAD_FAST

    def op_LOAD_FAST_AND_CLEAR(self, inst) -> None:
        from ..tracer import UNBOUND

        self.push(self.locals.pop(inst.argval, UNBOUND))

    def op_LOAD_FAST_LOAD_FAST(self, inst) -> None:
        first, second = inst.argval
        for name in (first, second):
            self.op_LOAD_FAST(_Named(name))

    def op_STORE_FAST(self, inst) -> None:
        from ..tracer import UNBOUND

        value = self.pop()
        if value is UNBOUND:
            self.locals.pop(inst.argval, None)
        else:
            self.locals[inst.argval] = value

    def op_STORE_FAST_LOAD_FAST(self, inst) -> None:
        store, load = inst.argval
        self.op_STORE_FAST(_Named(store))
        self.op_LOAD_FAST(_Named(load))

    def op_STORE_FAST_STORE_FAST(self, inst) -> None:
        first, second = inst.argval
        self.op_STORE_FAST(_Named(first))
        self.op_STORE_FAST(_Named(second))

    def op_DELETE_FAST(self, inst) -> None:
        self.locals.pop(inst.argval, None)

    def op_LOAD_CONST(self, inst) -> None:
        self.push(ConstValue(inst.argval))

    def op_LOAD_GLOBAL(self, inst) -> None:
        push_null = bool(inst.arg & 1)
        if push_null and not PY313:
            self.push(NULL)
        self.push(self.load_global(inst.argval))
        if push_null and PY313:
            self.push(NULL)

    def load_global(self, name: str) -> Value:
        if name in self.globals:
            return wrap(self.tracer, self.globals[name], self.global_source(name))
        source = self.global_source(name)
        if source is not None:
            self.tracer.guards.add(Guard.not_in(name, source.expr().rsplit("[", 1)[0]))
        return builtin_lookup(self.tracer, name, self.globals)

    def op_IMPORT_NAME(self, inst) -> None:
        """``import m`` / ``from m import a`` of a module the process has imported already: the
        statement only looks it up (a first import runs the module's code: CPython does that)."""
        level, fromlist = (constant_of(v) for v in self.popn(2))
        try:
            package = self.globals.get("__package__") or ""
            name = importlib.util.resolve_name("." * level + inst.argval, package) if level else inst.argval
        except (ImportError, ValueError):  # a relative import outside a package: CPython's error
            raise Unsupported("a relative import Ember cannot resolve", self.loc()) from None
        wanted = [name] if fromlist else [".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 2)]
        if not all(module in sys.modules for module in wanted):
            raise Unsupported(f"import of {name}, which is not imported yet", self.loc())
        self.push(ConstValue(sys.modules[name if fromlist else wanted[0]]))

    def op_IMPORT_FROM(self, inst) -> None:
        module = constant_of(self.stack[-1])
        try:
            attribute = getattr(module, inst.argval)
        except AttributeError:
            raise Unsupported(f"from {module.__name__} import {inst.argval}: not loaded yet", self.loc()) from None
        self.push(wrap(self.tracer, attribute, None))

    def op_LOAD_DEREF(self, inst) -> None:
        cell = self.cells.get(inst.argval)
        if cell is None:
            raise Unsupported(f"free variable {inst.argval!r} without a cell", self.loc())
        self.push(cell.read(self.tracer))

    def op_STORE_DEREF(self, inst) -> None:
        cell = self.cells.get(inst.argval)
        if cell is None or getattr(cell, "cell", None) is not None:
            raise Unsupported(f"assigning to nonlocal {inst.argval!r} of an outer function", self.loc())
        old = cell.contents
        self.tracer.record_undo(lambda: setattr(cell, "contents", old))
        cell.contents = self.pop()

    def op_LOAD_CLOSURE(self, inst) -> None:
        self.push(CellRef(self.cells[inst.argval]))

    def op_LOAD_ATTR(self, inst) -> None:
        method_form = PY312 and bool(inst.arg & 1)
        owner = self.pop()
        attr = get_attr(self.tracer, owner, inst.argval)
        if method_form:
            self.push_callable(attr)
        else:
            self.push(attr)

    def op_LOAD_METHOD(self, inst) -> None:  # 3.11
        owner = self.pop()
        self.push_callable(get_attr(self.tracer, owner, inst.argval))

    def push_callable(self, fn: Value) -> None:
        """Push a callable with its NULL in this version's order ([NULL, fn] or [fn, NULL])."""
        if PY313:
            self.push(fn)
            self.push(NULL)
        else:
            self.push(NULL)
            self.push(fn)

    def op_STORE_ATTR(self, inst) -> None:
        raise Unsupported(f"assigning attribute {inst.argval!r} (a side effect)", self.loc())

    def op_STORE_GLOBAL(self, inst) -> None:
        raise Unsupported(f"assigning global {inst.argval!r} (a side effect)", self.loc())

    def op_POP_TOP(self, inst) -> None:
        self.pop()

    def op_PUSH_NULL(self, inst) -> None:
        self.push(NULL)

    def op_COPY(self, inst) -> None:
        self.push(self.stack[-inst.arg])

    def op_SWAP(self, inst) -> None:
        self.stack[-1], self.stack[-inst.arg] = self.stack[-inst.arg], self.stack[-1]


class _Named:
    """A stand-in instruction carrying one name (for the fused 3.13 opcodes)."""

    def __init__(self, name: str):
        self.argval = name
