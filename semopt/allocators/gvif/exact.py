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
    (:attr:`GvifProblem.curves`). The first breakpoint whose E[B] fits the cap is the first
    whose running minimum of E[B] does (exact also where the run-length mask bits make E[B]
    non-monotone by a few bits); as a function of the cap, the best (model, breakpoint) is
    a step function that changes only at those running-minimum values, so the problem
    tabulates it once per set of allowed models (:meth:`GvifProblem.envelope`) and a batch
    is answered by one binary search per row.
    Tables without per-image arrays are linear between their α grid points (as
    :meth:`GvifTable.expected`): the smallest feasible α is where E[B] crosses the cap on
    the segment before the first feasible grid point. ``iterations`` is 0 (a look-up);
    ``evaluations`` counts the per-image (V, B) values the answers are drawn from: K
    breakpoints × N images per model used (computed once per table and cached, so a warm
    call recomputes none of them).
    """

    name = "exact"
    optimality = "global"
    vectorized = True

    def solve(self, inputs: GvifInputs) -> GvifSolution:
        curves = self.problem.curves
        n_rows = inputs.models_ok.shape[0]
        used = int(np.count_nonzero(np.any(inputs.patterns, axis=0)))
        if curves.has_per_image:
            model, alpha, per_model = self._envelope_search(inputs)
        else:
            model, alpha, per_model = self._grid_search(inputs)
        found = model >= 0
        return GvifSolution(
            model=model, alpha=alpha, claimed=found, converged=np.ones(n_rows, dtype=bool),
            alpha_per_model=per_model, iterations=0,
            evaluations=curves.bp_alpha.size * used * max(1, curves.n_images), scope=self.scope)

    def _envelope_search(self, inputs: GvifInputs) -> tuple[np.ndarray, ...]:
        """One binary search per row in the cached envelope of its allowed models."""
        curves = self.problem.curves
        n_rows, n_models = inputs.models_ok.shape
        n_bp = curves.bp_alpha.size
        model = np.full(n_rows, -1)
        alpha = np.full(n_rows, np.nan)
        per_model = np.full((n_rows, n_models), np.nan)
        single = inputs.patterns.shape[0] == 1
        for u, allowed in enumerate(inputs.patterns):
            rows = slice(None) if single else np.flatnonzero(inputs.pattern == u)
            env = self.problem.envelope(allowed)
            if env.thresholds.size == 0:       # no model allowed
                continue
            j = np.searchsorted(env.thresholds, inputs.cap_bits[rows], side="right") - 1
            found = j >= 0
            j = np.maximum(j, 0)
            k = env.k[j]                                                    # (rows, P)
            best = env.model[j]
            fits = found[:, None] & (k < n_bp)
            model[rows] = np.where(found, best, -1)
            alpha[rows] = np.where(found, curves.bp_alpha[np.minimum(k[np.arange(k.shape[0]), best],
                                                                       n_bp - 1)], np.nan)
            per_model[rows] = np.where(fits, curves.bp_alpha[np.minimum(k, n_bp - 1)], np.nan)
        return model, alpha, per_model

    def _grid_search(self, inputs: GvifInputs) -> tuple[np.ndarray, ...]:
        """Grid tables: per model, the first feasible grid point, then the linear crossing."""
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
        if n_bp > 1:
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
        return (np.where(found, best, -1), np.where(found, alpha[rows, best], np.nan),
                np.where(feasible, alpha, np.nan))
