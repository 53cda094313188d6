"""Large fresh outputs, reused once the caller has dropped them (a caching allocator).

A fresh NumPy array of several MiB comes from the kernel as new pages: NumPy asks for huge
pages, but every page is still faulted in and zeroed on first touch, which costs more than a
simple kernel's arithmetic (32 MiB: ~2.5 ms of faults against ~0.8 ms to write it). An
``OutputCache`` stands for one allocation site of a generated wrapper (a kernel's fresh
output, or the ``out=`` of a large matmul): it keeps the last ``KEEP`` arrays it handed out
and hands one out again when nothing but the cache refers to it any more: no Python
reference (views, memoryviews and ``np.frombuffer`` results all hold one through ``.base``)
and no weak reference. The caller sees an ordinary array that owns its data; the values are
those of ``np.empty`` (the kernels write every element). The cost is memory held between
calls: up to ``KEEP`` arrays per site, freed with the compiled entry (``ember.reset()``); an
array not handed out in ``IDLE_TAKES`` calls is let go.

Thread safety: the check and the hand-out happen under one lock, and the array is
referenced by the caller before the lock is released, so two calls never get the same array.
A call that finds the lock taken (another thread's, or its own: a finaliser the garbage
collector runs inside ``take`` that calls the compiled function again) gets a fresh array.

A kept array goes back out only as it was handed out: the caller may have made it read-only
or given it another dtype or strides. What the cache cannot hide: ``ndarray.resize`` of a
returned array raises (the cache's reference counts), as it does in NumPy for an array
something else refers to; ``ember.config.reuse_outputs = False`` turns reuse off.
"""
from __future__ import annotations

import os
import sys
import threading
import weakref

import numpy as np

from ..ir import hint_size

KEEP = 2              # ``y = f(x)`` holds the old y during the call: two buffers alternate
IDLE_TAKES = 8        # a kept array not handed out in this many takes is let go
MIN_BYTES = 1 << 20   # smaller arrays come from malloc's heap, with no page faults to save


class OutputCache:
    """One allocation site: ``take()`` is ``np.empty(shape, dtype)``, reusing dropped arrays."""

    __slots__ = ("shape", "dtype", "arrays", "last_taken", "takes", "lock", "__weakref__")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype):
        self.shape = shape
        self.dtype = dtype
        self.arrays: list[np.ndarray] = []
        self.last_taken: list[int] = []  # the take that last handed out arrays[i]
        self.takes = 0
        self.lock = threading.Lock()
        _LIVE.add(self)

    def _reference_counts(self) -> list[int]:
        return [sys.getrefcount(array) for array in self.arrays]

    def take(self, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """An array of ``shape`` (a site with dynamic dimensions passes the call's own; a kept
        array of another shape is let go once the caller has dropped it)."""
        shape = self.shape if shape is None else shape
        if not self.lock.acquire(blocking=False):
            return np.empty(shape, self.dtype)
        try:
            self.takes += 1
            array = None
            for i, count in enumerate(self._reference_counts()):
                if count == _UNREFERENCED and not weakref.getweakrefcount(self.arrays[i]):
                    if self.arrays[i].shape == shape and _as_handed_out(self.arrays[i], self.dtype):
                        array = self.arrays[i]
                        self.last_taken[i] = self.takes
                        break
                    self.last_taken[i] = -IDLE_TAKES - 1  # free, but not of this call: let go below
            # A reserve the caller's pattern no longer needs (the second buffer after one call
            # that kept its previous result) goes back to the allocator.
            for i in reversed(range(len(self.arrays))):
                if self.takes - self.last_taken[i] > IDLE_TAKES:
                    del self.arrays[i], self.last_taken[i]
            if array is None:
                array = np.empty(shape, self.dtype)
                if len(self.arrays) < KEEP:
                    self.arrays.append(array)
                    self.last_taken.append(self.takes)
            return array
        finally:
            self.lock.release()

    def __repr__(self) -> str:
        return f"OutputCache({self.shape}, {self.dtype})"


def _as_handed_out(array: np.ndarray, dtype: np.dtype) -> bool:
    """Writeable, C-contiguous and of ``dtype``, as ``np.empty`` made it (strides included)."""
    if not (array.flags.writeable and array.flags.c_contiguous and array.dtype == dtype):
        return False
    step, strides = dtype.itemsize, []
    for size in reversed(array.shape):
        strides.append(step)
        step *= size
    return array.strides == tuple(reversed(strides))


_LIVE: weakref.WeakSet[OutputCache] = weakref.WeakSet()


def _after_fork() -> None:
    for cache in list(_LIVE):
        cache.lock = threading.Lock()  # (another thread may have held it when the process forked)


os.register_at_fork(after_in_child=_after_fork)


def release_all() -> None:
    """Every live OutputCache forgets its arrays: the next call of each site allocates, as the
    first call did (what a memory measurement of one call should see)."""
    for cache in list(_LIVE):
        with cache.lock:
            cache.arrays.clear()
            cache.last_taken.clear()


def _calibrate() -> int:
    """The count ``_reference_counts`` sees for an array only the cache holds (it differs
    between Python versions: a comprehension is a frame of its own before 3.12)."""
    probe = OutputCache((1,), np.dtype(np.uint8))
    probe.arrays.append(np.empty(1, np.uint8))
    return probe._reference_counts()[0]


_UNREFERENCED = _calibrate()


def reusable(shape: tuple, dtype: np.dtype) -> bool:
    """Whether fresh outputs of this shape and dtype are worth an ``OutputCache`` (judged at the
    traced sizes of dynamic dimensions)."""
    return hint_size(shape) * np.dtype(dtype).itemsize >= MIN_BYTES
