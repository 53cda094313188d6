"""How the generated program calls a kernel (``void kernel(PyObject *arrays)``, abi.py).

Through ctypes (``KERNEL_TYPE``), which releases the GIL: the thread pool's calls and every
kernel that may run long. A ctypes call costs ~0.45-0.75 us here, a third of a 100-element
compiled call. A small kernel is called through a builtin function instead: CPython calls a
``METH_O`` C function directly, here a trampoline compiled into each module that reads the
kernel's address out of its ``self`` (a one-element intp array) and calls it with the GIL
held (~0.14 us). Its result is ``self`` with one more reference, as CPython expects of a new
reference (a plain increment: abi.py refuses the free-threaded builds whose counts differ).
"""
from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np

from .abi import Offsets

KERNEL_TYPE = ctypes.CFUNCTYPE(None, ctypes.py_object)
TRAMPOLINE = "ember_call_kernel"
BUILTIN_CALL_LIMIT = 1 << 16  # elements: above, a kernel runs long enough to hand the GIL back


def trampoline_function(offsets: Offsets) -> tuple[str, str]:
    """(name, LLVM text) of ``PyObject *ember_call_kernel(PyObject *self, PyObject *arrays)``."""
    return TRAMPOLINE, f"""define ptr @{TRAMPOLINE}(ptr %self, ptr %arrays) {{
entry:
  %slot = getelementptr i8, ptr %self, i64 {offsets.array_data}
  %data = load ptr, ptr %slot
  %kernel = load ptr, ptr %data
  call void %kernel(ptr %arrays)
  %count = load i64, ptr %self
  %more = add i64 %count, 1
  store i64 %more, ptr %self
  ret ptr %self
}}"""


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p), ("ml_flags", ctypes.c_int),
                ("ml_doc", ctypes.c_char_p)]


_METH_O = 0x0008
_NEW_FUNCTION = ctypes.pythonapi.PyCFunction_NewEx
_NEW_FUNCTION.restype = ctypes.py_object
_NEW_FUNCTION.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.c_void_p]
_DEFINITIONS: dict[int, _MethodDef] = {}  # per trampoline: CPython keeps a pointer to it for good


def builtin_kernel(trampoline: int, kernel: int) -> Callable[[tuple], Any]:
    """The kernel at address ``kernel`` as a builtin function of one tuple of arrays, through
    the ``trampoline`` of its module (which the caller keeps loaded)."""
    definition = _DEFINITIONS.get(trampoline)
    if definition is None:
        definition = _DEFINITIONS[trampoline] = _MethodDef(b"ember_kernel", trampoline, _METH_O, None)
    return _NEW_FUNCTION(ctypes.addressof(definition), np.array([kernel], dtype=np.intp), None)
