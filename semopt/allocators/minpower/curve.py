"""Two-stream min-power methods on the tabulated iso-perception curve."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from semopt.allocators.minpower.base import MinPowerMethod, no_solution
from semopt.options import Option
from semopt.problems.isocurve import IsoPerceptionCurve
from semopt.problems.minpower import BUDGET_RTOL, MinPowerSolution
from semopt.registry import register_allocator
from solvers.curve import bisect_sign_on_nodes, golden_section, scan_argmin
from solvers.roots import find_root

__all__ = ["BisectionMethod", "GlobalSearchMethod"]


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or int(value) != value or int(value) < 1:  # type: ignore[call-overload]
        raise ValueError(f"{name}: must be a positive integer, got {value!r}")
    return int(value)  # type: ignore[call-overload]


class CurveMethod(MinPowerMethod):
    """Two-stream methods that work on the tabulated iso-perception curve."""

    stream_counts = (2,)
    n_nodes: ClassVar[int] = 4097

    max_cached_curves: ClassVar[int] = 32

    def _curve(self, target: float) -> IsoPerceptionCurve:
        """The tabulated curve of ``target`` (channel-independent, cached per allocator)."""
        cache = self.__dict__.setdefault("_curves", {})
        if target not in cache:
            if len(cache) >= self.max_cached_curves:
                cache.pop(next(iter(cache)))
            cache[target] = IsoPerceptionCurve(self.problem, target, n_nodes=self.n_nodes)
        return cache[target]

    def _at(self, curve: IsoPerceptionCurve, position: np.ndarray,
            snr: np.ndarray, evaluations: int) -> MinPowerSolution:
        """Exact solution (u_2 solved, required SNRs) at fractional node positions.

        At whole node positions the tabulated values are used; only points inside a
        cell are solved (u_2 from the constraint, the SNRs from the link inverse).
        """
        n = len(curve.u1)
        k = np.clip(np.floor(position).astype(np.int64), 0, n - 1)
        t = position - k
        u = np.stack([curve.u1[k], curve.u2[k]], axis=-1)
        required = np.stack([curve.s1[k], curve.s2[k]], axis=-1)
        inside = np.flatnonzero(t > 0)
        if inside.size:
            u1 = curve.u1[k[inside]] + t[inside] * curve.node_spacing()
            u[inside] = np.stack([u1, curve.exact_u2(u1)], axis=-1)
            required[inside] = self.problem.required_snr(10.0 ** u[inside])
        return MinPowerSolution(u, required, 1, evaluations)

    def _budget_edges(self, curve: IsoPerceptionCurve, k: np.ndarray,
                      snr: np.ndarray) -> list[MinPowerSolution]:
        """Points where the power load Σ s_i/γ_i crosses 1 in the cells next to node ``k``.

        For each side (k−1, k+1) whose node exceeds the budget, the exact crossing on the
        curve (a vectorized root in the node position); rows without one repeat node k.
        """
        n = len(curve.u1)
        inv = 1.0 / snr

        def excess(x: np.ndarray, inv0: np.ndarray, inv1: np.ndarray) -> np.ndarray:
            u1 = curve.u1[0] + x * curve.node_spacing()
            s_req = self.problem.required_snr(10.0 ** np.stack([u1, curve.exact_u2(u1)], -1))
            return s_req[..., 0] * inv0 + s_req[..., 1] * inv1 - 1.0

        out = []
        for side in (-1, 1):
            other = np.clip(k + side, 0, n - 1)
            crosses = (other != k) & (curve.s1[other] * inv[:, 0] + curve.s2[other] * inv[:, 1]
                                      > 1.0 + BUDGET_RTOL)
            position = k.astype(float)
            rows = np.flatnonzero(crosses)
            if rows.size:
                root = find_root(excess, k[rows].astype(float), other[rows].astype(float),
                                 args=(inv[rows, 0], inv[rows, 1]), xrtol=1e-14)
                # Step back towards node k (feasible) past round-off at the crossing.
                position[rows] = root - side * 1e-9
            out.append(self._at(curve, position, snr, 0))
        return out

    def _exact_objective(self, curve: IsoPerceptionCurve, u1: np.ndarray,
                         w: np.ndarray) -> np.ndarray:
        """f(u_1) = w_1 s_1(u_1) + w_2 s_2(u_2(u_1)) on the curve (exact solves), (b,)."""
        u = np.stack([u1, curve.exact_u2(u1)], axis=-1)
        return (w * self.problem.required_snr(10.0**u)).sum(axis=-1)

    def _global(self, curve: IsoPerceptionCurve, snr: np.ndarray,
                budget: np.ndarray) -> MinPowerSolution:
        """Exact minimum over all nodes (convex-hull query), refined inside its cells.

        Over the nodes, min_k w_1 s_1k + w_2 s_2k is attained at a vertex of the
        lower-left convex hull of the points (s_2k, s_1k), found by a binary search over
        the hull's edge slopes. The refinement looks for a zero of the interpolated
        implicit derivative in the two cells around that node and keeps it if it is
        cheaper. Realizations whose optimum exceeds the power budget are re-solved by
        a scan restricted to the budget-feasible nodes.
        """
        b, n = len(budget), len(curve.u1)
        w = self.problem.weights(snr, budget)
        k = curve.hull.argmin(w[:, 0], w[:, 1])
        load = curve.s1[k] / snr[:, 0] + curve.s2[k] / snr[:, 1]
        over = np.flatnonzero(load > 1.0 + BUDGET_RTOL)
        has = np.ones(b, dtype=bool)
        for start in range(0, over.size, 256):
            rows = over[start:start + 256]
            values = np.where(curve.node_load(1.0 / snr[rows]) <= 1.0 + BUDGET_RTOL,
                              curve.node_objective(w[rows]), np.inf)
            k[rows] = scan_argmin(values)
            has[rows] = np.isfinite(values[np.arange(len(rows)), k[rows]])
        coef = np.stack([curve.a, curve.b], axis=-1)
        lo, hi = np.maximum(k - 1, 0), np.minimum(k + 1, n - 1)
        if self.problem.scheme == "forward":
            # The forward surface is multilinear in log10 BER, so f has kinks along the
            # curve where the interpolated derivative is unreliable: golden-section search
            # of the exact objective in the two cells around the best node.
            position, evals = golden_section(
                lambda x: self._exact_objective(curve, curve.u1[0] + x * curve.node_spacing(), w),
                lo.astype(float), hi.astype(float), xtol=1e-7)
        else:
            position, evals = bisect_sign_on_nodes(coef, w, lo, hi)
        refined = self._at(curve, position, snr, n)
        f_node = w[:, 0] * curve.s1[k] + w[:, 1] * curve.s2[k]
        f_ref = (w * refined.required_snr).sum(axis=-1)
        fits = (refined.required_snr / snr).sum(axis=-1) <= 1.0 + BUDGET_RTOL
        take = (fits & (f_ref < f_node))[:, None]
        log10_rates = np.where(take, refined.log10_rates, np.stack([curve.u1[k], curve.u2[k]], -1))
        required = np.where(take, refined.required_snr, np.stack([curve.s1[k], curve.s2[k]], -1))
        if over.size:  # the budget binds: the optimum may sit where the load crosses 1
            rows = over[has[over]]
            f_best = np.where(take[rows, 0], f_ref[rows], f_node[rows])
            for sol in self._budget_edges(curve, k[rows], snr[rows]):
                f_edge = (w[rows] * sol.required_snr).sum(axis=-1)
                fits = (sol.required_snr / snr[rows]).sum(axis=-1) <= 1.0 + BUDGET_RTOL
                better = fits & (f_edge < f_best)
                log10_rates[rows[better]] = sol.log10_rates[better]
                required[rows[better]] = sol.required_snr[better]
                f_best = np.where(better, f_edge, f_best)
        return MinPowerSolution(np.where(has[:, None], log10_rates, np.nan), required, 2,
                                n + int(evals) * b)


@register_allocator("min-power")
class BisectionMethod(CurveMethod):
    """Semantic-aware bisection (Algorithm 1 of Xu et al.) on arcs of the curve.

    Algorithm 1 takes two endpoints (Φ^L, Φ^R) of the iso-perception curve and bisects
    the sign of the total derivative df/dΦ_1 = ∂f/∂Φ_1 + ∂f/∂Φ_2 · dΦ_2/dΦ_1 (implicit
    differentiation of P(Φ_1, Φ_2) = P̄): the left end if the derivative there is ≥ 0,
    the right end if it is ≤ 0, else the sign change — a local optimum. In the coded
    scheme both curve endpoints (one stream switched off) are always local optima
    (the BLER of a stream falls from 1 only after a finite SNR, so df/dΦ is infinite
    there), so Algorithm 1 on the whole curve returns an endpoint even when the
    interior is cheaper. Here the curve is cut into ``segments`` arcs, Algorithm 1 runs
    on every arc (vectorized), and the cheapest of its points and of every arc end (both
    curve endpoints included) is kept; ``segments=1`` is the paper's algorithm verbatim
    (measured gap in docs/minpower.md).

    The derivative's coefficients are tabulated at the 4097 nodes of the curve (in
    log10 Φ_1; the paper bisects Φ_1 linearly) and interpolated linearly between them,
    so bisection runs over node indices and ends with the exact zero of the linear
    piece inside the last cell. If the point found exceeds the power budget, the
    budget-feasible part of the curve is searched globally instead.

    Parameters
    ----------
    segments : int
        Number of arcs Algorithm 1 runs on (default 16).
    """

    name = "bisection"
    optimality = "local"
    options = {"segments": Option(16, "number of arcs Algorithm 1 runs on (1 = the paper's "
                                  "algorithm verbatim)", kind="int", parse=_positive_int)}

    def solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> MinPowerSolution:
        curve = self._curve(target)
        b, m, n = len(budget), self.segments, self.n_nodes
        if not curve.feasible:
            return no_solution(b, 2)
        w = self.problem.weights(snr, budget)
        edges = np.linspace(0, n - 1, m + 1).round().astype(np.int64)
        coef = np.stack([curve.a, curve.b], axis=-1)
        position, evals = bisect_sign_on_nodes(coef, np.repeat(w, m, axis=0),
                                               np.tile(edges[:-1], b), np.tile(edges[1:], b))
        position = position.reshape(b, m)
        if m > 1:
            # Candidates: Algorithm 1's point on every arc and every arc end (both curve
            # endpoints included): an arc whose derivative falls from ≥ 0 to < 0 has an
            # interior maximum, and both its ends are local minima.
            position = np.concatenate([position, np.broadcast_to(edges.astype(float), (b, m + 1))],
                                      axis=1)
            k = np.floor(position).astype(np.int64)
            t = position - k
            k1 = np.minimum(k + 1, n - 1)
            cost = w[:, :1] * (curve.s1[k] * (1 - t) + curve.s1[k1] * t) \
                + w[:, 1:] * (curve.s2[k] * (1 - t) + curve.s2[k1] * t)
            position = position[np.arange(b), np.argmin(cost, axis=1)]
        else:
            position = position[:, 0]
        sol = self._at(curve, position, snr, evals * m + n)
        over = (sol.required_snr / snr).sum(axis=-1) > 1.0 + BUDGET_RTOL
        if np.any(over):
            fallback = self._global(curve, snr[over], budget[over])
            sol.log10_rates[over] = fallback.log10_rates
            sol.required_snr[over] = fallback.required_snr
        return MinPowerSolution(sol.log10_rates, sol.required_snr, evals, evals * m + n)


@register_allocator("min-power")
class GlobalSearchMethod(CurveMethod):
    """Global 1-D search on the iso-perception curve (the default two-stream method).

    The curve is tabulated at 4097 nodes with exact constraint solves (the paper's
    endpoints L and R included), the cheapest node is found exactly for every
    realization (convex-hull query; a budget-restricted scan where the optimum exceeds
    the budget), then refined by the zero of the implicit derivative in the adjacent
    cells. Zero power for a stream (a curve endpoint) is a legitimate optimum.
    """

    name = "global-search"

    def solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> MinPowerSolution:
        curve = self._curve(target)
        if not curve.feasible:
            return no_solution(len(budget), 2)
        return self._global(curve, snr, budget)
