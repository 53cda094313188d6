"""Arrays that live on a GPU: CuPy's ndarray, recognised without importing CuPy.

NumPy's dispatch protocols run unmodified NumPy code on CuPy arrays (``np.exp(a)`` is a CuPy
array), so such code is traced as it is; the entry then runs on the GPU (the triton backend).
A CuPy array can only exist once CuPy is imported, so looking in ``sys.modules`` is enough.
"""
from __future__ import annotations

import sys
from typing import Any


def is_device_array(value: Any) -> bool:
    cupy = sys.modules.get("cupy")
    return cupy is not None and type(value) is getattr(cupy, "ndarray", None)
