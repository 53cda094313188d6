"""Logging of every stage, switched on by ``EMBER_LOGS=graph,guards,recompiles,...``.

Each stage logs through ``logging.getLogger("ember.<stage>")`` at INFO, so applications can
route it like any other log. When EMBER_LOGS names a stage and nobody configured a handler,
Ember prints to stderr.
"""
from __future__ import annotations

import logging
import os
import sys

STAGES = ("bytecode", "graph", "optimized", "kernels", "llvm", "triton", "guards", "wrapper", "breaks",
          "recompiles")


def enabled_stages() -> set[str]:
    raw = os.environ.get("EMBER_LOGS", "")
    names = {s.strip() for s in raw.split(",") if s.strip()}
    if "all" in names:
        return set(STAGES)
    return names & set(STAGES)


_configured = False


def _logger(stage: str) -> logging.Logger:
    global _configured
    root = logging.getLogger("ember")
    if not _configured:
        _configured = True
        if enabled_stages() and not root.handlers and not logging.getLogger().handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("[ember.%(stage)s] %(message)s"))
            root.addHandler(handler)
            root.setLevel(logging.INFO)
    return logging.getLogger(f"ember.{stage}")


def log_stage(stage: str, text: str) -> None:
    """Log one stage's text: at INFO if EMBER_LOGS names the stage, else at DEBUG (so an
    application that turns on DEBUG for "ember" sees every stage)."""
    logger = _logger(stage)
    level = logging.INFO if stage in enabled_stages() else logging.DEBUG
    if logger.isEnabledFor(level):
        logger.log(level, text, extra={"stage": stage})


def warn(message: str) -> None:
    _logger("recompiles").warning(message, extra={"stage": "warning"})
