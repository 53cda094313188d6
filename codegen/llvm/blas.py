"""What NumPy's BLAS runs on this host, so the backend knows whether its own product is faster.

NumPy's wheels ship OpenBLAS, which picks its kernels by CPU at load time; the environment
can force a core (``OPENBLAS_CORETYPE=Haswell``). On an AVX-512 host whose OpenBLAS runs
AVX-512 kernels (SkylakeX, Cooperlake, SapphireRapids) OpenBLAS is faster than gemm.py
(measured on AMD EPYC znver5, 2 threads: 19.0 ms against 20.4 ms for 1024x1024 @ 1024x4096
float32, 18.3 against 21.3 for 1024x4096 @ 4096x1024); where it runs AVX2 kernels, gemm.py is
1.5-1.7x faster (the first product: 34.2 ms against 20.9 ms). Per thread gemm.py is 1.7x
OpenBLAS's AVX2 kernels (216 against 128 GFLOP/s), so it is only chosen where Ember has enough
threads against BLAS's.

The core name comes from OpenBLAS itself (``openblas_get_corename``, under the prefix and
suffix NumPy's build gives its symbols), looked up through NumPy's extension module; the thread
count is read at each decision (``threadpoolctl`` may change it). Another BLAS, or none found:
NumPy's BLAS is used, as eager does.
"""
from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass
from typing import Any

AVX512_CORES = frozenset({"skylakex", "cooperlake", "sapphirerapids"})
SPEED_PER_THREAD = 1.5  # gemm.py against OpenBLAS's AVX2 kernels, per thread (measured 1.6-1.7)
_SYMBOLS = ("openblas_get_corename", "openblas_get_corename64_", "scipy_openblas_get_corename64_",
            "scipy_openblas_get_corename")


@dataclass(frozen=True, slots=True)
class Blas:
    """The OpenBLAS NumPy calls: its core (kernel family) and thread count."""

    core: str
    threads: int

    @property
    def half_width(self) -> bool:
        """Its kernels use half of an AVX-512 register (on a host that has them)."""
        return self.core.lower() not in AVX512_CORES


@functools.cache
def _openblas() -> tuple[Any, Any] | None:
    """OpenBLAS's ``get_corename`` and ``get_num_threads`` as NumPy links them, or None. Looked up
    through NumPy's own extension module (``dlsym`` on its handle searches what it loaded), so
    another OpenBLAS in the process (SciPy's) is never the one asked."""
    try:
        from numpy._core import _multiarray_umath as extension
    except ImportError:  # NumPy 1
        from numpy.core import _multiarray_umath as extension  # type: ignore[no-redef]
    try:
        library = ctypes.CDLL(extension.__file__)  # already loaded: the same handle
    except OSError:
        return None
    for symbol in _SYMBOLS:
        corename = getattr(library, symbol, None)
        if corename is not None:
            corename.restype = ctypes.c_char_p
            return corename, getattr(library, symbol.replace("get_corename", "get_num_threads"), None)
    return None


def numpy_blas() -> Blas | None:
    """The OpenBLAS NumPy calls, with its thread count now, or None (another BLAS, or not found)."""
    found = _openblas()
    if found is None:
        return None
    corename, threads = found
    core = corename()
    if not core:
        return None
    return Blas(core.decode(), max(1, int(threads())) if threads is not None else 1)


def own_product_faster(num_threads: int, blas: Blas | None) -> bool:
    """Whether gemm.py with ``num_threads`` beats NumPy's ``blas`` (on an AVX-512 host)."""
    return blas is not None and blas.half_width and num_threads * SPEED_PER_THREAD >= blas.threads
