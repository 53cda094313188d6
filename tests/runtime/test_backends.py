"""Backends: a decorated function starts importing its code generator before its first call."""
from __future__ import annotations

import subprocess
import sys
import textwrap

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
