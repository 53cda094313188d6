"""Ops done by library calls: matrix products and einsum, joining, rolling, tiling, repeating and
padding arrays, indexing with integer arrays, running sums and sorting, a ufunc's reduce and
accumulate, medians and quantiles; an array's size as a number."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..meta import TensorMeta
from .probing import full_stand_in, probe, result_meta, tiny_stand_in
from .reductions import reduced_shape
from .registry import Op, OpKind, register


def matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if not a or not b:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(f"matmul: mismatch in core dimension ({a2[-1]} != {b2[-2]})")
    batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    core = (a2[-2] if len(a) > 1 else None, b2[-1] if len(b) > 1 else None)
    return (*batch, *(d for d in core if d is not None))


def dot_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if not a or not b:
        return a or b
    k_b = b[0] if len(b) == 1 else b[-2]
    if a[-1] != k_b:
        raise ValueError(f"shapes {a} and {b} not aligned")
    return (*a[:-1], *b[:-2], *b[-1:]) if len(b) > 1 else a[:-1]


def _infer_product(shape_rule, reference):
    def infer(a: Any, b: Any) -> TensorMeta:
        shape = shape_rule(np.shape(a) if not isinstance(a, TensorMeta) else a.shape,
                           np.shape(b) if not isinstance(b, TensorMeta) else b.shape)
        stand_ins = (_stand_in_for_product(a, 0), _stand_in_for_product(b, 1))
        return result_meta(shape, probe(reference, stand_ins, {}))

    return infer


def _stand_in_for_product(value: Any, _position: int) -> Any:
    # All-ones shapes multiply in any arrangement, so the probe only has to get the dtype.
    return tiny_stand_in(value) if isinstance(value, TensorMeta) else value


def _join_shape(parts: tuple, axis: int, stacking: bool) -> tuple[int, ...]:
    shapes = [p.shape if isinstance(p, TensorMeta) else np.shape(p) for p in parts]
    if not shapes:
        raise ValueError("need at least one array to concatenate")
    if axis is None and not stacking:  # concatenate(..., axis=None) joins the flattened parts
        return (sum(int(np.prod(s, dtype=np.int64)) for s in shapes),)
    first = shapes[0]
    if any(len(s) != len(first) for s in shapes) or (not stacking and not first):
        raise ValueError("all the input arrays must have same number of dimensions")
    ndim = len(first) + 1 if stacking else len(first)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    if stacking:
        if any(s != first for s in shapes):
            raise ValueError("all input arrays must have the same shape")
        axis = axis + len(first) + 1 if axis < 0 else axis
        return (*first[:axis], len(shapes), *first[axis:])
    axis = axis + len(first) if axis < 0 else axis
    if any(s[:axis] + s[axis + 1:] != first[:axis] + first[axis + 1:] for s in shapes):
        raise ValueError("all the input array dimensions except for the concatenation axis must match")
    return (*first[:axis], sum(s[axis] for s in shapes), *first[axis + 1:])


def _infer_join(reference, stacking: bool):
    def infer(parts: tuple, axis: int = 0) -> TensorMeta:
        shape = _join_shape(parts, axis, stacking)
        probed = probe(reference, (tuple(np.ravel(tiny_stand_in(p))[:1] if isinstance(p, TensorMeta)
                                         else np.ravel(p)[:1] for p in parts),), {})
        return TensorMeta(shape, probed.dtype)

    return infer


register(Op("matmul", OpKind.EXTERN, np.matmul, _infer_product(matmul_shape, np.matmul)))
register(Op("dot", OpKind.EXTERN, np.dot, _infer_product(dot_shape, np.dot)))
register(Op("concatenate", OpKind.EXTERN, np.concatenate, _infer_join(np.concatenate, False)))
register(Op("stack", OpKind.EXTERN, np.stack, _infer_join(np.stack, True)))


def _dim_size(x: Any, axis: int, dtype: np.dtype, scale: int = 1, offset: int = 0) -> Any:
    return np.dtype(dtype).type(scale * np.shape(x)[axis] + offset)


def _infer_dim_size(x: Any, axis: int, dtype: np.dtype, scale: int = 1, offset: int = 0) -> TensorMeta:
    return TensorMeta((), np.dtype(dtype), is_scalar=True)


# ``scale * x.shape[axis] + offset`` as a NumPy scalar of ``dtype``: a dynamic dimension
# (ir/symbolic.py) that the code uses as a number next to an array (``s / len(x)``, ``x <
# len(x)``), read from the input at run time. Where NumPy turns the Python int into the
# array's dtype first (NEP 50; frontend/operators.py says where), this scalar is that conversion.
register(Op("dim_size", OpKind.EXTERN, _dim_size, _infer_dim_size,
            doc="dim_size(x, axis, dtype, scale=1, offset=0): dtype(scale * x.shape[axis] + offset)"))


def _advanced_index(x: Any, index: tuple) -> Any:
    return x[index]


def _infer_by_index_probe(reference):
    """Shape by NumPy itself, on zero-stride stand-ins of the real shapes: indices all 0 (in
    bounds wherever eager could be), ``x`` as bool so the probe's result is one byte per element.
    Its errors (shape mismatch, a float index) are eager's. (Static shapes only: symbolic.py.)"""
    def infer(x: Any, *args: Any, **kwargs: Any) -> TensorMeta:
        flag = TensorMeta(x.shape, np.dtype(bool))
        probed = probe(reference, (flag, *args), kwargs, stand_in=full_stand_in)
        return TensorMeta(np.shape(probed), x.dtype, isinstance(probed, np.generic))  # x[i0, j0]: a scalar

    return infer


# ``x[index]`` where the index holds integer arrays (NumPy's advanced indexing: always a copy),
# and np.take_along_axis. NumPy raises for an index out of bounds, and so does the compiled code.
register(Op("advanced_index", OpKind.EXTERN, _advanced_index, _infer_by_index_probe(_advanced_index),
            checks_values=True, doc="advanced_index(x, index): x[index], index a tuple with integer arrays"))
register(Op("take_along_axis", OpKind.EXTERN, np.take_along_axis, _infer_by_index_probe(np.take_along_axis),
            checks_values=True, doc="take_along_axis(x, indices, axis=...)"))


def _size(shape: tuple) -> Any:
    """The product of the sizes (a dynamic size stays symbolic until symbolic.py maps it)."""
    size = 1
    for d in shape:
        size = size * d
    return size


def infer_by_rule(reference, shape_rule, *, ask_when_empty: bool = False, stand_in=tiny_stand_in):
    """The shape by ``shape_rule(x, *args, **kwargs)``, except where every operand is 0-d (the
    tiny probe is exact then); the dtype, scalar-ness and NumPy's errors (a bad axis, q out of range) from a probe
    on a tiny stand-in (or ``stand_in``'s, where the function needs some real sizes), and with
    ``ask_when_empty`` also on an empty one of x's shape (a reduction without identity raises
    there)."""
    def infer(x: TensorMeta, *args: Any, **kwargs: Any) -> TensorMeta:
        if ask_when_empty and x.size == 0:
            probe(reference, (x, *args), kwargs, stand_in=lambda meta: np.empty(meta.shape, meta.dtype))
        probed = probe(reference, (x, *args), kwargs, stand_in=stand_in)
        only_0d = x.ndim == 0 and all(a.ndim == 0 for a in args if isinstance(a, TensorMeta))
        shape = tuple(np.shape(probed) if only_0d else shape_rule(x, *args, **kwargs))
        return TensorMeta(shape, np.asarray(probed).dtype, isinstance(probed, np.generic) and not shape)

    return infer


def _along_axis_shape(x: TensorMeta, *, axis: Any, **_: Any) -> tuple:
    """cumsum, cumprod, sort, argsort (``axis`` always given): x's shape, flattened for None."""
    return (_size(x.shape),) if axis is None else x.shape


_reference: Any  # (NumPy functions of different types, in the loops registering them)
for _name, _reference in {"cumsum": np.cumsum, "cumprod": np.cumprod, "sort": np.sort, "argsort": np.argsort,
                          "nancumsum": np.nancumsum, "nancumprod": np.nancumprod}.items():
    register(Op(_name, OpKind.EXTERN, _reference, infer_by_rule(_reference, _along_axis_shape),
                doc=f"{_name}(x, axis=..., ...): NumPy's, axis=None on the flattened array"))


def einsum_shape(subscripts: str, shapes: list[tuple]) -> tuple:
    """The result shape of ``np.einsum(subscripts, *operands)`` (letters only, no ellipsis):
    a label's size is the one its operands agree on, where a size 1 broadcasts (between operands,
    not within one); the output is the labels after ``->``, or else those used once, sorted."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} subscript terms for {len(shapes)} operands")
    sizes: dict[str, Any] = {}
    for term, shape in zip(terms, shapes, strict=True):
        if not term.isalpha() and term:
            raise ValueError(f"einsum subscripts other than letters: {term!r}")
        if len(term) != len(shape):
            raise ValueError(f"einsum: operand has {len(shape)} dimensions, subscripts {term!r}")
        within: dict[str, Any] = {}
        for label, size in zip(term, shape, strict=True):
            if within.setdefault(label, size) != size:  # a label repeated in one operand: no broadcasting
                raise ValueError(f"einsum: label {label!r} has sizes {within[label]} and {size} in one operand")
            known = sizes.get(label, 1)
            if known != 1 and size != 1 and known != size:
                raise ValueError(f"einsum: label {label!r} has sizes {known} and {size}")
            sizes[label] = size if known == 1 else known
    if not arrow:
        output = implicit_einsum_output(inputs)
    if (output and not output.isalpha()) or len(set(output)) != len(output) or any(c not in sizes for c in output):
        raise ValueError(f"einsum: invalid output subscripts {output!r}")
    return tuple(sizes[label] for label in output)


def implicit_einsum_output(inputs: str) -> str:
    """The output labels of einsum without ``->``: those used once, in sorted order."""
    labels = inputs.replace(",", "")
    return "".join(sorted(label for label in set(labels) if labels.count(label) == 1))


def _infer_einsum(subscripts: str, *operands: Any, **kwargs: Any) -> TensorMeta:
    shape = einsum_shape(subscripts, [np.shape(o) if not isinstance(o, TensorMeta) else o.shape for o in operands])
    probed = probe(np.einsum, (subscripts, *operands), kwargs)  # the dtype, on size-1 stand-ins
    return TensorMeta(shape, np.asarray(probed).dtype, isinstance(probed, np.generic) and not shape)


register(Op("einsum", OpKind.EXTERN, np.einsum, _infer_einsum, doc="einsum(subscripts, *operands, optimize=...)"))


def _roll_shape(x: TensorMeta, shift: Any, axis: Any = None) -> tuple:
    return x.shape


def _tile_shape(x: TensorMeta, reps: Any) -> tuple:
    reps = tuple(reps) if isinstance(reps, tuple | list) else (reps,)
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    reps = (1,) * (len(shape) - len(reps)) + reps
    return tuple(s * int(r) for s, r in zip(shape, reps, strict=True))


def _repeat_shape(x: TensorMeta, repeats: Any, axis: Any = None) -> tuple:
    shape = (_size(x.shape),) if axis is None else x.shape
    axis = 0 if axis is None else axis % x.ndim
    counts = np.atleast_1d(np.asarray(repeats))
    total = shape[axis] * int(counts[0]) if counts.size == 1 else int(counts.sum())
    return (*shape[:axis], total, *shape[axis + 1:])


def _pad_shape(x: TensorMeta, pad_width: Any, mode: Any = "constant", **_kwargs: Any) -> tuple:
    pairs = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
    return tuple(s + int(before) + int(after) for s, (before, after) in zip(x.shape, pairs, strict=True))


for _name, _reference, _rule in (("roll", np.roll, _roll_shape), ("tile", np.tile, _tile_shape),
                                 ("repeat", np.repeat, _repeat_shape), ("pad", np.pad, _pad_shape)):
    register(Op(_name, OpKind.EXTERN, _reference, infer_by_rule(_reference, _rule),
                doc=f"{_name}: NumPy's, its parameters constants"))


def _ufunc_reduce(x: Any, ufunc: str, axis: Any = 0, **kwargs: Any) -> Any:
    return getattr(np, ufunc).reduce(x, axis=axis, **kwargs)


def _ufunc_accumulate(x: Any, ufunc: str, axis: int = 0, **kwargs: Any) -> Any:
    return getattr(np, ufunc).accumulate(x, axis=axis, **kwargs)


register(Op("ufunc_reduce", OpKind.EXTERN, _ufunc_reduce,
            infer_by_rule(_ufunc_reduce, lambda x, ufunc, axis=0, keepdims=False, **_: reduced_shape(
                x.shape, axis, keepdims), ask_when_empty=True),
            doc="ufunc_reduce(x, 'maximum', axis=0, keepdims=..., dtype=...): np.maximum.reduce"))
register(Op("ufunc_accumulate", OpKind.EXTERN, _ufunc_accumulate,
            infer_by_rule(_ufunc_accumulate, lambda x, ufunc, **_: x.shape, ask_when_empty=True),
            doc="ufunc_accumulate(x, 'maximum', axis=0, dtype=...): np.maximum.accumulate"))


def _order_statistic_shape(x: TensorMeta, *q: Any, axis: Any = None, keepdims: bool = False, **_: Any) -> tuple:
    """median, percentile, quantile: q's shape, then the reduced shape."""
    return (*(np.shape(q[0]) if q else ()), *reduced_shape(x.shape, axis, keepdims))


for _name, _reference in (("median", np.median), ("percentile", np.percentile), ("quantile", np.quantile),
                          ("nanmedian", np.nanmedian), ("nanpercentile", np.nanpercentile),
                          ("nanquantile", np.nanquantile)):
    # An empty array: percentile and quantile raise IndexError (median gives NaN), whatever the values.
    register(Op(_name, OpKind.EXTERN, _reference, infer_by_rule(_reference, _order_statistic_shape,
                                                                ask_when_empty=True),
                doc=f"{_name}(x{'' if _name.endswith('median') else ', q'}, axis=..., keepdims=..., ...): NumPy's"))
