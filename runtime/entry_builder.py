"""Building one cache entry: trace the frame, compile its guard, optimise the graph, build the
backend's artifact and the generated wrapper that runs it (and hands over at graph breaks)."""
from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..frontend import BreakInfo, DynamicShapeFailed, FrameCapture, ResumePoint, dim_origins, trace
from ..ir import OpKind, SourceLoc, SymbolicShapeError
from .backends import build_artifact
from .cache_entry import CacheEntry, debug_file
from .config import config
from .errors import GraphBreakError
from .frame_wrapper import build_wrapper
from .logs import log_stage
from .pipeline import format_timings, optimise_graph


class RunsEagerly(Exception):
    """A traced graph this backend cannot run exactly (the message says why; ``loc``: where)."""

    def __init__(self, reason: str, loc: SourceLoc | None = None):
        super().__init__(reason)
        self.loc = loc


@dataclass(frozen=True)
class EntryBuilder:
    """What building an entry of one compiled function needs from it."""

    function: types.FunctionType
    backend: str
    fullgraph: bool
    resume_target: Callable[[ResumePoint], Any]  # the compiled resume function for a break point
    call_callee: Callable[[Any, tuple, dict], Any]  # a call CPython makes at a graph break
    owner: Any  # the compiled function: a break that resumes in it is a loop its wrapper runs
    index: int  # the entry's place among the function's entries (names debug files)
    named_backend: str | None = None  # the backend ember.compile was given (None: chosen by the inputs)

    def build(self, frame_args: tuple, dynamic: frozenset[tuple[str, int]],
              scalars: frozenset[str] = frozenset()) -> CacheEntry:
        """A traced entry for ``frame_args``: compiled, or running eagerly (why is in its capture)."""
        code = self.function
        capture = trace(code, frame_args, dynamic=dynamic, dynamic_scalars=scalars)
        if dynamic and capture.eager is not None:
            raise DynamicShapeFailed(f"runs eagerly with dynamic dimensions: {capture.eager.reason}", dynamic)
        guard_source = capture.guards.source_text(code.__name__, capture.params)
        guard = capture.guards.compile(code.__name__, capture.params, code.__globals__, code.__closure__,
                                       debug_file(f"{code.__qualname__}.{self.index}.guards.py", guard_source))
        stages = {"bytecode": capture.bytecode, "guards": guard_source}
        entry = CacheEntry(guard, None, capture, stages)
        if capture.eager is not None:
            stages["breaks"] = str(capture.eager)
            log_stage("breaks", f"{code.__qualname__} runs eagerly: {capture.eager}")
            if self.fullgraph and not capture.eager.user_error:
                raise GraphBreakError(f"ember.compile(fullgraph=True): graph break in {code.__qualname__} at "
                                      f"{capture.eager}")
            return entry
        plan = capture.break_plan
        if plan is not None:
            info = BreakInfo(plan.reason, plan.loc)
            stages["breaks"] = f"{info}\n    (split: the graph before it is compiled; CPython runs this " \
                               f"{plan.inst.opname}; resume functions continue)"
            log_stage("breaks", f"{code.__qualname__} splits: {info}")
            if self.fullgraph:
                raise GraphBreakError(f"ember.compile(fullgraph=True): graph break in {code.__qualname__} "
                                      f"at {info}")
        self._compile(entry, dynamic)
        return entry

    def _device_backend(self, capture: FrameCapture, checks_values: bool) -> str:
        """The backend for a graph over CuPy arrays: triton, unless ember.compile named a CPU one,
        or the code calls NumPy where eager CuPy raises."""
        from ..codegen.triton.device import cupy_refusal  # (imports no triton)

        if self.named_backend not in (None, "triton"):
            raise RunsEagerly(f"CuPy arrays, and backend={self.named_backend!r} runs on the CPU "
                              "(backend='triton' or none runs them on the GPU)")
        for fn, loc in capture.numpy_calls:
            if problem := cupy_refusal(fn):
                raise RunsEagerly(problem, loc)
        if capture.inputs_overlap:
            raise RunsEagerly("CuPy input arrays that share memory, one of them written")
        if checks_values:
            raise RunsEagerly("an op that checks values (an index out of bounds raises), which GPU kernels do not")
        return "triton"

    def _compile(self, entry: CacheEntry, dynamic: frozenset[tuple[str, int]]) -> None:
        """Optimise the entry's graph and build what runs it; a failure runs it eagerly (or,
        with dynamic dimensions, raises DynamicShapeFailed: the static compile must work)."""
        capture, stages, fn = entry.capture, entry.stages, self.function
        assert capture.graph is not None  # (built only when tracing succeeded: build)
        traced = capture.graph
        stages["graph"] = str(capture.graph)
        try:
            optimised, timings = optimise_graph(capture.graph)
            stages["optimized"] = f"{format_timings(timings)}\n{optimised}"
            # Kernels assume inputs they write do not overlap other inputs; when they do, the
            # reference backend (which runs NumPy on the real arrays) is exact. So it is for an
            # op that raises on values (an index out of bounds) under Triton: CuPy does not check.
            checks_values = any(n.op.checks_values for n in optimised.nodes)
            backend = self.backend
            if capture.on_device:
                backend = self._device_backend(capture, checks_values)
            elif capture.inputs_overlap or (checks_values and backend == "triton"):
                backend = "numpy"
            artifact = build_artifact(optimised, backend, num_threads=config.num_threads,
                                      cache_dir=config.cache_dir, reuse_outputs=config.reuse_outputs,
                                      own_matmul=config.own_matmul)
            if capture.on_device and (unsupported := artifact.device_unsupported()):
                raise RunsEagerly(unsupported)
            stages["kernels"] = artifact.describe()
            entry.live_stages["kernels"] = artifact.describe
            entry.kernel_graph = getattr(artifact, "kernel_graph", None)
            if backend == "llvm":
                stages["llvm"] = artifact.llvm_ir()
                entry.live_stages["llvm"] = artifact.llvm_ir
            if backend == "triton":
                stages["triton"] = artifact.triton_source()
            capture.graph = optimised
            targets = [self.resume_target(point) for point, _ in capture.break_plan.resumes] \
                if capture.break_plan is not None else []
            # A loop's body that resumes in itself runs the following rounds itself.
            loop_target = self.owner if any(target is self.owner for target in targets) else None
            entry.run, stages["wrapper"] = build_wrapper(capture, artifact, fn.__globals__, fn.__closure__, targets,
                                                         self.call_callee, loop_target=loop_target,
                                                         loop_guard=entry.guard)
            if config.debug_dir:  # recompile from a real file so a debugger can step into it
                name = f"{fn.__qualname__}.{self.index}.wrapper.py"
                entry.run, _ = build_wrapper(capture, artifact, fn.__globals__, fn.__closure__, targets,
                                             self.call_callee, debug_file(name, stages["wrapper"]), loop_target,
                                             entry.guard)
            entry.mutates = any(n.op.kind is OpKind.MUTATION for n in optimised.nodes)
            grown = [d for d, size in capture.guarded_minimums.items() if d.minimum > size]
            if grown:  # a pass indexed a symbol further than the guard (made when tracing ended) admits
                raise SymbolicShapeError(f"{grown[0]} needs >= {grown[0].minimum} after optimising", tuple(grown))
        except RunsEagerly as reason:
            capture.eager = BreakInfo(str(reason), reason.loc)
            stages["breaks"] = str(capture.eager)
            log_stage("breaks", f"{fn.__qualname__} runs eagerly: {capture.eager}")
            if self.fullgraph:
                raise GraphBreakError(f"ember.compile(fullgraph=True): {fn.__qualname__} cannot be compiled: "
                                      f"{reason}") from None
            entry.run = None
        except Exception as exc:
            if dynamic:  # whatever failed, the static compile is the one that must work
                dims = dim_origins(traced, capture.input_sources, getattr(exc, "dims", ()))
                raise DynamicShapeFailed(f"{type(exc).__name__}: {exc}", dims or dynamic) from exc
            if not config.suppress_errors:
                raise
            capture.eager = BreakInfo(f"internal compiler error ({type(exc).__name__}: {exc}); running eagerly",
                                      None)
            stages["breaks"] = str(capture.eager)
            log_stage("breaks", f"{fn.__qualname__}: {capture.eager}")
            entry.run = None
