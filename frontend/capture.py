"""One capture: trace a function's frame on concrete arguments into a guarded graph.

>>> import numpy as np
>>> def f(x):
...     return np.exp(x) * 2.0
>>> capture = trace(f, (np.ones(3, np.float32),))
>>> print(capture.graph)
graph f(%x: f32[3]):
    %0 = exp(%x)                                  # f32[3]  <doctest ...>:2
    %1 = multiply(%0, 2.0)                        # f32[3]  <doctest ...>:2
    return (%1,)
"""
from __future__ import annotations

import dis
import inspect
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ir import Dim, Graph, Node, OpKind, SourceLoc, SymbolicShapeError, iter_nodes
from .breaks import BreakPlan, GraphBreak
from .devices import is_device_array, launches_in_order
from .errors import Unsupported, UserCodeError
from .guards import Guard, GuardSet, floating_point_errors_quiet, identifier
from .rebuild import Constant, Container, FreshIterator, FromSource, GraphOutput, Rebuilder, Spec
from .resume import STACK_PREFIX
from .sources import ClosureSource, ItemSource, LocalSource, Source, local_name
from .tracer import FrameTracer, Tracer
from .values import Cell, OpaqueValue, Value
from .wrapping import RealCell, wrap


@dataclass
class BreakInfo:
    """Why a frame (or part of it) is not compiled, and where."""

    reason: str
    loc: SourceLoc | None
    user_error: bool = False

    def __str__(self) -> str:
        where = f"{self.loc}" if self.loc else "<unknown location>"
        line = _source_line(self.loc)
        return f"{where}: {self.reason}" + (f"\n    {line}" if line else "")


def _source_line(loc: SourceLoc | None) -> str:
    if loc is None:
        return ""
    import linecache

    return linecache.getline(loc.filename, loc.lineno).strip()


class DynamicShapeFailed(Exception):
    """Tracing or compiling with dynamic dimensions needed a concrete size: ``dims`` (source
    expression, axis) are the input dimensions involved (all dynamic ones when unknown)."""

    def __init__(self, reason: str, dims: frozenset[tuple[str, int]]):
        super().__init__(reason)
        self.reason, self.dims = reason, dims


def dim_origins(graph: Graph, sources: list[Source], dims: tuple[Dim, ...]) -> frozenset[tuple[str, int]]:
    """The (source expression, axis) of every graph input dimension that is the symbol of one
    of ``dims`` (every dynamic one when ``dims`` is empty)."""
    return frozenset((source.expr(), axis) for node, source in zip(graph.inputs, sources, strict=True)
                     for axis, dim in enumerate(node.meta.shape)
                     if isinstance(dim, Dim) and (not dims or any(dim is d.base for d in dims)))


@dataclass
class FrameCapture:
    """The result of tracing one frame: either a graph to compile or a reason to run eagerly."""

    name: str
    params: tuple[str, ...]
    guards: GuardSet
    graph: Graph | None = None
    input_sources: list[Source] = field(default_factory=list)
    output_spec: Spec = None
    eager: BreakInfo | None = None
    break_plan: BreakPlan | None = None  # set when the frame splits at a graph break
    inputs_overlap: bool = False  # written inputs share memory: only the reference backend is exact
    bytecode: str = ""
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # source expression -> traced shape
    scalar_arguments: dict[str, float | int] = field(default_factory=dict)  # parameter -> its float or int
    # Python scalars the graph reads as inputs -> the NumPy type the wrapper converts them to
    scalar_inputs: dict[str, type] = field(default_factory=dict)
    guarded_minimums: dict[Dim, int] = field(default_factory=dict)  # the size each symbol's guard demands
    handles_errors: bool = False  # a try body traced as straight code: its except clause runs eagerly
    on_device: bool = False  # the arrays are CuPy arrays: the graph runs on the GPU
    # NumPy callables the code called on arrays, and where (eager CuPy refuses some: entry_builder.py)
    numpy_calls: list[tuple[Any, SourceLoc | None]] = field(default_factory=list)

    @property
    def compiled(self) -> bool:
        return self.eager is None


def frame_params(code: types.CodeType) -> tuple[str, ...]:
    """The frame's argument names, in the order the runtime passes them."""
    count = code.co_argcount + code.co_kwonlyargcount
    count += bool(code.co_flags & inspect.CO_VARARGS) + bool(code.co_flags & inspect.CO_VARKEYWORDS)
    return code.co_varnames[:count]


def _only_indexes(node: Node, users: list[Node]) -> bool:
    """Whether a scalar input is only ever an index item: then the wrapper passes the Python int as
    it is (no conversion per call, and NumPy's fastest index); any other use (converted next to a
    float array) needs the NumPy scalar its input node is."""
    return all(user.op.name in ("getitem", "setitem") and user.args[0] is not node and
               not any(arg is node for arg in iter_nodes(user.args[2:])) or
               user.op.name == "dynamic_slice" and user.args[0] is not node for user in users)


def scalar_arguments(params: tuple[str, ...], frame_args: tuple) -> dict[str, float | int]:
    """The Python floats and ints among a frame's arguments, by source expression: the arguments
    themselves and the items of short tuples among them (``for i, row in enumerate(x)`` hands a
    loop's body the tuple ``(i, row)``)."""
    found: dict[str, float | int] = {}

    def visit(source: Source, value: Any, depth: int) -> None:
        if type(value) in (float, int):
            found[source.expr()] = value
        elif type(value) is tuple and depth and len(value) <= 16:
            for position, item in enumerate(value):
                visit(ItemSource(source, position), item, depth - 1)

    for name, arg in zip(params, frame_args, strict=True):
        visit(LocalSource(name), arg, 3)
    return found


def trace(fn: types.FunctionType, frame_args: tuple, self_value: Any = None,
          dynamic: frozenset[tuple[str, int]] = frozenset(), dynamic_scalars: frozenset[str] = frozenset()
          ) -> FrameCapture:
    """Trace ``fn`` on ``frame_args`` (its bound arguments, one per frame parameter).

    ``dynamic`` names input dimensions, as (source expression, axis), to trace as symbols
    (ir/symbolic.py); a question only a concrete size answers raises SymbolicShapeError.
    ``dynamic_scalars`` names Python float and int parameters read at run time where the graph
    can take them as inputs (values.DynamicFloat, values.DynamicInt).
    """
    code = fn.__code__
    params = frame_params(code)
    tracer = Tracer(fn.__name__, fn.__globals__, dynamic, dynamic_scalars)
    capture = FrameCapture(identifier(fn.__name__), tuple(local_name(p) for p in params), tracer.guards,
                           bytecode=dis.Bytecode(code).dis())
    capture.scalar_arguments = scalar_arguments(params, frame_args)
    try:
        locals_ = {name: _wrap_parameter(tracer, name, arg) for name, arg in zip(params, frame_args, strict=True)}
        quiet = floating_point_errors_quiet()
        tracer.guards.add(Guard.errors_quiet(quiet))
        if not quiet:
            raise Unsupported(f"np.seterr({np.geterr()}): floating-point errors raise, print or call a handler, "
                              "and compiled kernels set no flags", SourceLoc(code.co_filename, code.co_firstlineno))
        cells: dict[str, Cell] = {
            name: RealCell(cell, ClosureSource(i, name))
            for i, (name, cell) in enumerate(zip(code.co_freevars, fn.__closure__ or (), strict=True))}
        frame = FrameTracer(tracer, code, fn.__globals__, _global_source, locals_, cells)
        try:
            capture.output_spec = _output_spec(tracer, frame.run())
        except GraphBreak as graph_break:
            capture.break_plan = graph_break.plan
            tracer.graph.set_outputs(graph_break.plan.outputs)
        if tracer.try_loc is not None and any(n.op.kind is OpKind.MUTATION for n in tracer.graph.nodes):
            raise Unsupported("a try block in a function that writes into arrays (compiled code that fails "
                              "after a write cannot hand over to the except clause)", tracer.try_loc)
        capture.guarded_minimums = tracer.add_size_guards()
        capture.on_device = _on_device(tracer)  # (first: NumPy beside CuPy arrays runs eagerly)
        _add_memory_guards(tracer)
        tracer.graph.disjoint_inputs = not tracer.inputs_overlap
    except SymbolicShapeError as exc:
        raise DynamicShapeFailed(str(exc), dim_origins(tracer.graph, tracer.input_sources, exc.dims)) from exc
    except Unsupported as exc:
        capture.eager = BreakInfo(exc.reason, exc.loc or tracer.loc, isinstance(exc, UserCodeError))
        return capture
    capture.graph = tracer.graph
    capture.input_sources = tracer.input_sources
    capture.inputs_overlap = tracer.inputs_overlap
    capture.numpy_calls = tracer.numpy_calls
    users = tracer.graph.users()
    capture.scalar_inputs = {source.expr(): read.node.meta.dtype.type for source, read in tracer.scalar_inputs.items()
                             if not _only_indexes(read.node, users[read.node])}
    capture.handles_errors = tracer.try_loc is not None
    capture.input_shapes = {source.expr(): array.shape for _, source, array in tracer.inputs_by_id.values()
                            if isinstance(array, np.ndarray)}
    return capture


def _wrap_parameter(tracer: Tracer, name: str, value: Any) -> Value:
    source = LocalSource(name)
    if name.startswith(STACK_PREFIX) and type(value) in (list, dict):
        # A comprehension's accumulator handed over at a graph break: it grows every iteration,
        # so it stays opaque (appends to it break) rather than being guarded on its length.
        tracer.guards.add(Guard.type_is(source, value))
        return OpaqueValue(value, source)
    return wrap(tracer, value, source)


def _global_source(name: str):
    from .sources import GlobalSource

    return GlobalSource(name)


def _output_spec(tracer: Tracer, value: Value) -> Spec:
    rebuilder = Rebuilder()
    spec = rebuilder.spec(value, tracer.loc)
    tracer.graph.set_outputs(rebuilder.outputs)
    return spec


def _add_memory_guards(tracer: Tracer) -> None:
    """Writes into inputs need writeable arrays, and compiled code assumes that distinct
    inputs do not overlap unless they did when traced: guard both."""
    graph = tracer.graph
    mutated_inputs = {_root(n.args[0]) for n in graph.nodes if n.op.kind is OpKind.MUTATION}
    if not any(m is not None and m.op.kind is OpKind.INPUT for m in mutated_inputs):
        return
    sources = dict(zip(graph.inputs, tracer.input_sources, strict=True))
    arrays = {id(arr): arr for _, _, arr in tracer.inputs_by_id.values()}
    by_node = {v.node: arrays[key] for key, (v, _, _) in tracer.inputs_by_id.items()}
    for node in mutated_inputs:
        if node is not None and node.op.kind is OpKind.INPUT:
            array = by_node[node]
            if is_device_array(array):  # (CuPy arrays are always writeable)
                if _elements_may_overlap(array):
                    raise Unsupported("a write into an input whose elements overlap one another (as_strided)", None)
                continue
            if isinstance(array, np.ndarray) and not array.flags.writeable:
                # The entry runs right after tracing without its guards: eager raises NumPy's error.
                raise UserCodeError("ValueError: writing into a read-only input array", None)
            if isinstance(array, np.ndarray) and _elements_may_overlap(array):
                # (NumPy writes such an output through a copy; its shape and strides, which the
                # guards pin, decide whether they overlap)
                raise Unsupported("a write into an input whose elements overlap one another (as_strided)", None)
            tracer.guards.add(Guard.writeable(sources[node]))
    # (np.may_share_memory of two CuPy arrays is CuPy's, through NumPy's dispatch)
    array_inputs = [n for n in graph.inputs
                    if isinstance(by_node.get(n), np.ndarray) or is_device_array(by_node.get(n))]
    for i, first in enumerate(array_inputs):
        for second in array_inputs[i + 1:]:
            overlapping = bool(np.may_share_memory(by_node[first], by_node[second]))
            tracer.guards.add(Guard.overlap(sources[first], sources[second], overlapping))
            tracer.inputs_overlap |= overlapping


def _on_device(tracer: Tracer) -> bool:
    """Whether the inputs are CuPy arrays; then every array the graph makes must be made from
    them. In eager code an array NumPy makes (``np.zeros(3)``, ``np.array([...])``) stays on the
    host, and CuPy raises TypeError where it meets a CuPy array: such code runs eagerly."""
    arrays = {v.node: array for v, _, array in tracer.inputs_by_id.values()}
    if not any(is_device_array(array) for array in arrays.values()):
        return False
    if any(type(array) is np.ndarray for array in arrays.values()):
        raise Unsupported("NumPy and CuPy arrays in one call (eager CuPy raises TypeError where an operation "
                          "mixes them)", tracer.loc)
    if not all(launches_in_order(array) for array in arrays.values() if is_device_array(array)):
        raise Unsupported("CuPy arrays on a GPU other than the current one, or a CuPy stream other than the "
                          "default (Triton launches on the current GPU's default stream)", tracer.loc)
    from_device = {node for node, array in arrays.items() if is_device_array(array)}
    for node in tracer.graph.nodes:
        if node.op.kind is OpKind.INPUT:
            continue
        if any(arg in from_device for arg in node.input_nodes()):
            from_device.add(node)
        elif not node.meta.is_scalar:
            raise Unsupported(f"{node.op.name} makes a NumPy array on the host beside CuPy arrays", node.loc)
    return True


def _elements_may_overlap(array: np.ndarray) -> bool:
    """Whether two elements of ``array`` may share memory (a writeable ``as_strided`` or sliding
    window view); False wherever each axis, taken by growing stride, steps past everything the
    axes before it span (C and F order, transposes, slices, reversals)."""
    if array.flags.c_contiguous or array.flags.f_contiguous:
        return False
    span = array.itemsize
    for size, stride in sorted(((n, abs(s)) for n, s in zip(array.shape, array.strides, strict=True) if n > 1),
                               key=lambda axis: axis[1]):
        if stride < span:
            return True
        span += stride * (size - 1)
    return False


def _root(node: Node) -> Node | None:
    while node.op.kind in (OpKind.VIEW, OpKind.MUTATION):
        node = node.args[0]
    return node


__all__ = ["trace", "FrameCapture", "BreakInfo", "GraphOutput", "FromSource", "Constant", "Container",
           "FreshIterator", "Cell"]
