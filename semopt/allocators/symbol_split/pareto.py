"""``pareto``: Pareto front of symbols against E[Q], its concave hull, a multiplier bisection, a front search.

For one SNR every candidate ``x`` is a point ``(S(x), score(x))`` with ``score = ±E[Q]``
(higher is better). The method works per distinct SNR of the batch:

1. **Pareto front.** The candidates sorted by symbols whose score is strictly better
   than that of every cheaper candidate: sorted and monotone in both coordinates.
2. **Upper concave hull** of the front (monotone chain, vectorized over the SNRs): the
   points a Lagrangian relaxation can reach. For a multiplier ``λ ≥ 0`` the maximizer of
   ``L(λ) = max_x score(x) − λ S(x)`` is a hull vertex, and it changes only at the slopes
   of the hull's edges (decreasing from left to right).
3. **Bisection on the multiplier** per row, over those breakpoint slopes: the hull vertex
   ``a`` that the multiplier selects for the budget (the largest vertex within it) or for
   the target (``b``: the cheapest vertex meeting it), its neighbour on the other side,
   the multiplier ``λ*`` (the slope of the edge between them; 0 when the constraint is
   slack) and the Lagrangian bound (the hull's envelope at the budget: an upper bound on
   the score; resp. the symbols at which the envelope reaches the target: a lower bound).
4. **Front search.** The multiplier method alone is exact only when the optimum is a hull
   vertex: on a non-convex front (a table of discrete levels has one) it misses front
   points between two adjacent vertices. The exact optimum lies on the front between the
   bracketing vertices, where the front is sorted and monotone, so a binary search over
   that segment finds it: the last front point within the budget, resp. the first front
   point meeting the target.

Ties (equal symbols, equal quality) are broken as in ``exhaustive``: the better quality
(fewest-symbols mode) or fewer symbols (best-quality mode), then table order, so the two
methods return the same point. ``evaluations`` = distinct SNRs × candidates;
``iterations`` = the largest number of multiplier bisection steps of any row. Extras per
row: ``on_hull`` (the optimum is the multiplier's hull point), ``hull_symbols`` and
``hull_quality`` (that point), ``multiplier`` (``λ*`` in metric units per symbol) and
``lagrangian_bound`` (bound on ``E[Q]`` in best-quality mode -- from above for
higher-is-better metrics, from below for lower-is-better ones -- resp. a lower bound on
the symbols meeting the target).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from semopt.allocators.symbol_split.base import SymbolSplitMethod
from semopt.problems.symbol_split import MODES, SymbolSplitInputs, SymbolSplitSolution
from semopt.registry import register_allocator

__all__ = ["ParetoFront", "ParetoMethod", "concave_hull", "pareto_front"]


class ParetoFront(NamedTuple):
    """Per-cost best candidates and the Pareto front for U SNRs (M distinct symbol costs).

    ``costs`` (M,) increasing; ``best`` (U, M) the best score at each cost (−inf: none
    allowed) and ``best_index`` (U, M) its candidate index; ``running`` (U, M) the best
    score at any cost ≤ ``costs[k]`` and ``running_index`` (U, M) the candidate that
    reaches it at the least cost (-1: none); ``on_front`` (U, M) whether the cost's best
    candidate is a Pareto point.
    """

    costs: np.ndarray
    best: np.ndarray
    best_index: np.ndarray
    running: np.ndarray
    running_index: np.ndarray
    on_front: np.ndarray


def pareto_front(score: np.ndarray, costs: np.ndarray) -> ParetoFront:
    """The Pareto front of candidates (cost ``costs`` (P,), score ``score`` (U, P), higher better).

    Vectorized over the U rows; ties within a cost go to the first candidate in table order.
    """
    score = np.atleast_2d(np.asarray(score, dtype=float))
    n_rows, n_points = score.shape
    order = np.argsort(costs, kind="stable")
    sorted_costs = np.asarray(costs, dtype=float)[order]
    unique, start, counts = np.unique(sorted_costs, return_index=True, return_counts=True)
    s = score[:, order]
    best = np.maximum.reduceat(s, start, axis=1)                              # (U, M)
    is_best = s == np.repeat(best, counts, axis=1)
    position = np.where(is_best, np.arange(n_points), n_points)
    best_index = order[np.minimum.reduceat(position, start, axis=1)]         # (U, M)
    valid = np.isfinite(best)
    running = np.maximum.accumulate(best, axis=1)
    previous = np.concatenate([np.full((n_rows, 1), -np.inf), running[:, :-1]], axis=1)
    on_front = valid & (best > previous)
    last = np.maximum.accumulate(np.where(on_front, np.arange(unique.size), -1), axis=1)
    running_index = np.where(last >= 0, np.take_along_axis(best_index, np.maximum(last, 0), axis=1),
                             -1)
    return ParetoFront(unique, best, best_index, running, running_index, on_front)


def concave_hull(front: ParetoFront) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the upper concave hull of each row's front: (U, H) cost indices, -1 padded,
    and their counts (U,).

    Andrew's monotone chain over the front points (sorted by cost), vectorized over the
    rows; collinear points are not vertices.
    """
    c, s = front.costs, front.best
    n_rows = s.shape[0]
    order = np.argsort(~front.on_front, axis=1, kind="stable")    # front points first, by cost
    n_front = front.on_front.sum(axis=1)
    width = int(n_front.max(initial=0))
    points = order[:, :width]
    px = c[points]
    py = np.take_along_axis(s, points, axis=1)
    stack = np.full((n_rows, max(width, 1)), -1)
    size = np.zeros(n_rows, dtype=int)
    rows = np.arange(n_rows)
    for t in range(width):
        add = t < n_front
        while True:
            can = add & (size >= 2)
            if not np.any(can):
                break
            o = stack[rows, np.maximum(size - 2, 0)]
            a = stack[rows, np.maximum(size - 1, 0)]
            ox, oy = px[rows, o], py[rows, o]
            cross = (px[rows, a] - ox) * (py[:, t] - oy) - (py[rows, a] - oy) * (px[:, t] - ox)
            pop = can & (cross >= 0)
            if not np.any(pop):
                break
            size = size - pop
        stack[rows[add], size[add]] = t
        size = size + add
    hull = np.where(stack >= 0, np.take_along_axis(points, np.maximum(stack, 0), axis=1)
                    if width else -1, -1)
    return hull, size


def _first_true(pred: Callable[[np.ndarray], np.ndarray], lo: np.ndarray,
                hi: np.ndarray) -> tuple[np.ndarray, int]:
    """Per row, the least ``k`` in ``[lo, hi)`` with ``pred(k)`` (monotone False → True), else
    ``hi``; and the number of bisection steps."""
    lo, hi = lo.astype(int).copy(), hi.astype(int).copy()
    steps = 0
    while True:
        active = lo < hi
        if not np.any(active):
            return lo, steps
        steps += 1
        mid = (lo + hi) // 2
        cond = pred(np.where(active, mid, 0))
        hi = np.where(active & cond, mid, hi)
        lo = np.where(active & ~cond, mid + 1, lo)


@register_allocator("symbol-split")
class ParetoMethod(SymbolSplitMethod):
    """Pareto front, its concave hull, a bisection on the multiplier, a front search (exact).

    See the module docstring: the multiplier bisection over the hull's breakpoints gives
    the best hull point (exact only where the optimum is a hull vertex); the binary
    search of the front between the bracketing vertices makes the answer exact.
    """

    name = "pareto"
    optimality = "global"

    def solve(self, inputs: SymbolSplitInputs) -> SymbolSplitSolution:
        unique, inverse = np.unique(inputs.snr_db, return_inverse=True)
        u = inverse.ravel()
        score_u = self.scores(inputs, unique)                                   # (U, P)
        front = pareto_front(score_u, self.problem.costs)
        hull, n_hull = concave_hull(front)
        c, best = front.costs, front.best
        m, width = c.size, hull.shape[1]
        budget = inputs.budget_symbols
        n = n_hull[u]

        def vertex(t: np.ndarray) -> np.ndarray:
            """Cost index of hull vertex t of each row (clipped to the row's hull)."""
            return hull[u, np.clip(t, 0, width - 1)]

        def slope(t: np.ndarray) -> np.ndarray:
            """Slope of the hull edge from vertex t to t+1 (NaN where there is none)."""
            k0, k1 = vertex(t), vertex(t + 1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out = (best[u, k1] - best[u, k0]) / (c[k1] - c[k0])
            return np.where((t >= 0) & (t + 1 < n), out, np.nan)

        if inputs.mode == MODES[0]:
            tau = self.problem.sign(inputs.metric) * inputs.target
            # bisection on the multiplier: the cheapest hull vertex meeting τ (b = vertex h)
            h, steps = _first_true(lambda t: best[u, vertex(t)] >= tau, np.zeros_like(n), n)
            found = h < n
            kb, ka = vertex(h), vertex(h - 1)
            lam = np.where(h > 0, slope(h - 1), 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                bound = np.where(h > 0, c[ka] + (tau - best[u, ka]) / lam, c[kb])
            # front search between the bracketing vertices: the first front point meeting τ
            lo = np.where(found & (h > 0), ka + 1, kb)
            k, _ = _first_true(lambda k: front.running[u, np.minimum(k, m - 1)] >= tau, lo, kb)
            ok = found & (c[np.minimum(k, m - 1)] <= budget)
            hull_k = kb
        else:
            # bisection on the multiplier: the largest hull vertex within the budget (a = h)
            first_over, steps = _first_true(lambda t: c[vertex(t)] > budget, np.zeros_like(n), n)
            h = first_over - 1
            ok = h >= 0
            ka, kb = vertex(h), vertex(h + 1)
            lam = np.where(h + 1 < n, slope(h), 0.0)
            with np.errstate(invalid="ignore"):
                bound = np.where(h + 1 < n, best[u, ka] + lam * (budget - c[ka]), best[u, ka])
            # front search between the bracketing vertices: the last cost within the budget
            hi = np.where(h + 1 < n, kb, m)
            k_over, _ = _first_true(lambda k: c[np.minimum(k, m - 1)] > budget, ka, hi)
            k = k_over - 1
            hull_k = ka
        k = np.clip(k, 0, m - 1)
        index = np.where(ok, front.running_index[u, k], -1)
        hull_index = np.where(ok, front.best_index[u, hull_k], -1)
        sign = self.problem.sign(inputs.metric)
        fewest = inputs.mode == MODES[0]
        info = {
            "on_hull": ok & (index == hull_index),
            "hull_symbols": np.where(ok, c[hull_k], np.nan),
            "hull_quality": np.where(ok, sign * best[u, hull_k], np.nan),
            "multiplier": np.where(ok, lam, np.nan),
            "lagrangian_bound": np.where(ok, bound if fewest else sign * bound, np.nan),
        }
        return self.solution(index, iterations=steps, evaluations=score_u.size, info=info)
