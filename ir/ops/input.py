"""The placeholder op for graph inputs; its value comes from outside the graph."""
from __future__ import annotations

from .registry import Op, OpKind, register


def _no_reference(*_args, **_kwargs):
    raise RuntimeError("graph inputs are bound by the caller, never computed")


def _no_infer(*_args, **_kwargs):
    raise RuntimeError("graph inputs carry the meta of the value they were traced with")


INPUT = register(Op("input", OpKind.INPUT, _no_reference, _no_infer))
