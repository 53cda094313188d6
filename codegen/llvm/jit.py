"""LLVM module assembly, optimisation (O3 + loop and SLP vectorizers) and loading.

One module per graph holds all of its kernels (compiling them together saves ~40% of JIT
time). The optimised module is emitted as object code, which is what the on-disk cache
stores, and loaded into a fresh MCJIT engine (each engine owns its own target machine:
sharing one segfaults when the first engine is freed). Modules with the same text are
compiled once per process.

The disk cache is duck-typed (``get(key) -> bytes | None``, ``put(key, data)``; see
runtime/disk_cache.py): codegen never imports runtime. Its key covers the module text,
the host CPU name and features, and the llvmlite version (the cache adds Ember's); an entry
that fails to load or lacks a kernel is recompiled and overwritten, never trusted.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
from typing import Protocol

import llvmlite
import llvmlite.binding as llvm

from .math import libmvec


class ObjectCache(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def put(self, key: str, data: bytes) -> None: ...


@functools.cache
def _initialise() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    libmvec()


def _target_machine():
    _initialise()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(),
                                        opt=3, jit=True)


@functools.cache
def _optimiser():
    machine = _target_machine()
    tuning = llvm.create_pipeline_tuning_options(speed_level=3)
    tuning.loop_vectorization = True
    tuning.slp_vectorization = True
    return machine, tuning


# Part of every cache key: bump it when optimise() changes what the same IR compiles to
# (the package version alone does not change between development builds).
PIPELINE_VERSION = 2  # 2: the always-inliner after O3 (own vector math)


@functools.cache
def host_signature() -> str:
    """What compiled code depends on besides its IR: CPU, features, tool versions."""
    _initialise()
    return "|".join([llvm.get_process_triple(), llvm.get_host_cpu_name(),
                     llvm.get_host_cpu_features().flatten(), llvmlite.__version__,
                     f"pipeline {PIPELINE_VERSION}",
                     "libmvec" if libmvec() is not None else "libm"])


_PLACEHOLDER = re.compile(r"!@(set[\d_]+|\d+|loop\d+|scalar\d+)")
# Loops marked ``!llvm.loop !@scalarN`` (emit_kernel.py: the strided copies) are not vectorized.
# Loops marked ``!llvm.loop !@loopN`` (emit_kernel.py: those calling own vector math, and
# long bodies around a vector-math call) get this interleave count: with_break's kernel
# 3.05-3.16 ms at 2, 3.48-3.75 at 4 (the vectorizer's own pick, which spills the tables),
# 3.35-3.46 at 1 (2 threads, medians of 40 calls); black_scholes did not gain from 3 or 4.
INTERLEAVE = 2


def assemble_module(functions: list[tuple[str, str]], declarations: str) -> str:
    """Join kernel functions into one module, numbering their alias-scope metadata."""
    seen: set[str] = set()
    bodies: list[str] = []
    metadata = ['!0 = distinct !{!0, !"ember"}']
    for name, text in functions:
        if name not in seen:
            seen.add(name)
            bodies.append(_number_metadata(text, metadata))
    return "\n\n".join([declarations, *bodies, "\n".join(metadata)]) + "\n"


def _number_metadata(text: str, metadata: list[str]) -> str:
    """Replace one function's ``!@N`` / ``!@setA_B`` placeholders by module-wide ids."""
    scopes: dict[str, int] = {}
    lists: dict[str, int] = {}

    def scope(local: str) -> int:
        if local not in scopes:
            scopes[local] = len(metadata)
            metadata.append(f"!{scopes[local]} = distinct !{{!{scopes[local]}, !0}}")
        return scopes[local]

    def replace(match: re.Match) -> str:
        token = match.group(1)
        if token.startswith("loop"):  # each loop its own distinct node (LLVM's rule)
            node = len(metadata)
            metadata.append(f'!{node} = distinct !{{!{node}, !{{!"llvm.loop.interleave.count", i32 {INTERLEAVE}}}}}')
            return f"!{node}"
        if token.startswith("scalar"):
            node = len(metadata)
            metadata.append(f'!{node} = distinct !{{!{node}, !{{!"llvm.loop.vectorize.enable", i1 false}}}}')
            return f"!{node}"
        if token not in lists:
            members = token[3:].split("_") if token.startswith("set") else [token]
            ids = [scope(m) for m in members]
            lists[token] = len(metadata)
            metadata.append(f"!{lists[token]} = !{{{', '.join(f'!{i}' for i in ids)}}}")
        return f"!{lists[token]}"

    return _PLACEHOLDER.sub(replace, text)


class CompiledModule:
    """A loaded module: kernel name -> function address. Keeps its engine alive."""

    def __init__(self, engine, addresses: dict[str, int], from_cache: bool):
        self.engine = engine
        self.addresses = addresses
        self.from_cache = from_cache


_LOADED: dict[str, CompiledModule] = {}
_LOCK = threading.RLock()  # (re-entered where a finaliser the garbage collector runs mid-compile compiles)


# A fork waits for a compile another thread is running: the child would inherit LLVM's state (and
# llvmlite's own lock) half changed, and hang in its first compile. The child gets a fresh lock.
def _after_fork_in_child() -> None:
    global _LOCK
    _LOCK = threading.RLock()


os.register_at_fork(before=lambda: _LOCK.acquire(), after_in_parent=lambda: _LOCK.release(),
                    after_in_child=_after_fork_in_child)


def optimise(text: str):
    machine, tuning = _optimiser()
    module = llvm.parse_assembly(text)
    module.verify()
    builder = llvm.create_pass_builder(machine, tuning)
    builder.getModulePassManager().run(module, builder)
    if " alwaysinline " in text:
        # Own vector math (math.py) is called from the loops the vectorizer made, after the O3
        # inliner ran: inline it now, so its constant tables stay in registers across iterations.
        inline = llvm.ModulePassManager()
        inline.add_always_inliner_pass()
        inline.add_instruction_combine_pass()
        inline.run(module, builder)
    return module


def compile_to_object(text: str) -> bytes:
    machine, _ = _optimiser()
    return machine.emit_object(optimise(text))


def _load(data: bytes, names: list[str]) -> CompiledModule:
    _initialise()
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), _target_machine())
    engine.add_object_file(llvm.ObjectFileRef.from_data(data))
    engine.finalize_object()
    addresses = {name: engine.get_function_address(name) for name in names}
    if not all(addresses.values()):
        raise ValueError("compiled object lacks a kernel")
    return CompiledModule(engine, addresses, False)


def compile_module(text: str, names: list[str], cache: ObjectCache | None = None) -> CompiledModule:
    """Compile (or fetch from the process / disk cache) a module and resolve ``names``."""
    key = hashlib.sha256((host_signature() + "\n" + text).encode()).hexdigest()
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        loaded = None
        if cache is not None:
            data = cache.get(key)
            if data is not None:
                try:
                    loaded = _load(data, names)
                    loaded.from_cache = True
                except Exception:
                    loaded = None  # corrupt or stale: recompile below and overwrite
        if loaded is None:
            data = compile_to_object(text)
            loaded = _load(data, names)
            if cache is not None:
                cache.put(key, data)
        _LOADED[key] = loaded
        return loaded


def optimised_ir(text: str) -> str:
    """The optimised module as text (for ``ember dump --stage llvm`` and tests)."""
    return str(optimise(text))


def assembly(text: str) -> str:
    machine, _ = _optimiser()
    return machine.emit_assembly(optimise(text))
