"""Cell baselines: equal power per user, and a semantic-unaware split per user."""

from __future__ import annotations

import numpy as np

from semopt.allocators.cell.base import LEVELS_OPTION, MINPOWER_OPTION, CellMethod, serve_by_sorting
from semopt.allocators.cell.dual import choose_dual
from semopt.problems.cell import CellInputs, CellSolution
from semopt.registry import register_allocator

__all__ = ["EqualPowerMethod", "UnawareCellMethod"]


@register_allocator("cell")
class EqualPowerMethod(CellMethod):
    """Baseline: every user gets B/U, split between its streams semantic-aware.

    max-served: a user is served when its least power (min-power) fits its share B/U; it
    then transmits its least-power allocation. min-mean-perception: every user gets the
    best perception within B/U (the min-power problem's best-within-budget search).
    """

    name = "equal-power"
    optimality = "baseline"
    options = {"minpower_method": MINPOWER_OPTION}

    def solve_max_served(self, inputs: CellInputs) -> CellSolution:
        share = inputs.budget_w / len(inputs.snr_db)
        sol = self.problem.least_powers(inputs, inputs.target, method=self.minpower_method)
        out = serve_by_sorting(self.problem, inputs, sol.total_w, sol.power_w,
                               sol.evaluations, cap=share)
        return out._replace(info={**out.info, "share_w": share, "tie": None})

    def solve_min_mean(self, inputs: CellInputs) -> CellSolution:
        u = len(inputs.snr_db)
        share = inputs.budget_w / u
        _, power = self.problem.best_achievable(inputs, np.full(u, share))
        return CellSolution(power, None, 0, u, {"share_w": share})


@register_allocator("cell")
class UnawareCellMethod(CellMethod):
    """Baseline: the cell optimization with a semantic-unaware split inside each user.

    Every stream of a user is received at the same SNR (the min-power ``unaware`` rule);
    across users the budget is shared as by ``dual``: max-served sorts the users'
    unaware least powers, min-mean-perception runs the Lagrangian on the unaware
    frontiers (each user's power then keeps its equal-SNR split).

    Parameters
    ----------
    levels : int
        Perception levels of the sampled frontiers (default 64).
    """

    name = "unaware"
    optimality = "baseline"
    options = {"levels": LEVELS_OPTION}

    def solve_max_served(self, inputs: CellInputs) -> CellSolution:
        return self._aware_least(inputs, split="unaware")

    def solve_min_mean(self, inputs: CellInputs) -> CellSolution:
        return self._on_frontier(inputs, choose_dual, split="unaware", grid_points=None)
