"""The state a kernel emitter keeps per operand and per place in the loop nest."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)
class Operand:
    index: int
    dtype: np.dtype
    axes: tuple[int, ...]
    broadcast: tuple[bool, ...]
    is_store: bool
    scope: int | None = None          # alias scope (fresh output buffers only)
    data: str = ""
    strides: dict[int, str] = field(default_factory=dict)  # domain axis -> byte stride (or "0")

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def moves_along(self, axis: int) -> bool:
        return self.strides.get(axis, "0") != "0"


@dataclass(eq=False)
class Scope:
    """Values computed at one place of the loop nest; ``ptrs`` are element pointers."""

    ptrs: dict[int, str]
    parent: Scope | None = None
    memo: dict = field(default_factory=dict)
