"""Latency-aware semantic power split (Qiao et al. 2024): problem ``latency``.

A textual prompt (CRC/ARQ, QPSK, rate-½ code) and ``I`` conditioning streams (adaptive
MQAM) share a power budget ``P_T`` over orthogonal bands ``B_0, ..., B_I``. Problem (5)::

    minimize_{p_0..p_I}  max{ T_0(p_0), T_1(p_1, BER_1), ..., T_I(p_I, BER_I) }
    subject to           Σ_i p_i ≤ P_T,   Φ_j(BER_1) ≥ ε_j  (j = 1..J)

with ``T_0 = A_0 exp(c/γ_0)``, ``T_i = |v_i| / (B_i log2(1 + K_i γ_i))``,
``γ_i = γ̄ (p_i/P_T)(B_tot/B_i)`` (see :mod:`semopt.link.latency`). Every ``T_i`` is
convex and decreasing in ``p_i``, so the problem is convex; at the optimum the budget
is spent and all latencies are equal (Lemma 1). The least power that gives latency
``T`` is closed-form per stream::

    p_0(T)/P_T = (B_0/B_tot) · c / (γ̄ ln(T/A_0)),
    p_i(T)/P_T = (B_i/B_tot) · (2^{|v_i|/(B_i T)} − 1) / (K_i γ̄),

so the optimum is the root of ``Σ_i p_i(T) = P_T``, decreasing in ``T``.

Arguments shared by every method (DESIGN §3):

* ``snr`` — the paper's average SNR ``γ̄ = P_T E|h|²/(B_tot N_0)`` in dB; any shape (a
  batch of channel realizations). With ``reference_power_w`` set, ``snr`` is the
  average SNR at that reference power and the budget scales it (fixed channel).
* ``budget`` — total transmit power ``P_T`` (W, or ``"10 mW"``, ``"10 dBm"``).
* ``target`` — the BER of the conditioning stream(s) (a float, or one per stream), or
  metric thresholds ``{"clip": 0.999, "ms-ssim": 0.991}`` read through a
  ``quality-curve`` table (generalized inverse, Lemma 1), or ``{"ber": 1e-6}``.

Methods: ``lemma1`` (default, safeguarded Newton on the root, vectorized),
``bisection`` (bisection on ``T``, vectorized), ``discrete`` (M-QAM order adaptation,
Table II), ``unaware`` (single-stream benchmark), ``cvxpy`` (convex cross-check),
``joint-bandwidth`` (bandwidths and powers, exact convex reformulation in cvxpy;
``formulation="dqcp"`` runs cvxpy's quasi-convex bisection instead).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import numpy as np

from semopt.link.latency import (
    LN2,
    LatencyScenario,
    mqam_gap,
    mqam_snr_for_latency,
    prompt_snr_for_latency,
)
from semopt.registry import ProblemSpec, register_allocator, register_problem
from semopt.result import INFEASIBLE, OPTIMAL, OUTAGE, Allocation, SolverError
from semopt.units import linear_to_db, parse_power

__all__ = [
    "METHODS",
    "BisectionAllocator",
    "CvxpyAllocator",
    "DiscreteAllocator",
    "JointBandwidthAllocator",
    "LatencyAllocatorBase",
    "Lemma1Allocator",
    "UnawareAllocator",
    "solve_equal_latency",
]

PROBLEM = "latency"
DEFAULT_TABLE = "qiao2024-table2-quality"

register_problem(ProblemSpec(
    name=PROBLEM, default_method="lemma1",
    description="min max latency of a prompt (ARQ) and conditioning streams (adaptive "
                "MQAM) under a power budget and a quality/BER target (Qiao et al. 2024)",
    table_kinds=("quality-curve",)))

_SCENARIO_FIELDS = {f.name for f in fields(LatencyScenario)}


# --------------------------------------------------------------------------------------
# Root of Σ_i p_i(T) = P_T in log space (shared by lemma1 / bisection / joint polish)
# --------------------------------------------------------------------------------------
def _log_expm1(y: np.ndarray) -> np.ndarray:
    """``log(expm1(y))`` for ``y ≥ 0`` without overflow (``−inf`` at 0)."""
    with np.errstate(divide="ignore", over="ignore"):
        big = y > 30.0
        return np.where(big, y + np.log1p(-np.exp(-np.where(big, y, 30.0))),
                        np.log(np.expm1(np.where(big, 1.0, y))))


class _Terms:
    """Terms of ``F(u) = Σ_i w_i s_i(T)`` with ``u = ln(T/A_0)`` (all vectorized).

    ``w`` are bandwidth fractions ``B_i/B_tot`` (prompt first, shape (..., 1+I)),
    ``s_i`` the least SNR of stream ``i`` for latency ``T``.
    """

    def __init__(self, scenario: LatencyScenario, gap: np.ndarray,
                 bandwidth_hz: np.ndarray) -> None:
        bw = np.asarray(bandwidth_hz, dtype=float)              # (..., 1+I)
        total = bw.sum(axis=-1, keepdims=True)
        self.w = bw / total
        self.c0 = scenario.prompt_c
        self.a0 = scenario.prompt_bits / (scenario.code_rate * np.log2(scenario.prompt_order)
                                          * bw[..., 0])          # A_0 (s)
        bits = np.asarray(scenario.stream_bits, dtype=float)
        self.a = LN2 * bits / (bw[..., 1:] * self.a0[..., None])  # (..., I)
        self.gap = np.asarray(gap, dtype=float)                   # K_i, (I,)
        with np.errstate(divide="ignore"):
            self.log_w0c0 = np.log(self.w[..., 0] * self.c0)
            self.log_wk = np.log(self.w[..., 1:] / self.gap)
            self.log_a = np.log(self.a)

    def log_f(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``ln F(u)`` and its derivative in ``u``."""
        u_ = u[..., None]
        y = self.a * np.exp(-u_)
        log_terms = np.concatenate([(self.log_w0c0 - np.log(u))[..., None],
                                    self.log_wk + _log_expm1(y)], axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            dy = np.where(y > 0, y / -np.expm1(-np.where(y > 0, y, 1.0)), 1.0)
        dlog = np.concatenate([(-1.0 / u)[..., None], -dy], axis=-1)
        peak = np.max(log_terms, axis=-1, keepdims=True)
        weights = np.exp(log_terms - peak)
        total = weights.sum(axis=-1)
        return peak[..., 0] + np.log(total), (weights * dlog).sum(axis=-1) / total

    def bracket(self, gbar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[u_lo, u_hi]`` around the root of ``F(u) = γ̄`` (closed form)."""
        n = 1 + self.a.shape[-1]
        with np.errstate(divide="ignore"):
            lo0 = self.w[..., 0] * self.c0 / gbar
            hi0 = n * lo0
            g = gbar[..., None]
            lo_i = self.log_a - np.log(np.log1p(self.gap * g / self.w[..., 1:]))
            hi_i = self.log_a - np.log(np.log1p(self.gap * g / (n * self.w[..., 1:])))
        lo = np.maximum(lo0, np.max(lo_i, axis=-1, initial=-np.inf))
        hi = np.maximum(hi0, np.max(hi_i, axis=-1, initial=-np.inf))
        return lo, np.maximum(hi, lo)

    def fractions(self, u: np.ndarray, gbar: np.ndarray) -> np.ndarray:
        """Power fractions ``p_i/P_T`` (prompt first) that give latency ``A_0 e^u``."""
        y = self.a * np.exp(-u[..., None])
        x0 = self.w[..., 0] * self.c0 / (u * gbar)
        xi = self.w[..., 1:] * np.expm1(y) / (self.gap * gbar[..., None])
        return np.concatenate([x0[..., None], xi], axis=-1)


def solve_equal_latency(gbar: np.ndarray, scenario: LatencyScenario, gap: np.ndarray, *,
                        bandwidth_hz: np.ndarray | None = None, method: str = "newton",
                        rtol: float = 1e-15, max_iter: int = 200
                        ) -> tuple[np.ndarray, np.ndarray, int]:
    """Least common latency ``T`` with ``Σ_i p_i(T) = P_T`` (vectorized over ``gbar``).

    Parameters
    ----------
    gbar : ndarray
        Linear average SNR ``γ̄`` (any shape).
    scenario : LatencyScenario
    gap : ndarray, shape (I,)
        ``K_i = α / (−ln(β BER_i))``.
    bandwidth_hz : ndarray, shape (..., 1+I), optional
        Bandwidths (default: the scenario's).
    method : {"newton", "bisection"}
        Safeguarded Newton on ``ln F(u) = ln γ̄`` with ``u = ln(T/A_0)``, or plain
        bisection on ``T`` (geometric) with the feasibility test ``Σ_i p_i(T) ≤ P_T``
        evaluated with the closed-form least powers of :mod:`semopt.link.latency`.

    Returns
    -------
    latency_s, fractions, iterations
        ``T`` (s), power fractions ``p_i/P_T`` (prompt first) and iterations used.
    """
    gbar = np.asarray(gbar, dtype=float)
    bw = np.broadcast_to(np.asarray(scenario.bandwidth_hz if bandwidth_hz is None
                                    else bandwidth_hz, dtype=float),
                         gbar.shape + (1 + scenario.n_streams,))
    terms = _Terms(scenario, gap, bw)
    lo, hi = terms.bracket(gbar)
    log_g = np.log(gbar)
    iterations = 0
    if method == "newton":
        u = 0.5 * (lo + hi)
        done = np.zeros(u.shape, dtype=bool)
        for iterations in range(1, max_iter + 1):  # noqa: B007
            val, der = terms.log_f(u)
            g = val - log_g
            lo = np.where(g > 0, u, lo)
            hi = np.where(g <= 0, u, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = np.where(der < 0, g / der, np.inf)
            u_new = u - step
            bad = ~np.isfinite(u_new) | (u_new < lo) | (u_new > hi)
            u_new = np.where(bad, 0.5 * (lo + hi), u_new)
            # quadratic convergence: after a step below 1e-10·u the error is ~1e-20·u
            converged = ~bad & (np.abs(step) <= max(rtol, 1e-10) * np.abs(u))
            u = np.where(done, u, u_new)
            done |= converged | (hi - lo <= 4 * np.finfo(float).eps * np.abs(hi))
            if np.all(done):
                break
        fractions = terms.fractions(u, gbar)
        with np.errstate(over="ignore"):
            latency = terms.a0 * np.exp(u)
        return latency, fractions, iterations
    if method != "bisection":
        raise ValueError(f"method: expected 'newton' or 'bisection', got {method!r}")
    from solvers.convex import bisect_monotone

    bits = np.asarray(scenario.stream_bits, dtype=float)
    ber = np.exp(-scenario.alpha / np.asarray(gap)) / scenario.beta  # K_i -> BER_i
    w = bw / bw.sum(axis=-1, keepdims=True)

    def needed(t_s: np.ndarray) -> np.ndarray:
        s0 = prompt_snr_for_latency(t_s, scenario.prompt_bits, bw[..., 0],
                                    packet_bits=scenario.packet, code_rate=scenario.code_rate,
                                    order=scenario.prompt_order, k=scenario.k, b=scenario.b)
        si = mqam_snr_for_latency(t_s[..., None], ber, bits, bw[..., 1:],
                                  alpha=scenario.alpha, beta=scenario.beta)
        si = np.where(bits > 0, si, 0.0)
        return np.concatenate([(w[..., 0] * s0)[..., None], w[..., 1:] * si], axis=-1) \
            / gbar[..., None]

    def feasible(log_t: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return needed(np.exp(log_t)).sum(axis=-1) <= 1.0

    log_a0 = np.log(terms.a0)
    _lo_t, hi_t, iterations = bisect_monotone(feasible, log_a0 + lo * (1 - 1e-12),
                                             log_a0 + hi * (1 + 1e-12), rtol=1e-14,
                                             atol=1e-14, max_iter=max_iter)
    with np.errstate(over="ignore"):
        latency = np.exp(hi_t)
        return latency, needed(latency), iterations


# --------------------------------------------------------------------------------------
# Shared configuration, argument parsing and result assembly
# --------------------------------------------------------------------------------------
class LatencyAllocatorBase:
    """Configuration shared by the latency allocators (all keyword-only).

    Parameters
    ----------
    table : str, path or QualityCurve, optional
        Quality curve used when ``target`` gives metric thresholds (default: the
        shipped ``qiao2024-table2-quality``, loaded on first use).
    scenario : LatencyScenario, optional
        All constants at once; individual keywords below override it.
    prompt_bits, stream_bits, bandwidth_hz, packet_bits, code_rate, prompt_order, k, b,
    alpha, beta, orders
        See :class:`semopt.link.latency.LatencyScenario` (Table I defaults).
    reference_power_w : float, optional
        If given, ``snr`` is the average SNR at this power and the budget scales it:
        ``γ̄_eff = γ̄ · P_T / reference_power_w`` (a fixed channel). By default ``snr``
        is the average SNR at the budget itself (the paper's ``γ̄``).
    """

    name: str = ""
    problem: str = PROBLEM

    def __init__(self, *, table: Any = None, scenario: LatencyScenario | None = None,
                 reference_power_w: float | str | None = None, **config: Any) -> None:
        unknown = set(config) - _SCENARIO_FIELDS - set(self._option_names())
        if unknown:
            raise ValueError(f"{sorted(unknown)[0]}: unknown option for latency/{self.name}; "
                             f"valid: {', '.join(sorted(_SCENARIO_FIELDS | set(self._option_names())))}")
        overrides = {k: v for k, v in config.items() if k in _SCENARIO_FIELDS and v is not None}
        base = scenario or LatencyScenario()
        if overrides:
            merged = {f.name: getattr(base, f.name) for f in fields(LatencyScenario)}
            if "stream_bits" in overrides and "bandwidth_hz" not in overrides \
                    and len(set(base.bandwidth_hz)) == 1:
                merged["bandwidth_hz"] = (base.bandwidth_hz[0],)
            merged.update(overrides)
            base = LatencyScenario(**merged)
        self.scenario = base
        self._table_source = table
        self._table = None
        self.options = {k: v for k, v in config.items() if k in self._option_names()}
        if reference_power_w is not None:
            reference_power_w = float(parse_power(reference_power_w, "reference_power_w"))
            if not (math.isfinite(reference_power_w) and reference_power_w > 0):
                raise ValueError("reference_power_w: must be positive")
        self.reference_power_w = reference_power_w

    @classmethod
    def _option_names(cls) -> tuple[str, ...]:
        return ()

    # --- inputs -------------------------------------------------------------------------
    @property
    def table(self) -> Any:
        """The quality curve (loaded lazily)."""
        if self._table is None:
            from semopt import tables

            self._table = tables.load(self._table_source or DEFAULT_TABLE)
            if getattr(self._table, "kind", None) != "quality-curve":
                raise ValueError(f"table: latency needs a 'quality-curve' table, got kind "
                                 f"{getattr(self._table, 'kind', None)!r}")
        return self._table

    def _parse_snr(self, snr: Any) -> np.ndarray:
        try:
            arr = np.asarray(snr, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"snr: expected a number or an array of dB values, got {snr!r}") \
                from exc
        if not np.all(np.isfinite(arr)):
            raise ValueError("snr: must be finite (dB)")
        return arr

    def _parse_budget(self, budget: Any) -> float:
        value = parse_power(budget, "budget")
        if np.ndim(value) != 0:
            raise ValueError("budget: must be a scalar power")
        value = float(value)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"budget: must be positive, got {budget!r}")
        return value

    def _parse_target(self, target: Any) -> tuple[np.ndarray, dict[str, float] | None, str]:
        """Return (BER per stream, metric thresholds or None, note); BER 0 = unreachable."""
        n = self.scenario.n_streams
        thresholds = None
        if isinstance(target, Mapping):
            spec = {str(k).lower(): v for k, v in target.items()}
            if set(spec) == {"ber"}:
                target = spec["ber"]
            else:
                if "ber" in spec:
                    raise ValueError("target: give either 'ber' or metric thresholds, not both")
                thresholds = {k: float(v) for k, v in spec.items()}
                ber = self.table.ber_for(thresholds)
                note = "BER " + f"{ber:.4g}" + " from " + ", ".join(
                    f"{k} ≥ {v:g}" for k, v in thresholds.items())
                return np.full(n, ber), thresholds, note
        if isinstance(target, str):
            try:
                target = [float(v) for v in target.split(",")]
            except ValueError as exc:
                raise ValueError(f"target: cannot parse {target!r} as a BER") from exc
        try:
            ber = np.atleast_1d(np.asarray(target, dtype=float))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"target: expected a BER, one BER per stream, or metric "
                             f"thresholds, got {target!r}") from exc
        if ber.ndim != 1 or ber.size not in (1, n):
            raise ValueError(f"target: expected 1 or {n} BER values, got shape {ber.shape}")
        if not np.all((ber > 0) & (ber < 0.5)):
            raise ValueError(f"target: BER must lie in (0, 0.5), got {target!r}")
        if np.any(ber >= 1.0 / self.scenario.beta):
            raise ValueError(f"target: the MQAM model of eq. (4) needs β·BER < 1, i.e. BER in "
                             f"(0, {1.0 / self.scenario.beta:g}), got {target!r}")
        return np.broadcast_to(ber, (n,)).copy(), None, f"BER {np.array2string(ber, precision=4)}"

    def _effective_snr(self, snr_db: np.ndarray, budget_w: float) -> np.ndarray:
        gbar = 10.0 ** (snr_db / 10.0)
        if self.reference_power_w is not None:
            gbar = gbar * (budget_w / self.reference_power_w)
        return gbar

    # --- output -------------------------------------------------------------------------
    def _finish(self, *, start: float, batch: tuple[int, ...], budget_w: float,
                fractions: np.ndarray, latency_s: np.ndarray, ok: np.ndarray,
                status: np.ndarray, ber: np.ndarray, gbar: np.ndarray,
                bandwidth_hz: np.ndarray, bits_per_symbol: np.ndarray,
                stream_latency_s: np.ndarray, message: str, iterations: int = 0,
                evaluations: int = 0, thresholds: dict[str, float] | None = None,
                extra: dict[str, Any] | None = None,
                prompt_per: np.ndarray | None = None,
                expected_tx: np.ndarray | None = None) -> Allocation:
        sc = self.scenario
        power = fractions * budget_w
        w = bandwidth_hz / bandwidth_hz.sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            snr_streams = gbar[..., None] * fractions / w
            if expected_tx is None:
                expected_tx = np.exp(sc.prompt_c / snr_streams[..., 0])
            if prompt_per is None:
                prompt_per = 1.0 - 1.0 / expected_tx
        error_rate = np.concatenate([np.asarray(prompt_per)[..., None],
                                     np.broadcast_to(ber, batch + (sc.n_streams,))], axis=-1)
        error_rate = np.where(ok[..., None], error_rate, np.nan)
        extras: dict[str, Any] = {
            "bits_per_symbol": bits_per_symbol,
            "expected_transmissions": np.where(ok, expected_tx, np.nan),
            "share_prompt": np.where(ok, fractions[..., 0] / fractions.sum(axis=-1), np.nan),
            "stream_latency_s": stream_latency_s,
            "stream_snr_db": np.where(ok[..., None], linear_to_db(snr_streams), np.nan),
            "bandwidth_hz": bandwidth_hz,
            "target_ber": ber,
            "average_snr_db": linear_to_db(gbar),
        }
        if thresholds is not None:
            table = self.table
            extras["quality"] = {k: float(table.value(k, min(ber[0], table.ber[-1])))
                                 for k in thresholds}
        extras.update(extra or {})

        def scal(a: Any) -> Any:
            a = np.asarray(a)
            return a.item() if a.ndim == 0 else a

        total = power.sum(axis=-1)
        return Allocation(
            method=self.name, problem=PROBLEM, success=scal(ok), status=scal(status),
            message=message, power_w=power, total_power_w=scal(total),
            error_rate=error_rate, perception=math.nan, objective=scal(latency_s),
            latency_s=scal(latency_s), iterations=int(iterations), evaluations=int(evaluations),
            wall_time_s=time.perf_counter() - start,
            extras={k: scal(v) if isinstance(v, np.ndarray) else v for k, v in extras.items()})

    def _infeasible(self, *, start: float, snr_db: np.ndarray, budget_w: float,
                    ber: np.ndarray, thresholds: dict[str, float] | None) -> Allocation:
        sc = self.scenario
        batch = snr_db.shape
        table = self.table
        best = ", ".join(f"{k} ≤ {table.best(k):g} (asked {v:g})" for k, v in thresholds.items()
                         if table.best(k) < v)
        message = f"infeasible: no BER meets the quality target; best achievable {best}"
        nan = np.full(batch, np.nan)
        return self._finish(
            start=start, batch=batch, budget_w=budget_w,
            fractions=np.full(batch + (1 + sc.n_streams,), np.nan), latency_s=nan,
            ok=np.zeros(batch, bool), status=np.full(batch, INFEASIBLE, dtype=object),
            ber=np.zeros(sc.n_streams), gbar=self._effective_snr(snr_db, budget_w),
            bandwidth_hz=np.broadcast_to(np.asarray(sc.bandwidth_hz), batch + (1 + sc.n_streams,)),
            bits_per_symbol=np.zeros(batch + (sc.n_streams,)),
            stream_latency_s=np.full(batch + (1 + sc.n_streams,), np.nan),
            message=message, thresholds=None)

    def _begin(self, snr: Any, budget: Any, target: Any) -> tuple[tuple, Allocation | None]:
        """Start the clock and validate the call data.

        Returns ``(start, snr_db, budget_w, ber, thresholds, note)`` and, when a metric
        threshold cannot be met at any BER, the infeasible result to return (else None).
        """
        start = time.perf_counter()
        snr_db = self._parse_snr(snr)
        budget_w = self._parse_budget(budget)
        ber, thresholds, note = self._parse_target(target)
        early = None
        if np.any(ber <= 0):
            early = self._infeasible(start=start, snr_db=snr_db, budget_w=budget_w, ber=ber,
                                     thresholds=thresholds)
        return (start, snr_db, budget_w, ber, thresholds, note), early

    def _stream_latencies(self, fractions: np.ndarray, gbar: np.ndarray, ber: np.ndarray,
                          bandwidth_hz: np.ndarray) -> np.ndarray:
        """``(T_0, T_1, ..., T_I)`` recomputed from the powers with the link model."""
        from semopt.link.latency import mqam_latency_s, prompt_latency_s

        sc = self.scenario
        w = bandwidth_hz / bandwidth_hz.sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            snr = gbar[..., None] * fractions / w
            t0 = prompt_latency_s(snr[..., 0], sc.prompt_bits, bandwidth_hz[..., 0],
                                  packet_bits=sc.packet, code_rate=sc.code_rate,
                                  order=sc.prompt_order, k=sc.k, b=sc.b)
            ti = mqam_latency_s(snr[..., 1:], ber, np.asarray(sc.stream_bits, float),
                                bandwidth_hz[..., 1:], alpha=sc.alpha, beta=sc.beta)
        ti = np.where(np.asarray(sc.stream_bits) > 0, ti, 0.0)
        return np.concatenate([t0[..., None], ti], axis=-1)


def _status(ok: np.ndarray, bad: str) -> np.ndarray:
    return np.where(ok, OPTIMAL, bad).astype(object)


def _spectral_efficiency(gap: np.ndarray, gbar: np.ndarray, fractions: np.ndarray,
                         share: np.ndarray) -> np.ndarray:
    """Bits per symbol log2(1 + g γ̄ p_i/(w_i P_T)) of each conditioning stream."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log2(1.0 + gap * gbar[..., None] * fractions[..., 1:] / share[..., 1:])


# --------------------------------------------------------------------------------------
# Continuous MQAM: lemma1 and bisection
# --------------------------------------------------------------------------------------
class _ContinuousAllocator(LatencyAllocatorBase):
    _solver_method = "newton"

    def allocate(self, snr: Any, budget: Any, target: Any) -> Allocation:
        """Solve problem (5) with continuous MQAM (see the class docstring)."""
        (start, snr_db, budget_w, ber, thresholds, note), early = self._begin(snr, budget, target)
        if early is not None:
            return early
        sc = self.scenario
        gbar = self._effective_snr(snr_db, budget_w)
        gap = mqam_gap(ber, sc.alpha, sc.beta)
        latency, fractions, iterations = solve_equal_latency(
            gbar, sc, gap, method=self._solver_method)
        batch = snr_db.shape
        bw = np.broadcast_to(np.asarray(sc.bandwidth_hz), batch + (1 + sc.n_streams,))
        stream_t = self._stream_latencies(fractions, gbar, ber, bw)
        w = bw / bw.sum(axis=-1, keepdims=True)
        bps = _spectral_efficiency(gap, gbar, fractions, w)
        ok = np.isfinite(latency)
        msg = (f"{self.name}: min max latency with continuous MQAM at {note}; "
               f"T_0 = T_i and Σp = P_T at the optimum (Lemma 1)")
        if not np.all(ok):
            msg += "; latency overflows at the lowest SNRs"
        return self._finish(start=start, batch=batch, budget_w=budget_w, fractions=fractions,
                            latency_s=latency, ok=ok, status=_status(ok, INFEASIBLE), ber=ber,
                            gbar=gbar, bandwidth_hz=np.array(bw), bits_per_symbol=bps,
                            stream_latency_s=stream_t, message=msg, iterations=iterations,
                            evaluations=iterations, thresholds=thresholds)


@register_allocator(PROBLEM, "lemma1")
class Lemma1Allocator(_ContinuousAllocator):
    """Lemma 1 of Qiao et al.: optimal power split with continuous MQAM (vectorized).

    Solves::

        min_{p ≥ 0} max{T_0(p_0), T_1(p_1, BER_1), ..., T_I(p_I, BER_I)}  s.t. Σ p_i ≤ P_T

    with ``BER_i`` the target (or ``min_j Φ_j^{-1}(ε_j)`` for metric thresholds). By
    Lemma 1 the optimum has ``Σ p_i = P_T`` and ``T_0 = T_1 = ... = T``; with the
    closed-form least power per stream this is one equation in ``u = ln(T/A_0)``,
    ``ln Σ_i w_i s_i(u) = ln γ̄``, solved by a bracketed, safeguarded Newton iteration
    for the whole batch at once (closed-form bracket, ~6–10 iterations to machine
    precision). Works for any number ``I`` of conditioning streams (Lemma 1 itself is
    stated for ``I = 1``).
    """

    _solver_method = "newton"


@register_allocator(PROBLEM, "bisection")
class BisectionAllocator(_ContinuousAllocator):
    """Min-max latency for ``I ≥ 1`` conditioning streams by bisection on ``T``.

    The problem is quasi-convex in ``T``: the least total power that achieves latency
    ``T``, ``Σ_i p_i(T)`` with the closed-form per-stream powers of
    :mod:`semopt.link.latency`, is decreasing in ``T``; the optimum is the smallest
    ``T`` with ``Σ_i p_i(T) ≤ P_T``. Bisection on ``ln T`` over a closed-form bracket,
    vectorized over the batch, to 1e-14 relative.
    """

    _solver_method = "bisection"


# --------------------------------------------------------------------------------------
# Discrete modulation adaptation (Table II)
# --------------------------------------------------------------------------------------
@register_allocator(PROBLEM, "discrete")
class DiscreteAllocator(LatencyAllocatorBase):
    """Discrete M-QAM order adaptation for the conditioning stream(s) (Table II).

    Each stream uses an order ``M_i`` in ``orders`` (bits/symbol ``log2 M_i``, 0 =
    outage); order ``M`` at the target BER needs ``γ_i ≥ (M − 1)(−ln(β BER))/α`` and
    then ``T_i = |v_i| / (B_i log2 M_i)`` regardless of extra power. So::

        min_{M, p} max{T_0(p_0), T_i(M_i)}
        s.t. p_i ≥ p_i^min(M_i),  p_0 = P_T − Σ_i p_i > 0

    For every candidate latency (each ``T_i(M)``) every stream takes its cheapest order
    that meets it, the prompt gets the remaining power, and the best candidate wins —
    exact, vectorized over the batch and the candidates.

    Options
    -------
    prompt_within_stream : bool, default True
        The paper's rule (it reproduces Table II): an order is usable only if the
        prompt's expected retransmissions finish within the stream's transmission,
        ``T_0 ≤ max_i T_i``; otherwise ``outage``. With ``False`` the order minimizing
        ``max(T_0, T_i)`` is taken whenever the stream's least power fits the budget.
    """

    @classmethod
    def _option_names(cls) -> tuple[str, ...]:
        return ("prompt_within_stream",)

    def allocate(self, snr: Any, budget: Any, target: Any) -> Allocation:
        """Best orders and power split; ``status="outage"`` when no order is feasible."""
        (start, snr_db, budget_w, ber, thresholds, note), early = self._begin(snr, budget, target)
        if early is not None:
            return early
        strict = bool(self.options.get("prompt_within_stream", True))
        sc = self.scenario
        batch = snr_db.shape
        gbar = self._effective_snr(snr_db, budget_w)
        n = sc.n_streams
        orders = np.asarray(sc.orders, dtype=float)                       # (O,)
        bits = np.asarray(sc.stream_bits, dtype=float)                    # (I,)
        bw = np.asarray(sc.bandwidth_hz)
        w = bw / bw.sum()
        gap = mqam_gap(ber, sc.alpha, sc.beta)                            # (I,)
        bps = np.log2(orders)                                             # (O,)
        t_im = bits[:, None] / (bw[1:, None] * bps[None, :])              # (I, O)
        snr_req = (orders[None, :] - 1.0) / gap[:, None]                  # (I, O)
        x_im = np.where(bits[:, None] > 0, w[1:, None] * snr_req, 0.0)    # (I, O) · 1/γ̄
        cand = np.unique(t_im[bits > 0])                                  # (C,)
        allowed = t_im[:, :, None] <= cand[None, None, :] * (1 + 1e-12)   # (I, O, C)
        # cheapest allowed order = the lowest allowed one (x increases with M)
        first = np.argmax(allowed, axis=1)                                # (I, C)
        any_ok = np.any(allowed, axis=1)                                  # (I, C)
        idx_i = np.arange(n)[:, None]
        x_choice = np.where(any_ok, x_im[idx_i, first], np.inf)           # (I, C)
        t_choice = np.where(any_ok, t_im[idx_i, first], np.inf)
        t_choice = np.where(bits[:, None] > 0, t_choice, 0.0)
        x_choice = np.where(bits[:, None] > 0, x_choice, 0.0)
        t_streams = t_choice.max(axis=0)                                  # (C,)
        g = gbar[..., None]                                               # (..., 1)
        x_streams = x_choice.sum(axis=0) / g                              # (..., C)
        x0 = 1.0 - x_streams
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            eta = np.exp(sc.prompt_c * w[0] / (g * x0))
            t0 = np.where(x0 > 0, prompt_base(sc) * eta, np.inf)
        feasible = (x0 > 0) & np.all(any_ok, axis=0)
        if strict:
            feasible &= t0 <= t_streams * (1 + 1e-12)
        total = np.where(feasible, np.maximum(t0, t_streams), np.inf)     # (..., C)
        best = np.argmin(total, axis=-1)
        ok = np.take_along_axis(feasible, best[..., None], axis=-1)[..., 0]
        latency = np.where(ok, np.take_along_axis(total, best[..., None], -1)[..., 0], np.nan)
        chosen_first = first[:, best]                                     # (I, ...)
        chosen_first = np.moveaxis(chosen_first, 0, -1)                   # (..., I)
        xi = np.take_along_axis(np.broadcast_to(x_im.T, batch + x_im.T.shape),
                                chosen_first[..., None, :], axis=-2)[..., 0, :] / g
        xi = np.where(bits > 0, xi, 0.0)
        bits_ps = np.where(bits > 0, bps[chosen_first], 0.0)
        fractions = np.concatenate([(1.0 - xi.sum(axis=-1))[..., None], xi], axis=-1)
        fractions = np.where(ok[..., None], fractions, np.nan)
        bits_ps = np.where(ok[..., None], bits_ps, 0.0)
        bwb = np.broadcast_to(bw, batch + (1 + n,))
        t0_best = np.take_along_axis(t0, best[..., None], -1)[..., 0]
        t_i = np.where(bits > 0, bits / (bwb[..., 1:] * np.where(bits_ps > 0, bits_ps, np.nan)),
                       0.0)
        stream_t = np.where(ok[..., None], np.concatenate([t0_best[..., None], t_i], -1), np.nan)
        msg = (f"discrete: orders {list(sc.orders)} at {note}"
               + ("; prompt must finish within the stream (T_0 ≤ T_i)" if strict else ""))
        if not np.all(ok):
            need = linear_to_db(np.min(x_im[:, 0]) * 1.0) if n == 1 else None
            msg += "; outage where no order fits"
            if need is not None:
                msg += f" (the lowest order alone needs γ̄ ≥ {float(need):.2f} dB)"
        return self._finish(start=start, batch=batch, budget_w=budget_w, fractions=fractions,
                            latency_s=latency, ok=ok, status=_status(ok, OUTAGE), ber=ber,
                            gbar=gbar, bandwidth_hz=np.array(bwb), bits_per_symbol=bits_ps,
                            stream_latency_s=stream_t, message=msg, iterations=1,
                            evaluations=int(cand.size), thresholds=thresholds,
                            extra={"modulation_order": np.where(bits_ps > 0, 2.0 ** bits_ps, 0)})


def prompt_base(sc: LatencyScenario) -> float:
    """``A_0 = |v_0| / (r log2(M_0) B_0)`` of a scenario (s)."""
    return sc.prompt_bits / (sc.code_rate * np.log2(sc.prompt_order) * sc.bandwidth_hz[0])


# --------------------------------------------------------------------------------------
# Semantic-unaware single-stream benchmark
# --------------------------------------------------------------------------------------
@register_allocator(PROBLEM, "unaware")
class UnawareAllocator(LatencyAllocatorBase):
    """The paper's semantic-unaware benchmark: one stream for everything.

    Prompt and conditioning streams are sent as one bit stream of
    ``|v_0| + Σ|v_i|`` bits over the whole band ``B_tot`` at full power ``P_T`` with
    adaptive MQAM, without ARQ, at the prompt's BER (``prompt_ber``, 1e-7; the
    stricter of it and the target)::

        T = (|v_0| + Σ_i |v_i|) / (B_tot log2(1 + K γ̄)),   K = α / (−ln(β BER))

    ``power_w`` reports the single stream's power split by the bit shares (the power
    spent on each part, averaged over the transmission).

    Options
    -------
    prompt_ber : float, default 1e-7
    modulation : {"continuous", "discrete"}
        Continuous spectral efficiency, or the largest order of ``orders`` that the
        SNR supports (outage if none).
    """

    @classmethod
    def _option_names(cls) -> tuple[str, ...]:
        return ("prompt_ber", "modulation")

    def allocate(self, snr: Any, budget: Any, target: Any) -> Allocation:
        """Latency of the single-stream benchmark."""
        (start, snr_db, budget_w, ber_t, thresholds, _note), early = self._begin(snr, budget, target)
        if early is not None:
            return early
        sc = self.scenario
        prompt_ber = float(self.options.get("prompt_ber", 1e-7))
        if not 0 < prompt_ber < 1.0 / sc.beta:
            raise ValueError(f"prompt_ber: must be in (0, {1 / sc.beta:g}), got {prompt_ber}")
        modulation = self.options.get("modulation", "continuous")
        if modulation not in ("continuous", "discrete"):
            raise ValueError(f"modulation: expected 'continuous' or 'discrete', got {modulation!r}")
        ber = float(min(prompt_ber, ber_t.min()))
        gbar = self._effective_snr(snr_db, budget_w)
        batch = snr_db.shape
        total_bits = sc.prompt_bits + sum(sc.stream_bits)
        gap = float(mqam_gap(ber, sc.alpha, sc.beta))
        if modulation == "continuous":
            bps = np.log2(1.0 + gap * gbar)
        else:
            bps = np.zeros(batch)
            for order in sc.orders:
                bps = np.where(gbar >= (order - 1) / gap, np.log2(order), bps)
        ok = bps > 0
        with np.errstate(divide="ignore"):
            latency = np.where(ok, total_bits / (sc.total_bandwidth_hz * bps), np.nan)
        shares = np.asarray([sc.prompt_bits, *sc.stream_bits], float) / total_bits
        fractions = np.where(ok[..., None], np.broadcast_to(shares, batch + shares.shape), np.nan)
        n = sc.n_streams
        bw = np.broadcast_to(np.full(1 + n, sc.total_bandwidth_hz / (1 + n)), batch + (1 + n,))
        prompt_per = -np.expm1(sc.prompt_bits * np.log1p(-ber))
        msg = (f"unaware: one stream of {total_bits} bits over {sc.total_bandwidth_hz:g} Hz at "
               f"full power, BER {ber:g} ({modulation} MQAM)")
        if not np.all(ok):
            msg += f"; outage below γ̄ = {float(linear_to_db((min(sc.orders) - 1) / gap)):.2f} dB"
        return self._finish(
            start=start, batch=batch, budget_w=budget_w, fractions=fractions, latency_s=latency,
            ok=ok, status=_status(ok, OUTAGE), ber=np.full(n, ber), gbar=gbar,
            bandwidth_hz=np.array(bw),
            bits_per_symbol=np.where(ok, bps, 0.0)[..., None] * np.ones(n),
            stream_latency_s=np.where(ok[..., None], latency[..., None] * np.ones(1 + n), np.nan),
            message=msg, thresholds=thresholds,
            prompt_per=np.full(batch, prompt_per), expected_tx=np.ones(batch),
            extra={"single_stream_snr_db": linear_to_db(gbar)})


# --------------------------------------------------------------------------------------
# cvxpy formulations
# --------------------------------------------------------------------------------------
def _build_problem(sc: LatencyScenario, joint: bool, formulation: str = "dcp") -> dict[str, Any]:
    """Build the (parametrized) convex program in normalized units.

    Variables: power fractions ``x_i = p_i/P_T``, ``w = c/γ_0 = ln η_R`` (log expected
    prompt transmissions), time ``τ = T / T_u`` with ``T_u = |v_0|/(r log2 M_0 B_tot)``;
    for the joint problem also bandwidth fractions ``β_i`` and ``b = ln β_0``::

        minimize τ
        s.t.  exp(w − ln β_0) ≤ τ                            (T_0 ≤ T)
              x_0 ≥ (c/γ̄) · exp(ln β_0 − ln w)                (γ_0 = c/w)
              β_i log(1 + K_i γ̄ x_i / β_i) ≥ n_i / τ,   n_i = |v_i| ln2 / (B_tot T_u)
              Σ x_i ≤ 1,  (Σ β_i ≤ 1)

    Every constraint is jointly convex (perspective of log, exp of affine − log), so
    the joint bandwidth-power problem is a convex program (no bisection needed).
    """
    import cvxpy as cp

    from solvers.convex import log1p_perspective

    n = sc.n_streams
    bits = np.asarray(sc.stream_bits, float)
    base_num = sc.prompt_bits / (sc.code_rate * np.log2(sc.prompt_order))  # A_0·B_0
    nvec = LN2 * bits / base_num
    x = cp.Variable(1 + n, nonneg=True, name="x")
    w = cp.Variable(pos=True, name="w")
    gain = cp.Parameter(n, nonneg=True, name="gain")        # K_i γ̄
    pcoef = cp.Parameter(nonneg=True, name="pcoef")         # c / γ̄
    cons = [cp.sum(x) <= 1]
    if joint:
        b = cp.Variable(name="b")
        beta = cp.Variable(n, pos=True, name="beta")
        cons += [cp.exp(b) + cp.sum(beta) <= 1, x[0] >= pcoef * cp.exp(b - cp.log(w))]
        t0 = cp.exp(w - b)
    else:
        frac = sc.bandwidth_fraction
        b, beta = float(np.log(frac[0])), frac[1:]
        cons += [x[0] >= pcoef * frac[0] * cp.inv_pos(w)]
        t0 = cp.exp(w) / frac[0]
    active = [i for i in range(n) if bits[i] > 0]
    if formulation == "dqcp":
        rates = [log1p_perspective(beta[i], x[1 + i], gain[i]) for i in active]
        objective = cp.maximum(t0, *[nvec[i] / r for i, r in zip(active, rates)])
        problem = cp.Problem(cp.Minimize(objective), cons)
        tau = None
    else:
        tau = cp.Variable(pos=True, name="tau")
        cons.append(t0 <= tau)
        for i in active:
            cons.append(log1p_perspective(beta[i], x[1 + i], gain[i])
                        >= nvec[i] * cp.inv_pos(tau))
        problem = cp.Problem(cp.Minimize(tau), cons)
    return {"problem": problem, "x": x, "w": w, "b": b, "beta": beta, "tau": tau,
            "gain": gain, "pcoef": pcoef}


class _CvxpyBase(LatencyAllocatorBase):
    _joint = False

    @classmethod
    def _option_names(cls) -> tuple[str, ...]:
        return ("solver", "formulation")

    def _get_problem(self, formulation: str) -> dict[str, Any]:
        cache = self.__dict__.setdefault("_problems", {})
        if formulation not in cache:
            cache[formulation] = _build_problem(self.scenario, self._joint, formulation)
        return cache[formulation]

    def _solve_one(self, gbar: float, gap: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        from solvers.convex import ConvexSolveError, solve_problem

        formulation = self.options.get("formulation", "dcp")
        if formulation not in ("dcp", "dqcp"):
            raise ValueError(f"formulation: expected 'dcp' or 'dqcp', got {formulation!r}")
        prob = self._get_problem(formulation)
        prob["gain"].value = gap * gbar
        prob["pcoef"].value = self.scenario.prompt_c / gbar
        solver = self.options.get("solver")
        if formulation == "dqcp":
            solvers = (solver,) if solver else ("SCS", "CLARABEL")
            kwargs = {"qcp": True}
        else:
            solvers = (solver,) if solver else ("CLARABEL", "SCS")
            kwargs = {}
        try:
            used = solve_problem(prob["problem"], solvers, allow_inaccurate=formulation == "dqcp",
                                 **kwargs)
        except ConvexSolveError as exc:
            raise SolverError(f"latency/{self.name}: cvxpy failed at γ̄ = "
                              f"{10 * np.log10(gbar):.3f} dB: {exc}") from exc
        x = np.maximum(np.asarray(prob["x"].value, float), 0.0)
        if self._joint:
            n = self.scenario.n_streams
            beta0 = float(np.exp(prob["b"].value))
            beta = np.concatenate([[beta0], np.maximum(np.asarray(prob["beta"].value, float)
                                                       .reshape(n), 1e-300)])
            beta = beta / beta.sum()  # spend the whole band (more never hurts)
        else:
            beta = self.scenario.bandwidth_fraction
        x = x / max(x.sum(), 1.0)
        tau = prob["tau"].value if prob["tau"] is not None else None
        if not self._joint and tau is not None:
            # The optimal value is what cvxpy certifies; the powers returned by the
            # interior-point method are less accurate than it (the latency is steep in
            # some powers), so recover them as the least powers for that latency.
            sc = self.scenario
            unit_s = sc.prompt_bits / (sc.code_rate * np.log2(sc.prompt_order)
                                       * sc.total_bandwidth_hz)
            terms = _Terms(sc, gap, np.asarray(sc.bandwidth_hz))
            u = np.log(float(tau) * unit_s / terms.a0)
            if np.isfinite(u) and u > 0:
                x = terms.fractions(np.asarray(u), np.asarray(gbar))
                x = x / max(x.sum(), 1.0)
        return x, beta, used

    def allocate(self, snr: Any, budget: Any, target: Any) -> Allocation:
        """Solve per instance with cvxpy (loops over the batch)."""
        (start, snr_db, budget_w, ber, thresholds, note), early = self._begin(snr, budget, target)
        if early is not None:
            return early
        sc = self.scenario
        gbar = self._effective_snr(snr_db, budget_w)
        gap = mqam_gap(ber, sc.alpha, sc.beta)
        batch = snr_db.shape
        n = sc.n_streams
        fractions = np.empty(batch + (1 + n,))
        beta = np.empty(batch + (1 + n,))
        used = set()
        for idx in np.ndindex(*batch):
            fractions[idx], beta[idx], name = self._solve_one(float(gbar[idx]), gap)
            used.add(name)
        bw = beta * sc.total_bandwidth_hz
        if self._joint and self.options.get("polish", True):
            # exact powers for the bandwidths found (removes the solver's tolerance)
            _latency_p, frac_p, _ = solve_equal_latency(gbar, sc, gap, bandwidth_hz=bw)
            fractions = frac_p
        stream_t = self._stream_latencies(fractions, gbar, ber, bw)
        latency = stream_t.max(axis=-1)
        w = beta
        bps = _spectral_efficiency(gap, gbar, fractions, w)
        ok = np.isfinite(latency)
        msg = (f"{self.name}: cvxpy ({', '.join(sorted(used))}, "
               f"{self.options.get('formulation', 'dcp')}) at {note}")
        return self._finish(start=start, batch=batch, budget_w=budget_w, fractions=fractions,
                            latency_s=latency, ok=ok, status=_status(ok, INFEASIBLE), ber=ber,
                            gbar=gbar, bandwidth_hz=bw, bits_per_symbol=bps,
                            stream_latency_s=stream_t, message=msg,
                            iterations=int(np.prod(batch, dtype=int)), thresholds=thresholds)


@register_allocator(PROBLEM, "cvxpy")
class CvxpyAllocator(_CvxpyBase):
    """Convex cross-check of ``lemma1`` / ``bisection`` with fixed bandwidths.

    Epigraph form of problem (5) in normalized units (see :func:`_build_problem`)::

        min τ  s.t.  T_0(p_0) ≤ τ,  T_i(p_i) ≤ τ,  Σ p_i ≤ P_T

    solved per instance with CLARABEL (SCS fallback), tight tolerances. The latency
    reported is recomputed from the returned powers with the link model.

    Options: ``solver`` (cvxpy solver name).
    """

    _joint = False

    @classmethod
    def _option_names(cls) -> tuple[str, ...]:
        return ("solver",)


@register_allocator(PROBLEM, "joint-bandwidth")
class JointBandwidthAllocator(_CvxpyBase):
    """Joint bandwidth and power allocation (beyond the paper), with cvxpy.

    Solves::

        min_{p, B} max_i T_i(p_i, B_i)  s.t.  Σ p_i ≤ P_T,  Σ B_i ≤ B_tot

    ``B_tot`` is the sum of the scenario's bandwidths. With ``b = ln B_0`` and
    ``w = c/γ_0`` the prompt's latency ``exp(w − b)`` and power ``exp(b − ln w)`` are
    jointly convex, and each stream's rate is the perspective ``B log(1 + c p/B)``
    (``−rel_entr``), so the problem is convex and solved in one cvxpy call
    (``formulation="dcp"``, default). ``formulation="dqcp"`` instead minimizes the
    quasi-convex ``max(T_0, n_i / rate_i)`` with cvxpy's DQCP bisection (SCS; much
    slower and less accurate — kept as a cross-check). With ``polish=True`` (default)
    the powers are then recomputed exactly (``lemma1`` root) for the bandwidths found.
    The bandwidths are in ``extras["bandwidth_hz"]``.

    Options: ``solver``, ``formulation`` (``"dcp"``/``"dqcp"``), ``polish``.
    """

    _joint = True

    @classmethod
    def _option_names(cls) -> tuple[str, ...]:
        return ("solver", "formulation", "polish")


METHODS: dict[str, type] = {
    "lemma1": Lemma1Allocator,
    "bisection": BisectionAllocator,
    "discrete": DiscreteAllocator,
    "unaware": UnawareAllocator,
    "cvxpy": CvxpyAllocator,
    "joint-bandwidth": JointBandwidthAllocator,
}
"""The built-in latency methods (also in the registry under problem ``latency``)."""
