"""``CacheEntry``: one specialisation of a compiled function, and the entries that run eagerly."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..frontend import BreakInfo, FrameCapture, GuardSet
from .config import config


@dataclass
class CacheEntry:
    """One specialisation of a function: its guard, and what runs when the guard holds."""

    guard: Callable[..., bool]
    run: Callable[..., Any] | None  # None: run the original function eagerly
    capture: FrameCapture
    stages: dict[str, str] = field(default_factory=dict)
    compile_seconds: float = 0.0
    mutates: bool = False
    kernel_graph: Any = None  # the fused program (llvm, triton), for `ember dump --stage dot`
    warned_failure: bool = False  # its compiled code raised where eager did not (said once)
    # Stages a first call extends (the loop orders it decides, the modules compiled for them).
    live_stages: dict[str, Callable[[], str]] = field(default_factory=dict)

    def current_stages(self) -> dict[str, str]:
        """The readable stages as they are now."""
        return {**self.stages, **{name: describe() for name, describe in self.live_stages.items()}}

    @property
    def eager_reason(self) -> BreakInfo | None:
        return self.capture.eager


def admits(entry: CacheEntry, frame_args: tuple) -> bool:
    """Whether ``entry``'s guard holds for ``frame_args``."""
    try:
        return bool(entry.guard(*frame_args))
    except Exception:  # a source that does not resolve: the guard fails
        return False


class _AlwaysTrue:
    def compile(self, *args: Any) -> Callable[..., bool]:
        return lambda *a: True

    def source_text(self, name: str, params: tuple) -> str:
        return f"def guard_{name}(*args):\n    return True"

    def __len__(self) -> int:
        return 0


def eager_entry(reason: str) -> CacheEntry:
    """An entry that runs the function eagerly, whatever the arguments."""
    capture = FrameCapture("eager", (), cast(GuardSet, _AlwaysTrue()))  # (stands in for one)
    capture.eager = BreakInfo(reason, None)
    return CacheEntry(lambda *a: True, None, capture)


RUN_EAGERLY = eager_entry("a guard that rejects the arguments traced (an Ember bug)")


def debug_file(name: str, text: str) -> str | None:
    """Write generated code to ``ember.config.debug_dir`` (if set) and return its path."""
    if not config.debug_dir:
        return None
    directory = Path(config.debug_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    path.write_text(text + "\n")
    return str(path)
