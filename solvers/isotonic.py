"""Isotonic (monotone) least-squares fitting of values on an n-dimensional grid.

Solves

    minimize_f  Σ_k w_k (f_k − y_k)²
    subject to  f non-decreasing along every axis of the grid,

the projection onto the intersection of the per-axis monotone cones. Each cone
projection is a set of independent 1-D isotonic regressions
(``scipy.optimize.isotonic_regression``, pool-adjacent-violators); the
intersection is reached with Dykstra's alternating projections, which converge
to the exact weighted least-squares projection (not merely a feasible point).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import isotonic_regression

__all__ = ["is_monotone_grid", "isotonic_grid"]


def _project_axis(values: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    moved_v = np.moveaxis(values, axis, -1)
    moved_w = np.moveaxis(weights, axis, -1)
    flat_v = moved_v.reshape(-1, moved_v.shape[-1])
    flat_w = moved_w.reshape(-1, moved_w.shape[-1])
    out = np.empty_like(flat_v)
    for row, (v, w) in enumerate(zip(flat_v, flat_w)):
        out[row] = isotonic_regression(v, weights=w, increasing=True).x
    return np.moveaxis(out.reshape(moved_v.shape), -1, axis)


def is_monotone_grid(values: ArrayLike, atol: float = 0.0) -> bool:
    """True if ``values`` is non-decreasing along every axis (up to ``atol``)."""
    arr = np.asarray(values, dtype=float)
    return all(bool(np.all(np.diff(arr, axis=a) >= -atol)) for a in range(arr.ndim))


def isotonic_grid(values: ArrayLike, weights: ArrayLike | None = None, *, tol: float = 1e-12,
                  max_iter: int = 10_000) -> np.ndarray:
    """Weighted least-squares projection of grid values onto non-decreasing functions.

    Parameters
    ----------
    values : array_like, shape (n_1, ..., n_d)
        Noisy values on a rectilinear grid.
    weights : array_like, optional
        Positive weights of the same shape (e.g. ``1 / stderr**2``); ones by default.
    tol : float
        Stop when an iteration changes the estimate by less than ``tol`` (max abs).
    max_iter : int
        Iteration cap of Dykstra's method.

    Returns
    -------
    ndarray
        The fitted grid, non-decreasing along each axis.
    """
    y = np.asarray(values, dtype=float)
    w = np.ones_like(y) if weights is None else np.broadcast_to(np.asarray(weights, float), y.shape)
    if not np.all(np.isfinite(y)):
        raise ValueError("values: must be finite")
    if np.any(w <= 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights: must be positive and finite")
    if y.ndim == 1:
        return isotonic_regression(y, weights=w, increasing=True).x
    x = y.copy()
    corrections = [np.zeros_like(y) for _ in range(y.ndim)]
    for _ in range(max_iter):
        previous = x.copy()
        for axis in range(y.ndim):
            z = x + corrections[axis]
            x = _project_axis(z, w, axis)
            corrections[axis] = z - x
        if np.max(np.abs(x - previous)) < tol:
            break
    # Dykstra converges from inside within tol; remove residual violations exactly.
    for axis in range(y.ndim):
        x = np.maximum.accumulate(x, axis=axis)
    return x
