"""The iso-perception curve of a two-stream min-power problem, tabulated once per target.

For two streams the feasible set {P(Φ_1, Φ_2) ≤ P̄} is bounded by the curve
P(Φ_1, Φ_2) = P̄. Because P is non-decreasing in each error rate, the curve is a
non-increasing function u_2(u_1) in log10 coordinates between the endpoints

* L: the largest u_1 at which stream 2 may be switched off (Φ_2 at its maximum),
  or the search floor if stream 2 is always needed;
* R: the largest u_1 at which the target is still reachable (Φ_2 at its floor).

The curve depends on the table and P̄ only, not on the channel: one tabulation
serves every channel realization of a batch. On it, the min-power objective of a
realization with weights w is f(u_1) = w_1 s_1(u_1) + w_2 s_2(u_2(u_1)), and its
total derivative (implicit differentiation, Algorithm 1 of Xu et al.) is

    df/du_1 = w_1 s_1'(u_1) + w_2 s_2'(u_2) · du_2/du_1,
    du_2/du_1 = −(∂P/∂u_1)/(∂P/∂u_2),

linear in w with channel-independent coefficients tabulated at the nodes.
"""

from __future__ import annotations

import numpy as np

from semopt.problems.minpower import MinPowerProblem
from solvers.curve import LowerHull, implicit_slope

__all__ = ["IsoPerceptionCurve"]

_HUGE = 1e300


class IsoPerceptionCurve:
    """Tabulated curve P(Φ_1, Φ_2) = P̄ in log10 coordinates with slope coefficients."""

    def __init__(self, problem: MinPowerProblem, target: float, n_nodes: int = 4097) -> None:
        if problem.n_streams != 2:
            raise ValueError("problem: the iso-perception curve needs exactly two streams")
        self.problem = problem
        self.target = float(target)
        lo, top = problem.log10_min, problem.log10_max
        t = np.asarray(self.target)
        right = problem.solve_stream_log10(np.array([0.0, lo[1]]), 0, t)
        self.feasible = bool(np.isfinite(right))
        if not self.feasible:
            self.u1 = self.u2 = np.array([])
            return
        left = problem.solve_stream_log10(np.array([0.0, top]), 0, t)
        left = lo[0] if not np.isfinite(left) else float(left)
        self.left, self.right = float(left), float(right)
        self.u1 = np.linspace(self.left, self.right, n_nodes)
        self.u2 = self.exact_u2(self.u1)
        self.s1, self.s2 = self._snr(self.u1, self.u2)
        self.a, self.b = self._slope_terms(self.u1, self.u2)
        self.hull = LowerHull(self.s1, self.s2)

    def exact_u2(self, u1: np.ndarray) -> np.ndarray:
        """u_2 on the curve at ``u1`` (exact solve; the largest feasible u_2)."""
        u1 = np.asarray(u1, dtype=float)
        u = np.stack([u1, np.zeros_like(u1)], axis=-1)
        u2 = self.problem.solve_stream_log10(u, 1, np.asarray(self.target))
        # Guard the right end against round-off: the floor is always feasible there.
        return np.where(np.isnan(u2) & (u1 <= self.right + 1e-12), self.problem.log10_min[1], u2)

    def _snr(self, u1: np.ndarray, u2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        snr = self.problem.required_snr(10.0 ** np.stack([u1, u2], axis=-1))
        return snr[..., 0], snr[..., 1]

    def _slope_terms(self, u1: np.ndarray, u2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (a, b) with df/du_1 = w_1 a + w_2 b."""
        u = np.stack([u1, u2], axis=-1)
        grad = self.problem.gradient_log10(u)
        ds = self.problem.required_snr_slope_log10(10.0**u)
        du2 = implicit_slope(grad[..., 0], grad[..., 1])
        with np.errstate(invalid="ignore"):
            b = ds[..., 1] * du2
        b = np.where(np.isnan(b), 0.0, b)
        return np.clip(ds[..., 0], -_HUGE, _HUGE), np.clip(b, -_HUGE, _HUGE)

    # -- per-realization quantities ------------------------------------------------------
    def node_objective(self, w: np.ndarray) -> np.ndarray:
        """f at every node for weights ``w`` of shape (B, 2) -> (B, n_nodes)."""
        return w[:, :1] * self.s1[None, :] + w[:, 1:] * self.s2[None, :]

    def node_load(self, inv_snr: np.ndarray) -> np.ndarray:
        """Σ_i s_i/snr_i at every node (total power as a fraction of the budget), (B, n)."""
        return inv_snr[:, :1] * self.s1[None, :] + inv_snr[:, 1:] * self.s2[None, :]

    def node_spacing(self) -> float:
        return float(self.u1[1] - self.u1[0]) if len(self.u1) > 1 else 0.0
