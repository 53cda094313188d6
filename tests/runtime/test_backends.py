"""Backends: a decorated function starts importing its code generator before its first call."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import ember
import numpy as np
import pytest


@pytest.mark.parametrize(("backend", "imported"), [("llvm", True), ("numpy", False)])
def test_decorating_imports_the_code_generator_in_the_background(backend, imported):
    script = textwrap.dedent(f"""
        import sys, threading, numpy as np, ember
        assert "ember.codegen.llvm" not in sys.modules

        @ember.compile(backend={backend!r})
        def f(x):
            return x * 2.0

        for thread in threading.enumerate():
            if thread.name.startswith("ember-prefetch"):
                thread.join()
        print("ember.codegen.llvm" in sys.modules)
        assert (f(np.arange(3.0)) == np.arange(3.0) * 2.0).all()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(imported)]


def test_a_fork_waits_for_the_import_so_the_child_can_compile():
    """Forked right after decorating, the child compiles: it inherited no import half done."""
    script = textwrap.dedent("""
        import os, numpy as np, ember

        @ember.compile
        def f(x):
            return x * 2.0

        pid = os.fork()
        if pid == 0:
            os._exit(0 if (f(np.arange(3.0)) == np.arange(3.0) * 2.0).all() else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """)
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0"]


def test_an_internal_error_while_tracing_runs_the_call_eagerly(monkeypatch, caplog):
    """An Ember bug met while tracing: the call runs eagerly, once warned (or, with
    suppress_errors off, raises); entries compiled before keep serving their calls."""
    import ember.runtime.entry_builder as entry_builder

    compiled = ember.compile(lambda x: x * 2.0 + 1.0)
    np.testing.assert_array_equal(compiled(np.ones(3)), np.full(3, 3.0))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(entry_builder, "trace", broken)
    with ember.config.patch(suppress_errors=True):
        np.testing.assert_array_equal(compiled(np.ones(4, np.float32)), np.full(4, 3.0, np.float32))
    assert "internal compiler error while tracing (RuntimeError: a bug)" in caplog.text
    assert len(compiled.entries) == 1 and compiled(np.ones(3)) is not None
    with ember.config.patch(suppress_errors=False), pytest.raises(RuntimeError):
        compiled(np.ones(5, np.int32))
    with ember.config.patch(suppress_errors=True), pytest.raises(ember.GraphBreakError):  # (it promises no fallback)
        ember.compile(lambda x: x * 2.0, fullgraph=True)(np.ones(3))
