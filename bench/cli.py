"""``ember bench`` and ``ember demo``: argument parsing and the two commands.

``ember/cli.py`` hands its remaining arguments over and exits with the return value::

    from .bench.cli import run_bench, run_demo
    sys.exit(run_bench(argv))   # ember bench [--workloads a,b] [--scale S] [--repeat N] ...
    sys.exit(run_demo(argv))    # ember demo [--scale S] [--backend B]

Both return 0 when every compiled result matched eager, 1 when one did not (or failed to
compile), 2 when Ember has no ``compile`` to benchmark. Tests pass ``compile_fn`` (a stand-in
such as ``lambda fn, **kw: fn``) and ``stdout``/``stderr`` streams.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .demo import collect_stages, format_stages, new_batch_size_note
from .harness import CompileFn, WorkloadResult, phases, run_workload
from .peers import PEERS, Peer
from .report import Progress, busy_warning, environment, format_table, load_average, to_json, write_plot
from .timing import MALLOC_REGIMES, TimingPolicy, set_malloc_regime
from .warm_start import format_warm_starts, measure_warm_start
from .workloads import DEMO_WORKLOADS, WORKLOADS, get_workload, select_workloads

DEMO_SCALE = 0.25
DEMO_BUDGET_S = 0.2


@dataclass(frozen=True, slots=True)
class Target:
    """What is being benchmarked: a compile function, Ember's reset, and Ember itself if loaded."""

    compile_fn: CompileFn
    reset: Callable[[], None] | None
    package: Any | None


def _ember_package() -> Any | None:
    parent = __package__.rpartition(".")[0] if __package__ else ""
    if not parent:
        return None
    try:
        return importlib.import_module(parent)
    except ImportError:
        return None


def resolve_target(compile_fn: CompileFn | None) -> Target | None:
    """``compile_fn`` if given, else ``ember.compile`` (``None`` while Ember has none)."""
    package = _ember_package()
    reset = getattr(package, "reset", None) if package is not None else None
    if compile_fn is not None:
        return Target(compile_fn, reset if compile_fn is getattr(package, "compile", None) else None, package)
    ember_compile = getattr(package, "compile", None) if package is not None else None
    return Target(ember_compile, reset, package) if callable(ember_compile) else None


def _release_kept(target: Target) -> Callable[[], None]:
    """Ember's way to forget the output buffers it keeps for reuse (nothing for others)."""
    if target.package is None or target.reset is None:
        return lambda: None
    return importlib.import_module(f"{target.package.__name__}.codegen.buffers").release_all


def _comma_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        try:
            get_workload(name)
        except KeyError as exc:
            raise argparse.ArgumentTypeError(exc.args[0]) from None
    return names


def _positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def bench_parser() -> argparse.ArgumentParser:
    """The arguments of ``ember bench``."""
    parser = argparse.ArgumentParser(
        prog="ember bench", description="NumPy eager against Ember compiled, workload by workload.",
        epilog="workloads: " + ", ".join(w.name for w in WORKLOADS))
    parser.add_argument("--workloads", type=_comma_list, default=None, metavar="A,B",
                        help="comma-separated workload names (default: all)")
    parser.add_argument("--scale", type=_positive(float), default=1.0,
                        help="input size factor; 1.0 is the size of issue 4 (default: 1.0)")
    parser.add_argument("--repeat", type=_positive(int), default=None, metavar="N",
                        help="timed samples per measurement (default: adaptive, 10 to 100 within --budget)")
    parser.add_argument("--budget", type=_positive(float), default=0.5, metavar="SECONDS",
                        help="target time per measurement when --repeat is not given (default: 0.5)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="also draw the speedups (needs matplotlib)")
    parser.add_argument("--peers", action="store_true",
                        help="add torch.compile, jax.jit and numba columns where installed")
    parser.add_argument("--backend", default=None, help="ember.compile backend (default: Ember's default)")
    parser.add_argument("--dynamic", action="store_true",
                        help="compile with dynamic=True: every dimension of the arguments symbolic")
    regimes = "; ".join(f"{name}: {text}" for name, text in MALLOC_REGIMES.items())
    parser.add_argument("--malloc", choices=list(MALLOC_REGIMES), default="default",
                        help=f"allocator regime for the whole run: {regimes} (default: default)")
    parser.add_argument("--warm-start", action="store_true",
                        help="also time import and first call of each workload in a new process, "
                             "its kernels in the disk cache")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser


def run_bench(argv: Sequence[str] | None = None, *, compile_fn: CompileFn | None = None,
              stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """``ember bench``: measure, print the table, write ``--json``/``--plot``; see the module doc."""
    args = bench_parser().parse_args(argv)
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    target = resolve_target(compile_fn)
    if target is None:
        stderr.write("ember bench: this Ember has no ember.compile yet; nothing to benchmark\n")
        return 2
    problem = set_malloc_regime(args.malloc)
    if problem is not None:
        stderr.write(f"ember bench: {problem}\n")
        return 2
    peers = list(PEERS) if args.peers else []
    for peer in peers:
        reason = peer.unavailable_reason()
        if reason is not None:
            stderr.write(f"ember bench: peer {peer.name} is n/a: {reason}\n")
    policy = TimingPolicy(budget_s=args.budget, repeat=args.repeat)
    load_at_start = load_average()
    compile_kwargs: dict[str, Any] = {"backend": args.backend} if args.backend else {}
    if args.dynamic:
        compile_kwargs["dynamic"] = True
    results = _run_all(select_workloads(args.workloads), target, args.scale, compile_kwargs, policy, peers,
                       stderr, progress=not args.no_progress)
    stdout.write(_header(args.backend, args.scale, args.malloc, target, load_at_start, args.dynamic))
    stdout.write(format_table(results, [peer.name for peer in peers]))
    if args.warm_start:
        stdout.write(format_warm_starts([measure_warm_start(r.name, args.scale, args.backend) for r in results]))
    if args.json:
        settings = {"backend": args.backend, "dynamic": args.dynamic, "scale": args.scale, "malloc": args.malloc,
                    "peers": [p.name for p in peers], "load_average_at_start": load_at_start,
                    "compile_fn": _name_of(target.compile_fn)}
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(to_json(results, settings, policy), file, indent=2)
            file.write("\n")
        stderr.write(f"ember bench: wrote {args.json}\n")
    if args.plot:
        stderr.write(f"ember bench: {write_plot(results, args.plot, [peer.name for peer in peers])}\n")
    return 0 if all(r.ok for r in results) else 1


def _run_all(workloads: Sequence[Any], target: Target, scale: float, kwargs: dict[str, Any],
             policy: TimingPolicy, peers: Sequence[Peer], stderr: TextIO,
             progress: bool) -> list[WorkloadResult]:
    steps = phases([peer.name for peer in peers])
    bar = Progress(len(workloads) * len(steps), stream=stderr, enabled=progress)
    release_kept = _release_kept(target)
    results = []
    try:
        for index, workload in enumerate(workloads):
            def on_phase(phase: str, index: int = index, name: str = workload.name) -> None:
                bar.update(index * len(steps) + steps.index(phase), name, phase)
            results.append(run_workload(workload, scale=scale, compile_fn=target.compile_fn,
                                        compile_kwargs=kwargs, policy=policy, reset=target.reset,
                                        peers=peers, on_phase=on_phase, release_kept=release_kept))
    finally:
        bar.close()
    return results


def _name_of(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _header(backend: str | None, scale: float, malloc: str, target: Target, load: float | None,
            dynamic: bool = False) -> str:
    env = environment()
    load_text = "" if load is None else f", load {load:.1f} at start"
    dynamic_text = ", dynamic=True" if dynamic else ""
    return (f"ember bench: {_name_of(target.compile_fn)}, backend={backend or 'default'}{dynamic_text}, "
            f"scale={scale:g}, "
            f"malloc={malloc}; python {env['python']}, numpy {env['numpy']}, {env['cpu_count']} CPUs"
            f"{load_text}\n{busy_warning(load=load)}\n")


# --- the demo -----------------------------------------------------------------------------


def demo_parser() -> argparse.ArgumentParser:
    """The arguments of ``ember demo``."""
    parser = argparse.ArgumentParser(prog="ember demo", description="Ember's quick start: compile a few "
                                     "workloads, show what the compiler made of one, and time them.")
    parser.add_argument("--scale", type=_positive(float), default=DEMO_SCALE,
                        help=f"input size factor for the table (default: {DEMO_SCALE})")
    parser.add_argument("--budget", type=_positive(float), default=DEMO_BUDGET_S, metavar="SECONDS",
                        help=f"target time per measurement (default: {DEMO_BUDGET_S})")
    parser.add_argument("--backend", default=None, help="ember.compile backend (default: Ember's default)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser


def run_demo(argv: Sequence[str] | None = None, *, compile_fn: CompileFn | None = None,
             stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """``ember demo``: compile softmax, layernorm, gelu and tiny; show one; time them all."""
    args = demo_parser().parse_args(argv)
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    target = resolve_target(compile_fn)
    if target is None:
        stderr.write("ember demo: this Ember has no ember.compile yet; nothing to show\n")
        return 2
    kwargs = {"backend": args.backend} if args.backend else {}
    workloads = select_workloads(DEMO_WORKLOADS)
    shown = workloads[0]
    stdout.write(f"ember demo: compiling {', '.join(w.name for w in workloads)}\n\n")
    stdout.write(f"def {shown.name}: {shown.description}\n")
    try:
        inputs = shown.make_inputs(scale=1 / 512)
        compiled = target.compile_fn(shown.fn, **kwargs)
        compiled(*inputs)
        stages, note = collect_stages(target.package, compiled, shown.fn, inputs)
    except Exception as exc:  # show the failure, then still print the table (it marks it too)
        compiled, stages, note = None, {}, f"(compiling {shown.name} failed: {type(exc).__name__}: {exc})"
    stdout.write(note + "\n")
    if stages:
        stdout.write("\n" + format_stages(stages))
    if compiled is not None:  # a new batch size: the recompile makes that dimension dynamic
        stdout.write("\n" + new_batch_size_note(compiled, shown.make_inputs(scale=1 / 256, seed=1)))
    stdout.write(f"\neager NumPy against compiled, scale={args.scale:g} (ember bench for all workloads):\n\n")
    policy = TimingPolicy(budget_s=args.budget, min_samples=5)
    kwargs = {"backend": args.backend} if args.backend else {}
    results = _run_all(workloads, target, args.scale, kwargs, policy, [], stderr, progress=not args.no_progress)
    stdout.write(format_table(results))
    return 0 if all(r.ok for r in results) else 1
