"""What NumPy's BLAS runs on this host, so the backend knows whether its own product is faster.

NumPy's wheels ship OpenBLAS, which picks its kernels by CPU at load time; the environment
can force a core (``OPENBLAS_CORETYPE=Haswell``). On an AVX-512 host whose OpenBLAS runs
AVX-512 kernels (SkylakeX, Cooperlake, SapphireRapids) OpenBLAS is faster than gemm.py
(measured on AMD EPYC znver5, 2 threads: 19.2 ms against 22.2 ms for 1024x1024 @ 1024x4096
float32); where it runs AVX2 kernels, gemm.py is 1.5-1.9x faster (the same product: 35 ms
against 22 ms). Per thread gemm.py is 1.6x OpenBLAS's AVX2 kernels (204 against 127 GFLOP/s),
so it is only chosen where Ember has enough threads against BLAS's.

The core name comes from OpenBLAS itself (``openblas_get_corename``, under the prefix and
suffix NumPy's build gives its symbols), found among this process's loaded libraries (Linux's
``/proc/self/maps``). Another BLAS, or none found: NumPy's BLAS is used, as eager does.
"""
from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass

AVX512_CORES = frozenset({"skylakex", "cooperlake", "sapphirerapids"})
SPEED_PER_THREAD = 1.5  # gemm.py against OpenBLAS's AVX2 kernels, per thread (measured 1.6)
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
def numpy_blas() -> Blas | None:
    """The OpenBLAS loaded with NumPy, or None (another BLAS, or not found)."""
    import numpy  # noqa: F401  (its BLAS is loaded with it)
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None
    for path in paths:
        try:
            library = ctypes.CDLL(path)  # already loaded: the same handle
        except OSError:
            continue
        for symbol in _SYMBOLS:
            corename = getattr(library, symbol, None)
            if corename is None:
                continue
            corename.restype = ctypes.c_char_p
            threads = getattr(library, symbol.replace("get_corename", "get_num_threads"), None)
            count = int(threads()) if threads is not None else 1
            return Blas(corename().decode(), max(1, count))
    return None


def own_product_faster(num_threads: int, blas: Blas | None) -> bool:
    """Whether gemm.py with ``num_threads`` beats NumPy's ``blas`` (on an AVX-512 host)."""
    return blas is not None and blas.half_width and num_threads * SPEED_PER_THREAD >= blas.threads
