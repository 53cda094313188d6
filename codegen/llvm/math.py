"""Transcendental functions: scalar libm calls that the loop vectorizer widens to libmvec.

How (see shared/notes/llvm-cpu.md): the scalar libm function is declared ``memory(none)``,
each call site carries ``"vector-function-abi-variant"`` naming glibc's vector variants
(AVX-512 ``_ZGVe``, AVX2 ``_ZGVd``, SSE ``_ZGVb``), the variants are declared and kept
alive with ``@llvm.compiler.used``, and ``libmvec.so.1`` is loaded into the process. When
libmvec is missing (musl, macOS) the same calls stay scalar libm calls: slower, still right.

Own vector variants take precedence where Ember has one for the host: float32 tanh at 16
lanes on AVX-512F (tanh_v16.py), defined in the module itself, so it needs no libmvec.

Accuracy (max ulp error measured against float64/longdouble references by
tests/codegen/test_ulp.py): glibc documents <= 4 ulp for libmvec, libm is < 1 ulp.
"""
from __future__ import annotations

import ctypes
import functools
import importlib

# NumPy ufunc name -> C math function name (float64 spelling; float32 adds "f").
UNARY_LIBM = {
    "exp": "exp", "exp2": "exp2", "log": "log", "log2": "log2", "log10": "log10",
    "log1p": "log1p", "expm1": "expm1", "sin": "sin", "cos": "cos", "tan": "tan",
    "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "arctan": "atan", "arcsin": "asin",
    "arccos": "acos", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "cbrt": "cbrt",
}
BINARY_LIBM = {"arctan2": "atan2", "hypot": "hypot", "power": "pow"}

# (ISA letter, vector bits, the CPU feature its code needs) of glibc's x86 vector ABI, widest
# first. libmvec exports every variant on every host; an AVX-512 one called on an AVX2 CPU
# dies of SIGILL (its code moves zmm registers), so only the host's own are offered.
VECTOR_ISAS = (("e", 512, "avx512f"), ("d", 256, "avx2"), ("b", 128, "sse2"))


@functools.cache
def libmvec() -> ctypes.CDLL | None:
    """The loaded libmvec (registered with LLVM's symbol resolver), or None."""
    import llvmlite.binding as llvm

    def candidates():
        yield "libmvec.so.1"
        import ctypes.util  # (only if glibc's name fails: find_library runs ldconfig, ~10 ms)
        yield ctypes.util.find_library("mvec")

    for name in candidates():
        if not name:
            continue
        try:
            library = ctypes.CDLL(name)
            llvm.load_library_permanently(name)
            return library
        except OSError:
            continue
    return None


@functools.cache
def vector_variants(c_name: str, arity: int, bits: int) -> tuple[tuple[int, str], ...]:
    """(lanes, symbol) of the libmvec variants of ``c_name`` this CPU can run."""
    library = libmvec()
    if library is None:
        return ()
    found = []
    params = "v" * arity
    for isa, width, feature in VECTOR_ISAS:
        if not host_has(feature):
            continue
        lanes = width // bits
        symbol = f"_ZGV{isa}N{lanes}{params}_{c_name}"
        if hasattr(library, symbol):
            found.append((lanes, symbol))
    return tuple(found)


@functools.cache
def host_has(feature: str) -> bool:
    """Whether this CPU has ``feature`` (LLVM's name, e.g. ``avx512f``)."""
    import llvmlite.binding as llvm

    return f"+{feature}" in llvm.get_host_cpu_features().flatten().split(",")


# libm symbol -> the module of Ember's own vector variant (NAME, LANES, definition(),
# DECLARATIONS), and the CPU feature it needs. Imported only on such a host (its table is
# ~3 ms of a new process's first compile).
OWN_VECTOR_MATH = {"tanhf": ("tanh_v16", "avx512f")}


def _own_module(symbol: str):
    return importlib.import_module(f".{OWN_VECTOR_MATH[symbol][0]}", __package__)


def own_variants(symbol: str) -> tuple[tuple[int, str], ...]:
    """(lanes, function) of Ember's own vector variants of ``symbol`` usable on this host."""
    if symbol in OWN_VECTOR_MATH:
        if host_has(OWN_VECTOR_MATH[symbol][1]):
            module = _own_module(symbol)
            return ((module.LANES, module.NAME),)
    return ()


def calls_own_vector_math(lines: list[str]) -> bool:
    """Whether these lines of IR call a function that vectorizes to an own variant here."""
    return any(f"@{symbol}(" in line and own_variants(symbol) for symbol in OWN_VECTOR_MATH for line in lines)


@functools.cache
def all_variants(symbol: str, arity: int, bits: int) -> tuple[tuple[int, str], ...]:
    """Own variants first, then libmvec's for the lane counts they leave, widest first."""
    own = own_variants(symbol)
    taken = {lanes for lanes, _ in own}
    return own + tuple(v for v in vector_variants(symbol, arity, bits) if v[0] not in taken)


class MathDeclarations:
    """Collects the declarations and attribute groups one LLVM module needs."""

    def __init__(self) -> None:
        self.declarations: dict[str, str] = {}
        self.call_attributes: dict[str, tuple[int, int, int]] = {}  # symbol -> (group, arity, bits)
        self.used: list[str] = []

    def intrinsic(self, name: str, ret: str, params: list[str]) -> str:
        self.declarations.setdefault(name, f"declare {ret} @{name}({', '.join(params)})")
        return name

    def libm_call(self, c_name: str, ty: str, args: list[str]) -> str:
        """Text of a call to a libm function on scalars of type ``ty`` (float/double)."""
        bits = 32 if ty == "float" else 64
        symbol = c_name + ("f" if bits == 32 else "")
        params = ", ".join([ty] * len(args))
        self.declarations.setdefault(symbol, f"declare {ty} @{symbol}({params}) #0")
        variants = all_variants(symbol, len(args), bits)
        call = f"call {ty} @{symbol}({', '.join(f'{ty} {a}' for a in args)})"
        if not variants:
            return call
        if symbol not in self.call_attributes:
            self.call_attributes[symbol] = (len(self.call_attributes) + 1, len(args), bits)
            own = {name for _, name in own_variants(symbol)}
            for lanes, vector in variants:
                vty = f"<{lanes} x {ty}>"
                if vector in own:  # defined in the module (internal, always inlined: jit.py)
                    module = _own_module(symbol)
                    self.declarations[vector] = module.definition()
                    for line in module.DECLARATIONS:
                        self.declarations.setdefault(line.split("@")[1].split("(")[0], line)
                else:
                    self.declarations[vector] = f"declare {vty} @{vector}({', '.join([vty] * len(args))})"
                self.used.append(vector)
        return f"{call} #{self.call_attributes[symbol][0]}"

    def text(self) -> str:
        lines = sorted(self.declarations.values())
        if self.used:
            items = ", ".join(f"ptr @{u}" for u in self.used)
            lines.append(f'@llvm.compiler.used = appending global [{len(self.used)} x ptr] [{items}], '
                         'section "llvm.metadata"')
        lines.append("attributes #0 = { nounwind willreturn memory(none) }")
        for symbol, (group, arity, bits) in self.call_attributes.items():
            mapping = ",".join(f"_ZGV_LLVM_N{lanes}{'v' * arity}_{symbol}({vector})"
                               for lanes, vector in all_variants(symbol, arity, bits))
            lines.append(f'attributes #{group} = {{ "vector-function-abi-variant"="{mapping}" }}')
        return "\n".join(lines)
