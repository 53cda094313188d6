"""Transcendental functions: CUDA's libdevice on a GPU, NumPy in the interpreter.

Generated kernels call ``libdevice.<name>(x)``. On a GPU the loader binds ``libdevice`` to
``triton.language.extra.libdevice`` (correctly rounded or within a few ulp). Triton's
interpreter cannot run libdevice calls, so there the loader binds a namespace of the same
names that applies NumPy's function to the interpreter's block values: the interpreter
then computes exactly what NumPy eager computes.
"""
from __future__ import annotations

import types

import numpy as np

# libdevice name -> NumPy function, for the unary float functions kernels may call.
UNARY = {
    "exp": np.exp, "exp2": np.exp2, "log": np.log, "log2": np.log2, "log10": np.log10,
    "log1p": np.log1p, "expm1": np.expm1, "cbrt": np.cbrt, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "tanh": np.tanh, "atan": np.arctan, "asin": np.arcsin, "acos": np.arccos,
    "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh, "sinh": np.sinh,
    "cosh": np.cosh, "trunc": np.trunc, "rint": np.rint, "floor": np.floor, "ceil": np.ceil,
}
BINARY = {"pow": np.power, "atan2": np.arctan2, "hypot": np.hypot, "fmod": np.fmod,
          "copysign": np.copysign}

# NumPy ufunc name -> libdevice name.
UFUNC_TO_LIBDEVICE = {
    "exp": "exp", "exp2": "exp2", "log": "log", "log2": "log2", "log10": "log10", "log1p": "log1p",
    "expm1": "expm1", "cbrt": "cbrt", "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh",
    "arctan": "atan", "arcsin": "asin", "arccos": "acos", "arcsinh": "asinh", "arccosh": "acosh",
    "arctanh": "atanh", "sinh": "sinh", "cosh": "cosh", "trunc": "trunc", "rint": "rint",
    "floor": "floor", "ceil": "ceil", "arctan2": "atan2", "hypot": "hypot", "fmod": "fmod",
    "copysign": "copysign", "power": "pow",
}


def interpreter_libdevice() -> types.SimpleNamespace:
    """A ``libdevice`` stand-in for the interpreter: NumPy on the block's values."""
    import triton.language as tl
    from triton.runtime.interpreter import TensorHandle

    def wrap(function, arity):
        def call(*args):
            blocks = [a for a in args[:arity] if isinstance(a, tl.tensor)]
            data = [a.handle.data if isinstance(a, tl.tensor) else a for a in args[:arity]]
            with np.errstate(all="ignore"):
                result = np.asarray(function(*data))
            # The result has the broadcast shape of the arguments: take the type of the widest.
            like = max(blocks, key=lambda a: a.handle.data.size)
            result = np.broadcast_to(result, np.broadcast_shapes(*(b.handle.data.shape for b in blocks)))
            result = np.ascontiguousarray(result).astype(like.handle.data.dtype, copy=False)
            return tl.tensor(TensorHandle(result, like.handle.dtype), like.type)
        call.__name__ = function.__name__
        return call

    functions = {name: wrap(fn, 1) for name, fn in UNARY.items()}
    functions.update({name: wrap(fn, 2) for name, fn in BINARY.items()})
    return types.SimpleNamespace(**functions)


def device_libdevice():
    from triton.language.extra import libdevice

    return libdevice
