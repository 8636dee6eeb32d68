"""Shared reference problems of the min-power problem (Xu et al. scenario).

The SNRs follow the paper's scenario: −30 dB path gain at 1 m, exponent 3.4, d = 100 m,
σ² = −110 dBm, so a 10 mW budget gives 22 dB of received SNR at unit fading; the
cases add fading draws (per-stream power gains) and a sweep of targets P̄.
"""

from __future__ import annotations

import numpy as np

from semopt.result import Allocation
from semopt.testing import ReferenceProblem

__all__ = ["check_allocation", "reference_problems"]


def check_allocation(problem_options: dict, snr_db: np.ndarray, budget_w: float, target: float,
                     allocation: Allocation, *, reference_power_w: float | None = None) -> list[str]:
    """Independent recheck: error rates recomputed from the powers with the link model."""
    from semopt.problems.minpower import MinPowerProblem

    problem = MinPowerProblem(**problem_options)
    reference = budget_w if reference_power_w is None else reference_power_w
    power = np.atleast_2d(np.asarray(allocation.power_w, dtype=float))
    snr = 10.0 ** (np.atleast_2d(np.asarray(snr_db, dtype=float)) / 10.0)
    rates = problem.error_rate(snr * power / reference)
    rates = np.where(power == 0, problem.max_error_rate, rates)
    perception = problem.perception(rates)
    ok = np.atleast_1d(allocation.success)
    out = []
    if np.any(ok & (perception > target + 1e-9)):
        out.append(f"recomputed perception {np.max(perception[ok]):.9g} exceeds the target {target}")
    return out


def reference_problems(n_targets: int = 6, fading_draws: int = 2,
                       seed: int = 7) -> list[ReferenceProblem]:
    """Reference instances on both shipped tables and both schemes.

    Targets are spread over (P_best, P_worst) of each table and scheme; SNRs are the
    paper's 22 dB at 10 mW scaled by Rayleigh power gains (seeded).
    """
    from semopt import tables

    rng = np.random.default_rng(seed)
    out = []
    for name in ("xu2025-kodak-clip", "xu2025-kodak-msssim"):
        table = tables.load(name)
        for scheme in ("discard", "forward"):
            best, worst = table.best(scheme), table.worst(scheme)
            targets = best + (worst - best) * np.linspace(0.04, 0.9, n_targets)
            for d in range(fading_draws):
                gains_db = 10 * np.log10(rng.exponential(1.0, size=2)) if d else np.zeros(2)
                snr = tuple(float(x) for x in 22.0 + gains_db)
                for t in targets:
                    options = {"table": name, "scheme": scheme}

                    def check(allocation: Allocation, options: dict = options, snr: tuple = snr,
                              t: float = float(t)) -> list[str]:
                        return check_allocation(options, np.asarray(snr), 0.01, t, allocation)

                    out.append(ReferenceProblem(f"{name}/{scheme}/draw{d}/P{t:.4f}", "min-power",
                                                options, snr, 0.01, float(t), budget_w=0.01,
                                                check=check))
    return out
