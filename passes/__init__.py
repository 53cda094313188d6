"""Graph -> graph passes. Each is a pure function: it returns a new graph and leaves its input alone.

``optimise`` runs them in order (see manager.PASSES), verifying after each one.
"""
from .cse import eliminate_common_subexpressions
from .dce import eliminate_dead_code
from .fold import fold_constants
from .manager import PASSES, optimise
from .rewriting import copy_graph
from .simplify import simplify

__all__ = [
    "optimise", "PASSES", "simplify", "fold_constants", "eliminate_common_subexpressions",
    "eliminate_dead_code", "copy_graph",
]
