"""Dynamic dimensions: a shape entry that stands for any size >= 2, so one graph serves them all.

A ``Dim`` is a symbol (``s0``) with the size it had when traced (its ``hint``). Equality means
"equal for every size": a Dim equals itself and nothing else (``d == 2048`` and ``d == 1`` are
False, so ``d == 1`` tests for broadcasting stay right and shape comparisons in fusion only
merge what is provably alike). Every other question (``d > n``, ``d * 4``, ``int(d)``,
``range(d)``) raises :class:`SymbolicShapeError`, and the runtime then compiles that
dimension as a static size instead: only code that asks an answerable question gets an
answer, so a dimension is never silently specialised to its hint.

Shape rules stay NumPy's own: :func:`infer_meta` runs an op's rule twice with each symbol
replaced by a distinct large "marker" size, and maps markers in the result back to symbols.
A result dimension that differs between the two runs depends on a symbol in some other way
(``concatenate`` along it gives 2*s0): that raises too. Slicing is the one rule whose result
can be the same for two large sizes but not for small ones (``x[:10]``), so indexing a
dynamic dimension with anything but a full slice raises before the rule runs.

>>> import numpy as np
>>> from .ops import OPS
>>> s0 = Dim("s0", 4096)
>>> x = TensorMeta((s0, 2048), np.dtype("float32"))
>>> infer_meta(OPS["sum"], (x,), {"axis": (1,), "keepdims": True})
f32[s0, 1]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .meta import TensorMeta
from .ops import Op, OpKind
from .ops.probing import map_metas


class SymbolicShapeError(Exception):
    """A question about a dynamic dimension that only its concrete size can answer.

    ``dims`` are the symbols involved (empty when unknown): the runtime compiles them static.
    """

    def __init__(self, message: str, dims: tuple[Dim, ...] = ()):
        super().__init__(message)
        self.dims = dims


class Dim:
    """A dynamic dimension (any size >= 2); ``hint`` is the size it had when traced."""

    __slots__ = ("name", "hint")

    def __init__(self, name: str, hint: int):
        if hint < 2:
            raise ValueError("sizes 0 and 1 stay static (they decide broadcasting)")
        self.name, self.hint = name, hint

    def __repr__(self) -> str:
        return self.name  # shapes print as f32[s0, 2048], and render so in generated code

    def __hash__(self) -> int:
        return hash((Dim, self.name))

    def __eq__(self, other: object) -> bool:
        return other is self  # the same size at every call only if it is the same symbol

    def __ne__(self, other: object) -> bool:
        return other is not self

    def _refuse(self, *_args: Any) -> Any:
        raise SymbolicShapeError(f"dynamic dimension {self.name} used as a number", (self,))

    __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __floordiv__ = __rfloordiv__ = __mod__ = __truediv__ = __neg__ = _refuse
    __bool__ = __int__ = __index__ = __float__ = _refuse


def dims_in(value: Any) -> list[Dim]:
    """Every Dim inside (nested tuples/lists/dicts/slices of) ``value`` and TensorMeta shapes."""
    found: list[Dim] = []

    def visit(item: Any) -> None:
        if isinstance(item, Dim):
            if item not in found:
                found.append(item)
        elif isinstance(item, TensorMeta):
            visit(item.shape)
        elif isinstance(item, tuple | list):
            for element in item:
                visit(element)
        elif isinstance(item, dict):
            for element in item.values():
                visit(element)
        elif isinstance(item, slice):
            visit((item.start, item.stop, item.step))

    visit(value)
    return found


def concrete(shape: tuple, what: str) -> tuple[int, ...]:
    """``shape`` as ints for code that reads sizes as numbers (``x.shape`` in the user's code)."""
    dims = dims_in(shape)
    if dims:
        raise SymbolicShapeError(f"{what} reads dynamic dimension {dims[0]}", tuple(dims))
    return shape


def broadcast_shapes(*shapes: tuple) -> tuple:
    """NumPy's ``broadcast_shapes`` over shapes that may hold Dims (which never broadcast)."""
    metas = tuple(TensorMeta(tuple(s), _BOOL) for s in shapes)
    return infer_meta(_BROADCAST, metas, {}).shape


def is_static(shape: tuple) -> bool:
    return not any(isinstance(d, Dim) for d in shape)


def hint_shape(shape: tuple) -> tuple[int, ...]:
    """The shape with each Dim at its traced size: for heuristics (thread splits), never semantics."""
    return tuple(d.hint if isinstance(d, Dim) else d for d in shape)


def hint_size(shape: tuple) -> int:
    size = 1
    for d in hint_shape(shape):
        size *= d
    return size


_BOOL = np.dtype(bool)
_BROADCAST = Op("broadcast_shapes", OpKind.ELEMENTWISE, np.broadcast_shapes,
                lambda *metas: TensorMeta(np.broadcast_shapes(*(m.shape for m in metas)), _BOOL))

# Two marker sets: primes far from any real small size, distinct per symbol.
_MARKERS = ((1_000_003, 1_000_033, 1_000_037, 1_000_039, 1_000_081, 1_000_099, 1_000_117, 1_000_121),
            (1_000_133, 1_000_151, 1_000_159, 1_000_171, 1_000_183, 1_000_187, 1_000_193, 1_000_199))


def infer_meta(op: Op, args: tuple, kwargs: dict) -> TensorMeta:
    """``op``'s result meta for argument metas that may hold Dims (see the module docstring)."""
    symbols = dims_in((args, kwargs))
    if not symbols:
        return op.infer(*args, **kwargs)
    constants = dims_in(map_metas((args, tuple(kwargs.values())), lambda meta: ()))
    if constants:
        raise SymbolicShapeError(f"{op.name}: a dynamic dimension as a parameter", tuple(constants))
    if len(symbols) > len(_MARKERS[0]):
        raise SymbolicShapeError(f"{op.name}: more than {len(_MARKERS[0])} dynamic dimensions", tuple(symbols))
    if op.name in ("getitem", "setitem"):
        _check_index(op.name, args[0], args[1])
    results = []
    for markers in _MARKERS:
        sizes = dict(zip(symbols, markers, strict=False))
        if any(d in markers for d in _static_sizes((args, kwargs))):
            raise SymbolicShapeError(f"{op.name}: a static size collides with a marker", tuple(symbols))
        try:
            results.append(op.infer(*_substitute(args, sizes), **_substitute(kwargs, sizes)))
        except Exception as error:  # at the concrete sizes NumPy may accept it, or raise for real
            raise SymbolicShapeError(f"{op.name} on dynamic dimensions: {error}", tuple(symbols)) from error
    first, second = results
    if first.dtype != second.dtype or first.is_scalar != second.is_scalar or first.ndim != second.ndim:
        raise SymbolicShapeError(f"{op.name}: the result kind depends on a dynamic dimension", tuple(symbols))
    by_marker = {markers[i]: symbol for markers in _MARKERS for i, symbol in enumerate(symbols)}
    shape = []
    for a, b in zip(first.shape, second.shape, strict=True):
        if a == b and a not in by_marker:
            shape.append(a)
        elif a in by_marker and by_marker[a] is by_marker.get(b):
            shape.append(by_marker[a])
        else:
            raise SymbolicShapeError(f"{op.name}: a result size computed from a dynamic dimension",
                                     tuple(symbols))
    return TensorMeta(tuple(shape), first.dtype, first.is_scalar)


def _substitute(value: Any, sizes: dict[Dim, int]) -> Any:
    def concrete(meta: TensorMeta) -> TensorMeta:
        return TensorMeta(tuple(sizes[d] if isinstance(d, Dim) else d for d in meta.shape), meta.dtype, meta.is_scalar)

    if isinstance(value, dict):
        return {key: map_metas(item, concrete) for key, item in value.items()}
    return map_metas(value, concrete)


def _static_sizes(value: Any) -> list[int]:
    sizes: list[int] = []
    map_metas(value, lambda meta: sizes.extend(d for d in meta.shape if not isinstance(d, Dim)))
    return sizes


def _check_index(op_name: str, target: Any, index: Any) -> None:
    """Basic indexing keeps a dynamic dimension only under a full slice (``:`` or ``::-1``)."""
    if not isinstance(target, TensorMeta):
        return
    items = index if isinstance(index, tuple) else (index,)
    if any(item is Ellipsis for item in items):
        at = items.index(Ellipsis)
        consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
        items = items[:at] + (slice(None),) * (target.ndim - consumed) + items[at + 1:]
    dims = [item for item in items if item is not None]
    for dim, item in zip(target.shape, dims, strict=False):
        full = isinstance(item, slice) and item.start is None and item.stop is None and item.step in (None, 1, -1)
        if isinstance(dim, Dim) and not full:
            raise SymbolicShapeError(f"{op_name}: indexes dynamic dimension {dim} with {item!r}", (dim,))
