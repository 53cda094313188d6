"""Where Triton kernels run, and how arrays reach them.

Two devices, one kernel source:

* :class:`HostDevice`: Triton's interpreter (``TRITON_INTERPRET=1``) on the CPU, used when
  no CUDA device is present (or the environment asks for the interpreter). Arrays are NumPy
  arrays; the kernels see them through CPU torch tensors made with ``torch.from_numpy``,
  which share memory, so in-place writes reach the caller's arrays.
* :class:`CupyDevice`: a real NVIDIA GPU. Arrays are CuPy arrays; kernels get their device
  pointers through a small object with ``data_ptr()`` and ``dtype``.

Every array reaches a kernel as a *carrier*: a pointer to its lowest-addressed element, the
element offset of its first element from there, and its element strides (negative strides
from ``flip`` and ``[::-1]`` included). Kernels index ``ptr + offset + sum(i * stride)``.

Which mode Triton runs in is decided once, before its JIT decorates our kernels; the
interpreter flag is set only while our generated modules are loaded, so other users of
Triton in the process are left alone.
"""
from __future__ import annotations

import functools
import os
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np


@functools.cache
def cuda_available() -> bool:
    """Whether kernels can run on a real GPU (torch or CuPy sees a CUDA device)."""
    try:
        import torch

        if torch.cuda.is_available():
            return True
    except ImportError:
        pass
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def use_interpreter() -> bool:
    """``TRITON_INTERPRET=1`` in the environment, or no GPU: run kernels in the interpreter."""
    flag = os.environ.get("TRITON_INTERPRET")
    if flag is not None and flag not in ("", "0"):
        return True
    return not cuda_available()


def require_triton(check_runnable: bool = True) -> Any:
    """Import triton and torch (the interpreter's carriers), or raise an ImportError that says
    how to install them."""
    interpret = use_interpreter()
    if interpret and "triton" not in sys.modules:
        # Triton decorates its own library functions (tl.sum, ...) at import: the interpreter
        # flag must be set before the first import.
        os.environ["TRITON_INTERPRET"] = "1"
    try:
        import torch  # noqa: F401
        import triton
    except ImportError as error:
        raise ImportError("the triton backend needs `triton` and `torch` (on a CPU-only machine: "
                          "pip install torch==2.13.0 triton, or the ember[triton-interpret] extra); "
                          f"{error}") from error
    if check_runnable and interpret and not _imported_for_interpreter(triton):
        raise ImportError("triton was imported before Ember could select its interpreter "
                          "(no GPU here): set TRITON_INTERPRET=1 before importing triton")
    return triton


def _imported_for_interpreter(triton: Any) -> bool:
    from triton.runtime.interpreter import InterpretedFunction

    return isinstance(triton.language.standard.sum, InterpretedFunction)


@dataclass(frozen=True, slots=True)
class Carrier:
    """How a kernel sees one array: base pointer object, element offset, element strides."""

    pointer: Any
    offset: int
    strides: tuple[int, ...]
    contiguous: bool


def _span(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> tuple[int, int]:
    """(bytes from the lowest element to the first, bytes from the lowest to one past the highest)."""
    below = sum((n - 1) * -s for n, s in zip(shape, strides, strict=True) if s < 0 and n > 0)
    above = sum((n - 1) * s for n, s in zip(shape, strides, strict=True) if s > 0 and n > 0)
    return below, below + above + itemsize


class HostDevice:
    """NumPy arrays run by Triton's interpreter through CPU torch tensors (shared memory)."""

    name = "interpreter"
    interpret = True
    programs = 4  # a reduction on fewer programs splits its columns (launch.split_columns): tested here
    whole_rows = 16384  # rows of at most this many columns are loaded once (the tests set 0 to loop)

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.empty = np.empty

    def carrier(self, value: Any) -> Carrier:
        array = np.asarray(value)
        if array.ndim == 0:
            array = array.reshape(1)
        itemsize = array.dtype.itemsize
        if any(s % itemsize for s in array.strides):
            raise ValueError("array strides are not a multiple of its item size")
        below, span = _span(array.shape, array.strides, itemsize)
        pairs = zip(array.shape, array.strides, strict=True)
        lowest = array[tuple(slice(n - 1, n) if s < 0 else slice(0, 1) for n, s in pairs)]
        flat, offset = _whole_buffer(array, lowest)
        if flat is None:
            flat, offset = np.lib.stride_tricks.as_strided(lowest, shape=(span // itemsize,), strides=(itemsize,)), 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # read-only inputs (broadcast views): only read
            tensor = self.torch.from_numpy(flat)
        return Carrier(tensor, offset + below // itemsize, tuple(s // itemsize for s in array.strides),
                       bool(array.flags.c_contiguous))


def _whole_buffer(array: np.ndarray, lowest: np.ndarray) -> tuple[np.ndarray | None, int]:
    """The whole contiguous array ``array`` views, flat, and the element offset of ``array``'s
    lowest element in it; (None, 0) where there is none of its dtype. Every view of one array
    then reaches the interpreter as one storage of one size (it keys its host copies by start
    address: two views starting at one address with different spans collided)."""
    base = array
    while isinstance(base.base, np.ndarray):
        base = base.base
    if base.dtype != array.dtype or not (base.flags.c_contiguous or base.flags.f_contiguous) or base.size == 0:
        return None, 0
    flat = base.reshape(-1, order="A")
    start = flat.__array_interface__["data"][0]
    offset, misaligned = divmod(lowest.__array_interface__["data"][0] - start, array.itemsize)
    return (flat, offset) if not misaligned and 0 <= offset < flat.size else (None, 0)


class _DevicePointer:
    """What Triton needs of a kernel argument that points at device memory; it holds the array
    (one CuPy made from a NumPy scalar, say) until the launch is queued."""

    __slots__ = ("address", "dtype", "array")

    def __init__(self, address: int, dtype: np.dtype, array: Any):
        self.address = address
        self.dtype = dtype  # Triton reads str(dtype) ('float32', 'bool', ...)
        self.array = array

    def data_ptr(self) -> int:
        return self.address


class CupyDevice:
    """CuPy arrays on an NVIDIA GPU (the compiled kernels, not the interpreter)."""

    name = "cuda"
    interpret = False
    whole_rows = 4096  # rows of at most this many columns are loaded once (launch.py's largest block)

    def __init__(self) -> None:
        import cupy

        self.cupy = cupy
        self.empty = cupy.empty
        # Programs that keep every multiprocessor busy: fewer split a reduction's columns.
        self.programs = 4 * cupy.cuda.Device().attributes["MultiProcessorCount"]

    def carrier(self, value: Any) -> Carrier:
        array = value if type(value) is self.cupy.ndarray else self.cupy.asarray(value)
        if array.flags.c_contiguous and array.ndim:  # (the common case, per launch: no negative strides)
            itemsize = array.itemsize
            return Carrier(_DevicePointer(array.data.ptr, array.dtype, array), 0,
                           tuple(s // itemsize for s in array.strides), True)
        if array.ndim == 0:
            array = array.reshape(1)
        itemsize = array.dtype.itemsize
        below, _ = _span(array.shape, array.strides, itemsize)
        pointer = _DevicePointer(array.data.ptr - below, array.dtype, array)
        return Carrier(pointer, below // itemsize, tuple(s // itemsize for s in array.strides),
                       bool(array.flags.c_contiguous))


# NumPy functions that make a NumPy array of their argument (they do not dispatch): CuPy refuses
# the implicit conversion with a TypeError.
HOST_CONVERSIONS = frozenset({np.asarray, np.asanyarray, np.array, np.ascontiguousarray, np.asfortranarray,
                              np.asarray_chkfinite})


def cupy_refusal(fn: Any) -> str | None:
    """Why eager CuPy raises where NumPy's ``fn`` is called on CuPy arrays, or None: ``fn``
    converts them to NumPy arrays, or it is not a public NumPy callable CuPy has a counterpart of
    (found by the same module path: ``np.linalg.norm`` -> ``cupy.linalg.norm``), which NumPy's
    dispatch would call. (CuPy is imported: its arrays exist.)"""
    name = getattr(fn, "__name__", repr(fn))
    path = (getattr(fn, "__module__", None) or "").split(".")
    spelled = ".".join(["np", *path[1:], name] if path[0] == "numpy" else [*path, name])
    if fn in HOST_CONVERSIONS:
        return f"{spelled} of a CuPy array (eager CuPy raises TypeError: it converts to NumPy only explicitly)"
    numpy_module: Any = np if path[0] == "numpy" else None
    cupy_module: Any = sys.modules["cupy"]
    for part in path[1:]:
        numpy_module, cupy_module = getattr(numpy_module, part, None), getattr(cupy_module, part, None)
    if getattr(numpy_module, name, None) is not fn or not hasattr(cupy_module, name):
        return f"{spelled}, which CuPy does not provide (eager CuPy raises TypeError)"
    return None


def is_device_array(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "cupy"
