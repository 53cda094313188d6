"""The op set. Importing this package registers every op."""
from . import creation, elementwise, extern, fused, input, library, mutation, reductions, views  # noqa: F401
from .registry import OPS, Op, OpKind, get_op, register

__all__ = ["OPS", "Op", "OpKind", "get_op", "register"]
