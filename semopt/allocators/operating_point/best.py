"""``best-within-budget``: the best objective metric within the caps (and any targets)."""

from __future__ import annotations

from semopt.allocators.operating_point.base import OperatingPointMethod
from semopt.problems.operating_point import OperatingPointInputs, OperatingPointSolution
from semopt.registry import register_allocator

__all__ = ["BestWithinBudgetMethod"]


@register_allocator("operating-point")
class BestWithinBudgetMethod(OperatingPointMethod):
    """Best operating point by the objective metric that fits the caps.

    ``max_p ± q_obj(p, snr)  s.t.  c_k(p) ≤ B_k`` and any targets given (sign by the
    metric's direction, ``objective_metric``). Ties go to the lower ranking cost, then to
    table order. ``objective`` is the chosen point's predicted objective metric.
    """

    name = "best-within-budget"
    objective_kind = "metric"

    def solve(self, inputs: OperatingPointInputs) -> OperatingPointSolution:
        ev = self.problem.evaluate(inputs)
        keys = [self._score_key(inputs, ev.predicted), self._cost_key(inputs)]
        choice = self._choose(keys, ev.feasible)
        return OperatingPointSolution(choice, self.objective_kind, 0, ev.evaluations)
