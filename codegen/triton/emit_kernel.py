"""One fused kernel -> one ``@triton.jit`` function, as readable Python source.

Arguments, in order: for each operand (loads, then stores) its carrier pointer ``p<i>``,
element offset ``o<i>`` and one element stride ``s<i>_<axis>`` per domain axis it moves
along; then the domain sizes ``n<axis>``; then the flattened sizes; then constexpr flags and
block sizes. Sizes and strides are run-time values: a new batch size needs no new kernel.

Elementwise kernel (no reduced axes)::

    flat = program_id * BLOCK + arange(BLOCK); mask = flat < N
    CONTIG (constexpr): every full-shape operand C-contiguous -> its address is o + flat
    else: flat -> multi-index by div/mod over the sizes; address = o + sum(i * s)

Reduction kernel: rows are the outer axes flattened, columns the reduced axes flattened.
One program owns ``BLOCK_R`` rows and walks their columns in ``BLOCK_C`` chunks, once per
level of reduction (softmax: max, then sum, then the output), with vector accumulators in
the accumulation dtype (float32 for float16) reduced by ``tl.sum``/``tl.max``/``tl.reduce``
after the loop. Per-row values (the reductions and what depends only on them) have shape
``[BLOCK_R, 1]`` and broadcast against the ``[BLOCK_R, BLOCK_C]`` chunk. Two variants of a
reduction kernel, chosen at launch (launch.py): rows of at most BLOCK_C columns are loaded
once and every pass works in registers (``_rows``); few long rows (a whole-array sum) split
their columns over programs (``_partial``, then ``_combine``).
"""
from __future__ import annotations

import typing
from dataclasses import dataclass, field

import numpy as np

from ...ir import Node, OpKind
from ...passes.kernels import Kernel, Store, StoreKind
from .lowering import BOOL, F16, F32, Block, Unsupported, cast, divide, literal, lower_elementwise, tl_type

SUPPORTED_REDUCTIONS = ("sum", "prod", "max", "min", "mean", "any", "all")


@dataclass(eq=False)
class Operand:
    """An array the kernel reads or writes, and which domain axes it moves along."""

    index: int
    node: Node
    dtype: np.dtype
    axes: tuple[int, ...]
    broadcast: tuple[bool, ...]
    store: Store | None = None

    @property
    def moving(self) -> list[tuple[int, int]]:
        """(dim of the array, domain axis) for every dim with a real stride."""
        return [(j, a) for j, (a, b) in enumerate(zip(self.axes, self.broadcast, strict=True)) if not b]

    def stride_params(self) -> list[str]:
        return [f"s{self.index}_{a}" for _, a in self.moving]


@dataclass(eq=False)
class KernelSource:
    """The generated text of one kernel and what its launcher needs to call it."""

    kernel: Kernel
    name: str
    text: str
    operands: list[Operand]
    reduction: bool
    identity_operands: list[int] = field(default_factory=list)  # indices that may use CONTIG
    header: str = ""  # the fused kernel as comments (shapes included; kept out of ``text``)
    # A reduction's variants are in ``text`` too: ``<name>_rows`` (rows that fit one block of
    # columns), and in split mode (few, long rows) ``<name>_partial`` and ``<name>_combine``, with
    # one scratch array of partial values per reduction, of these dtypes.
    partials: list[np.dtype] = field(default_factory=list)

    @property
    def display(self) -> str:
        return f"{self.header}\n{self.text}"


def _memory_root(node: Node) -> Node:
    """The value whose memory ``node`` (a view or an in-place update of it) is."""
    while node.op.kind in (OpKind.VIEW, OpKind.MUTATION):
        node = node.args[0]
    return node


def identifier(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def reduction_accumulator(node: Node) -> np.dtype:
    """The dtype a reduction accumulates in: its result's, float32 for float16."""
    dtype = node.meta.dtype
    if node.op.name in ("any", "all"):
        return BOOL
    return F32 if dtype == F16 else dtype


def check_reduction(node: Node) -> None:
    if node.op.name not in SUPPORTED_REDUCTIONS:
        raise Unsupported(f"reduction {node.op.name}")
    if set(node.kwargs) - {"axis", "keepdims", "dtype"} or node.kwargs.get("dtype") is not None \
            and np.dtype(node.kwargs["dtype"]) != node.meta.dtype:
        raise Unsupported(f"{node.op.name} with {sorted(node.kwargs)}")
    if len(node.args) != 1 or not isinstance(node.args[0], Node):
        raise Unsupported("reduction of a constant")
    tl_type(reduction_accumulator(node))
    tl_type(node.args[0].meta.dtype)


class KernelEmitter:
    def __init__(self, kernel: Kernel, name: str):
        self.k = kernel
        self.name = name
        self.reduce = kernel.reduce_axes
        self.outer = kernel.outer_axes
        self.operands: list[Operand] = []
        self.load_of: dict[tuple[Node, tuple[int, ...]], Operand] = {}
        for load in kernel.loads:
            op = Operand(len(self.operands), load.node, load.node.meta.dtype, load.axes, load.broadcast)
            self.operands.append(op)
            self.load_of[(load.node, load.axes)] = op
        for store in kernel.stores:
            if store.kind is StoreKind.NEW:
                dtype, shape = store.node.meta.dtype, store.node.meta.shape
            else:
                assert store.setitem is not None  # a StoreKind.INTO store always has its setitem (fusion.py)
                dtype, shape = store.setitem.args[0].meta.dtype, kernel.domain
            tl_type(dtype)
            broadcast = tuple(d == 1 for d in shape)
            self.operands.append(Operand(len(self.operands), store.node, dtype, store.axes, broadcast, store))
        self.lines: list[str] = []
        self._levels()
        written = {_memory_root(op.store.setitem) for op in self.operands
                   if op.store is not None and op.store.setitem is not None}
        self.overwritten = [op for op in self.operands if op.store is None and _memory_root(op.node) in written]

    # ------------------------------------------------------------------ analysis
    def is_full_operand(self, op: Operand) -> bool:
        return any(a in self.reduce for _, a in op.moving)

    def operand_for(self, user: Node, arg: Node) -> Operand:
        axes, _ = self.k.load_mapping(user, arg)
        return self.load_of[(arg, axes)]

    def _levels(self) -> None:
        """full: the value varies along the reduced axes; level: how many reduction passes
        must have run before it can be computed."""
        self.full: dict[Node, bool] = {}
        self.level: dict[Node, int] = {}
        members = self.k.layouts
        for node in self.k.nodes:
            if node.op.kind is OpKind.REDUCTION:
                check_reduction(node)
                source = node.args[0]
                self.full[node] = False
                self.level[node] = (self.level[source] if source in members else 0) + 1
                continue
            full, level = False, 0
            for arg in node.input_nodes():
                if arg in members:
                    full |= self.full[arg]
                    level = max(level, self.level[arg])
                else:
                    full |= self.is_full_operand(self.operand_for(node, arg))
            self.full[node], self.level[node] = full, level
        self.passes = max((self.level[n] for n in self.k.nodes if n.op.kind is OpKind.REDUCTION), default=0)

    # ------------------------------------------------------------------ helpers
    def emit(self, text: str, indent: int) -> None:
        self.lines.append("    " * indent + text)

    def signature(self, split: str = "") -> list[str]:
        params = []
        for op in self.operands:
            params += [f"p{op.index}", f"o{op.index}", *op.stride_params()]
        params += [f"n{a}" for a in range(len(self.k.domain))]
        if self.reduce:
            params += ["ROWS", "COLS"]
            if split:  # (the scratch arrays, then how the columns are split)
                params += [f"q{i}" for i in range(len(self.reductions()))]
                params += ["SPLIT", "CHUNK"] if split == "partial" else ["SPLIT", "SPLIT_P2: tl.constexpr"]
            params += ["BLOCK_R: tl.constexpr", "BLOCK_C: tl.constexpr"]
        else:
            params += ["N", "CONTIG: tl.constexpr", "BLOCK: tl.constexpr"]
        return params

    def reductions(self, level: int = 1) -> list[Node]:
        """The reductions that take ``level`` passes over the columns (their source: level - 1)."""
        return [n for n in self.k.nodes if n.op.kind is OpKind.REDUCTION and self.level[n] == level]

    def full_stores(self, level: int) -> list[Operand]:
        """The stores along the columns made in pass ``level``: all in the last pass that loops
        over the columns (an earlier one would write memory a later pass may read), which is
        the last reduction's when no stored value needs it (``tanh(x)`` beside ``x.sum()``:
        read once, not twice)."""
        full = [op for op in self.operands if op.store is not None and self.full[op.store.node]]
        last = max([self.level[typing.cast(Store, op.store).node] for op in full] + [self.passes - 1])
        return full if level == last else []

    def splits(self) -> bool:
        """Whether split mode applies: one pass over the columns, which makes every store along
        them (what follows the reductions is per row, computed once their partials combine)."""
        return self.passes == 1 and not self.full_stores(1)

    def decompose(self, flat: str, axes: tuple[int, ...], prefix: str, indent: int) -> None:
        """``flat`` (C order over ``axes``) -> one index variable per axis."""
        if not axes:
            return
        if len(axes) == 1:
            self.emit(f"{prefix}{axes[0]} = {flat}", indent)
            return
        self.emit(f"rem = {flat}", indent)
        for a in reversed(axes[1:]):
            self.emit(f"{prefix}{a} = rem % n{a}", indent)
            self.emit(f"rem = rem // n{a}", indent)
        self.emit(f"{prefix}{axes[0]} = rem", indent)

    def address(self, op: Operand, axes: tuple[int, ...], prefix: str, zero: str = "0") -> str:
        """Element offset along ``axes``; ``zero`` gives it a block shape when nothing moves."""
        terms = [f"{prefix}{a} * s{op.index}_{a}" for _, a in op.moving if a in axes]
        return " + ".join(terms) if terms else zero

    def member(self, node: Node, scope: dict[Node, Block], indent: int, loads: dict[int, str], mask: str) -> Block:
        """Emit ``node`` (and what it needs) into the current scope; return its block."""
        if node in scope:
            return scope[node]
        values: list[Block | None] = []
        for arg in node.args:
            if isinstance(arg, Node):
                if arg in self.k.layouts:
                    values.append(self.member(arg, scope, indent, loads, mask))
                else:
                    values.append(self.load(node, arg, scope, indent, loads, mask))
            else:
                values.append(None)
        if any(isinstance(v, Node) for v in node.kwargs.values()):
            raise Unsupported("array-valued keyword argument")
        block = lower_elementwise(node, values)
        name = f"v_{identifier(node.name)}"
        self.emit(f"{name} = {block.expr}", indent)
        scope[node] = Block(name, block.dtype)
        return scope[node]

    def store(self, op: Operand, value: Block, address: str, mask: str, scope: dict, indent: int,
              loads: dict[int, str]) -> None:
        """``tl.store`` of ``value`` to ``op``; before the first in-place one, every load of memory
        an in-place store writes over is made (a load stands for the memory as the kernel found
        it: a value computed after the store still reads the old contents)."""
        if op.store is not None and op.store.setitem is not None:
            per_row = mask == "row_mask"
            for loaded in self.overwritten:
                if not (per_row and self.is_full_operand(loaded)):
                    self.load_operand(loaded, scope, indent, loads, mask)
        self.emit(f"tl.store(p{op.index} + {address}, {cast(value, op.dtype).expr}, mask={mask})", indent)

    def load(self, user: Node, arg: Node, scope: dict, indent: int, loads: dict[int, str], mask: str) -> Block:
        return self.load_operand(self.operand_for(user, arg), scope, indent, loads, mask)

    def load_operand(self, op: Operand, scope: dict, indent: int, loads: dict[int, str], mask: str) -> Block:
        key = ("load", op.index)
        if key not in scope:
            name = f"x{op.index}"
            full = self.is_full_operand(op) or not self.reduce
            self.emit(f"{name} = tl.load(p{op.index} + {loads[op.index]}, mask={mask if full else 'row_mask'})",
                      indent)
            scope[key] = Block(name, op.dtype)
        return scope[key]

    # ------------------------------------------------------------------ elementwise
    def elementwise(self) -> None:
        ndim = len(self.k.domain)
        identity = tuple(range(ndim))
        ident_ops = [op for op in self.operands if op.axes == identity and not any(op.broadcast)]
        other_ops = [op for op in self.operands if op not in ident_ops]
        self.identity = [op.index for op in ident_ops]
        self.emit("flat = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)", 1)
        self.emit("mask = flat < N", 1)
        loads: dict[int, str] = {}
        if other_ops:
            self.decompose("flat", identity, "i", 1)
            for op in other_ops:
                loads[op.index] = f"a{op.index}"
                self.emit(f"a{op.index} = o{op.index} + {self.address(op, identity, 'i', 'flat * 0')}", 1)
        if ident_ops:
            self.emit("if CONTIG:", 1)
            for op in ident_ops:
                self.emit(f"a{op.index} = o{op.index} + flat", 2)
            self.emit("else:", 1)
            if not other_ops:
                self.decompose("flat", identity, "i", 2)
            for op in ident_ops:
                self.emit(f"a{op.index} = o{op.index} + {self.address(op, identity, 'i', 'flat * 0')}", 2)
                loads[op.index] = f"a{op.index}"
        scope: dict = {}
        for op in self.operands:
            if op.store is not None:
                value = self.member(op.store.node, scope, 1, loads, "mask")
                self.store(op, value, f"a{op.index}", "mask", scope, 1, loads)

    # ------------------------------------------------------------------ reductions
    def rows(self, first_row: str = "tl.program_id(0).to(tl.int64) * BLOCK_R") -> dict[int, str]:
        """This program's rows and each operand's offset at them (the row loads)."""
        self.emit(f"row = {first_row} + tl.arange(0, BLOCK_R)[:, None]", 1)
        self.emit("row_mask = row < ROWS", 1)
        self.decompose("row", self.outer, "i", 1)
        for op in self.operands:
            self.emit(f"r{op.index} = o{op.index} + {self.address(op, self.outer, 'i', 'row * 0')}", 1)
        return {op.index: f"r{op.index}" for op in self.operands}

    def reduction(self, from_partials: bool = False) -> None:
        """Every pass over the columns, then the per-row values; ``from_partials`` (split mode's
        combine kernel): the first pass's reductions combine the partial values instead."""
        self.identity = []
        row_loads = self.rows()
        outer_scope: dict = {}
        stores = [op for op in self.operands if op.store is not None]
        for level in range(self.passes + 1):
            self.outer_values(level, outer_scope, row_loads, stores)
            reductions = self.reductions(level + 1)
            full_stores = self.full_stores(level)
            if from_partials and level == 0:  # (the partial kernel made this pass's stores)
                self.emit("part = tl.arange(0, SPLIT_P2)[None, :]", 1)
                for i, node in enumerate(reductions):
                    acc = f"acc_{identifier(node.name)}"
                    self.emit(f"{acc} = tl.load(q{i} + row * SPLIT + part, mask=row_mask & (part < SPLIT), "
                              f"other={self.accumulator_init(node)})", 1)
                    self.finish(node, acc, outer_scope)
                continue
            if not reductions and not full_stores:
                continue
            accs = self.column_loop("COLS", reductions, full_stores, outer_scope)
            for node in reductions:
                self.finish(node, accs[node], outer_scope)
        self.outer_values(self.passes + 1, outer_scope, row_loads, stores)

    def whole_rows(self) -> None:
        """The variant for rows of at most BLOCK_C columns: each row is loaded once, and every
        pass (softmax's max, sum and output) works on the values already in registers."""
        self.identity = []
        row_loads = self.rows()
        self.emit("col = tl.arange(0, BLOCK_C)[None, :].to(tl.int64)", 1)
        self.emit("mask = row_mask & (col < COLS)", 1)
        self.decompose("col", self.reduce, "j", 1)
        loads = {op.index: f"r{op.index} + {self.address(op, self.reduce, 'j')}" for op in self.operands}
        scope: dict = {}  # (an operand's load is the same expression per row and per column chunk)
        stores = [op for op in self.operands if op.store is not None]
        for level in range(self.passes + 1):
            self.outer_values(level, scope, row_loads, stores)
            for node in self.reductions(level + 1):
                source = node.args[0]
                value = (self.member(source, scope, 1, loads, "mask") if source in self.k.layouts
                         else self.load(node, source, scope, 1, loads, "mask"))
                acc = f"acc_{identifier(node.name)}"
                self.emit(f"{acc} = {self.masked(node, value)}", 1)
                self.finish(node, acc, scope)
            for op in self.full_stores(level):
                value = self.member(typing.cast(Store, op.store).node, scope, 1, loads, "mask")
                self.store(op, value, loads[op.index], "mask", scope, 1, loads)
        self.outer_values(self.passes + 1, scope, row_loads, stores)

    def partial_reduction(self) -> None:
        """Split mode's first kernel: program (r, s) runs the one pass over columns
        ``[s * CHUNK, (s + 1) * CHUNK)`` of its rows and stores each reduction's partial value
        (a mean's sum) at ``[row, s]`` of its scratch array."""
        self.rows()
        self.emit("part = tl.program_id(1).to(tl.int64)", 1)
        reductions = self.reductions()
        accs = self.column_loop("CHUNK", reductions, self.full_stores(0), {}, first_column="part * CHUNK + ")
        for i, node in enumerate(reductions):
            self.emit(f"tl.store(q{i} + row * SPLIT + part, {self.combined(node, accs[node])}[:, None], "
                      "mask=row_mask)", 1)

    def column_loop(self, count: str, reductions: list[Node], full_stores: list[Operand], outer_scope: dict,
                    first_column: str = "") -> dict[Node, str]:
        """One pass over ``count`` columns from ``first_column`` (an expression and a '+'; the
        row's first column if empty), in BLOCK_C chunks: accumulate ``reductions`` (returns their
        accumulators) and store ``full_stores``."""
        accs = {}
        for node in reductions:
            accs[node] = f"acc_{identifier(node.name)}"
            self.emit(f"{accs[node]} = tl.full([BLOCK_R, BLOCK_C], {self.accumulator_init(node)}, "
                      f"{tl_type(reduction_accumulator(node))})", 1)
        self.emit(f"for c0 in range(0, {count}, BLOCK_C):", 1)
        # (int64, as row: a column index times a stride passes 2**31 in a large array)
        self.emit(f"col = ({first_column}c0 + tl.arange(0, BLOCK_C)[None, :]).to(tl.int64)", 2)
        self.emit("mask = row_mask & (col < COLS)", 2)
        self.decompose("col", self.reduce, "j", 2)
        loads = {op.index: f"r{op.index} + {self.address(op, self.reduce, 'j')}" for op in self.operands}
        scope = dict(outer_scope)
        for node in reductions:
            source = node.args[0]
            if source in self.k.layouts:
                value = self.member(source, scope, 2, loads, "mask")
            else:
                value = self.load(node, source, scope, 2, loads, "mask")
            self.accumulate(node, value, accs[node])
        for op in full_stores:
            assert op.store is not None  # (full_stores are stores)
            value = self.member(op.store.node, scope, 2, loads, "mask")
            self.store(op, value, loads[op.index], "mask", scope, 2, loads)
        return accs

    def outer_values(self, level: int, scope: dict, loads: dict[int, str], stores: list[Operand]) -> None:
        """Store the per-row values that are available after ``level`` passes (once each)."""
        for op in stores:
            assert op.store is not None  # (the callers pass the operands that are stores)
            node = op.store.node
            if self.full[node] or self.level[node] > level or ("stored", op.index) in scope:
                continue
            value = self.member(node, scope, 1, loads, "row_mask")
            self.store(op, value, f"r{op.index}", "row_mask", scope, 1, loads)
            scope[("stored", op.index)] = True

    def accumulator_init(self, node: Node) -> str:
        dtype = reduction_accumulator(node)
        name = node.op.name
        if name in ("sum", "mean"):
            return "0"
        if name == "prod":
            return "1"
        if name in ("any", "all"):
            return "False" if name == "any" else "True"
        if dtype.kind == "f":
            return "-_INF" if name == "max" else "_INF"
        info = np.iinfo(dtype) if dtype.kind in "iu" else None
        if info is None:
            return "False" if name == "max" else "True"
        return literal(int(info.min if name == "max" else info.max))

    def masked(self, node: Node, value: Block) -> str:
        """``value`` in ``node``'s accumulator dtype, its identity where the mask is off."""
        name = node.op.name
        v = cast(value, reduction_accumulator(node) if name not in ("any", "all") else BOOL).expr
        return f"tl.where(mask, {v}, {self.accumulator_init(node)})"

    def accumulate(self, node: Node, value: Block, acc: str) -> None:
        dtype = reduction_accumulator(node)
        name = node.op.name
        masked = self.masked(node, value)
        if name in ("sum", "mean"):
            self.emit(f"{acc} += {masked}", 2)
        elif name == "prod":
            self.emit(f"{acc} *= {masked}", 2)
        elif name in ("any", "max") and dtype.kind != "f":
            self.emit(f"{acc} = tl.maximum({acc}, {masked})" if name == "max" else f"{acc} = {acc} | {masked}", 2)
        elif name in ("all", "min") and dtype.kind != "f":
            self.emit(f"{acc} = tl.minimum({acc}, {masked})" if name == "min" else f"{acc} = {acc} & {masked}", 2)
        else:
            which = "maximum" if name == "max" else "minimum"
            self.emit(f"{acc} = tl.{which}({acc}, {masked}, propagate_nan=tl.PropagateNan.ALL)", 2)

    def combined(self, node: Node, acc: str) -> str:
        """The expression that reduces accumulator ``acc``'s columns to one value per row."""
        name = node.op.name
        combine = {"sum": "tl.sum({0}, axis=1)", "mean": "tl.sum({0}, axis=1)",
                   "prod": "tl.reduce({0}, 1, _multiply)",
                   "any": "tl.reduce({0}, 1, _logical_or)", "all": "tl.reduce({0}, 1, _logical_and)"}
        if name in combine:
            return combine[name].format(acc)
        if reduction_accumulator(node).kind == "f":
            return f"tl.reduce({acc}, 1, _{'maximum' if name == 'max' else 'minimum'}_nan)"
        return f"tl.{name}({acc}, axis=1)"

    def finish(self, node: Node, acc: str, scope: dict) -> None:
        name = node.op.name
        dtype = reduction_accumulator(node)
        value = f"red_{identifier(node.name)}"
        self.emit(f"{value} = ({self.combined(node, acc)})[:, None]", 1)
        if name == "mean":
            self.emit(f"{value} = {divide(value, f'tl.full([1], COLS, {tl_type(dtype)})', dtype)}", 1)
        scope[node] = cast(Block(value, dtype if name not in ("any", "all") else BOOL), node.meta.dtype)
        if scope[node].expr != value:
            self.emit(f"{value} = {scope[node].expr}", 1)
            scope[node] = Block(value, node.meta.dtype)

    # ------------------------------------------------------------------ driver
    def function(self, name: str, params: list[str], body: typing.Callable[[], None]) -> str:
        start = len(self.lines)
        body()
        text = "\n".join(["@triton.jit", f"def {name}({', '.join(params)}):", *self.lines[start:]]) + "\n"
        del self.lines[start:]
        return text

    def build(self) -> KernelSource:
        text = self.function(self.name, self.signature(), self.reduction if self.reduce else self.elementwise)
        partials = []
        if self.reduce:
            text += "\n\n" + self.function(f"{self.name}_rows", self.signature(), self.whole_rows)
        if self.reduce and self.splits():
            text += "\n\n" + self.function(f"{self.name}_partial", self.signature("partial"), self.partial_reduction)
            text += "\n\n" + self.function(f"{self.name}_combine", self.signature("combine"),
                                            lambda: self.reduction(from_partials=True))
            partials = [reduction_accumulator(node) for node in self.reductions()]
        header = [f"# {line}" for line in str(self.k).splitlines()]
        return KernelSource(self.k, self.name, text, self.operands, bool(self.reduce), list(self.identity),
                            "\n".join(header), partials)


def emit_kernel(kernel: Kernel, name: str) -> KernelSource:
    """The Triton source of ``kernel`` (raises Unsupported for what it cannot lower exactly)."""
    if kernel.size == 0:
        raise Unsupported("empty domain")
    return KernelEmitter(kernel, name).build()


HELPERS = '''\
import triton
import triton.language as tl

# libdevice is bound by Ember's loader: triton.language.extra.libdevice on a GPU, NumPy's
# functions in Triton's interpreter (which cannot run libdevice calls).
_INF = tl.constexpr(float("inf"))


@triton.jit
def _maximum_nan(a, b):
    return tl.maximum(a, b, propagate_nan=tl.PropagateNan.ALL)


@triton.jit
def _minimum_nan(a, b):
    return tl.minimum(a, b, propagate_nan=tl.PropagateNan.ALL)


@triton.jit
def _multiply(a, b):
    return a * b


@triton.jit
def _logical_or(a, b):
    return a | b


@triton.jit
def _logical_and(a, b):
    return a & b
'''
