"""The min-power method base: solve the realizations that share one target at a time."""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from semopt.allocators.base import Method
from semopt.problems.minpower import MinPowerInputs, MinPowerProblem, MinPowerSolution
from semopt.result import SolverError

__all__ = ["MinPowerMethod", "no_solution", "shared_solution", "solve_monotone_root"]


class MinPowerMethod(Method):
    """Base of the min-power methods: batches are grouped by target.

    The constraint set depends only on the table and P̄, so a method implements
    :meth:`solve_group` for every realization sharing one target; :meth:`solve` groups a
    batch by target and merges the groups.
    """

    problem_class = MinPowerProblem
    problem: MinPowerProblem

    def solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> MinPowerSolution:
        """Solve the realizations (rows of ``snr`` (b, I), γ at the budget) sharing ``target``."""
        raise NotImplementedError

    def solve(self, inputs: MinPowerInputs) -> MinPowerSolution:
        n = self.problem.n_streams
        log_rates = np.full(inputs.snr_linear.shape, np.nan)
        required = np.full(inputs.snr_linear.shape, np.nan)
        iterations = evaluations = 0
        values, inverse = np.unique(inputs.target, return_inverse=True)
        for index, value in enumerate(values):
            rows = np.flatnonzero(inverse.ravel() == index) if len(values) > 1 else slice(None)
            sol = self.solve_group(float(value), inputs.snr_linear[rows], inputs.budget_w[rows])
            log_rates[rows] = sol.log10_rates
            if sol.required_snr is not None:
                required[rows] = sol.required_snr
            iterations = max(iterations, sol.iterations)
            evaluations += sol.evaluations
        return MinPowerSolution(log_rates.reshape(-1, n), required.reshape(-1, n), iterations,
                                evaluations)


def solve_monotone_root(fun, lo: float, hi: float, what: str) -> float:
    """Root of a monotone scalar function on [lo, hi] with brentq."""
    f_lo, f_hi = fun(lo), fun(hi)
    if f_lo == 0:
        return lo
    if f_hi == 0:
        return hi
    if np.sign(f_lo) == np.sign(f_hi):
        raise SolverError(f"{what}: no sign change on [{lo}, {hi}] ({f_lo:.3g}, {f_hi:.3g})")
    return brentq(fun, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)


def shared_solution(problem: MinPowerProblem, rates: np.ndarray, b: int,
                    evaluations: int) -> MinPowerSolution:
    """One error-rate vector for every realization of the group (channel-independent rules)."""
    with np.errstate(divide="ignore"):
        log_rates = np.log10(rates)
    required = problem.required_snr(rates)
    return MinPowerSolution(np.broadcast_to(log_rates, (b, rates.size)),
                            np.broadcast_to(required, (b, rates.size)), evaluations, evaluations)


def no_solution(n_rows: int, n_streams: int, evaluations: int = 1) -> MinPowerSolution:
    """Every row without a budget-feasible point."""
    return MinPowerSolution(np.full((n_rows, n_streams), np.nan), None, 0, evaluations)
