"""Vectorized 1-D searches along a curve parametrized by one coordinate.

For problems of the form

    minimize  F(x_1, x_2)   subject to  g(x_1, x_2) = c,

where the constraint defines x_2 = φ(x_1) implicitly on an interval [lo, hi], the
objective along the curve is f(x_1) = F(x_1, φ(x_1)) with total derivative (implicit
differentiation)

    df/dx_1 = ∂F/∂x_1 − ∂F/∂x_2 · (∂g/∂x_1) / (∂g/∂x_2).

Every function here works on a batch of independent problems at once (arrays of
brackets), with a fixed number of vectorized iterations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["bisect_stationary", "golden_section", "implicit_slope", "scan_argmin"]

_INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0


def implicit_slope(g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
    """dx_2/dx_1 = −g_1/g_2 along g(x_1, x_2) = c (±inf where g_2 = 0, 0 where both are 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = -g1 / g2
    return np.where((g1 == 0) & (g2 == 0), 0.0, slope)


def bisect_stationary(derivative: Callable[[np.ndarray], np.ndarray], lo: np.ndarray,
                      hi: np.ndarray, *, xtol: float = 1e-10,
                      max_iter: int = 100) -> tuple[np.ndarray, int]:
    """Bisection on the sign of a derivative (Algorithm 1 of Xu et al., vectorized).

    If ``derivative(lo) >= 0`` the left end is returned; else if ``derivative(hi) <= 0``
    the right end; otherwise the interval is halved, keeping a sign change
    (negative on the left, non-negative on the right), until it is shorter than
    ``xtol``. For a unimodal objective this is the minimizer; in general a local one.

    Returns the points and the number of derivative evaluations per element.
    """
    lo = np.array(lo, dtype=float)
    hi = np.array(hi, dtype=float)
    d_lo = derivative(lo)
    d_hi = derivative(hi)
    result = np.where(d_lo >= 0, lo, np.where(d_hi <= 0, hi, np.nan))
    active = np.isnan(result)
    evaluations = 2
    for _ in range(max_iter):
        if not np.any(active & (hi - lo > xtol)):
            break
        mid = 0.5 * (lo + hi)
        d_mid = derivative(mid)
        evaluations += 1
        go_left = d_mid >= 0
        hi = np.where(active & go_left, mid, hi)
        lo = np.where(active & ~go_left, mid, lo)
    result = np.where(active, 0.5 * (lo + hi), result)
    return result, evaluations


def golden_section(f: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray, *,
                   xtol: float = 1e-10, max_iter: int = 200) -> tuple[np.ndarray, int]:
    """Vectorized golden-section minimization of ``f`` on each bracket ``[lo, hi]``.

    Returns the points and the number of evaluations of ``f`` per element.
    """
    a = np.array(lo, dtype=float)
    b = np.array(hi, dtype=float)
    c = b - _INV_PHI * (b - a)
    d = a + _INV_PHI * (b - a)
    fc, fd = f(c), f(d)
    evaluations = 2
    for _ in range(max_iter):
        if np.all(b - a <= xtol):
            break
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = np.where(left, b - _INV_PHI * (b - a), d)
        d_new = np.where(left, c, a + _INV_PHI * (b - a))
        fp = f(np.where(left, c_new, d_new))
        evaluations += 1
        fc, fd = np.where(left, fp, fd), np.where(left, fc, fp)
        c, d = c_new, d_new
    x = 0.5 * (a + b)
    return x, evaluations


def scan_argmin(values: np.ndarray) -> np.ndarray:
    """Index of the smallest finite value along the last axis (NaN/inf are skipped)."""
    masked = np.where(np.isfinite(values), values, np.inf)
    return np.argmin(masked, axis=-1)
