"""The symbol-split method base: candidate indices to the problem's solution type."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from semopt.allocators.base import Method
from semopt.problems.symbol_split import SymbolSplitInputs, SymbolSplitProblem, SymbolSplitSolution

__all__ = ["SymbolSplitMethod"]


class SymbolSplitMethod(Method):
    """Base of the symbol-split methods.

    A subclass implements ``solve(inputs) -> SymbolSplitSolution``; :meth:`solution`
    turns per-row candidate indices (into ``problem.candidates``, -1 = none) into one.
    """

    problem_class = SymbolSplitProblem
    problem: SymbolSplitProblem
    vectorized = True

    def solution(self, index: np.ndarray, *, iterations: int, evaluations: int,
                 info: Mapping[str, np.ndarray] | None = None) -> SymbolSplitSolution:
        """The solution of candidate indices ``index`` (B,), -1 where none was found."""
        fg, bg, sent = self.problem.index_to_levels(index)
        return SymbolSplitSolution(fg, bg, sent, int(iterations), int(evaluations),
                                   exact=self.optimality == "global", info=info)

    def scores(self, inputs: SymbolSplitInputs, snr_db: np.ndarray) -> np.ndarray:
        """``sign · E[Q]`` (n, P) at ``snr_db`` (higher is better), −inf where not allowed."""
        q = self.problem.candidate_quality(inputs.metric, snr_db)
        score = self.problem.sign(inputs.metric) * q
        return np.where(self.problem.allowed, score, -np.inf)
