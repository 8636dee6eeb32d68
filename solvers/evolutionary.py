"""Constrained global search with pymoo's genetic algorithm, vectorized evaluation.

Solves

    minimize_x  f(x)   subject to  g(x) ≤ 0,   lower ≤ x ≤ upper

with ``f`` and ``g`` evaluated on a whole population at once (shape (n, d) -> (n,)),
using pymoo's single-objective ``GA`` and its feasibility-first constraint handling.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pymoo.algorithms.soo.nonconvex.ga import GA
from pymoo.core.problem import Problem
from pymoo.optimize import minimize

__all__ = ["minimize_ga"]


class _VectorizedProblem(Problem):
    def __init__(self, objective: Callable[[np.ndarray], np.ndarray],
                 constraint: Callable[[np.ndarray], np.ndarray], lower: np.ndarray,
                 upper: np.ndarray) -> None:
        super().__init__(n_var=len(lower), n_obj=1, n_ieq_constr=1, xl=lower, xu=upper)
        self._objective, self._constraint = objective, constraint

    def _evaluate(self, x: np.ndarray, out: dict, *args: object, **kwargs: object) -> None:
        out["F"] = self._objective(x)[:, None]
        out["G"] = self._constraint(x)[:, None]


def minimize_ga(objective: Callable[[np.ndarray], np.ndarray],
                constraint: Callable[[np.ndarray], np.ndarray], lower: np.ndarray,
                upper: np.ndarray, *, pop_size: int = 64, generations: int = 60,
                seed: int = 0) -> tuple[np.ndarray | None, float, int]:
    """Best feasible point found by pymoo's GA.

    Returns
    -------
    x : ndarray or None
        The best feasible point (None if no feasible point was found).
    f : float
        Its objective value (inf if none).
    evaluations : int
        Number of points evaluated.
    """
    problem = _VectorizedProblem(objective, constraint, np.asarray(lower, float),
                                 np.asarray(upper, float))
    result = minimize(problem, GA(pop_size=pop_size, eliminate_duplicates=True),
                      ("n_gen", generations), seed=seed, verbose=False)
    n_eval = int(result.algorithm.evaluator.n_eval)
    if result.X is None:
        return None, float("inf"), n_eval
    return np.asarray(result.X, dtype=float), float(np.asarray(result.F).ravel()[0]), n_eval
