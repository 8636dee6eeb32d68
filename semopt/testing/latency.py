"""Reference problems and conformance checks for the ``latency`` problem.

Every latency method must pass :func:`check_allocation` on :func:`reference_problems`:
finite non-negative powers within the budget, latency equal to the largest stream
latency recomputed from the powers with the link model, and (for continuous methods)
never slower than the ``unaware`` benchmark at low SNR is *not* required — the paper's
own model makes the single stream faster at high SNR (see docs/latency.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from semopt.link.latency import LatencyScenario, mqam_latency_s, prompt_latency_s

__all__ = ["LatencyReference", "check_allocation", "random_instances", "reference_problems"]


@dataclass(frozen=True)
class LatencyReference:
    """One reference instance: scenario constants and the three call arguments."""

    name: str
    scenario: LatencyScenario
    snr_db: float
    budget_w: float
    target_ber: tuple[float, ...]

    def config(self) -> dict[str, Any]:
        """Keyword configuration for an allocator constructor."""
        return {"scenario": self.scenario}


def reference_problems() -> list[LatencyReference]:
    """Table I scenario at several SNRs and targets, plus multi-stream variants."""
    base = LatencyScenario()
    out = [LatencyReference(f"table1-{snr:g}dB-ber{ber:g}", base, snr, 0.01, (ber,))
           for snr in (5.0, 12.0, 20.0, 28.0) for ber in (1e-6, 1e-4)]
    two = LatencyScenario(stream_bits=(7864, 3000), bandwidth_hz=(1e6, 1e6, 0.5e6))
    out.append(LatencyReference("two-streams-15dB", two, 15.0, 0.01, (1e-6, 1e-3)))
    four = LatencyScenario(stream_bits=(5000, 2000, 8000, 1000), bandwidth_hz=(1e6,))
    out.append(LatencyReference("four-streams-20dB", four, 20.0, 0.02, (1e-5,) * 4))
    return out


def random_instances(n: int, seed: int = 0, max_streams: int = 4) -> list[LatencyReference]:
    """``n`` random instances with 1 to ``max_streams`` conditioning streams."""
    rng = np.random.default_rng(seed)
    out = []
    for j in range(n):
        n_streams = int(rng.integers(1, max_streams + 1))
        bits = tuple(int(v) for v in rng.integers(500, 20000, n_streams))
        bw = tuple(float(v) for v in rng.uniform(0.2e6, 2e6, 1 + n_streams))
        sc = LatencyScenario(prompt_bits=int(rng.integers(100, 2000)), stream_bits=bits,
                             bandwidth_hz=bw)
        ber = tuple(float(v) for v in 10.0 ** rng.uniform(-8, -2, n_streams))
        out.append(LatencyReference(f"random-{seed}-{j}", sc, float(rng.uniform(0, 30)),
                                    float(rng.uniform(1e-3, 0.1)), ber))
    return out


def check_allocation(alloc: Any, ref: LatencyReference, *, rtol: float = 1e-6) -> None:
    """Assert the invariants every successful latency allocation satisfies."""
    power = np.asarray(alloc.power_w, dtype=float)
    assert power.shape[-1] == 1 + ref.scenario.n_streams, "power_w: prompt then each stream"
    ok = np.asarray(alloc.success, dtype=bool)
    if not np.any(ok):
        return
    p = power[ok] if power.ndim > 1 else power
    assert np.all(np.isfinite(p)) and np.all(p >= 0), "powers must be finite and non-negative"
    assert np.all(p.sum(axis=-1) <= ref.budget_w * (1 + rtol)), "budget exceeded"
    latency = np.asarray(alloc.latency_s, dtype=float)
    stream_t = np.asarray(alloc.extras["stream_latency_s"], dtype=float)
    np.testing.assert_allclose(np.where(ok, latency, 0), np.where(ok, stream_t.max(axis=-1), 0),
                               rtol=rtol)
    assert np.all(np.asarray(alloc.objective)[ok] == latency[ok]) if latency.ndim else True


def recompute_latencies(power_w: np.ndarray, snr_db: float, budget_w: float,
                        scenario: LatencyScenario, ber: np.ndarray,
                        bandwidth_hz: np.ndarray | None = None) -> np.ndarray:
    """``(T_0, T_1, ..., T_I)`` from powers with the link model (independent of allocators)."""
    bw = np.asarray(scenario.bandwidth_hz if bandwidth_hz is None else bandwidth_hz, float)
    gbar = 10.0 ** (snr_db / 10.0)
    snr = gbar * (np.asarray(power_w) / budget_w) * (bw.sum() / bw)
    t0 = prompt_latency_s(snr[0], scenario.prompt_bits, bw[0], packet_bits=scenario.packet,
                          code_rate=scenario.code_rate, order=scenario.prompt_order,
                          k=scenario.k, b=scenario.b)
    ti = mqam_latency_s(snr[1:], ber, np.asarray(scenario.stream_bits, float), bw[1:],
                        alpha=scenario.alpha, beta=scenario.beta)
    return np.concatenate([[t0], ti])
