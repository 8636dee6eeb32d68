"""``cheapest``: the least ranking cost meeting every metric target within the caps."""

from __future__ import annotations

from semopt.allocators.operating_point.base import OperatingPointMethod
from semopt.problems.base import Problem
from semopt.problems.operating_point import OperatingPointInputs, OperatingPointSolution
from semopt.registry import register_allocator

__all__ = ["CheapestMethod"]


@register_allocator("operating-point")
class CheapestMethod(OperatingPointMethod):
    """Cheapest operating point meeting every metric target within the caps.

    ``min_p c(p)  s.t.  q_m(p, snr) ≥ τ_m (floors), q_m(p, snr) ≤ τ_m (ceilings),
    c_k(p) ≤ B_k``. A candidate whose ranking cost the table does not report ranks after
    every priced one; cost ties go to the better objective metric, then to table order.
    ``objective`` is the chosen point's ranking cost.
    """

    name = "cheapest"
    objective_kind = "cost"

    def check_problem(self, problem: Problem) -> None:
        super().check_problem(problem)
        if not problem.table.costs:
            raise ValueError(f"method: table {problem.table.name!r} declares no cost to minimize; "
                             "use method='best-within-budget'")

    def solve(self, inputs: OperatingPointInputs) -> OperatingPointSolution:
        ev = self.problem.evaluate(inputs)
        keys = [self._cost_key(inputs), self._score_key(inputs, ev.predicted)]
        choice = self._choose(keys, ev.feasible)
        return OperatingPointSolution(choice, self.objective_kind, 0, ev.evaluations)
