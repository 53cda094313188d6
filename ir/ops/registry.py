"""The op registry: one entry per op, declaring its kind, shape/dtype rule and NumPy reference.

Adding an op means one ``register`` call in one of the sibling modules. Backends register
their lowerings by op name elsewhere; the IR never imports them.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..meta import TensorMeta


class OpKind(enum.Enum):
    INPUT = "input"              # a graph input (argument, global, attribute, ...)
    ELEMENTWISE = "elementwise"  # broadcasting, one output element per index
    REDUCTION = "reduction"      # reduces some axes
    VIEW = "view"                # may alias its input (slices, transposes, reshapes)
    CREATION = "creation"        # makes a new array from static parameters
    EXTERN = "extern"            # opaque work done by a library call (matmul, concatenate)
    MUTATION = "mutation"        # writes into existing memory; never reordered or removed


# infer(args, kwargs) -> TensorMeta, where args hold TensorMeta for array arguments and the
# constants themselves otherwise.
InferRule = Callable[..., TensorMeta]


@dataclass(frozen=True, slots=True)
class Op:
    """An operation of the IR.

    ``reference`` is the NumPy implementation: the interpreter runs it, so it is the oracle
    every pass and backend is checked against. ``ufunc`` is set for elementwise ops that are
    NumPy ufuncs (code generators read it; the printer names the op after it).
    ``checks_values``: the reference raises for some values (an index out of bounds), so the
    op runs even when its result is unused, and in program order with every mutation.
    """

    name: str
    kind: OpKind
    reference: Callable[..., Any]
    infer: InferRule
    ufunc: np.ufunc | None = None
    doc: str = field(default="", compare=False)
    checks_values: bool = False

    def __repr__(self) -> str:
        return f"Op({self.name})"


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} registered twice")
    OPS[op.name] = op
    return op


def get_op(name: str) -> Op:
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}") from None
