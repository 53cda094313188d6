"""Quick timing of the LLVM backend on issue 4's workloads, versus NumPy eager.

Not a test and not the benchmark (that is ``ember bench``): a backend engineer's check that
runs the workload functions of ``ember.bench.workloads`` through a tiny tracer (operator
overloading, no bytecode frontend) into graphs, compiles them with ``compile_graph`` and
times eager and compiled calls interleaved in one process::

    python -m ember.bench.llvm_timing [--repeat 15] [--threads 2] [--only softmax,gelu] [--clock cpu]
"""
from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable

import numpy as np

from ..codegen.llvm import compile_graph
from ..ir import Graph, Node, TensorMeta


class Traced:
    """An array stand-in that records NumPy calls into a Graph (enough for the workloads)."""

    __array_priority__ = 1000
    __neg__: Callable[[Traced], Traced]  # (assigned below, with the other operators)

    def __init__(self, graph: Graph, node: Node):
        self.graph, self.node = graph, node

    def _call(self, op: str, *args, **kwargs) -> Traced:
        args = tuple(a.node if isinstance(a, Traced) else a for a in args)
        return Traced(self.graph, self.graph.call(op, *args, **kwargs))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        assert method == "__call__" and not kwargs
        return self._call(ufunc.__name__, *inputs)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.where:
            return self._call("where", *args)
        raise NotImplementedError(func)

    def _axes(self, axis):
        ndim = self.node.meta.ndim
        if axis is None:
            return None
        return tuple(sorted(a % ndim for a in ((axis,) if isinstance(axis, int) else axis)))

    def max(self, axis=None, keepdims=False):
        return self._call("max", self, axis=self._axes(axis), keepdims=keepdims)

    def sum(self, axis=None, keepdims=False):
        return self._call("sum", self, axis=self._axes(axis), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return self._call("mean", self, axis=self._axes(axis), keepdims=keepdims)

    def transpose(self, *axes):
        return self._call("transpose", self, axes)

    def __getitem__(self, index):
        return self._call("getitem", self, index)

    def __matmul__(self, other):
        return self._call("matmul", self, other)


for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("truediv", np.divide),
                      ("lt", np.less), ("gt", np.greater), ("pow", np.power)]:
    setattr(Traced, f"__{_name}__", lambda self, other, _u=_ufunc: _u(self, other))
    setattr(Traced, f"__r{_name}__", lambda self, other, _u=_ufunc: _u(other, self))
Traced.__neg__ = lambda self: np.negative(self)


def trace(fn, args) -> tuple[Graph, list]:
    """Graph of ``fn`` on ``args``: arrays become inputs, Python scalars constants."""
    graph = Graph(fn.__name__)
    traced, inputs = [], []
    for i, arg in enumerate(args):
        if isinstance(arg, np.ndarray):
            traced.append(Traced(graph, graph.add_input(f"a{i}", TensorMeta.of(arg))))
            inputs.append(arg)
        else:
            traced.append(arg)
    result = fn(*traced)
    graph.set_outputs([result.node])
    return graph, inputs


def _median_times(calls, repeat: int, clock=time.perf_counter) -> list[float]:
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(repeat):
        for i, call in enumerate(calls):
            start = clock()
            call()
            samples[i].append(clock() - start)
    return [statistics.median(s) for s in samples]


def main(argv=None) -> None:
    from ..runtime.threadpool import shared_pool
    from .workloads import WORKLOADS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default="")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: this thread's CPU time (steadier on a shared machine; 1 thread only)")
    options = parser.parse_args(argv)
    wanted = set(options.only.split(",")) - {""}
    print(f"{'workload':<14}{'numpy ms':>10}{'1 thread':>10}{'x':>7}{'threads':>10}{'x':>7}{'compile s':>11}")
    for workload in WORKLOADS:
        if workload.name == "with_break" or (wanted and workload.name not in wanted):
            continue
        args = workload.make_inputs()
        graph, inputs = trace(workload.fn, args)
        start = time.perf_counter()
        single = compile_graph(graph)
        compile_seconds = time.perf_counter() - start
        multi = compile_graph(graph, num_threads=options.threads, pool=shared_pool(options.threads))
        expected = workload.fn(*args)
        np.testing.assert_allclose(single.run(inputs)[0], expected, rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(multi.run(inputs)[0], expected, rtol=1e-3, atol=1e-5)
        repeat = options.repeat * (200 if workload.name == "tiny" else 1)
        calls = [functools.partial(workload.fn, *args), functools.partial(single.run, inputs),
                 functools.partial(multi.run, inputs)]
        clock = time.perf_counter if options.clock == "wall" else time.thread_time
        eager, one, many = _median_times(calls, repeat, clock)
        scale, unit = (1e6, "us") if workload.name == "tiny" else (1e3, "")
        print(f"{workload.name:<14}{eager * scale:>10.3f}{one * scale:>10.3f}{eager / one:>7.2f}"
              f"{many * scale:>10.3f}{eager / many:>7.2f}{compile_seconds:>11.3f} {unit}")


if __name__ == "__main__":
    main()
