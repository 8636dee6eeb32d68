"""Vectorized bracketing root finding for many scalar equations at once.

Two tools, both elementwise over arrays of any shape (brackets and extra arguments are
broadcast together):

* :func:`find_root` -- a thin, safe wrapper around
  :func:`scipy.optimize.elementwise.find_root` (Chandrupatla's method, SciPy >= 1.15):
  brackets may be given in either order, endpoints that are already roots are returned
  as such, and elements without a sign change give NaN instead of an error status.
* :func:`bisect` -- plain vectorized bisection, slower but with no assumptions beyond
  continuity and a sign change.

In both, ``f`` must be vectorized: ``f(x, *args)`` evaluated on an array ``x`` returns
an array of the same shape whose element ``i`` depends only on ``x[i]`` (and the
broadcast ``args[j][i]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["bisect", "find_root"]

_EPS = np.finfo(float).eps


def _prepare(lo: ArrayLike, hi: ArrayLike, args: tuple[Any, ...]
             ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    arrays = np.broadcast_arrays(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float),
                                 *(np.asarray(a, dtype=float) for a in args))
    lo_b, hi_b = np.minimum(arrays[0], arrays[1]), np.maximum(arrays[0], arrays[1])
    return lo_b, hi_b, tuple(np.array(a) for a in arrays[2:])


def _evaluate(f: Callable[..., ArrayLike], x: np.ndarray, args: tuple[np.ndarray, ...]
              ) -> np.ndarray:
    value = np.asarray(f(x, *args), dtype=float)
    if value.shape != x.shape:
        value = np.broadcast_to(value, x.shape)
    return value

def _brackets(f: Callable[..., Any], lo: ArrayLike, hi: ArrayLike,
              args: tuple) -> tuple[Any, ...]:
    """Broadcast brackets, evaluate the ends, and pre-fill exact roots at the ends.

    Returns ``(lo, hi, args, f_lo, out, valid)``: ``out`` holds an endpoint where f
    is exactly 0 and NaN elsewhere; ``valid`` marks finite brackets with a sign change.
    """
    lo_b, hi_b, args_b = _prepare(lo, hi, args)
    f_lo = _evaluate(f, lo_b, args_b)
    f_hi = _evaluate(f, hi_b, args_b)
    out = np.full(lo_b.shape, np.nan)
    finite = np.isfinite(lo_b) & np.isfinite(hi_b)
    at_lo = finite & (f_lo == 0)
    at_hi = finite & (f_hi == 0) & ~at_lo
    out[at_lo] = lo_b[at_lo]
    out[at_hi] = hi_b[at_hi]
    valid = finite & (np.sign(f_lo) * np.sign(f_hi) < 0)
    return lo_b, hi_b, args_b, f_lo, out, valid



def find_root(
    f: Callable[..., ArrayLike],
    lo: ArrayLike,
    hi: ArrayLike,
    *,
    args: tuple[Any, ...] = (),
    xatol: float | None = None,
    xrtol: float | None = None,
    fatol: float | None = None,
    frtol: float | None = None,
    maxiter: int | None = None,
    full_output: bool = False,
) -> np.ndarray | tuple[np.ndarray, Any]:
    """Roots of many scalar equations ``f(x, *args) = 0`` by Chandrupatla's method.

    Wraps :func:`scipy.optimize.elementwise.find_root`.

    Parameters
    ----------
    f : callable
        Vectorized function ``f(x, *args) -> array`` (elementwise, see module docs).
    lo, hi : array_like
        Bracket endpoints, broadcast with each other and with ``args``; the order of the
        two does not matter.
    args : tuple of array_like, optional
        Extra arguments of ``f``, broadcast with the brackets.
    xatol, xrtol, fatol, frtol : float, optional
        Absolute/relative tolerances on the root and on ``f`` (SciPy's defaults when
        ``None``: ``xatol`` = smallest normal, ``xrtol`` = 4 eps, ``fatol`` = smallest
        normal, ``frtol`` = 0).
    maxiter : int, optional
        Iteration cap (SciPy's default when ``None``).
    full_output : bool, default False
        Also return SciPy's result object (``status``, ``nit``, ``nfev``, ``bracket``...);
        its arrays are 1-D, over the elements with a valid bracket in C order
        (``None`` when there are none).

    Returns
    -------
    x : ndarray
        Roots, of the broadcast shape of ``lo``, ``hi`` and ``args``. NaN where the
        bracket has no sign change (``f(lo)*f(hi) > 0``), where ``f`` is NaN at an
        endpoint, where an endpoint is not finite, or where SciPy did not converge.
        An endpoint at which ``f`` is exactly zero is returned as the root.
    result : scipy result, only if ``full_output``

    Raises
    ------
    ValueError
        If ``maxiter`` is negative or a tolerance is negative.
    """
    from scipy.optimize import elementwise

    if maxiter is not None and maxiter < 0:
        raise ValueError(f"maxiter: must be >= 0, got {maxiter}")
    tolerances = {key: val for key, val in
                  {"xatol": xatol, "xrtol": xrtol, "fatol": fatol, "frtol": frtol}.items()
                  if val is not None}
    for key, val in tolerances.items():
        if not val >= 0:
            raise ValueError(f"{key}: must be >= 0, got {val}")
    lo_b, hi_b, args_b, _, out, valid = _brackets(f, lo, hi, args)
    if not valid.any():
        return (out[()], None) if full_output else out[()]
    # SciPy runs on the compressed 1-D set of valid brackets (f is elementwise).
    res = elementwise.find_root(f, (lo_b[valid], hi_b[valid]),
                                args=tuple(a[valid] for a in args_b),
                                tolerances=tolerances or None, maxiter=maxiter)
    x_valid = np.where(np.asarray(res.status) == 0, np.asarray(res.x), np.nan)
    out[valid] = x_valid
    return (out[()], res) if full_output else out[()]


def bisect(
    f: Callable[..., ArrayLike],
    lo: ArrayLike,
    hi: ArrayLike,
    *,
    args: tuple[Any, ...] = (),
    xtol: float = 2e-12,
    rtol: float = 4 * _EPS,
    maxiter: int = 200,
) -> np.ndarray:
    """Roots of many scalar equations ``f(x, *args) = 0`` by vectorized bisection.

    Each iteration evaluates ``f`` once on the array of midpoints of the still-active
    elements; an element stops when its bracket is narrower than
    ``xtol + rtol * |mid|``, when ``f(mid) == 0``, or when the midpoint cannot be
    split further in floating point.

    Parameters
    ----------
    f : callable
        Vectorized function ``f(x, *args) -> array`` (elementwise, see module docs).
    lo, hi : array_like
        Bracket endpoints (either order), broadcast with each other and with ``args``.
    args : tuple of array_like, optional
        Extra arguments of ``f``, broadcast with the brackets.
    xtol : float, default 2e-12
        Absolute tolerance on the root (same default as :func:`scipy.optimize.bisect`).
    rtol : float, default 4 eps
        Relative tolerance on the root.
    maxiter : int, default 200
        Maximum number of halvings; elements still open after it return their midpoint.

    Returns
    -------
    ndarray
        Roots of the broadcast shape. NaN where the bracket has no sign change
        (``f(lo)*f(hi) > 0``), where ``f`` is NaN at an endpoint, or where an endpoint is
        not finite. An endpoint at which ``f`` is exactly zero is returned as the root.

    Raises
    ------
    ValueError
        If ``xtol`` or ``rtol`` is negative, or ``maxiter`` < 1.
    """
    if not xtol >= 0:
        raise ValueError(f"xtol: must be >= 0, got {xtol}")
    if not rtol >= 0:
        raise ValueError(f"rtol: must be >= 0, got {rtol}")
    if maxiter < 1:
        raise ValueError(f"maxiter: must be >= 1, got {maxiter}")
    lo_b, hi_b, args_b, f_lo, out, valid = _brackets(f, lo, hi, args)
    flat_out = out.reshape(-1)
    active = np.flatnonzero(valid.reshape(-1))
    a = lo_b.reshape(-1)[active]
    b = hi_b.reshape(-1)[active]
    neg_lo = f_lo.reshape(-1)[active] < 0  # orientation: f(a) < 0 < f(b) or reverse
    flat_args = [np.broadcast_to(x, lo_b.shape).reshape(-1) for x in args_b]
    sub_args = [x[active] for x in flat_args]
    for _ in range(maxiter):
        if active.size == 0:
            break
        mid = a + 0.5 * (b - a)
        stalled = (mid <= a) | (mid >= b)  # adjacent floats: cannot split further
        fm = np.asarray(f(mid, *sub_args), dtype=float)
        fm = np.broadcast_to(fm, mid.shape)
        go_right = (fm < 0) == neg_lo  # root lies in (mid, b)
        a = np.where(go_right & (fm != 0), mid, a)
        b = np.where(~go_right & (fm != 0), mid, b)
        width = b - a
        done = (fm == 0) | (width <= xtol + rtol * np.abs(mid)) | stalled
        result = np.where(fm == 0, mid, a + 0.5 * (b - a))
        if done.any():
            flat_out[active[done]] = result[done]
            keep = ~done
            active, a, b, neg_lo = active[keep], a[keep], b[keep], neg_lo[keep]
            sub_args = [x[keep] for x in sub_args]
    if active.size:
        flat_out[active] = a + 0.5 * (b - a)
    return out[()]
