"""Zeroth-order stochastic gradient descent with box projection (two-point estimates).

Minimizes a smooth function of sample averages,

    minimize_x   L(x) = φ( E_i[h(x; i)] )      subject to   lower ≤ x ≤ upper,

where ``h(x; i) ∈ R^k`` can only be *evaluated* (no gradients) for a sample ``i`` of a
finite population of ``n_samples`` and ``φ: R^k → R`` is a known outer function with a
known gradient. Each iteration draws a mini-batch Γ_t and a direction ``m ~ U[-1, 1]^d``
and estimates the Jacobian of the sample mean with the two-point difference (Liu et al.,
IEEE SPM 2020)::

    J_t ≈ (1/|Γ_t|) Σ_{i∈Γ_t} [h(x_t + ν m; i) − h(x_t; i)] / ν · mᵀ,

then steps ``x_{t+1} = Π_[lower, upper](x_t − η_t J_tᵀ ∇φ(h̄_t))`` with ``h̄_t`` the
mini-batch mean at ``x_t``. It stops when ``|x_{t+1} − x_t| < tol`` for ``patience``
consecutive iterations or after ``max_iter`` iterations.

A penalized constrained problem ``max E[g] s.t. E[k] ≤ 0`` is the special case
``φ(ḡ, k̄) = −ḡ + p·max(0, k̄)²``; see :func:`quadratic_penalty`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["ZOResult", "quadratic_penalty", "zo_sgd"]


@dataclass(frozen=True)
class ZOResult:
    """Outcome of :func:`zo_sgd`.

    Attributes
    ----------
    x : ndarray, shape ``(d,)``
        Final iterate.
    converged : bool
        The step-size criterion was met before ``max_iter``.
    iterations : int
    evaluations : int
        Per-sample evaluations of ``h`` (two per mini-batch member per iteration).
    history : ndarray, shape ``(iterations + 1, d)``
        Iterates ``x_0 … x_T``.
    """

    x: np.ndarray
    converged: bool
    iterations: int
    evaluations: int
    history: np.ndarray = field(repr=False)


def quadratic_penalty(penalty: float) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """Outer function ``φ(ḡ, k̄) = −ḡ + p·max(0, k̄)²`` and its gradient.

    For ``h = (g, k)``: maximize E[g] subject to E[k] ≤ 0 by the quadratic penalty method.
    """
    p = float(penalty)
    if not p > 0:
        raise ValueError(f"penalty: must be positive, got {penalty!r}")

    def outer(means: np.ndarray) -> tuple[float, np.ndarray]:
        g, k = float(means[0]), float(means[1])
        viol = max(0.0, k)
        return -g + p * viol * viol, np.array([-1.0, 2.0 * p * viol])

    return outer


def zo_sgd(fn: Callable[[np.ndarray, np.ndarray], ArrayLike],
           outer: Callable[[np.ndarray], tuple[float, np.ndarray]],
           x0: ArrayLike, *, lower: ArrayLike, upper: ArrayLike, n_samples: int,
           batch_size: int = 8, step: float = 0.01, smoothing: float = 0.02,
           decay: float = 0.0, max_iter: int = 500, tol: float = 1e-4, patience: int = 5,
           rng: np.random.Generator | int | None = None) -> ZOResult:
    """Projected zeroth-order SGD on ``L(x) = φ(E_i[h(x; i)])`` (see the module docstring).

    Parameters
    ----------
    fn : callable
        ``fn(x, idx) -> array (len(idx), k)``: ``h(x; i)`` for the samples ``idx``.
    outer : callable
        ``outer(means) -> (φ(means), ∇φ(means))`` for ``means`` of shape ``(k,)``.
    x0 : array_like, shape ``(d,)``
        Starting point (projected onto the box).
    lower, upper : array_like, shape ``(d,)``
        Box bounds.
    n_samples : int
        Size of the sample population (indices ``0 … n_samples − 1``).
    batch_size : int
        Mini-batch size |Γ_t| (drawn without replacement; capped at ``n_samples``).
    step : float
        Step size η.
    smoothing : float
        Smoothing radius ν of the two-point estimate.
    decay : float
        Step schedule ``η_t = η / (1 + decay·t)`` (0: constant, the paper's choice).
    max_iter, tol, patience : int, float, int
        Stop when ``‖x_{t+1} − x_t‖_∞ < tol`` for ``patience`` consecutive iterations.
    rng : numpy Generator or int, optional
        Source of mini-batches and directions (an int seeds a new generator).

    Returns
    -------
    ZOResult
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    lo = np.atleast_1d(np.asarray(lower, dtype=float))
    hi = np.atleast_1d(np.asarray(upper, dtype=float))
    x = np.clip(np.atleast_1d(np.asarray(x0, dtype=float)).copy(), lo, hi)
    if lo.shape != x.shape or hi.shape != x.shape or np.any(lo > hi):
        raise ValueError(f"lower/upper: must have the shape of x0 {x.shape} with lower ≤ upper")
    if n_samples < 1 or batch_size < 1:
        raise ValueError(f"n_samples and batch_size must be ≥ 1, got {n_samples}, {batch_size}")
    if not (step > 0 and smoothing > 0 and max_iter >= 1 and tol >= 0 and patience >= 1):
        raise ValueError("step and smoothing must be positive, max_iter and patience ≥ 1, tol ≥ 0")
    batch = min(int(batch_size), int(n_samples))
    history = [x.copy()]
    evaluations = 0
    calm = 0
    converged = False
    t = 0
    for t in range(1, max_iter + 1):
        idx = gen.choice(n_samples, size=batch, replace=False)
        m = gen.uniform(-1.0, 1.0, size=x.shape)
        h0 = np.asarray(fn(x, idx), dtype=float).reshape(batch, -1)
        h1 = np.asarray(fn(x + smoothing * m, idx), dtype=float).reshape(batch, -1)
        evaluations += 2 * batch
        means = h0.mean(axis=0)
        slope = (h1 - h0).mean(axis=0) / smoothing          # directional derivative, (k,)
        _, grad_outer = outer(means)
        grad = float(np.dot(grad_outer, slope)) * m          # J_tᵀ ∇φ with J_t = slope ⊗ m
        eta = step / (1.0 + decay * (t - 1))
        new = np.clip(x - eta * grad, lo, hi)
        moved = float(np.max(np.abs(new - x)))
        x = new
        history.append(x.copy())
        calm = calm + 1 if moved < tol else 0
        if calm >= patience:
            converged = True
            break
    return ZOResult(x=x, converged=converged, iterations=t, evaluations=evaluations,
                    history=np.asarray(history))
