"""Bytecode -> graph: symbolic execution of a frame, guards, and why a frame runs eagerly."""
from .capture import BreakInfo, Constant, FrameCapture, FromSource, GraphOutput, frame_params, trace
from .errors import Unsupported, UserCodeError
from .guards import Guard, GuardSet

__all__ = ["trace", "frame_params", "FrameCapture", "BreakInfo", "GraphOutput", "FromSource", "Constant",
           "Unsupported", "UserCodeError", "Guard", "GuardSet"]
