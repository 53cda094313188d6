"""The generated Python function a cache entry runs: fetch the graph inputs from their
sources, call the artifact, and rebuild the frame's return value.

It is printable (the ``wrapper`` stage) and is all that runs per call besides the guard.
"""
from __future__ import annotations

from typing import Any

from ..frontend import Constant, FrameCapture, FromSource, GraphOutput


def wrapper_source(capture: FrameCapture) -> tuple[str, dict[str, Any]]:
    constants: dict[str, Any] = {}

    def rebuild(spec: Any) -> str:
        if isinstance(spec, GraphOutput):
            return f"out[{spec.index}]"
        if isinstance(spec, FromSource):
            return spec.source.expr()
        if isinstance(spec, Constant):
            if isinstance(spec.value, int | float | bool | str | type(None)) and not _is_special_float(spec.value):
                return repr(spec.value)
            name = f"K{len(constants)}"
            constants[name] = spec.value
            return name
        kind, children = spec
        if kind is dict:
            return "{" + ", ".join(f"{k!r}: {rebuild(v)}" for k, v in children.items()) + "}"
        items = ", ".join(rebuild(c) for c in children)
        if kind is tuple:
            return f"({items},)" if len(children) == 1 else f"({items})"
        return f"[{items}]"

    inputs = ", ".join(s.expr() for s in capture.input_sources)
    lines = [f"def run_{capture.name}({', '.join(capture.params)}):",
             f"    out = artifact([{inputs}])",
             f"    return {rebuild(capture.output_spec)}"]
    return "\n".join(lines), constants


def _is_special_float(value: Any) -> bool:
    return isinstance(value, float) and (value != value or value in (float("inf"), float("-inf")))


def build_wrapper(capture: FrameCapture, artifact: Any, globals_: dict, closure: tuple | None):
    source, constants = wrapper_source(capture)
    namespace = {"artifact": artifact, "G": globals_, "C": closure or (), **constants}
    exec(compile(source, f"<ember wrapper {capture.name}>", "exec"), namespace)
    return namespace[f"run_{capture.name}"], source
