"""Dynamic dimensions: shape entries that stand for any size >= 2, so one graph serves them all.

A ``Dim`` is a symbol (``s0``) with the size it had when traced (its ``hint``). Equality means
"equal for every size": a Dim equals itself and nothing else (``d == 2048`` and ``d == 1`` are
False, so ``d == 1`` tests for broadcasting stay right and shape comparisons in fusion only
merge what is provably alike). Every other question (``d > n``, ``d * 4``, ``int(d)``,
``range(d)``) raises :class:`SymbolicShapeError`, and the runtime then compiles that
dimension as a static size instead: only code that asks an answerable question gets an
answer, so a dimension is never silently specialised to its hint.

Shape rules stay NumPy's own: :func:`infer_meta` runs an op's rule twice with each symbol
replaced by a distinct large "marker" size, and maps markers in the result back to symbols
(a marker minus a constant, from indexing, to ``s0 - 2``). A result dimension that differs
between the two runs in any other way (``concatenate`` along it gives 2*s0) raises. Indexing
is the one rule whose result can be the same for two large sizes but not for small ones
(``x[:10]``), so only index forms that hold at every size above a minimum pass, and that
minimum becomes a guard on the symbol (``x[1:-1]`` needs 4 rows to leave 2).

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
from .ops.views import index_axes


class SymbolicShapeError(Exception):
    """A question about a dynamic dimension that only its concrete size can answer.

    ``dims`` are the symbols involved (empty when unknown): the runtime compiles them static.
    """

    def __init__(self, message: str, dims: tuple[Dim, ...] = ()):
        super().__init__(message)
        self.dims = dims


class Dim:
    """A dynamic dimension: a symbol (any size >= ``minimum``, at least 2), or an affine
    expression of one, ``scale*symbol + offset`` (``s0 - 2`` is what ``x[1:-1]`` leaves of it,
    ``16*s0`` what flattening (s0, 16) makes). ``hint`` is the size when traced. There is one
    object per symbol, scale and offset, so identity is equality."""

    __slots__ = ("name", "hint", "base", "scale", "offset", "minimum", "_derived")

    def __init__(self, name: str, hint: int):
        if hint < 2:
            raise ValueError("sizes 0 and 1 stay static (they decide broadcasting)")
        self.name, self.hint, self.base, self.scale, self.offset, self.minimum = name, hint, self, 1, 0, 2
        self._derived: dict[tuple[int, int], Dim] = {}

    def derived(self, scale: int, offset: int) -> Dim:
        """``scale * symbol + offset`` for this dimension's symbol; it must stay >= 2 (a guard on
        the symbol, see ``require``)."""
        base = self.base
        if (scale, offset) == (1, 0):
            return base
        if scale < 1:
            raise SymbolicShapeError(f"{scale}*{base.name}: not a size", (base,))
        dim = base._derived.get((scale, offset))
        if dim is None:
            dim = object.__new__(Dim)
            text = base.name if scale == 1 else f"{scale}*{base.name}"
            dim.name = text + (f" {'-' if offset < 0 else '+'} {abs(offset)}" if offset else "")
            dim.hint, dim.base, dim.scale, dim.offset = scale * base.hint + offset, base, scale, offset
            dim.minimum, dim._derived = 2, {}
            base._derived[(scale, offset)] = dim
        dim.require(2)
        return dim

    def shifted(self, offset: int) -> Dim:
        """This size plus ``offset``."""
        return self.derived(self.scale, self.offset + offset)

    def times(self, factor: int) -> Dim:
        """This size times ``factor`` (>= 1)."""
        return self.derived(self.scale * factor, self.offset * factor)

    def require(self, size: int) -> None:
        """The graph holds only where this dimension is >= ``size``: the symbol's guard says so."""
        need = -((self.offset - size) // self.scale)  # ceil((size - offset) / scale)
        if self.base.hint < need:
            raise SymbolicShapeError(f"{self.name} must be >= {size}, and was {self.hint} when traced", (self,))
        self.base.minimum = max(self.base.minimum, need)

    @property
    def affine(self) -> bool:
        """Whether it needs parentheses in a product (``(s0 - 2) * 4``)."""
        return self.scale != 1 or self.offset != 0

    def __repr__(self) -> str:
        return self.name  # shapes print as f32[s0, 2048], and render so in generated code

    def __hash__(self) -> int:
        return hash((Dim, self.name))

    def __eq__(self, other: object) -> bool:
        return other is self  # the same size at every call only if it is the same symbol and offset

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
    """``shape`` as ints, for code that needs every size as a number (iterating over rows)."""
    dims = dims_in(shape)
    if dims:
        raise SymbolicShapeError(f"{what} reads dynamic dimension {dims[0]}", tuple(dims))
    return shape


def broadcast_shapes(*shapes: tuple) -> tuple:
    """NumPy's ``broadcast_shapes`` over shapes that may hold Dims (which never broadcast)."""
    metas = tuple(TensorMeta(tuple(s), _BOOL) for s in shapes)
    return infer_meta(_BROADCAST, metas, {}).shape


def broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` (False also where NumPy would not
    broadcast the two at all: a caller then lets eager raise NumPy's own message)."""
    try:
        return broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def is_static(shape: tuple) -> bool:
    return not any(isinstance(d, Dim) for d in shape)


def hint_size(shape: tuple) -> int:
    """The shape's size with each Dim at its traced size: for heuristics (buffer reuse), never semantics."""
    size = 1
    for d in shape:
        size *= d.hint if isinstance(d, Dim) else d
    return size


_BOOL = np.dtype(bool)
_BROADCAST = Op("broadcast_shapes", OpKind.ELEMENTWISE, np.broadcast_shapes,
                lambda *metas: TensorMeta(np.broadcast_shapes(*(m.shape for m in metas)), _BOOL))

# Symbol k stands for A[k] in the first run and A[k] + D[k] in the second. The A lie between 1.29
# and 2.01 million (no multiple or sum of two is near another; far from round sizes such as 10**6
# or 2**20; three multiplied still fit int64) and the D are distinct primes near 10**4 (none a
# multiple of another), so a result that is a marker plus the same small offset in both runs
# (``s0 - 2``) can only come from that one symbol: 2*s0 or s0 + s1 never pass for a symbol.
_MARKERS = tuple(zip((1_299_709, 1_400_017, 1_500_007, 1_600_033, 1_700_021, 1_800_017, 1_900_009, 2_000_003),
                     (1_309_716, 1_410_026, 1_510_044, 1_610_072, 1_710_082, 1_810_084, 1_910_078, 2_010_082),
                     strict=True))
_MAX_OFFSET = 256
_MAX_SCALE = 4096


# Ops whose parameters may hold Dims (a target shape); code generators render them as the
# Python expressions they are (``(s0, 16, 64)``), the interpreter resolves them per call.
SHAPE_PARAMETER_OPS = frozenset({"reshape", "broadcast_to", "broadcast_writeable", "zeros", "ones", "empty", "full"})
_FILLS = frozenset({"zeros", "ones", "empty", "full"})
# Ops whose shape rule runs NumPy on stand-ins as large as their result: at the marker sizes
# below that could be gigabytes, so their dimensions compile static.
_STATIC_SHAPE_OPS = frozenset({"advanced_index", "take_along_axis"})


def infer_meta(op: Op, args: tuple, kwargs: dict) -> TensorMeta:
    """``op``'s result meta for argument metas that may hold Dims (see the module docstring)."""
    dims = dims_in((args, kwargs))
    if not dims:
        return _infer_static(op, args, kwargs)
    if op.name in _STATIC_SHAPE_OPS:
        raise SymbolicShapeError(f"{op.name} on dynamic dimensions", tuple(dims))
    constants = dims_in(map_metas((args, tuple(kwargs.values())), lambda meta: ()))
    if constants and op.name not in SHAPE_PARAMETER_OPS:
        raise SymbolicShapeError(f"{op.name}: a dynamic dimension as a parameter", tuple(constants))
    bases = list(dict.fromkeys(d.base for d in dims))
    if len(bases) > len(_MARKERS):
        raise SymbolicShapeError(f"{op.name}: more than {len(_MARKERS)} dynamic dimensions", tuple(dims))
    if any(_could_pass_for_a_symbol(size) for size in _static_ints((args, kwargs))):
        raise SymbolicShapeError(f"{op.name}: a static size that could pass for a dynamic one", tuple(dims))
    if op.name in ("getitem", "setitem"):
        for dim, size in _index_requirements(op.name, args[0], args[1]):
            dim.require(size)
    if op.name in _FILLS:  # the result has the shape asked for; NumPy gives the dtype (and errors)
        shape = args[0] if isinstance(args[0], tuple | list) else (args[0],)
        traced = {base: base.hint for base in bases}  # what eager makes in this call
        return TensorMeta(tuple(shape), op.infer(*_substitute(args, traced), **kwargs).dtype)
    results = []
    for run in range(2):
        sizes = {base: _MARKERS[k][run] for k, base in enumerate(bases)}
        try:
            results.append(op.infer(*_substitute(args, sizes), **_substitute(kwargs, sizes)))
        except Exception as error:  # at the concrete sizes NumPy may accept it, or raise for real
            raise SymbolicShapeError(f"{op.name} on dynamic dimensions: {error}", tuple(dims)) from error
    first, second = results
    if first.dtype != second.dtype or first.is_scalar != second.is_scalar or first.ndim != second.ndim:
        raise SymbolicShapeError(f"{op.name}: the result kind depends on a dynamic dimension", tuple(dims))
    shape = tuple(a if a == b else _symbol_for(a, b, bases, op.name, dims)
                  for a, b in zip(first.shape, second.shape, strict=True))
    _check_at_the_smallest_sizes(op, args, kwargs, bases, shape, dims)
    return TensorMeta(shape, first.dtype, first.is_scalar)


# Static results by op and typed arguments: the tracer infers each node once, the verifier
# again after every pass (black_scholes: ~850 inferences of a few dozen distinct ones).
_STATIC: dict[tuple, TensorMeta] = {}


def _infer_static(op: Op, args: tuple, kwargs: dict) -> TensorMeta:
    try:
        key = (op, _typed(args), _typed(kwargs))
        known = _STATIC.get(key)
    except TypeError:  # an array constant: no key
        return op.infer(*args, **kwargs)
    if known is None:
        known = op.infer(*args, **kwargs)
        if len(_STATIC) >= 4096:
            _STATIC.clear()
        _STATIC[key] = known
    return known


def _typed(value: Any) -> Any:
    """A key equal only for arguments every shape rule treats alike: ``True``, ``1`` and ``1.0``
    compare equal in Python but not to NumPy, so each value is keyed with its type."""
    if isinstance(value, TensorMeta):
        return value
    if isinstance(value, tuple | list):
        return type(value), tuple(_typed(v) for v in value)
    if isinstance(value, dict):
        return dict, tuple((k, _typed(v)) for k, v in value.items())
    if isinstance(value, slice):
        return slice, _typed(value.start), _typed(value.stop), _typed(value.step)
    hash(value)  # TypeError for what has no key
    return type(value), value


def _check_at_the_smallest_sizes(op: Op, args: tuple, kwargs: dict, bases: list[Dim], shape: tuple,
                                 dims: list[Dim]) -> None:
    """Affine at the two marker runs is not affine at every size: ``min(s0, s1)`` (a diagonal)
    reads as ``s0`` while the markers keep their order, ``min(s0, 5)`` as ``5`` while they stay
    large. So the rule runs once more at the smallest sizes the guards admit, the symbols in
    reverse order, and must give the same shape there."""
    sizes = {base: base.minimum + len(bases) - 1 - k for k, base in enumerate(bases)}
    try:
        small = op.infer(*_substitute(args, sizes), **_substitute(kwargs, sizes))
    except Exception as error:
        raise SymbolicShapeError(f"{op.name} at the smallest dynamic sizes: {error}", tuple(dims)) from error
    if small.shape != _substitute(shape, sizes):
        raise SymbolicShapeError(f"{op.name}: a result size that is not affine in the dynamic dimensions "
                                 "(the smaller of two, say)", tuple(dims))


def _symbol_for(a: int, b: int, bases: list[Dim], op_name: str, dims: list[Dim]) -> Dim:
    """The affine expression ``c*symbol + o`` that gave ``a`` in the first run and ``b`` in the
    second (c a whole number up to _MAX_SCALE, |o| <= _MAX_OFFSET), if exactly one fits."""
    for k, base in enumerate(bases):
        first, second = _MARKERS[k]
        scale, remainder = divmod(b - a, second - first)
        offset = a - scale * first
        if remainder == 0 and 1 <= scale <= _MAX_SCALE and abs(offset) <= _MAX_OFFSET:
            return base.derived(scale, offset)
    raise SymbolicShapeError(f"{op_name}: a result size computed from a dynamic dimension", tuple(dims))


def _substitute(value: Any, sizes: dict[Dim, int]) -> Any:
    """``value`` with every Dim (in metas and in shape parameters) at its marker size."""
    if isinstance(value, Dim):
        return value.scale * sizes[value.base] + value.offset
    if isinstance(value, TensorMeta):
        return TensorMeta(tuple(_substitute(d, sizes) for d in value.shape), value.dtype, value.is_scalar)
    if isinstance(value, tuple | list):
        return type(value)(_substitute(item, sizes) for item in value)
    if isinstance(value, dict):
        return {key: _substitute(item, sizes) for key, item in value.items()}
    return value


def input_sizes(inputs: list, arrays: Any) -> dict[Dim, int]:
    """Each symbol's size in a call: read from the first graph input that carries it."""
    sizes: dict[Dim, int] = {}
    for node, array in zip(inputs, arrays, strict=True):
        for axis, dim in enumerate(node.meta.shape):
            if isinstance(dim, Dim) and dim.base is dim and dim not in sizes:
                sizes[dim] = array.shape[axis]
    return sizes


def resolve(value: Any, sizes: dict[Dim, int]) -> Any:
    """``value`` with every Dim at the size its symbol has in ``sizes`` (a call's own)."""
    return _substitute(value, sizes)


def _static_ints(value: Any) -> list[int]:
    """Every int in the arguments: static sizes of metas, shape parameters, indices."""
    if isinstance(value, TensorMeta):
        return [d for d in value.shape if not isinstance(d, Dim)]
    if isinstance(value, bool) or not isinstance(value, int | tuple | list | dict | slice):
        return []
    if isinstance(value, int):
        return [value]
    items = value.values() if isinstance(value, dict) else \
        (value.start, value.stop, value.step) if isinstance(value, slice) else value
    return [i for item in items for i in _static_ints(item)]


def _could_pass_for_a_symbol(size: int) -> bool:
    """Whether a static size is near a multiple of a marker (so the two runs could read it as
    ``c*s + o``), or a multiple of a marker step D (a divisibility test both runs would pass)."""
    size = abs(size)
    for first, second in _MARKERS:
        for marker in (first, second):
            c, r = divmod(size, marker)
            if c <= _MAX_SCALE and (r <= _MAX_OFFSET or marker - r <= _MAX_OFFSET) and size > _MAX_OFFSET:
                return True
        if size and size % (second - first) == 0:
            return True
    return False


def _index_requirements(op_name: str, target: Any, index: Any) -> list[tuple[Dim, int]]:
    """What basic indexing needs of the dynamic dimensions it indexes, as (dim, minimum size).

    Only forms whose result is one expression at every size above the minimum pass:
    ``x[i]`` (needs i+1 rows, or -i for negative i), ``x[k:]``, ``x[:-m]``, ``x[k:-m]``
    (``s0 - k - m``; need k+m+2: the result stays >= 2), ``x[::-1]``, and the slices whose
    length stops depending on the size once it is large enough: ``x[:10]``, ``x[2:7]``
    (need 10, 7), ``x[-3:]``, ``x[-5:-2]`` (need 3, 5). ``x[-3:10]`` depends on the size,
    and strided slices divide it: those raise.
    """
    if not isinstance(target, TensorMeta):
        return []
    items = index if isinstance(index, tuple) else (index,)
    needs: list[tuple[Dim, int]] = []
    for item, axis in zip(items, index_axes(items, target.ndim), strict=True):
        dim = target.shape[axis] if axis is not None and axis < target.ndim else None
        if not isinstance(dim, Dim):
            continue
        if isinstance(item, int) and not isinstance(item, bool):
            needs.append((dim, item + 1 if item >= 0 else -item))
            continue
        if isinstance(item, TensorMeta) and item.is_scalar and item.dtype.kind in "iu":
            continue  # an index read at run time, which guards keep inside the dimension
        minimum = _slice_minimum(item) if isinstance(item, slice) else None
        if minimum is not None:
            needs.append((dim, minimum))
        elif not (isinstance(item, slice) and item.start is None and item.stop is None and item.step == -1):
            raise SymbolicShapeError(f"{op_name}: indexes dynamic dimension {dim} with {item!r}", (dim,))
    return needs


_MAX_BOUND = 1 << 20  # below every marker size, so the markers see a bounded slice's own length


def _slice_minimum(item: slice) -> int | None:
    """The size from which ``x[item]`` (step 1) has one length expression, or None."""
    start, stop = item.start, item.stop
    if item.step not in (None, 1) or any(v is not None and (type(v) is not int or abs(v) > _MAX_BOUND)
                                         for v in (start, stop)):
        return None
    first = start or 0
    if first >= 0 and (stop is None or stop < 0):  # s0 - first - m: affine, kept >= 2
        last = -stop if stop is not None else 0
        return first + last + 2 if first <= _MAX_OFFSET and last <= _MAX_OFFSET else None
    if first >= 0:  # x[first:stop]: stop - first rows once the size reaches stop
        return stop
    if stop is None or stop < 0:  # x[-k:] or x[-k:-m]: k - m rows once the size reaches k
        return -first
    return None  # x[-k:stop]: the length moves with the size

