"""The per-call program: a generated, printable Python function over the kernel graph.

The shared builder (codegen/wrapper.py) writes everything but the launches; each kernel is
called through its launcher with a tuple of arrays. The same text runs on both devices:
``_empty``/``_asarray`` and the references of creation ops are bound per device (NumPy for
the interpreter, CuPy on a GPU), and NumPy's dispatch protocols send the references of other
extern ops (matmul, concatenate) to CuPy.

Example of the generated text for ``(x + y) * 2.0 - np.exp(x)``::

    def run(inputs):
        v_x, v_y = inputs
        b_3 = _empty((100,), _c0)
        _k0((v_x, v_y, b_3))
        return [b_3]
"""
from __future__ import annotations

from ...passes.kernels import Kernel, KernelGraph
from ..wrapper import ProgramBuilder


class WrapperBuilder(ProgramBuilder):
    """After ``build()``, ``launchers`` maps each ``_<kernel>`` name to its kernel (bound per device)."""

    def __init__(self, kernel_graph: KernelGraph):
        super().__init__(kernel_graph)
        self.launchers: dict[str, Kernel] = {}

    def launch(self, kernel: Kernel, operands: list[str]) -> None:
        launcher = f"_{kernel.name}"
        self.launchers[launcher] = kernel
        self.lines.append(f"    {launcher}(({', '.join(operands)},))")
