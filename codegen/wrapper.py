"""The per-call program every backend generates: a printable Python function over the kernel graph.

``ProgramBuilder`` writes everything but the kernel launches: it names values, turns
compile-time values (shapes, dtypes, index tuples) into constants of the function's globals,
allocates fresh kernel outputs with ``_empty`` (when asked, large ones and large matmul
results come from an ``OutputCache`` that reuses arrays the caller has dropped: buffers.py),
makes views and setitem destinations with NumPy's own indexing (O(1)), runs extern nodes
through their NumPy reference (``_ref_<op>``), keeps scalars and 0-d arrays apart, and
returns the outputs. A backend subclasses it and implements ``launch`` (one kernel call,
given its operand names), then binds the names the text uses: ``_empty``, ``_asarray``,
``constants``, ``references`` and its own.

Example of the generated text for ``(x + y) * 2.0 - np.exp(x)`` (the launch line is the
backend's)::

    def run(inputs):
        v_x, v_y = inputs
        b_3 = _empty((100,), _c0)
        _k0((v_x, v_y, b_3))
        return [b_3]
"""
from __future__ import annotations

import dataclasses
import itertools
import re
from typing import Any

import numpy as np

from ..ir import Dim, Node, OpKind, dims_in, is_static, iter_nodes
from ..passes.kernels import ExternStep, Kernel, KernelGraph, StoreKind
from ..passes.rewriting import Unfreezable, analyse_aliasing, freeze
from .buffers import OutputCache, reusable


class ProgramBuilder:
    """Builds the text of ``run(inputs)`` for one kernel graph; ``build()`` returns it.

    After ``build()``: ``constants`` maps each ``_c<n>`` name to its value and ``references``
    maps each ``_ref_<op>`` name to a node of that op (bind ``node.op.reference``, or the
    device's own function).
    """

    def __init__(self, kernel_graph: KernelGraph, reuse_outputs: bool = False):
        self.kg = kernel_graph
        self.reuse_outputs = reuse_outputs  # large host outputs through an OutputCache (buffers.py)
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.references: dict[str, Node] = {}
        self.values: dict[Node, str] = {}   # the name of each node's value (scalars as scalars)
        self.arrays: dict[Node, str] = {}   # the name of each node as an array (0-d for scalars)
        self.idents: dict[Node, str] = {}
        self.shared = shared_calls(kernel_graph)
        self.pieces: dict[Kernel, int] = {}

    # ---------------------------------------------------------------- the backend's hook
    def launch(self, kernel: Kernel, operands: list[str]) -> None:
        """Append the lines that run ``kernel`` on ``operands`` (its loads, then its stores)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- names and constants
    def ident(self, node: Node) -> str:
        if node not in self.idents:
            stem = "".join(c if c.isalnum() else "_" for c in node.name)
            taken = set(self.idents.values())
            name, n = stem, 1
            while name in taken:
                name, n = f"{stem}_{n}", n + 1
            self.idents[node] = name
        return self.idents[node]

    def constant(self, value: Any) -> str:
        if value is None or isinstance(value, bool | int | str) and not isinstance(value, np.generic):
            return repr(value)
        if type(value) is float and np.isfinite(value):  # (a NumPy float64 prints as np.float64(...))
            return repr(value)
        for name, existing in self.constants.items():
            if type(existing) is type(value) and _same(existing, value):
                return name
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def render(self, value: Any) -> str:
        if isinstance(value, Node):
            return self.values[value]
        if isinstance(value, Dim):
            return repr(value)  # a dynamic size: Python text over the names bind_dims made
        if not any(True for _ in iter_nodes(value)) and not isinstance(value, dict) and not dims_in(value):
            return self.constant(value)
        if isinstance(value, tuple):
            inner = ", ".join(self.render(v) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        if isinstance(value, list):
            return "[" + ", ".join(self.render(v) for v in value) + "]"
        if isinstance(value, slice):
            return f"slice({self.render(value.start)}, {self.render(value.stop)}, {self.render(value.step)})"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {self.render(v)}" for k, v in value.items()) + "}"
        return self.constant(value)

    def array(self, node: Node) -> str:
        if node not in self.arrays:
            if node.meta.is_scalar:
                name = f"a_{self.ident(node)}"
                self.lines.append(f"    {name} = _asarray({self.values[node]})")
                self.arrays[node] = name
            else:
                self.arrays[node] = self.values[node]
        return self.arrays[node]

    # ---------------------------------------------------------------- program
    def build(self) -> str:
        inputs = self.kg.graph.inputs
        for node in inputs:
            self.values[node] = f"v_{self.ident(node)}"
        if inputs:
            self.lines.append(f"    {', '.join(self.values[n] for n in inputs)}, = inputs")
        self.bind_dims(inputs)
        spans = []
        for step in self.kg.steps:
            start = len(self.lines)
            if isinstance(step, ExternStep):
                self.extern(step.node)
            else:
                self.kernel(step)
            spans.append((start, len(self.lines)))
        outputs = ", ".join(self.render(o) for o in self.kg.graph.outputs)
        self.lines = _dropping_dead_names(self.lines, spans, kept=set(_NAME.findall(outputs)))
        self.lines.append(f"    return [{outputs}]")
        return "def run(inputs):\n" + "\n".join(self.lines) + "\n"

    def bind_dims(self, inputs: list[Node]) -> None:
        """Name each dynamic dimension (ir/symbolic.py) after the input it is read from: shapes
        then render as ``(s0, 2048)`` in the generated text."""
        bound: set[Dim] = set()
        for node in inputs:
            for axis, dim in enumerate(node.meta.shape):
                if isinstance(dim, Dim) and dim not in bound:
                    bound.add(dim)
                    self.lines.append(f"    {dim!r} = {self.values[node]}.shape[{axis}]")

    def extern(self, node: Node) -> None:
        name = f"v_{self.ident(node)}"
        if node.op.name == "getitem":  # (an index may hold a Python int read at run time: still a view)
            self.lines.append(f"    {name} = {self.values[node.args[0]]}[{self.render(node.args[1])}]")
        elif node.op.name == "dynamic_slice":  # x[:, i:i + 3], written out: no call
            start, axis, length = self.values[node.args[1]], node.kwargs["axis"], node.kwargs["length"]
            self.lines.append(f"    {name} = {self.values[node.args[0]]}[{':, ' * axis}{start}:{start} + {length}]")
        elif node.op.kind is OpKind.MUTATION and node.op.name == "setitem" and len(node.args) == 3:
            dest, index, value = node.args
            self.lines.append(f"    {self.values[dest]}[{self.render(index)}] = {self.render(value)}")
            self.values[node] = self.values[dest]
            return
        elif self._empty_from_cache(node):
            cache = self.constant(OutputCache(node.meta.shape, node.meta.dtype))
            self.lines.append(f"    {name} = {cache}.take({_runtime_shape(node.meta.shape)})"
                              f"  # np.empty, or a dropped array of an earlier call")
        elif node in self.shared:
            first, output = self.shared[node]
            results = f"t_{self.ident(first)}"
            if first is node:  # every result of one NumPy call, which the others index
                self.call(node, results, {**node.kwargs, "output": slice(None)},
                          f"  # {len([n for n in self.shared.values() if n[0] is first])} results of one call")
            self.lines.append(f"    {name} = {results}[{output}]")
        else:
            self.call(node, name, node.kwargs)
        self.values[node] = name

    def call(self, node: Node, name: str, kwargs: dict, comment: str = "") -> None:
        """Append ``name = <node's op>(args, **kwargs)``, the NumPy reference (or the device's)."""
        ref = f"_ref_{node.op.name}"
        self.references[ref] = node
        args = [self.render(a) for a in node.args]
        args += [f"{k}={self.render(v)}" for k, v in kwargs.items()]
        if self._writes_into_cache(node):  # BLAS writes straight into a reused buffer
            args.append(self.reused_out(node))
            comment = "  # out=: a reused buffer (OutputCache)"
        call = f"{name} = {ref}({', '.join(args)}){comment}"
        if node.op.checks_values and node.loc is not None:  # an index out of bounds: say where
            where = f"(at {node.loc.with_source()})"
            self.lines += ["    try:", f"        {call}", "    except Exception as error:",
                           f"        error.add_note({where!r})", "        raise"]
        else:
            self.lines.append(f"    {call}")

    def reused_out(self, node: Node) -> str:
        """``out=`` a buffer of ``node``'s shape from its OutputCache (see _writes_into_cache)."""
        return (f"out={self.constant(OutputCache(node.meta.shape, node.meta.dtype))}"
                f".take({_runtime_shape(node.meta.shape)})")

    def _writes_into_cache(self, node: Node) -> bool:
        """A large matmul result (NumPy's matmul ufunc takes ``out=``, and the same BLAS call
        writes it) comes from an OutputCache like a kernel's output."""
        return (self.reuse_outputs and node.op.name == "matmul" and not node.kwargs and not node.meta.is_scalar
                and reusable(node.meta.shape, node.meta.dtype))

    def _empty_from_cache(self, node: Node) -> bool:
        """A large ``np.empty`` (a join written in place, passes/joins.py, or the program's own)
        comes from an OutputCache: its values are undefined either way, its pages faulted in once."""
        return (self.reuse_outputs and node.op.name == "empty" and set(node.kwargs) <= {"dtype"}
                and len(node.args) == 1 and reusable(node.meta.shape, node.meta.dtype))

    def allocate(self, kernel: Kernel, node: Node, buffer: str, loaded: list[str], indent: str = "    ") -> None:
        """Append the lines that make ``buffer``, ``node``'s fresh output (C order); ``loaded``: the
        names of the kernel's loaded arrays (a backend may choose the layout from them)."""
        if self.reuse_outputs and reusable(node.meta.shape, node.meta.dtype):
            cache = self.constant(OutputCache(node.meta.shape, node.meta.dtype))
            self.lines.append(f"{indent}{buffer} = {cache}.take({_runtime_shape(node.meta.shape)})"
                              f"  # np.empty({node.meta.shape!r}), or a dropped buffer of an earlier call")
        else:
            self.lines.append(f"{indent}{buffer} = _empty({node.meta.shape!r}, {self.constant(node.meta.dtype)})")

    def scratch(self, name: str, shape: tuple, dtype: np.dtype, what: str, indent: str = "    ") -> None:
        """Append the line that makes ``name``, a temporary array the program drops before it
        returns: large ones come round again through an OutputCache (no page faults per call)."""
        if self.reuse_outputs and reusable(shape, dtype):
            cache = self.constant(OutputCache(shape, dtype))
            self.lines.append(f"{indent}{name} = {cache}.take({_runtime_shape(shape)})  # {what}")
        else:
            self.lines.append(f"{indent}{name} = _empty({shape!r}, {self.constant(dtype)})  # {what}")

    def take_over(self, kernel: Kernel, node: Node, buffer: str, dead: Node, loaded: list[str], when: str
                  ) -> list[str]:
        """Append the line that makes ``buffer`` the array of ``dead``, a value that dies in this
        kernel or died before it (``when``), which writes ``node`` into it (passes/memory.py);
        return lines to run after the launch (a backend that lays outputs out as NumPy would
        checks the layout there)."""
        self.lines.append(f"    {buffer} = {self.array(dead)}  # %{node.name} written over %{dead.name}, {when}")
        return []

    def kernel(self, kernel: Kernel) -> None:
        operands = [self.array(kernel.rolls[load.node].source if load.node in kernel.rolls else load.node)
                    for load in kernel.loads]
        loaded = list(operands)
        after: list[str] = []  # scalar outputs are read out of their 0-d buffers once the kernel has run
        for store in kernel.stores:
            if store.kind is StoreKind.NEW:
                node = store.node
                buffer = f"b_{self.ident(node)}"
                if store.reads is not None:
                    after += self.take_over(kernel, node, buffer, store.reads, loaded, "which dies here")
                elif store.recycles is not None:
                    after += self.take_over(kernel, node, buffer, store.recycles, loaded, "which died before")
                else:
                    self.allocate(kernel, node, buffer, loaded)
                operands.append(buffer)
                self.arrays[node] = buffer
                if node.meta.is_scalar:
                    self.values[node] = f"v_{self.ident(node)}"
                    after.append(f"    v_{self.ident(node)} = {buffer}[()]")
                else:
                    self.values[node] = buffer
            else:
                setitem = store.setitem
                assert setitem is not None  # a StoreKind.INTO store always has its setitem (fusion.py)
                dest, target = setitem.args[0], f"t_{self.ident(setitem)}"
                self.lines.append(f"    {target} = {self.values[dest]}[{self.render(setitem.args[1])}]")
                operands.append(target)
                self.values[setitem] = self.values[dest]
        if kernel.rolls:
            for piece, views in _pieces(kernel, operands):
                self.launch(self.piece(kernel, piece), views)
        else:
            self.launch(kernel, operands)
        self.lines.extend(after)

    def piece(self, kernel: Kernel, domain: tuple[int, ...]) -> Kernel:
        """``kernel`` run over a part of its domain (the launches of a kernel reading rolls in
        place, passes/rolls.py): the same code, its own dims."""
        self.pieces[kernel] = self.pieces.get(kernel, 0) + 1
        return dataclasses.replace(kernel, name=f"{kernel.name}_{self.pieces[kernel]}", domain=domain, rolls={})


def shared_calls(kernel_graph: KernelGraph) -> dict[Node, tuple[Node, int]]:
    """Nodes that are results of one NumPy call (``np.linalg.qr(a)``, ``np.histogram(x)``: the
    frontend makes one node per result, told apart by ``output=``), each mapped to the first
    such node of its call and its result's index: the call then runs once, as in eager. Only
    where the operands' memory is written by no mutation (two reads would see the same values)."""
    aliasing = analyse_aliasing(kernel_graph.graph)
    calls: dict[Any, list[Node]] = {}
    for step in kernel_graph.steps:
        node = step.node if isinstance(step, ExternStep) else None
        if node is None or not isinstance(node.kwargs.get("output"), int):
            continue
        if any(aliasing.is_written(arg) for arg in iter_nodes((node.args, node.kwargs))):
            continue
        try:
            key = (node.op.name, freeze(node.args), freeze({k: v for k, v in node.kwargs.items() if k != "output"}))
        except Unfreezable:
            continue
        calls.setdefault(key, []).append(node)
    return {node: (group[0], node.kwargs["output"]) for group in calls.values() if len(group) > 1 for node in group}


def _pieces(kernel: Kernel, operands: list[str]) -> list[tuple[tuple[int, ...], list[str]]]:
    """The launches of a kernel that reads rolls in place: its domain cut on each axis where a
    roll wraps, and for each piece the views of its operands (loads, then stores) it runs on."""
    cuts: dict[int, set[int]] = {}
    for load in kernel.loads:
        roll = kernel.rolls.get(load.node)
        if roll is not None and roll.shift:
            cuts.setdefault(load.axes[roll.axis], {0, kernel.domain[load.axes[roll.axis]]}).add(roll.shift)
    axes = sorted(cuts)
    spans = [list(itertools.pairwise(sorted(cuts[axis]))) for axis in axes]
    mappings = [(load.axes, load.broadcast, kernel.rolls.get(load.node)) for load in kernel.loads]
    mappings += [(store.axes, (False,) * len(store.axes), None) for store in kernel.stores]
    launches = []
    for chosen in itertools.product(*spans):
        span = dict(zip(axes, chosen, strict=True))
        domain = tuple(stop - start for start, stop in (span.get(a, (0, n)) for a, n in enumerate(kernel.domain)))
        views = []
        for name, (dims, broadcast, roll) in zip(operands, mappings, strict=True):
            index = []
            for dim, (axis, single) in enumerate(zip(dims, broadcast, strict=True)):
                if axis not in span or single:
                    index.append(":")
                    continue
                start, stop = span[axis]
                if roll is not None and dim == roll.axis:  # element i of the roll is (i - shift) mod n
                    back = roll.shift if start >= roll.shift else roll.shift - kernel.domain[axis]
                    start, stop = start - back, stop - back
                index.append(f"{start}:{stop}")
            views.append(f"{name}[{', '.join(index)}]" if any(i != ":" for i in index) else name)
        launches.append((domain, views))
    return launches


_NAME = re.compile(r"\b[vabt]_\w+")   # the names of the program's values, buffers and temporaries
_ASSIGNED = re.compile(r"^ +([\w, ]+?),? = ")  # at any depth (see _dropping_dead_names)


def _dropping_dead_names(lines: list[str], spans: list[tuple[int, int]], kept: set[str]) -> list[str]:
    """``lines`` with ``del`` after the step (``spans``: each step's lines) that last names a value,
    as eager Python drops a temporary: a chain of NumPy calls then reuses freed memory instead of
    faulting in fresh pages for every intermediate (21 complex ops on 512x512: 35 -> 2 ms), and a
    chain of layers holds one or two activations, not all. Only where more steps follow. The
    builders assign a name on every path that reaches the end of its step (``if``/``else`` pairs
    choosing a buffer's layout, ``try`` blocks whose ``except`` re-raises), so any assignment counts."""
    assigned = {name.strip() for line in lines[spans[0][0] if spans else 0:] if (match := _ASSIGNED.match(line))
                for name in match.group(1).split(",")}  # not the inputs: the caller holds them
    last: dict[str, int] = {}
    for step, (start, end) in enumerate(spans):
        for line in lines[start:end]:
            for name in _NAME.findall(line):
                last[name] = step
    dying: dict[int, list[str]] = {}
    for name, step in last.items():
        if name in assigned and name not in kept and step < len(spans) - 1:  # the return drops the rest
            dying.setdefault(step, []).append(name)
    result = lines[:spans[0][0]] if spans else list(lines)
    for step, (start, end) in enumerate(spans):
        result += lines[start:end]
        if step in dying:
            result.append(f"    del {', '.join(sorted(dying[step]))}")
    return result


def _runtime_shape(shape: tuple) -> str:
    """The ``take()`` argument: nothing for a static shape, the call's sizes for a dynamic one."""
    return "" if is_static(shape) else repr(tuple(shape))


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and repr(a) == repr(b)
    except Exception:
        return False
