"""Binary, in-place, comparison, unary, identity and membership operators."""
from __future__ import annotations

import operator

from ...ir import Node, same_object
from ...ir.ops.views import CONTIGUOUS_VIEWS
from ..conversions import NotConstant, constant_of
from ..errors import Unsupported
from ..operators import binary, inplace, python_op, truth, unary
from ..values import ArrayValue, ConstValue, DictValue, DictViewValue, ListValue, TupleValue
from .frame import FrameBase


class OperatorOps(FrameBase):
    def op_BINARY_OP(self, inst) -> None:
        right = self.pop()
        left = self.pop()
        symbol = inst.argrepr
        if symbol.endswith("=") and symbol not in ("==", "!=", "<=", ">="):
            self.push(inplace(self.tracer, symbol[:-1], left, right))
        else:
            self.push(binary(self.tracer, symbol, left, right))

    def op_COMPARE_OP(self, inst) -> None:
        right = self.pop()
        left = self.pop()
        symbol = inst.argrepr.removeprefix("bool(").removesuffix(")")
        result = binary(self.tracer, symbol, left, right)
        if "bool(" in inst.argrepr:
            result = ConstValue(truth(self.tracer, result))
        self.push(result)

    def op_IS_OP(self, inst) -> None:
        right = self.pop()
        left = self.pop()
        self.push(ConstValue(_same(self, left, right) != bool(inst.arg)))

    def op_CONTAINS_OP(self, inst) -> None:
        container = self.pop()
        item = self.pop()
        if isinstance(container, TupleValue | ListValue) and not isinstance(item, ArrayValue):
            try:
                found = constant_of(item) in [constant_of(v) for v in container.items]
            except NotConstant:
                raise Unsupported("membership test against arrays", self.loc()) from None
        elif isinstance(container, DictValue) or isinstance(container, DictViewValue) and container.kind == "keys":
            found = constant_of(item) in (container if isinstance(container, DictValue) else container.of).items
        else:
            found = constant_of(python_op(self.tracer, operator.contains, container, item))
        self.push(ConstValue(found != bool(inst.arg)))

    def op_UNARY_NEGATIVE(self, inst) -> None:
        self.push(unary(self.tracer, "-", self.pop()))

    def op_UNARY_POSITIVE(self, inst) -> None:  # 3.11
        self.push(unary(self.tracer, "+", self.pop()))

    def op_UNARY_INVERT(self, inst) -> None:
        self.push(unary(self.tracer, "~", self.pop()))

    def op_UNARY_NOT(self, inst) -> None:
        self.push(ConstValue(not truth(self.tracer, self.pop())))


def _layout_decides(node: Node) -> Node:
    """The object ``node`` is, or a copy of, where that depends on the layout at run time:
    ``np.ascontiguousarray(x)`` is ``x`` itself when x is C-contiguous."""
    node = same_object(node)
    while node.op.name in CONTIGUOUS_VIEWS:
        node = same_object(node.args[0])
    return node


def _same(frame, left, right) -> bool:
    """``left is right`` at trace time, for the values where identity is known."""
    if isinstance(left, ConstValue) and isinstance(right, ConstValue):
        return left.value is right.value
    if isinstance(left, ArrayValue) and isinstance(right, ArrayValue):
        if same_object(left.node) is same_object(right.node):
            return True
        if _layout_decides(left.node) is _layout_decides(right.node):
            raise Unsupported("identity test of np.ascontiguousarray/asfortranarray's result (the array "
                              "itself or a copy: its layout decides at run time)", frame.loc())
        return False
    if isinstance(left, ConstValue) or isinstance(right, ConstValue):
        return False  # an array, tuple or object is never None/True/a module
    if left is right:
        return True
    raise Unsupported("identity test between values Ember cannot tell apart", frame.loc())
