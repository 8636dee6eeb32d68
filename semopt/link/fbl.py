r"""Finite-blocklength (normal approximation) block-error rate and its inverse.

Forward model (Xu et al. eq. 23, Polyanskiy–Poor–Verdú normal approximation for the
complex AWGN channel, ``snr`` linear):

.. math::

    \Psi = Q\!\left(\ln 2\,\sqrt{\frac{n}{V}}\,\Bigl(C - \frac{k}{n}\Bigr)\right),\qquad
    C = \log_2(1 + \mathrm{snr})\ \text{[bit]},\qquad
    V = 1 - (1 + \mathrm{snr})^{-2}\ \text{[nat}^2\text{]},

for ``k`` information bits in ``n`` channel uses. The paper drops the
:math:`\tfrac12\log_2(n)/n` term of the normal approximation; ``log_term=True`` puts it
back, i.e. replaces the rate :math:`k/n` by :math:`k/n - \log_2(n)/(2n)`.

Inverse (corrected Appendix B of Xu et al.; see ``docs/math-link.md``): with
:math:`\alpha = Q^{-1}(\Psi)/\sqrt n`, :math:`\rho = (k/n)\ln 2`,
:math:`\beta = 2^{-k/n}` (the paper's :math:`e^{-k/n}` is a bits/nats slip) and
:math:`\eta = \ln(1 + \mathrm{snr}) - \rho`, eq. 23 reads
:math:`\eta = \alpha\sqrt{1 - \beta^2 e^{-2\eta}}`. Squaring gives
:math:`(x - 2\alpha)(x + 2\alpha)e^x = -4\beta^2\alpha^2` for :math:`x = 2\eta`, so
:math:`x = W(2\alpha, -2\alpha; -4\beta^2\alpha^2)` and
:math:`\mathrm{snr} = 2^{k/n} e^{x/2} - 1`. Squaring adds one spurious root; the true one
is the ``"right"`` branch (:math:`x \in (-1 + \sqrt{1 + 4\alpha^2}, 2\alpha)`) for
:math:`\Psi < \tfrac12` and the ``"middle"`` branch (:math:`x \in (2\ln\beta, 0)`) for
:math:`\Psi > \tfrac12`; :math:`\Psi = \tfrac12` gives :math:`C = k/n` exactly and
:math:`\Psi = 1` gives ``snr = 0`` (stream not sent).

Where the SNR is small (low rates, :math:`\Psi` near ½, long blocks) :math:`x` and
:math:`\ln(1 - (x/2\alpha)^2)` nearly cancel in the Lambert-W equation and the closed
form loses digits; :func:`snr_for_bler` checks every closed-form value by one Newton
correction of eq. 23 in :math:`\ln(1 + \mathrm{snr})` and solves the flagged entries
numerically, which keeps it within 1e-14 of a 50-digit reference for rates down to
1e-9 bit/use.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from solvers.lambertw import generalized_lambertw
from solvers.roots import find_root

__all__ = [
    "bler",
    "capacity_bits",
    "dispersion_nats2",
    "log_bler",
    "snr_for_bler",
    "snr_for_bler_literal",
]

_LN2 = float(np.log(2.0))
_EPS = float(np.finfo(float).eps)
# Largest a-posteriori relative error (one Newton correction of eq. 23 in ln(1 + snr))
# accepted from the closed form before the numeric inverse is used instead.
_CLOSED_FORM_RTOL = 4.0e-15


def _check_snr(snr: ArrayLike) -> np.ndarray:
    value = np.asarray(snr, dtype=float)
    if np.any(~(value >= 0)):
        raise ValueError("snr: linear SNR must be >= 0 (and not NaN)")
    return value


def _rate_bits(k: ArrayLike, n: ArrayLike, log_term: bool) -> tuple[np.ndarray, np.ndarray]:
    """Validated effective rate in bit per channel use, and n (both as float arrays)."""
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    if np.any(~(k_arr > 0)) or np.any(~np.isfinite(k_arr)):
        raise ValueError("k: number of information bits must be finite and > 0")
    if np.any(~(n_arr > 0)) or np.any(~np.isfinite(n_arr)):
        raise ValueError("n: blocklength (channel uses) must be finite and > 0")
    rate = k_arr / n_arr
    if log_term:
        rate = rate - 0.5 * np.log2(n_arr) / n_arr
        if np.any(~(rate > 0)):
            raise ValueError("k, n: with log_term=True the effective rate "
                             "k/n - log2(n)/(2n) must be > 0")
    return rate, n_arr


def capacity_bits(snr: ArrayLike) -> np.ndarray:
    r"""AWGN capacity :math:`C = \log_2(1 + \mathrm{snr})` in bit per channel use.

    Parameters
    ----------
    snr : array_like
        Linear SNR (>= 0).

    Returns
    -------
    ndarray
        Capacity in bits.
    """
    return (np.log1p(_check_snr(snr)) / _LN2)[()]


def dispersion_nats2(snr: ArrayLike) -> np.ndarray:
    r"""AWGN channel dispersion :math:`V = 1 - (1 + \mathrm{snr})^{-2}` in nat².

    Computed as ``-expm1(-2 log1p(snr))``, accurate for small ``snr``.

    Parameters
    ----------
    snr : array_like
        Linear SNR (>= 0).

    Returns
    -------
    ndarray
        Dispersion in nat² (in ``[0, 1)``).
    """
    return (-np.expm1(-2.0 * np.log1p(_check_snr(snr))))[()]


def _q_argument(snr: np.ndarray, rate: np.ndarray, n: np.ndarray) -> np.ndarray:
    """ln2*sqrt(n/V)*(C - rate) in the cancellation-free form (ln(1+snr) - rate ln2)/sqrt(V/n)."""
    log1p_snr = np.log1p(snr)
    v = -np.expm1(-2.0 * log1p_snr)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        arg = (log1p_snr - rate * _LN2) * np.sqrt(n / v)
    # snr = 0: V = 0 and the rate is positive -> argument -inf (BLER 1)
    return np.where(snr == 0, -np.inf, arg)


def bler(snr: ArrayLike, k: ArrayLike, n: ArrayLike, *, log_term: bool = False) -> np.ndarray:
    r"""Block-error rate of the finite-blocklength normal approximation (Xu et al. eq. 23).

    :math:`\Psi = Q\bigl(\ln 2\,\sqrt{n/V}\,(C - R)\bigr)` with :math:`C` in bits,
    :math:`V` in nat² and :math:`R = k/n`, or :math:`R = k/n - \log_2(n)/(2n)` with
    ``log_term=True`` (the full normal approximation
    :math:`R \approx C - \sqrt{V/n}\,Q^{-1}(\Psi)/\ln 2 + \log_2(n)/(2n)`).

    Parameters
    ----------
    snr : array_like
        Linear received SNR (>= 0).
    k : array_like
        Information bits per block (> 0).
    n : array_like
        Blocklength in channel uses (> 0). ``snr``, ``k`` and ``n`` are broadcast.
    log_term : bool, default False
        Include the :math:`\tfrac12\log_2(n)/n` term (requires an effective rate > 0).

    Returns
    -------
    ndarray
        BLER in ``[0, 1]`` (``1`` at ``snr = 0``).

    Raises
    ------
    ValueError
        If ``snr`` < 0, ``k`` <= 0 or ``n`` <= 0 (or the effective rate is <= 0).
    """
    snr_arr = _check_snr(snr)
    rate, n_arr = _rate_bits(k, n, log_term)
    return special.ndtr(-_q_argument(snr_arr, rate, n_arr))[()]


def log_bler(snr: ArrayLike, k: ArrayLike, n: ArrayLike, *,
             log_term: bool = False) -> np.ndarray:
    """Natural log of :func:`bler`, accurate where the BLER underflows (same arguments)."""
    snr_arr = _check_snr(snr)
    rate, n_arr = _rate_bits(k, n, log_term)
    return special.log_ndtr(-_q_argument(snr_arr, rate, n_arr))[()]


def _check_bler(value: ArrayLike) -> np.ndarray:
    psi = np.asarray(value, dtype=float)
    if np.any(~((psi > 0) & (psi <= 1))):
        raise ValueError("bler: must lie in (0, 1] (1 means the stream is not sent)")
    return psi


def _snr_closed_form(alpha: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """snr from the generalized Lambert W; alpha finite, rate > 0 (1-D arrays)."""
    rho = rate * _LN2
    t = 2.0 * alpha
    a = -4.0 * np.exp(-2.0 * rho) * alpha * alpha  # -4 beta^2 alpha^2, beta = 2^(-k/n)
    x = np.empty_like(alpha)
    right = alpha >= 0  # Psi <= 1/2: the root in (-1 + sqrt(1 + 4 alpha^2), 2 alpha)
    x[right] = generalized_lambertw(t[right], -t[right], a[right], "right")
    left = ~right  # Psi > 1/2: the root in (2 ln beta, 0)
    x[left] = generalized_lambertw(t[left], -t[left], a[left], "middle")
    # ln(1 + snr) = rho + x/2. For x < 0 that sum cancels (snr << 2^(k/n) - 1); on the
    # root, e^x = 4 beta^2 alpha^2 / (4 alpha^2 - x^2) gives the cancellation-free
    # ln(1 + snr) = -1/2 log1p(-(x / (2 alpha))^2)  (and 1 - (x/2alpha)^2 >= beta^2).
    log1p_snr = rho + 0.5 * x
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = x / t
        log1p_snr = np.where(right, log1p_snr, -0.5 * np.log1p(-ratio * ratio))
    return np.expm1(log1p_snr)


def _newton_relative_error(snr: np.ndarray, alpha: np.ndarray, rate: np.ndarray) -> np.ndarray:
    r"""A-posteriori relative error of ``z = ln(1 + snr)`` as the root of eq. 23.

    One Newton correction :math:`|g(z)/g'(z)|/z` of the well-conditioned residual
    :math:`g(z) = (z - \rho)/\sqrt{V(z)} - \alpha`, :math:`V = -\mathrm{expm1}(-2z)`,
    which is evaluated to a relative :math:`\sim\epsilon` in every regime (unlike the
    Lambert-W form, whose terms cancel when the SNR is small). NaN where ``snr`` is not
    positive and finite.
    """
    rho = rate * _LN2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = np.log1p(snr)
        v = -np.expm1(-2.0 * z)
        sqrt_v = np.sqrt(v)
        g = (z - rho) / sqrt_v - alpha
        g_prime = 1.0 / sqrt_v - (z - rho) * (1.0 - v) / (v * sqrt_v)  # dV/dz = 2(1 - V)
        err = np.abs(g / g_prime) / z
    return np.where((snr > 0) & np.isfinite(snr), err, np.nan)


def _snr_numeric(alpha: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """snr by a bracketed root of (ln(1+snr) - rate ln2)/sqrt(V) = alpha in log(snr)."""
    rho = rate * _LN2
    at_capacity = np.expm1(rho)
    with np.errstate(divide="ignore", over="ignore"):
        snr_lo = np.where(alpha >= 0, at_capacity,
                          np.minimum(np.expm1(0.5 * rho), 0.5 * (rho / (2.0 * alpha)) ** 2))
        snr_hi = np.where(alpha >= 0, np.expm1(rho + alpha), at_capacity)

    def residual(log_snr: np.ndarray, alpha_: np.ndarray, rho_: np.ndarray) -> np.ndarray:
        log1p_snr = np.log1p(np.exp(log_snr))
        sqrt_v = np.sqrt(-np.expm1(-2.0 * log1p_snr))
        return (log1p_snr - rho_) / sqrt_v - alpha_

    root = find_root(residual, np.log(snr_lo), np.log(snr_hi), args=(alpha, rho),
                     xatol=_EPS, xrtol=_EPS)
    out = np.exp(root)
    return np.where(alpha == 0, at_capacity, out)


def snr_for_bler(
    bler: ArrayLike,
    k: ArrayLike,
    n: ArrayLike,
    *,
    log_term: bool = False,
    method: Literal["closed-form", "numeric"] = "closed-form",
) -> np.ndarray:
    r"""Linear SNR at which the finite-blocklength BLER (Xu et al. eq. 23) equals ``bler``.

    The exact inverse of :func:`bler`. The transmit power follows as
    ``q = sigma^2 / |h|^2 * snr`` (eq. 28; the factor ½ of eq. 38 is a typo).

    Parameters
    ----------
    bler : array_like
        Target BLER :math:`\Psi \in (0, 1]`. :math:`\Psi = 1` gives ``snr = 0`` (the stream
        is not sent); :math:`\Psi = \tfrac12` gives the SNR at which capacity equals the
        (effective) rate; :math:`\Psi > \tfrac12` gives SNRs below it.
    k : array_like
        Information bits per block (> 0).
    n : array_like
        Blocklength in channel uses (> 0). ``bler``, ``k`` and ``n`` are broadcast.
    log_term : bool, default False
        Invert the normal approximation with the :math:`\tfrac12\log_2(n)/n` term.
    method : {"closed-form", "numeric"}, default "closed-form"
        ``"closed-form"``: the corrected Appendix-B solution
        :math:`\mathrm{snr} = 2^{k/n} e^{x/2} - 1`,
        :math:`x = W(2\alpha, -2\alpha; -4\beta^2\alpha^2)` with
        :math:`\alpha = Q^{-1}(\Psi)/\sqrt n`, :math:`\beta = 2^{-k/n}` (branch ``"right"``
        for :math:`\Psi \le \tfrac12`, ``"middle"`` above), checked a posteriori by one
        Newton correction of eq. 23 in :math:`z = \ln(1 + \mathrm{snr})`; entries whose
        estimated relative error exceeds ``4e-15`` are recomputed numerically. That
        happens where the SNR is small (effective rates below about 1e-4 bit/use,
        :math:`\Psi` near ½, long blocks): the terms of the Lambert-W equation cancel
        there; the bare closed form was measured 7e-8 (relative) off at 1e-9 bit/use,
        6e-12 at 1e-5 (n = 10, :math:`\Psi` = 0.4999) and up to 3e-6 off for
        :math:`\Psi` just above ½ (n = 1). ``"numeric"``: a bracketed Chandrupatla
        root of eq. 23 in :math:`\log(\mathrm{snr})` everywhere.

    Returns
    -------
    ndarray
        Linear SNR (>= 0).

    Raises
    ------
    ValueError
        If ``bler`` is outside ``(0, 1]``, ``k`` or ``n`` are not positive, the effective
        rate is not positive (``log_term=True``), or ``method`` is unknown.
    """
    if method not in ("closed-form", "numeric"):
        raise ValueError(f"method: expected 'closed-form' or 'numeric', got {method!r}")
    psi = _check_bler(bler)
    rate, n_arr = _rate_bits(k, n, log_term)
    psi, rate, n_arr = np.broadcast_arrays(psi, rate, n_arr)
    out = np.zeros(psi.shape)
    sent = psi < 1
    alpha = -special.ndtri(psi[sent]) / np.sqrt(n_arr[sent])
    rate_sent = rate[sent]
    if method == "numeric":
        out[sent] = _snr_numeric(alpha, rate_sent)
        return out[()]
    snr = _snr_closed_form(alpha, rate_sent)
    # Where the closed form has lost digits (small SNR: low rates, Psi near 1/2, long
    # blocks -- its log-form terms cancel) the numeric inverse takes over.
    redo = ~(_newton_relative_error(snr, alpha, rate_sent) <= _CLOSED_FORM_RTOL)
    if np.any(redo):
        snr[redo] = _snr_numeric(alpha[redo], rate_sent[redo])
    out[sent] = snr
    return out[()]


def snr_for_bler_literal(bler: ArrayLike, k: ArrayLike, n: ArrayLike) -> np.ndarray:
    r"""The paper's literal formula (Xu et al. eq. 28 as printed) -- known to be wrong.

    :math:`\mathrm{snr} = e^{k/n + \eta} - 1`,
    :math:`\eta = W(2\alpha, -2\alpha; -4 e^{-2k/n}\alpha^2)/2` (``"right"`` branch), i.e.
    with :math:`\beta = e^{-k/n}` instead of :math:`2^{-k/n}`: it mixes the rate in bits
    with logarithms in nats and over-states the required SNR (about 2 dB at
    ``k/n = 0.8``). Provided only to document and test that erratum; use
    :func:`snr_for_bler`.

    Parameters
    ----------
    bler : array_like
        Target BLER in ``(0, 0.5]``.
    k, n : array_like
        Information bits and blocklength (> 0).

    Returns
    -------
    ndarray
        The (incorrect) linear SNR of the printed formula.

    Raises
    ------
    ValueError
        If ``bler`` is outside ``(0, 0.5]`` or ``k``, ``n`` are not positive.
    """
    psi = np.asarray(bler, dtype=float)
    if np.any(~((psi > 0) & (psi <= 0.5))):
        raise ValueError("bler: the literal formula is only defined here for (0, 0.5]")
    rate, n_arr = _rate_bits(k, n, False)
    alpha = -special.ndtri(psi) / np.sqrt(n_arr)
    eta = 0.5 * generalized_lambertw(2.0 * alpha, -2.0 * alpha,
                                     -4.0 * np.exp(-2.0 * rate) * alpha * alpha, "right")
    return np.expm1(rate + eta)[()]
