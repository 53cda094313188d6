"""The per-call program: a generated, printable Python function over the kernel graph.

The shared builder (codegen/wrapper.py) writes everything but the launches. For each step it
allocates fresh outputs with ``np.empty`` (NumPy asks for huge pages on large arrays), makes
views and setitem destinations with NumPy (O(1)), runs extern nodes through their NumPy
reference, and calls each kernel with one tuple of arrays (see abi.py): short kernels as
builtin functions, the rest through ctypes, which hands the GIL back (launch.py).
Kernels above ``parallel_threshold`` elements go through the thread pool when one is given
(fewer for kernels that call vector math: ``math_call_cost``):
the pool splits the first outer axis, or, for a kernel that reduces everything
(``splits``), pass by pass the first reduced axis into per-thread partial accumulators that
one more call of the same kernel combines.
Everything that can be computed at compile time (shapes, dtypes, index tuples, the dims
arrays) is a constant of the generated function's globals.

Example of the generated text for ``(x + y) * 2.0 - np.exp(x)``::

    def run(inputs):
        v_x, v_y = inputs
        b_3 = _empty((100,), _c0)
        _k0((v_x, v_y, b_3, _dims_k0))
        return [b_3]
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...ir import Dim, Node, is_static
from ...passes.kernels import Kernel, KernelGraph
from ..layouts import domain_order, eager_order, empty_in_order, in_layout
from ..wrapper import ProgramBuilder
from .emit_reduction import SplitReduction
from .launch import BUILTIN_CALL_LIMIT, KERNEL_TYPE, builtin_kernel
from .lowering import power_multiplies
from .math import BINARY_LIBM, UNARY_LIBM

# Elements below which a reduction kernel keeps its C-order loops whatever its operands' layout:
# no other order is compiled for it, and a kernel that does not sweep in C order gets no
# accumulator arrays (each ~0.15 us to make per call). Fortran-ordered float32, sweep against
# per row: x.sum(1) of 8x64 1.54 vs 1.41 us, 16x64 1.56 vs 1.68 us, 64x64 1.95 vs 3.45 us;
# softmax 8x16 3.1 vs 3.2 us, 8x64 4.5 vs 5.7 us, 64x64 15.4 vs 33.4 us.
SWEEP_ACCUMULATORS_LEAST = 1024
SWEEP_SPLIT_PIECE = 1024  # elements of each row per thread, below which a sweep runs on one thread
SWEEP_SPLIT_PIECE_MATH = 512  # ... for a sweep that calls vector math (exp, tanh, ...): compute-bound
# What one vector math call adds to an element's cost, in units of a plain arithmetic kernel's
# (the kernels ``parallel_threshold`` is for), by float32 / float64. Measured one thread against
# two (a split costs 50-100 us): exp float32 ~0.6 ns a call against ~0.25 ns for a plain kernel,
# 1.2x from 262144 elements; float64 exp and log ~2.6 ns, 1.24-1.27x from 131072; Haversine's
# five float64 calls 1.17x at 16384, 1.4x at 32768.
MATH_CALL_COST = {4: 2, 8: 8}


def math_call_cost(kernel: Kernel) -> int:
    """The kernel's vector math calls (libm's functions, vectorized through libmvec, or own
    polynomials), weighed by ``MATH_CALL_COST``; 0 for arithmetic only: ``x ** 3`` multiplies
    (lowering.py), ``x ** y`` and ``x ** 100`` call pow."""
    return sum(MATH_CALL_COST.get(node.meta.dtype.itemsize, 8) for node in kernel.nodes
               if node.meta.dtype.kind in "fc" and (node.op.name in UNARY_LIBM or node.op.name in BINARY_LIBM and not (
                   node.op.name == "power" and power_multiplies(node))))


def splits_well(kernel: Kernel, order: tuple[int, ...], num_threads: int) -> bool:
    """Whether splitting the first kept axis across threads pays for a kernel run in memory
    ``order``. A sweep (a kept axis innermost) whose split axis is not outermost splits the
    rows themselves, each thread a piece of every row: only worth it for long pieces. Over
    axis 0, float32, two threads against one: pieces of 512 (8192x1024) sum 1.9-2.4 vs
    1.0-1.2 ms, var 4.3-5.2 vs 2.4-3.2 ms; of 1024 (4096x2048) sum 1.3-1.4 vs 1.1-1.2 ms,
    but var 3.2-3.4 vs 4.6-5.8 ms and batch norm 6.2-6.3 vs 11.8-12.9 ms (a row reduction of
    a Fortran-ordered 2048x4096 array alike: var 3.0 vs 4.8-5.6, layer norm 8.1-8.3 vs
    12.6-13.2 ms). A sweep that calls vector math is bound by it, not by memory, and gains from
    pieces of 512 (column softmax, float32, one thread against two: 2048x2048 13.0 vs 10.4
    ms, 4096x1024 13.0 vs 10.6, but 8192x512 13.0 vs 17.0; ``np.log(np.exp(x -
    x.max(0)).sum(0))`` 2048x2048 9.9 vs 6.6). A row softmax of a Fortran-ordered 8x512x512
    float32 array sweeps with the axis of 8 innermost: 2.9 ms on one thread, 7.6 on two."""
    if not kernel.reduce_axes or not kernel.outer_axes or order[-1] not in kernel.outer_axes:
        return True
    inside = order[order.index(kernel.outer_axes[0]):]
    if len(inside) == len(order):
        return True
    piece = 1
    for axis in inside:
        size = kernel.domain[axis]
        if not isinstance(size, int):
            return False
        piece *= size
    least = SWEEP_SPLIT_PIECE_MATH if math_call_cost(kernel) else SWEEP_SPLIT_PIECE
    return piece // num_threads >= least


@dataclass(frozen=True)
class KernelLayout:
    """A reduction kernel with kept axes as compiled for one memory order of its domain
    (emit_kernel's ``layout``): the callable that launches it, whether it may split across
    threads, and ``kept``, the memory order of its accumulator arrays over the kept axes, or
    None where it does not sweep (it then takes one-element stand-ins)."""

    kernel: Any
    order: tuple[int, ...]  # the memory order of the domain it loops in, outermost axis first
    kept: tuple[int, ...] | None
    splits: bool  # whether its launch may split across threads (``splits_well``)

    def __str__(self) -> str:
        how = "sweeps into accumulator arrays" if self.kept is not None else "passes per kept index"
        return f"loops in memory order {self.order}: {how}"


def kernel_layout(kernel: Kernel, order: tuple[int, ...], launcher: Any, num_threads: int) -> KernelLayout:
    """``kernel`` run in memory ``order`` by ``launcher``."""
    kept = tuple(kernel.outer_axes.index(axis) for axis in order if axis in kernel.outer_axes)
    sweeps = order[-1] in kernel.outer_axes
    return KernelLayout(launcher, order, kept if sweeps else None, splits_well(kernel, order, num_threads))


def lay_out(kernel: Kernel, default: KernelLayout, compile_order: Callable[[Kernel, tuple[int, ...]], Any],
            make: Callable[[int], Any], num_threads: int, decided: list, operands: tuple) -> KernelLayout:
    """On a first call: the kernel's code for its operands' memory order (layouts are fixed per
    compiled entry: guards), compiled now if it is not C order (``compile_order`` gives the
    function's address), kept in ``decided[0]``."""
    order = domain_order(kernel, operands)
    laid = default
    if order != default.order:
        laid = kernel_layout(kernel, order, make(compile_order(kernel, order)), num_threads)
    decided[0] = laid
    return laid


def decided_layouts(namespace: dict) -> dict[str, list]:
    """Kernel name -> the list that holds its KernelLayout once a first call decided it, from a
    wrapper's globals."""
    return {name[len(_DECIDED):]: value for name, value in namespace.items() if name.startswith(_DECIDED)}


_DECIDED = "_loops_"  # + kernel name: a wrapper global [KernelLayout | None]


class WrapperBuilder(ProgramBuilder):
    """After ``build()``, ``globals`` holds the kernels (ctypes), their dims arrays and the pool;
    ``namespace()`` is everything the generated text needs."""

    def __init__(self, kernel_graph: KernelGraph, addresses: dict[Kernel, int], pool: Any,
                 num_threads: int, parallel_threshold: int, splits: dict[Kernel, SplitReduction],
                 reuse_outputs: bool, fused: dict[Node, Any],
                 accumulators: dict[Kernel, list[np.dtype]] | None = None, trampoline: int | None = None,
                 relayout: Callable[[Kernel, tuple[int, ...]], int] | None = None):
        super().__init__(kernel_graph, reuse_outputs)
        self.relayout = relayout  # a kernel's address compiled for another memory order (on first calls)
        self.fused = fused
        self.addresses = addresses
        self.trampoline = trampoline  # the module's builtin-call trampoline (launch.py), if it has one
        self.splits = splits
        self.accumulators = accumulators or {}
        self.pool = pool
        self.num_threads = num_threads
        self.threshold = parallel_threshold
        self.globals: dict[str, Any] = {}

    def namespace(self) -> dict[str, Any]:
        references = {name: node.op.reference for name, node in self.references.items()}
        return {"_empty": np.empty, "_asarray": np.asarray, "_dims": _dims, "_dims_made": _DIMS_MADE,
                **self.constants, **references,
                **self.globals}

    def allocate(self, kernel: Kernel, node: Node, buffer: str, loaded: list[str], indent: str = "    ") -> None:
        """A fresh output in the memory order NumPy would give it (codegen/layouts.py), decided on
        the first call: C order (the default lines) unless the operands make NumPy choose another."""
        if node.meta.ndim < 2 or not loaded:
            super().allocate(kernel, node, buffer, loaded, indent)
            return
        order = self._decide_order(kernel, node, buffer, loaded, indent)
        self.lines.append(f"{indent}if {order}:")
        self.lines.append(f"{indent}    {buffer} = _empty_in_order({node.meta.shape!r}, "
                          f"{self.constant(node.meta.dtype)}, {order})")
        self.lines.append(f"{indent}else:")
        super().allocate(kernel, node, buffer, loaded, indent + "    ")

    def take_over(self, kernel: Kernel, node: Node, buffer: str, dead: Node, loaded: list[str], when: str
                  ) -> list[str]:
        """The dead value's array keeps its strides: after the launch, the rare output that NumPy
        would lay out otherwise is copied into that layout (codegen/layouts.py)."""
        if node.meta.ndim < 2:  # a fresh 1-D array is contiguous, as is every dead value's here
            return super().take_over(kernel, node, buffer, dead, loaded, when)
        order = self._decide_order(kernel, node, buffer, loaded, "    ")
        super().take_over(kernel, node, buffer, dead, loaded, when)
        self.globals["_in_layout"] = in_layout
        self.globals[f"_laid_{buffer}"] = [False]  # True once the first call found NumPy's layout
        return [f"    {buffer} = _in_layout({buffer}, {order}, _laid_{buffer})  # itself, unless NumPy lays it "
                "out otherwise"]

    def piece(self, kernel: Kernel, domain: tuple[int, ...]) -> Kernel:
        piece = super().piece(kernel, domain)
        self.addresses[piece] = self.addresses[kernel]
        return piece

    def _decide_order(self, kernel: Kernel, node: Node, buffer: str, loaded: list[str], indent: str) -> str:
        """Append the lines that set ``o_<buffer>`` to NumPy's memory order for ``node``; return
        that name."""
        decided, decide = f"_order_{buffer}", f"_decide_{buffer}"
        self.globals[decided] = [None]  # the operands' layouts are fixed per compiled entry (guards)
        self.globals[decide] = functools.partial(eager_order, kernel, node)
        self.globals["_empty_in_order"] = empty_in_order
        order = f"o_{buffer}"
        self.lines.append(f"{indent}{order} = {decided}[0]")
        self.lines.append(f"{indent}if {order} is None:")
        self.lines.append(f"{indent}    {order} = {decided}[0] = {decide}(({', '.join(loaded)},))"
                          f"  # NumPy's memory order for this output")
        return order

    def extern(self, node: Node) -> None:
        """An extern node the backend runs as one own kernel (``fused``: attention) is called as such."""
        if node not in self.fused:
            super().extern(node)
            return
        name, function = f"v_{self.ident(node)}", f"_fused_{self.ident(node)}"
        self.globals[function] = self.fused[node]
        args = [self.render(a) for a in node.args]
        if self._writes_into_cache(node):  # (the own matrix product writes into it, as BLAS would)
            args.append(self.reused_out(node))
        self.lines.append(f"    {name} = {function}({', '.join(args)})  # {self.fused[node]!r}")
        self.values[node] = name

    def launch(self, kernel: Kernel, operands: list[str]) -> None:
        split = self.splits.get(kernel)
        split_axes = kernel.reduce_axes if split else kernel.outer_axes
        extent = kernel.domain[split_axes[0]] if split_axes else 1
        dims = self.dims_array(kernel.name, (0, extent, -1, *kernel.domain))
        splittable = (self.pool is not None and self.num_threads > 1
                      and (extent > 1 if isinstance(extent, int) else True))  # a Dim is >= 2
        threshold = self.threshold // (1 + math_call_cost(kernel))  # elements above which a split pays
        if split is not None and split.passes > 1 and not math_call_cost(kernel):
            # Each pass pays a split, and a plain pass over data that fits in cache is short: two
            # threads against one, float32, x / x.sum() 1.1M elements 480 vs 325 us, 1.6M 528 vs
            # 609 us; (x - x.mean()) / x.std() 1.3M 889 vs 675 us, 1.6M 739 vs 840 us.
            threshold = threshold * 3 // 2
        short = is_static(kernel.domain) and kernel.size < BUILTIN_CALL_LIMIT
        if short and self.trampoline is not None and not (splittable and kernel.size >= threshold):
            make: Callable[[int], Any] = functools.partial(builtin_kernel, self.trampoline)
        else:
            make = KERNEL_TYPE
        laid = None  # the name of the kernel's layout, where decided on the first call
        if kernel in self.accumulators:
            function, names, laid = self._laid_out(kernel, operands, make)
            operands = operands + names
        else:
            function = f"_{kernel.name}"
            self.globals[function] = make(self.addresses[kernel])
        if laid is None:
            splittable = splittable and splits_well(kernel, tuple(range(len(kernel.domain))), self.num_threads)

        def parallel(indent: str) -> list[str]:
            if laid is None:
                return self.parallel(kernel, function, operands, split, extent, dims, indent)
            inner = indent + "    "  # (the decided layout says whether a split pays)
            return [f"{indent}if {laid}.splits:",
                    *self.parallel(kernel, function, operands, split, extent, dims, inner),
                    f"{indent}else:", *self.serial(function, operands, split, dims, inner)]
        if is_static(kernel.domain):
            if splittable and kernel.size >= threshold:
                self.lines.extend(parallel("    "))
            else:
                self.lines.extend(self.serial(function, operands, split, dims, "    "))
        elif splittable:  # dynamic dimensions: whether to split is decided per call
            size = " * ".join(f"({d!r})" if isinstance(d, Dim) and d.affine else repr(d) for d in kernel.domain)
            self.lines.append(f"    if {size} >= {threshold}:")
            self.lines.extend(parallel("        "))
            self.lines.append("    else:")
            self.lines.extend(self.serial(function, operands, split, dims, "        "))
        else:
            self.lines.extend(self.serial(function, operands, split, dims, "    "))

    def _laid_out(self, kernel: Kernel, operands: list[str], make: Callable[[int], Any]
                  ) -> tuple[str, list[str], str | None]:
        """The launch's callable and accumulator arrays of a reduction kernel with kept axes: its
        C-order code, or, decided on the first call (``relayout``), code compiled then for the
        operands' memory order (a row softmax of a Fortran-ordered array sweeps into
        accumulators; its code for C order, per row, strides across memory). Short kernels keep
        C order (``SWEEP_ACCUMULATORS_LEAST``). Also the name of the decided layout, if any."""
        dtypes = tuple(self.accumulators[kernel])
        kept_shape = tuple(kernel.domain[a] for a in kernel.outer_axes)
        names = [f"a_{kernel.name}_{i}" for i in range(len(dtypes))]
        stand_ins = tuple(np.empty(1, dtype) for dtype in dtypes)
        c_order = tuple(range(len(kernel.domain)))
        launcher = make(self.addresses[kernel])

        def c_accumulators(indent: str, why: str) -> None:
            for name, dtype, stand_in in zip(names, dtypes, stand_ins, strict=True):
                if c_order[-1] in kernel.outer_axes:  # C order's innermost axis is kept: it sweeps
                    self.scratch(name, kept_shape, dtype, "accumulators over the kept axes", indent)
                else:
                    self.lines.append(f"{indent}{name} = {self.constant(stand_in)}  # a stand-in: {why}")
        if self.relayout is None or is_static(kernel.domain) and kernel.size < SWEEP_ACCUMULATORS_LEAST:
            function = f"_{kernel.name}"
            self.globals[function] = launcher
            c_accumulators("    ", "no sweep in C order")
            return function, names, None
        default = kernel_layout(kernel, c_order, launcher, self.num_threads)
        decided, decide = f"{_DECIDED}{kernel.name}", f"_decide_loops_{kernel.name}"
        self.globals[decided] = [None]
        self.globals[f"_c_loops_{kernel.name}"] = default
        self.globals[decide] = functools.partial(lay_out, kernel, default, self.relayout, make, self.num_threads,
                                                 self.globals[decided])
        self.globals["_empty_in_order"] = empty_in_order
        laid = f"l_{kernel.name}"
        self.lines += [f"    {laid} = {decided}[0]",
                       f"    if {laid} is None:  # the first call: loops in the operands' memory order",
                       f"        {laid} = {decide}(({', '.join(operands)},))",
                       f"    if {laid} is _c_loops_{kernel.name}:  # C order"]
        c_accumulators("        ", "C order runs per kept index")
        self.lines.append(f"    elif {laid}.kept is None:")
        self.lines += [f"        {name} = {self.constant(stand_in)}  # a stand-in: no sweep in this order"
                       for name, stand_in in zip(names, stand_ins, strict=True)]
        self.lines.append("    else:")
        self.lines += [f"        {name} = _empty_in_order({kept_shape!r}, {self.constant(dtype)}, {laid}.kept)"
                       for name, dtype in zip(names, dtypes, strict=True)]
        return f"{laid}.kernel", names, laid

    def dims_array(self, kernel_name: str, sizes: tuple) -> str:
        """The int64 dims array: a constant for static sizes, else made per call from the sizes
        the inputs have (``d_<kernel>``)."""
        if is_static(sizes):
            self.globals[f"_dims_{kernel_name}"] = np.array(sizes, dtype=np.int64)
            return f"_dims_{kernel_name}"
        key = f"({', '.join(map(repr, sizes))})"
        self.lines.append(f"    d_{kernel_name} = _dims_made.get({key})")
        self.lines.append(f"    if d_{kernel_name} is None:")
        self.lines.append(f"        d_{kernel_name} = _dims({key})")
        return f"d_{kernel_name}"

    def serial(self, function: str, operands: list[str], split: SplitReduction | None, dims: str, indent: str
               ) -> list[str]:
        # The whole-reduction mode never touches the split's buffers: one-element stand-ins.
        stand_ins = [self.constant(np.empty(1, dtype)) for dtype in _split_buffers(split)]
        return [f"{indent}{function}(({', '.join(operands + stand_ins)}, {dims}))"]

    def parallel(self, kernel: Kernel, function: str, operands: list[str], split: SplitReduction | None,
                 extent: Any, dims: str, indent: str) -> list[str]:
        self.globals["_pool"] = self.pool
        if split is None:
            return [f"{indent}_pool.parallel_for({function}, ({', '.join(operands)},), {dims}, {self.num_threads})"]
        # Per pass: a chunk of the first reduced axis per thread, each into its own partial
        # accumulators; then, where the pass finishes reductions, one call that combines them.
        lines = []
        if isinstance(extent, int):
            chunks: int | str = self.pool.chunk_count(0, extent, self.num_threads)
        else:  # counted per call: a name in the generated text
            chunks = f"c_{kernel.name}"
            lines.append(f"{indent}{chunks} = _pool.chunk_count(0, {extent!r}, {self.num_threads})")
        names = [f"p_{kernel.name}_{i}" for i in range(len(split.partials))]
        lines += [f"{indent}{name} = _empty({chunks}, {self.constant(dtype)})"
                  for name, dtype in zip(names, split.partials, strict=True)]
        if split.finished_bytes:
            names.append(f"f_{kernel.name}")
            uint8 = self.constant(np.dtype(np.uint8))
            lines.append(f"{indent}f_{kernel.name} = _empty({split.finished_bytes}, {uint8})"
                         "  # the finished reductions, for later passes")
        tuple_text = ", ".join(operands + names)
        for p in range(split.passes):
            each = self._pass_dims(kernel, f"{dims}_pass{p}", (0, extent, -1, *kernel.domain, p))
            lines.append(f"{indent}_pool.parallel_for({function}, ({tuple_text},), {each}, {self.num_threads})")
            if p in split.combined:
                combine = self._pass_dims(kernel, f"{dims}_combine{p}", (0, chunks, -2, *kernel.domain, p))
                lines.append(f"{indent}{function}(({tuple_text}, {combine}))")
        return lines

    def _pass_dims(self, kernel: Kernel, name: str, sizes: tuple) -> str:
        """A split pass's dims: a constant for static sizes, else made per call."""
        if is_static(kernel.domain) and isinstance(sizes[1], int):
            self.globals[name] = np.array(sizes, dtype=np.int64)
            return name
        return f"_dims(({', '.join(map(str, sizes))}))"


def _split_buffers(split: SplitReduction | None) -> list[np.dtype]:
    if split is None:
        return []
    return [*split.partials, *([np.dtype(np.uint8)] if split.finished_bytes else [])]


_DIMS_MADE: dict[tuple, np.ndarray] = {}


def _dims(sizes: tuple) -> np.ndarray:
    """The dims array for sizes known only at run time, made once per distinct tuple (the
    generated code looks in ``_DIMS_MADE`` first: ~0.05 us, against ~0.35 us to make one);
    read-only, so threads may share it."""
    array = _DIMS_MADE.get(sizes)
    if array is None:
        if len(_DIMS_MADE) >= 4096:
            _DIMS_MADE.clear()
        array = np.array(sizes, dtype=np.int64)
        array.flags.writeable = False
        _DIMS_MADE[sizes] = array
    return array


def build_wrapper(kernel_graph: KernelGraph, addresses: dict[Kernel, int], *, pool: Any = None,
                  num_threads: int = 1, parallel_threshold: int = 1 << 20,
                  splits: dict[Kernel, SplitReduction] | None = None,
                  reuse_outputs: bool = False, fused: dict[Node, Any] | None = None,
                  accumulators: dict[Kernel, list[np.dtype]] | None = None,
                  trampoline: int | None = None,
                  relayout: Callable[[Kernel, tuple[int, ...]], int] | None = None) -> tuple[Any, str, dict]:
    """(the ``run(inputs)`` function, its source, its globals); ``splits``: how kernels that
    split a full reduction run split (recorded by emit_kernel);
    ``fused``: extern nodes run by an own kernel (a callable taking the node's arguments);
    ``trampoline``: the address of the module's trampoline for short kernels (launch.py);
    ``relayout(kernel, order)``: the address of ``kernel`` compiled for another memory order
    (without it, reduction kernels run their C-order code whatever the layout)."""
    builder = WrapperBuilder(kernel_graph, addresses, pool, num_threads, parallel_threshold, splits or {},
                             reuse_outputs, fused or {}, accumulators, trampoline, relayout)
    source = builder.build()
    globals_ = builder.namespace()
    namespace = dict(globals_)
    exec(compile(source, "<ember wrapper>", "exec"), namespace)
    return namespace["run"], source, globals_
