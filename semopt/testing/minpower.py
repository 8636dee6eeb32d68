"""Shared reference problems of the min-power problem (Xu et al. scenario).

The SNRs follow the paper's scenario: −30 dB path gain at 1 m, exponent 3.4, d = 100 m,
σ² = −110 dBm, so a 10 mW budget gives 22 dB of received SNR at unit fading; the
cases add fading draws (per-stream power gains) and a sweep of targets P̄.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MinPowerReference", "reference_problems"]


@dataclass(frozen=True)
class MinPowerReference:
    """One reference instance: table, scheme, per-stream SNR (dB), budget (W), target P̄."""

    name: str
    table: str
    scheme: str
    snr_db: tuple[float, ...]
    budget_w: float
    target: float


def reference_problems(n_targets: int = 6, fading_draws: int = 2,
                       seed: int = 7) -> list[MinPowerReference]:
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
                    out.append(MinPowerReference(f"{name}/{scheme}/draw{d}/P{t:.4f}", name, scheme,
                                                 snr, 0.01, float(t)))
    return out
