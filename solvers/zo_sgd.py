"""Zeroth-order stochastic gradient descent with box projection, for many problems at once.

Minimizes R independent smooth functions of sample averages,

    minimize_x   L_r(x) = φ_r( E_i[h_r(x; i)] )      subject to   lower ≤ x ≤ upper,

where ``h_r(x; i) ∈ R^k`` can only be *evaluated* (no gradients) for a sample ``i`` of a
finite population of ``n_samples``, and ``φ_r: R^k → R`` is a known outer function with a
known gradient. The runs advance in lockstep (one vectorized evaluation per iteration for
every run still active) but are otherwise independent: each has its own random stream,
keyed by ``keys[r]``, so a run's path does not depend on which other runs share the call.

The search works in box coordinates ``u = (x − lower) / (upper − lower) ∈ [0, 1]^d``, so
the step size, the smoothing radius and the tolerance are fractions of the box width. Each
iteration draws a mini-batch Γ_t (without replacement; all samples when ``batch_size`` is
None) and a direction ``m`` (uniform on [−1, 1]^d, or ±1), and estimates the gradient with
the two-point difference of Liu et al. (IEEE SPM 2020) on the same mini-batch::

    ĝ_t = s · Σ_j ∂φ/∂h̄_j(h̄(u_t)) · [h̄_j(u_t + ν m) − h̄_j(u_t)] / ν · m,

with ``h̄`` the mini-batch mean and ``s = 1 / E[m_i²]`` (3 for uniform directions, 1 for
±1) so that ĝ is unbiased as ν → 0. The step is ``u_{t+1} = Π_[0,1](u_t − η_t ĝ_t)`` with
``η_t = η / (1 + decay·t)``, each coordinate's move clipped to ``max_step`` if given. A run
**converges** when its last ``window`` iterates lie within ``tol`` of each other (∞-norm,
box units) and, if a ``certify`` test is given, its current point passes it (a stall alone
can be a step that has decayed too far: then t restarts at 0 for that run); a run that has
not converged after ``max_iter`` iterations stops there with ``converged = False``.

A penalized constrained problem ``max E[g] s.t. E[k] ≤ 0`` is the special case
``φ(ḡ, k̄) = −ḡ + p·max(0, k̄)²`` (:func:`quadratic_penalty`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["DIRECTIONS", "ZOResult", "derive_keys", "quadratic_penalty", "zo_sgd"]

DIRECTIONS = {"uniform": 3.0, "rademacher": 1.0}
"""Direction distributions and their scale 1 / E[m_i²] (uniform on [−1, 1], or ±1)."""

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


def _u64(value: int) -> np.ndarray:
    return np.array([value], dtype=np.uint64)


def _mix(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer (a bijection of uint64 with good avalanche), elementwise."""
    z = np.asarray(z, dtype=np.uint64)
    z = (z ^ (z >> np.uint64(30))) * _u64(_MIX1)
    z = (z ^ (z >> np.uint64(27))) * _u64(_MIX2)
    return z ^ (z >> np.uint64(31))


def derive_keys(seed: int, *columns: ArrayLike) -> np.ndarray:
    """One uint64 key per run from a seed and per-run columns (ints or floats, shape (R,)).

    The key of a run depends only on ``seed`` and that run's values (floats by their bits),
    so the same run gets the same random stream in any batch.
    """
    arrays = [np.atleast_1d(np.asarray(c)) for c in columns]
    n = max((a.size for a in arrays), default=1)
    key = np.broadcast_to(_mix(_u64(int(seed) & 0xFFFFFFFFFFFFFFFF) + _u64(_GOLDEN)), (n,)).copy()
    for arr in arrays:
        if arr.dtype.kind == "f":
            bits = np.ascontiguousarray(arr, dtype=np.float64).view(np.uint64)
        else:
            bits = arr.astype(np.int64).view(np.uint64)
        key = _mix(key ^ (np.broadcast_to(bits, (n,)) + _u64(_GOLDEN)))
    return key


def _uniform(keys: np.ndarray, t: int, width: int) -> np.ndarray:
    """Counter-based uniforms in [0, 1), shape (R, width), for iteration ``t`` of each run."""
    base = _mix(keys + _u64(t) * _u64(_GOLDEN))
    offsets = (np.arange(1, width + 1, dtype=np.uint64) * _u64(_GOLDEN))[None, :]
    z = _mix(base[:, None] ^ offsets)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


@dataclass(frozen=True)
class ZOResult:
    """Outcome of :func:`zo_sgd` for R runs (for a 1-D ``x0``: one run, without the run axis:
    ``x`` (d,), a bool, two ints and a history (T + 1, d)).

    Attributes
    ----------
    x : ndarray, shape ``(R, d)``
        Final iterates.
    converged : ndarray of bool, shape ``(R,)``
        The run met the stopping rule (last ``window`` iterates within ``tol``) before
        ``max_iter``.
    iterations : ndarray of int, shape ``(R,)``
        Iterations each run took.
    evaluations : ndarray of int, shape ``(R,)``
        Per-sample evaluations of ``h`` of each run (two per mini-batch member per iteration).
    history : ndarray, shape ``(T + 1, R, d)``, optional
        Iterates ``x_0 … x_T`` (``keep_history=True``); a stopped run repeats its last one.
    """

    x: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    evaluations: np.ndarray
    history: np.ndarray | None = None


def quadratic_penalty(penalty: float) -> Callable[[np.ndarray, np.ndarray],
                                                  tuple[np.ndarray, np.ndarray]]:
    """Outer function ``φ(ḡ, k̄) = −ḡ + p·max(0, k̄)²`` and its gradient, for every run.

    For ``h = (g, k)``: maximize E[g] subject to E[k] ≤ 0 by the quadratic penalty method.
    """
    p = float(penalty)
    if not p > 0:
        raise ValueError(f"penalty: must be positive, got {penalty!r}")

    def outer(means: np.ndarray, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g, k = means[:, 0], means[:, 1]
        viol = np.maximum(0.0, k)
        return -g + p * viol * viol, np.stack([-np.ones_like(g), 2.0 * p * viol], axis=1)

    return outer


def zo_sgd(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], ArrayLike],
           outer: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
           x0: ArrayLike, *, lower: ArrayLike, upper: ArrayLike, n_samples: int,
           batch_size: int | None = None, step: float = 0.01, smoothing: float = 0.02,
           decay: float = 0.05, max_step: float | None = None, max_iter: int = 500,
           tol: float = 1e-3, window: int = 10,
           direction: str = "uniform", seed: int = 0, keys: ArrayLike | None = None,
           certify: Callable[[np.ndarray, np.ndarray], ArrayLike] | None = None,
           keep_history: bool = False) -> ZOResult:
    """Projected zeroth-order SGD on R runs at once (see the module docstring).

    Parameters
    ----------
    fn : callable
        ``fn(x, idx, runs) -> array (R', b, k)``: ``h_r(x_r; i)`` for the active runs
        ``runs`` (indices into the R runs, shape (R',)), their points ``x`` (R', d) and
        samples ``idx`` (R', b). Points may lie up to ``smoothing`` box widths outside
        the box (the perturbed evaluations).
    outer : callable
        ``outer(means, runs) -> (φ (R',), ∇φ (R', k))`` for mini-batch means (R', k).
    x0 : array_like, shape ``(R, d)`` or ``(d,)``
        Starting points (projected onto the box).
    lower, upper : array_like, shape ``(d,)`` or ``(R, d)``
        Box bounds (lower ≤ upper; a zero-width coordinate stays fixed).
    n_samples : int
        Size of the sample population (indices ``0 … n_samples − 1``).
    batch_size : int, optional
        Mini-batch size |Γ_t| (without replacement, capped at ``n_samples``); None: all.
    step : float
        Step size η in box units.
    smoothing : float
        Smoothing radius ν of the two-point estimate, in box units.
    decay : float
        Step schedule ``η_t = η / (1 + decay·t)`` (0: constant).
    max_step : float, optional
        Largest move per iteration and coordinate, in box units (gradient clipping); None:
        unclipped.
    max_iter, tol, window : int, float, int
        Stop a run when its last ``window`` iterates are within ``tol`` (box units), else
        after ``max_iter`` iterations (``converged = False``).
    direction : {"uniform", "rademacher"}
        Distribution of the direction m (uniform on [−1, 1]^d as in the paper, or ±1).
    seed : int
        Seed of the runs' streams when ``keys`` is not given (run r gets a key from
        ``(seed, r)``).
    keys : array_like of uint64, shape (R,), optional
        Per-run keys (see :func:`derive_keys`).
    certify : callable, optional
        ``certify(x, runs) -> bool (R',)``: a run whose iterates have stalled (the window
        test) converges only if it also passes this test at its current point (e.g. a
        full-sample stationarity check); otherwise its step schedule restarts (η_t = η
        again) and it keeps iterating.
    keep_history : bool
        Return every iterate.

    Returns
    -------
    ZOResult
    """
    single = np.ndim(x0) == 1
    x_start = np.atleast_2d(np.asarray(x0, dtype=float))
    n_runs, dim = x_start.shape
    lo = np.broadcast_to(np.asarray(lower, dtype=float), (n_runs, dim))
    hi = np.broadcast_to(np.asarray(upper, dtype=float), (n_runs, dim))
    if lo.shape != x_start.shape or np.any(lo > hi) or not np.all(np.isfinite(lo) & np.isfinite(hi)):
        raise ValueError(f"lower/upper: must be finite, broadcast to x0's shape {x_start.shape}, "
                         "with lower ≤ upper")
    if n_samples < 1 or (batch_size is not None and batch_size < 1):
        raise ValueError(f"n_samples and batch_size must be ≥ 1, got {n_samples}, {batch_size}")
    if not (step > 0 and smoothing > 0 and decay >= 0 and max_iter >= 1 and tol >= 0
            and window >= 2 and (max_step is None or max_step > 0)):
        raise ValueError("step, smoothing and max_step must be positive, decay and tol ≥ 0, "
                         "max_iter ≥ 1, window ≥ 2")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    scale = DIRECTIONS[direction]
    run_keys = derive_keys(seed, np.arange(n_runs)) if keys is None \
        else np.asarray(keys, dtype=np.uint64).reshape(n_runs)
    width = hi - lo
    u = np.clip(np.where(width > 0, (x_start - lo) / np.where(width > 0, width, 1.0), 0.0), 0.0, 1.0)
    batch = n_samples if batch_size is None else min(int(batch_size), int(n_samples))
    recent = np.repeat(u[None], window, axis=0)          # ring buffer of the last iterates
    history = [lo + width * u] if keep_history else None
    converged = np.zeros(n_runs, dtype=bool)
    clock = np.zeros(n_runs)                             # iterations since the last restart
    iterations = np.zeros(n_runs, dtype=int)
    evaluations = np.zeros(n_runs, dtype=int)
    for t in range(1, max_iter + 1):
        active = np.flatnonzero(~converged)
        if active.size == 0:
            break
        draws = _uniform(run_keys[active], t, dim + (0 if batch == n_samples else n_samples))
        if direction == "uniform":
            m = 2.0 * draws[:, :dim] - 1.0
        else:
            m = np.where(draws[:, :dim] < 0.5, -1.0, 1.0)
        if batch == n_samples:
            idx = np.broadcast_to(np.arange(n_samples), (active.size, n_samples))
        else:
            idx = np.argpartition(draws[:, dim:], batch - 1, axis=1)[:, :batch]
        u_a, lo_a, w_a = u[active], lo[active], width[active]
        h0 = np.asarray(fn(lo_a + w_a * u_a, idx, active), dtype=float).reshape(active.size, batch, -1)
        h1 = np.asarray(fn(lo_a + w_a * (u_a + smoothing * m), idx, active),
                        dtype=float).reshape(active.size, batch, -1)
        evaluations[active] += 2 * batch
        means = h0.mean(axis=1)
        slope = (h1 - h0).mean(axis=1) / smoothing                       # directional, (R', k)
        _, grad_outer = outer(means, active)
        grad = scale * np.sum(np.asarray(grad_outer, dtype=float) * slope, axis=1)[:, None] * m
        grad = np.where(w_a > 0, grad, 0.0)
        eta = step / (1.0 + decay * clock[active])[:, None]
        clock[active] += 1
        move = eta * grad
        if max_step is not None:
            move = np.clip(move, -max_step, max_step)
        u[active] = np.clip(u_a - move, 0.0, 1.0)
        iterations[active] = t
        recent[t % window, active] = u[active]
        if t >= window - 1:
            spread = np.max(np.ptp(recent[:, active], axis=0), axis=1)
            stalled = active[spread < tol]
            if certify is not None and stalled.size:
                passed = np.asarray(certify(lo[stalled] + width[stalled] * u[stalled], stalled),
                                    dtype=bool).reshape(stalled.size)
                clock[stalled[~passed]] = 0.0            # stalled short of the test: restart η
                stalled = stalled[passed]
            converged[stalled] = True
        if history is not None:
            history.append(lo + width * u)
    x = lo + width * u
    result = ZOResult(x=x, converged=converged, iterations=iterations, evaluations=evaluations,
                      history=None if history is None else np.asarray(history))
    if single:
        return ZOResult(x=x[0], converged=bool(converged[0]), iterations=int(iterations[0]),
                        evaluations=int(evaluations[0]),
                        history=None if history is None else result.history[:, 0])
    return result
