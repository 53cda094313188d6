"""Copying a tile of an operand whose memory crosses a kernel's rows into a scratch tile laid out
along them (emit_kernel.py's tiled loops; ``x + x.T``): one function per element size in a
module, called by every kernel that stages, so that a kernel of five transposed views is not
five copies of this code (jacobi's cold compile: 1.06 s with the copy inlined, 0.4 s called).

``ember_stage_<size>(src, so, si, dst, rows, cols)`` sets ``dst[r * TILE + c]`` to the element
at ``src + r * so + c * si`` (byte strides) for ``r < rows``, ``c < cols``: a whole tile of 4-
or 8-byte elements whose columns run in memory (``so`` is the element size) by blocks of
``lanes`` x ``lanes`` transposed in registers, anything else element by element. Elements are
copied as integers of their size: the copy does not care what they hold.
"""
from __future__ import annotations

from .lowering import Builder
from .math import MathDeclarations

TILE = 32            # elements per side of the tiles of a kernel whose operand crosses its rows
VECTOR_BYTES = 32    # an AVX2 register: 8 x 8 float32 blocks, 4 x 4 float64 ones


def stage_function(decls: MathDeclarations, size: int, align: int) -> str:
    """The name of the module's staging function for elements of ``size`` bytes aligned to
    ``align`` in memory (complex64: 8 and 4), defined once per module."""
    name = f"ember_stage_{size}_{align}"
    if name not in decls.declarations:
        decls.declarations[name] = _definition(name, size, align, decls)
    return name


def scratch_type(size: int) -> str:
    """The alloca of a scratch tile (aligned for the vector stores)."""
    return f"[{TILE * TILE} x i{8 * size}], align {VECTOR_BYTES}"


def _definition(name: str, size: int, align: int, decls: MathDeclarations) -> str:
    b = Builder(decls)
    ty = f"i{8 * size}"

    def element(c: str, r: str) -> None:
        at = b.emit(f"add i64 {b.emit(f'mul i64 {r}, %so')}, {b.emit(f'mul i64 {c}, %si')}")
        value = b.emit(f"load {ty}, ptr {b.emit(f'getelementptr i8, ptr %src, i64 {at}')}, align {align}")
        place = b.emit(f"add i64 {b.emit(f'mul i64 {r}, {TILE}')}, {c}")
        b.line(f"store {ty} {value}, ptr {b.emit(f'getelementptr {ty}, ptr %dst, i64 {place}')}")

    if size in (4, 8):
        lanes = VECTOR_BYTES // size
        whole = b.emit(f"and i1 {b.emit(f'icmp eq i64 %rows, {TILE}')}, {b.emit(f'icmp eq i64 %cols, {TILE}')}")
        down = b.emit(f"icmp eq i64 %so, {size}")
        blocks, elements = b.fresh("blocks"), b.fresh("elements")
        b.line(f"br i1 {b.emit(f'and i1 {whole}, {down}')}, label {blocks}, label {elements}")
        b.label(blocks)
        count = str(TILE // lanes)
        b.loop("0", count, lambda jb: b.loop("0", count, lambda ib: _transposed_block(b, ty, align, lanes, ib, jb)))
        b.line("ret void")
        b.label(elements)
    b.loop("0", "%cols", lambda c: b.loop("0", "%rows", lambda r: element(c, r)))
    b.line("ret void")
    body = "\n".join(["entry:", *b.allocas, *b.lines])
    return (f"define internal void @{name}(ptr noalias %src, i64 %so, i64 %si, ptr noalias %dst, i64 %rows, "
            f"i64 %cols) noinline nounwind {{\n{body}\n}}")


def _transposed_block(b: Builder, ty: str, align: int, lanes: int, ib: str, jb: str) -> None:
    """Block (ib, jb): ``lanes`` vector loads down the source's columns, a transpose by shuffles,
    ``lanes`` vector stores along the scratch rows."""
    vector = f"<{lanes} x {ty}>"
    first_row, first_column = b.emit(f"mul i64 {ib}, {lanes}"), b.emit(f"mul i64 {jb}, {lanes}")
    start = b.emit(f"getelementptr {ty}, ptr %src, i64 {first_row}")
    rows = []
    for k in range(lanes):  # column k of the block: contiguous in the source
        column = b.emit(f"mul i64 {b.emit(f'add i64 {first_column}, {k}')}, %si")
        rows.append(b.emit(f"load {vector}, ptr {b.emit(f'getelementptr i8, ptr {start}, i64 {column}')}, "
                           f"align {align}"))
    for step, low, high in transpose_masks(lanes):
        shuffled = list(rows)
        for r in range(lanes):
            if r & step == 0:
                pair = f"{vector} {rows[r]}, {vector} {rows[r + step]}"
                shuffled[r] = b.emit(f"shufflevector {pair}, <{lanes} x i32> <{low}>")
                shuffled[r + step] = b.emit(f"shufflevector {pair}, <{lanes} x i32> <{high}>")
        rows = shuffled
    for m, row in enumerate(rows):  # row m of the block, along the scratch tile's rows
        row_index = b.emit(f"add i64 {first_row}, {m}")
        place = b.emit(f"add i64 {b.emit(f'mul i64 {row_index}, {TILE}')}, {first_column}")
        b.line(f"store {vector} {row}, ptr {b.emit(f'getelementptr {ty}, ptr %dst, i64 {place}')}")


def transpose_masks(lanes: int) -> list[tuple[int, str, str]]:
    """For each step (block size s = 1, 2, 4, ...) of an in-register transpose of ``lanes``
    vectors of ``lanes``: s and the shufflevector masks that make rows r and r+s (r & s == 0)
    from them: blocks of s swapped across the pair."""
    steps = []
    s = 1
    while s < lanes:
        low = [k if k & s == 0 else lanes + k - s for k in range(lanes)]
        high = [k + s if k & s == 0 else lanes + k for k in range(lanes)]
        steps.append((s, ", ".join(f"i32 {m}" for m in low), ", ".join(f"i32 {m}" for m in high)))
        s *= 2
    return steps
