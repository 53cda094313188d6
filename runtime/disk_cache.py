"""On-disk cache of compiled kernel object code, so a new process skips LLVM.

Keys come from the backend (codegen/llvm/jit.py hashes the module's IR text together with
the host CPU name and features and the llvmlite version); the file name hashes the key with
Ember's version (``ember/version.py``: a leaf module, where ``importlib.metadata`` took 14 ms
of a new process's first compile), so a stale entry is simply never looked up. Each file
holds a header with a magic string, the payload's length and its SHA-256; a file that is
truncated, corrupt or unreadable reads as a miss, and the backend recompiles and overwrites
it. Writes are atomic (temporary file + ``os.replace``). The directory (``EMBER_CACHE_DIR``
or ``~/.cache/ember``) is the user's own, created with mode 0o700.

>>> import tempfile
>>> cache = DiskCache(tempfile.mkdtemp())
>>> cache.put("ab12", b"object code")
>>> cache.get("ab12")
b'object code'
>>> cache.get("cd34") is None
True
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from ..version import __version__

MAGIC = b"EMBERCACHE1\n"
_DIGEST = 32


def default_directory() -> Path:
    configured = os.environ.get("EMBER_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ember"


class DiskCache:
    """A directory of ``<hash of version and key>.o`` files: ``get(key) -> bytes | None`` and
    ``put(key, data)``."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory else default_directory()
        self.hits = 0
        self.misses = 0

    def _ensure_directory(self) -> bool:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self.directory.stat().st_uid == os.getuid():
                os.chmod(self.directory, 0o700)
            return True
        except OSError:
            return False

    def path(self, key: str) -> Path:
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"cache keys are lowercase hex digests, got {key!r}")
        return self.directory / f"{hashlib.sha256(f'{__version__}|{key}'.encode()).hexdigest()}.o"

    def get(self, key: str) -> bytes | None:
        try:
            raw = self.path(key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        payload = _unpack(raw)
        if payload is None:
            self.misses += 1
            return None
        self.hits += 1
        return payload

    def put(self, key: str, data: bytes) -> None:
        if not self._ensure_directory():
            return
        header = MAGIC + len(data).to_bytes(8, "little") + hashlib.sha256(data).digest()
        try:
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(header + data)
            os.replace(temporary, self.path(key))
        except OSError:
            try:
                os.unlink(temporary)
            except (OSError, UnboundLocalError):
                pass

    def clear(self) -> None:
        for entry in self.directory.glob("*.o"):
            entry.unlink(missing_ok=True)


def _unpack(raw: bytes) -> bytes | None:
    start = len(MAGIC) + 8 + _DIGEST
    if len(raw) < start or not raw.startswith(MAGIC):
        return None
    length = int.from_bytes(raw[len(MAGIC):len(MAGIC) + 8], "little")
    digest = raw[len(MAGIC) + 8:start]
    payload = raw[start:]
    if len(payload) != length or hashlib.sha256(payload).digest() != digest:
        return None
    return payload
