"""Bytecode -> graph: symbolic execution of a frame, guards, and why a frame runs eagerly."""
from .breaks import BreakPlan
from .capture import BreakInfo, DynamicShapeFailed, FrameCapture, dim_origins, frame_params, scalar_arguments, trace
from .errors import Unsupported, UserCodeError
from .guards import Guard, GuardSet
from .rebuild import Attribute, Constant, Container, FreshIterator, FromSource, GraphOutput, ResumedIterator
from .resume import ResumePoint, resume_function

__all__ = ["trace", "frame_params", "scalar_arguments", "FrameCapture", "BreakInfo", "BreakPlan", "GraphOutput",
           "FromSource", "Attribute", "Constant", "Container", "FreshIterator", "ResumedIterator", "ResumePoint",
           "resume_function", "Unsupported", "UserCodeError", "Guard", "GuardSet", "DynamicShapeFailed", "dim_origins"]
