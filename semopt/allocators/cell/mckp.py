"""Multiple-choice allocation of one budget over users: Lagrangian dual and knapsack DP.

User u picks one option j of power q_uj (inf: not available) and value v_uj (its
perception); the problem is

    minimize  Σ_u v_u,c(u)   subject to   Σ_u q_u,c(u) ≤ B.

Option 0 must have q = 0 for every user (zero power), so the problem is always
feasible. The functions are vectorized over users; ``v`` is (M,) (the same values for
every user) or (U, M).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["DualResult", "dual_bisection", "exchange", "fill", "knapsack_dp",
           "lagrangian_choice", "option_sums", "repair"]

_CHUNK = 8192


def _values(v: np.ndarray, u: int) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return np.broadcast_to(v, (u, v.shape[-1])) if v.ndim == 1 else v


def option_sums(q: np.ndarray, v: np.ndarray, choice: np.ndarray) -> tuple[float, float]:
    """Total power and total value of ``choice`` (U,)."""
    rows = np.arange(len(choice))
    values = _values(v, len(choice))
    return float(q[rows, choice].sum()), float(values[rows, choice].sum())


def lagrangian_choice(q: np.ndarray, v: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """Each user's minimizer of v_uj + λ q_uj (ties: the least power), and
    Σ_u min_j (v_uj + λ q_uj).

    The minimizer is a vertex of the lower convex hull of the user's points (q_uj, v_uj):
    the Lagrangian only sees the hulls.
    """
    u = q.shape[0]
    values = _values(v, u)
    choice = np.empty(u, dtype=np.int64)
    total = 0.0
    for start in range(0, u, _CHUNK):
        sl = slice(start, start + _CHUNK)
        with np.errstate(invalid="ignore"):
            cost = np.where(np.isfinite(q[sl]), values[sl] + lam * q[sl], np.inf)
        cmin = cost.min(axis=1)
        tie = cost <= cmin[:, None] + 1e-12 * (np.abs(cmin[:, None]) + 1.0)
        choice[sl] = np.argmin(np.where(tie, q[sl], np.inf), axis=1)
        total += float(cmin.sum())
    return choice, total


class DualResult(NamedTuple):
    """Bisection on the multiplier: the choices at both ends of the final bracket.

    ``feasible`` (U,) at ``lam_hi`` (Σ q ≤ B), ``infeasible`` (U,) at ``lam_lo`` (Σ q > B;
    equal to ``feasible`` when λ = 0 already fits), ``bound``: the best Lagrangian lower
    bound max_λ Σ_u min_j (v_uj + λ q_uj) − λB on the optimal Σ v, ``iterations``.
    """

    feasible: np.ndarray
    infeasible: np.ndarray
    lam_lo: float
    lam_hi: float
    bound: float
    iterations: int


def dual_bisection(q: np.ndarray, v: np.ndarray, budget: float, *, max_iter: int = 200,
                   rtol: float = 1e-13) -> DualResult:
    """Bisection on λ ≥ 0 (in log λ) for the smallest λ whose Lagrangian choice fits."""
    u = q.shape[0]
    values = _values(v, u)
    rows = np.arange(u)
    choice0, lag0 = lagrangian_choice(q, values, 0.0)
    if q[rows, choice0].sum() <= budget:
        return DualResult(choice0, choice0, 0.0, 0.0, lag0, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = (values[:, :1] - values) / q
    finite = np.isfinite(gain) & (q > 0)
    lam_hi = 2.0 * float(np.max(gain[finite])) if np.any(finite) else 1.0
    lam_hi = max(lam_hi, 1e-300)
    lam_lo = lam_hi * 1e-40
    best_bound = lag0
    hi_choice, hi_lag = lagrangian_choice(q, values, lam_hi)
    best_bound = max(best_bound, hi_lag - lam_hi * budget)
    lo_choice, lo_lag = lagrangian_choice(q, values, lam_lo)
    best_bound = max(best_bound, lo_lag - lam_lo * budget)
    if q[rows, lo_choice].sum() <= budget:  # the breakpoint is below lam_lo: λ ≈ 0
        return DualResult(lo_choice, choice0, 0.0, lam_lo, best_bound, 1)
    iterations = 0
    while iterations < max_iter and lam_hi > lam_lo * (1.0 + rtol):
        iterations += 1
        mid = float(np.sqrt(lam_lo * lam_hi))
        if not lam_lo < mid < lam_hi:
            break
        choice, lag = lagrangian_choice(q, values, mid)
        best_bound = max(best_bound, lag - mid * budget)
        if q[rows, choice].sum() <= budget:
            lam_hi, hi_choice = mid, choice
        else:
            lam_lo, lo_choice = mid, choice
    return DualResult(hi_choice, lo_choice, lam_lo, lam_hi, best_bound, iterations)


def fill(q: np.ndarray, v: np.ndarray, choice: np.ndarray, budget: float, *,
         max_passes: int = 100_000) -> tuple[np.ndarray, int]:
    """Spend the remaining budget: repeatedly upgrade users to better options.

    Each pass gives every user its best upgrade (largest value gain per extra watt that
    fits the remaining budget) and accepts them in decreasing gain-per-watt order while
    they fit; passes repeat until no upgrade fits. Returns the new choice and the number
    of passes.
    """
    u = q.shape[0]
    values = _values(v, u)
    choice = np.array(choice, dtype=np.int64)
    rows = np.arange(u)
    passes = 0
    while passes < max_passes:
        cur_q, cur_v = q[rows, choice], values[rows, choice]
        remaining = budget - float(cur_q.sum())
        if not remaining > 0:
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            dq = q - cur_q[:, None]
            dv = cur_v[:, None] - values
            ok = np.isfinite(q) & (dv > 0) & (dq <= remaining)
            ratio = np.where(ok, np.where(dq > 0, dv / dq, np.inf), -np.inf)
        best = np.argmax(ratio, axis=1)
        best_ratio = ratio[rows, best]
        cand = np.flatnonzero(best_ratio > -np.inf)
        if cand.size == 0:
            break
        order = cand[np.argsort(-best_ratio[cand], kind="stable")]
        cost = np.maximum(dq[order, best[order]], 0.0)
        accepted = False
        for index, c in zip(order.tolist(), cost.tolist()):
            if c <= remaining:
                choice[index] = best[index]
                remaining -= c
                accepted = True
        passes += 1
        if not accepted:
            break
    return choice, passes


def repair(q: np.ndarray, v: np.ndarray, choice: np.ndarray, budget: float, *,
           max_passes: int = 100_000) -> tuple[np.ndarray, int]:
    """Restore Σ q ≤ B: repeatedly downgrade users with the least value lost per watt
    saved until the budget holds (option 0, zero power, always ends it)."""
    u = q.shape[0]
    values = _values(v, u)
    choice = np.array(choice, dtype=np.int64)
    rows = np.arange(u)
    passes = 0
    while passes < max_passes:
        cur_q, cur_v = q[rows, choice], values[rows, choice]
        excess = float(cur_q.sum()) - budget
        if not excess > 0:
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            saving = cur_q[:, None] - q
            ok = np.isfinite(q) & (saving > 0)
            ratio = np.where(ok, (values - cur_v[:, None]) / saving, np.inf)
        best = np.argmin(ratio, axis=1)
        best_ratio = ratio[rows, best]
        cand = np.flatnonzero(np.isfinite(best_ratio))
        if cand.size == 0:
            break
        order = cand[np.argsort(best_ratio[cand], kind="stable")]
        for index in order.tolist():
            if not excess > 0:
                break
            excess -= float(saving[index, best[index]])
            choice[index] = best[index]
        passes += 1
    return choice, passes


def exchange(q: np.ndarray, v: np.ndarray, choice: np.ndarray, budget: float, *,
             candidates: int = 64, max_rounds: int = 1000) -> tuple[np.ndarray, int]:
    """Local search: an upgrade that does not fit, paid for by downgrading other users.

    Each round takes the ``candidates`` upgrades (user, option) with the best value gain
    per watt among those costing more than the remaining budget, and for each the
    cheapest set of other users' downgrades (each user's own least-loss-per-watt
    downgrade, in increasing loss per watt) that frees the missing power; the first
    exchange with a net gain is applied and the remaining budget refilled (:func:`fill`).
    Rounds repeat until no exchange gains. Returns the choice and the number of rounds.
    """
    u = q.shape[0]
    values = _values(v, u)
    choice = np.array(choice, dtype=np.int64)
    rows = np.arange(u)
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        cur_q, cur_v = q[rows, choice], values[rows, choice]
        remaining = budget - float(cur_q.sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            dq = q - cur_q[:, None]
            gain = cur_v[:, None] - values
            up = np.isfinite(q) & (gain > 0) & (dq > remaining)
            up_ratio = np.where(up, gain / dq, -np.inf)
            saving = cur_q[:, None] - q
            down = np.isfinite(q) & (saving > 0)
            down_ratio = np.where(down, -gain / saving, np.inf)  # loss per watt saved
        flat = np.flatnonzero(up_ratio.ravel() > -np.inf)
        if flat.size == 0:
            break
        if flat.size > candidates:
            part = np.argpartition(-up_ratio.ravel()[flat], candidates - 1)[:candidates]
            flat = flat[part]
        flat = flat[np.argsort(-up_ratio.ravel()[flat], kind="stable")]
        best_down = np.argmin(down_ratio, axis=1)
        d_ratio = down_ratio[rows, best_down]
        d_users = np.flatnonzero(np.isfinite(d_ratio))
        d_users = d_users[np.argsort(d_ratio[d_users], kind="stable")]
        d_saving = saving[d_users, best_down[d_users]]
        d_loss = -gain[d_users, best_down[d_users]]
        applied = False
        for index in flat.tolist():
            user, j = divmod(index, q.shape[1])
            need = float(dq[user, j]) - remaining
            others = d_users != user
            cum = np.cumsum(d_saving[others])
            k = int(np.searchsorted(cum, need, side="left"))
            if k >= cum.size:
                continue
            picked = d_users[others][:k + 1]
            loss = float(d_loss[others][:k + 1].sum())
            if gain[user, j] - loss > 1e-12 * (1.0 + abs(float(cur_v.sum()))):
                choice[picked] = best_down[picked]
                choice[user] = j
                applied = True
                break
        if not applied:
            break
        choice, _ = fill(q, values, choice, budget)
    return choice, rounds


def knapsack_dp(weights: np.ndarray, v: np.ndarray, capacity: int) -> tuple[np.ndarray, float]:
    """Exact multiple-choice knapsack by dynamic programming over integer weights.

    Parameters
    ----------
    weights : ndarray of int, shape (U, M)
        Option weights in grid units (negative: option not available).
    v : ndarray, shape (M,) or (U, M)
        Option values (minimized in sum).
    capacity : int
        Budget in grid units.

    Returns
    -------
    choice : ndarray of int, shape (U,)
        The optimal option per user.
    value : float
        The optimal Σ v.
    """
    u, m = weights.shape
    values = _values(v, u)
    c = int(capacity)
    dp = np.zeros(c + 1)
    arg = np.zeros((u, c + 1), dtype=np.int32)
    for user in range(u):
        new = np.full(c + 1, np.inf)
        best = np.zeros(c + 1, dtype=np.int32)
        for j in range(m):
            w = int(weights[user, j])
            if w < 0 or w > c:
                continue
            cand = np.full(c + 1, np.inf)
            cand[w:] = dp[:c + 1 - w] + values[user, j]
            better = cand < new
            new[better] = cand[better]
            best[better] = j
        dp = new
        arg[user] = best
    choice = np.zeros(u, dtype=np.int64)
    rest = c
    for user in range(u - 1, -1, -1):
        j = int(arg[user, rest])
        choice[user] = j
        rest -= int(weights[user, j])
    return choice, float(dp[c])
