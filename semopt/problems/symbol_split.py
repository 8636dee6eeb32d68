"""The GenED-SC symbol split: prompt, foreground and background under a channel-symbol budget.

A GenED-SC-like transmitter sends an image as three digital parts: a coded text prompt,
a foreground branch and a background branch of entropy-coded latents, each at its own
rate (plus side information whenever a branch is sent). A measured ``symbol-split``
table (:class:`semopt.tables.symbol_split.SymbolSplitTable`) gives, for every candidate
``x = (i, j, s)`` -- foreground level ``i``, background level ``j``, prompt sent
``s ∈ {0, 1}`` -- its cost in complex channel symbols for the chosen MCS,

    S(x) = S_fg(i) + S_bg(j) + S_side · [i or j sent] + S_prompt · s,

and its quality ``Q_lost(i, j)`` / ``Q_delivered(i, j)`` (isotonic fit by default). At an
Es/N0 ``snr`` the prompt is decoded with probability ``p(snr)`` (finite-blocklength
normal approximation, :func:`semopt.link.gened.delivery_probability`), so

    E[Q](x; snr) = s · (p Q_delivered(i, j) + (1 − p) Q_lost(i, j)) + (1 − s) · Q_lost(i, j).

The problem has two modes:

``target`` given (fewest symbols)::

    minimize_x  S(x)   subject to   E[Q](x; snr) ≥ τ   (≤ τ for lower-is-better metrics),
                                    S(x) ≤ budget;

``target=None`` (best quality within the budget)::

    maximize_x  E[Q](x; snr)   (minimize for lower-is-better metrics)   subject to  S(x) ≤ budget.

Ties go to the better quality (fewest-symbols mode) or to fewer symbols (best-quality
mode), then to table order. ``budget=None`` is no cap. The candidate set is finite
(``F · B · 2`` points), so every problem instance has an exact answer; the methods
(``semopt/allocators/symbol_split``) differ in how they find it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from semopt.link.gened import MCS_TABLE, expected_quality, get_mcs
from semopt.options import Option
from semopt.problems.base import Problem
from semopt.registry import register_problem
from semopt.result import INFEASIBLE, NUMERICAL_ERROR, OPTIMAL, Allocation, build_allocation
from semopt.tables.symbol_split import SplitPoints, SymbolSplitTable
from semopt.units import as_float_array, parse_snr_db, parse_symbols

__all__ = [
    "CAPACITY_MODELS",
    "MODES",
    "PROMPT_POLICIES",
    "SymbolSplitInputs",
    "SymbolSplitProblem",
    "SymbolSplitSolution",
]

MODES = ("fewest-symbols", "best-quality")
"""``fewest-symbols``: a target is given; ``best-quality``: ``target=None``."""
PROMPT_POLICIES = ("optional", "always", "never")
"""Whether the prompt may be dropped (``optional``), must be sent, or is never sent."""
CAPACITY_MODELS = ("gaussian", "constellation")
"""Capacity models of the prompt link (:func:`semopt.link.gened.delivery_probability`)."""
QUALITY_RTOL = 1e-9
"""Relative tolerance of the quality recheck (``max(1, |τ|)`` scale; round-off only)."""
BUDGET_RTOL = 1e-12
"""Relative tolerance of the budget recheck."""

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TARGET = re.compile(rf"^\s*(?:(?P<metric>[A-Za-z][A-Za-z0-9_\-]*)\s*(?P<op>>=|<=|≥|≤|==|=|>|<)\s*)?"
                     rf"(?P<value>{_NUMBER})\s*(?P<unit>[A-Za-z%]*)\s*$")
_FLOOR_OPS = (">=", "≥")
_CEILING_OPS = ("<=", "≤")


def _name(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a non-empty string, got {value!r}")
    return value


def _mcs_name(value: Any, name: str) -> str:
    try:
        return get_mcs(value).name
    except ValueError as exc:
        raise ValueError(f"{name}: unknown MCS {value!r}; valid: {', '.join(MCS_TABLE)}") from exc


class SymbolSplitInputs(NamedTuple):
    """Validated call data, flattened to B = prod(batch_shape) rows.

    ``snr_db`` (B,) Es/N0 of the prompt link in dB; ``budget_symbols`` (B,) symbol cap
    (``inf`` = none); ``target`` (B,) the quality bound τ in the metric's unit (NaN in
    ``best-quality`` mode); ``metric`` the table metric, ``higher_is_better`` its
    direction; ``mode`` one of :data:`MODES`; ``batch_shape`` of the call.
    """

    snr_db: np.ndarray
    budget_symbols: np.ndarray
    target: np.ndarray
    metric: str
    higher_is_better: bool
    mode: str
    batch_shape: tuple[int, ...]


class SymbolSplitSolution(NamedTuple):
    """What a symbol-split method returns for B rows.

    ``foreground_level``, ``background_level`` (B,) int level indices (-1: the method found
    no point); ``prompt_sent`` (B,) bool; ``iterations`` (largest over the rows) and
    ``evaluations`` (candidate E[Q] evaluations in total); ``exact``: True if the method
    claims the exact optimum (a row without a point while a feasible one exists is then a
    numerical error, not an infeasible row); ``info``: optional per-row (B,) diagnostics
    added to ``extras``.
    """

    foreground_level: np.ndarray
    background_level: np.ndarray
    prompt_sent: np.ndarray
    iterations: int
    evaluations: int
    exact: bool = True
    info: Mapping[str, np.ndarray] | None = None


@register_problem
class SymbolSplitProblem(Problem):
    """Split a channel-symbol budget between prompt, foreground and background (GenED-SC).

    Parameters
    ----------
    table : str, path or SymbolSplitTable
        A ``symbol-split`` table (default: the shipped measured ``symbol-split-sample``).
    metric : str, optional
        Table metric to constrain or maximize (default: the metric a target names, else
        the table's first metric).
    mcs : str, optional
        Modulation and code of the visual parts (both branches and the side information),
        a name of :data:`semopt.link.gened.MCS_TABLE` (default: the table's). The prompt
        keeps the table's MCS, for which its delivery probability is modelled.
    capacity : {"gaussian", "constellation"}
        Prompt link: Gaussian-input capacity or uniform-constellation mutual information in
        the finite-blocklength normal approximation.
    log_term : bool
        Include the ``½ log2(n)/n`` term of the normal approximation.
    prompt : {"optional", "always", "never"}
        Whether the allocator may drop the prompt, must send it (GenED-SC always does) or
        never sends it.
    fitted : bool
        Use the table's monotone (isotonic) fit of the quality (default) or the raw means.

    Notes
    -----
    ``allocate(snr, budget, target)``:

    * ``snr`` -- Es/N0 per complex symbol of the prompt link in dB (``"7 dB"``), scalar
      or (B,) (any shape is a batch). The visual parts are assumed delivered (as in the
      table).
    * ``budget`` -- a symbol cap: ``"8618 symbols"``, ``"8.6 ksym"``, a number of symbols,
      an array of them, or ``None`` (no cap).
    * ``target`` -- ``None`` (best quality within the budget), or a quality bound in the
      metric's unit: a number (``25.0``), ``"25 dB"`` (PSNR), ``"psnr>=25"``,
      ``"ms-ssim>=0.95"``, ``{"psnr": 25}``, or an array of numbers. Higher-is-better
      metrics take a floor (``>=``), lower-is-better ones a ceiling (``<=``).

    ``Allocation``: ``objective`` is the symbols used (fewest-symbols mode) or the
    achieved ``E[Q]`` (best-quality mode); ``perception`` the achieved ``E[Q]``;
    ``error_rate`` (…, 1) the prompt's block-error probability ``1 − p`` where it is sent
    (NaN otherwise); ``power_w`` and ``latency_s`` are NaN (no power is allocated).
    ``extras``: ``symbols`` (``prompt``, ``foreground``, ``background``, ``side``),
    ``total_symbols``, the levels (``foreground_level``, ``background_level`` names,
    ``foreground_step``, ``background_step``), ``bits`` per part, ``prompt_sent``,
    ``delivery_probability``, ``quality`` (delivered / lost / expected), and for rows
    without a point ``best_achievable`` (best ``E[Q]`` within the budget) and
    ``symbols_needed`` (fewest symbols meeting the target, no cap).
    """

    name = "symbol-split"
    description = ("fewest channel symbols (or best expected quality within a symbol budget) "
                   "split between a coded prompt, a foreground and a background branch "
                   "(GenED-SC, measured table)")
    default_method = "exhaustive"
    table_kinds = ("symbol-split",)
    default_table = "symbol-split-sample"
    snr = ("Es/N0 of the prompt link in dB (one per realization; the visual parts are "
           "assumed delivered)")
    budget = "channel-symbol cap ('8618 symbols', '8.6 ksym', a number of symbols; None: no cap)"
    target = ("quality floor in the table's metric ('psnr>=25', '25 dB', 25.0; a ceiling for "
              "lower-is-better metrics), or None for the best quality within the budget")
    objective = ("with a target: the symbols used (complex channel symbols); without: the "
                 "achieved expected quality E[Q] in the metric's unit")
    summary_extras = ("foreground_level", "background_level", "prompt_sent", "total_symbols",
                      "delivery_probability")
    options = {
        "metric": Option(None, "table metric to constrain or maximize (default: the metric "
                         "the target names, else the table's first)", kind="str", parse=_name),
        "mcs": Option(None, "modulation and code of the visual branches and side information "
                      "(default: the table's)", kind="str", choices=tuple(MCS_TABLE),
                      parse=_mcs_name),
        "capacity": Option("gaussian", "prompt link: Gaussian-input capacity or uniform "
                           "16-QAM mutual information in the finite-blocklength model",
                           kind="str", choices=CAPACITY_MODELS),
        "log_term": Option(False, "include the ½·log2(n)/n term of the normal approximation "
                           "(prompt link)", kind="bool"),
        "prompt": Option("optional", "whether the prompt may be dropped, must be sent, or is "
                         "never sent", kind="str", choices=PROMPT_POLICIES),
        "fitted": Option(True, "use the table's monotone (isotonic) quality fit; false: the "
                         "raw measured means", kind="bool"),
    }

    def __init__(self, *, table: Any = None, **options: Any) -> None:
        super().__init__(table=table, **options)
        tab = self.table
        if not isinstance(tab, SymbolSplitTable):
            raise ValueError(f"table: {getattr(tab, 'name', tab)!r} is not a symbol-split table")
        if self.metric is not None and self.metric not in tab.metrics:
            raise ValueError(f"metric: {self.metric!r} is not in table {tab.name!r}; valid "
                             f"metrics: {', '.join(tab.metrics)}")
        self.visual_mcs = tab.visual_mcs if self.mcs is None else get_mcs(self.mcs)
        self.fitted = bool(self.fitted)
        self.log_term = bool(self.log_term)
        # The candidate set and its costs (independent of the SNR and the metric).
        self.candidates: SplitPoints = tab.points(tab.metric_names[0], 0.0, fitted=self.fitted,
                                                  visual_mcs=self.visual_mcs)
        self.costs = np.asarray(self.candidates.symbols_total, dtype=float)
        sent = self.candidates.prompt_sent
        self.allowed = {"optional": np.ones_like(sent), "always": sent,
                        "never": ~sent}[self.prompt].astype(bool)
        self.n_foreground, self.n_background, _ = tab.shape
        # delivery probabilities of the last distinct-SNR sets (the link model is the
        # expensive part with capacity="constellation"; the recheck asks for the same SNRs)
        self._probability_cache: dict[bytes, np.ndarray] = {}

    # -- what the methods use ---------------------------------------------------------------
    def sign(self, metric: str) -> float:
        """+1 for a higher-is-better metric, −1 otherwise (``sign · Q`` is a score to maximize)."""
        return 1.0 if self.table.higher_is_better(metric) else -1.0

    def candidate_quality(self, metric: str, snr_db: np.ndarray) -> np.ndarray:
        """``E[Q]`` of every candidate at each SNR, shape ``(n, P)``, in the metric's unit.

        The candidates of :meth:`SymbolSplitTable.points` (``E[Q]`` where the prompt is
        sent, ``Q(lost)`` where not), evaluated once per distinct SNR with the problem's
        prompt link model, then gathered.
        """
        snr = np.asarray(snr_db, dtype=float).ravel()
        unique, inverse = np.unique(snr, return_inverse=True)
        p = self.delivery_probability(unique)
        sent = self.table.expected_quality(metric, probability=p, fitted=self.fitted)  # (U, F, B)
        lost = self.table.quality(metric, "lost", fitted=self.fitted)
        cand = self.candidates
        fi, bj = cand.foreground_level, cand.background_level
        q = np.where(cand.prompt_sent, sent[:, fi, bj], lost[fi, bj])   # as SymbolSplitTable.points
        return np.asarray(q, dtype=float)[inverse.ravel()]

    def delivery_probability(self, snr_db: np.ndarray) -> np.ndarray:
        """Prompt delivery probability at ``snr_db`` (the table's prompt, the problem's link model).

        Evaluated once per distinct SNR; shaped like ``snr_db``.
        """
        snr = np.asarray(snr_db, dtype=float)
        unique, inverse = np.unique(snr, return_inverse=True)
        key = unique.tobytes()
        p = self._probability_cache.get(key)
        if p is None:
            p = np.asarray(self.table.delivery_probability(unique, capacity=self.capacity,
                                                           log_term=self.log_term), dtype=float)
            p = p.reshape(-1)
            if len(self._probability_cache) >= 8:
                self._probability_cache.pop(next(iter(self._probability_cache)))
            self._probability_cache[key] = p
        return p[inverse.ravel()].reshape(snr.shape)

    def index_to_levels(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate indices (-1: none) -> (foreground level, background level, prompt sent)."""
        index = np.asarray(index, dtype=int)
        none = index < 0
        safe = np.where(none, 0, index)
        fg = np.where(none, -1, self.candidates.foreground_level[safe])
        bg = np.where(none, -1, self.candidates.background_level[safe])
        sent = np.where(none, False, self.candidates.prompt_sent[safe])
        return fg.astype(int), bg.astype(int), sent.astype(bool)

    # -- input validation ---------------------------------------------------------------------
    def _parse_budget(self, budget: Any) -> np.ndarray:
        if budget is None:
            return np.asarray(np.inf)
        if isinstance(budget, Sequence) and not isinstance(budget, str) and any(
                isinstance(v, str) for v in np.ravel(np.asarray(budget, dtype=object))):
            obj = np.asarray(budget, dtype=object)
            out = np.empty(obj.shape)
            for index, item in np.ndenumerate(obj):
                out[index] = float(parse_symbols(item, "budget"))
            return out
        return np.asarray(parse_symbols(budget, "budget"), dtype=float)

    def _target_value(self, metric: str, value: Any, unit: str, text: Any) -> np.ndarray:
        expected = self.table.metrics[metric].unit
        if unit and unit != expected:
            raise ValueError(f"target: {metric} is in {expected or 'no unit'}, got {text!r}")
        arr = as_float_array(value, "target")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"target: the {metric} bound must be finite, got {text!r}")
        return arr

    def _parse_target(self, target: Any) -> tuple[str, np.ndarray | None]:
        """(metric, τ array or None)."""
        tab = self.table
        default = self.metric or tab.metric_names[0]
        if target is None:
            return default, None
        named: str | None = None
        op: str | None = None
        unit = ""
        if isinstance(target, str):
            match = _TARGET.match(target)
            if match is None:
                raise ValueError(f"target: cannot parse {target!r}; write e.g. 'psnr>=25', "
                                 "'25 dB' or 25.0 (one quality bound)")
            named = match.group("metric").lower() if match.group("metric") else None
            op, value, unit = match.group("op"), match.group("value"), match.group("unit")
        elif isinstance(target, Mapping):
            if len(target) != 1:
                raise ValueError(f"target: one metric bound expected, got {dict(target)!r}")
            (key, value), = target.items()
            named = str(key).lower()
        else:
            value = target
        if named is not None and named not in tab.metrics:
            raise ValueError(f"target: metric {named!r} is not in table {tab.name!r}; valid "
                             f"metrics: {', '.join(tab.metrics)}")
        if named is not None and self.metric is not None and named != self.metric:
            raise ValueError(f"target: names {named!r} but the problem's metric is "
                             f"{self.metric!r}")
        metric = named or default
        higher = tab.higher_is_better(metric)
        if op is not None:
            if op not in _FLOOR_OPS + _CEILING_OPS:
                raise ValueError(f"target: {target!r}: use '>=' for a floor or '<=' for a "
                                 f"ceiling (got {op!r})")
            if (higher and op in _CEILING_OPS) or (not higher and op in _FLOOR_OPS):
                kind = "floor (>=)" if higher else "ceiling (<=)"
                raise ValueError(f"target: {metric} is {'higher' if higher else 'lower'}-is-"
                                 f"better, so its target is a {kind}; got {target!r}")
        return metric, self._target_value(metric, value, unit, target)

    def parse(self, snr: Any, budget: Any, target: Any) -> SymbolSplitInputs:
        """Validate and broadcast ``(snr, budget, target)`` (see the class notes)."""
        snr_db = parse_snr_db(snr, "snr")
        caps = self._parse_budget(budget)
        metric, tau = self._parse_target(target)
        shapes = [snr_db.shape, caps.shape] + ([tau.shape] if tau is not None else [])
        try:
            batch_shape = np.broadcast_shapes(*shapes)
        except ValueError as exc:
            raise ValueError(f"snr, budget, target: batch shapes {shapes} do not broadcast") \
                from exc
        b = int(np.prod(batch_shape, dtype=int))

        def flat(arr: np.ndarray) -> np.ndarray:
            return np.broadcast_to(arr, batch_shape).reshape(b).astype(float)

        return SymbolSplitInputs(
            snr_db=flat(snr_db), budget_symbols=flat(caps),
            target=flat(tau) if tau is not None else np.full(b, np.nan), metric=metric,
            higher_is_better=self.table.higher_is_better(metric),
            mode=MODES[0] if tau is not None else MODES[1], batch_shape=batch_shape)

    # -- the recheck ---------------------------------------------------------------------------
    def recheck(self, inputs: SymbolSplitInputs, foreground_level: np.ndarray,
                background_level: np.ndarray, prompt_sent: np.ndarray) -> dict[str, np.ndarray]:
        """Recompute cost and quality of given levels from the table, independently of ``points``.

        Symbols from :meth:`SymbolSplitTable.symbols` (the table's cost function, the
        problem's visual MCS), the delivery probability from the table's prompt link at
        each row's SNR, ``E[Q]`` from :func:`semopt.link.gened.expected_quality` on the
        table's quality. Returns per-row arrays (NaN where the levels are invalid) and
        ``ok``: valid levels, finite values, within the budget, meeting the target and the
        prompt policy.
        """
        tab = self.table
        fg_l = np.asarray(foreground_level)
        bg_l = np.asarray(background_level)
        sent = np.asarray(prompt_sent)
        b = inputs.snr_db.size
        valid = (fg_l.shape == (b,) and bg_l.shape == (b,) and sent.shape == (b,)
                 and fg_l.dtype.kind in "iu" and bg_l.dtype.kind in "iu"
                 and sent.dtype.kind in "bi")
        if valid:
            valid_rows = (fg_l >= 0) & (fg_l < self.n_foreground) & (bg_l >= 0) \
                & (bg_l < self.n_background)
        else:
            valid_rows = np.zeros(b, dtype=bool)
            fg_l = bg_l = np.zeros(b, dtype=int)
            sent = np.zeros(b, dtype=bool)
        i = np.where(valid_rows, fg_l, 0).astype(int)
        j = np.where(valid_rows, bg_l, 0).astype(int)
        s = np.where(valid_rows, sent, False).astype(bool)
        sym = tab.symbols(self.visual_mcs)
        on_f = np.array([lv.sent for lv in tab.levels["foreground"]])[i]
        on_b = np.array([lv.sent for lv in tab.levels["background"]])[j]
        parts = {"prompt": np.where(s, sym.prompt, 0.0),
                 "foreground": np.asarray(sym.foreground, dtype=float)[i],
                 "background": np.asarray(sym.background, dtype=float)[j],
                 "side": np.where(on_f | on_b, sym.side, 0.0)}
        total = parts["prompt"] + parts["foreground"] + parts["background"] + parts["side"]
        p = self.delivery_probability(inputs.snr_db)
        q_d = tab.quality(inputs.metric, "delivered", fitted=self.fitted)[i, j]
        q_l = tab.quality(inputs.metric, "lost", fitted=self.fitted)[i, j]
        q = np.where(s, expected_quality(p, q_d, q_l), q_l)
        finite = np.isfinite(total) & np.isfinite(q)
        within = np.isinf(inputs.budget_symbols) | (
            total <= inputs.budget_symbols * (1.0 + BUDGET_RTOL))
        sign = self.sign(inputs.metric)
        tau = inputs.target
        slack = QUALITY_RTOL * np.maximum(1.0, np.abs(np.nan_to_num(tau)))
        meets = np.isnan(tau) | (sign * q >= sign * tau - slack)
        policy = {"optional": np.ones(b, dtype=bool), "always": s, "never": ~s}[self.prompt]
        ok = valid_rows & finite & within & meets & policy
        out = {key: np.where(valid_rows, v, np.nan) for key, v in parts.items()}
        out.update(total=np.where(valid_rows, total, np.nan), quality=np.where(valid_rows, q, np.nan),
                   quality_delivered=np.where(valid_rows, q_d, np.nan),
                   quality_lost=np.where(valid_rows, q_l, np.nan), probability=p, ok=ok,
                   valid=valid_rows, i=i, j=j, sent=s & valid_rows)
        return out

    def best_achievable(self, inputs: SymbolSplitInputs,
                        rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For ``rows``: the best ``E[Q]`` within the budget and the fewest symbols meeting the
        target without a cap (NaN where none), by enumerating every allowed candidate."""
        rows = np.asarray(rows, dtype=int)
        if rows.size == 0:
            return np.empty(0), np.empty(0)
        q = self.candidate_quality(inputs.metric, inputs.snr_db[rows])
        sign = self.sign(inputs.metric)
        within = self.allowed & (self.costs <= inputs.budget_symbols[rows, None])
        with np.errstate(invalid="ignore"):
            best = np.where(within, sign * q, -np.inf).max(axis=-1) * sign
        best = np.where(within.any(axis=-1), best, np.nan)
        tau = inputs.target[rows, None]
        meets = self.allowed & ~np.isnan(tau) & (sign * q >= sign * tau)
        needed = np.where(meets, self.costs, np.inf).min(axis=-1)
        return best, np.where(np.isfinite(needed), needed, np.nan)

    # -- the result ----------------------------------------------------------------------------
    def assemble(self, inputs: SymbolSplitInputs, solution: SymbolSplitSolution, *, method: str,
                 wall_time_s: float) -> Allocation:
        """Recheck every row against the table and build the :class:`Allocation`.

        A row is ``optimal`` only if the method returned valid levels whose symbols,
        recomputed with the table's cost function, fit the budget and whose ``E[Q]``,
        recomputed from the table and the delivery probability at the row's SNR, meets the
        target (within :data:`QUALITY_RTOL`) and the prompt policy. A row without a point
        is ``infeasible`` (the best achievable ``E[Q]`` within the budget and the symbols
        the target needs are reported), unless an exact method returned none although a
        feasible point exists; that, and a returned point that fails the recheck, is a
        ``numerical_error``. Rows that are not ``optimal`` carry no point (NaN fields).
        """
        b = inputs.snr_db.size
        chk = self.recheck(inputs, np.asarray(solution.foreground_level),
                           np.asarray(solution.background_level), np.asarray(solution.prompt_sent))
        ok = chk["ok"]
        returned = chk["valid"]
        refused = returned & ~ok
        bad = np.flatnonzero(~ok)
        best = np.full(b, np.nan)
        needed = np.full(b, np.nan)
        if bad.size:
            best[bad], needed[bad] = self.best_achievable(inputs, bad)
        if inputs.mode == MODES[0]:
            reachable = ~np.isnan(needed) & (needed <= inputs.budget_symbols)
        else:
            reachable = ~np.isnan(best)
        missed = ~ok & ~returned & reachable & bool(solution.exact)
        numerical = refused | missed
        status = np.where(ok, OPTIMAL, np.where(numerical, NUMERICAL_ERROR, INFEASIBLE))
        tab = self.table

        def keep(arr: np.ndarray) -> np.ndarray:
            return np.where(ok, arr, np.nan)

        quality = keep(chk["quality"])
        total = keep(chk["total"])
        objective = total if inputs.mode == MODES[0] else quality
        fg_names = np.array([lv.name for lv in tab.levels["foreground"]] + [""])
        bg_names = np.array([lv.name for lv in tab.levels["background"]] + [""])
        fg_steps = np.array([np.nan if lv.step is None else lv.step
                             for lv in tab.levels["foreground"]] + [np.nan])
        bg_steps = np.array([np.nan if lv.step is None else lv.step
                             for lv in tab.levels["background"]] + [np.nan])
        fi = np.where(ok, chk["i"], -1)
        bj = np.where(ok, chk["j"], -1)
        sent = ok & chk["sent"]
        bits_f = np.append(np.asarray(tab.bits["foreground"], dtype=float), np.nan)[fi]
        bits_b = np.append(np.asarray(tab.bits["background"], dtype=float), np.nan)[bj]
        any_on = ~np.isnan(fg_steps[fi]) | ~np.isnan(bg_steps[bj])
        shape = inputs.batch_shape

        def shaped(arr: Any) -> Any:
            out = np.asarray(arr).reshape(shape)
            return out.item() if out.ndim == 0 else out

        p = chk["probability"]
        error_rate = np.where(sent, 1.0 - p, np.nan)[:, None]
        extras: dict[str, Any] = {
            "symbols": {k: shaped(keep(chk[k])) for k in ("prompt", "foreground", "background",
                                                          "side")},
            "bits": {"prompt": shaped(np.where(ok, np.where(sent, tab.prompt_bits, 0.0), np.nan)),
                     "foreground": shaped(keep(bits_f)), "background": shaped(keep(bits_b)),
                     "side": shaped(np.where(ok, np.where(any_on, tab.side_bits, 0.0), np.nan))},
            "quality": {"expected": shaped(quality), "delivered": shaped(keep(chk["quality_delivered"])),
                        "lost": shaped(keep(chk["quality_lost"]))},
            "foreground_step": shaped(fg_steps[fi]), "background_step": shaped(bg_steps[bj]),
            "foreground_index": shaped(fi), "background_index": shaped(bj),
            "mode": inputs.mode, "metric": inputs.metric,
            "metric_unit": tab.metrics[inputs.metric].unit,
            "mcs": {"visual": self.visual_mcs.name, "prompt": tab.prompt_mcs.name},
            "link": {"capacity": self.capacity, "log_term": self.log_term,
                     "prompt_bits": tab.prompt_bits},
            "prompt_policy": self.prompt, "fitted": self.fitted, "table": tab.name,
            "editor": self._editor_note(),
        }
        batch_extras: dict[str, Any] = {
            "foreground_level": fg_names[fi], "background_level": bg_names[bj],
            "prompt_sent": sent, "total_symbols": total, "delivery_probability": p,
            "budget_symbols": inputs.budget_symbols, "target": inputs.target,
            "best_achievable": best, "symbols_needed": needed,
        }
        for key, value in dict(solution.info or {}).items():
            arr = np.asarray(value)
            if arr.shape[:1] == (b,):
                batch_extras[key] = arr
        message = self._message(inputs, ok, refused, missed, chk, best, needed, fg_names[fi],
                                bg_names[bj], method)
        nan_streams = np.full((b, 1), np.nan)
        return build_allocation(
            shape, method=method, problem=self.name, success=ok, status=status, message=message,
            power_w=nan_streams, error_rate=error_rate, perception=quality, objective=objective,
            iterations=solution.iterations, evaluations=solution.evaluations,
            wall_time_s=wall_time_s, extras=extras, batch_extras=batch_extras)

    def _editor_note(self) -> str:
        editor = self.table.provenance.get("editor")
        if isinstance(editor, Mapping):
            what = editor.get("what") or editor.get("editor")
            return str(what)
        return str(editor) if editor else "not recorded in the table's provenance"

    def _message(self, inputs: SymbolSplitInputs, ok: np.ndarray, refused: np.ndarray,
                 missed: np.ndarray, chk: Mapping[str, np.ndarray], best: np.ndarray,
                 needed: np.ndarray, fg_names: np.ndarray, bg_names: np.ndarray,
                 method: str) -> str:
        m = inputs.metric
        unit = self.table.metrics[m].unit
        u = f" {unit}" if unit else ""
        op = ">=" if inputs.higher_is_better else "<="
        fewest = inputs.mode == MODES[0]

        def q(v: float) -> str:
            return f"{v:.4g}{u}" if np.isfinite(v) else "none"

        def cap(v: float) -> str:
            return "no cap" if math.isinf(v) else f"{v:.6g} symbols"

        if ok.size == 1:
            snr, budget, tau = inputs.snr_db[0], inputs.budget_symbols[0], inputs.target[0]
            if ok[0]:
                point = (f"prompt {'sent' if chk['sent'][0] else 'not sent'} "
                         f"(p = {chk['probability'][0]:.4g}), foreground {fg_names[0]}, "
                         f"background {bg_names[0]}")
                head = f"{m} {op} {tau:g}{u} met" if fewest else f"best E[{m}]"
                return (f"{head} at {snr:g} dB with {chk['total'][0]:.6g} symbols (budget: "
                        f"{cap(budget)}): {point}; E[{m}] = {chk['quality'][0]:.6g}{u}")
            if refused[0]:
                return (f"numerical error at {snr:g} dB: the method's point fails the recheck "
                        f"against table {self.table.name!r} (budget, target or prompt policy "
                        "violated); no point returned")
            if missed[0]:
                return (f"numerical error at {snr:g} dB: the method returned no point although "
                        "a candidate meets the target within the budget")
            if np.isnan(best[0]):
                return (f"infeasible at {snr:g} dB: no candidate fits {cap(budget)} with prompt "
                        f"policy {self.prompt!r}; the cheapest costs "
                        f"{float(np.min(self.costs[self.allowed])):.6g} symbols")
            what = (f"{m} {op} {tau:g}{u} is not met by {method!r} within {cap(budget)}"
                    if fewest else f"{method!r} found no point within {cap(budget)}")
            need = ""
            if fewest and np.isfinite(needed[0]):
                need = (f"; the optimum meets it with {needed[0]:.6g} symbols"
                        if needed[0] <= budget else f"; meeting it needs {needed[0]:.6g} symbols")
            elif fewest:
                need = f"; no split of the table reaches it at {snr:g} dB"
            return (f"infeasible at {snr:g} dB: {what}; the best achievable E[{m}] within the "
                    f"budget is {q(best[0])}{need} (no point returned)")
        n_ok = int(np.count_nonzero(ok))
        goal = f"{m} {op} target" if fewest else f"best E[{m}]"
        msg = f"{n_ok} of {ok.size} realizations: {goal} within the budget (table {self.table.name!r})"
        rest = ~ok & ~refused & ~missed
        if np.any(rest):
            rows = np.flatnonzero(rest)
            finite = best[rows][np.isfinite(best[rows])]
            median = f"{np.median(finite):.4g}{u}" if finite.size else "none"
            msg += (f"; {rows.size} without a point (median best achievable E[{m}] within the "
                    f"budget: {median})")
        if np.any(refused | missed):
            msg += f"; {int(np.count_nonzero(refused | missed))} numerical errors (method output " \
                   "refused by the recheck)"
        return msg
