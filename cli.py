"""The ``ember`` command: look inside the compiler, stage by stage, and measure it.

    ember dump FILE.py:FUNC --args "f32[4096,2048], f32[2048]" [--stage graph --stage guards] [--dynamic]
    ember dump FILE.py                      # run the script, print the stages of every compile
    ember explain FILE.py:FUNC --args "..."  # graphs, breaks (file:line) and guards
    ember bench [--workloads softmax,gelu] [--json F] [--plot F.png] [--peers]
    ember demo                              # the quick start: compile real workloads, show IR, compare
"""
from __future__ import annotations

import argparse
import ast
import os
import runpy
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

from . import compile as ember_compile
from . import explain
from .ir import parse_dtype
from .passes.dot import to_dot
from .runtime.cache_entry import CacheEntry
from .runtime.compiled_function import COMPILE_LISTENERS, CompiledFunction
from .runtime.explain import with_descendants

DUMP_STAGES = ("bytecode", "graph", "optimized", "kernels", "llvm", "triton", "guards", "wrapper", "breaks")
DEFAULT_STAGES = ("bytecode", "graph", "optimized", "guards", "breaks")


def parse_args_spec(spec: str, seed: int = 0) -> list[Any]:
    """``"f32[4,8], i64[3], 2, 0.5"`` -> random arrays of those dtypes and shapes, and literals."""
    rng = np.random.default_rng(seed)
    values = []
    for item in _split_top_level(spec):
        if "[" in item and item.endswith("]"):
            dtype_text, dims = item[:-1].split("[", 1)
            shape = tuple(int(d) for d in dims.split(",") if d.strip())
            values.append(_random_array(rng, parse_dtype(dtype_text.strip()), shape))
        else:
            values.append(ast.literal_eval(item))
    return values


def _split_top_level(spec: str) -> list[str]:
    items, depth, current = [], 0, ""
    for char in spec:
        depth += {"[": 1, "(": 1, "]": -1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current.strip())
    return items


def _random_array(rng: np.random.Generator, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(0, 100, shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def format_entry(qualname: str, entry: CacheEntry, stages: Sequence[str]) -> str:
    current = entry.current_stages()
    texts = {stage: current.get(stage) if stage != "dot" else _dot(entry) for stage in stages}
    parts = []
    for stage, text in texts.items():
        if text:  # (a DOT comment for dot, so `ember dump --stage dot ... | dot -Tsvg` reads it)
            header = f"=== {stage}: {qualname} ==="
            parts.append(f"{'// ' if stage == 'dot' else ''}{header}\n{text.rstrip()}")
    missing = [stage for stage, text in texts.items() if not text]
    if missing and entry.eager_reason is not None:  # say why, rather than print nothing
        parts.append(f"=== {', '.join(missing)}: {qualname} runs eagerly ===\n{entry.eager_reason}")
    return "\n\n".join(parts)


def _dot(entry: CacheEntry) -> str | None:
    """The DOT text of a compiled entry's optimized graph (drawn only when asked for)."""
    if entry.run is None or entry.capture.graph is None:
        return None
    return to_dot(entry.capture.graph, entry.kernel_graph)


def _load_function(target: str) -> Any:
    path, _, name = target.rpartition(":")
    namespace = runpy.run_path(path, run_name="__ember_cli__")
    if name not in namespace:
        raise SystemExit(f"ember: {path} defines no {name!r}")
    return namespace[name]


def _python_function(fn: Any) -> Any:
    return fn.__wrapped__ if isinstance(fn, CompiledFunction) else fn


def command_dump(options: argparse.Namespace, out: TextIO) -> int:
    stages = options.stage or (DEFAULT_STAGES if options.backend != "llvm" else DUMP_STAGES)
    if ":" in options.target and not options.target.endswith(".py"):
        fn = _python_function(_load_function(options.target))
        compiled = ember_compile(fn, backend=options.backend, dynamic=True if options.dynamic else None)
        try:
            compiled(*parse_args_spec(options.args or ""))
            error = None
        except Exception as raised:  # the user's function on random arguments: still show what compiled
            error = raised
        for function in with_descendants(compiled):
            for entry in function.entries:
                print(format_entry(function.__qualname__, entry, stages), file=out)
        if error is not None:
            print(f"# the call raised {type(error).__name__}: {error} (arguments from --args are random: "
                  "integers 0..99, floats standard normal)", file=out)
            return 1
        return 0
    def show(qualname: str, entry: CacheEntry) -> None:
        print(format_entry(qualname, entry, stages), file=out, flush=True)

    COMPILE_LISTENERS.append(show)
    try:
        sys.argv = [options.target]
        runpy.run_path(options.target, run_name="__main__")
    finally:
        COMPILE_LISTENERS.remove(show)
    return 0


def command_explain(options: argparse.Namespace, out: TextIO) -> int:
    fn = _python_function(_load_function(options.target))
    report = explain(fn, backend=options.backend)(*parse_args_spec(options.args or ""))
    print(report, file=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ember", description="Ember: a tracing compiler for NumPy functions.")
    commands = parser.add_subparsers(dest="command", required=True)
    dump = commands.add_parser("dump", help="print the compiler's stages for a function or a script")
    dump.add_argument("target", help="FILE.py:FUNC, or FILE.py to run a script")
    dump.add_argument("--args", help='argument spec, e.g. "f32[4096,2048], f32[2048], 0.5"')
    dump.add_argument("--stage", action="append", choices=(*DUMP_STAGES, "dot"),
                      help="stage to print (repeatable); dot: Graphviz text of the graph, a cluster per kernel")
    dump.add_argument("--backend", default=None, help="numpy or llvm (default: ember.config.backend)")
    dump.add_argument("--dynamic", action="store_true",
                      help="compile every dimension of the array arguments for any size (ember.compile(dynamic=True))")
    explain_parser = commands.add_parser("explain", help="report graphs, graph breaks and guards")
    explain_parser.add_argument("target", help="FILE.py:FUNC")
    explain_parser.add_argument("--args", help="argument spec, as for dump")
    explain_parser.add_argument("--backend", default=None)
    commands.add_parser("bench", help="eager vs compiled on the benchmark workloads", add_help=False)
    commands.add_parser("demo", help="the quick start: compile workloads, show the IR, compare speed",
                        add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("bench", "demo"):
        from .bench.cli import run_bench, run_demo

        return (run_bench if argv[0] == "bench" else run_demo)(argv[1:])
    options = build_parser().parse_args(argv)
    if options.backend is None:
        options.backend = os.environ.get("EMBER_BACKEND") or None
    handler = {"dump": command_dump, "explain": command_explain}[options.command]
    return handler(options, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
