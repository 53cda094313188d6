"""The symbolic interpreter: runs a code object over symbolic values, recording array work.

``Tracer`` holds what one capture shares (graph, guards, inputs); ``FrameTracer`` runs one
frame, and a fresh one runs each inlined call. Opcode handlers live in frontend/opcodes/,
one mixin per family; an opcode without a handler is a graph break, never a crash.
"""
from __future__ import annotations

import dis
import sys
import types
from typing import Any

import numpy as np

from ..ir import Dim, Graph, Node, SourceLoc, SymbolicShapeError
from .breaks import BREAKABLE, GraphBreak, plan_break
from .devices import is_device_array
from .errors import FrameBound, Unsupported, UserCodeError
from .guards import Guard, GuardSet
from .opcodes import CallOps, ContainerOps, ControlOps, OperatorOps, StackOps
from .resume import resume_start
from .sources import Source, plus
from .tracer_state import UNBOUND  # noqa: F401 - re-exported for the opcode handlers
from .values import EXACT_FLOAT_INTS, ArrayValue, Cell, DynamicFloat, DynamicInt, Value

PY313 = sys.version_info >= (3, 13)
PY312 = sys.version_info >= (3, 12)

MAX_INLINE_DEPTH = 24
# Loops are unrolled by tracing. A loop over more items than this runs in CPython instead,
# with its body compiled once as a resume function (a graph break at FOR_ITER).
UNROLL_LIMIT = 64
# A loop stops unrolling once the graph holds this many operations: the rest of its rounds run in
# CPython with the body compiled (fusion's cost grows with the square of a graph's size: 500
# operations compiled in 0.37 s, 1000 in 1.1 s, a 40 x 40 nested loop in 9.4 s).
LOOP_GRAPH_BUDGET = 512
# Past this many bytecode instructions per capture, tracing stops (a break, or eager).
INSTRUCTION_BUDGET = 50_000


class Tracer:
    """State shared by every frame of one capture."""

    def __init__(self, name: str, top_globals: dict, dynamic: frozenset[tuple[str, int]] = frozenset(),
                 dynamic_scalars: frozenset[str] = frozenset()):
        self.graph = Graph(name)
        self.dynamic = dynamic  # (source expression, axis) of the dimensions traced as symbols
        self.dynamic_scalars = dynamic_scalars  # source expressions of Python floats and ints read at run time
        self.scalar_inputs: dict[Source, ArrayValue] = {}  # ... those the graph reads, as its inputs
        self.dims: dict[int, Dim] = {}  # one symbol per traced size: equal sizes share it (and a guard)
        self.dim_sources: dict[Dim, tuple[Source, int]] = {}  # where each symbol's size is read first
        self.top_globals = top_globals
        self.guards = GuardSet()
        self.input_sources: list[Source] = []
        self.inputs_by_id: dict[int, tuple[ArrayValue, Source, Any]] = {}
        self.wrapped: dict[Source, Value] = {}
        self.instructions_left = INSTRUCTION_BUDGET
        self.loc: SourceLoc | None = None
        self.undo_log: list = []  # closures that undo mutations of symbolic containers
        self.inputs_overlap = False  # inputs share memory and the graph writes into one
        self.try_loc: SourceLoc | None = None  # where the first try body traced as straight code is
        self.numpy_calls: list[tuple[Any, SourceLoc | None]] = []  # NumPy callables the code calls on arrays

    def record_undo(self, undo) -> None:
        self.undo_log.append(undo)

    def snapshot(self) -> tuple:
        """Enough state to forget a partial trace (an inlined call that hit a graph break)."""
        return (list(self.graph.nodes), self.graph._counter, list(self.input_sources),
                dict(self.inputs_by_id), dict(self.scalar_inputs), dict(self.wrapped), len(self.undo_log))

    def restore(self, snapshot: tuple) -> None:
        nodes, counter, sources, inputs, scalars, wrapped, undo_length = snapshot
        self.graph.nodes[:] = nodes
        self.graph._counter = counter
        self.input_sources[:] = sources
        self.inputs_by_id = inputs
        self.scalar_inputs = scalars
        self.wrapped = wrapped
        while len(self.undo_log) > undo_length:
            self.undo_log.pop()()

    def emit(self, op_name: str, *args: Any, **kwargs: Any) -> ArrayValue:
        """Append an op to the graph at the current user source line."""
        if _holds_objects((args, kwargs)):
            raise Unsupported(f"an array of Python objects (dtype=object) as an argument of {op_name}", self.loc)
        try:
            node = self.graph.call(op_name, *args, loc=self.loc, **kwargs)
        except (Unsupported, SymbolicShapeError):
            raise
        except Exception as exc:  # NumPy refused: eager will raise the same error
            if _any_empty(args):  # unless a rule that checks values (int ** -1) finds none to check
                raise Unsupported(f"NumPy's rule for {op_name} raised {type(exc).__name__} on an empty array, "
                                  "where eager may not", self.loc) from exc
            raise UserCodeError(f"NumPy raised {type(exc).__name__}: {exc} (in {op_name})", self.loc) from exc
        if node.meta.dtype.kind == "O":  # (np.array([None, x.sum()])): elements keep their Python types
            self.graph.nodes.remove(node)
            raise Unsupported(f"{op_name} of Python objects (a result of dtype=object)", self.loc)
        if op_name == "power" and node.meta.dtype.kind in "iu" and isinstance(args[1], Node):
            # NumPy raises on a negative integer exponent: an error that depends on the data,
            # which compiled code would not reproduce (or would drop with the dead code).
            self.graph.nodes.remove(node)
            raise Unsupported("integer power with an array exponent (raises on negative values)", self.loc)
        return ArrayValue(node)

    def array_input(self, array: np.ndarray | np.generic, source: Source) -> ArrayValue:
        from ..ir import SUPPORTED_DTYPES, TensorMeta

        known = self.inputs_by_id.get(id(array))
        if known is not None:
            value, first_source, _ = known
            if first_source != source:
                self.guards.add(Guard.same_object(source, first_source))
            return value
        if array.dtype not in SUPPORTED_DTYPES:
            raise Unsupported(f"arrays of dtype {array.dtype} are not supported", self.loc)
        meta = TensorMeta.of(array)
        axes = [a for a in range(array.ndim) if (source.expr(), a) in self.dynamic and array.shape[a] >= 2]
        if is_device_array(array):  # (shapes stay static on the GPU: no dynamic dimensions yet)
            self.guards.add(Guard.device_tensor(source, array))
        elif axes and isinstance(array, np.ndarray) and array.flags.c_contiguous:
            meta = self._dynamic_input(source, array, axes)
        else:
            self.guards.add(Guard.tensor(source, array))
        name = _input_name(source, {n.name for n in self.graph.nodes})
        value = ArrayValue(self.graph.add_input(name, meta), source)
        self.inputs_by_id[id(array)] = (value, source, array)  # keeps the array alive while tracing
        self.input_sources.append(source)
        return value

    def traced_input(self, node: Node) -> Any:
        """The value an input node stands for in this trace (an array or a NumPy scalar)."""
        return next(array for value, _, array in self.inputs_by_id.values() if value.node is node)

    def float_input(self, value: DynamicFloat | DynamicInt, like: np.dtype) -> ArrayValue:
        """A Python float (or int) read at run time next to an array of dtype ``like``: a graph
        input (guarded on its type), converted as NumPy converts a Python float (NEP 50): to a
        float or complex array's own dtype, else to float64, which then promotes the integers. An
        int only next to float or complex arrays, and only below 2**53 in magnitude: there its
        int64 -> float conversion rounds once, as NumPy's conversion through float64 does."""
        read = self._scalar_input(value)
        if isinstance(value, DynamicInt):
            assert like.kind in "fc"  # (operators.py asks for no other)
            self.exact_as_float_guard(value)
        return self.emit("astype", read.node, dtype=like if like.kind in "fc" else np.dtype(np.float64))

    def int_index(self, value: DynamicInt, size: int | Dim) -> Node:
        """A Python int read at run time as an index into an axis of ``size``: an int64 graph
        input (NumPy makes a view for it), guarded to lie in that axis."""
        node = self._scalar_input(value).node
        self.index_guard(*value.range_source, size)
        return node

    def exact_as_float_guard(self, value: DynamicInt) -> None:
        """Guard that an int read at run time converts to a float exactly (``|i| < 2**53``, which
        ``value.exact_as_float`` checked for the traced value)."""
        source, shift = value.range_source
        self.guards.add(Guard.int_range(source, -EXACT_FLOAT_INTS - shift, EXACT_FLOAT_INTS - shift))

    def index_guard(self, source: Source, offset: int, size: int | Dim) -> None:
        """Guard that ``source + offset``, an integer read at run time as an index, lies in an axis
        of ``size`` (``-size <= i < size``, a number or a dynamic dimension read from an input's
        shape), so the view compiled code makes never raises."""
        self.guards.add(Guard.int_range(source, self._size_plus(size, -offset, -1), self._size_plus(size, -offset)))

    def slice_start(self, start: DynamicInt, length: int, size: int | Dim) -> Node:
        """A Python int read at run time as the start of ``x[i:i + length]`` along an axis of
        ``size``: an int64 graph input, guarded so the slice lies in the axis
        (``0 <= i <= size - length``) and so holds ``length`` elements at every admitted value."""
        node = self._scalar_input(start).node
        source, shift = start.range_source
        # source + shift + length <= size
        self.guards.add(Guard.int_range(source, -shift, self._size_plus(size, 1 - length - shift)))
        return node

    def _size_plus(self, size: int | Dim, delta: int, sign: int = 1) -> int | str:
        """``sign * size + delta`` for a guard's bound: a number, or, for a dynamic dimension,
        Python text over the input its size is read from (``-2 * x.shape[0] - 1``)."""
        if not isinstance(size, Dim):
            return sign * size + delta
        dim_source, axis = self.dim_sources[size.base]
        scale = f"{size.scale} * " if size.scale != 1 else ""
        return plus(f"{'-' if sign < 0 else ''}{scale}{dim_source.expr()}.shape[{axis}]", sign * size.offset + delta)

    def _scalar_input(self, value: DynamicFloat | DynamicInt) -> ArrayValue:
        from ..ir import TensorMeta

        source = value.source
        assert source is not None  # (frontend/wrapping.py makes them for arguments only)
        read = self.scalar_inputs.get(source)
        if read is None:
            for root, kind in value.roots if isinstance(value, DynamicFloat) else ((value.base, int),):
                self.guards.add(Guard.type_is(root, kind()))
            name = _input_name(source, {n.name for n in self.graph.nodes})
            dtype = np.dtype(np.float64 if isinstance(value, DynamicFloat) else np.int64)
            read = ArrayValue(self.graph.add_input(name, TensorMeta((), dtype, is_scalar=True)), source)
            self.scalar_inputs[source] = read
            self.input_sources.append(source)
        return read

    def _dynamic_input(self, source: Source, array: np.ndarray, axes: list[int]):
        """The input's meta with a symbol at each dynamic axis, and the guard that admits any size >= 2
        there (the same size wherever one symbol stands)."""
        from ..ir import TensorMeta

        first_uses: dict[Dim, str] = {}
        shape = list(array.shape)
        for axis in axes:
            dim = self.dims.get(array.shape[axis])
            if dim is None:
                dim = self.dims[array.shape[axis]] = Dim(f"s{len(self.dims)}", array.shape[axis])
                self.dim_sources[dim] = (source, axis)
            else:
                first, first_axis = self.dim_sources[dim]
                first_uses[dim] = f"{first.expr()}.shape[{first_axis}]"
            shape[axis] = dim
        meta = TensorMeta(tuple(shape), array.dtype)
        self.guards.add(Guard.dynamic_tensor(source, array, meta.shape, first_uses))
        return meta

    def add_size_guards(self) -> dict[Dim, int]:
        """Indexing that needs a symbol above 2 (``x[1:-1]`` leaves 2 rows of 4) guards it so;
        returns the minimum each symbol is guarded at."""
        for dim in self.dims.values():
            if dim.minimum > 2:
                source, axis = self.dim_sources[dim]
                self.guards.add(Guard.size_at_least(source, axis, dim.minimum))
        return {dim: dim.minimum for dim in self.dims.values()}


def _input_name(source: Source, taken: set[str]) -> str:
    text = source.expr()
    for old, new in ((" - ", "_minus_"), (" + ", "_plus_"), ("G['", ""), ("']", ""), ("C[", "closure"),
                     ("].cell_contents", ""), ("[", "_"), ("]", ""), (".", "_"), ("'", "")):
        text = text.replace(old, new)
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in text) or "input"
    name, suffix = text, 1
    while name in taken:
        suffix += 1
        name = f"{text}_{suffix}"
    return name


def _protected_offsets(code: types.CodeType, instructions: list[dis.Instruction]
                       ) -> tuple[frozenset[int], frozenset[int]]:
    """Offsets of try bodies (covered by an ``except``/``finally`` handler, which starts with
    PUSH_EXC_INFO; 3.12's inlined comprehensions have handlers that only restore a local), and
    those of ``with`` bodies apart: their handler is PUSH_EXC_INFO, WITH_EXCEPT_START. (Entries
    do not nest: an offset has its innermost handler only.)"""
    index_of = {inst.offset: i for i, inst in enumerate(instructions)}
    protected: set[int] = set()
    with_bodies: set[int] = set()
    for entry in dis.Bytecode(code).exception_entries:  # type: ignore[attr-defined]  # not in typeshed
        target = index_of.get(entry.target)
        if target is None or instructions[target].opname != "PUSH_EXC_INFO":
            continue
        after = instructions[target + 1].opname if target + 1 < len(instructions) else ""
        covered = with_bodies if after == "WITH_EXCEPT_START" else protected
        covered.update(inst.offset for inst in instructions if entry.start <= inst.offset < entry.end)
    return frozenset(protected), frozenset(with_bodies)




class FrameTracer(StackOps, ControlOps, CallOps, ContainerOps, OperatorOps):
    """Symbolically executes one frame. ``run()`` returns the frame's return value."""

    def __init__(self, tracer: Tracer, code: types.CodeType, globals_: dict,
                 global_source, locals_: dict[str, Value], cells: dict[str, Cell], depth: int = 0):
        self.tracer = tracer
        self.code = code
        self.globals = globals_
        self.global_source = global_source  # name -> Source | None
        self.locals = locals_
        self.cells = cells
        self.depth = depth
        self.stack: list[Any] = []
        self.instructions = list(dis.get_instructions(code))
        self.index_of = {inst.offset: i for i, inst in enumerate(self.instructions)}
        self.protected, self.with_bodies = _protected_offsets(code, self.instructions)
        self.next_index = 0
        self.kw_names: tuple[str, ...] = ()
        self.result: Value | None = None
        self.yielded: list[Value] | None = None  # a generator's items, while run_generator() runs it
        self.lineno = code.co_firstlineno
        self.resumes_at = resume_start(code)
        self.loop_rounds: dict[int, int] = {}
        self.nodes_at_start = len(tracer.graph.nodes)
        self.break_next: str | None = None
        self.split_at: int | None = None

    def run(self) -> Value:
        while self.result is None:
            if self.next_index >= len(self.instructions):
                raise Unsupported("fell off the end of the bytecode", self.loc())
            inst = self.instructions[self.next_index]
            self.next_index += 1
            if inst.positions is not None and inst.positions.lineno is not None:
                self.lineno = inst.positions.lineno
            self.tracer.loc = self.loc()
            self.tracer.instructions_left -= 1
            if self.tracer.instructions_left < 0:
                raise Unsupported(f"more than {INSTRUCTION_BUDGET} bytecode instructions traced "
                                  "(a loop too long to unroll)", self.loc())
            if inst.offset in self.protected and self.tracer.try_loc is None:
                # A try body is traced as straight code: an error while tracing runs the function
                # eagerly, and compiled code that raises at run time reruns it eagerly, except
                # clauses and all, when it wrote nothing yet (capture.py refuses graphs that write).
                self.tracer.try_loc = self.loc()
                self.tracer.record_undo(lambda: setattr(self.tracer, "try_loc", None))
            handler = getattr(self, "op_" + inst.opname, None)
            # A with body is entered only through BEFORE_WITH, which admits context managers
            # compiled code is already inside; neither it nor a try body can split (a resume
            # function would start inside the block): what they cannot capture runs eagerly.
            if self.depth == 0 and inst.opname in BREAKABLE and inst.offset not in self.with_bodies and \
                    inst.offset not in self.protected:
                self._run_breakable(handler, inst)
            elif handler is None:
                raise Unsupported(f"unsupported bytecode {inst.opname}", self.loc())
            else:
                handler(inst)
        return self.result

    def run_generator(self) -> list[Value]:
        """Run a generator function's frame to its end: the values it yielded."""
        self.yielded = []
        self.run()
        return self.yielded

    def _run_breakable(self, handler, inst) -> None:
        """Run an instruction of the top frame where a graph break may split the frame: if it
        cannot be captured, roll back whatever it began (an inlined call's partial trace) and
        stop tracing before it."""
        snapshot = self.tracer.snapshot()
        stack, locals_, kw_names = list(self.stack), dict(self.locals), self.kw_names
        reason = self.split_reason(inst)  # a loop not to unroll further (frame.py)
        if reason is not None:
            self.break_next = None
            try:
                plan = plan_break(self, inst, stack, locals_, kw_names, reason)
            except Unsupported:
                pass  # the frame cannot split here (a try block, cell variables): unroll on
            else:
                raise GraphBreak(plan)
        try:
            if handler is None:
                raise Unsupported(f"unsupported bytecode {inst.opname}", self.loc())
            handler(inst)
        except (UserCodeError, FrameBound):
            raise
        except Unsupported as exc:
            self.tracer.restore(snapshot)
            self.stack, self.locals, self.kw_names = stack, locals_, kw_names
            self.tracer.loc = self.loc()
            raise GraphBreak(plan_break(self, inst, stack, locals_, kw_names, exc.reason)) from exc


def _holds_objects(value: Any) -> bool:
    """Whether a constant argument is (or holds) an object array: NumPy makes one of a list with
    graph nodes in it, and the kernels have no object dtype. The check keeps both out."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "O"
    if isinstance(value, tuple | list):
        return any(_holds_objects(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_objects(item) for item in value.values())
    return False


def _any_empty(args: tuple) -> bool:
    """Whether an argument is an array with no elements (a static 0 in its shape)."""
    return any(isinstance(a, Node) and any(d == 0 for d in a.meta.shape if isinstance(d, int)) for a in args)
