"""Static facts about a value in the graph: shape, dtype, and where it came from."""
from __future__ import annotations

import linecache
import math
from dataclasses import dataclass

import numpy as np

SUPPORTED_DTYPES = frozenset(
    np.dtype(name)
    for name in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64", "complex64", "complex128",
    )
)


@dataclass(frozen=True, slots=True)
class SourceLoc:
    """A position in the user's source: shown on every node and in every error."""

    filename: str
    lineno: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}"

    @property
    def short(self) -> str:
        return f"{self.filename.rsplit('/', 1)[-1]}:{self.lineno}"

    def with_source(self) -> str:
        """``file:line: the line's text``: the note on an error that compiled code raised there."""
        return f"{self}: {linecache.getline(self.filename, self.lineno).strip()}"


@dataclass(frozen=True, slots=True)
class TensorMeta:
    """Shape and dtype of an array value.

    ``is_scalar`` records NumPy's habit of returning a NumPy scalar (``np.float32(3.0)``)
    instead of a 0-d array from ufuncs, full reductions and integer indexing: compiled
    code must hand back the same kind of object eager NumPy would.

    >>> TensorMeta((4, 2), np.dtype("float32"))
    f32[4, 2]
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    is_scalar: bool = False

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)  # a dynamic dimension (ir/symbolic.py) refuses to multiply

    def __repr__(self) -> str:
        text = f"{short_dtype(self.dtype)}[{', '.join(map(str, self.shape))}]"
        return text + " scalar" if self.is_scalar else text

    @staticmethod
    def of(value: np.ndarray | np.generic) -> TensorMeta:
        """The meta of an array or NumPy scalar (a CuPy array's too: read without converting it)."""
        shape = value.shape if hasattr(value, "shape") else np.shape(value)
        dtype = value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype
        return TensorMeta(tuple(shape), np.dtype(dtype), isinstance(value, np.generic))


_SHORT_DTYPES = {
    "bool": "b8", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
    "float16": "f16", "float32": "f32", "float64": "f64", "complex64": "c64", "complex128": "c128",
}
_LONG_DTYPES = {short: np.dtype(long) for long, short in _SHORT_DTYPES.items()}


def short_dtype(dtype: np.dtype) -> str:
    """``float32`` -> ``f32``: the spelling used by the printer and by ``--args``."""
    return _SHORT_DTYPES.get(np.dtype(dtype).name, np.dtype(dtype).name)


def parse_dtype(text: str) -> np.dtype:
    """Inverse of :func:`short_dtype`; also accepts NumPy's own names."""
    return _LONG_DTYPES.get(text) or np.dtype(text)
