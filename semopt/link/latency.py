"""Link models of the latency-aware split (Qiao et al. 2024): prompt ARQ + adaptive MQAM.

Every function is vectorized (numpy broadcasting) and works in SI units with linear
SNRs; dB appears only in names that say so.

Prompt (CRC + ARQ, eqs. 2–3). With packets of ``L`` bits at SNR ``γ_0``::

    PER(γ_0) = 1 − L^(−k/γ_0) · exp(−b/γ_0) = 1 − exp(−c/γ_0),   c = k ln L + b
    η_R      = 1 / (1 − PER) = exp(c/γ_0)                 (expected transmissions)
    T_0      = |v_0| / (r L) · η_R · L / (log2(M_0) B_0) = A_0 · exp(c/γ_0),
    A_0      = |v_0| / (r log2(M_0) B_0)                  (latency of one error-free pass)

Conditioning stream ``i`` (adaptive MQAM, eq. 4, Goldsmith's bound)::

    R_i = B_i log2(1 + K_i γ_i),   K_i = α / (−ln(β BER_i)),   T_i = |v_i| / R_i

which needs ``β BER_i < 1``. Discrete orders ``M`` need ``γ_i ≥ (M − 1)(−ln(β BER))/α``
and then carry ``log2 M`` bits/symbol.

Average SNR (Sec. III-E): ``γ̄ = P_T E|h|² / (B_tot N_0)`` with ``B_tot = Σ B_i``. A stream
with power ``p_i`` and bandwidth ``B_i`` sees ``γ_i = γ̄ · (p_i / P_T) · (B_tot / B_i)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from semopt.units import db_to_linear, dbm_to_w, linear_to_db

__all__ = [
    "DEFAULT_ORDERS",
    "LatencyScenario",
    "average_snr",
    "average_snr_db",
    "mqam_ber",
    "mqam_gap",
    "mqam_latency_s",
    "mqam_order",
    "mqam_rate_bps",
    "mqam_required_snr",
    "mqam_snr_for_latency",
    "path_gain",
    "prompt_constant",
    "prompt_expected_transmissions",
    "prompt_latency_s",
    "prompt_per",
    "prompt_snr_for_latency",
    "stream_power_fraction",
    "stream_snr",
]

DEFAULT_ORDERS = (4, 16, 64)
LN2 = float(np.log(2.0))


# --------------------------------------------------------------------------------------
# Prompt: CRC/ARQ (eqs. 2-3)
# --------------------------------------------------------------------------------------
def prompt_constant(packet_bits: ArrayLike, k: float = 0.374, b: float = -0.31) -> np.ndarray:
    """``c = k ln L + b``, so that ``PER = 1 − exp(−c/γ_0)`` (eq. 2 rewritten)."""
    return k * np.log(np.asarray(packet_bits, dtype=float)) + b


def prompt_per(snr: ArrayLike, packet_bits: ArrayLike, k: float = 0.374,
               b: float = -0.31) -> np.ndarray:
    """Packet error rate of the prompt, eq. (2): ``1 − L^(−k/γ) exp(−b/γ)``.

    Parameters
    ----------
    snr : array_like
        Linear received SNR ``γ_0`` of the prompt stream (``0`` gives PER = 1).
    packet_bits : array_like
        Packet length ``L`` in bits.
    k, b : float
        Fitting parameters of the code/modulation (Table I: 0.374, −0.31).
    """
    snr = np.asarray(snr, dtype=float)
    c = prompt_constant(packet_bits, k, b)
    with np.errstate(divide="ignore"):
        return np.clip(-np.expm1(-c / snr), 0.0, 1.0)


def prompt_expected_transmissions(snr: ArrayLike, packet_bits: ArrayLike, k: float = 0.374,
                                  b: float = -0.31) -> np.ndarray:
    """Expected transmissions per packet ``η_R = 1/(1 − PER) = exp(c/γ_0)`` (≥ 1)."""
    snr = np.asarray(snr, dtype=float)
    c = prompt_constant(packet_bits, k, b)
    with np.errstate(divide="ignore", over="ignore"):
        return np.maximum(np.exp(c / snr), 1.0)


def prompt_base_latency_s(prompt_bits: ArrayLike, bandwidth_hz: ArrayLike,
                          code_rate: float = 0.5, order: int = 4) -> np.ndarray:
    """``A_0 = |v_0| / (r log2(M_0) B_0)``: the prompt latency without retransmissions."""
    return np.asarray(prompt_bits, dtype=float) / (code_rate * np.log2(order)
                                                   * np.asarray(bandwidth_hz, dtype=float))


def prompt_latency_s(snr: ArrayLike, prompt_bits: ArrayLike, bandwidth_hz: ArrayLike, *,
                     packet_bits: ArrayLike | None = None, code_rate: float = 0.5,
                     order: int = 4, k: float = 0.374, b: float = -0.31) -> np.ndarray:
    """Expected prompt delay, eq. (3): ``T_0 = |v_0|/(r L) · 1/(1 − PER) · L/(log2(M_0) B_0)``.

    ``packet_bits`` defaults to ``prompt_bits`` (Table I: ``L = |v_0|``).
    """
    packet = prompt_bits if packet_bits is None else packet_bits
    return (prompt_base_latency_s(prompt_bits, bandwidth_hz, code_rate, order)
            * prompt_expected_transmissions(snr, packet, k, b))


def prompt_snr_for_latency(latency_s: ArrayLike, prompt_bits: ArrayLike,
                           bandwidth_hz: ArrayLike, *, packet_bits: ArrayLike | None = None,
                           code_rate: float = 0.5, order: int = 4, k: float = 0.374,
                           b: float = -0.31) -> np.ndarray:
    """Least prompt SNR with ``T_0 ≤ latency_s``: ``γ_0 = c / ln(T / A_0)`` (inf if T ≤ A_0)."""
    packet = prompt_bits if packet_bits is None else packet_bits
    base = prompt_base_latency_s(prompt_bits, bandwidth_hz, code_rate, order)
    c = prompt_constant(packet, k, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(np.asarray(latency_s, dtype=float) / base)
        return np.where(ratio > 0, c / np.where(ratio > 0, ratio, 1.0), np.inf)


# --------------------------------------------------------------------------------------
# Conditioning streams: adaptive MQAM (eq. 4)
# --------------------------------------------------------------------------------------
def mqam_gap(ber: ArrayLike, alpha: float = 1.5, beta: float = 5.0) -> np.ndarray:
    """``K = α / (−ln(β BER))``, the SNR scaling of eq. (4); requires ``β BER < 1``."""
    ber = np.asarray(ber, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(beta * ber < 1.0, alpha / -np.log(beta * ber), np.nan)


def mqam_rate_bps(snr: ArrayLike, ber: ArrayLike, bandwidth_hz: ArrayLike, *,
                  alpha: float = 1.5, beta: float = 5.0) -> np.ndarray:
    """Achievable rate of adaptive MQAM, eq. (4): ``B log2(1 + α γ / (−ln(β BER)))`` (bit/s)."""
    gap = mqam_gap(ber, alpha, beta)
    return np.asarray(bandwidth_hz, dtype=float) * np.log1p(gap * np.asarray(snr, float)) / LN2


def mqam_latency_s(snr: ArrayLike, ber: ArrayLike, bits: ArrayLike, bandwidth_hz: ArrayLike,
                   *, alpha: float = 1.5, beta: float = 5.0) -> np.ndarray:
    """``T_i = |v_i| / R_i`` in seconds (inf at zero SNR)."""
    with np.errstate(divide="ignore"):
        return np.asarray(bits, dtype=float) / mqam_rate_bps(snr, ber, bandwidth_hz,
                                                             alpha=alpha, beta=beta)


def mqam_snr_for_latency(latency_s: ArrayLike, ber: ArrayLike, bits: ArrayLike,
                         bandwidth_hz: ArrayLike, *, alpha: float = 1.5,
                         beta: float = 5.0) -> np.ndarray:
    """Least SNR with ``T_i ≤ latency_s``: ``(2^(|v_i|/(B_i T)) − 1) / K_i``."""
    gap = mqam_gap(ber, alpha, beta)
    with np.errstate(over="ignore", divide="ignore"):
        exponent = LN2 * np.asarray(bits, float) / (np.asarray(bandwidth_hz, float)
                                                   * np.asarray(latency_s, float))
        return np.expm1(exponent) / gap


def mqam_required_snr(order: ArrayLike, ber: ArrayLike, alpha: float = 1.5,
                      beta: float = 5.0) -> np.ndarray:
    """Least SNR for order ``M`` at ``BER``: ``(M − 1)(−ln(β BER)) / α`` (0 for M ≤ 1)."""
    order = np.asarray(order, dtype=float)
    return np.maximum(order - 1.0, 0.0) / mqam_gap(ber, alpha, beta)


def mqam_ber(snr: ArrayLike, order: ArrayLike, alpha: float = 1.5, beta: float = 5.0) -> np.ndarray:
    """BER bound of M-QAM at SNR ``γ``: ``(1/β) exp(−α γ / (M − 1))``."""
    return np.exp(-alpha * np.asarray(snr, float) / (np.asarray(order, float) - 1.0)) / beta


def mqam_order(snr: ArrayLike, ber: ArrayLike, orders: Sequence[int] = DEFAULT_ORDERS,
               alpha: float = 1.5, beta: float = 5.0) -> np.ndarray:
    """Largest order in ``orders`` whose required SNR ``γ`` meets; ``0`` means outage."""
    snr = np.asarray(snr, dtype=float)
    out = np.zeros(np.broadcast_shapes(snr.shape, np.shape(ber)), dtype=int)
    for order in sorted(orders):
        out = np.where(snr >= mqam_required_snr(order, ber, alpha, beta), order, out)
    return out


# --------------------------------------------------------------------------------------
# Channel and average SNR
# --------------------------------------------------------------------------------------
def path_gain(distance_m: ArrayLike, path_loss_db: float = -30.0,
              exponent: float = 3.4) -> np.ndarray:
    """Mean channel power gain ``E|h|² = ε_0 d^(−φ)`` (ε_0 at 1 m in dB).

    Eq. (1) writes the amplitude as ``√ε_0 d^(−φ)``; the usual power law (and the value
    φ = 3.4 of Table I) means the *power* decays as ``d^(−φ)``, which is used here.
    """
    return db_to_linear(path_loss_db) * np.power(np.asarray(distance_m, float), -exponent)


def average_snr(power_w: ArrayLike, gain: ArrayLike, bandwidth_hz: ArrayLike,
                noise_psd_w_hz: ArrayLike) -> np.ndarray:
    """Average SNR of the paper, ``γ̄ = P_T E|h|² / (B_tot N_0)`` (linear).

    ``bandwidth_hz`` is the total bandwidth ``B_tot = Σ_i B_i``.
    """
    return (np.asarray(power_w, float) * np.asarray(gain, float)
            / (np.asarray(bandwidth_hz, float) * np.asarray(noise_psd_w_hz, float)))


def average_snr_db(distance_m: ArrayLike = 100.0, *, power_w: ArrayLike = 0.01,
                   bandwidth_hz: ArrayLike = 2e6, noise_psd_dbm_hz: float = -174.0,
                   path_loss_db: float = -30.0, exponent: float = 3.4,
                   fading: ArrayLike = 1.0) -> np.ndarray:
    """``γ̄`` in dB from distance, power, total bandwidth and noise PSD (Table I defaults).

    ``fading`` multiplies the mean gain (``|h̃|²``, e.g. an exponential draw for Rayleigh).
    """
    gain = path_gain(distance_m, path_loss_db, exponent) * np.asarray(fading, float)
    return linear_to_db(average_snr(power_w, gain, bandwidth_hz, dbm_to_w(noise_psd_dbm_hz)))


def stream_snr(avg_snr: ArrayLike, power_fraction: ArrayLike,
               bandwidth_fraction: ArrayLike) -> np.ndarray:
    """``γ_i = γ̄ · (p_i / P_T) · (B_tot / B_i)`` from the average SNR (all linear)."""
    return (np.asarray(avg_snr, float) * np.asarray(power_fraction, float)
            / np.asarray(bandwidth_fraction, float))


def stream_power_fraction(avg_snr: ArrayLike, snr: ArrayLike,
                          bandwidth_fraction: ArrayLike) -> np.ndarray:
    """Inverse of :func:`stream_snr`: the power share ``p_i / P_T`` giving SNR ``γ_i``."""
    return (np.asarray(snr, float) * np.asarray(bandwidth_fraction, float)
            / np.asarray(avg_snr, float))


# --------------------------------------------------------------------------------------
# Scenario (Table I)
# --------------------------------------------------------------------------------------
def _as_tuple(value: Any, name: str, kind: type = float) -> tuple:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a number or a 1-D list of numbers, got {value!r}")
    return tuple(kind(v) for v in arr)


@dataclass(frozen=True)
class LatencyScenario:
    """Constants of the latency-aware split (defaults: Table I of Qiao et al.).

    Attributes
    ----------
    prompt_bits : int
        ``|v_0|``, prompt payload in bits (default 629 ≈ 0.0024 bpp × 512², Fig. 3).
    stream_bits : tuple of int
        ``|v_i|`` per conditioning stream (default 7864 ≈ 0.03 bpp × 512², which
        reproduces the latency column of Table II: 1.31 / 1.97 / 3.93 ms).
    bandwidth_hz : tuple of float
        ``(B_0, B_1, ..., B_I)``, prompt first (default 1 MHz each). A single value is
        used for every stream.
    packet_bits : int or None
        Packet length ``L`` (default ``|v_0|``).
    code_rate, prompt_order, k, b : prompt ARQ constants (1/2, QPSK, 0.374, −0.31).
    alpha, beta : MQAM constants of eq. (4) (1.5, 5).
    orders : tuple of int
        MQAM orders for discrete adaptation (4, 16, 64).
    """

    prompt_bits: int = 629
    stream_bits: tuple[int, ...] = (7864,)
    bandwidth_hz: tuple[float, ...] = (1e6,)
    packet_bits: int | None = None
    code_rate: float = 0.5
    prompt_order: int = 4
    k: float = 0.374
    b: float = -0.31
    alpha: float = 1.5
    beta: float = 5.0
    orders: tuple[int, ...] = field(default=DEFAULT_ORDERS)

    def __post_init__(self) -> None:
        stream_bits = _as_tuple(self.stream_bits, "stream_bits", float)
        if any(not np.isfinite(v) or v < 0 or v != int(v) for v in stream_bits):
            raise ValueError(f"stream_bits: must be non-negative integers, got {self.stream_bits!r}")
        if not any(v > 0 for v in stream_bits):
            raise ValueError("stream_bits: at least one conditioning stream must carry bits")
        object.__setattr__(self, "stream_bits", tuple(int(v) for v in stream_bits))
        bw = _as_tuple(self.bandwidth_hz, "bandwidth_hz")
        if len(bw) == 1:
            bw = bw * (1 + len(self.stream_bits))
        if len(bw) != 1 + len(self.stream_bits):
            raise ValueError(f"bandwidth_hz: expected 1 or {1 + len(self.stream_bits)} values "
                             f"(prompt first, then each stream), got {len(bw)}")
        if any(not (np.isfinite(v) and v > 0) for v in bw):
            raise ValueError(f"bandwidth_hz: must be positive, got {bw!r}")
        object.__setattr__(self, "bandwidth_hz", bw)
        for name in ("prompt_bits", "packet_bits"):
            value = getattr(self, name)
            if value is None:
                continue
            if not np.isfinite(value) or value != int(value) or value < 0:
                raise ValueError(f"{name}: must be a non-negative integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.prompt_bits <= 0:
            raise ValueError(f"prompt_bits: must be positive, got {self.prompt_bits}")
        if prompt_constant(self.packet, self.k, self.b) <= 0:
            raise ValueError(f"packet_bits: k ln L + b must be positive for eq. (2) to be a "
                             f"valid PER (L = {self.packet}, k = {self.k}, b = {self.b})")
        if not 0 < self.code_rate <= 1:
            raise ValueError(f"code_rate: must be in (0, 1], got {self.code_rate}")
        if self.prompt_order < 2:
            raise ValueError(f"prompt_order: must be ≥ 2, got {self.prompt_order}")
        if not (self.alpha > 0 and self.beta > 0):
            raise ValueError("alpha, beta: must be positive")
        orders = tuple(sorted(int(m) for m in _as_tuple(self.orders, "orders")))
        if any(m < 2 for m in orders):
            raise ValueError(f"orders: modulation orders must be ≥ 2, got {orders}")
        object.__setattr__(self, "orders", orders)

    # --- derived quantities -------------------------------------------------------------
    @property
    def n_streams(self) -> int:
        """Number ``I`` of conditioning streams."""
        return len(self.stream_bits)

    @property
    def packet(self) -> int:
        """Packet length ``L`` actually used."""
        return self.prompt_bits if self.packet_bits is None else self.packet_bits

    @property
    def total_bandwidth_hz(self) -> float:
        """``B_tot = Σ_i B_i``."""
        return float(sum(self.bandwidth_hz))

    @property
    def bandwidth_fraction(self) -> np.ndarray:
        """``B_i / B_tot`` (prompt first)."""
        return np.asarray(self.bandwidth_hz) / self.total_bandwidth_hz

    @property
    def prompt_c(self) -> float:
        """``c = k ln L + b``."""
        return float(prompt_constant(self.packet, self.k, self.b))

    @property
    def max_ber(self) -> float:
        """Largest BER the MQAM model of eq. (4) accepts (``1/β``)."""
        return min(0.5, 1.0 / self.beta)

    def with_bandwidth(self, bandwidth_hz: Sequence[float]) -> LatencyScenario:
        """Copy with other bandwidths."""
        return replace(self, bandwidth_hz=tuple(float(v) for v in bandwidth_hz))

    def snr_db_from_distance(self, distance_m: ArrayLike, power_w: float = 0.01, *,
                             noise_psd_dbm_hz: float = -174.0, path_loss_db: float = -30.0,
                             exponent: float = 3.4, fading: ArrayLike = 1.0) -> np.ndarray:
        """``γ̄`` (dB) of this scenario's total bandwidth at a distance (Table I channel)."""
        return average_snr_db(distance_m, power_w=power_w,
                              bandwidth_hz=self.total_bandwidth_hz,
                              noise_psd_dbm_hz=noise_psd_dbm_hz, path_loss_db=path_loss_db,
                              exponent=exponent, fading=fading)
