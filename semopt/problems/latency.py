"""The latency-aware semantic power split of Qiao et al. (2024): problem ``latency``.

A textual prompt (stream 0: CRC/ARQ, QPSK, rate-½ code) and ``I`` conditioning streams
(adaptive MQAM) are sent on orthogonal bands ``B_0, ..., B_I`` and share the transmit
power budget ``P_T``. Problem (5) of the paper, for any ``I ≥ 1``::

    minimize_{p_0..p_I}  max{ T_0(p_0), T_1(p_1, BER_1), ..., T_I(p_I, BER_I) }
    subject to           Σ_i p_i ≤ P_T,   p_i ≥ 0,   Φ_j(BER_1) ≥ ε_j  (j = 1..J)

with ``T_0 = A_0 exp(c/γ_0)`` (expected ARQ delay, eqs. 2–3), ``T_i = |v_i| /
(B_i log2(1 + K_i γ_i))`` (eq. 4, ``K_i = α/(−ln(β BER_i))``) and the per-stream SNR
``γ_i = γ̄ (p_i/P_T)(B_tot/B_i)``, where ``γ̄ = P_T E|h|²/(B_tot N_0)`` is the paper's
average SNR at the budget (:mod:`semopt.link.latency`). The quality floors ``ε_j`` are
turned into the BER target ``BER_1 = min_j Φ_j^{-1}(ε_j)`` through a ``quality-curve``
table (Lemma 1).

The three call arguments:

* ``snr`` — the average SNR in dB at the reference transmit power ``reference_power_w``
  (default: the budget, the paper's ``γ̄``); any shape is a batch of channel
  realizations, and every per-realization result has that shape.
* ``budget`` — the total transmit power ``P_T`` in W (``"10 mW"``, ``"10 dBm"``);
  scalar, or an array broadcasting with ``snr``; ``None`` means Table I's 10 mW.
* ``target`` — a BER of the conditioning streams (one value, or one per stream; the
  string ``"1e-5"`` or ``"1e-6,1e-4"``), or metric floors read through the quality
  curve: ``{"clip": 0.999, "ms-ssim": 0.99}`` or ``"clip>=0.999,ms-ssim>=0.99"``
  (``{"ber": 1e-6}`` / ``"ber<=1e-6"`` name a BER explicitly).

``objective`` and ``latency_s`` are the min-max latency ``max_i T_i`` in s, recomputed
from the returned powers with the link model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, NamedTuple

import numpy as np

from semopt.link import latency as link
from semopt.link.latency import DEFAULT_ORDERS, LatencyScenario
from semopt.options import Option
from semopt.problems.base import Problem
from semopt.problems.latency_math import CHUNK_ROWS
from semopt.registry import register_problem
from semopt.result import (
    INFEASIBLE,
    MAX_ITERATIONS,
    NUMERICAL_ERROR,
    OPTIMAL,
    OUTAGE,
    STATUS_DTYPE,
    STATUSES,
    Allocation,
    build_allocation,
)
from semopt.units import as_float_array, linear_to_db, parse_bandwidth, parse_power, parse_snr_db

__all__ = [
    "BUDGET_RTOL",
    "DEFAULT_BUDGET_W",
    "LATENCY_RTOL",
    "MODELS",
    "STATUS_CODE",
    "LatencyInputs",
    "LatencyProblem",
    "LatencySolution",
]

DEFAULT_BUDGET_W = 0.01
"""Budget used when ``budget`` is None: Table I's ``P_T = 10 mW``."""
BUDGET_RTOL = 1e-9
"""Relative tolerance of the budget recheck ``Σ p_i ≤ P_T``."""
LATENCY_RTOL = 1e-9
"""Relative tolerance between a method's own latency and the recomputed one."""
SNR_RTOL = 1e-12
"""Relative tolerance of the discrete recheck ``γ_i ≥`` the SNR an order needs."""
MODELS = ("continuous", "discrete", "single-stream")
"""How a solution's latency is recomputed: per-stream continuous MQAM rates, discrete
MQAM orders (``bits_per_symbol = log2 M_i``), or the semantic-unaware single stream."""
STATUS_CODE = {name: np.int8(i) for i, name in enumerate(STATUSES)}
"""Small-integer codes of the statuses (index into :data:`semopt.result.STATUSES`)."""
_STATUS_TABLE = np.array(STATUSES, dtype=STATUS_DTYPE)
_LN10_DB = math.log(10.0) / 10.0


# --------------------------------------------------------------------------------------
# Parsed inputs and what a method returns
# --------------------------------------------------------------------------------------
class LatencyInputs(NamedTuple):
    """Validated call data, flattened to B = prod(batch_shape) rows.

    ``gbar`` (B,): linear average SNR **at the budget** (the user's SNR rescaled from
    the reference power); ``budget_w`` (B,); ``ber`` (I,): the BER target of each
    conditioning stream (zeros when a metric floor cannot be met, see ``reachable``);
    ``gap`` (I,): ``K_i = α/(−ln(β BER_i))``; ``thresholds``: the metric floors (or
    None); ``binding_metric``: the metric whose floor sets the BER (or None); ``note``:
    the target in words; ``batch_shape`` of the call.
    """

    gbar: np.ndarray
    budget_w: np.ndarray
    ber: np.ndarray
    gap: np.ndarray
    reachable: bool
    thresholds: dict[str, float] | None
    binding_metric: str | None
    note: str
    batch_shape: tuple[int, ...]


class LatencySolution(NamedTuple):
    """What a latency method returns for B rows.

    Attributes
    ----------
    fractions : ndarray, shape (B, 1+I)
        Power fractions ``p_i/P_T`` (prompt first); NaN rows: no allocation.
    status_code : ndarray of int8, shape (B,)
        The method's own verdict per row (:data:`STATUS_CODE`): optimal, outage,
        infeasible, max_iterations or numerical_error. The problem rechecks it.
    model : str
        One of :data:`MODELS`.
    latency_s : ndarray (B,), optional
        The method's own latency; the recomputed one must agree to :data:`LATENCY_RTOL`
        (NaN: no claim for that row).
    bandwidth_hz : ndarray (B, 1+I), optional
        Per-row bandwidths (default: the scenario's).
    bits_per_symbol : ndarray (B, I), optional
        ``log2 M_i`` of the chosen orders (``discrete``), or the single stream's bits per
        symbol (``single-stream``); 0 where no order is used.
    single_stream_ber : float, optional
        BER of the single stream (``single-stream`` model).
    iterations, evaluations : int
        As defined by :class:`semopt.result.Allocation`.
    message : str
        What the method did (first part of the result's message).
    batch_extras : mapping, optional
        Extra per-row arrays (leading axis B) for ``Allocation.extras``.
    """

    fractions: np.ndarray
    status_code: np.ndarray
    model: str = "continuous"
    latency_s: np.ndarray | None = None
    bandwidth_hz: np.ndarray | None = None
    bits_per_symbol: np.ndarray | None = None
    single_stream_ber: float | None = None
    iterations: int = 0
    evaluations: int = 0
    message: str = ""
    batch_extras: Mapping[str, np.ndarray] | None = None


# --------------------------------------------------------------------------------------
# Option parsers (strict: bools refused, ValueError naming the option)
# --------------------------------------------------------------------------------------
def _number(value: Any, name: str) -> float:
    arr = as_float_array(value, name)
    if arr.ndim != 0 or not np.isfinite(arr):
        raise ValueError(f"{name}: expected one finite number, got {value!r}")
    return float(arr)


def _integer(value: Any, name: str) -> int:
    number = _number(value, name)
    if number != int(number) or number < 0 or number > 2**53:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    return int(number)


def _integers(value: Any, name: str) -> tuple[int, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    arr = np.atleast_1d(as_float_array(value, name))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty list of integers, got {value!r}")
    return tuple(_integer(v, name) for v in arr)


def _bandwidths(value: Any, name: str) -> tuple[float, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if not items:
        raise ValueError(f"{name}: give at least one bandwidth")
    return tuple(float(parse_bandwidth(v, name)) for v in items)


def _reference_power(value: Any, name: str) -> float:
    return float(parse_power(value, name))


def _defaults() -> dict[str, Any]:
    return {f.name: f.default for f in fields(LatencyScenario)}


_D = _defaults()


def _option(name: str, help_text: str, kind: str, parse: Any, unit: str | None = None) -> Option:
    return Option(_D[name], help_text, unit=unit, kind=kind, parse=parse)


# --------------------------------------------------------------------------------------
# The problem
# --------------------------------------------------------------------------------------
@register_problem
class LatencyProblem(Problem):
    """Min-max latency of a prompt (ARQ) and conditioning streams (adaptive MQAM).

    Parameters
    ----------
    table : str, path or QualityCurve, optional
        Quality curve that maps metric floors to a BER (default
        ``"qiao2024-table2-quality"``, loaded on first use).
    prompt_bits, stream_bits, bandwidth_hz, packet_bits, code_rate, prompt_order, k, b, \
alpha, beta, orders
        Scenario constants (Table I defaults; see
        :class:`semopt.link.latency.LatencyScenario`).
    reference_power_w : float or str, optional
        Transmit power at which ``snr`` is measured (default: the budget). With it
        given, ``γ̄`` at the budget is ``γ̄_ref · P_T / reference_power_w``: a fixed
        channel, on which a larger budget gives a lower latency.

    Notes
    -----
    See the module docstring for the problem and the meaning of ``snr``, ``budget``
    and ``target``. Every returned row is rechecked (:meth:`assemble`).
    """

    name = "latency"
    description = ("min max latency of a prompt (ARQ) and conditioning streams (adaptive "
                   "MQAM) under a power budget and a BER or quality target (Qiao et al. 2024)")
    default_method = "lemma1"
    table_kinds = ("quality-curve",)
    default_table = "qiao2024-table2-quality"
    snr = ("average SNR γ̄ = P E|h|²/(B_tot N_0) in dB at reference_power_w (default: the "
           "budget); any shape = a batch")
    budget = "total transmit power P_T in W ('10 mW', '10 dBm'; None: Table I's 10 mW)"
    target = ("BER of the conditioning stream(s) (one, or one per stream), or metric floors "
              "{'clip': 0.999} / 'clip>=0.999,ms-ssim>=0.99' read through the quality curve")
    objective = "min-max latency max_i T_i in s"
    stream_axis = False
    options = {
        "prompt_bits": _option("prompt_bits", "|v_0|: prompt payload", "int", _integer, "bit"),
        "stream_bits": _option("stream_bits", "|v_i| per conditioning stream "
                               "(comma-separated)", "ints", _integers, "bit"),
        "bandwidth_hz": _option("bandwidth_hz", "bandwidths B_0..B_I, prompt first; one "
                                "value for every stream ('1MHz' accepted)", "bandwidths",
                                _bandwidths, "Hz"),
        "packet_bits": _option("packet_bits", "packet length L of the prompt (default "
                               "|v_0|)", "int", _integer, "bit"),
        "code_rate": _option("code_rate", "prompt code rate r", "float", _number),
        "prompt_order": _option("prompt_order", "prompt modulation order M_0", "int",
                                _integer),
        "k": _option("k", "PER fit k of eq. (2)", "float", _number),
        "b": _option("b", "PER fit b of eq. (2)", "float", _number),
        "alpha": _option("alpha", "α of the MQAM rate, eq. (4)", "float", _number),
        "beta": _option("beta", "β of the MQAM rate, eq. (4)", "float", _number),
        "orders": Option(DEFAULT_ORDERS, "MQAM orders of discrete adaptation and of the "
                         "discrete unaware stream", kind="ints", parse=_integers),
        "reference_power_w": Option(None, "transmit power at which snr is measured "
                                    "(default: the budget)", unit="W", kind="power",
                                    parse=_reference_power),
    }

    def __init__(self, *, table: Any = None, **options: Any) -> None:
        super().__init__(table=table, **options)
        constants = {f.name: self.config[f.name] for f in fields(LatencyScenario)}
        self.scenario = LatencyScenario(**constants)
        sc = self.scenario
        self.n_streams = sc.n_streams
        self.bits = np.asarray(sc.stream_bits, dtype=float)
        self.bandwidth = np.asarray(sc.bandwidth_hz, dtype=float)
        self.bandwidth_fraction = sc.bandwidth_fraction
        self.prompt_base_s = float(link.prompt_base_latency_s(
            sc.prompt_bits, sc.bandwidth_hz[0], sc.code_rate, sc.prompt_order))

    # -- input validation --------------------------------------------------------------
    def parse(self, snr: Any, budget: Any, target: Any) -> LatencyInputs:
        """Validate ``(snr, budget, target)`` (see the module docstring).

        Raises ``ValueError`` naming the argument: SNRs outside
        :data:`semopt.units.SNR_DB_RANGE`, budgets outside the plausible power range,
        BERs outside ``(0, min(0.5, 1/β))``, unknown metrics, or an SNR whose value at
        the budget overflows.
        """
        snr_db = parse_snr_db(snr, "snr")
        budget = DEFAULT_BUDGET_W if budget is None else budget
        budget_w = np.asarray(parse_power(budget, "budget"), dtype=float)
        try:
            batch_shape = np.broadcast_shapes(snr_db.shape, budget_w.shape)
        except ValueError as exc:
            raise ValueError(f"snr, budget: shapes {snr_db.shape} and {budget_w.shape} do not "
                             "broadcast") from exc
        ber, thresholds, binding, note, reachable = self._parse_target(target)
        with np.errstate(over="ignore"):
            gbar = np.exp(snr_db * _LN10_DB)
            if self.reference_power_w is not None:
                gbar = gbar * (budget_w / self.reference_power_w)
        if not (np.all(np.isfinite(gbar)) and np.all(gbar > 0)):
            raise ValueError("snr: the average SNR rescaled to the budget overflows or "
                             "underflows a float; check snr, budget and reference_power_w")
        b = int(np.prod(batch_shape, dtype=int))
        if gbar.shape != batch_shape:
            gbar = np.broadcast_to(gbar, batch_shape)
        gap = link.mqam_gap(ber, self.scenario.alpha, self.scenario.beta) if reachable \
            else np.zeros(self.n_streams)
        return LatencyInputs(np.ascontiguousarray(gbar, dtype=float).reshape(b),
                             np.broadcast_to(budget_w, batch_shape).reshape(b), ber, gap,
                             reachable, thresholds, binding, note, batch_shape)

    def _parse_target(self, target: Any) -> tuple[np.ndarray, dict[str, float] | None,
                                                  str | None, str, bool]:
        """``(ber (I,), thresholds, binding metric, note, reachable)``."""
        n = self.n_streams
        spec: dict[str, Any] | None = None
        if isinstance(target, Mapping):
            spec = {str(k).strip().lower(): v for k, v in target.items()}
        elif isinstance(target, str):
            parts = [p.strip() for p in target.split(",") if p.strip()]
            if not parts:
                raise ValueError("target: empty string; give a BER or metric floors")
            if any(_FLOOR.match(p) for p in parts):
                spec = {}
                for part in parts:
                    match = _FLOOR.match(part)
                    if match is None:
                        raise ValueError(f"target: cannot mix BERs and metric floors in "
                                         f"{target!r}")
                    key, op, value = match.group(1).lower(), match.group(2), match.group(3)
                    if key == "ber" and op not in ("<=", "≤", "="):
                        raise ValueError(f"target: write a BER cap as 'ber<=1e-6', got {part!r}")
                    if key != "ber" and op not in (">=", "≥", "="):
                        raise ValueError(f"target: write a metric floor as '{key}>=VALUE', "
                                         f"got {part!r}")
                    spec[key] = value
            else:
                target = parts if len(parts) > 1 else parts[0]
        if spec is not None:
            if not spec:
                raise ValueError("target: give a BER or at least one metric floor")
            if "ber" in spec:
                if len(spec) > 1:
                    raise ValueError("target: give either 'ber' or metric floors, not both")
                target = spec["ber"]
            else:
                return self._metric_target(spec)
        ber = np.atleast_1d(as_float_array(target, "target"))
        if ber.ndim != 1 or ber.size not in (1, n):
            raise ValueError(f"target: expected one BER or {n} (one per conditioning stream), "
                             f"got shape {np.shape(target)}")
        limit = self.scenario.max_ber
        if not np.all(np.isfinite(ber)) or np.any(ber <= 0) or np.any(ber >= limit):
            raise ValueError(f"target: a BER must lie in (0, {limit:g}) (eq. (4) needs "
                             f"β·BER < 1 with β = {self.scenario.beta:g}, and BER < 0.5); "
                             f"got {target!r}")
        ber = np.broadcast_to(ber, (n,)).copy()
        note = "BER " + ", ".join(f"{v:.4g}" for v in ber)
        return ber, None, None, note, True

    def _metric_target(self, spec: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, float],
                                                               str | None, str, bool]:
        table = self.table
        thresholds = {k: _number(v, f"target[{k!r}]") for k, v in spec.items()}
        inverse = {k: float(table.inverse(k, v)) for k, v in thresholds.items()}
        binding = min(inverse, key=inverse.__getitem__)
        ber = inverse[binding]
        floors = ", ".join(f"{k} ≥ {v:g}" for k, v in thresholds.items())
        if ber <= 0:
            return np.zeros(self.n_streams), thresholds, binding, floors, False
        if ber >= self.scenario.max_ber:
            raise ValueError(f"target: the quality curve maps {floors} to BER {ber:g}, outside "
                             f"the MQAM model's range (0, {self.scenario.max_ber:g})")
        note = f"BER {ber:.4g} from {floors}"
        return np.full(self.n_streams, ber), thresholds, binding, note, True

    # -- the link model --------------------------------------------------------------------
    def stream_latencies(self, inputs: LatencyInputs, fractions: np.ndarray,
                         bandwidth_hz: np.ndarray | None = None) -> np.ndarray:
        """``(T_0, T_1, ..., T_I)`` in s of power fractions with continuous MQAM (B, 1+I).

        Computed with :mod:`semopt.link.latency` from ``γ_i = γ̄ x_i / w_i``; a zero-bit
        stream has latency 0.
        """
        x = np.asfortranarray(fractions, dtype=float)
        bw = self.bandwidth if bandwidth_hz is None else np.asfortranarray(bandwidth_hz, float)
        out = _Recheck(x.shape[0], self.n_streams)
        solution = LatencySolution(x, np.zeros(x.shape[0], np.int8), "continuous")
        for sl in _chunks(x.shape[0]):
            self._recheck_rows(inputs, solution, x, bw, sl, out)
        return out.stream_t

    def continuous_optimum(self, inputs: LatencyInputs, rows: np.ndarray) -> np.ndarray:
        """Latency (s) of the continuous-MQAM optimum at the scenario's bandwidths, for ``rows``.

        Used to report the best achievable value when a method's answer is refused.
        """
        from semopt.problems.latency_math import EqualLatencyTerms, solve_equal_latency

        terms = EqualLatencyTerms(self.scenario, inputs.gap)
        root = solve_equal_latency(inputs.gbar[rows], terms)
        return np.where(root.converged, terms.latency_s(root.u), np.nan)

    def unreachable(self, inputs: LatencyInputs) -> LatencySolution:
        """The solution of every row when a metric floor exceeds the quality curve."""
        b = inputs.gbar.size
        return LatencySolution(np.full((b, 1 + self.n_streams), np.nan),
                               np.full(b, STATUS_CODE[INFEASIBLE]),
                               message="no BER meets the quality target")

    # -- result ------------------------------------------------------------------------------
    def assemble(self, inputs: LatencyInputs, solution: LatencySolution, *, method: str,
                 wall_time_s: float) -> Allocation:
        """Recheck every row with the link model and build the :class:`Allocation`.

        A row is ``optimal`` only if the method says so and its power fractions are
        finite and non-negative with ``Σ p_i ≤ P_T (1 + 1e-9)``, its bandwidths (if it
        chose them) are positive and within ``B_tot``, its discrete orders are supported
        by the SNRs they get, and the latency recomputed from the powers with the link
        model is finite and agrees with the method's own value. Rows failing the recheck
        become ``numerical_error`` (the message gives the continuous-MQAM optimum);
        rows whose latency overflows a float become ``infeasible``. The recheck runs in
        blocks of rows so that its temporaries stay small.
        """
        n = self.n_streams
        x = np.asfortranarray(solution.fractions, dtype=float)
        code = np.asarray(solution.status_code, dtype=np.int8)
        b = x.shape[0]
        bw = self.bandwidth if solution.bandwidth_hz is None \
            else np.asfortranarray(solution.bandwidth_hz, dtype=float)
        out = _Recheck(b, n)
        for sl in _chunks(b):
            self._recheck_rows(inputs, solution, x, bw, sl, out)
        sane, latency = out.sane, out.latency
        finite_latency = np.isfinite(latency)
        proposed_opt = code == STATUS_CODE[OPTIMAL]
        ok = proposed_opt & sane & finite_latency
        all_ok = bool(ok.all())
        defined = ok
        power, stream_t, bps, snr_db = out.power, out.stream_t, out.bps, out.snr_db
        per, expected, share = out.per, out.expected, out.share
        if not all_ok:
            refused = (proposed_opt | (code == STATUS_CODE[MAX_ITERATIONS])) & ~sane
            code = code.copy()
            code[refused] = STATUS_CODE[NUMERICAL_ERROR]
            code[proposed_opt & sane & ~finite_latency] = STATUS_CODE[INFEASIBLE]
            maxit = code == STATUS_CODE[MAX_ITERATIONS]
            drop = ~((ok | maxit | (code == STATUS_CODE[INFEASIBLE])) & sane)
            if drop.any():
                for arr in (power, stream_t, snr_db, latency, share):
                    arr[drop] = np.nan
                bps[drop] = 0.0
            defined = ok | maxit
            undefined = ~defined
            per[undefined] = np.nan
            expected[undefined] = np.nan
        single_ber = min(solution.single_stream_ber or 1.0, float(np.min(inputs.ber)))
        target_ber = inputs.ber.copy() if solution.model != "single-stream" \
            else np.full(n, single_ber)
        error_rate = np.empty((b, 1 + n), order="F")
        error_rate[:, 0] = per
        error_rate[:, 1:] = target_ber
        if not all_ok:
            error_rate[~defined] = np.nan
        perception = np.full(b, np.nan)
        quality = None
        if inputs.thresholds is not None and inputs.reachable:
            table = self.table
            ber_q = min(float(inputs.ber[0]), float(table.ber[-1]))
            quality = {k: float(table.value(k, ber_q)) for k in inputs.thresholds}
            perception[defined] = quality[inputs.binding_metric]
        extras: dict[str, Any] = {"target_ber": target_ber, "model": solution.model}
        if quality is not None:
            extras["quality"] = quality
        if inputs.thresholds is not None:
            extras["thresholds"] = dict(inputs.thresholds)
        batch_extras: dict[str, Any] = {
            "bits_per_symbol": bps,
            "expected_transmissions": expected,
            "share_prompt": share,
            "stream_latency_s": stream_t,
            "stream_snr_db": snr_db,
            "bandwidth_hz": np.broadcast_to(bw, (b, 1 + n)),
            "average_snr_db": linear_to_db(inputs.gbar),
        }
        batch_extras.update(solution.batch_extras or {})
        return build_allocation(
            inputs.batch_shape, method=method, problem=self.name, success=ok,
            status=_STATUS_TABLE.take(code),
            message=self._message(inputs, solution, code, ok, latency, wall_time_s),
            power_w=power, error_rate=error_rate, perception=perception, objective=latency,
            latency_s=latency, iterations=solution.iterations,
            evaluations=solution.evaluations, wall_time_s=wall_time_s, extras=extras,
            batch_extras=batch_extras)

    def _recheck_rows(self, inputs: LatencyInputs, solution: LatencySolution, x: np.ndarray,
                      bw: np.ndarray, sl: slice, out: _Recheck) -> None:
        """Recheck rows ``sl`` with :mod:`semopt.link.latency`; write into ``out``."""
        sc = self.scenario
        n = self.n_streams
        xs = x[sl]
        g = inputs.gbar[sl]
        bws = bw[sl] if bw.ndim == 2 else bw
        ws = bws / bws.sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            sane = np.isfinite(xs).all(axis=-1)
            sane &= (xs >= 0.0).all(axis=-1)
            total = xs.sum(axis=-1)
            sane &= total <= 1.0 + BUDGET_RTOL
            if bw.ndim == 2 or solution.bandwidth_hz is not None:
                sane &= np.all(np.isfinite(bws) & (bws > 0.0), axis=-1)
                sane &= bws.sum(axis=-1) <= sc.total_bandwidth_hz * (1.0 + BUDGET_RTOL)
            np.multiply(xs, inputs.budget_w[sl, None], out=out.power[sl])
            np.divide(xs[:, 0], total, out=out.share[sl])
            st = out.stream_t[sl]
            bps = out.bps[sl]
            snr0 = g * xs[:, 0] / ws[..., 0]
            out.snr_db[sl, 0] = linear_to_db(snr0)
            model = solution.model
            given = None
            if model == "single-stream":
                ber = min(solution.single_stream_ber or 1.0, float(np.min(inputs.ber)))
                gap = float(link.mqam_gap(ber, sc.alpha, sc.beta))
                bps[:] = np.asarray(solution.bits_per_symbol, dtype=float)[sl]
                snr = g * total                            # all power, whole band
                sane &= bps[:, 0] <= np.log2(1.0 + gap * snr) * (1.0 + SNR_RTOL)
                total_bits = sc.prompt_bits + float(self.bits.sum())
                st[:] = (total_bits / (sc.total_bandwidth_hz * bps[:, 0]))[:, None]
                out.per[sl] = -math.expm1(sc.prompt_bits * math.log1p(-ber))
                out.expected[sl] = 1.0
            else:
                expected = link.prompt_expected_transmissions(snr0, sc.packet, sc.k, sc.b)
                out.expected[sl] = expected
                out.per[sl] = 1.0 - 1.0 / expected
                np.multiply(link.prompt_base_latency_s(sc.prompt_bits, bws[..., 0],
                                                       sc.code_rate, sc.prompt_order),
                            expected, out=st[:, 0])
                given = None if model == "continuous" \
                    else np.asarray(solution.bits_per_symbol, dtype=float)[sl]
                if model not in ("continuous", "discrete"):
                    raise ValueError(f"model: expected one of {MODELS}, got {model!r}")
            for i in range(n):
                snr_i = g * xs[:, 1 + i] / ws[..., 1 + i]
                out.snr_db[sl, 1 + i] = linear_to_db(snr_i)
                if model == "single-stream":
                    continue
                if given is None:
                    bps[:, i] = link.mqam_rate_bps(snr_i, inputs.ber[i], 1.0, alpha=sc.alpha,
                                                   beta=sc.beta)
                else:
                    bps[:, i] = given[:, i]
                    if self.bits[i] > 0:
                        need = link.mqam_required_snr(np.exp2(given[:, i]), inputs.ber[i],
                                                      sc.alpha, sc.beta)
                        sane &= (given[:, i] >= 1.0) & (snr_i >= need * (1.0 - SNR_RTOL))
                if self.bits[i] == 0:
                    st[:, 1 + i] = 0.0
                else:
                    np.divide(self.bits[i], bws[..., 1 + i] * bps[:, i], out=st[:, 1 + i])
            latency = st.max(axis=-1)
            if solution.latency_s is not None:
                claimed = np.asarray(solution.latency_s, dtype=float)[sl]
                agree = np.abs(latency - claimed) <= LATENCY_RTOL * claimed
                if not agree.all():
                    agree |= (np.isinf(latency) & np.isinf(claimed)) | np.isnan(claimed)
                sane &= agree
            sane &= ~np.isnan(latency)
        out.latency[sl] = latency
        out.sane[sl] = sane

    def _message(self, inputs: LatencyInputs, solution: LatencySolution, code: np.ndarray,
                 ok: np.ndarray, latency: np.ndarray, wall_time_s: float) -> str:
        head = f"{solution.message}; target {inputs.note}" if solution.message \
            else f"target {inputs.note}"
        if not inputs.reachable:
            table = self.table
            best = ", ".join(f"{k} ≤ {table.best(k):g} (asked {v:g})"
                             for k, v in (inputs.thresholds or {}).items() if table.best(k) < v)
            return f"infeasible: no BER meets the quality target; best achievable {best}"
        counts = {name: int(np.count_nonzero(code == STATUS_CODE[name]))
                  for name in (OPTIMAL, OUTAGE, INFEASIBLE, MAX_ITERATIONS, NUMERICAL_ERROR)}
        refused = np.flatnonzero(code == STATUS_CODE[NUMERICAL_ERROR])
        extra = ""
        if refused.size:
            best = self.continuous_optimum(inputs, refused[:1])
            extra = (f"; {refused.size} numerical_error row(s) (a solver failure, or "
                     "non-finite, over-budget or inconsistent values refused by the recheck), "
                     f"e.g. row {refused[0]}: the continuous-MQAM optimum at the scenario's "
                     f"bandwidths is {float(best[0]):.6g} s")
        if counts[INFEASIBLE]:
            extra += (f"; {counts[INFEASIBLE]} row(s) with a latency beyond the float range "
                      "(> 1.8e308 s) at the lowest SNRs")
        if counts[MAX_ITERATIONS]:
            extra += f"; {counts[MAX_ITERATIONS]} row(s) stopped at the iteration cap"
        if ok.size == 1:
            if ok[0]:
                return f"{head}: latency {latency[0]:.6g} s"
            return f"{head}: {STATUSES[int(code[0])]}{extra}"
        parts = [f"{v} {k}" for k, v in counts.items() if v]
        return f"{head}: {', '.join(parts)} of {ok.size} realizations{extra}"


class _Recheck:
    """Output arrays of the blockwise recheck (column-major where per stream)."""

    def __init__(self, rows: int, n: int) -> None:
        self.sane = np.empty(rows, dtype=bool)
        self.latency = np.empty(rows)
        self.power = np.empty((rows, 1 + n), order="F")
        self.stream_t = np.empty((rows, 1 + n), order="F")
        self.snr_db = np.empty((rows, 1 + n), order="F")
        self.bps = np.empty((rows, n), order="F")
        self.expected = np.empty(rows)
        self.per = np.empty(rows)
        self.share = np.empty(rows)


def _chunks(rows: int) -> list[slice]:
    step = CHUNK_ROWS
    return [slice(k, min(k + step, rows)) for k in range(0, rows, step)] or [slice(0, 0)]


_FLOOR = re.compile(r"^\s*([A-Za-z][\w\-]*)\s*(>=|≥|<=|≤|=)\s*(\S+)\s*$")
