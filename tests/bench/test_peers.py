"""Peers: only their skip path runs here (none is installed), and the rebinding they rely on."""
from __future__ import annotations

import numpy as np
from ember.bench.peers import PEERS, Peer, rebind
from ember.bench.workloads import black_scholes, get_workload


def test_peers_skip_when_not_installed(monkeypatch):
    assert [p.name for p in PEERS] == ["torch.compile", "jax.jit", "numba"]
    monkeypatch.setattr(Peer, "unavailable_reason", lambda self: f"{self.module} is not installed")
    for peer in PEERS:
        assert peer.prepare(get_workload("tiny"), (), None) == f"{peer.module} is not installed"


def test_unavailable_reason_names_the_module():
    assert Peer("x", "surely_not_an_installed_module", None).unavailable_reason() == (
        "surely_not_an_installed_module is not installed")


def test_a_peer_that_cannot_run_a_workload_is_a_reason(monkeypatch):
    def setup(workload, args):
        raise TypeError("cannot branch on a traced value\nlong detail")
    peer = Peer("broken", "numpy", setup)
    assert peer.prepare(get_workload("tiny"), (), None) == "TypeError: cannot branch on a traced value"


def test_rebind_reaches_helper_functions():
    calls = []

    class CountingNumPy:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(np, name)
    args = get_workload("black_scholes").make_inputs(1 / 1024)
    assert np.array_equal(rebind(black_scholes, CountingNumPy())(*args), black_scholes(*args))
    assert "where" in calls  # np.where lives in the helper normal_cdf
