"""Generic global min-power method: pymoo GA exploration, then SLSQP polish."""

from __future__ import annotations

import numpy as np

from semopt.allocators.minpower.slsqp import SlsqpMethod
from semopt.options import Option, integer_at_least
from semopt.problems.minpower import MinPowerSolution
from semopt.registry import register_allocator

__all__ = ["GeneticMethod"]


@register_allocator("min-power")
class GeneticMethod(SlsqpMethod):
    """Generic global method for any number of streams: pymoo GA, then SLSQP polish.

    pymoo's genetic algorithm explores u ∈ [log10 Φ_min, log10 Φ_max]^I with the
    whole population evaluated in one vectorized call (objective Σ_i w_i s_i(10^{u_i}),
    constraints P(10^u) ≤ P̄ and Σ_i s_i/snr_i ≤ 1; error rates within 1 % of Φ_max
    count as switched off). Its best point, beside the ``slsqp`` starts, starts the SLSQP
    polish of every on/off pattern (see ``slsqp``). One instance at a time.

    Parameters
    ----------
    pop_size, generations : int
        GA population and number of generations (defaults 48 and 40).
    seed : int
        Seed of the GA (deterministic).
    """

    name = "genetic"
    optimality = "heuristic"
    requires = ("pymoo",)
    options = {"pop_size": Option(48, "GA population size", kind="int", parse=integer_at_least(0)),
               "generations": Option(40, "number of GA generations", kind="int",
                                     parse=integer_at_least(0)),
               "seed": Option(0, "seed of the GA (deterministic)", kind="int",
                              parse=integer_at_least(0))}
    starts = 0

    def solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> MinPowerSolution:
        from solvers.evolutionary import minimize_ga

        sc = self.problem
        w = sc.weights(snr, budget)
        off = sc.log10_max + np.log10(0.99)

        def snapped(u: np.ndarray) -> np.ndarray:
            return np.where(u >= off, sc.log10_max, u)

        base = self._starts(target, snr, budget)
        out = np.empty((len(budget), sc.n_streams))
        evals = 0
        for row in range(len(budget)):
            inv_snr = 1.0 / snr[row]

            def objective(u: np.ndarray, row: int = row) -> np.ndarray:
                return sc.required_snr(10.0 ** snapped(u)) @ w[row]

            def constraint(u: np.ndarray, inv_snr: np.ndarray = inv_snr) -> np.ndarray:
                v = snapped(u)
                excess = sc.perception_log10(v) - target
                load = sc.required_snr(10.0**v) @ inv_snr - 1.0
                return np.maximum(excess, load)

            x, _, ev = minimize_ga(objective, constraint, sc.log10_min,
                                   np.full(sc.n_streams, sc.log10_max),
                                   pop_size=self.pop_size, generations=self.generations,
                                   seed=self.seed)
            start = ([snapped(x)] if x is not None else []) + base
            out[row], ev2 = self._solve_one(target, w[row], inv_snr, start)
            evals += ev + ev2
        return MinPowerSolution(out, None, self.generations, evals)
