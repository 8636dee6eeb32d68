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

__all__ = ["LowerHull", "bisect_sign_on_nodes", "golden_section", "implicit_slope", "scan_argmin"]

_INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0


def implicit_slope(g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
    """dx_2/dx_1 = −g_1/g_2 along g(x_1, x_2) = c (±inf where g_2 = 0, 0 where both are 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = -g1 / g2
    return np.where((g1 == 0) & (g2 == 0), 0.0, slope)


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


class LowerHull:
    """Minimize ``w_x·x_k + w_y·y_k`` over a fixed point set for many weight pairs.

    For non-negative weights the minimizer is a vertex of the lower-left convex hull of
    the points; the hull is built once (monotone chain, O(n log n)) and every query is
    a binary search over its edge slopes (O(log n)), vectorized over the queries.

    Parameters
    ----------
    x, y : ndarray, shape (n,)
        Point coordinates; non-finite points are ignored.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        index = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if index.size == 0:
            raise ValueError("x, y: no finite point")
        order = index[np.lexsort((y[index], x[index]))]
        hull: list[int] = []
        for k in order:
            while len(hull) >= 2:
                i, j = hull[-2], hull[-1]
                cross = (x[j] - x[i]) * (y[k] - y[i]) - (y[j] - y[i]) * (x[k] - x[i])
                if cross <= 0:
                    hull.pop()
                else:
                    break
            hull.append(int(k))
        # Keep the lower-left part: vertices up to the one with the smallest y.
        ys = y[hull]
        hull = hull[: int(np.argmin(ys)) + 1]
        self.vertices = np.array(hull)
        vx, vy = x[self.vertices], y[self.vertices]
        with np.errstate(divide="ignore", invalid="ignore"):
            self.slopes = np.diff(vy) / np.diff(vx)  # increasing, all < 0

    def argmin(self, w_x: np.ndarray, w_y: np.ndarray) -> np.ndarray:
        """Index (into the original points) of the minimizer for each weight pair."""
        w_x = np.asarray(w_x, dtype=float)
        w_y = np.asarray(w_y, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(w_y > 0, -w_x / w_y, -np.inf)
        j = np.searchsorted(self.slopes, ratio, side="left")
        return self.vertices[np.minimum(j, len(self.vertices) - 1)]


def bisect_sign_on_nodes(coefficients: np.ndarray, weights: np.ndarray, lo: np.ndarray,
                         hi: np.ndarray) -> tuple[np.ndarray, int]:
    """Algorithm-1 bisection on a derivative tabulated at equally spaced nodes.

    The derivative at node k for problem b is ``coefficients[k] @ weights[b]`` and is
    linear between nodes. Per problem, on the node bracket ``[lo, hi]``: return ``lo``
    if the derivative there is ≥ 0, ``hi`` if it is ≤ 0, otherwise bisect the node
    indices keeping a sign change (negative left, non-negative right) down to one cell
    and return the exact zero of the linear piece inside it. Only the still-open
    brackets are carried through the iterations.

    Parameters
    ----------
    coefficients : ndarray, shape (n_nodes, m)
    weights : ndarray, shape (B, m)
    lo, hi : ndarray of int, shape (B,)

    Returns
    -------
    position : ndarray, shape (B,)
        Fractional node position of the result.
    evaluations : int
        Derivative evaluations per problem (at most).
    """
    columns = [np.ascontiguousarray(coefficients[:, j]) for j in range(coefficients.shape[1])]
    weights = np.asarray(weights, dtype=float)

    def deriv(k: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        out = columns[0][k] * weights[rows, 0]
        for j in range(1, len(columns)):
            out += columns[j][k] * weights[rows, j]
        return out

    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    d_lo, d_hi = deriv(lo, slice(None)), deriv(hi, slice(None))
    position = np.where(d_lo >= 0, lo, hi).astype(float)
    rows = np.flatnonzero((d_lo < 0) & (d_hi > 0))
    lo, hi, d_lo, d_hi = lo[rows], hi[rows], d_lo[rows], d_hi[rows]
    evaluations = 2
    while rows.size:
        wide = hi - lo > 1
        if not np.any(wide):
            break
        mid = np.where(wide, (lo + hi) // 2, lo)
        d_mid = deriv(mid, rows)
        evaluations += 1
        right = wide & (d_mid >= 0)
        left = wide & (d_mid < 0)
        hi, d_hi = np.where(right, mid, hi), np.where(right, d_mid, d_hi)
        lo, d_lo = np.where(left, mid, lo), np.where(left, d_mid, d_lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip(d_lo / (d_lo - d_hi), 0.0, 1.0)
    position[rows] = lo + np.where(np.isfinite(t), t, 0.5)
    return position, evaluations
