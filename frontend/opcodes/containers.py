"""Building and taking apart tuples, lists, dicts and slices; subscripts."""
from __future__ import annotations

from ..access import get_item, set_item
from ..conversions import constant_of
from ..errors import Unsupported, UserCodeError
from ..operators import iterate, python_op
from ..values import ArrayValue, ConstValue, DictValue, ListValue, SliceValue, TupleValue
from .frame import FrameBase


class ContainerOps(FrameBase):
    def op_BUILD_TUPLE(self, inst) -> None:
        self.push(TupleValue(self.popn(inst.arg)))

    def op_BUILD_LIST(self, inst) -> None:
        self.push(ListValue(self.popn(inst.arg)))

    def op_BUILD_MAP(self, inst) -> None:
        flat = self.popn(2 * inst.arg)
        self.push(DictValue({constant_of(k): v for k, v in zip(flat[::2], flat[1::2], strict=True)}))

    def op_BUILD_CONST_KEY_MAP(self, inst) -> None:
        keys = constant_of(self.pop())
        self.push(DictValue(dict(zip(keys, self.popn(inst.arg), strict=True))))

    def op_BUILD_SLICE(self, inst) -> None:
        parts = self.popn(inst.arg)
        step = parts[2] if inst.arg == 3 else ConstValue(None)
        self.push(SliceValue(parts[0], parts[1], step))

    def op_LIST_APPEND(self, inst) -> None:
        if not isinstance(self.stack[-inst.arg - 1], ListValue):
            raise Unsupported("appending to a list built before a graph break", self.loc())
        value = self.pop()
        self.stack[-inst.arg].items.append(value)

    def op_LIST_EXTEND(self, inst) -> None:
        value = self.pop()
        self.stack[-inst.arg].items.extend(iterate(self.tracer, value))

    def op_LIST_TO_TUPLE(self, inst) -> None:  # 3.11
        self.push(TupleValue(list(self.pop().items)))

    def op_MAP_ADD(self, inst) -> None:
        if not isinstance(self.stack[-inst.arg - 2], DictValue):
            raise Unsupported("adding to a dict built before a graph break", self.loc())
        value = self.pop()
        key = self.pop()
        self.stack[-inst.arg].items[constant_of(key)] = value

    def op_DICT_UPDATE(self, inst) -> None:
        self._merge(inst, keywords=False)

    def op_DICT_MERGE(self, inst) -> None:
        self._merge(inst, keywords=True)

    def _merge(self, inst, keywords: bool) -> None:
        """``{**a, **b}`` (DICT_UPDATE: later keys win) or ``f(a=1, **extra)`` (DICT_MERGE: a keyword
        given twice is the call's TypeError)."""
        update, target = self.stack[-1], self.stack[-inst.arg - 1]
        if not isinstance(update, DictValue) or not isinstance(target, DictValue):
            raise Unsupported("dict update from a non-dict, or into a dict built before a graph break", self.loc())
        repeated = [key for key in update.items if key in target.items] if keywords else []
        if repeated:
            raise UserCodeError(f"TypeError: got multiple values for keyword argument {repeated[0]!r}", self.loc())
        self.pop()
        target.items.update(update.items)

    def op_UNPACK_SEQUENCE(self, inst) -> None:
        items = self._unpackable(self.pop())
        if len(items) != inst.arg:
            raise UserCodeError(f"ValueError: expected {inst.arg} values to unpack, got {len(items)}", self.loc())
        self.stack.extend(reversed(items))

    def op_UNPACK_EX(self, inst) -> None:
        before, after = inst.arg & 0xFF, inst.arg >> 8
        items = self._unpackable(self.pop())
        if len(items) < before + after:
            raise UserCodeError("ValueError: not enough values to unpack", self.loc())
        middle = ListValue(items[before:len(items) - after])
        self.stack.extend(reversed([*items[:before], middle, *items[len(items) - after:]]))

    def _unpackable(self, value) -> list:
        return iterate(self.tracer, value)

    def op_BINARY_SUBSCR(self, inst) -> None:
        key = self.pop()
        self.push(get_item(self.tracer, self.pop(), key))

    def op_STORE_SUBSCR(self, inst) -> None:
        key = self.pop()
        container = self.pop()
        set_item(self.tracer, container, key, self.pop())

    def op_BINARY_SLICE(self, inst) -> None:  # 3.12+
        stop = self.pop()
        start = self.pop()
        self.push(get_item(self.tracer, self.pop(), SliceValue(start, stop, ConstValue(None))))

    def op_STORE_SLICE(self, inst) -> None:  # 3.12+
        stop = self.pop()
        start = self.pop()
        container = self.pop()
        set_item(self.tracer, container, SliceValue(start, stop, ConstValue(None)), self.pop())

    def op_GET_LEN(self, inst) -> None:
        from ..builtin_api import _len

        self.push(_len(self.tracer, self.stack[-1]))

    def op_FORMAT_VALUE(self, inst) -> None:  # 3.11, 3.12
        spec = self.pop() if (inst.arg & 0x04) else ConstValue("")
        value = self.pop()
        if isinstance(value, ArrayValue):
            raise Unsupported("formatting an array into a string reads its data", self.loc())
        conversion = {0: None, 1: str, 2: repr, 3: ascii}[inst.arg & 0x03]
        self.push(python_op(self.tracer, lambda v, s: format(conversion(v) if conversion else v, s), value, spec))

    def op_FORMAT_SIMPLE(self, inst) -> None:  # 3.13
        value = self.pop()
        if isinstance(value, ArrayValue):
            raise Unsupported("formatting an array into a string reads its data", self.loc())
        self.push(python_op(self.tracer, format, value))

    def op_FORMAT_WITH_SPEC(self, inst) -> None:  # 3.13
        spec = self.pop()
        self.push(python_op(self.tracer, format, self.pop(), spec))

    def op_CONVERT_VALUE(self, inst) -> None:  # 3.13
        conversion = {1: str, 2: repr, 3: ascii}[inst.arg]
        self.push(python_op(self.tracer, conversion, self.pop()))

    def op_BUILD_STRING(self, inst) -> None:
        self.push(python_op(self.tracer, lambda *parts: "".join(parts), *self.popn(inst.arg)))
