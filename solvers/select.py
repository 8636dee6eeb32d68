"""Table selection: interpolate tabulated values on a 1-D grid and pick the best admissible row.

Generic and vectorized over a batch of query points; no domain vocabulary.

- :func:`interp_grid` — piecewise-linear interpolation of ``values[..., G]`` tabulated on an
  increasing grid, at query points ``x`` (batch), refusing to extrapolate unless asked.
- :func:`lexicographic_argmin` — per batch row, the index minimizing a tuple of keys
  among admissible entries (ties broken by the next key, then by the lowest index).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["GridInterpolation", "interp_grid", "lexicographic_argmin"]


@dataclass(frozen=True)
class GridInterpolation:
    """Result of :func:`interp_grid`.

    Attributes
    ----------
    values : ndarray, shape ``x.shape + values.shape[:-1]``
        Interpolated values (NaN where a bracketing table entry is NaN).
    lower, upper : ndarray of int, shape ``x.shape``
        Indices of the bracketing grid points (equal when ``x`` hits a grid point).
    weight : ndarray, shape ``x.shape``
        Weight of ``upper``: ``value = (1 − w) v[lower] + w v[upper]`` (outside the grid
        with linear extrapolation, ``w`` is < 0 or > 1).
    extrapolated : ndarray of bool, shape ``x.shape``
    """

    values: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    weight: np.ndarray
    extrapolated: np.ndarray


def interp_grid(grid: ArrayLike, values: ArrayLike, x: ArrayLike, *,
                extrapolate: bool | Literal["linear", "clamp"] = False,
                argument: str = "x") -> GridInterpolation:
    """Linear interpolation of tabulated ``values`` along their last axis.

    Parameters
    ----------
    grid : array_like, shape ``(G,)``
        Strictly increasing abscissae (``G ≥ 1``).
    values : array_like, shape ``(..., G)``
        Tabulated ordinates; leading axes are independent tables.
    x : array_like
        Query points (any shape).
    extrapolate : bool or {"linear", "clamp"}
        ``False`` (default) raises ``ValueError`` for a query outside ``[grid[0], grid[-1]]``;
        ``True`` or ``"linear"`` extends the end segments; ``"clamp"`` holds the end values.
    argument : str
        Name used in error messages.

    Returns
    -------
    GridInterpolation
    """
    g = np.asarray(grid, dtype=float)
    v = np.asarray(values, dtype=float)
    q = np.asarray(x, dtype=float)
    if g.ndim != 1 or g.size < 1:
        raise ValueError("grid: must be a non-empty 1-D array")
    if np.any(np.diff(g) <= 0) or not np.all(np.isfinite(g)):
        raise ValueError("grid: must be finite and strictly increasing")
    if v.shape[-1:] != g.shape:
        raise ValueError(f"values: last axis must match the grid ({g.size}), got {v.shape}")
    if not np.all(np.isfinite(q)):
        raise ValueError(f"{argument}: must be finite, got {x!r}")
    outside = (q < g[0]) | (q > g[-1])
    mode = "linear" if extrapolate is True else extrapolate
    if np.any(outside) and mode is False:
        bad = q[outside]
        raise ValueError(f"{argument}: {bad.flat[0]:g} is outside the table's range "
                         f"[{g[0]:g}, {g[-1]:g}]; pass extrapolate='linear' or 'clamp' to allow it")
    if mode not in (False, "linear", "clamp"):
        raise ValueError("extrapolate: must be False, True, 'linear' or 'clamp', "
                         f"got {extrapolate!r}")
    if g.size == 1:
        lower = np.zeros(q.shape, dtype=int)
        upper = lower
        w = np.zeros(q.shape)
    else:
        hi = np.clip(np.searchsorted(g, q, side="right"), 1, g.size - 1)
        lower = hi - 1
        upper = hi
        w = (q - g[lower]) / (g[upper] - g[lower])
        if mode == "clamp":
            w = np.clip(w, 0.0, 1.0)
        # exact grid hits: collapse to one entry so NaN neighbours do not leak in
        at_lower = w == 0.0
        at_upper = w == 1.0
        upper = np.where(at_lower, lower, upper)
        lower = np.where(at_upper, upper, lower)
        w = np.where(at_lower | at_upper, 0.0, w)
    vt = np.moveaxis(v, -1, 0)  # (G, ...)
    vl = vt[lower]  # x.shape + values.shape[:-1]
    vu = vt[upper]
    wb = w.reshape(q.shape + (1,) * (v.ndim - 1))
    out = np.where(wb == 0.0, vl, (1.0 - wb) * vl + wb * vu)
    return GridInterpolation(values=out, lower=lower, upper=upper, weight=w,
                             extrapolated=outside)


def lexicographic_argmin(keys: Sequence[ArrayLike], admissible: ArrayLike) -> np.ndarray:
    """Per row, the index of the admissible entry with the smallest key tuple.

    Parameters
    ----------
    keys : sequence of array_like, each broadcastable to ``admissible.shape`` ``(..., P)``
        Primary key first. NaN keys are treated as +inf.
    admissible : array_like of bool, shape ``(..., P)``

    Returns
    -------
    ndarray of int, shape ``admissible.shape[:-1]``
        Index along the last axis; ``-1`` where no entry is admissible. Remaining ties go
        to the lowest index.
    """
    mask = np.asarray(admissible, dtype=bool).copy()
    if mask.ndim == 0:
        raise ValueError("admissible: must have a trailing candidate axis")
    for key in keys:
        k = np.broadcast_to(np.asarray(key, dtype=float), mask.shape)
        k = np.where(np.isnan(k), np.inf, k)
        masked = np.where(mask, k, np.inf)
        best = masked.min(axis=-1, keepdims=True)
        mask &= masked == best
    any_ok = mask.any(axis=-1)
    return np.where(any_ok, np.argmax(mask, axis=-1), -1)
