"""Random NumPy programs, compiled and compared with eager.

Hypothesis builds each program as real Python source: random inputs (shapes that broadcast,
dtypes, memory layouts, inputs that are views of each other), then a chain of statements
(elementwise ufuncs, binary operators with arrays and Python scalars, reductions with random
axis/keepdims, views, in-place updates into inputs and views of inputs, casts, joins,
matmul). Each statement is run on sample inputs while the program is built, so most
programs are valid; one that raises ends the program there, and then compiled must raise
exactly as eager does. The source is exec'd into a function and checked by the oracle in
conftest.py, which also demands that a program eager runs without error compiles to one graph.

``EMBER_HYPOTHESIS_EXAMPLES=5000 pytest tests/frontend/test_random_programs.py`` runs more.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("EMBER_HYPOTHESIS_EXAMPLES", "200"))

DTYPES = ("float64", "float32", "float16", "int64", "int32", "bool", "complex128")
LAYOUTS = ("contiguous", "transposed", "strided", "reversed")
UNARY = ("np.exp", "np.log", "np.sqrt", "np.sin", "np.cos", "np.tanh", "np.abs", "np.negative", "np.square",
         "np.floor", "np.ceil", "np.isnan", "np.isfinite", "np.sign", "np.log1p", "np.expm1", "np.arctan",
         "np.reciprocal", "np.logical_not", "abs", "-", "np.round")
BINARY_OPERATORS = ("+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", ">", "&", "|", "^")
BINARY_FUNCTIONS = ("np.maximum", "np.minimum", "np.add", "np.multiply", "np.hypot", "np.arctan2",
                    "np.logical_and", "np.fmax", "np.power", "np.subtract")
SCALARS = ("2", "0.5", "-3", "True", "0", "1e3", "2j", "1.5", "-1", "3", "0.0", "7")
REDUCTIONS = ("sum", "mean", "max", "min", "prod", "any", "all", "var", "std")
# What the generator can write that Ember runs eagerly on purpose.
ALLOWED_FALLBACKS = ("integer power with an array exponent",
                     "a Python complex with a NumPy float64 scalar",  # Python answers: CPython runs it
                     "on an empty array, where eager may not",  # x ** -1 on an empty int array
                     "an index the function computed",  # x[v.astype(np.int64)], v a NumPy scalar
                     "an index that is not a constant",  # x[..., v.astype(np.int64)]
                     "of a complex array",  # np.linalg.norm, np.nan_to_num
                     "assigning through a boolean mask anything but",
                     "np.inner of arrays with more than two dimensions",
                     "is not exact in",  # np.max(int array, initial=0.5): NumPy truncates the initial
                     "np.isclose of two constants",
                     "np.trace other than of a 2-d array",
                     "np.tensordot with dynamic sizes",
                     "np.cross of other than 3-vectors",  # 2-vectors: deprecated in NumPy 2
                     "with where= of a complex array",  # np.var, np.std
                     "of an empty array or dynamic sizes",  # np.cov, np.corrcoef
                     "np.convolve of other than vectors",  # a 0-d operand
                     "into something other than an array",  # np.add.at(0-d array, ...)
                     "indices that are not an integer array",  # np.put_along_axis(x, bool array, ...)
                     "values into",  # np.insert of float values into an int array (NumPy truncates)
                     "np.resize of an empty array",
                     "a write into a view np.broadcast_arrays made")  # NumPy warns and writes
CASTS = ("np.float32", "np.float64", "np.int32", "np.int64", "bool", "np.float16", "np.complex64", "np.int8",
         "np.uint8", "np.uint16")


@dataclass
class Program:
    params: list[str]
    args: list
    lines: list[str] = field(default_factory=list)
    env: dict = field(default_factory=dict)
    counter: int = 0

    def source(self, returned: list[str]) -> str:
        body = "\n".join(f"    {line}" for line in self.lines)
        result = "(" + ", ".join(returned) + ("," if len(returned) == 1 else "") + ")"
        return f"def program({', '.join(self.params)}):\n{body}\n    return {result}\n"

    def arrays(self) -> list[str]:
        return [name for name, value in self.env.items() if isinstance(value, np.ndarray | np.generic)]

    def fresh(self) -> str:
        self.counter += 1
        return f"v{self.counter}"


def make_input(shape: tuple[int, ...], dtype: str, layout: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    full = tuple(2 * s if layout == "strided" and i == len(shape) - 1 else s for i, s in enumerate(shape))
    if layout == "transposed":
        full = full[::-1]
    values: np.ndarray = rng.uniform(-3, 3, full)
    if np.dtype(dtype).kind == "c":
        values = values + 1j * rng.uniform(-3, 3, full)
    if np.dtype(dtype).kind == "b":
        values = values > 0
    data = np.asarray(values).astype(dtype)
    if layout == "transposed":
        return data.T
    if layout == "strided" and data.ndim:
        return data[..., ::2]
    if layout == "reversed" and data.ndim:
        return data[::-1]
    return data


# An integer power that raises for a negative exponent mid-loop leaves an in-place destination
# undefined (NumPy casts back an uninitialised buffer: different garbage on every run), so
# nothing can be compared after it; a program never keeps such a line.
UNDEFINED_AFTER = "Integers to negative integer powers are not allowed"


def _run_line(program: Program, line: str) -> Exception | None:
    """Run one statement on the sample values; what it raised, if anything."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(line, {"np": np}, program.env)
        except Exception as error:
            return error
    return None


@st.composite
def inputs(draw) -> Program:
    ndim = draw(st.integers(0, 3))
    base = tuple(draw(st.integers(0, 4) if draw(st.integers(0, 9)) == 0 else st.integers(1, 4))
                 for _ in range(ndim))
    count = draw(st.integers(1, 3))
    args: list[Any]
    params, args = [], []
    for i in range(count):
        if i and args and draw(st.integers(0, 5)) == 0 and args[0].ndim:
            # an input that is a view of the first one
            view = draw(st.sampled_from(["x0[::-1]", "x0.T", "x0[..., ::2]", "x0"]))
            args.append(eval(view, {"x0": args[0]}))
        else:
            dims = base[draw(st.integers(0, ndim)):] if draw(st.booleans()) else base
            shape = tuple(1 if draw(st.integers(0, 3)) == 0 else d for d in dims)
            args.append(make_input(shape, draw(st.sampled_from(DTYPES)), draw(st.sampled_from(LAYOUTS)),
                                   draw(st.integers(0, 1000))))
        params.append(f"x{i}")
    if draw(st.booleans()):
        params.append("s")
        args.append(draw(st.sampled_from([2, -1, 0.5, 3.0, True, 0, 2j])))
    program = Program(params, args)
    program.env = dict(zip(params, _clone(args), strict=True))
    return program


def _clone(args: list) -> list:
    """Fresh copies of the arguments; inputs that view one another still do (same strides)."""
    roots: dict[int, np.ndarray] = {}
    out = []
    for a in args:
        if not isinstance(a, np.ndarray):
            out.append(a)
            continue
        root = a
        while isinstance(root.base, np.ndarray):
            root = root.base
        if id(root) not in roots:
            roots[id(root)] = root.copy(order="K").ravel(order="K").view(np.uint8)
        offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        out.append(np.ndarray(a.shape, a.dtype, buffer=roots[id(root)], offset=offset, strides=a.strides)
                   if a.size else a.copy(order="K"))
    return out


def _index(draw, shape: tuple[int, ...]) -> str:
    parts = []
    for size in shape[:draw(st.integers(0, len(shape)))]:
        kind = draw(st.integers(0, 5))
        if kind == 0 and size:
            parts.append(str(draw(st.integers(-size, size - 1))))
        elif kind == 1:
            parts.append(":")
        else:
            start = draw(st.sampled_from(["", "1", "-1", "0", "2"]))
            stop = draw(st.sampled_from(["", "-1", "3", "1"]))
            step = draw(st.sampled_from(["", ":2", ":-1", ":-2", ":3"]))
            parts.append(f"{start}:{stop}{step}")
    if draw(st.integers(0, 4)) == 0:
        parts.insert(draw(st.integers(0, len(parts))), draw(st.sampled_from(["None", "..."])))
    if not parts:
        return "..."
    return ", ".join(parts)


def _statement(draw, program: Program) -> str:
    names = program.arrays()
    a = draw(st.sampled_from(names))
    b = draw(st.sampled_from(names))
    value = program.env[a]
    shape = np.shape(value)
    sizes = [f"len({a})", f"({a}.shape[-1] - 1)"] if shape else []  # dynamic sizes read as numbers
    scalar = draw(st.sampled_from([*SCALARS, *sizes, *(["s"] if "s" in program.env else [])]))
    kind = draw(st.sampled_from(["unary", "binary", "binary", "scalar", "scalar", "function", "reduce",
                                 "view", "view", "inplace", "inplace", "setitem", "cast", "join", "matmul",
                                 "argreduce", "where", "clip", "shape", "gather", "scatter", "library",
                                 "typed", "build"]))
    out = program.fresh()
    if kind == "unary":
        fn = draw(st.sampled_from(UNARY))
        return f"{out} = {fn}({a})" if fn != "-" else f"{out} = -{a}"
    if kind == "binary":
        return f"{out} = {a} {draw(st.sampled_from(BINARY_OPERATORS))} {b}"
    if kind == "scalar":
        op = draw(st.sampled_from(BINARY_OPERATORS))
        return f"{out} = {a} {op} {scalar}" if draw(st.booleans()) else f"{out} = {scalar} {op} {a}"
    if kind == "function":
        return f"{out} = {draw(st.sampled_from(BINARY_FUNCTIONS))}({a}, {b})"
    if kind == "typed":  # NumPy's loop for dtype=; where= into out=
        fn = draw(st.sampled_from(BINARY_FUNCTIONS))
        if draw(st.booleans()):
            return f"{out} = {fn}({a}, {b}, dtype={draw(st.sampled_from(CASTS))})"
        return f"{out} = {fn}({a}, {b}, out=np.ones_like({fn}({a}, {b})), where={b} != 0)"
    if kind == "build":  # np.array of a list of traced values: a stack in np.array's dtype
        return f"{out} = " + draw(st.sampled_from([f"np.array([{a}.max(), {b}.min(), {scalar}])",
                                                    f"np.asarray([{a}, {a} * {scalar}])", f"{a} + [{b}.sum()]"]))
    if kind == "reduce":
        name = draw(st.sampled_from(REDUCTIONS))
        axis = _axis(draw, len(shape))
        keepdims = draw(st.booleans())
        if draw(st.booleans()):
            return f"{out} = np.{name}({a}, axis={axis}, keepdims={keepdims})"
        return f"{out} = {a}.{name}(axis={axis}, keepdims={keepdims})"
    if kind == "argreduce":
        axis = draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
        return f"{out} = np.{draw(st.sampled_from(['argmax', 'argmin']))}({a}, axis={axis})"
    if kind == "view":
        choice = draw(st.integers(0, 7))
        if choice == 0:
            return f"{out} = {a}.T"
        if choice == 1:
            return f"{out} = {a}.reshape(-1)"
        if choice == 2:
            return f"{out} = np.expand_dims({a}, {draw(st.integers(-len(shape) - 1, len(shape)))})"
        if choice == 3 and len(shape) >= 2:
            axes = list(range(len(shape)))
            draw(st.randoms()).shuffle(axes)
            return f"{out} = {a}.transpose({tuple(axes)})"
        if choice == 4:
            return f"{out} = np.squeeze({a})"
        if choice == 5:
            return f"{out} = np.broadcast_to({a}, {(2, *shape)})"
        if choice == 6:
            return f"{out} = np.flip({a})"
        return f"{out} = {a}[{_index(draw, shape)}]"
    if kind == "inplace":
        program.counter -= 1
        op = draw(st.sampled_from(["+=", "-=", "*=", "/=", "//=", "**=", "&=", "|="]))
        other = scalar if draw(st.booleans()) else b
        return f"{a} {op} {other}"
    if kind == "setitem":
        program.counter -= 1
        if draw(st.integers(0, 3)) == 0:  # through a mask of the array's shape
            return f"{a}[{a} > 0] = {scalar}"
        index = _index(draw, shape)
        if draw(st.booleans()):
            return f"{a}[{index}] = {b if draw(st.booleans()) else scalar}"
        return f"{a}[{index}] += np.flip({a}[{index}])"
    if kind == "cast":
        return f"{out} = {a}.astype({draw(st.sampled_from(CASTS))})"
    if kind == "join":
        axis = draw(st.integers(-1, max(len(shape) - 1, 0)))
        return f"{out} = np.{draw(st.sampled_from(['concatenate', 'stack']))}([{a}, {b}], axis={axis})"
    if kind == "matmul":
        return f"{out} = {a} @ {b}.T" if draw(st.booleans()) else f"{out} = np.dot({a}, {b})"
    if kind == "where":
        return f"{out} = np.where({a} > 0, {b}, {scalar})"
    if kind == "clip":
        return f"{out} = np.clip({a}, -1, 2)"
    if kind == "library":
        axis = draw(st.integers(-1, max(len(shape) - 1, 0)))
        # NumPy's reductions take axis 0 or -1 on a 0-d array (a legacy allowance Ember does not copy)
        raxis = axis if shape else None
        return f"{out} = " + draw(st.sampled_from([
            f"np.cumsum({a}, axis={axis})", f"np.cumprod({a})", f"np.sort({a}, axis={axis})",
            f"np.argsort({a}, axis={axis}, kind='stable')", f"np.roll({a}, {draw(st.integers(-3, 3))}, axis={axis})",
            f"np.diff({a}, axis={axis})", f"np.tile({a}, (2, 1))", f"np.repeat({a}, 2, axis={axis})",
            f"np.pad({a}, 1)", f"np.outer({a}, {b})", f"np.einsum('ij,kj->ik', {a}, {b})",
            f"np.vstack([{a}, {b}])", f"np.hstack([{a}, {b}])", f"np.linalg.norm({a}, axis={axis})",
            f"np.maximum.accumulate({a}, axis={axis})", f"np.add.reduce({a}, axis={axis})",
            f"np.multiply.outer({a}, {b})", f"np.minimum.reduce({a}, axis=None)",
            f"np.median({a}, axis={axis})", f"np.percentile({a}, [10, 90], axis={axis})", f"np.nan_to_num({a})",
            f"np.isclose({a}, {b})", f"np.triu({a})", f"np.tril({a}, -1)", f"np.ptp({a}, axis={raxis})",
            f"np.count_nonzero({a}, axis={raxis}, keepdims=True)", f"np.nansum({a}, axis={raxis})",
            f"np.nanmax({a}, axis={raxis})",
            f"np.sinc({a})", f"np.polyval([1.0, -2.0, 0.5], {a})", f"np.rot90({a})", f"np.inner({a}, {b})",
            f"np.take({a}, [0, -1], axis={axis})", f"np.split({a}, 1, axis={axis})[0]",
            f"np.sum({a}, axis={raxis}, where={b} > 0)", f"np.max({a}, axis={raxis}, initial=0.5)",
            f"{a}[[0, -1]]", f"np.select([{a} > 0, {b} < 0], [{a}, {b}], 0.5)", f"np.nanmean({a}, axis={raxis})",
            f"np.searchsorted(np.sort({a}.ravel()), {b})", f"np.isin({a}, {b})", f"np.trace({a})",
            f"np.tensordot({a}, {b}, axes=0)", f"np.meshgrid({a}, {b})[1]",
            f"np.mean({a}, axis={raxis}, where={b} > 0)", f"np.var({a}, axis={raxis}, where={b} > 0)",
            f"np.std({a}, axis={raxis}, ddof=1, where={b} > 0)", f"np.average({a}, axis={raxis}, weights={b})",
            f"np.cov({a})", f"np.corrcoef({a}, {b})", f"np.diag({a})", f"np.diagonal({a})", f"np.cross({a}, {b})",
            f"np.kron({a}, {b})", f"np.convolve({a}, {b})", f"np.heaviside({a}, 0.5)",
            f"np.einsum('...i,...i->...', {a}, {b})", f"np.fabs({a})", f"np.logaddexp2({a}, {b})",
            f"np.einsum('ij,ij->i', {a}, {b})", f"np.einsum('ij->j', {a})", f"np.einsum('i,j->ij', {a}, {b})",
            f"sum(np.roll({a}, k, axis={axis}) for k in (-1, 2))", f"max(float(k) for k in range(3)) * {a}",
            f"np.ones_like({a}) * {b} + np.full_like({a}, 0.5)",
            f"np.linalg.norm({a}, 3, axis={axis})", f"np.histogram({a}, 4)[0]", f"np.nanstd({a}, axis={raxis})",
            f"np.nanmedian({a}, axis={raxis})", f"np.nanargmax({a}, axis={raxis})", f"np.gradient({a}, axis={axis})",
            f"np.trapezoid({a}, axis={axis})", f"np.flipud({a})", f"np.column_stack([{a}, {b}])", f"np.fix({a})",
            f"np.append({a}, {b})", f"np.angle({a})", f"{a}.real", f"np.resize({a}, (3, 2))",
            f"np.argpartition({a}, 1, axis={axis})", f"np.delete({a}, 1, axis={axis})",
            f"np.broadcast_arrays({a}, {b})[0]", f"np.insert({a}, 1, {b}, axis={axis})",
            f"np.lexsort(({a}, {b}))", f"np.unravel_index(np.argmax({a}), {a}.shape)[0]"]))
    if kind == "gather":  # b's values as indices (often out of bounds: eager raises, so must compiled)
        index = f"{b}.astype(np.int64)"
        form = draw(st.integers(0, 2))
        if form == 0:
            return f"{out} = {a}[{index}]"
        if form == 1:
            return f"{out} = {a}[..., {index}]"
        return f"{out} = np.take_along_axis({a}, {index}, axis={draw(st.integers(-1, max(len(shape) - 1, 0)))})"
    if kind == "scatter":  # writes through b's values as indices (out of bounds: eager raises, so must compiled)
        index = f"{b}.astype(np.int64)"
        form = draw(st.integers(0, 3))
        if form == 0:
            return f"{a}[{index}] = {scalar}"
        if form == 1:
            return f"{a}[{index}] += {b}"
        if form == 2:
            return f"np.{draw(st.sampled_from(['add', 'maximum', 'multiply']))}.at({a}, {index}, {scalar})"
        axis = draw(st.integers(-1, max(len(shape) - 1, 0)))
        return f"np.put_along_axis({a}, {index}, {scalar}, axis={axis})"
    return f"{out} = {a}.shape[0] if {a}.ndim else {a}.size"


def _axis(draw, ndim: int):
    if ndim == 0 or draw(st.integers(0, 3)) == 0:
        return None
    axes = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim, unique=True))
    if len({a % ndim for a in axes}) != len(axes):
        axes = axes[:1]
    return axes[0] if len(axes) == 1 else tuple(axes)


@st.composite
def programs(draw) -> tuple[str, list]:
    program = draw(inputs())
    for _ in range(draw(st.integers(1, 8))):
        for attempt in range(4):
            line = _statement(draw, program)
            program.lines.append(line)
            error = _run_line(program, line)
            if error is None:
                break
            if UNDEFINED_AFTER not in str(error) and (attempt == 3 or draw(st.integers(0, 3)) == 0):
                # Keep it: the rest would never run, eager raises here and compiled must too.
                return program.source(_returned(draw, program)), program.args
            program.lines.pop()  # most programs should run: replay the kept lines and try again
            program.env = dict(zip(program.params, _clone(program.args), strict=True))
            for kept in program.lines:
                _run_line(program, kept)
    return program.source(_returned(draw, program)), program.args


def _returned(draw, program: Program) -> list[str]:
    return draw(st.lists(st.sampled_from(list(program.env)), min_size=1, max_size=3))


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(programs())
def test_random_program_matches_eager(check, case):
    source, args = case
    namespace: dict = {"np": np}
    exec(compile(source, "<random program>", "exec"), namespace)
    check(namespace["program"], make_args=lambda: (_clone(args), {}), entries=None, allow=ALLOWED_FALLBACKS)


BREAKS = ["ember.graph_break()", 'print(end="")', "if bool(np.isfinite(x0).all()):\n        pass",
          "for _ in range(70):\n        pass"]


@st.composite
def programs_with_breaks(draw) -> tuple[str, list]:
    """A random program with graph breaks inserted between its statements: forced breaks, an
    unknown call, a data-dependent branch and a loop too long to unroll."""
    source, args = draw(programs())
    lines = source.splitlines()
    body = [i for i, line in enumerate(lines) if line.startswith("    ") and not line.startswith("    return")]
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.sampled_from(body)) if body else 1
        lines.insert(position + draw(st.integers(0, 1)), "    " + draw(st.sampled_from(BREAKS)))
    return "\n".join(lines) + "\n", args


@settings(max_examples=max(EXAMPLES // 2, 20), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(programs_with_breaks())
def test_random_program_with_graph_breaks_matches_eager(check, case):
    import ember

    source, args = case
    namespace: dict = {"np": np, "ember": ember}
    exec(compile(source, "<random program with breaks>", "exec"), namespace)
    check(namespace["program"], make_args=lambda: (_clone(args), {}), entries=None, compiled=None)


BLOCKS = [("with np.errstate(all='ignore'):", None), ("with np.errstate(divide='warn', over='ignore'):", None),
          ("try:", "except (ArithmeticError, ValueError, IndexError, TypeError, np.linalg.LinAlgError):\n"
                   "        pass"),
          ("try:", "finally:\n        pass")]


@st.composite
def programs_with_blocks(draw) -> tuple[str, list]:
    """A random program with a run of its statements inside a ``with np.errstate(...)`` or a
    ``try`` block (whose except clause runs where a statement raises: eager's, or compiled code's
    rerun), optionally with a graph break before the block."""
    source, args = draw(programs())
    lines = source.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("    ") and not line.startswith("     ")
              and not line.startswith("    return")]
    if not starts:
        return source, args
    first = draw(st.sampled_from(starts))
    last = draw(st.sampled_from([i for i in starts if i >= first]))
    while last + 1 < len(lines) and lines[last + 1].startswith("     "):  # the statement's own lines
        last += 1
    header, footer = draw(st.sampled_from(BLOCKS))
    block = ["    " + header] + ["    " + line for line in lines[first:last + 1]]
    if footer is not None:
        block.append("    " + footer)
    prefix = ['    print(end="")'] if draw(st.booleans()) else []
    return "\n".join(lines[:first] + prefix + block + lines[last + 1:]) + "\n", args


@settings(max_examples=max(EXAMPLES // 2, 20), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(programs_with_blocks())
def test_random_program_with_errstate_and_try_blocks_matches_eager(check, case):
    source, args = case
    namespace: dict = {"np": np}
    exec(compile(source, "<random program with blocks>", "exec"), namespace)
    check(namespace["program"], make_args=lambda: (_clone(args), {}), entries=None, compiled=None)


def _resized(args: list, sizes: dict[int, int]) -> list | None:
    """The arguments with every dimension of size d >= 2 replaced by ``sizes[d]`` (an injective
    map, so sizes that broadcast together still do), same dtypes and layouts, new values; None
    when inputs view one another (their relation is not rebuilt)."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if any(np.shares_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:]):
        return None
    out = []
    for i, a in enumerate(args):
        if not isinstance(a, np.ndarray):
            out.append(a)
            continue
        layout = ("transposed" if a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous
                  else "contiguous" if a.flags.c_contiguous else "strided")
        shape = tuple(sizes.get(d, d) for d in a.shape)
        out.append(make_input(shape, a.dtype.name, layout if a.ndim else "contiguous", 1000 + i))
    return out


@settings(max_examples=max(EXAMPLES // 2, 20), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(programs(), st.permutations([2, 3, 4, 5, 6, 7, 9]))
def test_random_program_with_dynamic_sizes_matches_eager(check, backend, case, new_sizes):
    """Compiled with ``dynamic=True``, a program traced on one set of sizes runs on another (the
    dynamic entry, or a new one where a size had to be static) exactly as eager does."""
    import ember

    source, args = case
    namespace: dict = {"np": np}
    exec(compile(source, "<random program, dynamic sizes>", "exec"), namespace)
    compiled = ember.compile(namespace["program"], backend=backend, dynamic=True)
    check(namespace["program"], make_args=lambda: (_clone(args), {}), entries=None, compiled=None,
          compiled_fn=compiled)
    resized = _resized(args, dict(zip([2, 3, 4], new_sizes[:3], strict=True)))
    if resized is not None:
        check(namespace["program"], make_args=lambda: (_clone(resized), {}), entries=None, compiled=None,
              compiled_fn=compiled)


@settings(max_examples=max(EXAMPLES // 4, 20), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(programs_with_breaks(), st.permutations([2, 3, 4, 5, 6, 7, 9]))
def test_random_program_with_breaks_and_dynamic_sizes_matches_eager(check, backend, case, new_sizes):
    """Graph breaks hand arrays of dynamic size to resume functions, which are compiled with
    ``dynamic=True`` too: on the traced sizes and on others, every segment agrees with eager."""
    import ember

    source, args = case
    namespace: dict = {"np": np, "ember": ember}
    exec(compile(source, "<random program with breaks, dynamic sizes>", "exec"), namespace)
    compiled = ember.compile(namespace["program"], backend=backend, dynamic=True)
    for call_args in (args, _resized(args, dict(zip([2, 3, 4], new_sizes[:3], strict=True)))):
        if call_args is not None:
            check(namespace["program"], make_args=lambda a=call_args: (_clone(a), {}), entries=None, compiled=None,
                  compiled_fn=compiled)


FLOAT_LITERAL = re.compile(r"(?<![\w.])(?:0\.5|1\.5|1e3|0\.0)(?![\w.])")  # SCALARS' floats
FLOAT_VALUES = (0.5, 1.5, -2.25, 0.0, -0.0, 3.0, 1e-3, 1e300, float("inf"), float("nan"))


@settings(max_examples=max(EXAMPLES // 2, 20), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(programs(), st.lists(st.sampled_from(FLOAT_VALUES), min_size=2, max_size=4))
def test_random_program_with_a_changing_float_argument_matches_eager(check, backend, case, values):
    """The program's float literals become one float argument, called with several values:
    from the second value on, operators next to arrays read it at run time (one entry for every
    value), and every call agrees with eager, errors included."""
    import ember

    source, args = case
    if not FLOAT_LITERAL.search(source):
        return
    source = FLOAT_LITERAL.sub("f", source).replace("def program(", "def program(f, ", 1)
    namespace: dict = {"np": np}
    exec(compile(source, "<random program, float argument>", "exec"), namespace)
    compiled = ember.compile(namespace["program"], backend=backend)
    for value in (0.5, *values):
        check(namespace["program"], make_args=lambda v=value: ((v, *_clone(args)), {}), entries=None,
              compiled=None, compiled_fn=compiled)
