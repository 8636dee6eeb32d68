r"""Large-scale path gain, Rayleigh fading, noise power and received SNR.

Defaults reproduce the Xu et al. scenario: distance 100 m, path gain -30 dB at the
1 m reference distance, path-loss exponent 3.4 (the paper prints -3.4 for the exponent
of :math:`d^{-3.4}`), unit-variance Rayleigh fading, noise power -110 dBm.

The project's ``snr`` convention: the *linear* received SNR a stream sees if the whole
power ``power_w`` is spent on it, :math:`\mathrm{snr} = q\,G(d)\,|h|^2/\sigma^2`
(Xu et al. eq. 20 with the path gain made explicit); this module returns it in dB.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from semopt.units import db_to_linear, dbm_to_w, linear_to_db, w_to_dbm

__all__ = [
    "DEFAULT_CELL_INNER_RADIUS_M",
    "DEFAULT_CELL_RADIUS_M",
    "DEFAULT_DISTANCE_M",
    "DEFAULT_EXPONENT",
    "DEFAULT_GAIN_AT_REFERENCE_DB",
    "DEFAULT_NOISE_DBM",
    "CellDrop",
    "drop_users",
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
DEFAULT_CELL_RADIUS_M = 200.0
DEFAULT_CELL_INNER_RADIUS_M = 10.0


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


class CellDrop(NamedTuple):
    """One drop of U users in a cell (see :func:`drop_users`).

    ``snr_db`` (U, I): received SNR per stream at ``power_w`` including the fading draw;
    ``mean_snr_db`` (U, I): its mean over the fading (path gain only, the input of
    ``csi="statistical"``); ``distance_m`` (U,); ``position_m`` (U, 2) Cartesian
    coordinates with the base station at the origin; ``fading_power_gain`` (U, I)
    linear |h|² (1 without fading); ``power_w``: the transmit power the SNRs refer to.
    """

    snr_db: np.ndarray
    mean_snr_db: np.ndarray
    distance_m: np.ndarray
    position_m: np.ndarray
    fading_power_gain: np.ndarray
    power_w: float


def drop_users(
    n_users: int,
    *,
    n_streams: int = 2,
    power_w: float = 0.01,
    radius_m: float = DEFAULT_CELL_RADIUS_M,
    inner_radius_m: float = DEFAULT_CELL_INNER_RADIUS_M,
    fading: str = "rayleigh",
    rng: np.random.Generator | int | None = None,
    noise_dbm: float = DEFAULT_NOISE_DBM,
    gain_at_reference_db: float = DEFAULT_GAIN_AT_REFERENCE_DB,
    exponent: float = DEFAULT_EXPONENT,
    reference_distance_m: float = 1.0,
) -> CellDrop:
    r"""Drop users uniformly in a disc or annulus and return their per-stream SNRs.

    Distances follow the uniform-area law :math:`d = \sqrt{r_0^2 + (R^2 - r_0^2)\,V}`,
    :math:`V \sim U(0, 1)`, angles are uniform; each stream of each user sees an
    independent Rayleigh power gain :math:`|h|^2 \sim \mathrm{Exp}(1)` (streams on
    orthogonal resources). The SNR is :func:`received_snr_db` at ``power_w`` with the
    Xu et al. constants by default (−30 dB path gain at 1 m, exponent 3.4,
    σ² = −110 dBm).

    Parameters
    ----------
    n_users : int
        Number of users U (>= 1).
    n_streams : int
        Streams per user I (>= 1).
    power_w : float
        Transmit power in W the SNRs refer to (the ``reference_power_w`` of a power
        problem; default 10 mW).
    radius_m : float
        Cell radius R in metres (default 200 m).
    inner_radius_m : float
        Inner radius r_0 in metres (default 10 m; 0 gives a disc).
    fading : {"rayleigh", "none"}
        Small-scale fading of ``snr_db``.
    rng : numpy.random.Generator or int or None
        Random generator or seed (seeded drops are reproducible).
    noise_dbm, gain_at_reference_db, exponent, reference_distance_m
        Noise power and path-gain model, see :func:`received_snr_db`.

    Returns
    -------
    CellDrop
        ``snr_db`` and ``mean_snr_db`` of shape (U, I), distances (U,), positions
        (U, 2), fading gains (U, I).

    Raises
    ------
    ValueError
        For a non-positive count, radii with ``0 <= inner_radius_m < radius_m`` violated,
        a negative power or an unknown ``fading``.
    """
    if isinstance(n_users, bool) or int(n_users) != n_users or int(n_users) < 1:
        raise ValueError(f"n_users: must be a positive integer, got {n_users!r}")
    if isinstance(n_streams, bool) or int(n_streams) != n_streams or int(n_streams) < 1:
        raise ValueError(f"n_streams: must be a positive integer, got {n_streams!r}")
    if not (np.isfinite(radius_m) and np.isfinite(inner_radius_m)
            and 0.0 <= inner_radius_m < radius_m):
        raise ValueError(f"inner_radius_m, radius_m: need 0 <= inner_radius_m < radius_m, got "
                         f"{inner_radius_m!r}, {radius_m!r}")
    if not power_w > 0:
        raise ValueError(f"power_w: must be > 0, got {power_w!r}")
    if fading not in ("rayleigh", "none"):
        raise ValueError(f"fading: must be 'rayleigh' or 'none', got {fading!r}")
    u, i = int(n_users), int(n_streams)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    v = generator.uniform(0.0, 1.0, size=u)
    distance = np.sqrt(inner_radius_m**2 + (radius_m**2 - inner_radius_m**2) * v)
    # Below the reference distance the path-gain law does not hold; a disc draws d > 0
    # almost surely, and d is floored at 1 mm so the SNR stays finite.
    distance = np.maximum(distance, 1e-3)
    angle = generator.uniform(0.0, 2.0 * np.pi, size=u)
    position = np.stack([distance * np.cos(angle), distance * np.sin(angle)], axis=-1)
    gains = rayleigh_power_gain((u, i), generator) if fading == "rayleigh" else np.ones((u, i))
    channel = {"noise_dbm": noise_dbm, "gain_at_reference_db": gain_at_reference_db,
               "exponent": exponent, "reference_distance_m": reference_distance_m}
    mean_db = np.broadcast_to(received_snr_db(power_w, distance_m=distance[:, None], **channel),
                              (u, i)).copy()
    return CellDrop(mean_db + linear_to_db(gains), mean_db, distance, position, gains,
                    float(power_w))
