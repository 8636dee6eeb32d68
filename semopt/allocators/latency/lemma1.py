"""``lemma1``: the equal-latency root of Lemma 1 by a monotone, vectorized Newton iteration."""

from __future__ import annotations

import numpy as np

from semopt.allocators.latency.base import LatencyMethod, positive_int
from semopt.options import Option
from semopt.problems.latency import STATUS_CODE, LatencyInputs, LatencySolution
from semopt.problems.latency_math import EqualLatencyTerms, solve_equal_latency
from semopt.registry import register_allocator
from semopt.result import MAX_ITERATIONS

__all__ = ["Lemma1Method"]


@register_allocator("latency")
class Lemma1Method(LatencyMethod):
    """Lemma 1 of Qiao et al.: the optimal power split with continuous MQAM (vectorized).

    Solves problem (5)::

        min_{p ≥ 0} max{T_0(p_0), T_1(p_1), ..., T_I(p_I)}   s.t.  Σ_i p_i ≤ P_T

    By Lemma 1 the optimum spends the budget with equal latencies; with the closed-form
    least power per stream this is one equation ``F(u) = γ̄`` in ``u = ln(T/A_0)``
    (:mod:`semopt.problems.latency_math`), solved for the whole batch by Newton's
    method on ``ln F − ln γ̄`` from a closed-form lower bound. That function is convex
    and decreasing, so the iterates rise monotonically to the root: typically 3–6
    steps to machine precision. Works for any number ``I`` of conditioning streams
    (the paper states Lemma 1 for ``I = 1``; the argument holds for any ``I``).
    """

    name = "lemma1"
    optimality = "global"
    vectorized = True
    options = {"max_iter": Option(100, "Newton iteration cap (per block of rows)", kind="int",
                                  parse=positive_int)}

    def solve_reachable(self, inputs: LatencyInputs) -> LatencySolution:
        terms = EqualLatencyTerms(self.problem.scenario, inputs.gap)
        root = solve_equal_latency(inputs.gbar, terms, max_iter=self.max_iter)
        fractions = terms.fractions(root.u, inputs.gbar)
        latency = terms.latency_s(root.u)
        code = np.zeros(root.u.shape, dtype=np.int8)
        if not root.converged.all():
            # At the cap the iterate lies left of the root (over budget): scale it to the
            # budget, a feasible point that is not certified (no latency claimed).
            stopped = ~root.converged
            code[stopped] = STATUS_CODE[MAX_ITERATIONS]
            fractions[stopped] /= fractions[stopped].sum(axis=-1, keepdims=True)
            latency[stopped] = np.nan
        return LatencySolution(
            fractions, code, "continuous", latency_s=latency, iterations=root.iterations,
            evaluations=root.evaluations,
            message="lemma1: min max latency with continuous MQAM, T_0 = T_i and Σp = P_T")
