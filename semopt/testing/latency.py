"""Reference problems and an independent recheck for the ``latency`` problem.

:func:`reference_problems` gives the shared cases (Table I scenario at several SNRs and
BER targets, plus multi-stream scenarios) as :class:`semopt.testing.ReferenceProblem`;
each carries a ``check`` that recomputes, for every successful row, the stream
latencies from the returned powers with the link model of :mod:`semopt.link.latency`
(not with the problem's code): finite non-negative powers within the budget, and the
reported latency equal to the recomputed maximum. Continuous methods are not required
to beat the ``unaware`` benchmark: in the paper's own model the single stream is faster
at high SNR (see docs/latency.md).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from semopt.link.latency import (
    LatencyScenario,
    mqam_gap,
    mqam_latency_s,
    mqam_required_snr,
    prompt_latency_s,
)
from semopt.result import Allocation
from semopt.testing import ReferenceProblem

__all__ = [
    "check_allocation",
    "random_instances",
    "recompute_latencies",
    "reference_problems",
    "scenario_of",
    "scenario_options",
]

RTOL = 1e-6
"""Relative tolerance of the recomputed latency (cvxpy's tolerance included)."""


def scenario_options(scenario: LatencyScenario) -> dict[str, Any]:
    """The problem options (keyword arguments of ``semopt.allocate``) of a scenario."""
    return asdict(scenario)


def recompute_latencies(power_w: np.ndarray, snr_db: float, budget_w: float,
                        scenario: LatencyScenario, ber: np.ndarray,
                        bandwidth_hz: np.ndarray | None = None) -> np.ndarray:
    """``(T_0, T_1, ..., T_I)`` in s from powers (W) with the link model, continuous MQAM.

    ``snr_db`` is the average SNR at the budget; a zero-bit stream has latency 0.
    """
    bw = np.asarray(scenario.bandwidth_hz if bandwidth_hz is None else bandwidth_hz, float)
    gbar = 10.0 ** (snr_db / 10.0)
    with np.errstate(divide="ignore"):
        snr = gbar * (np.asarray(power_w, float) / budget_w) * (bw.sum() / bw)
        t0 = prompt_latency_s(snr[0], scenario.prompt_bits, bw[0], packet_bits=scenario.packet,
                              code_rate=scenario.code_rate, order=scenario.prompt_order,
                              k=scenario.k, b=scenario.b)
        bits = np.asarray(scenario.stream_bits, float)
        ti = mqam_latency_s(snr[1:], ber, bits, bw[1:], alpha=scenario.alpha,
                            beta=scenario.beta)
    return np.concatenate([[t0], np.where(bits > 0, ti, 0.0)])


def check_allocation(allocation: Allocation, scenario: LatencyScenario, snr_db: Any,
                     budget_w: float, ber: Any, *, reference_power_w: float | None = None,
                     rtol: float = RTOL) -> list[str]:
    """Violations of the latency invariants by the successful rows of ``allocation``.

    ``snr_db`` (the call's SNR, batch-shaped), ``budget_w`` (scalar) and ``ber`` (the
    BER target per stream) are what the call was given. The latency model follows
    ``extras["model"]``: continuous MQAM rates, discrete orders (``modulation_order``:
    each stream's SNR must support its order), or the unaware single stream.
    """
    out: list[str] = []
    n = scenario.n_streams
    power = np.asarray(allocation.power_w, dtype=float).reshape(-1, 1 + n)
    ok = np.asarray(allocation.success, dtype=bool).reshape(-1)
    if power.shape[0] != ok.size:
        return [f"power_w has {power.shape[0]} rows for {ok.size} realizations"]
    snr = np.broadcast_to(np.asarray(snr_db, dtype=float), np.shape(allocation.success)).reshape(-1)
    if reference_power_w is not None:
        snr = snr + 10.0 * np.log10(budget_w / reference_power_w)
    latency = np.asarray(allocation.latency_s, dtype=float).reshape(-1)
    objective = np.asarray(allocation.objective, dtype=float).reshape(-1)
    extras = allocation.extras
    model = extras.get("model", "continuous")
    bw_all = np.asarray(extras.get("bandwidth_hz", scenario.bandwidth_hz), float)
    bw_all = np.broadcast_to(bw_all, (ok.size, 1 + n)) if bw_all.ndim < 2 \
        else bw_all.reshape(-1, 1 + n)
    order = np.asarray(extras.get("modulation_order", np.zeros((ok.size, n))),
                       float).reshape(-1, n)
    ber = np.broadcast_to(np.asarray(ber, float), (n,))
    bits = np.asarray(scenario.stream_bits, float)
    for r in np.flatnonzero(ok):
        p = power[r]
        if not (np.all(np.isfinite(p)) and np.all(p >= 0)):
            out.append(f"row {r}: powers must be finite and non-negative, got {p}")
            continue
        if p.sum() > budget_w * (1 + 1e-9):
            out.append(f"row {r}: total power {p.sum():.9g} W exceeds the budget {budget_w} W")
        if objective[r] != latency[r]:
            out.append(f"row {r}: objective {objective[r]} != latency_s {latency[r]}")
        bw = bw_all[r]
        if model == "single-stream":
            used = float(np.asarray(extras["target_ber"], float).ravel()[0])
            gbar = 10.0 ** (snr[r] / 10.0) * p.sum() / budget_w
            bps_max = np.log2(1 + float(mqam_gap(used, scenario.alpha, scenario.beta)) * gbar)
            expected = (scenario.prompt_bits + bits.sum()) / (bw.sum() * bps_max)
            if latency[r] < expected * (1 - rtol):
                out.append(f"row {r}: single-stream latency {latency[r]:.9g} s is below the "
                           f"rate limit {expected:.9g} s")
            continue
        t = recompute_latencies(p, snr[r], budget_w, scenario, ber, bw)
        if model == "discrete":
            gbar = 10.0 ** (snr[r] / 10.0)
            stream_snr = gbar * (p[1:] / budget_w) * (bw.sum() / bw[1:])
            need = mqam_required_snr(order[r], ber, scenario.alpha, scenario.beta)
            active = bits > 0
            if np.any(active & (stream_snr < need * (1 - 1e-12))):
                out.append(f"row {r}: a stream's SNR does not support its order {order[r]}")
            with np.errstate(divide="ignore"):
                t[1:] = np.where(active, bits / (bw[1:] * np.log2(np.maximum(order[r], 1))), 0.0)
        if not np.isclose(latency[r], t.max(), rtol=rtol, atol=0):
            out.append(f"row {r}: latency {latency[r]:.12g} s, recomputed from the powers "
                       f"{t.max():.12g} s")
    return out


def _reference(name: str, scenario: LatencyScenario, snr_db: Any, budget_w: float,
               ber: tuple[float, ...], expect_feasible: bool | None = True) -> ReferenceProblem:
    def check(allocation: Allocation) -> list[str]:
        return check_allocation(allocation, scenario, snr_db, budget_w, ber)

    return ReferenceProblem(name, "latency", scenario_options(scenario), snr_db, budget_w,
                            list(ber), budget_w=budget_w, check=check,
                            expect_feasible=expect_feasible)


def reference_problems() -> list[ReferenceProblem]:
    """Table I scenario at several SNRs and targets, a batch, and multi-stream variants."""
    base = LatencyScenario()
    out = [_reference(f"table1-{snr:g}dB-ber{ber:g}", base, snr, 0.01, (ber,))
           for snr in (5.0, 12.0, 20.0, 28.0) for ber in (1e-6, 1e-4)]
    out.append(_reference("table1-batch", base, [3.0, 11.0, 17.0, 26.0], 0.01, (1e-5,)))
    two = LatencyScenario(stream_bits=(7864, 3000), bandwidth_hz=(1e6, 1e6, 0.5e6))
    out.append(_reference("two-streams-15dB", two, 15.0, 0.01, (1e-6, 1e-3)))
    four = LatencyScenario(stream_bits=(5000, 2000, 8000, 1000), bandwidth_hz=(1e6,))
    out.append(_reference("four-streams-20dB", four, 20.0, 0.02, (1e-5,) * 4))
    return out


def random_instances(n: int, seed: int = 0, max_streams: int = 4) -> list[ReferenceProblem]:
    """``n`` random instances with 1 to ``max_streams`` conditioning streams (seeded).

    Scenarios: prompt 100–2000 bits, streams 500–20000 bits, bandwidths 0.2–2 MHz, BERs
    1e-8–1e-2, average SNR 0–30 dB, budgets 1–100 mW.
    """
    rng = np.random.default_rng(seed)
    out = []
    for j in range(n):
        n_streams = int(rng.integers(1, max_streams + 1))
        bits = tuple(int(v) for v in rng.integers(500, 20000, n_streams))
        bw = tuple(float(v) for v in rng.uniform(0.2e6, 2e6, 1 + n_streams))
        sc = LatencyScenario(prompt_bits=int(rng.integers(100, 2000)), stream_bits=bits,
                             bandwidth_hz=bw)
        ber = tuple(float(v) for v in 10.0 ** rng.uniform(-8, -2, n_streams))
        out.append(_reference(f"random-{seed}-{j}", sc, float(rng.uniform(0, 30)),
                              float(rng.uniform(1e-3, 0.1)), ber))
    return out


def scenario_of(reference: ReferenceProblem) -> LatencyScenario:
    """The scenario of a latency reference problem."""
    return LatencyScenario(**{k: v for k, v in reference.options.items()
                              if k in LatencyScenario.__dataclass_fields__})
