"""``exhaustive``: every candidate of every row (the reference)."""

from __future__ import annotations

import numpy as np

from semopt.allocators.symbol_split.base import SymbolSplitMethod
from semopt.problems.symbol_split import MODES, SymbolSplitInputs, SymbolSplitSolution
from semopt.registry import register_allocator
from solvers.select import lexicographic_argmin

__all__ = ["ExhaustiveMethod"]


@register_allocator("symbol-split")
class ExhaustiveMethod(SymbolSplitMethod):
    """Exact enumeration of all ``F · B · 2`` candidates per row (the reference).

    Fewest-symbols mode: among candidates within the budget meeting the target, the fewest
    symbols, ties to the better ``E[Q]``, then table order. Best-quality mode: the best
    ``E[Q]`` within the budget, ties to fewer symbols, then table order. One
    ``(B, P)`` pass; ``evaluations`` = B·P.
    """

    name = "exhaustive"
    optimality = "global"

    def solve(self, inputs: SymbolSplitInputs) -> SymbolSplitSolution:
        score = self.scores(inputs, inputs.snr_db)                    # (B, P)
        cost = self.problem.costs[None, :]
        feasible = np.isfinite(score) & (cost <= inputs.budget_symbols[:, None])
        if inputs.mode == MODES[0]:
            tau = self.problem.sign(inputs.metric) * inputs.target[:, None]
            feasible &= score >= tau
            keys = [cost, -score]
        else:
            keys = [-score, cost]
        index = lexicographic_argmin(keys, feasible)
        return self.solution(index, iterations=0, evaluations=score.size)
