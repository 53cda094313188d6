"""Where a value from outside the frame came from, so it can be fetched and guarded again.

Each source renders as a Python expression over the names the generated guard and
wrapper functions see: the frame's arguments by name, ``G`` (the function's globals)
and ``C`` (its closure cells).
"""
from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Any


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


@dataclass(frozen=True, slots=True)
class LocalSource(Source):
    """An argument of the compiled frame (after binding defaults and keywords)."""

    name: str

    def expr(self) -> str:
        return identifier(self.name)


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
class OffsetSource(Source):
    """A Python int argument plus a constant (``i - 1``), read at run time (values.DynamicInt)."""

    base: Source
    offset: int

    def expr(self) -> str:
        return f"({self.base.expr()} {'-' if self.offset < 0 else '+'} {abs(self.offset)})"


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
