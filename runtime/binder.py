"""A generated function with the user's signature that binds a call's arguments the way
Python does (same defaults, same TypeErrors) and returns them in frame order."""
from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import Any

from ..frontend import frame_params
from ..frontend.guards import identifier


def make_binder(fn: types.FunctionType) -> Callable[..., tuple]:
    signature = inspect.signature(fn)
    namespace: dict[str, Any] = {}
    parts: list[str] = []
    saw_keyword_only = False
    frame_names = frame_params(fn.__code__)
    for i, param in enumerate(signature.parameters.values()):
        # inspect calls a comprehension's ".0" parameter "implicit0"; generated code uses the code's names
        raw = param.name if param.name in frame_names else "." + param.name.removeprefix("implicit")
        text = identifier(raw)
        if param.kind is param.VAR_POSITIONAL:
            text, saw_keyword_only = "*" + text, True
        elif param.kind is param.VAR_KEYWORD:
            text = "**" + text
        elif param.kind is param.KEYWORD_ONLY and not saw_keyword_only:
            parts.append("*")
            saw_keyword_only = True
        if param.default is not param.empty:
            namespace[f"_default{i}"] = param.default
            text += f"=_default{i}"
        parts.append(text)
        if param.kind is param.POSITIONAL_ONLY and (
                i + 1 == len(signature.parameters)
                or list(signature.parameters.values())[i + 1].kind is not param.POSITIONAL_ONLY):
            parts.append("/")
    names = [identifier(n) for n in frame_names]
    returned = ", ".join(names) + ("," if len(names) == 1 else "")
    name = identifier(fn.__name__)  # a lambda's name is not one; TypeErrors use __qualname__
    source = f"def {name}({', '.join(parts)}):\n    return ({returned})\n"
    exec(compile(source, f"<ember binder {fn.__qualname__}>", "exec"), namespace)
    binder = namespace[name]
    binder.__qualname__ = fn.__qualname__
    # The function's own dict: a keyword-only default changed in place binds on the next call.
    binder.__kwdefaults__ = fn.__kwdefaults__
    return binder
