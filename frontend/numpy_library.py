"""NumPy library functions NumPy runs between kernels: running sums, sorting and partitions,
gathering along an axis, einsum (a matrix product becomes a matmul, a product-and-sum a fused kernel),
roll/tile/repeat/pad, medians and quantiles, a ufunc's reduce/accumulate/outer, the
sorted-array lookups, interpolation, gradient and trapezoid. The other families live beside it:
numpy_shaping.py (joining, cutting, flipping, views), numpy_elementwise.py (NumPy's elementwise
recipes), numpy_matrices.py (products, norms, linear algebra), numpy_statistics.py,
numpy_scatter.py (writes through indices), numpy_ufuncs.py (ufuncs' out=/where=/dtype=, the
ufuncs Ember has no op for). Importing this module registers the handlers (calls.py does)."""
from __future__ import annotations

import inspect
import string
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ir.ops.elementwise import BINARY_UFUNCS
from ..ir.ops.extern import implicit_einsum_output
from .errors import Unsupported, UserCodeError
from .numpy_api import (
    Handler,
    array_method,
    as_array,
    check_default,
    const,
    dtype_param,
    keepdims_flag,
    number_or_node,
    numpy_function,
    sequence_items,
)
from .values import ArrayValue, ConstValue, TupleValue, Value

if TYPE_CHECKING:
    from .tracer import Tracer


_NO_VALUE = object()  # NumPy's <no value> default (initial=)


# --- graph ops NumPy runs -----------------------------------------------------------------

def _scan(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, axis: Any = None, dtype: Any = None, out: Any = None) -> Value:
        check_default(tracer, "out", out)
        return tracer.emit(name, as_array(tracer, a).node, axis=const(tracer, axis, "axis"),
                           **_options(tracer, dtype=dtype))

    return handler


def _sort(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, axis: Any = -1, kind: Any = None, order: Any = None, *,
                stable: Any = None) -> Value:
        check_default(tracer, "order", order)
        kwargs = {"axis": const(tracer, axis, "axis")}
        for key, value in (("kind", kind), ("stable", stable)):
            if (value := const(tracer, value, key)) is not None:
                kwargs[key] = value
        return tracer.emit(name, as_array(tracer, a).node, **kwargs)

    return handler


for _name, _fn in {"cumsum": np.cumsum, "cumprod": np.cumprod}.items():
    numpy_function(_fn)(_scan(_name))
    array_method(_name)(_scan(_name))
numpy_function(np.sort)(_sort("sort"))  # ndarray.sort sorts in place: not captured
numpy_function(np.argsort)(_sort("argsort"))
array_method("argsort")(_sort("argsort"))


_TAKE_AXIS_DEFAULT = inspect.signature(np.take_along_axis).parameters["axis"].default  # -1 from NumPy 2.3


def _partition(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, kth: Any, axis: Any = -1, kind: Any = "introselect",
                order: Any = None) -> Value:
        check_default(tracer, "order", order)
        axis = const(tracer, axis, "axis")
        if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
            raise Unsupported(f"np.{name} along other than one axis (axis=None flattens)", tracer.loc)
        return tracer.emit(name, as_array(tracer, a).node, const(tracer, kth, "kth"), axis=int(axis),
                           kind=const(tracer, kind, "kind"))

    return handler


numpy_function(np.partition)(_partition("partition"))
numpy_function(np.argpartition)(_partition("argpartition"))


@numpy_function(np.lexsort)
def _lexsort(tracer: Tracer, keys: Value, axis: Any = -1) -> Value:
    """Keys as a tuple or list of arrays (a 2-d array of keys runs eagerly): NumPy's call."""
    items = sequence_items(tracer, keys, "np.lexsort")
    if not items:
        raise Unsupported("np.lexsort of no keys (NumPy's error, eagerly)", tracer.loc)
    return tracer.emit("lexsort", *(as_array(tracer, key).node for key in items), axis=const(tracer, axis, "axis"))


@numpy_function(np.unravel_index)
def _unravel_index(tracer: Tracer, indices: Value, shape: Any, order: Any = "C") -> Value:
    """One NumPy call per axis of ``shape`` (a tuple of indices, as NumPy's)."""
    shape = const(tracer, shape, "shape")
    shape = (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(d) for d in shape)
    node = as_array(tracer, indices).node
    return TupleValue([tracer.emit("unravel_index", node, shape=shape, order=const(tracer, order, "order"), output=i)
                       for i in range(len(shape))])


@numpy_function(np.take_along_axis)
def _take_along_axis(tracer: Tracer, arr: Value, indices: Value, axis: Any = _TAKE_AXIS_DEFAULT) -> Value:
    """``axis=None`` takes from the flattened array; NumPy before 2.3 has no default axis."""
    if axis is inspect.Parameter.empty:
        raise UserCodeError("TypeError: take_along_axis() missing 1 required positional argument: 'axis'",
                            tracer.loc)
    return tracer.emit("take_along_axis", as_array(tracer, arr).node, as_array(tracer, indices).node,
                       axis=const(tracer, axis, "axis"))


@numpy_function(np.einsum)
def _einsum(tracer: Tracer, *operands: Value, out: Any = None, dtype: Any = None, order: Any = "K",
            casting: Any = "safe", optimize: Any = False) -> Value:
    """Subscripts as a string of letters (``'bqd,bkd->bqk'``), ``...`` spelled out as letters; the
    sublist form runs eagerly."""
    check_default(tracer, "out", out)
    check_default(tracer, "dtype", dtype)
    check_default(tracer, "order", order, "K")
    check_default(tracer, "casting", casting, "safe")
    subscripts = const(tracer, operands[0], "subscripts") if operands else None
    if not isinstance(subscripts, str):
        raise Unsupported("np.einsum without a string of letters as subscripts", tracer.loc)
    kwargs = {"optimize": optimize} if (optimize := const(tracer, optimize, "optimize")) is not False else {}
    arrays = [as_array(tracer, o) for o in operands[1:]]
    if "." in subscripts:
        subscripts = _spell_out_ellipsis(tracer, subscripts, [a.node.meta.ndim for a in arrays])
    permuted = _permuted_axes(tracer, subscripts, arrays)
    if permuted is not None:  # NumPy hands back a view of the operand: written, it writes the operand
        return tracer.emit("transpose", arrays[0].node, permuted)
    plan = _matmul_plan(subscripts, arrays)
    if plan is None:
        fused = _product_plan(subscripts, arrays)
        if fused is None:
            return tracer.emit("einsum", subscripts, *(a.node for a in arrays), **kwargs)
        return _summed_product(tracer, arrays, *fused)
    (a, b), (order_a, order_b, order_out) = arrays, plan
    product = tracer.emit("matmul", _transposed(tracer, a, order_a).node, _transposed(tracer, b, order_b).node)
    return _transposed(tracer, product, order_out)


def _spell_out_ellipsis(tracer: Tracer, subscripts: str, ndims: list[int]) -> str:
    """``'...ij,...jk->...ik'`` with letters the subscripts do not use for the axes ``...`` stands
    for (right-aligned, as NumPy broadcasts them): ``'Aij,Ajk->Aik'`` for 3-d operands. Without
    ``->`` the output is those axes, then the labels used once (NumPy's implicit mode)."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    malformed = len(terms) != len(ndims) or any(t.count(".") not in (0, 3) or (t.count(".") and "..." not in t)
                                                 for t in (*terms, output))
    spans = [ndim - len(term) + 3 if "..." in term else 0 for term, ndim in zip(terms, ndims, strict=False)]
    if malformed or min(spans, default=0) < 0:
        raise Unsupported(f"np.einsum subscripts {subscripts!r} (NumPy's error, eagerly)", tracer.loc)
    span = max(spans, default=0)
    spare = [c for c in string.ascii_letters if c not in subscripts][:span]
    if len(spare) < span or (arrow and "..." not in output and span):
        raise Unsupported(f"np.einsum subscripts {subscripts!r} (NumPy's error or too many axes, eagerly)",
                          tracer.loc)
    letters = "".join(spare)
    terms = [term.replace("...", letters[span - n:]) for term, n in zip(terms, spans, strict=True)]
    plain = ",".join(term.replace("...", "") for term in inputs.split(","))
    output = output.replace("...", letters) if arrow else letters + implicit_einsum_output(plain)
    return ",".join(terms) + "->" + output


def _permuted_axes(tracer: Tracer, subscripts: str, arrays: list[ArrayValue]) -> tuple[int, ...] | None:
    """The axis order of einsum over one operand that only permutes its axes (``'ij->ji'``,
    ``'ij'``), which NumPy returns as a view; None for anything else. Taking a diagonal
    (``'ii->i'``) is a writeable view too, which no op here is: that runs eagerly."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    output = output if arrow else implicit_einsum_output(inputs)
    if len(arrays) != 1 or "," in inputs or not inputs.isalpha() or len(inputs) != arrays[0].node.meta.ndim \
            or set(output) != set(inputs) or len(set(output)) != len(output):
        return None
    if len(set(inputs)) != len(inputs):
        raise Unsupported(f"np.einsum {subscripts!r} returns a writeable view of a diagonal", tracer.loc)
    return tuple(inputs.index(label) for label in output)


def _transposed(tracer: Tracer, array: ArrayValue, order: tuple) -> ArrayValue:
    return array if order == tuple(range(len(order))) else tracer.emit("transpose", array.node, order)


def _labelled(subscripts: str, arrays: list[ArrayValue]) -> tuple[list[str], str] | None:
    """The input terms and the output of einsum subscripts in letters, when every operand is
    float32 or float64 of one dtype, no term repeats a label (a diagonal) and each label has one
    size (einsum's broadcasting of size 1 is left to it); None otherwise."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    metas = [a.node.meta for a in arrays]
    if len(terms) != len(arrays) or len({m.dtype for m in metas}) != 1 \
            or metas[0].dtype not in (np.dtype("float32"), np.dtype("float64")):
        return None
    if not arrow:
        output = implicit_einsum_output(inputs)
    if any(len(set(t)) != len(t) or t and not t.isalpha() for t in (*terms, output)) \
            or [len(t) for t in terms] != [m.ndim for m in metas] or set(output) - set(inputs):
        return None
    sizes: dict[str, Any] = {}
    for term, meta in zip(terms, metas, strict=True):
        for label, size in zip(term, meta.shape, strict=True):
            if sizes.setdefault(label, size) != size:
                return None
    return terms, output


def _matmul_plan(subscripts: str, arrays: list[ArrayValue]) -> tuple[tuple, tuple, tuple] | None:
    """A (batched) matrix product written as einsum (``'bqd,bkd->bqk'``) of two float32 or
    float64 arrays of one dtype, as the transposes around a matmul: NumPy's einsum does not use
    BLAS (12x slower on attention's shapes here; its own ``optimize=True`` does the same), and
    the values differ only by the order of the sums. None for anything else."""
    labelled = _labelled(subscripts, arrays)
    if labelled is None or len(arrays) != 2:
        return None
    (left, right), output = labelled
    batch = [c for c in output if c in left and c in right]
    rows, columns = [c for c in output if c not in right], [c for c in output if c not in left]
    summed = [c for c in left if c in right and c not in output]
    if len(rows) != 1 or len(columns) != 1 or len(summed) != 1 \
            or len(batch) + 2 != len(output) or len(left) != len(batch) + 2 or len(right) != len(batch) + 2:
        return None
    order_a = tuple(left.index(c) for c in (*batch, rows[0], summed[0]))
    order_b = tuple(right.index(c) for c in (*batch, summed[0], columns[0]))
    product = "".join((*batch, rows[0], columns[0]))
    return order_a, order_b, tuple(product.index(c) for c in output)



def _product_plan(subscripts: str, arrays: list[ArrayValue]) -> tuple[list[str], str, str] | None:
    """Einsum whose work is no larger than one of its terms (``'ij,ij->i'``, ``'ij,j->i'``,
    ``'i,j->ij'``, ``'bhd->bh'``): the terms, the output and the labels summed over, for the
    broadcast product and sum that one fused kernel runs in a pass over memory. A matrix product
    (its work exceeds every term) is BLAS's or einsum's; a single operand only permuted is einsum's
    view. None for anything else."""
    labelled = _labelled(subscripts, arrays)
    if labelled is None:
        return None
    terms, output = labelled
    labels = set("".join(terms))
    summed = "".join(dict.fromkeys(c for c in "".join(terms) if c not in output))
    if not any(set(term) == labels for term in (*terms, output)) or (len(terms) == 1 and not summed):
        return None
    return terms, output, summed


def _summed_product(tracer: Tracer, arrays: list[ArrayValue], terms: list[str], output: str,
                    summed: str) -> ArrayValue:
    """Each operand's axes put in one order of all labels, size-1 axes where it lacks a label, the
    product of all, then the sum over the summed axes. The order is that of an operand holding
    every label when it keeps the output's labels in order (the kernel then reads it in memory
    order: ``'ij->j'`` sums over axis 0), else the output's labels, then the summed ones."""
    full = next((term for term in terms if len(term) == len(output) + len(summed)), None)
    keeps_output = full is not None and "".join(c for c in full if c in output) == output
    order = full if summed and keeps_output else output + summed
    assert order is not None
    product: ArrayValue | None = None
    for array, term in zip(arrays, terms, strict=True):
        kept = sorted(term, key=order.index)
        aligned = _transposed(tracer, array, tuple(term.index(c) for c in kept))
        missing = tuple(order.index(c) for c in order if c not in term)
        if missing:
            aligned = tracer.emit("expand_dims", aligned.node, missing)
        product = aligned if product is None else tracer.emit("multiply", product.node, aligned.node)
    assert product is not None
    if not summed:
        return product
    return tracer.emit("sum", product.node, axis=tuple(sorted(order.index(c) for c in summed)))

@numpy_function(np.roll)
def _roll(tracer: Tracer, a: Value, shift: Any, axis: Any = None) -> Value:
    array = as_array(tracer, a).node
    axis = const(tracer, axis, "axis")
    if axis is None and array.meta.ndim == 1:
        axis = 0  # the same roll; one over an axis is read in place (passes/rolls.py)
    return tracer.emit("roll", array, const(tracer, shift, "shift"), axis)


@numpy_function(np.tile)
def _tile(tracer: Tracer, A: Value, reps: Any) -> Value:  # noqa: N803 - NumPy's name
    return tracer.emit("tile", as_array(tracer, A).node, const(tracer, reps, "reps"))


@numpy_function(np.repeat)
@array_method("repeat")
def _repeat(tracer: Tracer, a: Value, repeats: Any, axis: Any = None) -> Value:
    repeats = const(tracer, repeats, "repeats")
    if not isinstance(repeats, int | np.integer):
        raise Unsupported("np.repeat with a sequence of counts", tracer.loc)
    return tracer.emit("repeat", as_array(tracer, a).node, repeats, const(tracer, axis, "axis"))


@numpy_function(np.pad)
def _pad(tracer: Tracer, array: Value, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Value:
    mode = const(tracer, mode, "mode")
    if not isinstance(mode, str):
        raise Unsupported("np.pad with a function as mode", tracer.loc)
    options = {key: const(tracer, value, key) for key, value in kwargs.items()}
    return tracer.emit("pad", as_array(tracer, array).node, const(tracer, pad_width, "pad_width"), mode, **options)


def _ufunc_reduce(ufunc: np.ufunc) -> Handler:
    def handler(tracer: Tracer, array: Value, axis: Any = 0, dtype: Any = None, out: Any = None,
                keepdims: Any = False, initial: Any = _NO_VALUE, where: Any = True) -> Value:
        check_default(tracer, "out", out)
        check_default(tracer, "where", where, True)
        if initial is not _NO_VALUE:
            raise Unsupported(f"np.{ufunc.__name__}.reduce with initial=", tracer.loc)
        return tracer.emit("ufunc_reduce", as_array(tracer, array).node, ufunc.__name__,
                           axis=const(tracer, axis, "axis"), **_options(tracer, keepdims=keepdims, dtype=dtype))

    return handler


def _ufunc_accumulate(ufunc: np.ufunc) -> Handler:
    def handler(tracer: Tracer, array: Value, axis: Any = 0, dtype: Any = None, out: Any = None) -> Value:
        check_default(tracer, "out", out)
        return tracer.emit("ufunc_accumulate", as_array(tracer, array).node, ufunc.__name__,
                           axis=const(tracer, axis, "axis"), **_options(tracer, dtype=dtype))

    return handler


def _ufunc_outer(ufunc: np.ufunc) -> Handler:
    def handler(tracer: Tracer, a: Value, b: Value) -> Value:
        """``op.outer(A, B)`` is ``op(A[..., None, ..., None], B)``, one None per dim of B."""
        left, right = as_array(tracer, a), as_array(tracer, b)
        index = (Ellipsis, *(None,) * right.node.meta.ndim)
        return tracer.emit(ufunc.__name__, tracer.emit("getitem", left.node, index).node, right.node)

    return handler


def _options(tracer: Tracer, *, keepdims: Any = False, dtype: Any = None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if keepdims_flag(tracer, keepdims):
        options["keepdims"] = True
    if (dtype := dtype_param(tracer, dtype)) is not None:
        options["dtype"] = dtype
    return options


for _ufunc in BINARY_UFUNCS:
    numpy_function(_ufunc.reduce)(_ufunc_reduce(_ufunc))
    numpy_function(_ufunc.accumulate)(_ufunc_accumulate(_ufunc))
    numpy_function(_ufunc.outer)(_ufunc_outer(_ufunc))


def _median(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, axis: Any = None, out: Any = None, overwrite_input: Any = False,
                keepdims: Any = False) -> Value:
        check_default(tracer, "out", out)
        check_default(tracer, "overwrite_input", overwrite_input, False)
        return tracer.emit(name, as_array(tracer, a).node, axis=const(tracer, axis, "axis"),
                           keepdims=bool(const(tracer, keepdims, "keepdims")))

    return handler


numpy_function(np.median)(_median("median"))
numpy_function(np.nanmedian)(_median("nanmedian"))


def _quantile(name: str) -> Handler:
    def handler(tracer: Tracer, a: Value, q: Any, axis: Any = None, out: Any = None, overwrite_input: Any = False,
                method: Any = "linear", keepdims: Any = False, *, weights: Any = None) -> Value:
        check_default(tracer, "out", out)
        check_default(tracer, "overwrite_input", overwrite_input, False)
        check_default(tracer, "weights", weights)
        return tracer.emit(name, as_array(tracer, a).node, const(tracer, q, "q"), axis=const(tracer, axis, "axis"),
                           keepdims=bool(const(tracer, keepdims, "keepdims")), method=const(tracer, method, "method"))

    return handler


for _name, _fn in {"percentile": np.percentile, "quantile": np.quantile, "nanpercentile": np.nanpercentile,
                  "nanquantile": np.nanquantile}.items():
    numpy_function(_fn)(_quantile(_name))


# --- lookups, interpolation and calculus: NumPy's own calls (ir/ops/library.py) ------------

@numpy_function(np.searchsorted)
@array_method("searchsorted")
def _searchsorted(tracer: Tracer, a: Value, v: Value, side: Any = "left", sorter: Any = None) -> Value:
    check_default(tracer, "sorter", sorter)
    return tracer.emit("searchsorted", as_array(tracer, a).node, number_or_node(tracer, v),
                       side=const(tracer, side, "side"))


@numpy_function(np.digitize)
def _digitize(tracer: Tracer, x: Value, bins: Value, right: Any = False) -> Value:
    if not isinstance(x, ArrayValue):
        raise Unsupported("np.digitize of a Python number", tracer.loc)
    return tracer.emit("digitize", x.node, as_array(tracer, bins).node, right=bool(const(tracer, right, "right")))


@numpy_function(np.interp)
def _interp(tracer: Tracer, x: Value, xp: Value, fp: Value, left: Any = None, right: Any = None,
            period: Any = None) -> Value:
    if not isinstance(x, ArrayValue):
        raise Unsupported("np.interp at a Python number", tracer.loc)
    given = {"left": left, "right": right, "period": period}
    options = {name: const(tracer, value, name) for name, value in given.items()}
    return tracer.emit("interp", x.node, as_array(tracer, xp).node, as_array(tracer, fp).node,
                       **{name: value for name, value in options.items() if value is not None})


@numpy_function(np.isin)
def _isin(tracer: Tracer, element: Value, test_elements: Value, assume_unique: Any = False, invert: Any = False,
          *, kind: Any = None) -> Value:
    return tracer.emit("isin", as_array(tracer, element).node, as_array(tracer, test_elements).node,
                       assume_unique=bool(const(tracer, assume_unique, "assume_unique")),
                       invert=bool(const(tracer, invert, "invert")), kind=const(tracer, kind, "kind"))


@numpy_function(np.gradient)
def _gradient(tracer: Tracer, f: Value, *varargs: Value, axis: Any = None, edge_order: Any = 1) -> Value:
    """Unit spacing along one axis (of a vector, or the one given); a list of gradients or
    spacings run eagerly."""
    array = as_array(tracer, f)
    axis = const(tracer, axis, "axis")
    if varargs or isinstance(axis, bool) or not (array.node.meta.ndim == 1 and axis in (None, 0, -1)
                                                  or isinstance(axis, int)):
        raise Unsupported("np.gradient with spacings or along several axes (a list of arrays)", tracer.loc)
    return tracer.emit("gradient", array.node, axis=axis, edge_order=const(tracer, edge_order, "edge_order"))


@numpy_function(np.trapezoid)
def _trapezoid(tracer: Tracer, y: Value, x: Any = None, dx: Any = 1.0, axis: Any = -1) -> Value:
    if x is not None and not (isinstance(x, ConstValue) and x.value is None):
        raise Unsupported("np.trapezoid with sample points x", tracer.loc)
    axis = const(tracer, axis, "axis")
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
        raise Unsupported("np.trapezoid along other than one axis", tracer.loc)
    return tracer.emit("trapezoid", as_array(tracer, y).node, dx=const(tracer, dx, "dx"), axis=int(axis))
