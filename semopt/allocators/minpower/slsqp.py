"""Generic min-power method for any number of streams: scipy SLSQP per instance."""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import minimize

from semopt.allocators.minpower.base import MinPowerMethod
from semopt.allocators.minpower.rules import ProportionalMethod, UnawareMethod
from semopt.options import Option, integer_at_least
from semopt.problems.minpower import BUDGET_RTOL, MinPowerSolution
from semopt.registry import register_allocator
from semopt.result import SolverError

__all__ = ["SlsqpMethod"]



@register_allocator("min-power")
class SlsqpMethod(MinPowerMethod):
    """Generic method for any number of streams: scipy SLSQP, one instance at a time.

    Solves min Σ_i w_i s_i(10^{u_i}) s.t. P(10^u) ≤ P̄ and Σ_i s_i/snr_i ≤ 1 over
    u ∈ [log10 Φ_min, log10 Φ_max]^I with analytic gradients, from several starts (the
    proportional and unaware solutions, the all-equal-error-rate point, and seeded random
    points) and keeps the best feasible result. Also the "generic solver" baseline of the
    benchmarks.

    Parameters
    ----------
    starts : int
        Number of extra random starts (default 4).
    seed : int
        Seed of the random starts (deterministic).
    """

    name = "slsqp"
    vectorized = False
    optimality = "local"
    options = {"starts": Option(4, "number of extra seeded random starts", kind="int",
                                parse=integer_at_least(0)),
               "seed": Option(0, "seed of the random starts (deterministic)", kind="int",
                              parse=integer_at_least(0))}

    def check_problem(self, problem) -> None:
        super().check_problem(problem)
        # The rule-based solutions are start points; they share this problem.
        self._rules = [ProportionalMethod(problem=problem), UnawareMethod(problem=problem)]

    def _solve_one(self, target: float, w: np.ndarray, inv_snr: np.ndarray,
                   starts: list[np.ndarray]) -> tuple[np.ndarray, int]:
        """Best feasible SLSQP result over every on/off pattern of the streams.

        A stream switched off sits at Φ_max (zero power). In the coded scheme the
        required SNR has an infinite slope there, which gradient methods cannot cross,
        so each non-empty set of active streams is optimized separately (the others
        fixed at Φ_max) with active error rates bounded by 0.999·Φ_max.
        """
        sc = self.problem
        n = sc.n_streams
        top = sc.log10_max
        scale = float(np.sum(w * sc.required_snr(np.full(n, 1e-3)))) or 1.0
        best, best_f, evals = None, math.inf, 0
        patterns = [np.array(p, dtype=bool) for p in itertools.product((True, False), repeat=n)
                    if any(p)] if n <= 8 else [np.ones(n, dtype=bool)]
        for on in patterns:
            def full(x: np.ndarray, on: np.ndarray = on) -> np.ndarray:
                u = np.full(n, top)
                u[on] = x
                return u

            def objective(x: np.ndarray, on: np.ndarray = on) -> tuple[float, np.ndarray]:
                rates = 10.0 ** full(x)
                grad = w * sc.required_snr_slope_log10(rates) / scale
                return float(w @ sc.required_snr(rates)) / scale, grad[on]

            constraints = [
                {"type": "ineq", "fun": lambda x: target - float(sc.perception_log10(full(x))),
                 "jac": lambda x, on=on: -sc.gradient_log10(full(x))[on]},
                {"type": "ineq",
                 "fun": lambda x: 1.0 - float(inv_snr @ sc.required_snr(10.0 ** full(x))),
                 "jac": lambda x, on=on: -(inv_snr * sc.required_snr_slope_log10(10.0 ** full(x)))[on]},
            ]
            lo = sc.log10_min[on]
            hi = np.full(lo.shape, top + np.log10(0.999))
            if float(sc.perception_log10(full(lo))) > target:
                continue  # this set of streams cannot reach the target at all
            for x0 in starts:
                x0 = np.clip(np.where(np.isfinite(x0[on]), x0[on], hi - 0.5), lo, hi)
                res = minimize(objective, x0, jac=True, method="SLSQP", bounds=list(zip(lo, hi)),
                               constraints=constraints, options={"maxiter": 200, "ftol": 1e-12})
                evals += int(res.nfev)
                u = self._repair(full(np.clip(res.x, lo, hi)), target, on, w)
                if u is None:
                    continue
                f = float(w @ sc.required_snr(10.0**u))
                if float(inv_snr @ sc.required_snr(10.0**u)) <= 1.0 + BUDGET_RTOL and f < best_f:
                    best, best_f = u, f
        return (np.full(n, np.nan) if best is None else best), evals

    def _repair(self, u: np.ndarray, target: float, on: np.ndarray,
                w: np.ndarray) -> np.ndarray | None:
        """Make a nearly feasible SLSQP point exactly feasible (P ≤ P̄) if it is not.

        Each active stream in turn is set to the largest error rate meeting P̄ with the
        others fixed; the cheapest repair wins. Switched-off streams stay off.
        """
        sc = self.problem
        if float(sc.perception_log10(u)) <= target:
            return u
        best, best_f = None, math.inf
        for i in np.flatnonzero(on):
            fixed = sc.solve_stream_log10(u, int(i), np.asarray(target))
            if not np.isfinite(fixed):
                continue
            v = u.copy()
            v[i] = fixed
            f = float(w @ sc.required_snr(10.0**v))
            if float(sc.perception_log10(v)) <= target and f < best_f:
                best, best_f = v, f
        return best

    def solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> MinPowerSolution:
        sc = self.problem
        w = sc.weights(snr, budget)
        starts = self._starts(target, snr, budget)
        out = np.empty((len(budget), sc.n_streams))
        evals = 0
        for row in range(len(budget)):
            out[row], ev = self._solve_one(target, w[row], 1.0 / snr[row], starts)
            evals += ev
        return MinPowerSolution(out, None, evals, evals)

    def _starts(self, target: float, snr: np.ndarray, budget: np.ndarray) -> list[np.ndarray]:
        """All-equal 1e-3, the proportional and unaware solutions, seeded random points."""
        sc = self.problem
        base = [np.full(sc.n_streams, -3.0)]
        for helper in self._rules:
            try:
                base.append(helper.solve_group(target, snr[:1], budget[:1]).log10_rates[0])
            except (ValueError, SolverError):
                pass  # e.g. no single-stream curves for the proportional start
        rng = np.random.default_rng(self.seed)
        return base + [rng.uniform(sc.log10_min, sc.log10_max) for _ in range(self.starts)]
