"""Running compiled code: the guarded cache, backends, configuration and logs."""
from .compiled_function import CacheEntry, CompiledFunction
from .config import Config, config
from .errors import GraphBreakError

__all__ = ["CacheEntry", "CompiledFunction", "Config", "config", "GraphBreakError"]
