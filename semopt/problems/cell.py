"""The cell problem: U semantic users share one transmit-power budget (beyond the papers).

Each user u = 1..U has its own streams i = 1..I (the same table and scheme for all),
received at SNR γ_ui (linear) when the cell's reference power P_ref
(``reference_power_w``, default the budget B) is spent on that stream; users and
streams occupy orthogonal resources, so user u's perception P_u depends only on its own
powers q_ui, through the min-power problem's link model and table
(:class:`~semopt.problems.minpower.MinPowerProblem`):

    P_u(q_u) = P(Φ_u1(γ_u1 q_u1 / P_ref), …, Φ_uI(γ_uI q_uI / P_ref)).

With ``csi="statistical"`` γ_ui is the mean SNR of Rayleigh block fading and P_u the
fading-averaged perception (exact for the discard scheme; see
:mod:`semopt.link.fading`). Two objectives (option ``objective``):

* ``"max-served"``: maximize the number of users with P_u ≤ P̄_u subject to
  Σ_u Σ_i q_ui ≤ B. With ℓ_u = min{Σ_i q_ui : P_u(q_u) ≤ P̄_u, Σ_i q_ui ≤ B} the least
  power of user u (the min-power problem with ``cost="power"``, one batched call), the
  optimum serves the users with the smallest ℓ_u while their sum fits: exact (a
  cardinality knapsack is solved by sorting). Users with ℓ_u > B cannot be served at
  all; ties at the cut are reported.
* ``"min-mean-perception"``: minimize (1/U) Σ_u F_u(Q_u) subject to Σ_u Q_u ≤ B, with
  F_u(Q) = min{P_u(q_u) : Σ_i q_ui ≤ Q} the user's frontier (best perception within a
  per-user budget; non-increasing, not convex). Methods sample every frontier at K
  perception levels P̄_k (F_u(ℓ_u(P̄_k)) = P̄_k: the least power of each level is an
  exact frontier point) and solve the multiple-choice problem over these options.

A user's power is P_ref-independent: q_ui is what the allocation transmits; the SNRs
are rescaled once to the budget (γ_ui · B / P_ref) so the inner min-power problem takes
its default reference.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from semopt.options import Option
from semopt.problems.base import Problem
from semopt.problems.minpower import BUDGET_RTOL, PERCEPTION_TOL, MinPowerProblem
from semopt.registry import get_allocator, register_problem
from semopt.result import INFEASIBLE, NUMERICAL_ERROR, OPTIMAL, Allocation, build_allocation
from semopt.units import (
    SNR_DB_RANGE,
    as_float_array,
    db_to_linear,
    linear_to_db,
    parse_power,
    parse_snr_db,
)

__all__ = ["OBJECTIVES", "CellInputs", "CellProblem", "CellSolution", "Frontier",
           "UserAllocations"]

OBJECTIVES = ("max-served", "min-mean-perception")
MAX_USERS = 10_000_000
"""Largest number of users one call accepts."""


class CellInputs(NamedTuple):
    """Validated call data of one cell with U users.

    ``snr_db`` (U, I): received SNR in dB at the **budget** (the user's SNR rescaled from
    the reference power); ``snr_linear`` (U, I) the same, linear; ``budget_w`` the cell's
    total power B; ``target`` (U,) P̄_u, or None (min-mean-perception without targets);
    ``batch_shape`` ``(U,)``, or ``()`` for a scalar ``snr`` (one user).
    """

    snr_db: np.ndarray
    snr_linear: np.ndarray
    budget_w: float
    target: np.ndarray | None
    batch_shape: tuple[int, ...]


class CellSolution(NamedTuple):
    """What a cell method returns.

    ``power_w`` (U, I): transmit power per user and stream (W); ``least_power_w`` (U,):
    each user's least power meeting its target (inf where unreachable) when the method
    computed it, else None; ``iterations`` / ``evaluations`` as in
    :class:`~semopt.result.Allocation`; ``info``: cell-level extras of the method (the
    multiplier, a lower bound, the ties at the cut, ...).
    """

    power_w: np.ndarray
    least_power_w: np.ndarray | None
    iterations: int
    evaluations: int
    info: Mapping[str, Any]


class UserAllocations(NamedTuple):
    """One batched min-power solve: ``total_w`` (U,) (inf where the target is not met
    within the budget), ``power_w`` (U, I) (zeros there), ``ok`` (U,), ``evaluations``."""

    total_w: np.ndarray
    power_w: np.ndarray
    ok: np.ndarray
    evaluations: int


class Frontier(NamedTuple):
    """Every user's perception-vs-power frontier sampled at K perception levels.

    ``levels`` (K,) ascending P̄_k; ``power_w`` (U, K): least total power reaching
    P̄_k (inf where unreachable within the budget), non-increasing in k;
    ``zero_perception``: P with every stream off (the value of zero power);
    ``evaluations``: constraint evaluations of the inner min-power calls; ``source``
    (U, K): the level whose min-power solution gives each entry (a cheaper solution of a
    lower level serves a higher one).
    """

    levels: np.ndarray
    power_w: np.ndarray
    zero_perception: float
    evaluations: int
    source: np.ndarray

    def options(self) -> tuple[np.ndarray, np.ndarray]:
        """Option powers (U, K+1) and values (K+1,): column 0 is zero power."""
        u = self.power_w.shape[0]
        q = np.concatenate([np.zeros((u, 1)), self.power_w], axis=1)
        v = np.concatenate([[self.zero_perception], self.levels])
        return q, v


def _levels_for(best: float, worst: float, k: int) -> np.ndarray:
    """K perception levels inside (best, worst), quadratically denser towards the best.

    P̄_k = P_best + (P_worst − P_best)·(k/(K+1))²: strong users sit near P_best, where
    each level is cheap, so a fine spacing there pays (measured on Rayleigh drops: mean
    perception 0.3258 vs 0.3359 with uniform levels, U = 50, K = 64, docs/cell.md).
    """
    return best + (worst - best) * (np.arange(1, k + 1) / (k + 1)) ** 2


def _default_minpower_method(n_streams: int) -> str:
    return "global-search" if n_streams == 2 else ("exhaustive" if n_streams in (3, 4)
                                                   else "slsqp")


def _is_shipped(source: Any) -> bool:
    """True for the name of a shipped table (not a path): safe to share across calls."""
    if not isinstance(source, str) or os.path.sep in source or source.endswith(".json"):
        return False
    import perception_tables

    return source in perception_tables.list_names() and not os.path.exists(source)


@functools.lru_cache(maxsize=8)
def _shared_minpower(table: str, scheme: str, csi: str, bits: tuple | None,
                     code_rate: tuple | None, log_term: bool) -> MinPowerProblem:
    """Inner min-power problems of shipped tables, shared across cell problems (their
    methods cache one iso-perception curve per target)."""
    return MinPowerProblem(table=table, scheme=scheme, csi=csi, cost="power",
                           bits=None if bits is None else list(bits),
                           code_rate=None if code_rate is None else list(code_rate),
                           log_term=log_term)


@functools.lru_cache(maxsize=16)
def _shared_method(problem: MinPowerProblem, method: str) -> Any:
    allocator = get_allocator("min-power", method)(problem=problem)
    if hasattr(allocator, "max_cached_curves"):
        allocator.max_cached_curves = 512  # one curve per frontier level
    return allocator


@register_problem
class CellProblem(Problem):
    """U semantic users sharing one power budget over orthogonal resources.

    Parameters
    ----------
    table : str, path or PerceptionTable
        Perception table shared by every user (default ``"xu2025-kodak-clip"``).
    scheme : {"discard", "forward"}
        Coded discard-with-error or uncoded forward-with-error (as in min-power).
    csi : {"instantaneous", "statistical"}
        ``snr`` is the received SNR, or the mean SNR of Rayleigh block fading (then the
        targets constrain the fading-averaged perception).
    objective : {"max-served", "min-mean-perception"}
        Serve as many users as possible at their targets, or minimize the mean
        perception over users within the budget.
    reference_power_w : float or str, optional
        Transmit power at which ``snr`` is measured (default: the budget).
    bits, code_rate, log_term
        Per-stream payload, code rate and normal-approximation term (as in min-power).

    Notes
    -----
    ``allocate(snr, budget, target)``: ``snr`` in dB of shape (U, I), (U, 1) or (U,)
    (one SNR per user for all its streams), or a scalar (one user); ``budget`` the
    cell's total transmit power B (W, ``"50 mW"``); ``target`` P̄ scalar or (U,) inside
    (P_best, P_worst) of the table and scheme (may be None for
    ``"min-mean-perception"``). The result is per user (batch shape (U,)): ``success``
    = served (target met, rechecked; without a target: allocated power), ``power_w``
    (U, I), ``perception`` (U,) recomputed with the link model; ``objective`` per user
    is 1/0 served (max-served) or the user's perception (min-mean-perception);
    ``extras`` carries the cell totals ``served``, ``power_used_w``,
    ``mean_perception``.
    """

    name = "cell"
    description = ("U users share one power budget: most users served at their perception "
                   "targets, or least mean perception (beyond the papers)")
    default_method = "dual"
    table_kinds = ("perception",)
    default_table = "xu2025-kodak-clip"
    snr = ("per-user, per-stream received SNR in dB at reference_power_w (default: the "
           "budget); mean SNR with csi='statistical'")
    budget = "the cell's total transmit power B in W ('50 mW', '17 dBm')"
    target = ("perception value P̄ per user (scalar or (U,)) in (P_best, P_worst); optional "
              "for min-mean-perception")
    objective = ("per user: 1 if served else 0 (max-served; the sum is the number served) or "
                 "the user's perception (min-mean-perception; the mean is the objective)")
    stream_axis = True
    snr_shape = "(U, I)"
    summary_extras = ("reason",)
    # The per-user link options are the min-power problem's own (one definition).
    options = {
        **{name: MinPowerProblem.options[name]
           for name in ("scheme", "csi", "reference_power_w", "bits", "code_rate", "log_term")},
        "objective": Option("max-served", "'max-served' (most users at their targets) or "
                            "'min-mean-perception' (least mean perception within the budget)",
                            kind="str", choices=OBJECTIVES),
    }

    def __init__(self, *, table: Any = None, **options: Any) -> None:
        super().__init__(table=table, **options)
        source = self._table_source
        key = (tuple(np.atleast_1d(self.bits).tolist()) if self.bits is not None else None,
               tuple(np.atleast_1d(self.code_rate).tolist())
               if self.code_rate is not None else None)
        if _is_shipped(source):
            self.minpower = _shared_minpower(source, self.scheme, self.csi, key[0], key[1],
                                             bool(self.log_term))
        else:
            self.minpower = MinPowerProblem(table=self.table, scheme=self.scheme, csi=self.csi,
                                            cost="power", bits=self.bits,
                                            code_rate=self.code_rate,
                                            log_term=bool(self.log_term))
        self._table = self.minpower.table
        self.n_streams = self.minpower.n_streams
        self.best = self.minpower.best
        self.worst = self.minpower.worst
        self.zero_perception = float(self.minpower.perception(
            np.full(self.n_streams, self.minpower.max_error_rate)))
        self._methods: dict[str, Any] = {}

    # -- input validation --------------------------------------------------------------
    def parse(self, snr: ArrayLike, budget: Any, target: Any) -> CellInputs:
        """Validate ``(snr_db, budget, target)`` of one cell (see the class notes)."""
        snr_db = parse_snr_db(snr, "snr")
        n = self.n_streams
        if snr_db.ndim == 0:
            batch_shape: tuple[int, ...] = ()
            snr_db = np.full((1, n), float(snr_db))
        elif snr_db.ndim == 1:
            batch_shape = snr_db.shape
            snr_db = np.repeat(snr_db[:, None], n, axis=1)
        elif snr_db.ndim == 2:
            if snr_db.shape[1] not in (1, n):
                raise ValueError(f"snr: expected shape (U, {n}) (users × streams), (U, 1) or "
                                 f"(U,); got {snr_db.shape}")
            batch_shape = snr_db.shape[:1]
            snr_db = np.broadcast_to(snr_db, (snr_db.shape[0], n)).copy()
        else:
            raise ValueError(f"snr: expected shape (U, {n}) (users × streams) for one cell; "
                             f"got {snr_db.ndim} dimensions {snr_db.shape}")
        u = snr_db.shape[0]
        if u < 1 or u > MAX_USERS:
            raise ValueError(f"snr: the cell must have between 1 and {MAX_USERS} users, got {u}")
        budget_w = np.asarray(parse_power(budget, "budget"), dtype=float)
        if budget_w.ndim != 0:
            raise ValueError("budget: one cell has one total power budget (a scalar), got "
                             f"shape {budget_w.shape}")
        budget_w = float(budget_w)
        if target is None:
            if self.objective == "max-served":
                raise ValueError("target: the max-served objective needs a perception target "
                                 "P̄ (scalar or one per user)")
            targets = None
        else:
            arr = as_float_array(target, "target")
            if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, u)):
                raise ValueError(f"target: expected a scalar or one value per user ({u},), "
                                 f"got shape {arr.shape}")
            if not np.all(np.isfinite(arr)) or np.any(arr <= self.best) \
                    or np.any(arr >= self.worst):
                raise ValueError(f"target: perception value P̄ must lie in ({self.best:.6g}, "
                                 f"{self.worst:.6g}) (best, worst) for table "
                                 f"{self.table.name!r}, {self.scheme} scheme; got {target!r}")
            targets = np.broadcast_to(arr.reshape(-1) if arr.ndim else arr, (u,)).astype(float)
        reference = budget_w if self.reference_power_w is None else float(self.reference_power_w)
        shifted = snr_db + float(linear_to_db(budget_w / reference))
        lo, hi = SNR_DB_RANGE
        if not np.all(np.isfinite(shifted)) or np.any(shifted < lo) or np.any(shifted > hi):
            raise ValueError(f"snr: the SNR rescaled to the budget ({budget_w:.6g} W) from the "
                             f"reference power ({reference:.6g} W) leaves [{lo:g}, {hi:g}] dB; "
                             "check snr, budget and reference_power_w")
        return CellInputs(shifted, db_to_linear(shifted), budget_w, targets, batch_shape)

    # -- the per-user min-power subproblems ------------------------------------------------
    def minpower_method(self, name: str | None = None) -> Any:
        """The inner min-power allocator ``name`` (default: the stream count's default)."""
        name = name or _default_minpower_method(self.n_streams)
        if name not in self._methods:
            if _is_shipped(self._table_source):
                self._methods[name] = _shared_method(self.minpower, name)
            else:
                self._methods[name] = get_allocator("min-power", name)(problem=self.minpower)
                if hasattr(self._methods[name], "max_cached_curves"):
                    self._methods[name].max_cached_curves = 512
        return self._methods[name]

    def least_powers(self, inputs: CellInputs, targets: np.ndarray,
                     rows: np.ndarray | None = None, method: str | None = None
                     ) -> UserAllocations:
        """Least total power of each user (rows) meeting its target: ONE batched call.

        ``targets`` (R,) for the ``rows`` (default: all users); the cap of each user is
        the cell budget. Rows the min-power method does not solve get ``inf``.
        """
        rows = np.arange(len(inputs.snr_db)) if rows is None else rows
        if rows.size == 0:
            return UserAllocations(np.zeros(0), np.zeros((0, self.n_streams)),
                                   np.zeros(0, bool), 0)
        res = self.minpower_method(method).allocate(inputs.snr_db[rows], inputs.budget_w,
                                                    targets)
        ok = np.atleast_1d(np.asarray(res.success, dtype=bool))
        power = np.atleast_2d(np.asarray(res.power_w, dtype=float)).reshape(-1, self.n_streams)
        total = np.where(ok, power.sum(axis=-1), np.inf)
        power = np.where(ok[:, None], power, 0.0)
        return UserAllocations(total, power, ok, int(res.evaluations))

    def best_achievable(self, inputs: CellInputs, power_w: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Best perception (U,) of each user within its own power (default: the whole
        budget) over the split between its streams, and the per-stream powers (U, I).

        Uses the min-power problem's best-within-budget search (semantic-aware split).
        """
        u = len(inputs.snr_db)
        own = np.full(u, inputs.budget_w) if power_w is None else np.asarray(power_w, float)
        power = np.zeros((u, self.n_streams))
        perception = np.full(u, self.zero_perception)
        on = np.flatnonzero(own > 0)
        if on.size:
            result = self.minpower.best_within_budget(inputs.snr_linear[on]
                                                      * (own[on] / inputs.budget_w)[:, None])
            rates = np.asarray(result[0], dtype=float)
            if len(result) > 2:
                split = np.asarray(result[2], dtype=float)
            else:  # older interface: the split follows from the error rates
                need = self.minpower.required_snr(rates)
                split = need / (inputs.snr_linear[on] * (own[on] / inputs.budget_w)[:, None])
            power[on] = own[on, None] * split
            perception[on] = self.perceptions(inputs, power)[1][on]
        return perception, power

    def frontier(self, inputs: CellInputs, levels: int, split: str = "aware",
                 method: str | None = None) -> Frontier:
        """Each user's least power at ``levels`` perception levels (one call per level).

        Levels lie inside (P_best, P_worst), quadratically denser towards P_best
        (:func:`_levels_for`); only users whose best
        achievable perception (within the whole budget) is below a level are solved at
        it. ``split``: ``"aware"`` (the min-power method) or ``"unaware"`` (equal
        received SNR on every stream, the min-power ``unaware`` rule).
        """
        k = int(levels)
        grid = _levels_for(self.best, self.worst, k)
        u = len(inputs.snr_db)
        power = np.full((u, k), np.inf)
        best, _ = self.best_achievable(inputs)
        name = "unaware" if split == "unaware" else method
        evaluations = u
        for j, level in enumerate(grid):
            rows = np.flatnonzero(best < level - PERCEPTION_TOL)
            if rows.size == 0:
                continue
            sol = self.least_powers(inputs, np.full(rows.size, level), rows, method=name)
            power[rows, j] = sol.total_w
            evaluations += sol.evaluations
        # The least power is non-increasing in the level: where a method's solution at a
        # lower level is cheaper (round-off, a local method), that solution serves the
        # higher level too; ``source`` records which level's solution gives each entry.
        source = np.broadcast_to(np.arange(k), (u, k)).copy()
        for j in range(1, k):
            cheaper = power[:, j - 1] < power[:, j]
            power[cheaper, j] = power[cheaper, j - 1]
            source[cheaper, j] = source[cheaper, j - 1]
        return Frontier(grid, power, self.zero_perception, evaluations, source)

    def powers_at_levels(self, inputs: CellInputs, frontier: Frontier, choice: np.ndarray,
                         split: str = "aware", method: str | None = None
                         ) -> tuple[np.ndarray, int]:
        """Per-stream powers (U, I) of each user's chosen option (0 = zero power,
        k ≥ 1 = level k−1 of ``frontier``): one batched min-power call."""
        u = len(inputs.snr_db)
        power = np.zeros((u, self.n_streams))
        rows = np.flatnonzero(choice > 0)
        if rows.size == 0:
            return power, 0
        level = frontier.source[rows, choice[rows] - 1]
        sol = self.least_powers(inputs, frontier.levels[level], rows,
                                method="unaware" if split == "unaware" else method)
        power[rows] = sol.power_w
        return power, sol.evaluations

    # -- link model ------------------------------------------------------------------------
    def perceptions(self, inputs: CellInputs, power_w: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Error rates (U, I) and perception (U,) the per-stream powers achieve (float64)."""
        power = np.where(np.isfinite(power_w), np.asarray(power_w, dtype=float), 0.0)
        rates = np.full(power.shape, self.minpower.max_error_rate)
        perception = np.full(power.shape[0], self.zero_perception)
        on = np.flatnonzero(np.any(power > 0, axis=-1))  # users without power: all streams off
        if on.size:
            received = inputs.snr_linear[on] * power[on] / inputs.budget_w
            rates[on] = np.where(power[on] > 0, self.minpower.error_rate(received),
                                 self.minpower.max_error_rate)
            perception[on] = self.minpower.perception(rates[on])
        return rates, perception

    # -- result ----------------------------------------------------------------------------
    def assemble(self, inputs: CellInputs, solution: CellSolution, *, method: str,
                 wall_time_s: float) -> Allocation:
        """Recheck the cell and build the per-user :class:`Allocation`.

        Every user's perception is recomputed from its powers with the link model; a user
        is served when its recomputed perception meets its target (without a target:
        when it has power). The cell's total power must be within the budget; otherwise
        (or for non-finite powers) the rows are ``numerical_error``.
        """
        power = np.asarray(solution.power_w, dtype=float)
        u = len(inputs.snr_db)
        finite = np.all(np.isfinite(power) & (power >= 0), axis=-1)
        power = np.where(finite[:, None], power, 0.0)
        rates, perception = self.perceptions(inputs, power)
        user_total = power.sum(axis=-1)
        used = float(user_total.sum())
        within = used <= inputs.budget_w * (1.0 + BUDGET_RTOL)
        allocated = user_total > 0
        if inputs.target is None:
            served = allocated.copy()
        else:
            served = perception <= inputs.target + PERCEPTION_TOL
        served &= finite & within
        least = solution.least_power_w
        reason = np.full(u, "budget", dtype="<U14")
        if inputs.target is None:
            reason[:] = "no power"
        elif self.objective == "min-mean-perception":
            reason[:] = np.where(allocated, "target missed", "no power")
        elif least is not None:
            reason[~np.isfinite(least) | (least > inputs.budget_w * (1 + BUDGET_RTOL))] = \
                "unreachable"
            reason[allocated & ~served] = "recheck failed"
        reason[served] = "served"
        reason[~finite] = "numerical"
        status = np.where(served, OPTIMAL, np.where(finite, INFEASIBLE, NUMERICAL_ERROR))
        if not within:
            status[:] = NUMERICAL_ERROR
            reason[:] = "numerical"
        n_served = int(np.count_nonzero(served))
        mean = float(np.mean(perception))
        if self.objective == "max-served":
            objective = served.astype(float)
        else:
            objective = perception
        extras: dict[str, Any] = {
            "objective_name": self.objective, "served": n_served, "users": u,
            "power_used_w": used, "budget_w": inputs.budget_w, "mean_perception": mean,
            "scheme": self.scheme, "csi": self.csi, "table": self.table.name,
            "streams": [s.name for s in self.table.streams],
        }
        extras.update(solution.info)
        batch_extras: dict[str, Any] = {"reason": reason,
                                        "received_snr_db": linear_to_db(
                                            inputs.snr_linear * power / inputs.budget_w)}
        if least is not None:
            batch_extras["least_power_w"] = np.asarray(least, dtype=float)
        message = self._message(inputs, n_served, used, mean, reason, within, solution.info)
        return build_allocation(
            inputs.batch_shape, method=method, problem=self.name, success=served,
            status=status, message=message, power_w=power, error_rate=rates,
            perception=perception, objective=objective, iterations=solution.iterations,
            evaluations=solution.evaluations, wall_time_s=wall_time_s, extras=extras,
            batch_extras=batch_extras)

    def _message(self, inputs: CellInputs, n_served: int, used: float, mean: float,
                 reason: np.ndarray, within: bool, info: Mapping[str, Any]) -> str:
        u = len(reason)
        if not within:
            return (f"numerical error: the method's allocation uses {used:.6g} W, more than the "
                    f"cell budget {inputs.budget_w:.6g} W; no user counts as served")
        msg = (f"{n_served} of {u} users served ({self.objective}); cell power {used:.6g} W of "
               f"{inputs.budget_w:.6g} W; mean perception {mean:.6g}")
        unreachable = int(np.count_nonzero(reason == "unreachable"))
        if unreachable:
            msg += (f"; {unreachable} cannot reach their target even with the whole budget")
        budget_short = int(np.count_nonzero(reason == "budget"))
        if budget_short:
            msg += f"; {budget_short} not served for lack of budget"
        tie = info.get("tie")
        if tie:
            msg += (f"; {tie['users']} users tie at the cut (least power "
                    f"{tie['least_power_w']:.6g} W), {tie['served']} of them served (lowest "
                    "index first)")
        bad = int(np.count_nonzero(reason == "recheck failed"))
        if bad:
            msg += f"; {bad} selected users failed the recheck"
        return msg
