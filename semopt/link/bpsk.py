r"""Uncoded BPSK over AWGN: bit-error rate and its exact inverse.

.. math::

    \psi = Q\bigl(\sqrt{2\,\mathrm{snr}}\bigr), \qquad
    \mathrm{snr}(\psi) = \tfrac12 \bigl(Q^{-1}(\psi)\bigr)^2

(Xu et al. eq. 21 and 27; ``snr`` linear). :math:`Q(x) = \Phi(-x)` is evaluated with
:func:`scipy.special.ndtr` / :func:`scipy.special.log_ndtr` and
:math:`Q^{-1}(\psi) = -\Phi^{-1}(\psi)` with :func:`scipy.special.ndtri`, which works on
the lower tail directly, so every double :math:`\psi \in [10^{-300}, 0.5]` inverts to full
precision (no ``1 - psi`` cancellation); :math:`\psi = 0.5` gives ``snr = 0`` exactly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

__all__ = ["ber", "log_ber", "snr_for_ber"]


def _check_snr(snr: ArrayLike, argument: str = "snr") -> np.ndarray:
    value = np.asarray(snr, dtype=float)
    if np.any(~(value >= 0)):
        raise ValueError(f"{argument}: linear SNR must be >= 0 (and not NaN)")
    return value


def ber(snr: ArrayLike) -> np.ndarray:
    r"""Bit-error rate of uncoded BPSK, :math:`\psi = Q(\sqrt{2\,\mathrm{snr}})`.

    Parameters
    ----------
    snr : array_like
        Linear received SNR per bit (>= 0; ``inf`` allowed).

    Returns
    -------
    ndarray
        BER in ``(0, 0.5]`` (``0`` for infinite SNR, and below ~1e-308 it underflows to 0:
        use :func:`log_ber` there).

    Raises
    ------
    ValueError
        If ``snr`` is negative or NaN.
    """
    value = _check_snr(snr)
    return special.ndtr(-np.sqrt(2.0 * value))[()]


def log_ber(snr: ArrayLike) -> np.ndarray:
    r"""Natural log of the BPSK bit-error rate, :math:`\ln Q(\sqrt{2\,\mathrm{snr}})`.

    Accurate where :func:`ber` underflows (``snr`` up to ~1e300).

    Parameters
    ----------
    snr : array_like
        Linear received SNR (>= 0).

    Returns
    -------
    ndarray
        ``log(ber(snr))`` in ``(-inf, log 0.5]``.

    Raises
    ------
    ValueError
        If ``snr`` is negative or NaN.
    """
    value = _check_snr(snr)
    return special.log_ndtr(-np.sqrt(2.0 * value))[()]


def snr_for_ber(ber: ArrayLike) -> np.ndarray:
    r"""Linear SNR at which uncoded BPSK has bit-error rate ``ber``.

    :math:`\mathrm{snr} = \tfrac12 (Q^{-1}(\psi))^2`, the exact inverse of :func:`ber`.
    The transmit power follows as ``q = sigma^2 / |h|^2 * snr`` (Xu et al. eq. 27).

    Parameters
    ----------
    ber : array_like
        Target BER :math:`\psi \in (0, 0.5]`; ``0.5`` means zero power.

    Returns
    -------
    ndarray
        Linear SNR (>= 0).

    Raises
    ------
    ValueError
        If any ``ber`` is outside ``(0, 0.5]`` or NaN.
    """
    psi = np.asarray(ber, dtype=float)
    if np.any(~((psi > 0) & (psi <= 0.5))):
        raise ValueError("ber: must lie in (0, 0.5] (0.5 means zero power)")
    z = special.ndtri(psi)  # = -Q^{-1}(psi) <= 0
    return (0.5 * z * z)[()]
