"""Arrays that live on a GPU: CuPy's ndarray, recognised without importing CuPy.

NumPy's dispatch protocols run unmodified NumPy code on CuPy arrays (``np.exp(a)`` is a CuPy
array), so such code is traced as it is; the entry then runs on the GPU (the triton backend).
A CuPy array can only exist once CuPy is imported, so looking in ``sys.modules`` is enough.
What eager CuPy would refuse runs eagerly (the NumPy calls the code makes on arrays are
recorded for runtime/entry_builder.py, which asks codegen/triton/device.cupy_refusal), so it
raises as eager does.
"""
from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

_NUMPY_DIRECTORY = os.path.dirname(np.__file__) + os.sep


def is_device_array(value: Any) -> bool:
    cupy = sys.modules.get("cupy")
    return cupy is not None and type(value) is getattr(cupy, "ndarray", None)


def launches_in_order(array: Any) -> bool:
    """Whether kernels launched now run where eager CuPy runs ``array``'s work: on its GPU (the
    current one, which Triton launches on) and in order with CuPy's (CuPy's current stream is
    the default one, which Triton launches on)."""
    cuda = sys.modules["cupy"].cuda
    return array.device.id == cuda.runtime.getDevice() and cuda.get_current_stream().ptr == 0


def is_numpy_callable(fn: Any) -> bool:
    """A NumPy function, ufunc or type (what NumPy dispatches to CuPy when given CuPy arrays)."""
    return isinstance(fn, np.ufunc) or (getattr(fn, "__module__", None) or "").split(".")[0] == "numpy"


def called_from_numpy(filename: str) -> bool:
    """A call inside NumPy's own Python code (traced through), not one the user's code makes."""
    return filename.startswith(_NUMPY_DIRECTORY)
