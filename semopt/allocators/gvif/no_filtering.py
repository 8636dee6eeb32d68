"""``no-filtering``: α = 0 with the best feasible model (the paper's VAE baseline)."""

from __future__ import annotations

import numpy as np

from semopt.allocators.gvif.base import GvifMethod
from semopt.problems.gvif import GvifInputs, GvifSolution
from semopt.registry import register_allocator

__all__ = ["NoFilteringMethod"]


@register_allocator("gvif")
class NoFilteringMethod(GvifMethod):
    """α = 0 (every latent element sent) with the allowed model of largest E[V] that fits.

    The paper's "VAE-based source coding without filtering" baseline. Where no allowed
    model fits T_max at α = 0 it returns, still at α = 0, the allowed model of least
    expected latency (and the problem reports the least latency filtering would reach).
    ``evaluations``: the per-image (V, B) values at α = 0, N per model.
    """

    name = "no-filtering"
    optimality = "baseline"
    vectorized = True
    scope = "at α = 0 (no filtering)"

    def solve(self, inputs: GvifInputs) -> GvifSolution:
        n_rows, n_models = inputs.models_ok.shape
        gvif0, rate0 = self.problem.curves.expected(np.arange(n_models), np.zeros(n_models))
        fits = inputs.models_ok & (rate0[None, :] <= inputs.cap_bits[:, None])
        found = np.any(fits, axis=1)
        best = np.argmax(np.where(fits, gvif0[None, :], -np.inf), axis=1)
        least = np.argmin(np.where(inputs.models_ok, rate0[None, :], np.inf), axis=1)
        any_model = np.any(inputs.models_ok, axis=1)
        return GvifSolution(
            model=np.where(found, best, np.where(any_model, least, -1)),
            alpha=np.where(any_model, 0.0, np.nan),
            claimed=found, converged=np.ones(n_rows, dtype=bool),
            alpha_per_model=np.where(fits, 0.0, np.nan),
            iterations=0, evaluations=n_models * max(1, self.problem.curves.n_images),
            scope=self.scope)
