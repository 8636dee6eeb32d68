"""``bisection``: the quasi-convex min-max latency by bisection on the latency."""

from __future__ import annotations

import math

import numpy as np

from semopt.allocators.latency.base import LatencyMethod, positive_int
from semopt.link import latency as link
from semopt.options import Option
from semopt.problems.latency import STATUS_CODE, LatencyInputs, LatencySolution
from semopt.problems.latency_math import CHUNK_ROWS, EqualLatencyTerms
from semopt.registry import register_allocator
from semopt.result import MAX_ITERATIONS

__all__ = ["BisectionMethod"]

LOG_U_TOL = 2.0**-50
"""Width of the final bracket in ``ln u`` (≈ 9e-16 relative in ``u = ln(T/A_0)``)."""


@register_allocator("latency")
class BisectionMethod(LatencyMethod):
    """Min-max latency for ``I ≥ 1`` conditioning streams by bisection on the latency.

    The least total power that gives every stream latency ``T``, ``Σ_i p_i(T)`` with the
    closed-form per-stream inverses of :mod:`semopt.link.latency`
    (``prompt_snr_for_latency``, ``mqam_snr_for_latency``), decreases in ``T``, so the
    optimum is the smallest ``T`` with ``Σ_i p_i(T) ≤ P_T``. The search variable is
    ``ln u`` with ``u = ln(T/A_0)`` (``T`` itself cannot resolve the optimum at high
    SNR, where ``T → A_0``), over a closed-form bracket (each term alone at the budget;
    each at the budget over ``1 + I``), vectorized over the batch, to a bracket of
    2⁻⁵⁰ in ``ln u``. Independent of the Newton code path of ``lemma1``.
    """

    name = "bisection"
    optimality = "global"
    vectorized = True
    options = {"max_iter": Option(200, "bisection step cap", kind="int", parse=positive_int)}

    def solve_reachable(self, inputs: LatencyInputs) -> LatencySolution:
        sc = self.problem.scenario
        terms = EqualLatencyTerms(sc, inputs.gap)          # bracket only
        bits = self.problem.bits
        w = self.problem.bandwidth_fraction
        bw = self.problem.bandwidth
        c = sc.prompt_c
        a0 = terms.a0
        active = [i for i in range(sc.n_streams) if bits[i] > 0]
        m = 1 + len(active)
        gbar = inputs.gbar
        n_rows = gbar.size
        fractions = np.zeros((n_rows, 1 + sc.n_streams), order="F")
        latency = np.empty(n_rows)
        code = np.zeros(n_rows, dtype=np.int8)
        iterations = 0
        evaluations = 0

        def needed(u: np.ndarray, g: np.ndarray) -> list[np.ndarray]:
            """Least power fractions for latency A_0 e^u, per stream (link model)."""
            t_s = a0 * np.exp(u)
            out = [w[0] * c / u / g]            # prompt: γ_0 = c / ln(T/A_0)
            for i in active:
                s_i = link.mqam_snr_for_latency(t_s, inputs.ber[i], bits[i], bw[1 + i],
                                                alpha=sc.alpha, beta=sc.beta)
                out.append(w[1 + i] * s_i / g)
            return out

        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            for start in range(0, n_rows, CHUNK_ROWS):
                sl = slice(start, min(start + CHUNK_ROWS, n_rows))
                g = gbar[sl]
                lo = np.log(terms.lower_bound(g))
                hi = m * terms.p / g
                for k_i, a_i in zip(terms.k, terms.a):
                    hi = np.maximum(hi, np.log(a_i / np.log1p(g / (m * k_i))))
                hi = np.maximum(np.log(hi), lo)
                width = float(np.max(hi - lo)) if g.size else 0.0
                steps = max(0, math.ceil(math.log2(width / LOG_U_TOL))) if width > 0 else 0
                capped = steps > self.max_iter
                steps = min(steps, self.max_iter)
                mid = np.empty_like(lo)
                for _ in range(steps):
                    np.add(lo, hi, out=mid)
                    mid *= 0.5
                    feasible = sum(needed(np.exp(mid), g)) <= 1.0
                    np.copyto(hi, mid, where=feasible)
                    np.copyto(lo, mid, where=~feasible)
                u = np.exp(hi)
                parts = needed(u, g)
                fractions[sl, 0] = parts[0]
                for j, i in enumerate(active):
                    fractions[sl, 1 + i] = parts[1 + j]
                latency[sl] = a0 * np.exp(u)
                if capped:
                    code[sl] = np.where(hi - lo > LOG_U_TOL, STATUS_CODE[MAX_ITERATIONS], 0)
                iterations = max(iterations, steps)
                evaluations += (steps + 2) * g.size
        return LatencySolution(
            fractions, code, "continuous", latency_s=latency, iterations=iterations,
            evaluations=evaluations,
            message="bisection: min max latency with continuous MQAM by bisection on T")
