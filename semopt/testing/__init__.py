"""Reference problems and conformance checks that every registered allocator must pass.

``semopt.testing.conformance_violations(allocation, ...)`` lists what is wrong with one
result (empty list = conforming); per-problem modules (``semopt.testing.minpower``, ...)
hold the shared reference problems. The project's own test suite runs them against
every registered method, and users can run them against their own allocators.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from semopt.result import STATUSES, Allocation

__all__ = ["conformance_violations"]


def conformance_violations(allocation: Any, *, budget_w: float | None = None,
                           target: float | None = None, rtol: float = 1e-9) -> list[str]:
    """Invariants every allocation must satisfy; returns the list of violations.

    Checks: the result type; a known status; ``success`` exactly when the status is
    not infeasible/outage; non-negative, finite power; total power equal to the sum of
    the per-stream powers; on success, total power within ``budget_w`` and achieved
    perception within ``target`` (both with relative tolerance ``rtol``).
    """
    out: list[str] = []
    if not isinstance(allocation, Allocation):
        return [f"result is a {type(allocation).__name__}, not semopt.Allocation"]
    status = np.asarray(allocation.status)
    success = np.asarray(allocation.success, dtype=bool)
    if not np.all(np.isin(status, STATUSES)):
        out.append(f"unknown status in {np.unique(status)}")
    if np.any(success != np.isin(status, ("optimal", "max_iterations"))):
        out.append("success does not match status")
    power = np.asarray(allocation.power_w, dtype=float)
    defined = ~np.isnan(power)
    if np.any(power[defined] < 0) or np.any(np.isinf(power)):
        out.append("negative or infinite power")
    if np.any(defined):
        total = np.asarray(allocation.total_power_w, dtype=float)
        if not np.allclose(np.nansum(power, axis=-1), total, rtol=1e-12, atol=0):
            out.append("total_power_w is not the sum of power_w")
        if budget_w is not None and np.any(success & (total > budget_w * (1 + rtol))):
            out.append(f"successful allocation over budget ({np.max(total)} > {budget_w})")
    if target is not None:
        perception = np.asarray(allocation.perception, dtype=float)
        if np.any(success & (perception > target + max(rtol, 1e-9))):
            out.append(f"successful allocation misses the target ({np.max(perception)} > {target})")
    if not isinstance(allocation.message, str) or not allocation.message:
        out.append("empty message")
    if not (isinstance(allocation.wall_time_s, float) and math.isfinite(allocation.wall_time_s)):
        out.append("wall_time_s is not a finite float")
    return out
