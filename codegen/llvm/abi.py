"""How a kernel receives its arrays: one ctypes ``py_object`` argument, a tuple of ndarrays.

A ctypes call costs ~0.1 us per argument, and ``arr.ctypes.data`` ~1 us per array; passing
one tuple and reading each array's data pointer and strides straight out of its
``PyArrayObject`` inside the kernel costs nothing per array. The field offsets are part of
NumPy's and CPython's stable layouts; they are *verified* on this process at import by
reading them back through ctypes, and if anything disagrees (a free-threaded build, an
exotic NumPy) :data:`OFFSETS` is None and compile_graph refuses (the runtime runs eagerly).

The last tuple item is an int64 array ``[start, stop, dim0, dim1, ...]``: the range of the
first outer loop (what a thread pool splits) and the domain's shape.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import cast

import numpy as np


@dataclass(frozen=True, slots=True)
class Offsets:
    tuple_items: int
    array_data: int
    array_strides: int


def _probe() -> Offsets | None:
    candidate = Offsets(tuple_items=24, array_data=16, array_strides=40)
    try:
        array = np.arange(6.0).reshape(2, 3)[:, ::2]
        items = (array, np.empty(1))
        first = ctypes.c_void_p.from_address(id(items) + candidate.tuple_items).value
        data = ctypes.c_void_p.from_address(id(array) + candidate.array_data).value
        # (None for a NULL pointer, which a 2-d array's strides never are)
        strides_at = cast(int, ctypes.c_void_p.from_address(id(array) + candidate.array_strides).value)
        strides = tuple(ctypes.c_int64.from_address(strides_at + 8 * i).value for i in range(2))
    except (ValueError, OSError):
        return None
    if first != id(array) or data != array.__array_interface__["data"][0] or strides != array.strides:
        return None
    return candidate


OFFSETS = _probe()
