"""Generic convex-programming helpers on top of cvxpy (no application vocabulary).

* :func:`log1p_perspective` — ``s · log(1 + g x / s)`` written DCP-compliantly as
  ``−rel_entr(s, s + g x)`` (jointly concave in ``(s, x)``; the perspective of
  ``log(1 + g x)``).
* :func:`exp_over_log` — ``exp(a − log(b))`` = ``e^a / b``, jointly convex in ``(a, b)``.
* :func:`solve_problem` — solve with a list of fallback solvers and tight tolerances,
  raising :class:`ConvexSolveError` when none returns an optimal status.
* :func:`bisect_monotone` — vectorized bisection of a monotone feasibility predicate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ConvexSolveError",
    "bisect_monotone",
    "exp_over_log",
    "log1p_perspective",
    "solve_problem",
]

TIGHT_OPTIONS: dict[str, dict[str, Any]] = {
    "CLARABEL": {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10,
                 "tol_ktratio": 1e-8, "max_iter": 200},
    "SCS": {"eps": 1e-9, "max_iters": 200000},
    "ECOS": {"abstol": 1e-10, "reltol": 1e-10, "feastol": 1e-10},
}


class ConvexSolveError(RuntimeError):
    """No solver returned an optimal (or optimal-inaccurate, if allowed) solution."""


def log1p_perspective(scale: Any, x: Any, gain: Any) -> Any:
    """DCP expression of ``scale · log(1 + gain · x / scale)`` (natural log).

    Jointly concave in ``(scale, x)`` for ``scale > 0``, ``gain ≥ 0``.
    """
    import cvxpy as cp

    return -cp.rel_entr(scale, scale + cp.multiply(gain, x))


def exp_over_log(a: Any, b: Any) -> Any:
    """DCP expression of ``exp(a) / b = exp(a − log b)`` (convex in ``(a, b)``, ``b > 0``)."""
    import cvxpy as cp

    return cp.exp(a - cp.log(b))


def solve_problem(problem: Any, solvers: Sequence[str] = ("CLARABEL", "SCS"), *,
                  tight: bool = True, allow_inaccurate: bool = False,
                  **kwargs: Any) -> str:
    """Solve ``problem`` with the first solver that succeeds; return that solver's name.

    Parameters
    ----------
    problem : cvxpy.Problem
    solvers : sequence of str
        Tried in order; solvers that are not installed are skipped.
    tight : bool
        Use tight tolerances (:data:`TIGHT_OPTIONS`).
    allow_inaccurate : bool
        Accept ``optimal_inaccurate`` as a success.
    **kwargs
        Passed to ``problem.solve`` (e.g. ``qcp=True``).
    """
    import cvxpy as cp

    installed = set(cp.installed_solvers())
    accepted = {cp.OPTIMAL} | ({cp.OPTIMAL_INACCURATE} if allow_inaccurate else set())
    errors = []
    for name in solvers:
        if name not in installed:
            continue
        # the solver's defaults first (robust), then tight tolerances if that fails
        attempts = [{}] + ([dict(TIGHT_OPTIONS.get(name, {}))] if tight else [])
        for options in attempts:
            if kwargs.get("qcp"):
                options.pop("max_iter", None)
            options.update(kwargs)
            try:
                problem.solve(solver=name, **options)
            except (cp.error.SolverError, ArithmeticError, ValueError) as exc:
                errors.append(f"{name}: {exc}")
                continue
            if problem.status in accepted:
                return name
            errors.append(f"{name}: status {problem.status}")
    raise ConvexSolveError("; ".join(errors) or f"none of {list(solvers)} is installed")


def bisect_monotone(feasible: Callable[[np.ndarray], np.ndarray], lo: np.ndarray,
                    hi: np.ndarray, *, rtol: float = 1e-13, atol: float = 0.0,
                    max_iter: int = 200) -> tuple[np.ndarray, np.ndarray, int]:
    """Vectorized bisection of a predicate that is False below a threshold and True above.

    ``feasible(hi)`` must be True and ``feasible(lo)`` False (elementwise). Returns
    ``(lo, hi, iterations)`` with ``hi − lo ≤ rtol·|hi| + atol`` everywhere; ``hi`` stays
    feasible.
    """
    lo = np.array(lo, dtype=float, copy=True)
    hi = np.array(hi, dtype=float, copy=True)
    it = 0
    for it in range(1, max_iter + 1):
        active = (hi - lo) > rtol * np.abs(hi) + atol
        if not np.any(active):
            it -= 1
            break
        mid = np.where(active, 0.5 * (lo + hi), hi)
        ok = np.asarray(feasible(mid), dtype=bool)
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid, lo)
    return lo, hi, it
