"""Cell methods on the users' frontiers: Lagrangian dual and the knapsack reference."""

from __future__ import annotations

from typing import Any

import numpy as np

from semopt.allocators.cell.base import (
    LEVELS_OPTION,
    MINPOWER_OPTION,
    CellMethod,
    _grid,
)
from semopt.allocators.cell.mckp import (
    dual_bisection,
    exchange,
    fill,
    knapsack_dp,
    option_sums,
    repair,
)
from semopt.options import Option
from semopt.problems.cell import CellInputs, CellSolution
from semopt.registry import register_allocator

__all__ = ["DualMethod", "KnapsackMethod", "choose_dual"]

POLISH_OPTION = Option(True, "re-split each user's assigned power between its streams with "
                       "the best-within-budget search when that beats the level's split",
                       kind="bool")


def choose_dual(q: np.ndarray, v: np.ndarray, budget: float
                ) -> tuple[np.ndarray, dict[str, Any], int]:
    """Lagrangian on the lower convex hulls, bisection on λ, then repair and fill.

    Two candidates: the feasible end of the final bracket filled with the remaining
    budget, and the infeasible end repaired (downgrades with the least loss per watt)
    then filled; each is then improved by exchanges (an upgrade that does not fit, paid
    for by other users' downgrades); the one with the smaller Σ v wins (then the smaller
    power).
    """
    dual = dual_bisection(q, v, budget)
    a, passes_a = fill(q, v, dual.feasible, budget)
    a, rounds_a = exchange(q, v, a, budget)
    b, passes_b = repair(q, v, dual.infeasible, budget)
    b, passes_c = fill(q, v, b, budget)
    b, rounds_b = exchange(q, v, b, budget)
    (pa, va), (pb, vb) = option_sums(q, v, a), option_sums(q, v, b)
    choice = a if (va, pa) <= (vb, pb) or pb > budget else b
    u = len(choice)
    value = min(va, vb) if pb <= budget else va
    info = {"multiplier_per_w": dual.lam_hi,
            "lower_bound_mean_perception": dual.bound / u,
            "dual_gap": (value - dual.bound) / u}
    return choice, info, dual.iterations + max(passes_a + rounds_a, passes_b + passes_c + rounds_b)


@register_allocator("cell")
class DualMethod(CellMethod):
    """Lagrangian relaxation over the users' sampled frontiers (fast; the default).

    max-served: the exact sort of the users' least powers (one batched min-power call).
    min-mean-perception: every user's frontier is sampled at ``levels`` perception
    levels (one batched min-power call per level); for a multiplier λ each user takes
    the option minimizing P + λ·power — a vertex of the lower convex hull of its
    options; bisection on λ finds the smallest λ whose choice fits the budget; then a
    repair step (from the infeasible end of the bracket) and a fill step (upgrades with
    the best perception gain per watt while they fit) restore feasibility and spend the
    remaining budget. ``extras["dual_gap"]`` bounds the distance of the sampled
    objective to the best choice over the same options (Lagrangian lower bound).

    Parameters
    ----------
    levels : int
        Perception levels of the sampled frontiers (default 64).
    grid_points : int, optional
        Round every option's power up to the grid B/grid_points (as ``knapsack`` does;
        default: exact powers).
    minpower_method : str, optional
        Min-power method of the per-user least powers.
    polish : bool
        Re-split each user's assigned power with the best-within-budget search.
    """

    name = "dual"
    optimality = "heuristic"
    options = {"levels": LEVELS_OPTION,
               "grid_points": Option(None, "round option powers up to the grid budget/"
                                     "grid_points (default: exact powers)", kind="int",
                                     parse=_grid),
               "minpower_method": MINPOWER_OPTION, "polish": POLISH_OPTION}

    def solve_max_served(self, inputs: CellInputs) -> CellSolution:
        return self._aware_least(inputs)

    def solve_min_mean(self, inputs: CellInputs) -> CellSolution:
        return self._on_frontier(inputs, choose_dual, split="aware",
                                 grid_points=self.grid_points)


@register_allocator("cell")
class KnapsackMethod(CellMethod):
    """Multiple-choice knapsack by dynamic programming on a power grid (the reference).

    max-served: the exact sort (as ``dual``). min-mean-perception: the same sampled
    frontiers as ``dual``; every option's power is rounded up to a multiple of
    B/``grid_points`` and the DP over users and grid capacities returns the exact
    optimum over these options (O(U · levels · grid_points) time, O(U · grid_points)
    memory: meant for small cells).

    Parameters
    ----------
    levels : int
        Perception levels of the sampled frontiers (default 64).
    grid_points : int
        Power grid: the budget in units of B/grid_points (default 2000).
    minpower_method : str, optional
        Min-power method of the per-user least powers.
    polish : bool
        Re-split each user's assigned power with the best-within-budget search.
    """

    name = "knapsack"
    optimality = "global"
    vectorized = False
    options = {"levels": LEVELS_OPTION,
               "grid_points": Option(2000, "power grid: budget in units of budget/grid_points",
                                     kind="int", parse=_grid),
               "minpower_method": MINPOWER_OPTION, "polish": POLISH_OPTION}

    def solve_max_served(self, inputs: CellInputs) -> CellSolution:
        return self._aware_least(inputs)

    def solve_min_mean(self, inputs: CellInputs) -> CellSolution:
        grid = int(self.grid_points)

        def choose(q: np.ndarray, v: np.ndarray, budget: float
                   ) -> tuple[np.ndarray, dict[str, Any], int]:
            step = budget / grid
            with np.errstate(invalid="ignore"):
                units = np.where(np.isfinite(q), np.rint(q / step), -1).astype(np.int64)
            choice, value = knapsack_dp(units, v, grid)
            return choice, {"knapsack_mean_perception": value / len(choice)}, len(choice)

        return self._on_frontier(inputs, choose, split="aware", grid_points=grid)
