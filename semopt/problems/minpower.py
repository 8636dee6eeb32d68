"""The min-power problem of Xu et al. for both transmission schemes.

For streams i = 1..I with per-stream full-budget SNR snr_i (the received SNR stream i
would see with the whole budget P_max), allocating power q_i gives the received SNR
snr_i · q_i / P_max and the error rate Φ_i = ψ_i (uncoded BPSK BER, eq. 21) or
Ψ_i (finite-blocklength BLER, eq. 23). The problem is

    minimize_q   Σ_i Z_i q_i                       (Z_i = K_i uncoded, N_i coded)
    subject to   P_scheme(Φ_1(q_1), ..., Φ_I(q_I)) ≤ P̄
                 Σ_i q_i ≤ P_max,   q_i ≥ 0.

Writing Φ_i as the variable, the power a stream needs is
q_i = P_max · s_i(Φ_i) / snr_i with s_i the SNR that achieves Φ_i, so the
objective is Σ_i w_i s_i(Φ_i) with weights w_i = Z_i P_max / snr_i and the
constraint set depends only on the table and P̄, not on the channel.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri

from semopt import tables
from semopt.link import bpsk, fbl
from semopt.tables.perception import MAX_ERROR_RATE, SCHEMES, PerceptionTable
from semopt.units import db_to_linear, parse_power

__all__ = ["MinPowerInputs", "MinPowerProblem"]

SNAP_DECADES = 1e-12
"""Error rates this close to Φ_max (in log10) are treated as Φ_max: the stream is off."""
LOG10_BLER_MIN = -15.0
"""Smallest BLER the coded scheme searches (P̄ must exceed P_best by more than this)."""


class MinPowerInputs:
    """Validated, broadcast call data: linear full-budget SNR, budget, target."""

    def __init__(self, snr_linear: np.ndarray, budget_w: np.ndarray, target: np.ndarray,
                 batch_shape: tuple[int, ...]) -> None:
        self.snr_linear = snr_linear
        self.budget_w = budget_w
        self.target = target
        self.batch_shape = batch_shape


class MinPowerProblem:
    """Scenario of the min-power problem: a perception table, a scheme, stream lengths.

    Parameters
    ----------
    table : str, path or PerceptionTable
        Perception table (default ``"xu2025-kodak-clip"``).
    scheme : {"discard", "forward"}
        Coded discard-with-error (BLER, finite blocklength) or uncoded
        forward-with-error (BER, BPSK).
    bits : sequence of int, optional
        Payload bits K_i per stream (default: the table's).
    code_rate : float or sequence of float, optional
        K_i/N_i for the coded scheme (default: the table's).
    log_term : bool
        Include the ½·log2(N) term of the normal approximation in eq. 23.
    """

    def __init__(self, *, table: str | os.PathLike[str] | PerceptionTable = "xu2025-kodak-clip",
                 scheme: str = "discard", bits: ArrayLike | None = None,
                 code_rate: ArrayLike | None = None, log_term: bool = False) -> None:
        loaded = tables.load(table)
        if not isinstance(loaded, PerceptionTable):
            raise ValueError(f"table: {loaded.name!r} is a {loaded.kind!r} table; the min-power "
                             "problem needs a 'perception' table")
        if scheme not in SCHEMES:
            raise ValueError(f"scheme: must be one of {SCHEMES}, got {scheme!r}")
        if scheme not in loaded.schemes:
            raise ValueError(f"scheme: table {loaded.name!r} has no {scheme!r} data; "
                             f"available: {loaded.schemes}")
        self.table = loaded
        self.scheme = scheme
        self.n_streams = loaded.n_streams
        self.bits = self._per_stream(bits, [s.bits for s in loaded.streams], "bits")
        if np.any(self.bits <= 0) or np.any(self.bits != np.round(self.bits)):
            raise ValueError("bits: must be positive integers")
        self.code_rate = self._per_stream(code_rate, [s.code_rate for s in loaded.streams],
                                          "code_rate")
        if np.any(self.code_rate <= 0) or np.any(self.code_rate > 1):
            raise ValueError("code_rate: must lie in (0, 1]")
        self.blocklength = np.round(self.bits / self.code_rate)
        self.log_term = bool(log_term)
        self.symbols = self.bits if scheme == "forward" else self.blocklength
        self.max_error_rate = MAX_ERROR_RATE[scheme]
        self.log10_max = float(np.log10(self.max_error_rate))
        if scheme == "forward":
            self.log10_min = np.array([a[0] for a in loaded.forward.axes])
        else:
            self.log10_min = np.full(self.n_streams, LOG10_BLER_MIN)
        self.best = loaded.best(scheme)
        self.worst = loaded.worst(scheme)

    def _per_stream(self, value: ArrayLike | None, default: list[float], name: str) -> np.ndarray:
        arr = np.asarray(default if value is None else value, dtype=float)
        arr = np.broadcast_to(arr, (self.n_streams,)) if arr.ndim == 0 else arr
        if arr.shape != (self.n_streams,):
            raise ValueError(f"{name}: expected {self.n_streams} values (one per stream), "
                             f"got {arr.shape[0] if arr.ndim else 1}")
        return arr.astype(float)

    def describe(self) -> dict[str, Any]:
        return {"table": self.table.name, "scheme": self.scheme, "bits": self.bits,
                "code_rate": self.code_rate, "symbols": self.symbols}

    # -- input validation --------------------------------------------------------------
    def parse(self, snr: ArrayLike, budget: Any, target: ArrayLike) -> MinPowerInputs:
        """Validate and broadcast ``(snr_db, budget, target)``.

        ``snr`` is a scalar (all streams), shape ``(I,)`` (one per stream), or
        ``(..., I)`` / ``(..., 1)`` for a batch of channel realizations.
        """
        snr_db = np.asarray(snr, dtype=float)
        if snr_db.ndim == 0:
            snr_db = np.full(self.n_streams, float(snr_db))
        if snr_db.shape[-1] not in (1, self.n_streams):
            raise ValueError(f"snr: wrong number of streams: last dimension {snr_db.shape[-1]}, "
                             f"expected {self.n_streams} (or 1, or a scalar)")
        if not np.all(np.isfinite(snr_db)):
            raise ValueError("snr: must be finite (no NaN or inf), in dB")
        snr_db = np.broadcast_to(snr_db, snr_db.shape[:-1] + (self.n_streams,))
        budget_w = np.asarray(parse_power(budget, "budget") if isinstance(budget, str)
                              else budget, dtype=float)
        if not np.all(np.isfinite(budget_w)) or np.any(budget_w <= 0):
            raise ValueError(f"budget: must be a positive, finite power in W (or '10 mW', "
                             f"'10 dBm'), got {budget!r}")
        target_arr = np.asarray(target, dtype=float)
        if not np.all(np.isfinite(target_arr)) or np.any(target_arr <= self.best) \
                or np.any(target_arr >= self.worst):
            raise ValueError(f"target: perception value P̄ must lie in ({self.best:.6g}, "
                             f"{self.worst:.6g}) (best, worst) for table {self.table.name!r}, "
                             f"{self.scheme} scheme; got {target!r}")
        batch_shape = np.broadcast_shapes(snr_db.shape[:-1], budget_w.shape, target_arr.shape)
        snr_linear = np.broadcast_to(db_to_linear(snr_db), batch_shape + (self.n_streams,))
        return MinPowerInputs(snr_linear, np.broadcast_to(budget_w, batch_shape),
                              np.broadcast_to(target_arr, batch_shape), batch_shape)

    # -- link: error rate <-> SNR ---------------------------------------------------------
    def required_snr(self, error_rate: np.ndarray) -> np.ndarray:
        """Linear received SNR s_i(Φ_i) that achieves the error rates ``[..., I]``."""
        rate = np.asarray(error_rate, dtype=float)
        if self.scheme == "forward":
            return bpsk.snr_for_ber(np.clip(rate, 1e-300, 0.5))
        out = fbl.snr_for_bler(np.clip(rate, 1e-300, 1.0), self.bits, self.blocklength,
                               log_term=self.log_term)
        return np.where(rate >= 1.0, 0.0, out)

    def error_rate(self, snr_linear: np.ndarray) -> np.ndarray:
        """Error rates Φ_i at linear received SNRs ``[..., I]``."""
        if self.scheme == "forward":
            return bpsk.ber(snr_linear)
        return fbl.bler(snr_linear, self.bits, self.blocklength, log_term=self.log_term)

    def required_snr_slope_log10(self, error_rate: np.ndarray) -> np.ndarray:
        """d s_i / d log10(Φ_i) (≤ 0), analytic."""
        rate = np.clip(np.asarray(error_rate, dtype=float), 1e-300, self.max_error_rate)
        if self.scheme == "forward":
            x = -ndtri(rate)  # Q^{-1}(ψ)
            density = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
            with np.errstate(divide="ignore", invalid="ignore"):
                ds_drate = -x / density  # s = x²/2, dx/dψ = −1/φ(x)
            return np.where(rate >= 0.5, -np.inf, ds_drate * rate * np.log(10.0))
        s = self.required_snr(rate)
        n = self.blocklength
        r = self.bits / n - (np.log2(n) / (2.0 * n) if self.log_term else 0.0)
        cap = np.log2(1.0 + s)
        disp = 1.0 - (1.0 + s) ** -2.0
        dcap = 1.0 / ((1.0 + s) * np.log(2.0))
        ddisp = 2.0 * (1.0 + s) ** -3.0
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.log(2.0) * np.sqrt(n / disp) * (cap - r)
            dg = np.log(2.0) * np.sqrt(n) * (dcap / np.sqrt(disp)
                                             - 0.5 * (cap - r) * ddisp / disp**1.5)
            density = np.exp(-0.5 * g * g) / np.sqrt(2.0 * np.pi)
            ds_drate = -1.0 / (density * dg)
        return np.where(rate >= 1.0, -np.inf, ds_drate * rate * np.log(10.0))

    # -- perception ----------------------------------------------------------------------
    def perception(self, error_rate: np.ndarray) -> np.ndarray:
        return self.table.perception(error_rate, self.scheme)

    def perception_log10(self, u: np.ndarray) -> np.ndarray:
        """P at log10 error rates ``u`` (clipped to the valid range)."""
        u = np.minimum(u, self.log10_max)
        if self.scheme == "forward":
            return self.table.forward.value_log10(u)
        return self.table.discard.value(10.0**u)

    def gradient_log10(self, u: np.ndarray) -> np.ndarray:
        """∂P/∂log10(Φ_i)."""
        u = np.minimum(u, self.log10_max)
        if self.scheme == "forward":
            return self.table.forward.gradient_log10(u)
        rate = 10.0**u
        return self.table.discard.gradient(rate) * rate * np.log(10.0)

    def solve_stream_log10(self, u: np.ndarray, stream: int, target: np.ndarray) -> np.ndarray:
        """Largest log10 Φ_stream with P ≤ target given the other streams (NaN if none).

        A solution within 1e-12 decades of Φ_max is snapped to Φ_max: at a curve
        endpoint the stream is switched off exactly (round-off would otherwise leave a
        BLER of 1 − 1e-16, which in the coded scheme costs a finite, large SNR).
        """
        if self.scheme == "forward":
            out = self.table.forward.solve_stream_log10(u, stream, target)
        else:
            rate = 10.0 ** np.minimum(u, self.log10_max)
            sol = self.table.discard.solve_stream(rate, stream, target)
            with np.errstate(divide="ignore"):
                out = np.log10(sol)
            # Below the search floor counts as infeasible (P̄ too close to P_best).
            out = np.where(out < self.log10_min[stream], np.nan, out)
        return np.where(out > self.log10_max - SNAP_DECADES, self.log10_max, out)

    # -- costs ---------------------------------------------------------------------------
    def powers(self, error_rate: np.ndarray, inputs: MinPowerInputs) -> np.ndarray:
        """q_i = P_max · s_i(Φ_i) / snr_i (W)."""
        return inputs.budget_w[..., None] * self.required_snr(error_rate) / inputs.snr_linear

    def weights(self, inputs: MinPowerInputs) -> np.ndarray:
        """w_i = Z_i P_max / snr_i so that Σ Z_i q_i = Σ w_i s_i(Φ_i)."""
        return self.symbols * inputs.budget_w[..., None] / inputs.snr_linear
