"""``CompiledFunction``: the guarded cache of compiled entries behind ``ember.compile``."""
from __future__ import annotations

import functools
import inspect
import threading
import time
import types
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..frontend import DynamicShapeFailed, ResumePoint, resume_function
from ..frontend.markers import TRACED_FUNCTION_ATTRIBUTE, is_disabled
from .backends import BACKENDS, prefetch
from .binder import make_binder
from .cache_entry import RUN_EAGERLY, CacheEntry, admits, eager_entry
from .config import config
from .entry_builder import EntryBuilder
from .errors import GraphBreakError
from .frame_wrapper import Failed, Resume
from .logs import log_stage, warn
from .specialisation import DYNAMIC_BACKENDS, Specialisation, dim_names

# Resume functions by break point, backend (as named and as resolved: a named one decides where
# CuPy arrays run), and the globals and closure cells they read (two
# closures of one function, or equal code in two namespaces, must not share them), and user
# functions called at graph breaks: shared by every entry and every call that reaches them, and
# kept alive by the compiled functions that call them (``children``), so a closure compiled
# and dropped takes its own with it. (A cached function holds its globals, cells and Python
# function, so the ids in its key stay theirs while it is cached.) Callees by function and
# named backend.
_RESUME_FUNCTIONS: weakref.WeakValueDictionary[tuple, CompiledFunction] = weakref.WeakValueDictionary()
_CALLEES: weakref.WeakValueDictionary[tuple, CompiledFunction] = weakref.WeakValueDictionary()

# Called as listener(qualname, entry) after every new cache entry (``ember dump FILE.py`` uses it).
COMPILE_LISTENERS: list[Callable[[str, CacheEntry], None]] = []


class CompiledFunction:
    """A function compiled on first call and cached per guard set.

    >>> import numpy as np, ember
    >>> @ember.compile(backend="numpy")
    ... def scale(x):
    ...     return x * 2.0
    >>> scale(np.arange(3.0))
    array([0., 2., 4.])
    """

    def __init__(self, fn: Callable, *, backend: str | None = None, fullgraph: bool = False,
                 dynamic: bool | None = None):
        function, bound_self = _unwrap(fn)
        if backend is not None and backend not in BACKENDS:
            raise ValueError(f"ember.compile: unknown backend {backend!r}; choose one of {BACKENDS}")
        self._original = fn
        self._function = function
        self._bound_self = bound_self
        self._backend = backend
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.entries: list[CacheEntry] = []
        self._only_entry: CacheEntry | None = None  # the fast path's entry (_entries_changed)
        self.children: list[CompiledFunction] = []  # resume functions and callees compiled at breaks
        self._warned_limit = False
        self._warned_trace_error = False
        self._compiling = threading.RLock()  # one compile at a time: threads calling with new kinds
        self.specialisation = Specialisation(function)  # which dimensions and numbers have changed
        self._read_signature()
        functools.update_wrapper(self, fn)
        prefetch(self.backend)

    if TYPE_CHECKING:  # set by functools.update_wrapper
        __qualname__: str
        __wrapped__: Callable

    def _read_signature(self) -> None:
        """What the function's code and defaults decide: how calls bind, and whether it is traced.
        They are kept to notice reassignments (``f.__code__ = ...``, ``f.__defaults__ = ...``)."""
        function = self._function
        code = self._code = function.__code__
        self._defaults, self._kwdefaults = function.__defaults__, function.__kwdefaults__
        self._eager_reason = _never_traced_reason(function)
        self._binder = make_binder(function) if self._eager_reason is None else None
        # What a call from traced code inlines (frontend/calls.py): the function, unless bound or never traced.
        setattr(self, TRACED_FUNCTION_ATTRIBUTE,
                function if self._bound_self is None and self._eager_reason is None else None)
        simple = not (code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)) and not code.co_kwonlyargcount
        self._plain_arity = code.co_argcount if simple else -1

    def _signature_reassigned(self) -> bool:
        """Whether the function's code or defaults were reassigned since they were read."""
        function = self._function
        return function.__code__ is not self._code or function.__defaults__ is not self._defaults or \
            function.__kwdefaults__ is not self._kwdefaults

    def _adopt_signature(self) -> None:
        """Bind by the new defaults; new code makes every entry stale (each traced the old code)."""
        if self._function.__code__ is not self._code:
            self.reset()
        self._read_signature()

    @property
    def backend(self) -> str:
        return self._backend or config.backend

    @property
    def stages(self) -> dict[str, str]:
        """The readable stages (bytecode, graph, optimized, kernels, llvm, guards, wrapper, breaks)
        of the newest cache entry; empty before the first call."""
        if not self.entries:
            return {}
        return self.entries[-1].current_stages()

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        return self if instance is None else types.MethodType(self, instance)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # The commonest call first (every call pays for this path): one compiled entry, plain
        # positional arguments (no default is read), the code it traced, its guard holds: its
        # code runs and a plain result returns.
        only = self._only_entry
        if only is not None and not kwargs and len(args) == self._plain_arity and \
                self._function.__code__ is self._code:
            try:
                held = only.guard(*args)
            except Exception:  # a source that no longer resolves: the guard fails
                held = False
            if held:
                result = only.run(*args)  # type: ignore[misc]  # _entries_changed: run is set
                if type(result) is Failed or type(result) is Resume:
                    return self._finish(only, result, args, kwargs)
                return result
        if self._signature_reassigned():
            self._adopt_signature()
        if self._binder is None:
            if self.fullgraph:
                raise GraphBreakError(f"ember.compile(fullgraph=True): {self._eager_reason}")
            return self._original(*args, **kwargs)
        if self._bound_self is not None:
            args = (self._bound_self, *args)
        # Plain positional calls of a function without defaults or varargs bind as they are.
        frame_args = args if not kwargs and len(args) == self._plain_arity else self._binder(*args, **kwargs)
        # Otherwise the newest entry whose guard holds runs, or a new one is compiled.
        entry = self._entry_for(frame_args) or self._compile(frame_args)
        if entry.run is None:
            return self._function(*args, **kwargs)
        return self._finish(entry, entry.run(*frame_args), args, kwargs)

    def _finish(self, entry: CacheEntry, result: Any, args: tuple, kwargs: dict) -> Any:
        """A run's result for the caller: a failure handled (``entry`` ran it), resumes followed."""
        if type(result) is Failed:
            result = self._failed(entry, result, args, kwargs)
        # Graph breaks hand over to resume functions; following them here, in a loop, keeps
        # a loop that runs in CPython from growing the Python stack per iteration.
        while type(result) is Resume:
            result = result.target._step(result.args, result.args, {})
        return result

    def _step(self, frame_args: tuple, args: tuple, kwargs: dict) -> Any:
        """Run this frame's segment: its result, or a Resume for the next segment."""
        entry = self._entry_for(frame_args) or self._compile(frame_args)
        if entry.run is None:
            return self._function(*args, **kwargs)
        result = entry.run(*frame_args)
        return self._failed(entry, result, args, kwargs) if type(result) is Failed else result

    def _entry_for(self, frame_args: tuple) -> CacheEntry | None:
        """The newest entry whose guard holds. Newer entries are tried first: one compiled after a
        recompile (a dimension or a loop counter read at run time) serves the calls that follow,
        and an older one's guard would fail on each."""
        for entry in reversed(self.entries):  # (admits, inlined: every call without a fast path runs it)
            try:
                if entry.guard(*frame_args):
                    return entry
            except Exception:  # a source that no longer resolves: the guard fails
                pass
        return None

    def _entries_changed(self) -> None:
        """The fast path of ``__call__`` serves the only entry when it runs compiled code for the
        function's own positional arguments (no bound instance to prepend, no binding to do)."""
        only = self.entries[0] if len(self.entries) == 1 else None
        plain = self._bound_self is None and self._plain_arity >= 0
        self._only_entry = only if only is not None and only.run is not None and plain else None

    def _failed(self, entry: CacheEntry, result: Failed, args: tuple, kwargs: dict) -> Any:
        if entry.mutates:
            # Writes already happened in eager order up to the failing op, as eager would have
            # done them; re-raise without Ember's frames.
            result.error.add_note(f"(raised by code ember compiled from {self._function.__qualname__})")
            raise result.error.with_traceback(None) from None
        # Pure code failed at run time: eager reproduces the exception with the user's traceback.
        if result.args is not None:  # (a later iteration of a loop its wrapper ran itself)
            args, kwargs = result.args, {}
        value = self._function(*args, **kwargs)
        if not entry.capture.handles_errors and not entry.warned_failure:
            # Eager did not raise, and no except clause explains it: the compiled code is wrong.
            entry.warned_failure = True
            warn(f"{self._function.__qualname__}: compiled code raised {type(result.error).__name__}: "
                 f"{result.error} where eager did not; the call ran eagerly (an Ember bug: "
                 "EMBER_LOGS=all shows the stages)")
        return value

    def _compile(self, frame_args: tuple) -> CacheEntry:
        with self._compiling:  # (another thread may have compiled an entry for these meanwhile)
            return self._entry_for(frame_args) or self._compile_entry(frame_args)

    def _compile_entry(self, frame_args: tuple) -> CacheEntry:
        if len(self.entries) >= config.recompile_limit:
            if not self._warned_limit:
                self._warned_limit = True
                warn(f"{self._function.__qualname__}: recompile limit ({config.recompile_limit}) reached; "
                     "new argument kinds run eagerly (raise ember.config.recompile_limit to compile more)")
            return eager_entry("recompile limit reached")
        if self.entries:
            self._log_recompile(frame_args)
        started = time.perf_counter()
        seen = self.specialisation
        symbolic = self.dynamic if config.dynamic_shapes else False
        dynamic = seen.dynamic_dims(self.entries, frame_args, symbolic if self.backend in DYNAMIC_BACKENDS else False)
        scalars = seen.dynamic_scalars(self.entries, frame_args, symbolic)
        builder = EntryBuilder(self._function, self.backend, self.fullgraph, self._resume_target, self._call_callee,
                               self, len(self.entries), named_backend=self._backend)
        blamed: set[tuple[str, int]] = set()
        while True:
            try:
                entry = builder.build(frame_args, dynamic, scalars)
                break
            except DynamicShapeFailed as failure:  # compile those dimensions static; exact as before
                failed = failure.dims or dynamic
                blamed |= failed
                seen.static_dims |= failed
                dynamic = dynamic - failed
                log_stage("recompiles", f"{self._function.__qualname__}: {', '.join(dim_names(failed))} "
                                        f"stay static ({failure.reason})")
            except GraphBreakError:
                raise
            except Exception as exc:  # an Ember bug while tracing: this call runs eagerly, not kept
                if not config.suppress_errors:
                    raise
                reason = f"internal compiler error while tracing ({type(exc).__name__}: {exc}); running eagerly"
                if self.fullgraph:
                    raise GraphBreakError(f"ember.compile(fullgraph=True): {reason}") from exc
                if not self._warned_trace_error:
                    self._warned_trace_error = True
                    warn(f"{self._function.__qualname__}: {reason} (an Ember bug: please report it)")
                return eager_entry(reason)
        if blamed and entry.capture.eager is not None and entry.capture.eager.user_error:
            seen.static_dims -= blamed  # the call itself was bad (eager raises): not the symbols' fault
        entry.compile_seconds = time.perf_counter() - started
        code = self._function
        stages = entry.stages
        for stage in ("bytecode", "graph", "optimized", "kernels", "llvm", "guards", "wrapper"):
            if stage in stages:
                log_stage(stage, f"{code.__qualname__}:\n{stages[stage]}")
        self.entries.append(entry)
        self._entries_changed()
        for listener in COMPILE_LISTENERS:
            listener(code.__qualname__, entry)
        if entry.run is not None and not admits(entry, frame_args):
            # A guard that rejects the very arguments it was traced from would run code made for
            # other values: this call runs eagerly instead (later calls try the entry as usual).
            warn(f"{code.__qualname__}: a new entry's guard rejects the arguments it was traced from; "
                 "the call ran eagerly (an Ember bug: EMBER_LOGS=guards shows the guard)")
            return RUN_EAGERLY
        return entry

    def _resume_target(self, point: ResumePoint) -> CompiledFunction:
        """The compiled resume function for a break point: one per point, globals and closure,
        shared by every entry."""
        fn = self._function
        key = (point, self._backend, self.backend, id(fn.__globals__), tuple(map(id, fn.__closure__ or ())))
        target = _RESUME_FUNCTIONS.get(key)
        if target is None:
            function = resume_function(point, self._function.__globals__, self._function.__closure__)
            target = CompiledFunction(function, backend=self._backend, fullgraph=self.fullgraph, dynamic=self.dynamic)
            _RESUME_FUNCTIONS[key] = target  # (children, below, keeps it)
        if target not in self.children:
            self.children.append(target)
        return target

    def _call_callee(self, fn: Any, args: tuple, kwargs: dict) -> Any:
        """A call CPython makes at a graph break: user functions are compiled as frames of their own,
        so their work on both sides of their own breaks is still compiled."""
        function = fn.__func__ if isinstance(fn, types.MethodType) else fn
        if type(function) is not types.FunctionType or _never_traced_reason(function) is not None:
            return fn(*args, **kwargs)
        key = (id(function), self._backend)
        compiled = _CALLEES.get(key)
        if compiled is None:
            compiled = CompiledFunction(function, backend=self._backend, dynamic=self.dynamic)
            _CALLEES[key] = compiled
        if compiled not in self.children:
            self.children.append(compiled)
        if isinstance(fn, types.MethodType):
            args = (fn.__self__, *args)
        return compiled(*args, **kwargs)

    def _log_recompile(self, frame_args: tuple) -> None:
        last = self.entries[-1].capture
        fn = self._function
        failure = last.guards.first_failure(last.params, frame_args, fn.__globals__, fn.__closure__)
        log_stage("recompiles", f"recompiling {fn.__qualname__} (entry {len(self.entries) + 1}): "
                                f"guard failed: {failure}")

    def reset(self) -> None:
        """Forget every compiled entry (and which dimensions were dynamic)."""
        self.entries.clear()
        self._entries_changed()
        self.specialisation.reset()
        self._warned_limit = False


def clear_shared_caches() -> None:
    """Forget every resume function and callee compiled at graph breaks (``ember.reset``)."""
    _RESUME_FUNCTIONS.clear()
    _CALLEES.clear()


def _unwrap(fn: Any) -> tuple[types.FunctionType, Any]:
    """The Python function to trace, and the object bound to it for methods."""
    if isinstance(fn, CompiledFunction):
        return fn._function, fn._bound_self
    if isinstance(fn, types.MethodType) and isinstance(fn.__func__, types.FunctionType | CompiledFunction):
        inner, _ = _unwrap(fn.__func__)
        return inner, fn.__self__
    if isinstance(fn, types.FunctionType):
        return fn, None
    if isinstance(fn, functools.partial):
        raise TypeError("ember.compile: functools.partial is not supported; compile the function itself")
    if isinstance(fn, types.BuiltinFunctionType | types.BuiltinMethodType) or type(fn).__name__ == "ufunc":
        raise TypeError(f"ember.compile: {fn!r} is a builtin or C function with no Python bytecode to trace; "
                        "call it directly, or compile a Python function that calls it")
    if not callable(fn):
        raise TypeError(f"ember.compile expects a Python function, got {type(fn).__name__}")
    call = inspect.getattr_static(type(fn), "__call__", None)
    if isinstance(call, types.FunctionType):
        return call, fn
    raise TypeError(f"ember.compile: cannot trace {type(fn).__name__} objects (no Python __call__)")


def _never_traced_reason(fn: types.FunctionType) -> str | None:
    flags = fn.__code__.co_flags
    if flags & (inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR):
        return f"{fn.__qualname__} is a generator function; it runs eagerly"
    if flags & (inspect.CO_COROUTINE | inspect.CO_ITERABLE_COROUTINE):
        return f"{fn.__qualname__} is a coroutine (async) function; it runs eagerly"
    if is_disabled(fn):
        return f"{fn.__qualname__} is marked ember.disable"
    return None
