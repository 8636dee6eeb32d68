"""Operating-point selection: the cheapest (or best) tabulated configuration for a channel.

An operating-point table (:class:`semopt.tables.operating_points.OperatingPointTable`)
lists configurations p (a model, a compression rate, a branch split) with what each costs
on the air, c_k(p) (``symbols``, ``bits``, ``latency_s``, ``rate``, ...), and the quality
it delivers, q_m(p, snr) for metrics m (PSNR, SSIM, CLIP, FID, LPIPS, ...), tabulated
against the SNR per channel type. For one channel type and one dataset (the candidate
set 𝒫) and a received SNR, the problem is one of

``cheapest``::

    minimize_{p ∈ 𝒫}   c(p)                                  (the ranking cost)
    subject to         q_m(p, snr) ≥ τ_m   (floors: higher-is-better metrics)
                       q_m(p, snr) ≤ τ_m   (ceilings: lower-is-better metrics)
                       c_k(p) ≤ B_k        (every budgeted cost k)

``best-within-budget``::

    maximize_{p ∈ 𝒫}   ± q_obj(p, snr)     (sign by the metric's direction)
    subject to         c_k(p) ≤ B_k, and the targets above if any are given.

q_m(p, snr) is the table value interpolated linearly in dB between the two bracketing
tabulated SNRs; an SNR outside a point's tabulated range raises ``ValueError`` unless the
problem is built with ``extrapolate="linear"`` or ``"clamp"``. The problem parses the
call data once (:meth:`OperatingPointProblem.parse`), evaluates the candidates for a
method (:meth:`OperatingPointProblem.evaluate`) and rechecks the chosen point against
the table itself before calling it optimal (:meth:`OperatingPointProblem.assemble`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from semopt.options import Option
from semopt.problems.base import Problem
from semopt.registry import register_problem
from semopt.result import INFEASIBLE, NUMERICAL_ERROR, OPTIMAL, Allocation, build_allocation
from semopt.tables.operating_points import OperatingPointTable
from semopt.units import as_float_array, parse_cap, parse_db, parse_snr_db

__all__ = [
    "COST_UNITS",
    "OperatingPointEvaluation",
    "OperatingPointInputs",
    "OperatingPointProblem",
    "OperatingPointSolution",
]

COST_UNITS = {"symbols": "symbol", "bits": "bit", "latency_s": "s", "bpp": "bpp"}
"""Cost name -> base unit of its caps (see :func:`semopt.units.parse_cap`). Every other cost
(``rate``, a user's own) is capped with plain numbers in the table's unit."""
_UNIT_COSTS = {unit: cost for cost, unit in COST_UNITS.items()}
DEFAULT_COSTS = ("symbols", "bits", "latency_s", "rate", "bpp")
"""Ranking cost when none is named: the first of these the table declares."""
RECHECK_RTOL = 1e-12
"""Relative tolerance of the recheck of targets and caps (interpolation round-off)."""
EXTRAPOLATE = ("no", "linear", "clamp")
DIFFUSION_CHANNELS = ("awgn", "rayleigh")

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TARGET = re.compile(rf"^\s*([A-Za-z][A-Za-z0-9_\-]*)\s*(>=|<=|≥|≤|==|=|>|<)\s*({_NUMBER})"
                     r"\s*([A-Za-z%]*)\s*$")
_FLOOR_OPS = (">=", "≥")
_CEILING_OPS = ("<=", "≤")


def _names(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        out = tuple(v.strip() for v in value.split(",") if v.strip())
    elif isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        out = tuple(value)
    else:
        raise ValueError(f"{name}: expected point names (a list, or one comma-separated string), "
                         f"got {value!r}")
    if not out:
        raise ValueError(f"{name}: expected at least one point name")
    return out


def _name(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a non-empty string, got {value!r}")
    return value


class OperatingPointInputs(NamedTuple):
    """Validated call data, flattened to B = prod(batch_shape) rows.

    ``snr_db`` (B,) received SNR in dB; ``cap_names`` the budgeted costs and ``caps``
    (B, K) their caps in each cost's unit (``inf`` = no cap); ``target_metrics`` the
    constrained metrics, ``floors`` (M,) True for a floor (higher-is-better metric) and
    ``thresholds`` (B, M) their τ_m; ``cost_name`` the ranking cost (None if the table
    declares none); ``objective_metric`` the metric ``best-within-budget`` maximizes (and
    ``cheapest`` breaks cost ties with); ``batch_shape`` of the call.
    """

    snr_db: np.ndarray
    cap_names: tuple[str, ...]
    caps: np.ndarray
    target_metrics: tuple[str, ...]
    floors: np.ndarray
    thresholds: np.ndarray
    cost_name: str | None
    objective_metric: str
    batch_shape: tuple[int, ...]


class OperatingPointEvaluation(NamedTuple):
    """Every candidate evaluated for every row (P = number of candidates).

    ``predicted`` maps each target metric and the objective metric to (B, P) predicted
    values; ``within_budget`` and ``meets_target`` (B, P) bool; ``evaluations`` = B·P.
    """

    predicted: dict[str, np.ndarray]
    within_budget: np.ndarray
    meets_target: np.ndarray
    evaluations: int

    @property
    def feasible(self) -> np.ndarray:
        """(B, P): within the budget and meeting every target."""
        return self.within_budget & self.meets_target


class OperatingPointSolution(NamedTuple):
    """What an operating-point method returns for B rows.

    ``choice`` (B,) int: index into :attr:`OperatingPointProblem.candidates` of the chosen
    point, -1 where the method found none; ``objective_kind``: ``"cost"`` (objective =
    the ranking cost) or ``"metric"`` (objective = the objective metric);
    ``iterations`` (0: an enumeration) and ``evaluations`` (candidate evaluations).
    """

    choice: np.ndarray
    objective_kind: str
    iterations: int
    evaluations: int


def _reread(grid: np.ndarray, series: np.ndarray, x: np.ndarray,
            mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of tabulated series ``(M, G)`` at SNRs ``x`` (n,) in dB, read from the table again.

    Returns the values (M, n) and the lower / upper tabulated SNRs used (n,). Written
    apart from :meth:`OperatingPointTable.predict_many` on purpose: it is the recheck.
    """
    x = np.asarray(x, dtype=float)
    if grid.size == 1:
        edge = np.full(x.shape, grid[0])
        return np.repeat(series[:, :1], x.size, axis=1), edge, edge
    q = np.clip(x, grid[0], grid[-1]) if mode == "clamp" else x
    k = np.clip(np.searchsorted(grid, q, side="right") - 1, 0, grid.size - 2)
    lo, hi = grid[k], grid[k + 1]
    hit_lo, hit_hi = q == lo, q == hi
    below, above = series[:, k], series[:, k + 1]
    value = below + (q - lo) / (hi - lo) * (above - below)
    value = np.where(hit_lo, below, np.where(hit_hi, above, value))
    return value, np.where(hit_hi, hi, lo), np.where(hit_lo, lo, hi)


@register_problem
class OperatingPointProblem(Problem):
    """Choose one tabulated operating point for a channel and SNR (see the module docstring).

    Parameters
    ----------
    table : str, path or OperatingPointTable
        Default: the published ``guo2025-tables-iii-iv`` (Guo et al. Tables III/IV; its
        costs are not reported, so it takes no finite budget).
    channel : str
        Channel type the quality was measured on (``"awgn"``, ``"mimo"``, ``"rayleigh"``, ...).
    dataset : str, optional
        Dataset whose points are compared; required when the table holds several (points
        of different datasets are never compared).
    cost : str, optional
        Ranking cost of ``cheapest`` (and the unit of a unitless budget). Default: the
        one cost a budget names, else the first of :data:`DEFAULT_COSTS` in the table.
    objective_metric : str, optional
        Metric ``best-within-budget`` maximizes (minimizes for lower-is-better metrics)
        and ``cheapest`` breaks cost ties with. Default: the single target metric, else
        the table's first metric that every candidate reports on ``channel`` (else the
        table's first metric).
    points : sequence of str or comma-separated str, optional
        Restrict the candidates to these point names.
    extrapolate : {"no", "linear", "clamp"}
        SNRs outside a point's tabulated range: refused (``"no"``, default), extended
        from the end segments, or held at the end values.

    Notes
    -----
    ``allocate(snr, budget, target)``:

    * ``snr`` — received SNR in dB (``"7 dB"`` accepted), scalar or (B,) (any shape is
      a batch); the SNR at which the table's quality was measured (Guo et al.:
      ‖z‖²/(k σ²) per real feature), not a power ratio to a budget.
    * ``budget`` — None (no cap); a number in the ranking cost's unit; a string with a
      unit, ``"2048 symbols"``, ``"12 kbit"``, ``"20 ms"`` (→ ``latency_s``),
      ``"0.05 bpp"`` (→ ``bpp``); a named cap ``"rate=0.004"``; several comma-separated
      (``"2048 symbols, 1 ms"``); or a mapping ``{"symbols": 2048, "latency_s": "1 ms"}``.
      Caps are non-negative, ``inf`` = no cap; arrays broadcast against ``snr``.
    * ``target`` — None; ``"psnr>=19.9, lpips<=0.3"`` (floors ``>=`` on higher-is-better
      metrics, ceilings ``<=`` on lower-is-better ones, a value optionally with the
      metric's unit, ``"psnr>=19.9 dB"``); a mapping ``{"psnr": 19.9}`` (the bound the
      metric's direction implies; arrays broadcast); or a list of either.

    ``Allocation``: ``perception`` is the predicted objective metric of the chosen point;
    ``objective`` its ranking cost (``cheapest``; NaN if the table does not report it)
    or the objective metric (``best-within-budget``); ``latency_s`` its ``latency_s``
    cost where the table has one; power and error-rate fields are NaN (no power is
    allocated). ``iterations`` is 0; ``evaluations`` counts candidate evaluations (B·P).
    """

    name = "operating-point"
    description = ("cheapest (or best) tabulated operating point meeting metric floors and "
                   "ceilings within cost caps at the given SNR (Guo et al. Tables III/IV)")
    default_method = "cheapest"
    table_kinds = ("operating-points",)
    default_table = "guo2025-tables-iii-iv"
    snr = "received SNR in dB at which the table's quality was measured (one per realization)"
    budget = ("cost caps: symbols ('2048 symbols'), bits ('12 kbit'), latency_s ('20 ms'), "
              "bpp ('0.05 bpp'), named ('rate=0.004'), or a number in the ranking cost's unit")
    target = ("metric floors (higher-is-better, 'psnr>=19.9') and ceilings (lower-is-better, "
              "'lpips<=0.3'), in each metric's unit")
    objective = ("cheapest: the chosen point's ranking cost (extras['cost_name'], in that "
                 "cost's unit); best-within-budget: its predicted objective metric "
                 "(extras['objective_metric'], in the metric's unit)")
    summary_extras = ("point",)
    options = {
        "channel": Option("awgn", "channel type the table's quality was measured on "
                          "(awgn, mimo, rayleigh, ...)", kind="str", parse=_name),
        "dataset": Option(None, "dataset whose points are compared (required when the table "
                          "holds several)", kind="str", parse=_name),
        "cost": Option(None, "ranking cost of cheapest and unit of a unitless budget "
                       "(symbols, bits, latency_s, rate, ...; default: the budgeted cost, "
                       "else the first of symbols, bits, latency_s, rate, bpp)", kind="str",
                       parse=_name),
        "objective_metric": Option(None, "metric best-within-budget maximizes and cheapest "
                                   "breaks ties with (default: the single target metric, else "
                                   "the table's first metric every candidate reports)",
                                   kind="str", parse=_name),
        "points": Option(None, "restrict the candidates to these point names "
                         "(comma-separated)", kind="strs", parse=_names),
        "extrapolate": Option("no", "SNRs outside a point's tabulated range (dB): refuse, "
                              "extend the end segments linearly, or clamp", kind="str",
                              choices=EXTRAPOLATE),
    }

    def __init__(self, *, table: Any = None, **options: Any) -> None:
        super().__init__(table=table, **options)
        tab = self.table
        if not isinstance(tab, OperatingPointTable):
            raise ValueError(f"table: {getattr(tab, 'name', tab)!r} is not an operating-points "
                             "table")
        self.candidates: list[int] = tab.candidates(channel=self.channel, dataset=self.dataset,
                                                    points=self.points)
        if self.cost is not None and self.cost not in tab.costs:
            raise ValueError(f"cost: {self.cost!r} is not a cost of table {tab.name!r}; valid "
                             f"costs: {', '.join(tab.costs) or '(none)'}")
        if self.objective_metric is not None and self.objective_metric not in tab.metrics:
            raise ValueError(f"objective_metric: {self.objective_metric!r} is not in table "
                             f"{tab.name!r}; valid metrics: {', '.join(tab.metrics)}")
        self.dataset_name = self.dataset if self.dataset is not None \
            else tab.points[self.candidates[0]].dataset
        self.candidate_names = [tab.points[i].name for i in self.candidates]
        self._grids = {}
        for j, i in enumerate(self.candidates):
            grid = tab.points[i].snr_db
            self._grids.setdefault(grid.tobytes(), (grid, j))
        reported = [m for m in tab.metrics if all(
            m in tab.points[i].quality[self.channel] for i in self.candidates)]
        self.default_metric: str = (reported or list(tab.metrics))[0]
        self._schedule: Any = None

    # -- costs and metrics ------------------------------------------------------------------
    def default_cost(self) -> str | None:
        """The ranking cost when neither ``cost`` nor a single budgeted cost names one."""
        if self.cost is not None:
            return self.cost
        for key in DEFAULT_COSTS:
            if key in self.table.costs:
                return key
        return next(iter(self.table.costs), None)

    def cost_vector(self, cost: str) -> np.ndarray:
        """(P,) cost ``cost`` of the candidates (NaN where the table does not report it)."""
        return self.table.cost_vector(cost, self.candidates)

    def score(self, values: np.ndarray, metric: str) -> np.ndarray:
        """``values`` of ``metric`` signed so that smaller is better."""
        return values if not self.table.metrics[metric].higher_is_better else -values

    # -- input validation --------------------------------------------------------------------
    def _parse_budget(self, budget: Any) -> dict[str, np.ndarray]:
        tab = self.table
        if budget is None:
            return {}
        items: list[tuple[str | None, Any]] = []
        if isinstance(budget, Mapping):
            items = [(str(k), v) for k, v in budget.items()]
        elif isinstance(budget, str):
            parts = [p.strip() for p in budget.split(",")]
            if not all(parts):
                raise ValueError(f"budget: empty cap in {budget!r}; write e.g. '2048 symbols', "
                                 "'20 ms', 'rate=0.004', comma-separated")
            for part in parts:
                key, sep, value = part.partition("=")
                items.append((key.strip(), value.strip()) if sep else (None, part))
        elif isinstance(budget, (bool, np.bool_)) or isinstance(budget, (int, float, np.number)) \
                or isinstance(budget, np.ndarray) or isinstance(budget, Sequence):
            items = [(None, budget)]
        else:
            raise ValueError(f"budget: expected None, a number, a string such as '2048 symbols' "
                             f"or a mapping cost -> cap, got {type(budget).__name__}")
        caps: dict[str, np.ndarray] = {}
        for key, value in items:
            if key is None:
                if isinstance(value, Sequence) and not isinstance(value, str) \
                        and any(isinstance(v, str) for v in np.ravel(np.asarray(value, object))):
                    raise ValueError("budget: a batch of caps is an array of numbers (in the "
                                     "ranking cost's unit) or a mapping {'symbols': [...]}")
                unit, _ = parse_cap(value, "budget")
                key = _UNIT_COSTS.get(unit) if unit else self.default_cost()
                if key is None:
                    raise ValueError(f"budget: table {tab.name!r} declares no cost to cap")
            argument = f"budget[{key!r}]"
            if key not in tab.costs:
                raise ValueError(f"budget: cost {key!r} is not in table {tab.name!r}; valid "
                                 f"costs: {', '.join(tab.costs) or '(none)'}")
            if key in caps:
                raise ValueError(f"budget: cost {key!r} is capped twice in {budget!r}")
            _, cap = parse_cap(value, argument, unit=COST_UNITS.get(key, ""))
            cap = np.asarray(cap, dtype=float)
            costs = self.cost_vector(key)
            unknown = np.isnan(costs)
            if np.any(unknown) and np.any(np.isfinite(cap)):
                names = [self.candidate_names[j] for j in np.flatnonzero(unknown)]
                raise ValueError(f"budget: points {names} of table {tab.name!r} have no {key!r} "
                                 f"cost, so a {key} budget cannot be checked; restrict the "
                                 "candidates with points=... or drop that cap")
            caps[key] = cap
        return caps

    def _target_value(self, metric: str, value: Any, unit: str, text: Any) -> np.ndarray:
        expected = self.table.metrics[metric].unit
        if isinstance(value, str) and not unit:
            match = re.fullmatch(rf"\s*({_NUMBER})\s*([A-Za-z%]*)\s*", value)
            if match is None:
                raise ValueError(f"target: cannot read {value!r} as a {metric} value")
            value, unit = match.group(1), match.group(2)
        if unit and unit != expected:
            if expected == "dB":
                parse_db(f"{value} {unit}", "target")  # raises with the dB hint
            raise ValueError(f"target: {metric} is in {expected or 'no unit'}, got {text!r}")
        arr = as_float_array(value, "target")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"target: the {metric} threshold must be finite, got {text!r}")
        return arr

    def _parse_target(self, target: Any) -> list[tuple[str, np.ndarray]]:
        tab = self.table
        if target is None:
            return []
        entries: list[tuple[str, str | None, Any, str, Any]] = []  # metric, op, value, unit, text

        def add(item: Any) -> None:
            if isinstance(item, str):
                parts = [p.strip() for p in item.split(",")]
                if not all(parts):
                    raise ValueError(f"target: empty constraint in {item!r}; write e.g. "
                                     "'psnr>=19.9, lpips<=0.3'")
                for part in parts:
                    match = _TARGET.match(part)
                    if match is None:
                        raise ValueError(f"target: cannot parse {part!r}; write e.g. 'psnr>=19.9' "
                                         "or 'lpips<=0.3', comma-separated")
                    entries.append((match.group(1).lower(), match.group(2), match.group(3),
                                    match.group(4), part))
            elif isinstance(item, Mapping):
                for key, value in item.items():
                    entries.append((str(key).lower(), None, value, "", {key: value}))
            elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                entries.append((item[0].lower(), None, item[1], "", item))
            else:
                raise ValueError("target: expected 'psnr>=19.9', a mapping {'psnr': 19.9}, a "
                                 f"(metric, value) pair or a list of these, got {item!r}")

        if isinstance(target, (list, tuple)) and not (
                len(target) == 2 and isinstance(target[0], str) and not isinstance(target[1], str)
                and _TARGET.match(target[0]) is None):
            if not target:
                raise ValueError("target: an empty list; pass None for no target")
            for item in target:
                add(item)
        else:
            add(target)
        out: list[tuple[str, np.ndarray]] = []
        for metric, op, value, unit, text in entries:
            if metric not in tab.metrics:
                raise ValueError(f"target: metric {metric!r} is not in table {tab.name!r}; "
                                 f"valid metrics: {', '.join(tab.metrics)}")
            higher = tab.metrics[metric].higher_is_better
            if op is not None and op not in _FLOOR_OPS + _CEILING_OPS:
                raise ValueError(f"target: {text!r}: use '>=' for a floor or '<=' for a ceiling "
                                 f"(got {op!r})")
            if (higher and op in _CEILING_OPS) or (not higher and op in _FLOOR_OPS):
                kind = "floor (>=)" if higher else "ceiling (<=)"
                raise ValueError(f"target: {metric} is {'higher' if higher else 'lower'}-is-better, "
                                 f"so its target is a {kind}; got {text!r}")
            if metric in (m for m, _ in out):
                raise ValueError(f"target: {metric} is constrained twice")
            out.append((metric, self._target_value(metric, value, unit, text)))
        return out

    def parse(self, snr: Any, budget: Any, target: Any) -> OperatingPointInputs:
        """Validate and broadcast ``(snr, budget, target)`` (see the class notes)."""
        snr_db = parse_snr_db(snr, "snr")
        caps = self._parse_budget(budget)
        targets = self._parse_target(target)
        shapes = [snr_db.shape] + [c.shape for c in caps.values()] + [t.shape for _, t in targets]
        try:
            batch_shape = np.broadcast_shapes(*shapes)
        except ValueError as exc:
            raise ValueError(f"snr, budget, target: batch shapes {shapes} do not broadcast") \
                from exc
        if self.extrapolate == "no":
            for grid, j in self._grids.values():
                outside = (snr_db < grid[0]) | (snr_db > grid[-1])
                if np.any(outside):
                    raise ValueError(
                        f"snr: {snr_db[outside].flat[0]:g} is outside the table's range "
                        f"[{grid[0]:g}, {grid[-1]:g}] dB (operating point "
                        f"{self.candidate_names[j]!r} of table {self.table.name!r}); pass "
                        "extrapolate='linear' or 'clamp' to allow it")
        b = int(np.prod(batch_shape, dtype=int))

        def flat(arr: np.ndarray) -> np.ndarray:
            return np.broadcast_to(arr, batch_shape).reshape(b)

        names = tuple(caps)
        metrics = tuple(m for m, _ in targets)
        objective_metric = self.objective_metric or (
            metrics[0] if len(metrics) == 1 else self.default_metric)
        cost_name = self.cost or (names[0] if len(names) == 1 else self.default_cost())
        return OperatingPointInputs(
            snr_db=flat(snr_db), cap_names=names,
            caps=np.stack([flat(caps[k]) for k in names], axis=-1) if names else np.empty((b, 0)),
            target_metrics=metrics,
            floors=np.array([self.table.metrics[m].higher_is_better for m in metrics], dtype=bool),
            thresholds=np.stack([flat(t) for _, t in targets], axis=-1) if targets
            else np.empty((b, 0)),
            cost_name=cost_name, objective_metric=objective_metric, batch_shape=batch_shape)

    # -- evaluation for the methods -------------------------------------------------------
    def evaluate(self, inputs: OperatingPointInputs,
                 rows: np.ndarray | slice | None = None) -> OperatingPointEvaluation:
        """Predict the target and objective metrics of every candidate for ``rows``.

        ``within_budget`` treats an unknown cost as within an infinite cap (parse refuses
        a finite cap on a cost some candidate does not report); ``meets_target`` is False
        where a predicted value is NaN (metric not measured).
        """
        rows = slice(None) if rows is None else rows
        snr = inputs.snr_db[rows]
        metrics = list(dict.fromkeys(inputs.target_metrics + (inputs.objective_metric,)))
        predicted, _ = self.table.predict_many(
            snr, metrics, channel=self.channel, indices=self.candidates,
            extrapolate=False if self.extrapolate == "no" else self.extrapolate)
        n_points = len(self.candidates)
        within = np.ones((snr.size, n_points), dtype=bool)
        caps = inputs.caps[rows]
        for k, key in enumerate(inputs.cap_names):
            costs = self.cost_vector(key)
            cap = caps[:, k, None]
            within &= np.isinf(cap) | (costs <= cap)
        meets = np.ones((snr.size, n_points), dtype=bool)
        thresholds = inputs.thresholds[rows]
        for k, metric in enumerate(inputs.target_metrics):
            v = predicted[metric]
            tau = thresholds[:, k, None]
            meets &= (v >= tau) if inputs.floors[k] else (v <= tau)  # NaN: not met
        return OperatingPointEvaluation(predicted, within, meets, snr.size * n_points)

    # -- result ----------------------------------------------------------------------------
    def _recheck(self, inputs: OperatingPointInputs, choice: np.ndarray
                 ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray],
                            np.ndarray, np.ndarray]:
        """Re-read the chosen points from the table: (ok, metrics, costs, lower, upper)."""
        tab = self.table
        b = choice.size
        values = {m: np.full(b, np.nan) for m in tab.metrics}
        costs = {k: np.full(b, np.nan) for k in tab.costs}
        lower, upper = np.full(b, np.nan), np.full(b, np.nan)
        chosen = choice >= 0
        for j in np.unique(choice[chosen]):
            rows = np.flatnonzero(choice == j)
            point = tab.points[self.candidates[int(j)]]
            series = point.quality.get(self.channel, {})
            stack = np.array([series.get(m, np.full(point.snr_db.size, np.nan))
                              for m in tab.metrics])
            read, lower[rows], upper[rows] = _reread(point.snr_db, stack, inputs.snr_db[rows],
                                                     self.extrapolate)
            for m, metric in enumerate(tab.metrics):
                values[metric][rows] = read[m]
            for key in tab.costs:
                costs[key][rows] = point.cost.get(key, np.nan)
        ok = chosen.copy()
        for k, metric in enumerate(inputs.target_metrics):
            v, tau = values[metric], inputs.thresholds[:, k]
            slack = RECHECK_RTOL * np.maximum(1.0, np.abs(tau))
            ok &= (v >= tau - slack) if inputs.floors[k] else (v <= tau + slack)
        for k, key in enumerate(inputs.cap_names):
            cap = inputs.caps[:, k]
            ok &= np.isinf(cap) | (costs[key] <= cap * (1.0 + RECHECK_RTOL))
        return ok, values, costs, lower, upper

    def assemble(self, inputs: OperatingPointInputs, solution: OperatingPointSolution, *,
                 method: str, wall_time_s: float) -> Allocation:
        """Recheck every chosen point against the table and build the :class:`Allocation`.

        A row is ``optimal`` only if the method chose a candidate whose values, read
        again from the table and interpolated at the row's SNR, meet every target (within
        :data:`RECHECK_RTOL`) and whose costs fit every cap. A row without a point is
        ``infeasible`` when no candidate qualifies (the best value each target metric
        reaches within the budget is reported), and ``numerical_error`` when the method
        returned an invalid or refused point, or none although one qualifies.
        """
        b = inputs.snr_db.size
        n_points = len(self.candidates)
        raw = np.asarray(solution.choice)
        valid = raw.shape == (b,) and raw.dtype.kind in "iu" \
            and bool(np.all((raw >= -1) & (raw < n_points)))
        choice = raw.astype(int) if valid else np.full(b, -1)
        ok, values, costs, lower, upper = self._recheck(inputs, choice)
        refused = (choice >= 0) & ~ok if valid else np.ones(b, dtype=bool)
        bad = np.flatnonzero(~ok)
        missed = np.zeros(b, dtype=bool)
        best = {m: np.full(b, np.nan) for m in inputs.target_metrics}
        fits = np.ones(b, dtype=bool)
        if bad.size:
            ev = self.evaluate(inputs, bad)
            missed[bad] = np.any(ev.feasible, axis=-1) & ~refused[bad]
            fits[bad] = np.any(ev.within_budget, axis=-1)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
                for k, metric in enumerate(inputs.target_metrics):
                    v = np.where(ev.within_budget, ev.predicted[metric], np.nan)
                    best[metric][bad] = np.nanmax(v, axis=-1) if inputs.floors[k] \
                        else np.nanmin(v, axis=-1)
        numerical = refused | missed
        status = np.where(ok, OPTIMAL, np.where(numerical, NUMERICAL_ERROR, INFEASIBLE))
        for arr in (*values.values(), *costs.values(), lower, upper):
            arr[~ok] = np.nan
        index = np.where(ok, np.asarray(self.candidates + [-1])[np.where(ok, choice, -1)], -1)
        names = np.array(self.candidate_names + [""])[np.where(ok, choice, -1)]
        perception = values[inputs.objective_metric]
        if solution.objective_kind == "cost" and inputs.cost_name is not None:
            objective = costs[inputs.cost_name]
        elif solution.objective_kind == "cost":
            objective = np.full(b, np.nan)
        else:
            objective = perception
        latency = costs.get("latency_s", np.full(b, np.nan))
        shape = inputs.batch_shape

        def shaped(arr: np.ndarray) -> Any:
            out = np.asarray(arr).reshape(shape)
            return out.item() if out.ndim == 0 else out

        extrapolated = self._outside(inputs.snr_db, ok, choice)
        extras: dict[str, Any] = {
            "point": shaped(names), "point_index": shaped(index),
            "predicted": {m: shaped(v) for m, v in values.items()},
            "cost": {k: shaped(v) for k, v in costs.items()},
            "cost_name": inputs.cost_name, "objective_metric": inputs.objective_metric,
            "snr_interp_db": {"lower": shaped(lower), "upper": shaped(upper)},
            "extrapolated": shaped(extrapolated),
            "best_achievable": {m: shaped(v) for m, v in best.items()},
            "targets": {m: shaped(inputs.thresholds[:, k])
                        for k, m in enumerate(inputs.target_metrics)},
            "budget": {c: shaped(inputs.caps[:, k]) for k, c in enumerate(inputs.cap_names)},
            "channel": self.channel, "dataset": self.dataset_name, "table": self.table.name,
        }
        diffusion = self._diffusion(inputs.snr_db, shaped)
        if diffusion is not None:
            extras["diffusion"] = diffusion
        nan_streams = np.full((b, 1), np.nan)
        message = self._message(inputs, ok, refused, missed, fits, names, values, costs, best)
        return build_allocation(
            shape, method=method, problem=self.name, success=ok, status=status, message=message,
            power_w=nan_streams, error_rate=nan_streams, perception=perception,
            objective=objective, latency_s=latency, iterations=solution.iterations,
            evaluations=solution.evaluations, wall_time_s=wall_time_s, extras=extras)

    def _outside(self, snr_db: np.ndarray, ok: np.ndarray, choice: np.ndarray) -> np.ndarray:
        """Rows whose SNR lies outside the chosen point's tabulated range."""
        out = np.zeros(snr_db.size, dtype=bool)
        for j in np.unique(choice[ok]):
            rows = np.flatnonzero(ok & (choice == j))
            grid = self.table.points[self.candidates[int(j)]].snr_db
            out[rows] = (snr_db[rows] < grid[0]) | (snr_db[rows] > grid[-1])
        return out

    def _diffusion(self, snr_db: np.ndarray, shaped: Any) -> dict[str, Any] | None:
        """SNR → diffusion step of the table's noise schedule (AWGN-equivalent mapping)."""
        info = self.table.diffusion
        if not info or self.channel not in DIFFUSION_CHANNELS:
            return None
        from semopt.link.diffusion import get_schedule, map_channel_to_timestep

        if self._schedule is None:
            self._schedule = get_schedule(str(info.get("schedule", "linear")),
                                          int(info.get("num_steps", 1000)))
        mapping = map_channel_to_timestep(snr_db, self._schedule, "awgn")
        return {"schedule": self._schedule.name, "num_steps": self._schedule.num_steps,
                "alpha_bar": shaped(mapping.alpha_bar), "timestep": shaped(mapping.timestep),
                "note": "AWGN-equivalent mapping of the SNR (for rayleigh: |h| = 1, as Guo et al. "
                        "state for their Rayleigh experiments)"}

    def _message(self, inputs: OperatingPointInputs, ok: np.ndarray, refused: np.ndarray,
                 missed: np.ndarray, fits: np.ndarray, names: np.ndarray,
                 values: Mapping[str, np.ndarray], costs: Mapping[str, np.ndarray],
                 best: Mapping[str, np.ndarray]) -> str:
        where = f"({self.channel}, table {self.table.name!r})"

        def constraints(row: int) -> str:
            return ", ".join(
                f"{m} {'>=' if inputs.floors[k] else '<='} {inputs.thresholds[row, k]:g}"
                for k, m in enumerate(inputs.target_metrics))

        def value(v: float) -> str:
            return f"{v:.4g}" if np.isfinite(v) else "not measured"

        def reach(row: int) -> str:
            return ", ".join(f"{m} {value(best[m][row])}" for m in inputs.target_metrics)

        def cheapest_cost() -> str:
            name = inputs.cost_name
            if name is None:
                return ""
            vec = self.cost_vector(name)
            if not np.any(np.isfinite(vec)):
                return ""
            return f"; the cheapest candidate has {name} = {np.nanmin(vec):.6g}"

        if ok.size == 1:
            snr = float(inputs.snr_db[0])
            if ok[0]:
                metrics = ", ".join(f"{m}={float(v[0]):.4g}" for m, v in values.items()
                                    if np.isfinite(v[0]))
                spent = ", ".join(f"{k}={float(v[0]):.6g}" for k, v in costs.items()
                                  if np.isfinite(v[0]))
                met = f"meets {constraints(0)}; " if inputs.target_metrics else ""
                return (f"point {names[0]!r} at {snr:g} dB {where}: {met}predicted {metrics}"
                        + (f"; cost {spent}" if spent else ""))
            if refused[0]:
                return (f"numerical error at {snr:g} dB {where}: the method's point fails the "
                        "recheck against the table (targets or caps violated, or an invalid "
                        "index); no point returned")
            if missed[0]:
                return (f"numerical error at {snr:g} dB {where}: the method returned no point "
                        "although a candidate meets the target within the budget")
            if not fits[0]:
                return (f"infeasible at {snr:g} dB {where}: no point fits the budget "
                        f"{dict(zip(inputs.cap_names, inputs.caps[0].tolist()))}"
                        + cheapest_cost())
            return (f"infeasible at {snr:g} dB {where}: no point meets {constraints(0)} "
                    f"within the budget (best achievable within the budget: {reach(0)})")
        n_ok = int(np.count_nonzero(ok))
        msg = f"{n_ok} of {ok.size} realizations: a point meets the target within the budget {where}"
        infeasible = ~ok & ~refused & ~missed
        if np.any(infeasible & fits) and inputs.target_metrics:
            rows = np.flatnonzero(infeasible & fits)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: not measured
                medians = ", ".join(f"{m} {value(np.nanmedian(best[m][rows]))}"
                                    for m in inputs.target_metrics)
            msg += (f"; {rows.size} infeasible (best achievable within the budget, median over "
                    f"them: {medians})")
        if np.any(infeasible & ~fits):
            msg += (f"; {int(np.count_nonzero(infeasible & ~fits))} where no point fits the "
                    f"budget{cheapest_cost()}")
        if np.any(refused | missed):
            msg += f"; {int(np.count_nonzero(refused | missed))} numerical errors (method output " \
                   "refused by the recheck)"
        return msg
