"""Functions users put in their code to steer tracing: ``ember.disable`` and ``ember.graph_break``."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)
DISABLE_ATTRIBUTE = "__ember_disable__"
# Set on an ember.compile'd function to the Python function it traces: a call to it from traced
# code inlines that function (not the dispatch code of its __call__).
TRACED_FUNCTION_ATTRIBUTE = "__ember_function__"


def disable(fn: F) -> F:
    """Never trace ``fn``: calls to it from compiled code run in CPython, and compiling it
    directly runs it eagerly.

    >>> @disable
    ... def log_stats(x):
    ...     print(x.mean())
    """
    setattr(fn, DISABLE_ATTRIBUTE, True)
    return fn


def graph_break() -> None:
    """Force a graph break here when traced (for tests and debugging); does nothing eagerly."""


def is_disabled(fn: object) -> bool:
    return bool(getattr(fn, DISABLE_ATTRIBUTE, False))
