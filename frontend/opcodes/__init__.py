"""Opcode handlers for CPython 3.11-3.13, one mixin per family.

Handlers are methods ``op_<OPNAME>(self, inst)`` of FrameTracer; an opcode with no handler
is a graph break ("unsupported bytecode X").
"""
from .calls import CallOps
from .containers import ContainerOps
from .control import ControlOps
from .operators import OperatorOps
from .stack import StackOps

__all__ = ["CallOps", "ContainerOps", "ControlOps", "OperatorOps", "StackOps"]
