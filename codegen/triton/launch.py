"""Loading generated kernel modules and launching their kernels.

The module text (helpers + one ``@triton.jit`` function per kernel) is written to a file
named by its hash (Triton reads a kernel's source back through ``inspect``) and imported
once per process: the same text gives the same JIT functions, so Triton's own cache of
compiled kernels serves every graph and every batch size that shares them.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import threading
from typing import Any

from .emit_kernel import KernelSource

_MODULES: dict[tuple[str, bool], Any] = {}
_LOCK = threading.Lock()


def _directory(cache_dir: str | None) -> str:
    root = cache_dir or os.path.join(tempfile.gettempdir(), f"ember-{os.getuid() if hasattr(os, 'getuid') else 0}")
    path = os.path.join(root, "triton")
    os.makedirs(path, exist_ok=True)
    return path


def load_module(text: str, interpret: bool, cache_dir: str | None = None) -> Any:
    """Import the generated module ``text``, its kernels JIT-decorated for the interpreter or
    the GPU, with ``libdevice`` bound accordingly (see math.py)."""
    from .math import device_libdevice, interpreter_libdevice

    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    key = (digest, interpret)
    with _LOCK:
        if key in _MODULES:
            return _MODULES[key]
        path = os.path.join(_directory(cache_dir), f"ember_kernels_{digest}.py")
        if not os.path.exists(path):
            partial = f"{path}.{os.getpid()}.tmp"
            with open(partial, "w") as handle:
                handle.write(text)
            os.replace(partial, path)
        name = f"ember_triton_{digest}_{'i' if interpret else 'g'}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None  # (a .py path always gets a SourceFileLoader)
        module: Any = importlib.util.module_from_spec(spec)  # (given a global here: libdevice)
        module.libdevice = interpreter_libdevice() if interpret else device_libdevice()
        previous = os.environ.get("TRITON_INTERPRET")
        os.environ["TRITON_INTERPRET"] = "1" if interpret else "0"
        try:
            spec.loader.exec_module(module)
        finally:
            if previous is None:
                del os.environ["TRITON_INTERPRET"]
            else:
                os.environ["TRITON_INTERPRET"] = previous
        _MODULES[key] = module
        return module


def next_power_of_2(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())


def split_columns(rows: int, cols: int, block_r: int, block_c: int, programs: int) -> tuple[int, int] | None:
    """Split mode's (parts, columns per part) for a reduction whose row blocks alone would run on
    fewer than ``programs`` programs (a whole-array sum runs on one), or None where it does not
    pay: each part is a whole number of BLOCK_C chunks, at most 4096 parts."""
    row_blocks = -(-rows // block_r)
    chunks = -(-cols // block_c)
    parts = min(-(-programs // row_blocks), chunks, 4096)
    if parts < 2:
        return None
    chunk = -(-chunks // parts) * block_c
    return -(-cols // chunk), chunk


class Launcher:
    """Calls one kernel on a tuple of arrays (loads, then stores, in the kernel's order):
    carriers, strides, sizes and block sizes in, one Triton launch (two in split mode: the
    partial values of column ranges, then their combination and what follows per row)."""

    def __init__(self, source: KernelSource, function: Any, device: Any, variants: dict[str, Any] | None = None):
        self.source = source
        self.function = function
        self.device = device
        variants = variants or {}
        self.partial: Any = variants.get("partial")  # (split mode's kernels: present where self.split is)
        self.combine: Any = variants.get("combine")
        kernel = source.kernel
        self.sizes = tuple(int(d) for d in kernel.domain)
        self.moving = [tuple(j for j, _ in op.moving) for op in source.operands]
        self.identity = frozenset(source.identity_operands)
        interpret = device.interpret
        if source.reduction:
            rows = 1
            for a in kernel.outer_axes:
                rows *= kernel.domain[a]
            cols = kernel.size // rows
            block_c = min(next_power_of_2(cols), 16384 if interpret else 4096)
            block_r = min(next_power_of_2(rows), max(1, (16384 if interpret else 4096) // block_c))
            self.tail: tuple[int, ...] = (rows, cols)
            self.blocks = {"BLOCK_R": block_r, "BLOCK_C": block_c}
            self.grid = ((rows + block_r - 1) // block_r,)
            tile = block_r * block_c
            self.split = split_columns(rows, cols, block_r, block_c, device.programs) if source.partials else None
            if cols <= block_c <= device.whole_rows and "rows" in variants:  # (each row loaded once)
                self.function = variants["rows"]
        else:
            block = min(next_power_of_2(kernel.size), 8192 if interpret else 1024)
            self.tail = (kernel.size,)
            self.split = None
            self.blocks = {"BLOCK": block}
            self.grid = ((kernel.size + block - 1) // block,)
            tile = block
        self.tile = tile
        # No FMA contraction: a * b + c rounds twice, as in NumPy.
        self.options = {} if interpret else {"num_warps": 8 if tile >= 4096 else 4, "enable_fp_fusion": False}

    def __call__(self, arrays: tuple) -> None:
        args: list[Any] = []
        contiguous = True
        carrier = self.device.carrier
        for index, (dims, array) in enumerate(zip(self.moving, arrays, strict=True)):
            c = carrier(array)
            args.append(c.pointer)
            args.append(c.offset)
            args.extend(c.strides[j] for j in dims)
            if index in self.identity:
                contiguous = contiguous and c.contiguous
        args.extend(self.sizes)
        args.extend(self.tail)
        if self.split is not None:
            parts, chunk = self.split
            rows = self.tail[0]
            # (held here until both launches are queued: CuPy hands a freed array's memory to the
            # next one it makes)
            scratch = [self.device.empty((rows, parts), dtype) for dtype in self.source.partials]
            pointers = [self.device.carrier(array).pointer for array in scratch]
            self.partial[(self.grid[0], parts)](*args, *pointers, parts, chunk, **self.blocks, **self.options)
            self.combine[self.grid](*args, *pointers, parts, next_power_of_2(parts), **self.blocks, **self.options)
        elif self.source.reduction:
            self.function[self.grid](*args, **self.blocks, **self.options)
        else:
            self.function[self.grid](*args, CONTIG=contiguous, **self.blocks, **self.options)

    def options_for_compile(self) -> dict:
        return {"num_warps": 8 if self.tile >= 4096 else 4}

    def describe(self) -> str:
        blocks = ", ".join(f"{k}={v}" for k, v in self.blocks.items())
        if self.split is not None:
            return f"{self.source.name}: grid={self.grid} {blocks}, columns split in {self.split[0]} parts " \
                   f"of {self.split[1]} (_partial, then _combine)"
        return f"{self.source.name}: grid={self.grid} {blocks}"
