"""Own vectorizable float32 exp: straight-line scalar IR that the loop vectorizer widens.

Every step is branch-free, and NaN never reaches an integer conversion (``minnum``/``maxnum``
clamp it away; a final select puts it back), so there is no poison and the special values
are NumPy's: exp(NaN) = NaN, exp(inf) = inf, exp(-inf) = 0, exp(+-0) = 1, subnormal results
rounded once. Coefficients are Cephes' (expf.c). No fast-math flags: ``llvm.fma`` is asked for
explicitly. Max error 1.003 ulp over a sample of all float32 bit patterns (libmvec: 2.3).

Measured (AMD EPYC znver4, AVX-512, in-cache, one thread): 0.20 ns per element against
libmvec's 0.42; softmax (4096, 2048) f32 kernel 5.84 -> 5.48 ms. Where own code did not pay:
a tanh built on this exp (odd polynomial below |x| = 0.625, 1 - 2/(e^2|x| + 1) above, 1.3 ulp)
was 10% *slower* than libmvec's tanhf in gelu (both branches and a division per element), and
f64 exp needs a degree-13 polynomial without tables: no faster than libmvec. Keep libmvec there.

The builder is duck-typed (``emit``, ``call_intrinsic``, ``select``): lowering.py imports
this module, not the other way round.
"""
from __future__ import annotations

import struct

import numpy as np


def f32(value: float) -> str:
    """LLVM literal of ``value`` rounded to float32 (the hex double of the float32)."""
    rounded = float(np.float32(value))
    return f"0x{struct.unpack('>Q', struct.pack('>d', rounded))[0]:016X}"


def _fma(b, x: str, y: str, z: str) -> str:
    return b.call_intrinsic("fma", "float", [x, y, z])


def exp_f32(b, x: str) -> str:
    """e**x for a float32 ``x``: 2**n * p(r), r = x - n ln2 (|r| <= ln2 / 2)."""
    clamped = b.call_intrinsic("maxnum", "float", [b.call_intrinsic("minnum", "float", [x, f32(89.0)]),
                                                   f32(-104.0)])
    n = b.call_intrinsic("roundeven", "float", [b.emit(f"fmul float {clamped}, {f32(1.44269504088896341)}")])
    r = _fma(b, n, f32(-0.693359375), clamped)
    r = _fma(b, n, f32(2.12194440e-4), r)
    p = f32(1.9875691500e-4)
    for c in (1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1):
        p = _fma(b, p, r, f32(c))
    y = b.emit(f"fadd float {_fma(b, p, b.emit(f'fmul float {r}, {r}'), r)}, {f32(1.0)}")
    # 2**n as two normal powers of two (n is in [-150, 129]): one rounding, even when subnormal.
    k = b.emit(f"fptosi float {n} to i32")
    half = b.emit(f"ashr i32 {k}, 1")
    for part in (half, b.emit(f"sub i32 {k}, {half}")):
        biased = b.emit(f"add i32 {part}, 127")
        scale = b.emit(f"bitcast i32 {b.emit(f'shl i32 {biased}, 23')} to float")
        y = b.emit(f"fmul float {y}, {scale}")
    return b.select(b.emit(f"fcmp uno float {x}, 0.0"), "float", x, y)
