"""Rule-based min-power methods: semantic-proportional (Theorem 1) and semantic-unaware."""

from __future__ import annotations

import numpy as np

from semopt.allocators.minpower.base import (
    MinPowerMethod,
    no_solution,
    shared_solution,
    solve_monotone_root,
)
from semopt.problems.minpower import MinPowerSolution
from semopt.registry import register_allocator

__all__ = ["ProportionalMethod", "UnawareMethod"]


@register_allocator("min-power")
class ProportionalMethod(MinPowerMethod):
    """Semantic-proportional allocation (Theorem 1 of Xu et al.).

    Each stream gets the least power meeting L̂_i(Φ_i) = ρ·L_i (closed form per stream:
    eq. 27 uncoded, the generalized-Lambert-W form of eq. 28 coded); the common ratio
    ρ = L̄_i/L_i is the root of P(Φ(ρ)) = P̄ so the *full* constraint holds. For the
    discard scheme L̂_i = (1 − Ψ_i) L_i, so ρ fixes equal BLERs Ψ_i = 1 − ρ.
    """

    name = "proportional"
    optimality = "baseline"

    def _rates(self, rho: float) -> np.ndarray:
        sc = self.problem
        if sc.scheme == "discard":
            return np.full(sc.n_streams, 1.0 - rho)
        fwd = sc.table.forward
        if fwd.single_stream is None:
            raise ValueError("table: the forward surface has no single-stream curves, "
                             "which the proportional method needs")
        out = np.empty(sc.n_streams)
        for i in range(sc.n_streams):
            # Largest ψ with P^(i)(ψ) ≤ 1 − ρ L_i on the monotone single-stream curve,
            # L_i = 1 − P^(i)(0) the error-free semantic value of the same curve.
            axis, curve = fwd.axes[i], fwd.single_stream[i]
            level = 1.0 - rho * (1.0 - curve[0])
            k = int(np.searchsorted(curve, level, side="right"))
            if k >= len(axis):
                u = axis[-1]
            elif k == 0:
                u = axis[0]
            else:
                u = axis[k - 1] + (level - curve[k - 1]) / (curve[k] - curve[k - 1]) \
                    * (axis[k] - axis[k - 1])
            out[i] = 10.0**u
        return out

    def solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> MinPowerSolution:
        count = [0]

        def gap(rho: float) -> float:
            count[0] += 1
            return float(self.problem.perception(self._rates(rho))) - target

        if gap(1.0) > 0:  # even error-free semantic values miss the target
            return no_solution(len(budget), self.problem.n_streams)
        rho = solve_monotone_root(gap, 0.0, 1.0, "proportional ratio")
        rates = self._rates(rho)
        # The root's round-off may sit a hair above P̄: step towards more reliability.
        while float(self.problem.perception(rates)) > target and rho < 1.0:
            rho = min(1.0, rho + 1e-13)
            rates = self._rates(rho)
        return shared_solution(self.problem, rates, len(budget), count[0])


@register_allocator("min-power")
class UnawareMethod(MinPowerMethod):
    """Semantic-unaware baseline: every stream is received at the same SNR s.

    s is the root of P(Φ_1(s), ..., Φ_I(s)) = P̄ (equal BERs uncoded; BLERs differ with
    the stream lengths coded), and q_i = P_ref · s / snr_i.
    """

    name = "unaware"
    optimality = "baseline"

    def solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> MinPowerSolution:
        sc = self.problem
        count = [0]

        def gap(log10_s: float) -> float:
            count[0] += 1
            s = np.full(sc.n_streams, 10.0**log10_s)
            return float(sc.perception(sc.error_rate(s))) - target

        log10_s = solve_monotone_root(gap, -8.0, 6.0, "equal-SNR level")
        while gap(log10_s) > 0:
            log10_s += 1e-12
        rates = np.maximum(sc.error_rate(np.full(sc.n_streams, 10.0**log10_s)), 1e-300)
        return shared_solution(sc, rates, len(budget), count[0])
