"""Ember's own 16-lane float32 tanh for AVX-512: a table of polynomials, looked up in registers.

libmvec's ``_ZGVeN16v_tanhf`` costs ~25 cycles per 16 elements inside a fused kernel here
(with_break: 3 tanh per element, 7.5 ms for 4M elements on one thread), NumPy's own
(SVML-derived) tanh ~15. This function takes the approach of the latter, with its own fit
(``np.tanh`` on 4M float32, one thread: libmvec 2.52 ms, NumPy 1.55, this 1.12-1.16):

* |x| is split into 30 intervals by the top bits of its float32 pattern: [0, 1/16), then four
  per octave from 1/16 up to 8, then [8, 9.1] (|x| is clamped to 9.1, where tanh is 1.0 in
  float32). Interval j has ``top = bits(max(|x|, 0x1.ep-5)) >> 21 = 491 + j``; ``vpermi2var``
  reads only the low 5 bits of an index, so ``top`` is the index as it is, with each table
  rotated to put interval j at slot (491 + j) % 32 (two instructions, where subtracting 491 and
  clamping to [0, 29] took four; with the NaN select gone, 1.28-1.31 -> 1.12-1.16 ms above, and
  with_break's three chained tanh 3.10-3.13 -> 2.61-2.62 ms on two threads).
* On interval j, tanh(|x|) = P_j(|x| - B_j), P_j of degree 5, B_j the interval's centre (0 for
  the first, whose P is odd: x - x**3/3 + ..., so tiny and subnormal x come back exact).
* Each coefficient is one ``vpermi2var`` of a 32-entry table held in two registers: no memory
  gathers, which the loop vectorizer would make of a table in memory.
* P is evaluated by Horner's rule with FMA (Estrin's shorter chain was 7% faster on three
  chained tanh, and 1.84 ulp).
* sign restored by OR-ing the sign bit (tanh(-0) = -0); +-inf gives +-1; NaN stays NaN through
  the clamps (compare-and-select keeps it) and the polynomial, with no select of its own.
* It is defined ``alwaysinline`` in each module that uses it, and inlined after the loop
  vectorizer (jit.py): a call would reload its 14 table registers every 16 elements.

Max error 1.41 ulp over 50M float32 values (every magnitude below 11, a dense grid on
[0, 10], every interval edge +-64 ulp), computed in float32 with FMA exactly as below
(tests/codegen/test_own_polynomials.py checks the compiled function). The table comes from
``fit_table()`` (weighted least squares driven towards minimax relative error, NumPy only):
``python -m ember.codegen.llvm.tanh_v16`` prints a new one.

math.py offers this function to the loop vectorizer as the 16-lane variant of ``tanhf`` on
hosts with AVX-512F; 8 and 4 lanes stay libmvec's.
"""
from __future__ import annotations

import struct

import numpy as np

from .polynomials import f32

NAME = "ember_tanhf_v16"
LANES = 16
_BASE = 491  # (bits(1/16) >> 21) - 1: interval 1 starts at 1/16
_FLOOR = float.fromhex("0x1.ep-5")  # the largest top-bits bucket below 1/16: top = _BASE
_INTERVALS = 30
_LIMIT = 9.1
_DEGREE = 5

# Per interval: the centre B, then the coefficients c0..c5 of P (float32 values as hex).
TABLE = (
    ("0x0.0p+0", "0x0.0p+0", "0x1.0p+0", "0x0.0p+0",
     "-0x1.55553ep-2", "0x0.0p+0", "0x1.1078b6p-3"),
    ("0x1.2p-4", "0x1.1f86bep-4", "0x1.fd7a22p-1", "-0x1.1e1c0ap-4",
     "-0x1.4ea16p-2", "0x1.7aa3ecp-5", "0x1.05bdccp-3"),
    ("0x1.6p-4", "0x1.5f22d2p-4", "0x1.fc3cbep-1", "-0x1.5c8e36p-4",
     "-0x1.4b5adp-2", "0x1.cb9816p-5", "0x1.003ccp-3"),
    ("0x1.ap-4", "0x1.9e9356p-4", "0x1.fac13ep-1", "-0x1.9a5416p-4",
     "-0x1.477428p-2", "0x1.0d55c6p-4", "0x1.f37494p-4"),
    ("0x1.ep-4", "0x1.ddd092p-4", "0x1.f9085ap-1", "-0x1.d75004p-4",
     "-0x1.42f17cp-2", "0x1.33c77ap-4", "0x1.e48026p-4"),
    ("0x1.2p-3", "0x1.1e1ddp-3", "0x1.f601cap-1", "-0x1.18883cp-3",
     "-0x1.3b135p-2", "0x1.6b051cp-4", "0x1.cab606p-4"),
    ("0x1.6p-3", "0x1.5c9308p-3", "0x1.f12bp-1", "-0x1.5279fep-3",
     "-0x1.2ea3fcp-2", "0x1.af9b76p-4", "0x1.a28698p-4"),
    ("0x1.ap-3", "0x1.9a5f1cp-3", "0x1.eb715ap-1", "-0x1.89e50ep-3",
     "-0x1.202a34p-2", "0x1.ed77f8p-4", "0x1.74c98cp-4"),
    ("0x1.ep-3", "0x1.d7665cp-3", "0x1.e4dfb2p-1", "-0x1.be6cb8p-3",
     "-0x1.0fdf04p-2", "0x1.11e9f2p-3", "0x1.42ad0cp-4"),
    ("0x1.2p-2", "0x1.18a39ap-2", "0x1.d98b36p-1", "-0x1.038f7p-2",
     "-0x1.e91ef8p-3", "0x1.32dfccp-3", "0x1.e4bdd8p-5"),
    ("0x1.6p-2", "0x1.52c2c6p-2", "0x1.c7f724p-1", "-0x1.2daf98p-2",
     "-0x1.98588ep-3", "0x1.4fff7cp-3", "0x1.068f2cp-5"),
    ("0x1.ap-2", "0x1.8a87e2p-2", "0x1.b3ff2ep-1", "-0x1.4ff712p-2",
     "-0x1.4272p-3", "0x1.5c02d6p-3", "0x1.897f56p-8"),
    ("0x1.ep-2", "0x1.bfae6ap-2", "0x1.9e23aep-1", "-0x1.6a1d38p-2",
     "-0x1.d71f7ep-4", "0x1.5839a2p-3", "-0x1.1830acp-6"),
    ("0x1.2p-1", "0x1.05087p-1", "0x1.7aeae6p-1", "-0x1.825de4p-2",
     "-0x1.bd0ce8p-5", "0x1.39dae4p-3", "-0x1.630dfap-5"),
    ("0x1.6p-1", "0x1.3157ep-1", "0x1.49e6cp-1", "-0x1.897d22p-2",
     "0x1.d7689cp-7", "0x1.e93b1p-4", "-0x1.f7f554p-5"),
    ("0x1.ap-1", "0x1.5789p-1", "0x1.197fcep-1", "-0x1.79c0e6p-2",
     "0x1.072cc4p-4", "0x1.474356p-4", "-0x1.00ac8ep-4"),
    ("0x1.ep-1", "0x1.77d838p-1", "0x1.d834d2p-2", "-0x1.5aa224p-2",
     "0x1.8434bp-4", "0x1.633ac2p-5", "-0x1.b2c962p-5"),
    ("0x1.2p+0", "0x1.9e5cb6p-1", "0x1.615002p-2", "-0x1.1df056p-2",
     "0x1.c68efep-4", "0x1.e50c26p-9", "-0x1.070c46p-5"),
    ("0x1.6p+0", "0x1.c278a6p-1", "0x1.cea744p-3", "-0x1.970ed2p-3",
     "0x1.97d8e2p-4", "-0x1.599f7cp-6", "-0x1.39154cp-7"),
    ("0x1.ap+0", "0x1.d9c6fcp-1", "0x1.265e34p-3", "-0x1.1064bap-3",
     "0x1.33df76p-4", "-0x1.9b961ap-6", "0x1.696aep-10"),
    ("0x1.ep+0", "0x1.e8789ep-1", "0x1.6fcfa6p-4", "-0x1.5ee8aap-4",
     "0x1.a85c5p-5", "-0x1.5596cp-6", "0x1.2d32ep-8"),
    ("0x1.2p+1", "0x1.f4bfd6p-1", "0x1.641088p-5", "-0x1.5c3a3ep-5",
     "0x1.bbce96p-6", "-0x1.960178p-7", "0x1.049502p-8"),
    ("0x1.6p+1", "0x1.fbd50ap-1", "0x1.09a7acp-6", "-0x1.077906p-6",
     "0x1.599334p-7", "-0x1.51959ap-8", "0x1.f6754cp-10"),
    ("0x1.ap+1", "0x1.fe767ap-1", "0x1.88ef74p-8", "-0x1.87b86ep-8",
     "0x1.0394eep-8", "-0x1.0374fap-9", "0x1.947cf8p-11"),
    ("0x1.ep+1", "0x1.ff6f18p-1", "0x1.21a7b8p-9", "-0x1.214eaap-9",
     "0x1.80e4fcp-10", "-0x1.83e818p-11", "0x1.334b94p-12"),
    ("0x1.2p+2", "0x1.ffdfa6p-1", "0x1.02c146p-11", "-0x1.0244fp-11",
     "0x1.583f2ep-12", "-0x1.69ddb2p-13", "0x1.2025eap-14"),
    ("0x1.6p+2", "0x1.fffbap-1", "0x1.183598p-14", "-0x1.17bd64p-14",
     "0x1.75056ep-15", "-0x1.888fcep-16", "0x1.39322p-17"),
    ("0x1.ap+2", "0x1.ffff68p-1", "0x1.2f62fp-17", "-0x1.2ee2e8p-17",
     "0x1.93e8b8p-18", "-0x1.a92226p-19", "0x1.53455ap-20"),
    ("0x1.ep+2", "0x1.ffffecp-1", "0x1.4878f2p-20", "-0x1.47eea4p-20",
     "0x1.b54fd6p-21", "-0x1.cc4d12p-22", "0x1.6f5954p-23"),
    ("0x1.11999ap+3", "0x1.fffffep-1", "0x1.41cc5cp-23", "-0x1.4103eep-23",
     "0x1.ac1eecp-24", "-0x1.c7a6fcp-25", "0x1.6b7568p-26"),
)


def definition() -> str:
    """The LLVM text of ``<16 x float> @ember_tanhf_v16(<16 x float>)`` (internal linkage)."""
    def floats(values) -> str:
        return "<" + ", ".join(f"float {f32(v)}" for v in values) + ">"

    def ints(value: int) -> str:
        return "<" + ", ".join([f"i32 {value}"] * LANES) + ">"

    columns = _rotated_columns()
    lines = [
        f"define internal <16 x float> @{NAME}(<16 x float> %x) alwaysinline nounwind willreturn memory(none) {{",
        "entry:",
        "  %bits = bitcast <16 x float> %x to <16 x i32>",
        f"  %abits = and <16 x i32> %bits, {ints(0x7FFFFFFF)}",
        f"  %sign = and <16 x i32> %bits, {ints(-0x80000000)}",
        "  %a0 = bitcast <16 x i32> %abits to <16 x float>",
        # compare-and-select, not minnum/maxnum: an unordered compare is false, so NaN stays NaN
        f"  %over = fcmp ogt <16 x float> %a0, {floats([_LIMIT] * LANES)}",
        f"  %a = select <16 x i1> %over, <16 x float> {floats([_LIMIT] * LANES)}, <16 x float> %a0",
        f"  %under = fcmp olt <16 x float> %a, {floats([_FLOOR] * LANES)}",
        f"  %ia = select <16 x i1> %under, <16 x float> {floats([_FLOOR] * LANES)}, <16 x float> %a",
        "  %iabits = bitcast <16 x float> %ia to <16 x i32>",
        f"  %i = lshr <16 x i32> %iabits, {ints(21)}",
    ]
    for k, column in enumerate(columns):
        lines.append(f"  %t{k} = call <16 x float> @llvm.x86.avx512.vpermi2var.ps.512("
                     f"<16 x float> {floats(column[:LANES])}, <16 x i32> %i, <16 x float> {floats(column[LANES:])})")
    lines.append("  %y = fsub <16 x float> %a, %t0")
    p = f"%t{_DEGREE + 1}"
    for k in range(_DEGREE, 0, -1):  # Horner: 1.41 ulp (Estrin's shorter chain measured 1.84)
        lines.append(f"  %p{k} = call <16 x float> @llvm.fma.v16f32(<16 x float> {p}, <16 x float> %y, "
                     f"<16 x float> %t{k})")
        p = f"%p{k}"
    lines += [
        f"  %pbits = bitcast <16 x float> {p} to <16 x i32>",
        "  %rbits = or <16 x i32> %pbits, %sign",
        "  %r = bitcast <16 x i32> %rbits to <16 x float>",
        "  ret <16 x float> %r",
        "}",
    ]
    return "\n".join(lines)


DECLARATIONS = (
    "declare <16 x float> @llvm.fma.v16f32(<16 x float>, <16 x float>, <16 x float>)",
    "declare <16 x float> @llvm.x86.avx512.vpermi2var.ps.512(<16 x float>, <16 x i32>, <16 x float>)",
)


def evaluate(x: np.ndarray) -> np.ndarray:
    """The function above in NumPy (float32, FMA emulated exactly), for tests."""
    x = np.asarray(x, np.float32)
    columns = np.array(_rotated_columns(), np.float32)
    bits = x.view(np.uint32)
    a0 = (bits & 0x7FFFFFFF).view(np.float32)
    a = np.where(a0 > np.float32(_LIMIT), np.float32(_LIMIT), a0)
    slot = (np.where(a < np.float32(_FLOOR), np.float32(_FLOOR), a).view(np.uint32) >> 21) & 31
    with np.errstate(invalid="ignore"):  # NaN lanes stay NaN
        y = (a - columns[0, slot]).astype(np.float32)
        p = columns[_DEGREE + 1, slot]
        for k in range(_DEGREE, 0, -1):
            p = (p.astype(np.float64) * y + columns[k, slot]).astype(np.float32)  # one rounding: an FMA
    return (p.view(np.uint32) | (bits & 0x80000000)).view(np.float32)


def _rotated_columns() -> list[list[float]]:
    """Per coefficient (the centre first), the 32 table slots: interval j at (_BASE + j) % 32."""
    columns = []
    for k in range(_DEGREE + 2):
        column = [0.0] * (2 * LANES)
        for j, row in enumerate(TABLE):
            column[(_BASE + j) % (2 * LANES)] = float.fromhex(row[k])
        columns.append(column)
    return columns


def fit_table() -> list[tuple[float, ...]]:
    """Fit (B, c0..c5) per interval: relative-error least squares on Chebyshev nodes,
    reweighted 25 times towards the minimax fit; the first interval is odd (x + x**3 q(x**2))."""
    rows = []
    for j in range(_INTERVALS):
        if j == 0:
            lo, hi = 0.0, 1.0 / 16
        else:
            lo, hi = (struct.unpack("<f", struct.pack("<I", (j + _BASE + d) << 21))[0] for d in (0, 1))
            hi = min(hi, _LIMIT)
        nodes = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (np.arange(4000) + 0.5) / 4000)
        f = np.tanh(nodes)
        if j == 0:
            weight = nodes ** 3 / f
            odd = np.vander(nodes * nodes, 2, increasing=True)
            q, *_ = np.linalg.lstsq(odd * weight[:, None], (f - nodes) / nodes ** 3 * weight, rcond=None)
            rows.append((0.0, 0.0, 1.0, 0.0, q[0], 0.0, q[1]))
            continue
        centre = (lo + hi) / 2
        powers = np.vander(nodes - centre, _DEGREE + 1, increasing=True)
        weight = np.ones_like(nodes)
        for _ in range(25):
            c, *_ = np.linalg.lstsq(powers * (weight / f)[:, None], weight, rcond=None)
            error = np.abs(powers @ c - f) / f
            weight = weight * (error / error.max()) ** 0.3 + 1e-3
        rows.append((centre, *c))
    return [tuple(float(np.float32(v)) for v in row) for row in rows]


if __name__ == "__main__":
    for row in fit_table():
        items = [f'"{v.hex()}"' for v in row]
        print("    (" + ", ".join(items[:4]) + ",\n     " + ", ".join(items[4:]) + "),")
