"""The operating-point method base: evaluate every candidate, pick one by a key tuple."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from semopt.allocators.base import Method
from semopt.problems.operating_point import OperatingPointInputs, OperatingPointProblem
from solvers.select import lexicographic_argmin

__all__ = ["OperatingPointMethod"]


class OperatingPointMethod(Method):
    """Base of the operating-point methods (exact enumeration over the candidates).

    A subclass sets ``objective_kind`` (``"cost"`` or ``"metric"``) and implements
    ``solve``: evaluate the candidates with the problem, then pick per row the feasible
    candidate with the smallest key tuple (smaller is better, primary key first;
    remaining ties: table order).
    """

    problem_class = OperatingPointProblem
    problem: OperatingPointProblem
    vectorized = True
    optimality = "global"
    objective_kind: ClassVar[str] = "cost"

    def _choose(self, keys: list[np.ndarray], feasible: np.ndarray) -> np.ndarray:
        """Per row, the feasible candidate with the smallest key tuple (-1: none)."""
        return lexicographic_argmin(keys, feasible).astype(int)

    def _cost_key(self, inputs: OperatingPointInputs) -> np.ndarray:
        if inputs.cost_name is None:
            return np.zeros(len(self.problem.candidates))
        return self.problem.cost_vector(inputs.cost_name)  # NaN (unknown) ranks last

    def _score_key(self, inputs: OperatingPointInputs,
                   predicted: dict[str, np.ndarray]) -> np.ndarray:
        metric = inputs.objective_metric
        return self.problem.score(predicted[metric], metric)
