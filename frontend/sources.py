"""Where a value from outside the frame came from, so it can be fetched and guarded again.

Each source renders as a Python expression over the names the generated guard and
wrapper functions see: the frame's arguments by name, ``G`` (the function's globals)
and ``C`` (its closure cells).
"""
from __future__ import annotations

import builtins
import keyword
import re
import types
from dataclasses import dataclass
from typing import Any

import numpy as np


class Source:
    def expr(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.expr()


def frame_namespace(params: tuple[str, ...], args: tuple, globals_: dict, closure: tuple | None) -> dict:
    """The names source expressions use, for one call: the frame's arguments, ``G`` and ``C``."""
    return {"G": globals_, "C": closure or (), **dict(zip(params, args, strict=True))}


def evaluate(source_expr: str, namespace: dict) -> Any:
    """The value a source expression names in ``namespace`` (None if it no longer resolves)."""
    try:
        return eval(source_expr, dict(namespace))  # noqa: S307 - an expression Ember generated
    except Exception:
        return None


def identifier(name: str) -> str:
    """A name usable in generated code: ``<lambda>`` -> ``_lambda_``, and a 3.11 comprehension's
    iterator parameter ``.0`` -> ``_0``."""
    if name.isidentifier() and not keyword.iskeyword(name):
        return name
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return text if text.isidentifier() and not keyword.iskeyword(text) else f"_{text}"


# Names the generated guard and wrapper functions use themselves: their locals and globals, the
# builtins they call, and the names guards give the constants they compare with (guards.py's
# _constant_name: dtypes, types, ``<name>_<id>``). A frame parameter must not shadow one.
_GENERATED_NAMES = frozenset(dir(builtins)) | frozenset(vars(types).keys()) | frozenset(
    kind.__name__ for kind in vars(types).values() if isinstance(kind, type)) | frozenset(
    name for name, value in vars(np).items() if isinstance(value, type)) | frozenset(
    np.dtype(code).name for code in np.typecodes["All"]) | {
    "G", "C", "graph_out", "next_item", "call_result", "failure", "artifact", "Resume", "Failed", "call", "guard",
    "held", "next_args", "may_share_memory", "copysign", "dtype_bool", "error_state", "quiet_error_state",
    "floating_point_errors_quiet", "steps_without_python"}
_GENERATED_PATTERN = re.compile(r"[Kt][0-9]+|(np|dtype)_\w+|\w+_[0-9a-f]{6,}|\w*iterator")


def local_name(name: str) -> str:
    """A frame parameter's name in generated code: ``identifier(name)``, with one more ``_`` where
    its stem (the name without trailing underscores) is a name that code uses itself (``out`` ->
    ``out_``, ``out_`` -> ``out__``: distinct parameters stay distinct)."""
    text = identifier(name)
    stem = text.rstrip("_")
    return text + "_" if stem in _GENERATED_NAMES or _GENERATED_PATTERN.fullmatch(stem) else text


@dataclass(frozen=True, slots=True)
class LocalSource(Source):
    """An argument of the compiled frame (after binding defaults and keywords)."""

    name: str

    def expr(self) -> str:
        return local_name(self.name)


@dataclass(frozen=True, slots=True)
class GlobalSource(Source):
    name: str

    def expr(self) -> str:
        return f"G[{self.name!r}]"


@dataclass(frozen=True, slots=True)
class ClosureSource(Source):
    """A free variable of the compiled function, read through its cell."""

    index: int
    name: str

    def expr(self) -> str:
        return f"C[{self.index}].cell_contents"


@dataclass(frozen=True, slots=True)
class AttrSource(Source):
    base: Source
    attr: str

    def expr(self) -> str:
        return f"{self.base.expr()}.{self.attr}"


@dataclass(frozen=True, slots=True)
class AffineSource(Source):
    """A Python int argument times and plus constants (``i - 1``, ``2 * i + 1``), read at run
    time (values.DynamicInt)."""

    base: Source
    scale: int
    offset: int

    def expr(self) -> str:
        scaled = self.base.expr() if self.scale == 1 else f"{self.scale} * {self.base.expr()}"
        return f"({plus(scaled, self.offset)})"


@dataclass(frozen=True, slots=True)
class ArithmeticSource(Source):
    """Python arithmetic of a float argument (or an int one, with a float) and a finite constant
    (``t + 0.1``, ``i * 0.5``), evaluated by Python from the call's argument: Python's own
    rounding, and a float again (values.DynamicFloat)."""

    symbol: str
    left: Source | str  # a source, or the constant's repr (``-0.0`` and ``0.0`` differ: not equal keys)
    right: Source | str

    def expr(self) -> str:
        left, right = (side.expr() if isinstance(side, Source) else side for side in (self.left, self.right))
        return f"({left} {self.symbol} {right})"


def argument_only(source: Source | str) -> bool:
    """Whether ``source`` is an argument of the frame or arithmetic on one, which no code the
    frame runs can change (it can assign a global, an attribute or an item)."""
    if isinstance(source, ArithmeticSource):
        return all(argument_only(side) for side in (source.left, source.right))
    while isinstance(source, AffineSource):
        source = source.base
    return isinstance(source, LocalSource | str)


def plus(text: str, offset: int) -> str:
    """``text + offset`` as Python text (``i - 1``; ``i`` itself for 0)."""
    return f"{text} {'-' if offset < 0 else '+'} {abs(offset)}" if offset else text


@dataclass(frozen=True, slots=True)
class ItemSource(Source):
    base: Source
    key: object  # an int or a str

    def expr(self) -> str:
        return f"{self.base.expr()}[{self.key!r}]"


@dataclass(frozen=True, slots=True)
class CellContentsSource(Source):
    """The contents of cell ``index`` of a function reached through ``base``."""

    base: Source
    index: int

    def expr(self) -> str:
        return f"{self.base.expr()}.__closure__[{self.index}].cell_contents"


@dataclass(frozen=True, slots=True)
class DefaultSource(Source):
    """A default argument of a function reached through ``base`` (an inlined callee)."""

    base: Source
    index: int

    def expr(self) -> str:
        return f"{self.base.expr()}.__defaults__[{self.index}]"
