"""The equal-latency equation of the latency problem (Qiao et al., Lemma 1), vectorized.

With power fractions ``x_i = p_i / P_T``, bandwidth fractions ``w_i = B_i / B_tot`` and
the linear average SNR ``γ̄`` at the budget, stream ``i`` receives ``γ_i = γ̄ x_i / w_i``.
The least power fraction that gives latency ``T`` is closed-form per stream
(:mod:`semopt.link.latency`)::

    prompt (ARQ):   x_0(T) = w_0 c / (γ̄ u),                       u = ln(T / A_0)
    MQAM stream i:  x_i(T) = (w_i / K_i) · expm1(a_i e^{−u}) / γ̄,  a_i = |v_i| ln 2 / (B_i A_0)

(``A_0 = |v_0| / (r log2(M_0) B_0)``, ``c = k ln L + b``, ``K_i = α / (−ln(β BER_i))``).
The optimum of problem (5) spends the budget with equal latencies (Lemma 1), i.e. it is
the root in ``u > 0`` of::

    F(u) = w_0 c / u + Σ_i k_i expm1(a_i e^{−u}) = γ̄,            k_i = w_i / K_i.

Every term of ``F`` is positive, decreasing and log-convex in ``u``, so ``ln F(u) − ln γ̄``
is convex and decreasing. Newton's method on it started at the closed-form lower bound
``u_lo`` (the largest ``u`` at which one term alone equals ``γ̄``; there
``0 ≤ ln F − ln γ̄ ≤ ln(1 + I)``) increases monotonically to the root without
overshooting, so it needs no safeguard and no upper bracket.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from semopt.link.latency import LN2, LatencyScenario

__all__ = ["CHUNK_ROWS", "EqualLatencyRoot", "EqualLatencyTerms", "solve_equal_latency"]

CHUNK_ROWS = 8192
"""Rows per block of the vectorized iterations (keeps the work arrays in cache)."""
NEWTON_STEP_RTOL = 1e-9
"""Newton stops after a step below this fraction of ``u``; with quadratic convergence the
remaining error is then of order 1e-18 relative."""


class EqualLatencyTerms:
    """Coefficients of ``F(u)`` for one scenario, BER target and bandwidth split.

    Parameters
    ----------
    scenario : LatencyScenario
    gap : ndarray, shape (I,)
        ``K_i = α / (−ln(β BER_i))``.
    bandwidth_hz : ndarray, shape (1+I,) or (B, 1+I), optional
        Bandwidths, prompt first (default: the scenario's). A 2-D array gives one split
        per realization.

    Attributes
    ----------
    a0 : float or ndarray (B,)
        ``A_0`` in s.
    p : float or ndarray (B,)
        ``w_0 c``.
    k, a : list of (float or ndarray (B,))
        ``k_i = w_i / K_i`` and ``a_i`` of the conditioning streams that carry bits.
    active : ndarray of bool, shape (I,)
        Streams with ``|v_i| > 0`` (a zero-bit stream needs no power).
    """

    def __init__(self, scenario: LatencyScenario, gap: np.ndarray,
                 bandwidth_hz: np.ndarray | None = None) -> None:
        bw = np.asarray(scenario.bandwidth_hz if bandwidth_hz is None else bandwidth_hz,
                        dtype=float)
        self.per_row = bw.ndim == 2
        w = bw / bw.sum(axis=-1, keepdims=True)
        gap = np.asarray(gap, dtype=float)
        bits = np.asarray(scenario.stream_bits, dtype=float)
        self.active = bits > 0
        self.a0 = scenario.prompt_bits / (scenario.code_rate * np.log2(scenario.prompt_order)
                                          * bw[..., 0])
        self.p = w[..., 0] * scenario.prompt_c
        self.w = w
        self.gap = gap
        self.k: list[float | np.ndarray] = []
        self.a: list[float | np.ndarray] = []
        self.index: list[int] = []
        for i in np.flatnonzero(self.active):
            k_i = w[..., 1 + i] / gap[i]
            a_i = LN2 * bits[i] / (bw[..., 1 + i] * self.a0)
            self.k.append(k_i if self.per_row else float(k_i))
            self.a.append(a_i if self.per_row else float(a_i))
            self.index.append(int(i))
        if not self.per_row:
            self.a0 = float(self.a0)
            self.p = float(self.p)

    def rows(self, sl: slice) -> EqualLatencyTerms:
        """The coefficients of the rows ``sl`` (itself when the split is shared)."""
        if not self.per_row:
            return self
        out = object.__new__(EqualLatencyTerms)
        out.__dict__.update(self.__dict__)
        out.a0, out.p, out.w = self.a0[sl], self.p[sl], self.w[sl]
        out.k = [k[sl] for k in self.k]
        out.a = [a[sl] for a in self.a]
        return out

    def lower_bound(self, gbar: np.ndarray) -> np.ndarray:
        """``u_lo = max(w_0 c/γ̄, max_i ln(a_i / ln(1 + γ̄/k_i)))``: one term alone equals γ̄."""
        lo = self.p / gbar
        for k_i, a_i in zip(self.k, self.a):
            y = np.log1p(gbar / k_i)
            np.divide(a_i, y, out=y)
            np.log(y, out=y)
            np.maximum(lo, y, out=lo)
        return lo

    def fractions(self, u: np.ndarray, gbar: np.ndarray) -> np.ndarray:
        """Least power fractions ``x_i = p_i/P_T`` (prompt first) for latency ``A_0 e^u``."""
        n = 1 + self.active.size
        out = np.zeros(np.shape(u) + (n,), order="F")
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            out[..., 0] = self.p / (gbar * u)
            e = np.exp(-u)
            for i, k_i, a_i in zip(self.index, self.k, self.a):
                out[..., 1 + i] = k_i * np.expm1(a_i * e) / gbar
        return out

    def latency_s(self, u: np.ndarray) -> np.ndarray:
        """``T = A_0 e^u`` in s."""
        with np.errstate(over="ignore"):
            return self.a0 * np.exp(u)


class EqualLatencyRoot(NamedTuple):
    """Root of ``F(u) = γ̄`` for a batch: ``u`` (B,), per-row convergence, counters."""

    u: np.ndarray
    converged: np.ndarray
    iterations: int
    evaluations: int


def solve_equal_latency(gbar: np.ndarray, terms: EqualLatencyTerms, *, max_iter: int = 100,
                        chunk_rows: int = CHUNK_ROWS) -> EqualLatencyRoot:
    """Monotone Newton iteration on ``ln F(u) = ln γ̄`` from ``u_lo`` (see the module notes).

    Parameters
    ----------
    gbar : ndarray, shape (B,)
        Linear average SNR at the budget (positive, finite).
    terms : EqualLatencyTerms
    max_iter : int
        Iteration cap per block of rows.
    chunk_rows : int
        Rows processed together (memory locality; the result does not depend on it).

    Returns
    -------
    EqualLatencyRoot
        ``iterations`` is the largest number of Newton steps any block needed and
        ``evaluations`` the number of evaluations of ``F`` (rows × steps, plus one
        bracket evaluation per row).
    """
    gbar = np.ascontiguousarray(gbar, dtype=float)
    n_rows = gbar.size
    u_all = np.empty(n_rows)
    converged = np.ones(n_rows, dtype=bool)
    iterations = 0
    evaluations = n_rows
    size = min(chunk_rows, max(n_rows, 1))
    e = np.empty(size)
    f = np.empty(size)
    d = np.empty(size)
    y = np.empty(size)
    m = np.empty(size)
    r = np.empty(size)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for start in range(0, n_rows, size):
            sl = slice(start, min(start + size, n_rows))
            g = gbar[sl]
            b = g.size
            e_, f_, d_, y_, m_, r_ = e[:b], f[:b], d[:b], y[:b], m[:b], r[:b]
            t = terms.rows(sl)
            log_g = np.log(g)
            u = t.lower_bound(g)
            steps = 0
            done = False
            while steps < max_iter:
                steps += 1
                np.negative(u, out=e_)
                np.exp(e_, out=e_)
                np.divide(t.p, u, out=f_)
                np.divide(f_, u, out=d_)          # −dF/du of the prompt term
                for k_i, a_i in zip(t.k, t.a):
                    np.multiply(e_, a_i, out=y_)
                    np.expm1(y_, out=m_)
                    np.multiply(m_, k_i, out=r_)
                    f_ += r_
                    m_ += 1.0
                    m_ *= y_
                    m_ *= k_i
                    d_ += m_                       # −dF/du of stream i: k_i y e^y
                np.log(f_, out=r_)
                r_ -= log_g
                r_ *= f_
                r_ /= d_                           # Newton step on ln F − ln γ̄ (≥ 0)
                u += r_
                r_ /= u
                if np.abs(r_).max() <= NEWTON_STEP_RTOL:
                    done = True
                    break
            if not done:
                bad = ~(np.abs(r_) <= NEWTON_STEP_RTOL)
                converged[sl] = ~bad
            u_all[sl] = u
            iterations = max(iterations, steps)
            evaluations += steps * b
    return EqualLatencyRoot(u_all, converged, iterations, evaluations)
