"""Ops that make new arrays from static parameters (shapes, fill values, ranges)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..meta import TensorMeta
from .registry import Op, OpKind, register

CREATIONS: dict[str, Callable[..., Any]] = {
    "zeros": np.zeros, "ones": np.ones, "full": np.full, "empty": np.empty,
    "arange": np.arange, "linspace": np.linspace, "eye": np.eye,
}


def _infer_creation(reference):
    def infer(*args: Any, **kwargs: Any) -> TensorMeta:
        # Parameters are constants; a zero-size call would lose the shape, so ask for the
        # real one. These are rare and small next to the work that reads them.
        return TensorMeta.of(reference(*args, **kwargs))

    return infer


for _name, _reference in CREATIONS.items():
    register(Op(_name, OpKind.CREATION, _reference, _infer_creation(_reference)))
