"""Operating-point selection: the cheapest (or best) tabulated configuration for a channel.

Problem ``operating-point`` (Guo et al., GenED-SC). Given an operating-point table
(:class:`semopt.tables.operating_points.OperatingPointTable`), the channel type and its SNR,
choose one point ``p`` of the candidate set ``𝒫`` (one dataset, one channel type):

``cheapest`` (default)::

    minimize_p   c(p)                                   (cost: symbols, bits, latency_s, ...)
    subject to   q_m(p, snr) ≥ τ_m   for floor metrics   (PSNR, SSIM, CLIP, ...)
                 q_m(p, snr) ≤ τ_m   for ceiling metrics (LPIPS, FID, ...)
                 c_k(p) ≤ B_k        for every budgeted cost k

``best-within-budget``::

    maximize_p   ± q_obj(p, snr)    (sign by the metric's direction)
    subject to   c_k(p) ≤ B_k, and the targets above if any are given

``q_m(p, snr)`` is the table value interpolated linearly in dB between the two bracketing
table SNRs; an SNR outside a point's tabulated range raises ``ValueError`` unless the
allocator is built with ``extrapolate="linear"`` or ``"clamp"``. Ties go to the better
objective metric (``cheapest``) or the lower cost (``best-within-budget``), then to table
order. When no point qualifies, the result has ``success=False``,
``status="infeasible"``, no point (``point=""``, ``point_index=-1``), and the best value
each target metric could reach within the budget (message and ``extras["best_achievable"]``).
A returned point therefore never violates the target at the given SNR.

Arguments (see :meth:`OperatingPointSelector.allocate`): ``snr`` in dB (scalar or any
array shape = batch), ``budget`` (number in the ranking cost's unit, ``"2000 symbols"``,
``"20 ms"``, ``"12 kbit"``, a mapping ``{"symbols": 2000, "latency_s": 0.02}``, or None),
``target`` (mapping ``{"psnr": 22, "lpips": 0.2}``, a string ``"psnr>=22,lpips<=0.2"``, or
None). ``Allocation.power_w``/``error_rate``/``total_power_w`` are NaN (no power is
allocated); ``perception`` is the predicted objective metric; ``objective`` is the chosen
cost (``cheapest``) or the objective metric (``best-within-budget``).
"""

from __future__ import annotations

import math
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from semopt import tables
from semopt.registry import ProblemSpec, register_allocator, register_problem
from semopt.result import INFEASIBLE, OPTIMAL, Allocation
from semopt.tables.operating_points import OperatingPointTable
from solvers.select import lexicographic_argmin

__all__ = [
    "BestWithinBudgetSelector",
    "CheapestSelector",
    "OperatingPointSelector",
    "parse_budget",
    "parse_target",
]

DEFAULT_TABLE = "guo2025-tables-iii-iv"

register_problem(ProblemSpec(
    name="operating-point", default_method="cheapest",
    description="choose the cheapest (or best) tabulated operating point meeting metric "
                "targets at the given SNR (Guo et al. Tables III/IV, GenED-SC)",
    table_kinds=("operating-points",), default_table=DEFAULT_TABLE))

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_BUDGET = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-zµμ_]*)\s*$")
_TARGET = re.compile(rf"^\s*([A-Za-z][A-Za-z0-9_\-]*)\s*(>=|<=|=|>|<)\s*({_NUMBER})\s*$")
_UNIT_COSTS: dict[str, tuple[str, float]] = {
    "symbol": ("symbols", 1.0), "symbols": ("symbols", 1.0), "sym": ("symbols", 1.0),
    "bit": ("bits", 1.0), "bits": ("bits", 1.0), "b": ("bits", 1.0),
    "kbit": ("bits", 1e3), "kbits": ("bits", 1e3), "mbit": ("bits", 1e6), "mbits": ("bits", 1e6),
    "s": ("latency_s", 1.0), "ms": ("latency_s", 1e-3), "us": ("latency_s", 1e-6),
    "µs": ("latency_s", 1e-6), "μs": ("latency_s", 1e-6),
    "bpp": ("rate", 1.0),
}


def parse_budget(budget: Any, default_cost: str) -> dict[str, np.ndarray]:
    """Normalize a budget to ``{cost name: cap}`` (caps are arrays, ``inf`` = no cap).

    Accepts None (no cap), a number or array (in ``default_cost``'s unit), a string with a
    unit (``"2000 symbols"``, ``"20 ms"``, ``"12 kbit"``, ``"0.01 bpp"`` → ``rate``), or a
    mapping of cost name to cap (numbers or such strings).
    """
    if budget is None:
        return {}
    if isinstance(budget, Mapping):
        out: dict[str, np.ndarray] = {}
        for key, value in budget.items():
            parsed = parse_budget(value, str(key))
            for k, v in parsed.items():
                if k != key and isinstance(value, str):
                    raise ValueError(f"budget: {key!r} given in a unit of {k!r} ({value!r})")
                out[str(key)] = v
        return out
    if isinstance(budget, str):
        match = _BUDGET.match(budget)
        if match is None:
            raise ValueError(f"budget: cannot parse {budget!r}; write e.g. '2000 symbols', "
                             "'20 ms', '12 kbit' or a number")
        number, unit = float(match.group(1)), match.group(2)
        if unit:
            key = unit if unit in _UNIT_COSTS else unit.lower()
            if key not in _UNIT_COSTS:
                raise ValueError(f"budget: unknown unit {unit!r} in {budget!r}; valid units: "
                                 f"{', '.join(sorted(_UNIT_COSTS))}")
            cost, scale = _UNIT_COSTS[key]
            return parse_budget(number * scale, cost)
        return parse_budget(number, default_cost)
    cap = np.asarray(budget, dtype=float)
    if np.any(np.isnan(cap)) or np.any(cap < 0):
        raise ValueError(f"budget: must be non-negative (inf = no cap), got {budget!r}")
    return {default_cost: cap}


def parse_target(target: Any, table: OperatingPointTable) -> list[tuple[str, float]]:
    """Normalize a target to ``[(metric, threshold), ...]``; the direction comes from the table.

    A mapping ``{"psnr": 22, "lpips": 0.2}`` or a string ``"psnr>=22, lpips<=0.2"``
    (``=``, ``>`` and ``<`` are read as the metric's natural bound, non-strict). A floor on
    a lower-is-better metric or a ceiling on a higher-is-better one raises ``ValueError``.
    """
    if target is None:
        return []
    items: list[tuple[str, str, float]] = []
    if isinstance(target, str):
        for part in filter(None, (p.strip() for p in target.split(","))):
            match = _TARGET.match(part)
            if match is None:
                raise ValueError(f"target: cannot parse {part!r}; write e.g. 'psnr>=22' or "
                                 "'lpips<=0.2', comma-separated")
            items.append((match.group(1).lower(), match.group(2), float(match.group(3))))
    elif isinstance(target, Mapping):
        items = [(str(k).lower(), "=", float(v)) for k, v in target.items()]
    else:
        raise ValueError(f"target: expected a mapping like {{'psnr': 22}} or a string like "
                         f"'psnr>=22', got {type(target).__name__}")
    out = []
    for metric, op, value in items:
        if metric not in table.metrics:
            raise ValueError(f"target: metric {metric!r} is not in table {table.name!r}; "
                             f"valid metrics: {', '.join(table.metrics)}")
        if not math.isfinite(value):
            raise ValueError(f"target: {metric} threshold must be finite, got {value}")
        higher = table.metrics[metric].higher_is_better
        if (higher and op in ("<=", "<")) or (not higher and op in (">=", ">")):
            kind = "floor (>=)" if higher else "ceiling (<=)"
            raise ValueError(f"target: {metric} is {'higher' if higher else 'lower'}-is-better, "
                             f"so its target is a {kind}; got {metric}{op}{value:g}")
        out.append((metric, value))
    return out


def _scalar(x: np.ndarray) -> Any:
    return x.item() if isinstance(x, np.ndarray) and x.ndim == 0 else x


class OperatingPointSelector:
    """Shared machinery of the selection methods (see the module docstring).

    Parameters
    ----------
    table : str, path or OperatingPointTable
        Default: the published ``guo2025-tables-iii-iv``.
    channel : str
        Channel type the table was measured on (``awgn``, ``mimo``, ``rayleigh``, ...).
    dataset : str, optional
        Required when the table holds several datasets (their points are not comparable).
    cost : str, optional
        Cost to minimize / rank by. Default: the cost the budget names, else the first of
        ``symbols``, ``bits``, ``latency_s``, ``rate`` the table has.
    objective : str, optional
        Metric that ``best-within-budget`` maximizes (and ``cheapest`` breaks ties with).
        Default: the single target metric, else the table's first metric.
    points : sequence of str, optional
        Restrict the candidates to these point names.
    extrapolate : bool or {"linear", "clamp"}
        Allow SNRs outside the tabulated range (default: ``ValueError``).
    """

    name = "base"
    problem = "operating-point"
    _mode = "cheapest"

    def __init__(self, *, table: str | OperatingPointTable = DEFAULT_TABLE,
                 channel: str = "awgn", dataset: str | None = None, cost: str | None = None,
                 objective: str | None = None, points: Sequence[str] | None = None,
                 extrapolate: bool | str = False) -> None:
        loaded = tables.load(table)
        if not isinstance(loaded, OperatingPointTable):
            raise ValueError(f"table: {loaded.name!r} is a {loaded.kind!r} table; "
                             "operating-point selection needs an 'operating-points' table")
        self.table = loaded
        self.channel = channel
        self.dataset = dataset
        self.indices = loaded.candidates(channel=channel, dataset=dataset, points=points)
        if cost is not None and cost not in loaded.costs:
            raise ValueError(f"cost: {cost!r} is not a cost of table {loaded.name!r}; valid "
                             f"costs: {', '.join(loaded.costs) or '(none)'}")
        self.cost = cost
        if objective is not None and objective not in loaded.metrics:
            raise ValueError(f"objective: {objective!r} is not in table {loaded.name!r}; "
                             f"valid metrics: {', '.join(loaded.metrics)}")
        self.objective = objective
        if extrapolate not in (False, True, "linear", "clamp"):
            raise ValueError(f"extrapolate: must be False, True, 'linear' or 'clamp', "
                             f"got {extrapolate!r}")
        self.extrapolate = extrapolate

    # -----------------------------------------------------------------------------------
    def _ranking_cost(self, caps: Mapping[str, np.ndarray]) -> str | None:
        if self.cost is not None:
            return self.cost
        if len(caps) == 1:
            return next(iter(caps))
        for key in ("symbols", "bits", "latency_s", "rate"):
            if key in self.table.costs:
                return key
        return next(iter(self.table.costs), None)

    def _objective_metric(self, targets: list[tuple[str, float]]) -> str:
        if self.objective is not None:
            return self.objective
        if len({m for m, _ in targets}) == 1:
            return targets[0][0]
        return next(iter(self.table.metrics))

    def allocate(self, snr: Any, budget: Any = None, target: Any = None) -> Allocation:
        """Select the operating point for channel SNR ``snr`` (dB).

        Parameters
        ----------
        snr : float or array_like
            SNR in dB; any array shape is a batch of independent selections.
        budget : number, str, mapping or None
            Cost caps (see :func:`parse_budget`); arrays broadcast against ``snr``.
        target : mapping, str or None
            Metric floors/ceilings (see :func:`parse_target`).

        Returns
        -------
        Allocation
            ``extras``: ``point``, ``point_index``, ``predicted`` (metric → value),
            ``cost`` (cost name → value), ``cost_name``, ``objective_metric``,
            ``snr_interp_db`` (``lower``/``upper`` table SNRs of the chosen point),
            ``extrapolated``, ``best_achievable``, ``channel``, ``dataset``, ``table``, and
            ``diffusion`` (timestep mapping) when the table names its noise schedule.
        """
        t0 = time.perf_counter()
        tab = self.table
        snr_arr = np.asarray(snr, dtype=float)
        if snr_arr.dtype == object or not np.all(np.isfinite(snr_arr)):
            raise ValueError(f"snr: must be finite numbers in dB, got {snr!r}")
        targets = parse_target(target, tab)
        if isinstance(budget, str) or budget is None or isinstance(budget, Mapping):
            caps = parse_budget(budget, self.cost or "symbols")
        else:
            caps = parse_budget(budget, self._ranking_cost({}) or "symbols")
        for key in caps:
            if key not in tab.costs:
                raise ValueError(f"budget: cost {key!r} is not in table {tab.name!r}; valid "
                                 f"costs: {', '.join(tab.costs) or '(none)'}")
        try:
            batch = np.broadcast_shapes(snr_arr.shape, *(np.shape(v) for v in caps.values()))
        except ValueError:
            raise ValueError(f"budget: shape does not broadcast against snr {snr_arr.shape}") \
                from None
        snr_b = np.broadcast_to(snr_arr, batch)
        idx = self.indices
        n_points = len(idx)

        # admissibility: budget caps
        admissible = np.ones((*batch, n_points), dtype=bool)
        for key, cap in caps.items():
            costs = tab.cost_vector(key, idx)
            cap_b = np.broadcast_to(np.asarray(cap, dtype=float), batch)[..., None]
            unknown = np.isnan(costs)
            if np.any(unknown) and np.any(np.isfinite(cap_b)):
                names = [tab.points[idx[j]].name for j in np.flatnonzero(unknown)]
                raise ValueError(f"budget: points {names} of table {tab.name!r} have no "
                                 f"{key!r} cost, so a {key} budget cannot be checked; restrict "
                                 "the candidates with points=[...] or drop that budget")
            admissible &= np.where(unknown, True, costs <= cap_b)

        # predictions for every metric a target or the objective needs
        objective_metric = self._objective_metric(targets)
        needed = list(dict.fromkeys([m for m, _ in targets] + [objective_metric]
                                    + list(tab.metrics)))
        predicted, bracket = tab.predict_many(snr_b, needed, channel=self.channel, indices=idx,
                                              extrapolate=self.extrapolate)
        meets = np.ones((*batch, n_points), dtype=bool)
        for metric, threshold in targets:
            v = predicted[metric]
            ok = v >= threshold if tab.metrics[metric].higher_is_better else v <= threshold
            meets &= ok & ~np.isnan(v)
        feasible = admissible & meets

        sign = -1.0 if tab.metrics[objective_metric].higher_is_better else 1.0
        score = sign * predicted[objective_metric]  # smaller is better
        cost_name = self._ranking_cost(caps)
        cost_vec = (tab.cost_vector(cost_name, idx) if cost_name is not None
                    else np.zeros(n_points))
        if self._mode == "cheapest":
            if cost_name is None:
                raise ValueError(f"cost: table {tab.name!r} declares no cost to minimize; use "
                                 "method='best-within-budget'")
            choice = lexicographic_argmin([cost_vec, score], feasible)
        else:
            choice = lexicographic_argmin([score, cost_vec], feasible)
        success = choice >= 0
        safe = np.where(success, choice, 0)

        def pick(arr: np.ndarray) -> np.ndarray:
            arr = np.broadcast_to(arr, (*batch, n_points))
            out = np.take_along_axis(arr, safe[..., None], axis=-1)[..., 0]
            return np.where(success, out, np.nan)

        chosen_pred = {m: pick(v) for m, v in predicted.items()}
        all_costs = {k: pick(tab.cost_vector(k, idx)) for k in tab.costs}
        names = np.array([tab.points[i].name for i in idx] + [""], dtype=object)
        point_index_local = np.where(success, choice, -1)
        point_names = np.asarray(names[point_index_local], dtype=object)  # -1 -> ""
        point_index = np.where(success, np.asarray(idx)[safe], -1)

        # best achievable value of each target metric within the budget (for messages)
        best: dict[str, np.ndarray] = {}
        for metric, _ in targets:
            v = np.where(admissible, predicted[metric], np.nan)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
                best[metric] = (np.nanmax(v, axis=-1) if tab.metrics[metric].higher_is_better
                                else np.nanmin(v, axis=-1))

        status = np.where(success, OPTIMAL, INFEASIBLE)
        objective = all_costs.get(cost_name, np.full(batch, np.nan)) \
            if self._mode == "cheapest" and cost_name else chosen_pred[objective_metric]
        latency = all_costs.get("latency_s", np.full(batch, np.nan))
        message = self._message(batch, success, point_names, chosen_pred, targets, best,
                                snr_b, cost_name, all_costs)
        extras: dict[str, Any] = {
            "point": _scalar(np.asarray(point_names, dtype=str)),
            "point_index": _scalar(np.asarray(point_index)),
            "predicted": {m: _scalar(v) for m, v in chosen_pred.items()},
            "cost": {k: _scalar(v) for k, v in all_costs.items()},
            "cost_name": cost_name,
            "objective_metric": objective_metric,
            "snr_interp_db": {"lower": _scalar(pick(bracket["lower_snr_db"])),
                              "upper": _scalar(pick(bracket["upper_snr_db"]))},
            "extrapolated": _scalar(np.asarray(pick(bracket["extrapolated"].astype(float)) == 1)),
            "best_achievable": {m: _scalar(v) for m, v in best.items()},
            "targets": {m: t for m, t in targets},
            "budget": {k: _scalar(np.asarray(v, dtype=float)) for k, v in caps.items()},
            "channel": self.channel,
            "dataset": self.dataset if self.dataset is not None
            else tab.points[idx[0]].dataset,
            "table": tab.name,
        }
        diffusion = self._diffusion_extras(snr_b)
        if diffusion is not None:
            extras["diffusion"] = diffusion
        nan_streams = np.full((*batch, 1), np.nan)
        return Allocation(
            method=self.name, problem=self.problem, success=_scalar(np.asarray(success)),
            status=_scalar(np.asarray(status, dtype=str)), message=message,
            power_w=nan_streams, total_power_w=_scalar(np.full(batch, np.nan)),
            error_rate=nan_streams, perception=_scalar(chosen_pred[objective_metric]),
            objective=_scalar(np.asarray(objective, dtype=float)),
            latency_s=_scalar(np.asarray(latency, dtype=float)), iterations=0,
            evaluations=int(n_points * len(needed) * max(1, int(np.prod(batch)))),
            wall_time_s=time.perf_counter() - t0, extras=extras)

    # -----------------------------------------------------------------------------------
    def _diffusion_extras(self, snr_b: np.ndarray) -> dict[str, Any] | None:
        info = self.table.diffusion
        if not info or self.channel not in ("awgn", "rayleigh"):
            return None
        from semopt.link.diffusion import get_schedule, map_channel_to_timestep

        key = (str(info.get("schedule", "linear")), int(info.get("num_steps", 1000)))
        if getattr(self, "_schedule_key", None) != key:
            self._schedule = get_schedule(*key)
            self._schedule_key = key
        schedule = self._schedule
        mapping = map_channel_to_timestep(snr_b, schedule, "awgn")
        return {"schedule": schedule.name, "num_steps": schedule.num_steps,
                "alpha_bar": _scalar(mapping.alpha_bar), "timestep": _scalar(mapping.timestep),
                "note": "AWGN-equivalent mapping (Rayleigh with |h| = 1 as in Guo et al.)"}

    def _message(self, batch: tuple[int, ...], success: np.ndarray, names: np.ndarray,
                 pred: Mapping[str, np.ndarray], targets: list[tuple[str, float]],
                 best: Mapping[str, np.ndarray], snr_b: np.ndarray, cost_name: str | None,
                 costs: Mapping[str, np.ndarray]) -> str:
        if batch:
            n_ok = int(np.count_nonzero(success))
            return (f"{n_ok} of {success.size} selections found a point meeting the target "
                    f"within the budget ({self.channel}, table {self.table.name!r})")
        snr = float(snr_b)
        if bool(success):
            metrics = ", ".join(f"{m}={float(v):.4g}" for m, v in pred.items())
            cost = (f", {cost_name}={float(costs[cost_name]):.6g}"
                    if cost_name and math.isfinite(float(costs[cost_name])) else "")
            return (f"{'cheapest' if self._mode == 'cheapest' else 'best'} point {names.item()!r} "
                    f"at {snr:g} dB ({self.channel}): predicted {metrics}{cost}")
        if targets:
            reach = ", ".join(
                f"{m} {'>=' if self.table.metrics[m].higher_is_better else '<='} {t:g} "
                f"(best within budget: {float(best[m]):.4g})" for m, t in targets)
            return f"infeasible at {snr:g} dB ({self.channel}): no point meets {reach}"
        return f"infeasible at {snr:g} dB ({self.channel}): no point fits the budget"


@register_allocator("operating-point", "cheapest")
class CheapestSelector(OperatingPointSelector):
    """Cheapest operating point meeting every metric target within the budget.

    ``min_p c(p)  s.t.  q_m(p, snr) ≥ τ_m (floors), q_m(p, snr) ≤ τ_m (ceilings),
    c_k(p) ≤ B_k``. See :class:`OperatingPointSelector` for the configuration.
    """

    _mode = "cheapest"


@register_allocator("operating-point", "best-within-budget")
class BestWithinBudgetSelector(OperatingPointSelector):
    """Best operating point (by the objective metric) that fits the budget.

    ``max_p ± q_obj(p, snr)  s.t.  c_k(p) ≤ B_k`` and any targets given.
    See :class:`OperatingPointSelector` for the configuration.
    """

    _mode = "best-within-budget"
