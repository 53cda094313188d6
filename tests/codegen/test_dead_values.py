"""The generated program drops each intermediate after its last use, as eager Python drops a
temporary: a chain of NumPy calls (ops no kernel lowers, here complex sqrt, with kernels of
complex exp between them) then holds about two arrays at a time, not one per step."""
from __future__ import annotations

import tracemalloc

import ember
import numpy as np
import pytest


def iterate(c):
    z = np.sqrt(c)
    for _ in range(8):
        z = np.sqrt(np.exp(z))
    return np.abs(z), z


@pytest.mark.parametrize("backend", ["llvm", "numpy"])
def test_a_chain_of_numpy_calls_holds_few_arrays(backend):
    c = (np.random.default_rng(0).standard_normal((256, 256)) * 0.1 + 0.05j).astype(np.complex64)
    compiled = ember.compile(iterate, backend=backend, fullgraph=True)
    compiled(c)
    step = c.nbytes
    tracemalloc.start()
    magnitude, z = compiled(c)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    expected = iterate(c)
    np.testing.assert_allclose(magnitude, expected[0], rtol=1e-5)
    np.testing.assert_allclose(z, expected[1], rtol=1e-5)
    # 17 complex steps of `step` bytes each; eager holds at most three at a time
    assert peak < 4.5 * step, peak / step


def test_the_program_deletes_names_after_their_last_use_and_keeps_its_results():
    compiled = ember.compile(iterate, backend="llvm")
    c = np.full((4, 4), 0.1 + 0.1j, np.complex64)
    compiled(c)
    program = compiled.entries[0].stages["kernels"]
    assert "    del " in program
    returned = program.rsplit("return [", 1)[1]
    deleted = {name.strip() for line in program.splitlines() if line.startswith("    del ")
               for name in line[len("    del "):].split(",")}
    assert not deleted & {name.strip() for name in returned.rstrip("]\n").split(",")}


def layers(x, w):
    for _ in range(6):
        x = np.maximum(x @ w, 0.0) * 0.5
    return x


def test_a_chain_of_layers_holds_few_activations():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((512, 256)).astype(np.float32), rng.standard_normal((256, 256)).astype(np.float32)
    compiled = ember.compile(layers, backend="llvm", fullgraph=True)
    compiled(x, w)
    tracemalloc.start()
    out = compiled(x, w)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    expected = layers(x, w)  # six products: another BLAS blocking's rounding, grown layer by layer
    np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())
    assert peak < 3.5 * x.nbytes, peak / x.nbytes  # six activations of x's size; eager holds two or three
