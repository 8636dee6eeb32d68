"""The cell method base: max-served by sorting, min-mean-perception on sampled frontiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from semopt.allocators.base import Method
from semopt.options import Option, integer_at_least
from semopt.problems.cell import OBJECTIVES, CellInputs, CellProblem, CellSolution, Frontier

__all__ = ["CellMethod", "grid_powers", "serve_by_sorting"]

TIE_RTOL = 1e-9
"""Least powers this close (relative) to the marginal user's count as a tie at the cut."""


_positive_int = integer_at_least(1)


def _levels(value: object, name: str) -> int:
    out = _positive_int(value, name)
    if out < 2 or out > 4096:
        raise ValueError(f"{name}: must be an integer in [2, 4096], got {value!r}")
    return out


def _grid(value: object, name: str) -> int:
    out = _positive_int(value, name)
    if out > 1_000_000:
        raise ValueError(f"{name}: must be an integer in [1, 1e6], got {value!r}")
    return out


def _minpower_method(value: object, name: str) -> str:
    from semopt.registry import list_methods

    valid = list_methods("min-power")
    if value not in valid:
        raise ValueError(f"{name}: must be a min-power method ({', '.join(valid)}), got {value!r}")
    return str(value)


LEVELS_OPTION = Option(64, "perception levels at which every user's frontier is sampled (the "
                       "least power of each level is an exact frontier point)", kind="int",
                       parse=_levels)
MINPOWER_OPTION = Option(None, "min-power method for each user's least power (default: "
                         "global-search for 2 streams, exhaustive for 3-4, slsqp beyond)",
                         kind="str", parse=_minpower_method)


def serve_by_sorting(problem: CellProblem, inputs: CellInputs, least: np.ndarray,
                     power: np.ndarray, evaluations: int,
                     cap: np.ndarray | float | None = None) -> CellSolution:
    """Max-served: the users with the smallest least powers while their sum fits.

    A cardinality knapsack (every user counts 1) is solved exactly by sorting: any served
    set of m users needs at least the m smallest least powers. ``cap`` (optional, per
    user) restricts the candidates (the equal-power baseline: ℓ_u ≤ B/U). Ties at the cut
    (least powers equal to the marginal one within 1e-9) are served lowest index first
    and reported in ``info["tie"]``.
    """
    budget = inputs.budget_w
    eligible = np.isfinite(least) & (least <= budget)
    if cap is not None:
        eligible &= least <= cap
    order = np.flatnonzero(eligible)
    order = order[np.argsort(least[order], kind="stable")]
    cumulative = np.cumsum(least[order])
    m = int(np.searchsorted(cumulative, budget, side="right"))
    served = order[:m]
    out = np.zeros_like(power)
    out[served] = power[served]
    tie = None
    if 0 < m < order.size:
        marginal = least[order[m - 1]]
        group = order[np.abs(least[order] - marginal) <= TIE_RTOL * marginal]
        if np.count_nonzero(~np.isin(group, served)):
            tie = {"least_power_w": float(marginal), "users": int(group.size),
                   "served": int(np.count_nonzero(np.isin(group, served)))}
    info = {"tie": tie, "unreachable": int(np.count_nonzero(~(np.isfinite(least)
                                                               & (least <= budget))))}
    return CellSolution(out, least, 0, evaluations, info)


def grid_powers(q: np.ndarray, budget: float, grid_points: int | None
                ) -> tuple[np.ndarray, float | None]:
    """Option powers rounded up to the grid B/G (None: unchanged) and the grid step."""
    if grid_points is None:
        return q, None
    step = budget / grid_points
    with np.errstate(invalid="ignore"):
        units = np.ceil(q / step)
        units = np.where(units * step < q, units + 1, units)
        out = np.where(np.isfinite(q) & (units <= grid_points), units * step, np.inf)
    return out, step


class CellMethod(Method):
    """Base of the cell methods: dispatch on the problem's objective.

    Subclasses implement :meth:`solve_max_served` and/or :meth:`solve_min_mean` and list
    the objectives they handle in ``objectives``.
    """

    problem_class = CellProblem
    problem: CellProblem
    objectives: ClassVar[tuple[str, ...]] = OBJECTIVES

    def check_problem(self, problem: Any) -> None:
        super().check_problem(problem)
        if problem.objective not in self.objectives:
            raise ValueError(f"objective: method {self.name!r} handles "
                             f"{', '.join(map(repr, self.objectives))}, not "
                             f"{problem.objective!r}")

    def solve(self, inputs: CellInputs) -> CellSolution:
        if self.problem.objective == "max-served":
            return self.solve_max_served(inputs)
        return self.solve_min_mean(inputs)

    def solve_max_served(self, inputs: CellInputs) -> CellSolution:
        raise NotImplementedError

    def solve_min_mean(self, inputs: CellInputs) -> CellSolution:
        raise NotImplementedError

    # -- shared pipeline -------------------------------------------------------------------
    def _aware_least(self, inputs: CellInputs, split: str = "aware") -> CellSolution:
        """Max-served on the least powers of one batched min-power call."""
        method = "unaware" if split == "unaware" else getattr(self, "minpower_method", None)
        sol = self.problem.least_powers(inputs, inputs.target, method=method)
        return serve_by_sorting(self.problem, inputs, sol.total_w, sol.power_w, sol.evaluations)

    def _on_frontier(self, inputs: CellInputs,
                     choose: Callable[[np.ndarray, np.ndarray, float],
                                      tuple[np.ndarray, dict[str, Any], int]],
                     *, split: str, grid_points: int | None) -> CellSolution:
        """Frontier → option choice → per-stream powers → polish (see the methods)."""
        problem = self.problem
        method = getattr(self, "minpower_method", None)
        frontier: Frontier = problem.frontier(inputs, self.levels, split, method)
        q_exact, v = frontier.options()
        q, step = grid_powers(q_exact, inputs.budget_w, grid_points)
        choice, info, iterations = choose(q, v, inputs.budget_w)
        rows = np.arange(len(choice))
        assigned = np.where(choice > 0, q[rows, choice], 0.0)
        power, evals = problem.powers_at_levels(inputs, frontier, choice, split, method)
        evaluations = frontier.evaluations + evals
        _, level_perception = problem.perceptions(inputs, power)
        totals = power.sum(axis=-1)
        if split == "unaware":
            # Keep the equal-SNR split; spend the user's whole (rounded) share on it.
            with np.errstate(invalid="ignore", divide="ignore"):
                scale = np.where(totals > 0, assigned / totals, 0.0)
            scaled = power * np.maximum(scale, 1.0)[:, None]
            better = problem.perceptions(inputs, scaled)[1] <= level_perception
            power = np.where(better[:, None], scaled, power)
        elif self.polish:
            best, split_power = problem.best_achievable(inputs, assigned)
            evaluations += int(np.count_nonzero(assigned > 0))
            better = (best < level_perception) & (split_power.sum(axis=-1)
                                                   <= assigned * (1.0 + 1e-12))
            power = np.where(better[:, None], split_power, power)
        info = dict(info)
        info.update({"levels": int(self.levels), "grid_points": grid_points,
                     "grid_step_w": step, "split": split,
                     "frontier_mean_perception": float(np.mean(v[choice])),
                     "assigned_power_w": float(assigned.sum())})
        return CellSolution(power, None, iterations, evaluations, info)
