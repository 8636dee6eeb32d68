"""``discrete``: M-QAM order adaptation of the conditioning streams (Table II of Qiao et al.)."""

from __future__ import annotations

from typing import Any

import numpy as np

from semopt.allocators.latency.base import LatencyMethod, status_codes
from semopt.options import Option
from semopt.problems.latency import LatencyInputs, LatencySolution
from semopt.problems.latency_math import CHUNK_ROWS
from semopt.registry import register_allocator
from semopt.result import OUTAGE
from semopt.units import linear_to_db

__all__ = ["DiscreteMethod"]

TIE_RTOL = 1e-12
"""Relative slack of the latency comparisons between candidates and orders."""


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


@register_allocator("latency")
class DiscreteMethod(LatencyMethod):
    """Discrete M-QAM order adaptation for the conditioning stream(s) (Table II).

    Each stream uses an order ``M_i`` of the scenario's ``orders`` (bits/symbol
    ``log2 M_i``; 0 = outage). Order ``M`` at the target BER needs
    ``γ_i ≥ (M − 1)(−ln(β BER))/α`` and then gives ``T_i = |v_i| / (B_i log2 M_i)``
    whatever the extra power, so::

        min_{M, p} max{T_0(p_0), T_i(M_i)}
        s.t. p_i ≥ p_i^min(M_i),  p_0 = P_T − Σ_i p_i > 0

    For every candidate latency (each ``T_i(M)``) every stream takes its cheapest order
    that meets it and the prompt gets the remaining power; the best candidate wins.
    Exact (enumeration), vectorized over the batch and the candidates.
    """

    name = "discrete"
    optimality = "global"
    vectorized = True
    options = {"prompt_within_stream": Option(
        True, "the paper's rule (reproduces Table II): an order is usable only if the "
        "prompt's retransmissions finish within the stream's transmission, T_0 ≤ max T_i; "
        "False takes the order minimizing max(T_0, T_i) whenever its least power fits",
        kind="bool", parse=_flag)}

    def solve_reachable(self, inputs: LatencyInputs) -> LatencySolution:
        sc = self.problem.scenario
        strict = bool(self.prompt_within_stream)
        n = sc.n_streams
        gbar = inputs.gbar
        rows = gbar.size
        orders = np.asarray(sc.orders, dtype=float)                       # (O,)
        bits = self.problem.bits                                          # (I,)
        bw = self.problem.bandwidth
        w = self.problem.bandwidth_fraction
        gap = inputs.gap                                                  # (I,)
        bps = np.log2(orders)                                             # (O,)
        t_im = bits[:, None] / (bw[1:, None] * bps[None, :])              # (I, O)
        snr_req = (orders[None, :] - 1.0) / gap[:, None]                  # (I, O)
        x_im = np.where(bits[:, None] > 0, w[1:, None] * snr_req, 0.0)    # (I, O) · 1/γ̄
        cand = np.unique(t_im[bits > 0])                                  # (C,)
        allowed = t_im[:, :, None] <= cand[None, None, :] * (1 + TIE_RTOL)  # (I, O, C)
        first = np.argmax(allowed, axis=1)                                # (I, C) cheapest
        any_ok = np.any(allowed, axis=1)                                  # (I, C)
        idx_i = np.arange(n)[:, None]
        x_choice = np.where(any_ok, x_im[idx_i, first], np.inf)           # (I, C)
        t_choice = np.where(any_ok, t_im[idx_i, first], np.inf)
        t_choice = np.where(bits[:, None] > 0, t_choice, 0.0)
        x_choice = np.where(bits[:, None] > 0, x_choice, 0.0)
        t_streams = t_choice.max(axis=0)                                  # (C,)
        cand_ok = np.all(any_ok | (bits[:, None] == 0), axis=0)           # (C,)
        x_streams = x_choice.sum(axis=0)                                  # (C,) · 1/γ̄
        a0 = self.problem.prompt_base_s
        cw = sc.prompt_c * w[0]
        n_cand = cand.size
        best_c = np.zeros(rows, dtype=np.intp)
        latency = np.full(rows, np.inf)
        for sl in (slice(k, min(k + CHUNK_ROWS, rows)) for k in range(0, rows, CHUNK_ROWS)):
            g = gbar[sl]
            best_t = latency[sl]
            best_i = best_c[sl]
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                for c in range(n_cand):             # one candidate latency at a time
                    if not cand_ok[c]:
                        continue
                    x0 = 1.0 - x_streams[c] / g
                    t0 = a0 * np.exp(cw / (g * x0))
                    total = np.maximum(t0, t_streams[c])
                    feasible = x0 > 0
                    if strict:
                        feasible &= t0 <= t_streams[c] * (1 + TIE_RTOL)
                    better = feasible & (total < best_t)
                    np.copyto(best_t, total, where=better)
                    np.copyto(best_i, c, where=better)
        ok = np.isfinite(latency)
        latency[~ok] = np.nan
        fractions = np.empty((rows, 1 + n), order="F")
        bits_ps = np.zeros((rows, n), order="F")
        fractions[:, 0] = 1.0
        for i in range(n):
            if bits[i] == 0:
                fractions[:, 1 + i] = 0.0
                continue
            chosen = first[i].take(best_c)                                # (B,)
            fractions[:, 1 + i] = x_im[i].take(chosen) / gbar
            fractions[:, 0] -= fractions[:, 1 + i]
            bits_ps[:, i] = bps.take(chosen)
        fractions[~ok] = np.nan
        bits_ps[~ok] = 0.0
        msg = (f"discrete: orders {list(sc.orders)}"
               + ("; prompt must finish within the stream (T_0 ≤ T_i)" if strict else ""))
        if not np.all(ok):
            msg += "; outage where no order fits"
            if n == 1:
                need = float(linear_to_db(np.min(x_im[:, 0])))
                msg += f" (the lowest order alone needs γ̄ ≥ {need:.2f} dB)"
        order = np.where(bits_ps > 0, np.exp2(bits_ps), 0.0)
        return LatencySolution(
            fractions, status_codes(ok, OUTAGE), "discrete", latency_s=latency,
            bits_per_symbol=bits_ps, iterations=0, evaluations=int(rows * cand.size),
            message=msg, batch_extras={"modulation_order": order})

