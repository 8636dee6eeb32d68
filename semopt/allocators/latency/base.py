"""The latency method base: metric floors that no BER meets are answered once, here."""

from __future__ import annotations

from typing import Any

import numpy as np

from semopt.allocators.base import Method
from semopt.problems.latency import STATUS_CODE, LatencyInputs, LatencyProblem, LatencySolution
from semopt.result import OPTIMAL

__all__ = ["LatencyMethod", "positive_int", "status_codes"]


class LatencyMethod(Method):
    """Base of the latency methods.

    :meth:`solve` returns the problem's infeasible answer when the target's metric floors
    exceed the quality curve (no BER meets them), and otherwise calls
    :meth:`solve_reachable` with a BER target per conditioning stream.
    """

    problem_class = LatencyProblem
    problem: LatencyProblem

    def solve(self, inputs: LatencyInputs) -> LatencySolution:
        if not inputs.reachable:
            return self.problem.unreachable(inputs)
        return self.solve_reachable(inputs)

    def solve_reachable(self, inputs: LatencyInputs) -> LatencySolution:
        """Solve rows whose BER target ``inputs.ber`` (I,) is set."""
        raise NotImplementedError


def status_codes(ok: np.ndarray, otherwise: str) -> np.ndarray:
    """int8 status codes: ``optimal`` where ``ok``, ``otherwise`` elsewhere."""
    ok = np.asarray(ok, dtype=bool)
    if ok.all():
        return np.full(ok.shape, STATUS_CODE[OPTIMAL])
    return np.where(ok, STATUS_CODE[OPTIMAL], STATUS_CODE[otherwise]).astype(np.int8)


def positive_int(value: Any, name: str) -> int:
    """Option parser: a positive integer (bools refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)
