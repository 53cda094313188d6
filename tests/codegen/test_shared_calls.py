"""A NumPy call with several results (np.linalg.qr, np.histogram, np.divmod) runs once per call
of the compiled function, as in eager, however many of its results the function uses (the
generated wrappers; the numpy backend, the reference interpreter, runs one call per node)."""
from __future__ import annotations

import ember
import numpy as np
import pytest


@pytest.fixture
def counted(monkeypatch):
    """``counted("linalg", "qr")``: a dict whose ``calls`` counts np.linalg.qr's calls from now on."""
    def make(*path: str) -> dict:
        owner = np
        for part in path[:-1]:
            owner = getattr(owner, part)
        original, seen = getattr(owner, path[-1]), {"calls": 0}

        def counting(*args, **kwargs):
            seen["calls"] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, path[-1], counting)
        return seen

    return make


def test_every_result_comes_from_one_call(counted):
    def f(x):
        q, r = np.linalg.qr(x)
        counts, edges = np.histogram(x, bins=4)
        sign, log = np.linalg.slogdet(x[:3, :3])
        values, vectors = np.linalg.eigh(x.T @ x)
        return q @ r, counts, edges, sign * log, values, vectors[0]

    x = np.random.default_rng(0).standard_normal((5, 3))
    compiled = ember.compile(f, backend="llvm", fullgraph=True)
    compiled(x)
    seen = {name: counted(*name.split(".")) for name in ("linalg.qr", "histogram", "linalg.slogdet", "linalg.eigh")}
    got, want = compiled(x), f(x)
    assert {name: s["calls"] for name, s in seen.items()} == {name: 2 for name in seen}  # one each, one eager
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_a_call_after_a_write_to_its_operand_runs_again(counted):
    def f(x):
        first = np.linalg.qr(x)[0]
        x[0] = 5.0
        second = np.linalg.qr(x)[1]
        return first, second

    x = np.random.default_rng(1).standard_normal((4, 3))
    compiled = ember.compile(f, fullgraph=True)
    got, want = compiled(x.copy()), f(x.copy())
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
