r"""Large-scale path gain, Rayleigh fading, noise power and received SNR.

Defaults reproduce the Xu et al. scenario: distance 100 m, path gain -30 dB at the
1 m reference distance, path-loss exponent 3.4 (the paper prints -3.4 for the exponent
of :math:`d^{-3.4}`), unit-variance Rayleigh fading, noise power -110 dBm.

The project's ``snr`` convention: the *linear* received SNR a stream sees if the whole
power ``power_w`` is spent on it, :math:`\mathrm{snr} = q\,G(d)\,|h|^2/\sigma^2`
(Xu et al. eq. 20 with the path gain made explicit); this module returns it in dB.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from semopt.units import db_to_linear, dbm_to_w, linear_to_db, w_to_dbm

__all__ = [
    "DEFAULT_DISTANCE_M",
    "DEFAULT_EXPONENT",
    "DEFAULT_GAIN_AT_REFERENCE_DB",
    "DEFAULT_NOISE_DBM",
    "noise_power_w",
    "path_gain_db",
    "rayleigh_power_gain",
    "received_snr_db",
    "snr_linear_to_power_w",
]

DEFAULT_DISTANCE_M = 100.0
DEFAULT_GAIN_AT_REFERENCE_DB = -30.0
DEFAULT_EXPONENT = 3.4
DEFAULT_NOISE_DBM = -110.0


def path_gain_db(
    distance_m: ArrayLike,
    *,
    gain_at_reference_db: float = DEFAULT_GAIN_AT_REFERENCE_DB,
    exponent: float = DEFAULT_EXPONENT,
    reference_distance_m: float = 1.0,
) -> np.ndarray:
    r"""Large-scale path gain in dB: :math:`G_0 - 10\,\gamma\,\log_{10}(d/d_0)`.

    Parameters
    ----------
    distance_m : array_like
        Transmitter-receiver distance in metres (> 0).
    gain_at_reference_db : float, default -30
        Path gain :math:`G_0` at the reference distance, in dB (negative: a loss).
    exponent : float, default 3.4
        Path-loss exponent :math:`\gamma` (positive; gain falls as :math:`d^{-\gamma}`).
    reference_distance_m : float, default 1
        Reference distance :math:`d_0` in metres (> 0).

    Returns
    -------
    ndarray
        Path gain in dB (-98 dB at the default 100 m).

    Raises
    ------
    ValueError
        If a distance is not positive or ``exponent`` is negative.
    """
    d = np.asarray(distance_m, dtype=float)
    if np.any(~(d > 0)):
        raise ValueError("distance_m: must be > 0")
    if not reference_distance_m > 0:
        raise ValueError("reference_distance_m: must be > 0")
    if not exponent >= 0:
        raise ValueError("exponent: must be >= 0 (gain falls as distance**-exponent)")
    return (gain_at_reference_db - 10.0 * exponent * np.log10(d / reference_distance_m))[()]


def rayleigh_power_gain(shape: int | tuple[int, ...],
                        rng: np.random.Generator | int | None = None) -> np.ndarray:
    r"""Rayleigh block-fading power gains :math:`|h|^2 \sim \mathrm{Exp}(1)` (linear).

    Parameters
    ----------
    shape : int or tuple of int
        Output shape.
    rng : numpy.random.Generator or int or None
        Random generator, or a seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    ndarray
        Linear power gains with unit mean.
    """
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return generator.exponential(1.0, size=shape)


def noise_power_w(
    noise_dbm: float | None = None,
    *,
    noise_psd_dbm_hz: float | None = None,
    bandwidth_hz: float | None = None,
) -> float:
    """Noise power in watts.

    Either a total noise power ``noise_dbm``, or a power spectral density
    ``noise_psd_dbm_hz`` (e.g. -174 dBm/Hz) times ``bandwidth_hz``. With no argument,
    the Xu et al. default of -110 dBm.

    Parameters
    ----------
    noise_dbm : float, optional
        Total noise power in dBm.
    noise_psd_dbm_hz : float, optional
        Noise power spectral density in dBm/Hz (needs ``bandwidth_hz``).
    bandwidth_hz : float, optional
        Bandwidth in Hz (> 0, needs ``noise_psd_dbm_hz``).

    Returns
    -------
    float
        Noise power in W.

    Raises
    ------
    ValueError
        If both forms, or only one of ``noise_psd_dbm_hz``/``bandwidth_hz``, are given,
        or the bandwidth is not positive.
    """
    psd_given = noise_psd_dbm_hz is not None or bandwidth_hz is not None
    if noise_dbm is not None and psd_given:
        raise ValueError("noise_dbm: give either noise_dbm or noise_psd_dbm_hz with "
                         "bandwidth_hz, not both")
    if psd_given:
        if noise_psd_dbm_hz is None or bandwidth_hz is None:
            raise ValueError("noise_psd_dbm_hz, bandwidth_hz: both are needed together")
        if not bandwidth_hz > 0:
            raise ValueError("bandwidth_hz: must be > 0")
        return float(dbm_to_w(noise_psd_dbm_hz) * bandwidth_hz)
    return float(dbm_to_w(DEFAULT_NOISE_DBM if noise_dbm is None else noise_dbm))


def received_snr_db(
    power_w: ArrayLike,
    *,
    distance_m: ArrayLike = DEFAULT_DISTANCE_M,
    fading_power_gain: ArrayLike = 1.0,
    noise_dbm: float = DEFAULT_NOISE_DBM,
    gain_at_reference_db: float = DEFAULT_GAIN_AT_REFERENCE_DB,
    exponent: float = DEFAULT_EXPONENT,
    reference_distance_m: float = 1.0,
) -> np.ndarray:
    r"""Received SNR in dB if the whole ``power_w`` is spent on one stream.

    :math:`\mathrm{snr_{dB}} = 10\log_{10}(q) + 30 + G_{\mathrm{dB}}(d)
    + 10\log_{10}|h|^2 - \sigma^2_{\mathrm{dBm}}`. With the defaults, 1 W gives
    30 - 98 + 110 = 42 dB.

    Parameters
    ----------
    power_w : array_like
        Transmit power in W (>= 0; 0 gives ``-inf`` dB).
    distance_m : array_like, default 100
        Distance in metres.
    fading_power_gain : array_like, default 1
        Linear small-scale power gain :math:`|h|^2` (>= 0), e.g. from
        :func:`rayleigh_power_gain`.
    noise_dbm : float, default -110
        Noise power in dBm (see :func:`noise_power_w` to build it from a PSD).
    gain_at_reference_db, exponent, reference_distance_m
        Path-gain model, see :func:`path_gain_db`.

    Returns
    -------
    ndarray
        SNR in dB, broadcast over ``power_w``, ``distance_m`` and ``fading_power_gain``.

    Raises
    ------
    ValueError
        If ``power_w`` or ``fading_power_gain`` is negative, or a distance is not positive.
    """
    p = np.asarray(power_w, dtype=float)
    if np.any(~(p >= 0)):
        raise ValueError("power_w: must be >= 0")
    h2 = np.asarray(fading_power_gain, dtype=float)
    if np.any(~(h2 >= 0)):
        raise ValueError("fading_power_gain: linear |h|^2 must be >= 0")
    gain_db = path_gain_db(distance_m, gain_at_reference_db=gain_at_reference_db,
                           exponent=exponent, reference_distance_m=reference_distance_m)
    return (w_to_dbm(p) + gain_db + linear_to_db(h2) - noise_dbm)[()]


def snr_linear_to_power_w(snr: ArrayLike, **channel: float) -> np.ndarray:
    """Transmit power in W that gives linear SNR ``snr`` (inverse of :func:`received_snr_db`).

    Keyword arguments are those of :func:`received_snr_db` (except ``power_w``).
    """
    s = np.asarray(snr, dtype=float)
    if np.any(~(s >= 0)):
        raise ValueError("snr: linear SNR must be >= 0")
    one_watt_db = received_snr_db(1.0, **channel)
    return (s / db_to_linear(one_watt_db))[()]
