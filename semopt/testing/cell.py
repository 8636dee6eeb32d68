"""Shared reference problems of the cell problem (U users sharing one power budget).

Small cells on the Xu et al. scenario (SNRs of users at 100–470 m at the budget, per-user
SNR for all streams), both shipped tables, both schemes, both CSI modes and both
objectives. Each case's ``check`` rechecks a result independently of the cell code:
every user's perception is recomputed from its powers with a fresh min-power problem's
link model and table, the cell total against the budget, and for max-served the number
served against the optimum obtained by sorting the least powers of a separate batched
min-power call (``cost="power"``, same reference power).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from semopt.result import Allocation
from semopt.testing import ReferenceProblem

__all__ = ["check_cell", "optimal_served", "reference_problems"]

_EXACT_MAX_SERVED = ("dual", "knapsack")


def _problem(options: dict[str, Any]) -> Any:
    from semopt.problems.minpower import MinPowerProblem

    keys = ("scheme", "csi", "bits", "code_rate", "log_term")
    return MinPowerProblem(table=options.get("table", "xu2025-kodak-clip"), cost="power",
                           **{k: options[k] for k in keys if k in options})


def optimal_served(options: dict[str, Any], snr_db: np.ndarray, budget_w: float,
                   target: Any, *, reference_power_w: float | None = None) -> int:
    """The max-served optimum: sort the least powers of one batched min-power call.

    ``snr_db`` (U, I), or (U,) for one SNR per user on all its streams (as the cell).
    """
    import semopt

    snr_db = np.asarray(snr_db, dtype=float)
    if snr_db.ndim <= 1:
        snr_db = np.repeat(snr_db.reshape(-1, 1), _problem(options).n_streams, axis=1)
    reference = budget_w if reference_power_w is None else reference_power_w
    keys = ("scheme", "csi", "bits", "code_rate", "log_term")
    res = semopt.allocate(snr_db, budget_w, target,
                          problem="min-power", table=options.get("table", "xu2025-kodak-clip"),
                          cost="power", reference_power_w=reference,
                          **{k: options[k] for k in keys if k in options})
    least = np.where(np.atleast_1d(res.success), np.atleast_1d(res.total_power_w), np.inf)
    least = np.sort(least[np.isfinite(least)])
    return int(np.searchsorted(np.cumsum(least), budget_w, side="right"))


def check_cell(options: dict[str, Any], snr_db: Any, budget_w: float, target: Any,
               allocation: Allocation, *, reference_power_w: float | None = None) -> list[str]:
    """Independent recheck of a cell allocation; returns the violations (empty: fine)."""
    problem = _problem(options)
    n = problem.n_streams
    snr = np.asarray(snr_db, dtype=float)
    snr = np.repeat(snr.reshape(-1, 1), n, axis=1) if snr.ndim <= 1 else snr
    power = np.asarray(allocation.power_w, dtype=float).reshape(-1, n)
    reference = budget_w if reference_power_w is None else reference_power_w
    rates = problem.error_rate(10.0 ** (snr / 10.0) * power / reference)
    rates = np.where(power > 0, rates, problem.max_error_rate)
    perception = np.asarray(problem.perception(rates), dtype=float)
    success = np.atleast_1d(allocation.success)
    out = []
    total = float(power.sum())
    if total > budget_w * (1 + 1e-9):
        out.append(f"cell power {total:.9g} W exceeds the budget {budget_w:.9g} W")
    reported = np.atleast_1d(np.asarray(allocation.perception, dtype=float))
    if not np.allclose(reported, perception, rtol=1e-9, atol=1e-12):
        out.append("reported perception differs from the recomputed one")
    if target is not None:
        t = np.broadcast_to(np.asarray(target, dtype=float), success.shape)
        if np.any(success & (perception > t + 1e-9)):
            out.append("a served user misses its target when rechecked")
        if options.get("objective", "max-served") == "max-served":
            best = optimal_served(options, snr, budget_w, target,
                                  reference_power_w=reference_power_w)
            served = int(np.count_nonzero(success))
            if allocation.method in _EXACT_MAX_SERVED and served != best:
                out.append(f"{served} users served, the sorted optimum serves {best}")
            if served > best:
                out.append(f"{served} users served, more than the optimum {best}")
    if int(allocation.extras.get("served", -1)) != int(np.count_nonzero(success)):
        out.append("extras['served'] is not the number of successful users")
    return out


def reference_problems() -> list[ReferenceProblem]:
    """Cells of 2–6 users on both tables, schemes, CSI modes and objectives."""
    from semopt import tables
    from semopt.link.channel import received_snr_db

    budget_w = 0.01
    # Users near and far: the budget binds in most cases (some users are not served).
    distances = {2: [150.0, 420.0], 4: [120.0, 300.0, 380.0, 450.0],
                 6: [100.0, 250.0, 330.0, 380.0, 420.0, 470.0]}
    out = []
    for name in ("xu2025-kodak-clip", "xu2025-kodak-msssim"):
        table = tables.load(name)
        for scheme in ("discard", "forward"):
            best, worst = table.best(scheme), table.worst(scheme)
            for csi in ("instantaneous", "statistical"):
                offset = 0.0 if csi == "instantaneous" else 15.0  # fading needs a margin
                if scheme == "forward":
                    offset += 12.0
                for objective in ("max-served", "min-mean-perception"):
                    for u in (2, 4, 6):
                        snr = tuple(float(x) + offset for x in received_snr_db(
                            budget_w, distance_m=np.asarray(distances[u])))
                        target = float(best + 0.35 * (worst - best)) \
                            if objective == "max-served" or u == 4 else None
                        options = {"table": name, "scheme": scheme, "csi": csi,
                                   "objective": objective}

                        def check(allocation: Allocation, options: dict = options,
                                  snr: tuple = snr, target: Any = target) -> list[str]:
                            return check_cell(options, np.asarray(snr), budget_w, target,
                                              allocation)

                        out.append(ReferenceProblem(
                            f"{name}/{scheme}/{csi}/{objective}/U{u}", "cell", options, snr,
                            budget_w, target, budget_w=budget_w, check=check))
    return out
