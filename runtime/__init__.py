"""Running compiled code: the guarded cache, backends, configuration and logs."""
from .cache_entry import CacheEntry
from .compiled_function import CompiledFunction
from .config import Config, config
from .errors import GraphBreakError

__all__ = ["CacheEntry", "CompiledFunction", "Config", "config", "GraphBreakError"]
