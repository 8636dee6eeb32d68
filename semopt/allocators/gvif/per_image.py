"""``per-image``: one α per image by a Lagrange multiplier on the mean rate, then eq. 39."""

from __future__ import annotations

import numpy as np

from semopt.allocators.gvif.base import GvifMethod, positive_int, unique_rows
from semopt.options import Option
from semopt.problems.gvif import GvifInputs, GvifProblem, GvifSolution
from semopt.registry import register_allocator

__all__ = ["PerImageMethod"]

LOG10_MU_RANGE = (-30.0, 5.0)
"""Initial bracket of log10 μ (μ in GVIF per bit); widened upwards if needed."""


@register_allocator("gvif")
class PerImageMethod(GvifMethod):
    """One threshold α_n per image (an extension of eq. 31 beyond the paper's shared α).

    For each allowed model, ``max (1/N) Σ_n V_n(α_n)  s.t.  (1/N) Σ_n B_n(α_n) ≤ C T_max``
    by one Lagrange multiplier μ: each image maximizes V_n − μ B_n over its own achievable
    sets (every α_n ≤ α_th), μ found by bisection on log μ; a greedy fill then spends the
    budget left at the critical μ (images moved to their choice just below it, best
    ΔV/ΔB first); finally the shared-α optimum of ``exact`` (one feasible per-image choice)
    replaces the result if better, so the E[V] is never below ``exact``'s. Eq. 39 picks the
    model. Needs a table with per-image arrays. Solved per distinct (cap, allowed models)
    row (``vectorized = False``). ``iterations``: the most bisection steps of a model;
    ``evaluations``: per-image (V, B) values compared, over every model and row (the
    shared-α comparison reads ``exact``'s cached curves). The
    ``alpha`` field is the mean of ``alpha_per_image`` (B, N).
    """

    name = "per-image"
    optimality = "heuristic"
    vectorized = False
    scope = "with one α per image ≤ α_th"
    options = {"mu_iterations": Option(100, "bisection steps on log10 μ", kind="int",
                                       parse=positive_int)}

    def check_problem(self, problem: GvifProblem) -> None:
        super().check_problem(problem)
        if not problem.table.has_per_image:
            raise ValueError(f"table: per-image allocation needs the per-image arrays, which "
                             f"{problem.table.name!r} does not have")

    def _model(self, p: int, cap: float) -> tuple[bool, np.ndarray, float, float, int, int]:
        """(feasible, chosen column per image, E[V], E[B], bisection steps, evaluations)."""
        c = self.problem.curves
        valid = c.image_valid
        v = np.where(valid, c.image_gvif[p], -np.inf)
        b = c.image_rate_bits[p]
        rows = np.arange(v.shape[0])
        count = [0]

        def choose(mu: float) -> np.ndarray:
            count[0] += int(valid.sum())
            return np.argmax(v - mu * b, axis=1)

        def rate(k: np.ndarray) -> float:
            return float(b[rows, k].mean())

        k0 = choose(0.0)
        if rate(k0) <= cap:
            return True, k0, float(v[rows, k0].mean()), rate(k0), 1, count[0]
        k_min = np.argmin(np.where(valid, b, np.inf), axis=1)   # every image at its least rate
        if rate(k_min) > cap:
            return False, k_min, float(v[rows, k_min].mean()), rate(k_min), 1, count[0]
        lo, hi = LOG10_MU_RANGE
        k_hi = choose(10.0**hi)
        while rate(k_hi) > cap:
            hi += 5.0
            k_hi = choose(10.0**hi)
        steps = 2
        for _ in range(self.mu_iterations):
            mid = 0.5 * (lo + hi)
            k = choose(10.0**mid)
            steps += 1
            if rate(k) <= cap:
                hi, k_hi = mid, k
            else:
                lo = mid
            if hi - lo < 1e-12:
                break
        k_lo = choose(10.0**lo)
        # Greedy fill: move images from their μ_hi choice to their μ_lo choice, best ΔV/ΔB first.
        k = k_hi.copy()
        dv = v[rows, k_lo] - v[rows, k_hi]
        db = b[rows, k_lo] - b[rows, k_hi]
        spare = cap * v.shape[0] - float(b[rows, k].sum())
        movers = np.flatnonzero((dv > 0) & (k_lo != k_hi))
        order = movers[np.argsort(-dv[movers] / np.maximum(db[movers], 1e-12), kind="stable")]
        for i in order:
            if db[i] <= spare:
                k[i] = k_lo[i]
                spare -= max(db[i], 0.0)
        return True, k, float(v[rows, k].mean()), rate(k), steps, count[0]

    def solve(self, inputs: GvifInputs) -> GvifSolution:
        c = self.problem.curves
        n_rows, n_models = inputs.models_ok.shape
        n_images = c.n_images
        first, inverse = unique_rows(inputs)
        n_unique = first.size
        model_u = np.full(n_unique, -1)
        claimed_u = np.zeros(n_unique, dtype=bool)
        alpha_img_u = np.full((n_unique, n_images), np.nan)
        per_model_u = np.full((n_unique, n_models), np.nan)
        iterations = evaluations = 0
        rows_n = np.arange(n_images)
        for u, row in enumerate(first):
            cap = float(inputs.cap_bits[row])
            best_v, least_b = -np.inf, np.inf
            fallback: tuple[int, np.ndarray] | None = None
            for p in np.flatnonzero(inputs.models_ok[row]):
                ok, k, ev, eb, steps, count = self._model(int(p), cap)
                iterations, evaluations = max(iterations, steps), evaluations + count
                alphas = c.image_alpha[rows_n, k]
                # Never below one shared α (a feasible per-image choice): exact's answer.
                ks = int(np.searchsorted(c.bp_neg_run_min[p], -cap, side="left"))
                if ks < c.bp_alpha.size and (not ok or c.bp_gvif[p, ks] > ev):
                    ok, ev, eb = True, float(c.bp_gvif[p, ks]), float(c.bp_rate_bits[p, ks])
                    alphas = np.full(n_images, float(c.bp_alpha[ks]))
                if ok:
                    per_model_u[u, p] = float(np.mean(alphas))
                    if ev > best_v:
                        best_v, model_u[u], alpha_img_u[u] = ev, p, alphas
                        claimed_u[u] = True
                elif eb < least_b:
                    least_b, fallback = eb, (int(p), alphas)
            if not claimed_u[u] and fallback is not None:
                model_u[u], alpha_img_u[u] = fallback
        alpha_img = alpha_img_u[inverse]
        mean_alpha = alpha_img.mean(axis=1)      # NaN where no model meets D_0
        return GvifSolution(
            model=model_u[inverse], alpha=mean_alpha, claimed=claimed_u[inverse],
            converged=np.ones(n_rows, dtype=bool), alpha_per_model=per_model_u[inverse],
            iterations=iterations, evaluations=evaluations, scope=self.scope,
            alpha_per_image=alpha_img)
