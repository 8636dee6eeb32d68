"""Dense-grid ground truth of the min-power problem (2–4 streams)."""

from __future__ import annotations

import numpy as np

from semopt.allocators.minpower.base import MinPowerMethod, no_solution
from semopt.options import Option, integer_at_least
from semopt.problems.minpower import BUDGET_RTOL, MinPowerSolution
from semopt.registry import register_allocator
from solvers.curve import scan_argmin

__all__ = ["ExhaustiveMethod"]



@register_allocator("min-power")
class ExhaustiveMethod(MinPowerMethod):
    """Dense-grid ground truth: a grid over the first I−1 log10 error rates, the last
    stream's error rate solved exactly from P = P̄, the cheapest budget-feasible node.

    Parameters
    ----------
    grid_points : int, optional
        Points per gridded stream (default 20001 for two streams, 401 for three,
        61 for four).
    """

    name = "exhaustive"
    stream_counts = (2, 3, 4)
    options = {"grid_points": Option(None, "points per gridded stream (default 20001 for two "
                                     "streams, 401 for three, 61 for four)", kind="int",
                                     parse=integer_at_least(3))}

    def check_problem(self, problem) -> None:
        super().check_problem(problem)
        if self.grid_points is None:
            self.grid_points = {2: 20001, 3: 401, 4: 61}[problem.n_streams]

    def _grid(self, target: float) -> tuple[np.ndarray, np.ndarray]:
        sc = self.problem
        n = sc.n_streams
        axes = [np.linspace(sc.log10_min[i], sc.log10_max, self.grid_points) for i in range(n - 1)]
        if n == 2:  # add the exact curve endpoints (a stream switched off / at its floor)
            ends = [sc.solve_stream_log10(np.array([0.0, v]), 0, np.asarray(target))
                    for v in (sc.log10_max, sc.log10_min[1])]
            axes = [np.union1d(axes[0], [float(e) for e in ends if np.isfinite(e)])]
        mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, n - 1)
        u = np.concatenate([mesh, np.zeros((len(mesh), 1))], axis=-1)
        u[:, -1] = sc.solve_stream_log10(u, n - 1, np.asarray(target))
        keep = np.isfinite(u[:, -1])
        u = u[keep]
        return u, sc.required_snr(10.0**u)

    def solve_group(self, target: float, snr: np.ndarray, budget: np.ndarray) -> MinPowerSolution:
        u, s = self._grid(target)
        b = len(budget)
        if len(u) == 0:
            return no_solution(b, self.problem.n_streams)
        out = np.full((b, self.problem.n_streams), np.nan)
        w = self.problem.weights(snr, budget)
        chunk = max(1, int(2e7 // len(u)))
        for start in range(0, b, chunk):
            sl = slice(start, start + chunk)
            values = w[sl] @ s.T
            values = np.where((1.0 / snr[sl]) @ s.T <= 1.0 + BUDGET_RTOL, values, np.inf)
            k = scan_argmin(values)
            has = np.isfinite(values[np.arange(len(k)), k])
            out[sl] = np.where(has[:, None], u[k], np.nan)
        return MinPowerSolution(out, None, 1, len(u))
