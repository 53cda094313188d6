"""Why tracing stopped. Each reason names the user's file:line."""
from __future__ import annotations

from ..ir import SourceLoc


class Unsupported(Exception):
    """Something Ember cannot capture: a graph break. The frame runs eagerly (for now)."""

    def __init__(self, reason: str, loc: SourceLoc | None = None):
        super().__init__(reason)
        self.reason = reason
        self.loc = loc

    def __str__(self) -> str:
        return f"{self.loc}: {self.reason}" if self.loc else self.reason


class UserCodeError(Unsupported):
    """The user's code raised while being traced (NumPy refused a shape, Python a division by
    zero): running eagerly reproduces the exception exactly, with the user's traceback."""


class FrameBound(Unsupported):
    """An instruction that reads the frame running it (zero-argument ``super()``, ``locals()``): CPython
    must run it in the function's own frame, so that frame runs eagerly instead of splitting (a
    graph break would run it in Ember's wrapper). A caller that inlined the function still splits
    at the call, which then runs the function in a frame of its own."""
