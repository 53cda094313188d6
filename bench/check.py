"""Is a compiled (or peer) result the one eager NumPy computed?

Same structure (tuples, lists), same kind (NumPy scalar, 0-d or n-d array, Python value),
dtype and shape; values ``allclose`` with the per-dtype tolerances of :data:`TOLERANCES`
(NaN equal to NaN, integers and booleans exact) unless the workload overrides them; and the
call must leave its inputs as eager does (unchanged, for every workload here).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .workloads import Workload

# (rtol, atol) per result dtype; workloads may loosen them (Workload.rtol/atol, with a note).
TOLERANCES: dict[str, tuple[float, float]] = {
    "float16": (1e-2, 1e-3),
    "float32": (1e-4, 1e-5),
    "float64": (1e-9, 1e-12),
    "complex64": (1e-4, 1e-5),
    "complex128": (1e-9, 1e-12),
}
EXACT = (0.0, 0.0)  # integer and boolean results must match exactly


@dataclass(frozen=True, slots=True)
class Check:
    """A result against eager's: ``ok``, or a message saying where and how it differs."""

    ok: bool
    message: str = ""
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0


def tolerance(dtype: np.dtype, workload: Workload | None = None) -> tuple[float, float]:
    """(rtol, atol) for comparing results of ``dtype``; a workload's override wins."""
    rtol, atol = TOLERANCES.get(np.dtype(dtype).name, EXACT)
    if workload is not None:
        rtol = workload.rtol if workload.rtol is not None else rtol
        atol = workload.atol if workload.atol is not None else atol
    return rtol, atol


def tolerance_note(workload: Workload) -> str:
    """"rtol=0.001 (why)" where ``workload`` overrides the per-dtype tolerances, else ""."""
    limits = [f"{name}={value:g}" for name, value in (("rtol", workload.rtol), ("atol", workload.atol))
              if value is not None]
    return f"{' '.join(limits)} ({workload.tolerance_note})" if limits else ""


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "ndarray"
    if isinstance(value, np.generic):
        return "NumPy scalar"
    return type(value).__name__


def compare(expected: Any, actual: Any, workload: Workload | None = None, where: str = "result") -> Check:
    """Does ``actual`` equal eager's ``expected``: structure, type, dtype, shape and values?"""
    if isinstance(expected, tuple | list):
        if type(actual) is not type(expected) or len(actual) != len(expected):
            return Check(False, f"{where}: {_kind(expected)} of {len(expected)} expected, "
                                f"got {_kind(actual)}")
        return worst([compare(e, a, workload, f"{where}[{i}]")
                      for i, (e, a) in enumerate(zip(expected, actual, strict=True))])
    if not isinstance(expected, np.ndarray | np.generic):
        both_nan = actual != actual and expected != expected
        same = type(actual) is type(expected) and (actual == expected or both_nan)
        return Check(True) if same else Check(False, f"{where}: {expected!r} expected, got {actual!r}")
    if _kind(actual) != _kind(expected):
        return Check(False, f"{where}: {_kind(expected)} expected, got {_kind(actual)}")
    if actual.dtype != expected.dtype:
        return Check(False, f"{where}: dtype {expected.dtype} expected, got {actual.dtype}")
    if actual.shape != expected.shape:
        return Check(False, f"{where}: shape {expected.shape} expected, got {actual.shape}")
    rtol_atol = tolerance(expected.dtype, workload)
    return _compare_values(np.asarray(expected), np.asarray(actual), rtol_atol, where)


def _compare_values(exp: np.ndarray, act: np.ndarray, tolerances: tuple[float, float], where: str) -> Check:
    if exp.size == 0:
        return Check(True)
    if tolerances == EXACT:
        same = np.array_equal(act, exp)
        return Check(same, "" if same else f"{where}: values differ (exact comparison for {exp.dtype})")
    rtol, atol = tolerances
    wide = np.complex128 if exp.dtype.kind == "c" else np.float64
    with np.errstate(all="ignore"):
        diff = np.abs(act.astype(wide) - exp.astype(wide))
        diff = np.where(np.isfinite(exp) & np.isfinite(act), diff, 0.0)
        max_abs = float(diff.max())
        max_rel = float((diff / np.maximum(np.abs(exp.astype(wide)), np.finfo(np.float64).tiny)).max())
    close = np.isclose(act, exp, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return Check(True, "", max_abs, max_rel)
    message = (f"{where}: {int((~close).sum())} of {exp.size} values differ beyond rtol={rtol:g} "
               f"atol={atol:g} (max abs err {max_abs:.3g}, max rel err {max_rel:.3g})")
    return Check(False, message, max_abs, max_rel)


def check_unchanged(original: Sequence[Any], after: Sequence[Any]) -> Check:
    """Did the call leave its array arguments as they were? (``after`` held copies of them.)"""
    for i, (before, now) in enumerate(zip(original, after, strict=True)):
        if isinstance(before, np.ndarray) and not np.array_equal(before, now, equal_nan=True):
            return Check(False, f"argument {i} was modified by the call (eager leaves it unchanged)")
    return Check(True)


def worst(checks: Sequence[Check]) -> Check:
    """The first failing check, or a passing one with the largest errors seen."""
    for check in checks:
        if not check.ok:
            return check
    return Check(True, "", max((c.max_abs_err for c in checks), default=0.0),
                 max((c.max_rel_err for c in checks), default=0.0))
