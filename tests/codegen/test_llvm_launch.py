"""How the generated program calls kernels (codegen/llvm/launch.py): short kernels as builtin
functions through the module's trampoline (GIL held), long ones through ctypes (GIL released)."""
from __future__ import annotations

import sys

import numpy as np
from ember.codegen.llvm import compile_graph
from ember.codegen.llvm.launch import BUILTIN_CALL_LIMIT, KERNEL_TYPE
from ember.ir import Graph, TensorMeta

F32 = np.dtype("float32")


def _compiled(n: int):
    g = Graph()
    x = g.add_input("x", TensorMeta((n,), F32))
    y = g.add_input("y", TensorMeta((n,), F32))
    g.set_outputs([g.call("subtract", g.call("multiply", g.call("add", x, y), 2.0), g.call("exp", x))])
    artifact = compile_graph(g)
    kernel = artifact.run.__globals__["_k0"]
    return artifact, kernel


def test_a_short_kernel_is_a_builtin_call_that_leaks_no_reference():
    artifact, kernel = _compiled(100)
    assert type(kernel).__name__ == "builtin_function_or_method"
    x, y = np.linspace(-2, 2, 100, dtype=F32), np.linspace(0, 1, 100, dtype=F32)
    holder = kernel.__self__  # the array holding the kernel's address: the trampoline returns it
    before = sys.getrefcount(holder)
    for _ in range(1000):
        (out,) = artifact([x, y])
    assert sys.getrefcount(holder) == before
    np.testing.assert_allclose(out, (x + y) * 2.0 - np.exp(x), rtol=1e-5, atol=1e-6)  # libmvec exp: <= 4 ulp


def test_a_long_kernel_goes_through_ctypes_which_hands_the_gil_back():
    artifact, kernel = _compiled(BUILTIN_CALL_LIMIT)
    assert isinstance(kernel, KERNEL_TYPE)
    x = np.linspace(-2, 2, BUILTIN_CALL_LIMIT, dtype=F32)
    (out,) = artifact([x, x])
    np.testing.assert_allclose(out, (x + x) * 2.0 - np.exp(x), rtol=1e-5, atol=1e-6)  # libmvec exp: <= 4 ulp
