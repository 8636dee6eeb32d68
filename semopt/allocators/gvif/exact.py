"""``exact``: the smallest feasible α of every model at every breakpoint, then eq. 39."""

from __future__ import annotations

import numpy as np

from semopt.allocators.gvif.base import GvifMethod
from semopt.problems.gvif import GvifInputs, GvifSolution
from semopt.registry import register_allocator

__all__ = ["ExactMethod"]


@register_allocator("gvif")
class ExactMethod(GvifMethod):
    """Global optimum over every shared α ≤ α_th (every breakpoint), then eq. 39.

    For one model E[V] is non-increasing in α (the selected set shrinks), so the best α is
    the smallest feasible one. With per-image arrays the step functions change only at the
    importance values, so the breakpoints (every distinct value ≤ α_th, plus α_th) are all
    the achievable (E[V], E[B]) pairs; the problem builds them once
    (:attr:`GvifProblem.curves`). The first breakpoint whose E[B] fits the cap is found
    for every row of the batch at once by a binary search on the running minimum of E[B]
    (exact also where the run-length mask bits make E[B] non-monotone by a few bits).
    Tables without per-image arrays are linear between their α grid points (as
    :meth:`GvifTable.expected`): the smallest feasible α is where E[B] crosses the cap on
    the segment before the first feasible grid point. ``iterations`` is 0 (a look-up);
    ``evaluations`` counts the breakpoint evaluations (E[V], E[B]) the answers are drawn
    from: K per model used.
    """

    name = "exact"
    optimality = "global"
    vectorized = True

    def solve(self, inputs: GvifInputs) -> GvifSolution:
        curves = self.problem.curves
        n_rows, n_models = inputs.models_ok.shape
        n_bp = curves.bp_alpha.size
        k = np.empty((n_rows, n_models), dtype=np.intp)
        neg_cap = -inputs.cap_bits
        for p in range(n_models):   # one binary search per model, over the whole batch
            k[:, p] = np.searchsorted(curves.bp_neg_run_min[p], neg_cap, side="left")
        feasible = (k < n_bp) & inputs.models_ok
        k = np.minimum(k, n_bp - 1)
        columns = np.arange(n_models)
        alpha = curves.bp_alpha[k]
        gvif = curves.bp_gvif[columns, k]
        if not curves.has_per_image and n_bp > 1:
            # Grid tables are linear between grid points: the smallest feasible α lies on the
            # segment ending at the first feasible grid point, where E[B] crosses the cap.
            j = np.maximum(k - 1, 0)
            b_prev, b_k = curves.bp_rate_bits[columns, j], curves.bp_rate_bits[columns, k]
            cross = (k > 0) & (b_prev > inputs.cap_bits[:, None])
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.where(cross, (b_prev - inputs.cap_bits[:, None]) / (b_prev - b_k), 1.0)
            frac = np.clip(frac, 0.0, 1.0)
            a_prev = curves.bp_alpha[j]
            alpha = np.where(cross, a_prev + frac * (alpha - a_prev), alpha)
            g_prev = curves.bp_gvif[columns, j]
            gvif = np.where(cross, g_prev + frac * (gvif - g_prev), gvif)
        gvif = np.where(feasible, gvif, -np.inf)
        best = np.argmax(gvif, axis=1)
        found = np.any(feasible, axis=1)
        rows = np.arange(n_rows)
        used = int(np.count_nonzero(np.any(inputs.models_ok, axis=0)))
        return GvifSolution(
            model=np.where(found, best, -1),
            alpha=np.where(found, alpha[rows, best], np.nan),
            claimed=found, converged=np.ones(n_rows, dtype=bool),
            alpha_per_model=np.where(feasible, alpha, np.nan),
            iterations=0, evaluations=n_bp * used, scope=self.scope)
