"""Two-stream min-power methods on the tabulated iso-perception curve."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from semopt.allocators.minpower.base import MinPowerMethod, no_solution
from semopt.options import Option, integer_at_least
from semopt.problems.isocurve import IsoPerceptionCurve, snr_slope_log10
from semopt.problems.minpower import BUDGET_RTOL, MinPowerInputs, MinPowerSolution
from semopt.registry import register_allocator
from solvers.curve import bisect_sign_on_nodes, scan_argmin
from solvers.roots import find_root

__all__ = ["BisectionMethod", "GlobalSearchMethod"]

_SCAN_CHUNK = 256
"""Rows per chunk of the budget-restricted node scan."""



class _Points:
    """Points on the curve for b rows: fractional positions, log10 rates (b, 2), SNRs (b, 2)."""

    def __init__(self, position: np.ndarray, u: np.ndarray, snr: np.ndarray) -> None:
        self.position, self.u, self.snr = position, u, snr

    def value(self, weights: np.ndarray) -> np.ndarray:
        return weights[:, 0] * self.snr[:, 0] + weights[:, 1] * self.snr[:, 1]

    def take(self, mask: np.ndarray, other: _Points) -> _Points:
        """Rows of ``other`` where ``mask``, else these rows."""
        return _Points(np.where(mask, other.position, self.position),
                       np.where(mask[:, None], other.u, self.u),
                       np.where(mask[:, None], other.snr, self.snr))


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

    def solve(self, inputs: MinPowerInputs) -> MinPowerSolution:
        """One group when every row shares the target (no grouping pass), else by target."""
        target = inputs.target
        if target.size and target.min() == target.max():
            sol = self.solve_group(float(target[0]), inputs.snr_linear, inputs.budget_w)
            return MinPowerSolution(np.asarray(sol.log10_rates, dtype=float),
                                    None if sol.required_snr is None
                                    else np.asarray(sol.required_snr, dtype=float),
                                    sol.iterations, sol.evaluations)
        return super().solve(inputs)

    # -- exact points ----------------------------------------------------------------------
    @staticmethod
    def _points(curve: IsoPerceptionCurve, position: np.ndarray) -> _Points:
        """Exact points (u_2 solved in its cell, SNRs inverted) at fractional node positions.

        At whole node positions the tabulated values are used; only points inside a
        cell are computed (closed-form u_2 in the cell's patch, the SNR inverse bracketed
        by the cell's nodes).
        """
        position = np.asarray(position, dtype=float)
        k, t, u1 = curve.position_u1(position)
        node = np.where(t >= 1.0, k + 1, k)
        u = np.stack([curve.u1[node], curve.u2[node]], axis=-1)
        snr = np.stack([curve.s1[node], curve.s2[node]], axis=-1)
        inside = np.flatnonzero((t > 0) & (t < 1))
        if inside.size:
            ki = k[inside]
            u2 = curve.u2_in_cell(u1[inside], ki)
            u[inside] = np.stack([u1[inside], u2], axis=-1)
            snr[inside] = curve.snr_in_cell(u1[inside], u2, ki)
        return _Points(position, u, snr)

    @staticmethod
    def _derivative(curve: IsoPerceptionCurve, pts: _Points, cell: np.ndarray,
                    weights: np.ndarray) -> np.ndarray:
        """Exact df/du_1 at curve points inside ``cell`` for weights (b, 2)."""
        pr = curve.problem
        u1, u2 = pts.u[:, 0], pts.u[:, 1]
        if pr.scheme == "forward":
            g1, g2 = curve.surface.gradient_in_cell(u1, u2, curve.cell_i[cell], curve.cell_j[cell])
        else:
            g1, g2 = curve.surface.gradient_in_cell(u1, u2)
        ds = snr_slope_log10(pr, 10.0**pts.u, pts.snr)
        with np.errstate(divide="ignore", invalid="ignore"):
            du2 = np.where((g1 == 0) & (g2 == 0), 0.0, -g1 / g2)
            out = weights[:, 0] * ds[:, 0] + weights[:, 1] * ds[:, 1] * du2
        return out

    def _refine(self, curve: IsoPerceptionCurve, k: np.ndarray, weights: np.ndarray,
                inv_snr: np.ndarray | None = None) -> tuple[_Points, int]:
        """The cheapest of node ``k`` and the stationary points in its two adjacent cells.

        In each cell the one-sided derivative coefficients give the derivative at both
        ends; where it changes sign from − to +, its linear interpolant's zero is the
        first estimate, and one secant step with the exact derivative there the second.
        f is smooth inside a cell, so the estimate is exact to O(h⁴) in position. Every
        candidate is evaluated exactly; with ``inv_snr`` (b, 2) only candidates within
        the budget (Σ s_i/γ_i ≤ 1) replace the node. Returns the points and the
        evaluations per row.
        """
        n = len(curve.u1)
        best = self._points(curve, k.astype(float))
        f_best = best.value(weights)
        evaluations = 1
        for cell in (k - 1, k):
            valid = (cell >= 0) & (cell <= n - 2)
            c = np.clip(cell, 0, max(n - 2, 0))
            d_lo = weights[:, 0] * curve.right_a[c] + weights[:, 1] * curve.right_b[c]
            d_hi = weights[:, 0] * curve.left_a[c] + weights[:, 1] * curve.left_b[c]
            sel = np.flatnonzero(valid & (d_lo < 0) & (d_hi > 0))
            if sel.size == 0:
                continue
            evaluations += 2
            cs, w = c[sel], weights[sel]
            t = np.clip(d_lo[sel] / (d_lo[sel] - d_hi[sel]), 0.0, 1.0)
            first = self._points(curve, cs + t)
            d_mid = self._derivative(curve, first, cs, w)
            # Secant between the estimate and the cell end of the opposite sign.
            right = d_mid > 0
            t0 = np.where(right, 0.0, t)
            t1 = np.where(right, t, 1.0)
            d0 = np.where(right, d_lo[sel], d_mid)
            d1 = np.where(right, d_mid, d_hi[sel])
            with np.errstate(divide="ignore", invalid="ignore"):
                t_new = t0 + (t1 - t0) * d0 / (d0 - d1)
            t_new = np.where(np.isfinite(t_new) & (d_mid != 0), np.clip(t_new, 0.0, 1.0), t)
            # The step can gain at most about ½|f'|·|Δu_1|: skip it below 1e-15 of f.
            width = curve.u1[cs + 1] - curve.u1[cs]
            f_first = first.value(w)
            step = np.flatnonzero(0.5 * np.abs(d_mid * (t_new - t)) * width > 1e-15 * f_first)
            candidates = [(np.arange(len(sel)), first, f_first)]
            if step.size:
                second = self._points(curve, cs[step] + t_new[step])
                candidates.append((step, second, second.value(w[step])))
            for rows, cand, f_c in candidates:
                better = f_c < f_best[sel[rows]]
                if inv_snr is not None:
                    better &= cand.value(inv_snr[sel[rows]]) <= 1.0 + BUDGET_RTOL
                idx = sel[rows[better]]
                best.position[idx] = cand.position[better]
                best.u[idx] = cand.u[better]
                best.snr[idx] = cand.snr[better]
                f_best[idx] = f_c[better]
        return best, evaluations

    def _budget_edges(self, curve: IsoPerceptionCurve, k: np.ndarray,
                      inv_snr: np.ndarray) -> list[_Points]:
        """Points where the load Σ s_i/γ_i crosses 1 in the cells next to node ``k``.

        For each side (k−1, k+1) whose node exceeds the budget, the exact crossing on the
        curve (a vectorized root in the node position, stepped back 1e-9 of a cell
        towards node k); rows without one repeat node k.
        """
        n = len(curve.u1)

        def excess(x: np.ndarray, inv0: np.ndarray, inv1: np.ndarray) -> np.ndarray:
            snr = self._points(curve, x).snr
            return snr[:, 0] * inv0 + snr[:, 1] * inv1 - 1.0

        out = []
        for side in (-1, 1):
            other = np.clip(k + side, 0, n - 1)
            crosses = (other != k) & (curve.s1[other] * inv_snr[:, 0]
                                      + curve.s2[other] * inv_snr[:, 1] > 1.0 + BUDGET_RTOL)
            position = k.astype(float)
            rows = np.flatnonzero(crosses)
            if rows.size:
                root = find_root(excess, k[rows].astype(float), other[rows].astype(float),
                                 args=(inv_snr[rows, 0], inv_snr[rows, 1]), xrtol=1e-14)
                position[rows] = np.where(np.isfinite(root), root - side * 1e-9, k[rows])
            out.append(self._points(curve, position))
        return out

    def _within_budget(self, curve: IsoPerceptionCurve, w: np.ndarray, inv_snr: np.ndarray,
                       fallback: _Points) -> _Points:
        """Cheapest curve point within the budget, for rows whose optimum exceeds it.

        A scan of the budget-feasible nodes (chunks of rows), refined in the adjacent
        cells, and the exact crossings of the budget next to the best node. Rows with no
        feasible node (only a point between nodes fits) keep ``fallback``.
        """
        b = len(w)
        k = np.zeros(b, dtype=np.int64)
        has = np.zeros(b, dtype=bool)
        for start in range(0, b, _SCAN_CHUNK):
            sl = slice(start, start + _SCAN_CHUNK)
            values = np.where(curve.node_load(inv_snr[sl]) <= 1.0 + BUDGET_RTOL,
                              curve.node_objective(w[sl]), np.inf)
            k[sl] = scan_argmin(values)
            has[sl] = np.isfinite(values[np.arange(len(values)), k[sl]])
        best, _ = self._refine(curve, k, w, inv_snr)
        f_best = best.value(w)
        for edge in self._budget_edges(curve, k, inv_snr):
            f_edge = edge.value(w)
            fits = edge.value(inv_snr) <= 1.0 + BUDGET_RTOL
            better = fits & (f_edge < f_best)
            best = best.take(better, edge)
            f_best = np.where(better, f_edge, f_best)
        return best.take(~has, fallback)

    def _global(self, curve: IsoPerceptionCurve, snr: np.ndarray,
                budget: np.ndarray) -> MinPowerSolution:
        """Exact minimum over all nodes (convex-hull query), refined inside its cells.

        Over the nodes, min_k w_1 s_1k + w_2 s_2k is attained at a vertex of the
        lower-left convex hull of the points (s_1k, s_2k), found by a binary search over
        the hull's edge slopes; the stationary points of the exact objective in the two
        cells around it are then candidates (:meth:`_refine`). Where that optimum exceeds
        the budget, the same hull with the weights 1/γ gives the least-load point of the
        curve: above the budget the realization is infeasible (no curve point fits);
        otherwise the budget-feasible nodes are scanned (:meth:`_within_budget`).
        """
        b, n = len(budget), len(curve.u1)
        w = self.problem.weights(snr, budget)
        inv = 1.0 / snr
        k = curve.hull.argmin(w[:, 0], w[:, 1])
        best, evals = self._refine(curve, k, w)
        load = best.value(inv)
        over = np.flatnonzero(load > 1.0 + BUDGET_RTOL)
        solved = np.ones(b, dtype=bool)
        if over.size:
            least, _ = self._refine(curve, curve.hull.argmin(inv[over, 0], inv[over, 1]),
                                    inv[over])
            reachable = least.value(inv[over]) <= 1.0 + BUDGET_RTOL
            solved[over[~reachable]] = False
            rows = over[reachable]
            if rows.size:
                sub = reachable.nonzero()[0]
                fallback = _Points(least.position[sub], least.u[sub], least.snr[sub])
                found = self._within_budget(curve, w[rows], inv[rows], fallback)
                best.position[rows], best.u[rows], best.snr[rows] = \
                    found.position, found.u, found.snr
        log10_rates = np.where(solved[:, None], best.u, np.nan)
        return MinPowerSolution(log10_rates, best.snr, 2, n + evals * b)


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

    The derivative's coefficients are tabulated at the nodes of the curve (4097 evenly
    spaced in log10 Φ_1, its crossings of 4097 levels of log10 Φ_2, and the grid crossings
    of a forward surface; the paper bisects Φ_1 linearly) and interpolated linearly
    between them, so bisection runs over node indices and ends with the zero of the
    linear piece inside the last cell, where the point is then computed exactly. If the
    point found exceeds the power budget, the budget-feasible part of the curve is
    searched globally instead.

    Parameters
    ----------
    segments : int
        Number of arcs Algorithm 1 runs on (default 16).
    """

    name = "bisection"
    optimality = "local"
    options = {"segments": Option(16, "number of arcs Algorithm 1 runs on (1 = the paper's "
                                  "algorithm verbatim)", kind="int", parse=integer_at_least(1))}

    def solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> MinPowerSolution:
        curve = self._curve(target)
        b, m = len(budget), self.segments
        if not curve.feasible:
            return no_solution(b, 2)
        n = len(curve.u1)
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
            k = np.clip(np.floor(position).astype(np.int64), 0, n - 1)
            t = position - k
            k1 = np.minimum(k + 1, n - 1)
            cost = w[:, :1] * (curve.s1[k] * (1 - t) + curve.s1[k1] * t) \
                + w[:, 1:] * (curve.s2[k] * (1 - t) + curve.s2[k1] * t)
            position = position[np.arange(b), np.argmin(cost, axis=1)]
        else:
            position = position[:, 0]
        pts = self._points(curve, position)
        log10_rates, required = pts.u, pts.snr
        over = pts.value(1.0 / snr) > 1.0 + BUDGET_RTOL
        if np.any(over):
            fallback = self._global(curve, snr[over], budget[over])
            log10_rates[over] = fallback.log10_rates
            required[over] = fallback.required_snr
        return MinPowerSolution(log10_rates, required, evals, evals * m + n)


@register_allocator("min-power")
class GlobalSearchMethod(CurveMethod):
    """Global 1-D search on the iso-perception curve (the default two-stream method).

    The curve is tabulated once per target at 4097 nodes evenly spaced in log10 Φ_1, its
    crossings of 4097 levels of log10 Φ_2 and every grid crossing of a forward surface,
    with exact constraint solves (the paper's
    endpoints L and R included). For every realization the cheapest node is found
    exactly by a convex-hull query (O(log n)), then the stationary points of the exact
    objective in the two adjacent cells are candidates (f is smooth inside a cell). Where
    the optimum exceeds the budget, a second hull query (weights 1/γ) tells whether any
    curve point fits; if so the budget-feasible nodes are scanned and the exact budget
    crossings are candidates, else the row is infeasible. Zero power for a stream (a
    curve endpoint) is a legitimate optimum.
    """

    name = "global-search"

    def solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> MinPowerSolution:
        curve = self._curve(target)
        if not curve.feasible:
            return no_solution(len(budget), 2)
        return self._global(curve, snr, budget)
