"""Which dimensions and Python numbers a function's next entry traces as symbols.

``dynamic=None`` (the default) starts static: a dimension whose size differs from an earlier
entry's (a new batch size), or a Python float or int whose value does (a learning rate, a loop
counter handed to a resume function), is read at run time from then on, so one entry serves
every value. ``dynamic=True`` reads them all at run time from the first call; ``False`` never.
A dimension that failed as a symbol (``DynamicShapeFailed``) stays static for good.
"""
from __future__ import annotations

import math
import types

import numpy as np

from ..frontend import frame_params, scalar_arguments
from ..frontend.sources import evaluate, frame_namespace, local_name
from .cache_entry import CacheEntry
from .logs import log_stage

# Backends whose generated code reads dynamic dimensions (ir/symbolic.py) at run time.
DYNAMIC_BACKENDS = ("llvm", "numpy")


class Specialisation:
    """What one compiled function has seen change between calls."""

    def __init__(self, function: types.FunctionType):
        self.function = function
        self.dims_seen: set[tuple[str, int]] = set()  # (source expression, axis) seen changing
        self.static_dims: set[tuple[str, int]] = set()  # ... that needed a concrete size: static for good
        self.scalars_seen: set[str] = set()  # Python float/int parameters read at run time since

    def dynamic_dims(self, entries: list[CacheEntry], frame_args: tuple, dynamic: bool | None
                     ) -> frozenset[tuple[str, int]]:
        """Input dimensions to trace as symbols: with ``dynamic=True`` every dimension of the
        array arguments; with ``dynamic=None`` those whose size differs from an earlier entry's;
        never those that failed as symbols before."""
        if dynamic is False:
            return frozenset()
        fn = self.function
        params = entries[0].capture.params if entries else ()
        namespace = frame_namespace(params, frame_args, fn.__globals__, fn.__closure__) if entries else {}
        if dynamic:
            for name, value in zip(frame_params(fn.__code__), frame_args, strict=True):
                if isinstance(value, np.ndarray):
                    self.dims_seen |= {(local_name(name), axis) for axis in range(value.ndim)}
        for entry in entries:
            for expr, traced in entry.capture.input_shapes.items():
                now = evaluate(expr, namespace)
                if isinstance(now, np.ndarray) and now.ndim == len(traced) and now.shape != traced:
                    changed = (a for a, (d, t) in enumerate(zip(now.shape, traced, strict=True)) if d != t)
                    self.dims_seen |= {(expr, a) for a in changed}
        dims = frozenset(self.dims_seen - self.static_dims)
        if dims:
            log_stage("recompiles", f"{fn.__qualname__}: dynamic dimensions {', '.join(dim_names(dims))}")
        return dims

    def dynamic_scalars(self, entries: list[CacheEntry], frame_args: tuple, dynamic: bool | None
                        ) -> frozenset[str]:
        """Python float and int arguments (or items of tuple arguments) read at run time (where
        the graph can take them as inputs) rather than as constants: with ``dynamic=True`` all,
        with ``dynamic=None`` those whose value differs from an earlier entry's."""
        if dynamic is False:
            return frozenset()
        for key, value in scalar_arguments(frame_params(self.function.__code__), frame_args).items():
            if dynamic or any(_another_value(entry.capture.scalar_arguments.get(key), value) for entry in entries):
                if key not in self.scalars_seen:
                    use = "next to arrays" if type(value) is float else "as an index or next to float arrays"
                    log_stage("recompiles", f"{self.function.__qualname__}: {key} is read at run time {use} "
                                            f"(a Python {type(value).__name__} whose value changed)")
                self.scalars_seen.add(key)
        return frozenset(self.scalars_seen)

    def reset(self) -> None:
        self.dims_seen.clear()
        self.static_dims.clear()
        self.scalars_seen.clear()


def _another_value(traced: float | int | None, now: float | int) -> bool:
    """Whether a float or int parameter traced as ``traced`` has another value of its type now
    (-0.0 is another float)."""
    if type(traced) is not type(now):
        return False
    if type(now) is int:
        return traced != now
    return not (traced == now and math.copysign(1.0, traced) == math.copysign(1.0, now))


def dim_names(dims: frozenset[tuple[str, int]]) -> list[str]:
    return [f"{expr}.shape[{axis}]" for expr, axis in sorted(dims)]
