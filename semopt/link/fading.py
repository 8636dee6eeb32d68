r"""Link models per CSI mode: error rate ↔ received SNR, instantaneous or Rayleigh-averaged.

A *link model* maps the linear received SNR of each stream to its error rate and back,
with the slope of the inverse; the min-power problem (and every method built on it)
sees only these three functions, so one strategy object per (CSI mode, scheme) makes
every method work in either mode unchanged:

================  =======================  ===============================================
csi               scheme                   error rate Φ_i at (mean) SNR s
================  =======================  ===============================================
instantaneous     forward (uncoded BPSK)   ψ(s) = Q(√(2s))
instantaneous     discard (coded, FBL)     Ψ(s) = Q(ln2 √(n/V(s)) (C(s) − k/n))
statistical       forward                  E[ψ(sG)] = ½(1 − √(s/(1+s)))  (closed form)
statistical       discard                  E[Ψ(sG)] = ∫₀^∞ Ψ(s g) e^(−g) dg  (quadrature)
================  =======================  ===============================================

with G ~ Exp(1) the Rayleigh power gain of the stream's block, so s is the *mean*
received SNR. Assumptions of the statistical mode:

* block fading: one gain per stream and block, constant over the block's symbols, and
  independent across streams (streams on orthogonal resources);
* discard scheme: the perception is multilinear in the BLERs
  (P = Σ_S Π_{i∈S}(1 − Ψ_i) Π_{i∉S} Ψ_i P_S), so with independent gains
  E[P(Ψ_1(s_1G_1), …)] = P(E[Ψ_1], …) **exactly**: the fading-averaged perception is
  the table evaluated at the mean BLERs;
* forward scheme: the mean BER E[ψ(sG)] is what the bits see when every bit sees an
  independent gain (fast fading with ideal interleaving); the table's surface is
  evaluated at the mean BERs. Under block fading this is *not* E[P]: the surface is
  not affine in the BERs, and P(E[ψ]) differs from E[P(ψ(sG))] by a Jensen gap.

The mean BLER is computed with the substitution z = Q-argument: since Ψ(s) = Q(a(s))
with a increasing, E_G[Ψ(sG)] = P(a(sG) < Z) = E_Z[1 − exp(−S(Z)/s)] for
Z ~ N(0, 1) and S(z) the SNR at which a = z. The integrand is smooth in z (the
step of Ψ in g becomes the smooth exponential CDF), so Gauss–Hermite quadrature on Z
with 128 nodes is exact to rounding (measured ≤ 3e-16 relative to mpmath on E and on
1 − E; Gauss–Laguerre on g, whose integrand has the BLER's step, is far worse — see
docs/cell.md). For speed, :class:`RayleighBler` tabulates y = logit(E) against
t = ln s once per stream (cubic Hermite with exact derivatives; ≤ 1e-12 from the
quadrature) and inverts it exactly on the tabulated cubic.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import ArrayLike
from scipy import special
from scipy.special import ndtri

from semopt.link import bpsk, fbl
from solvers.roots import find_root

__all__ = [
    "CSI_MODES",
    "InstantaneousBPSK",
    "InstantaneousFBL",
    "LinkModel",
    "RayleighBPSK",
    "RayleighBler",
    "RayleighFBL",
    "link_model",
    "rayleigh_mean_ber_bpsk",
    "rayleigh_mean_bler",
    "snr_for_rayleigh_mean_ber_bpsk",
]

CSI_MODES = ("instantaneous", "statistical")
"""``instantaneous``: the received SNR is known per block; ``statistical``: only its mean
over Rayleigh block fading is known, and error rates are averaged over the fading."""

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))
_QUADRATURE_NODES = 128
_TABLE_STEP = 0.004
"""Node spacing of the mean-BLER table in t = ln(mean SNR)."""
_Y_LEFT = 41.0
"""logit(E) at the table's low-SNR end (1 − E ≈ 1.6e-18: E is 1 in double beyond)."""
_Y_RIGHT = -47.0
"""logit(E) at the table's high-SNR end (E ≈ 4e-21: E = m1/s to double beyond)."""
_CHUNK = 1 << 14


# -- uncoded BPSK in Rayleigh fading (closed forms) -----------------------------------
def rayleigh_mean_ber_bpsk(mean_snr: ArrayLike) -> np.ndarray:
    r"""Mean BPSK bit-error rate over Rayleigh fading, :math:`E[Q(\sqrt{2 s G})]`.

    :math:`\bar\psi = \tfrac12\bigl(1 - \sqrt{s/(1+s)}\bigr)`, computed without
    cancellation as :math:`1/\bigl(2(1+s)(1 + \sqrt{s/(1+s)})\bigr)`.

    Parameters
    ----------
    mean_snr : array_like
        Mean linear received SNR s (>= 0).

    Returns
    -------
    ndarray
        Mean BER in (0, 0.5] (0.5 at s = 0).
    """
    s = np.asarray(mean_snr, dtype=float)
    if np.any(~(s >= 0)):
        raise ValueError("mean_snr: linear SNR must be >= 0 (and not NaN)")
    with np.errstate(over="ignore", invalid="ignore"):
        r = np.sqrt(s / (1.0 + s))
        out = 0.5 / ((1.0 + s) * (1.0 + r))
    return np.where(np.isinf(s), 0.0, out)[()]


def snr_for_rayleigh_mean_ber_bpsk(ber: ArrayLike) -> np.ndarray:
    r"""Mean SNR at which BPSK over Rayleigh fading has mean BER ``ber`` (exact inverse).

    :math:`s = (1 - 2\bar\psi)^2 / (4\bar\psi(1 - \bar\psi))` (from
    :math:`1 - (1 - 2\bar\psi)^2 = 4\bar\psi(1 - \bar\psi)`, no cancellation).

    Parameters
    ----------
    ber : array_like
        Mean BER in (0, 0.5]; 0.5 gives 0.

    Returns
    -------
    ndarray
        Mean linear SNR (>= 0).
    """
    b = np.asarray(ber, dtype=float)
    if np.any(~((b > 0) & (b <= 0.5))):
        raise ValueError("ber: must lie in (0, 0.5] (0.5 means zero power)")
    return ((1.0 - 2.0 * b) ** 2 / (4.0 * b * (1.0 - b)))[()]


# -- finite-blocklength BLER in Rayleigh block fading ------------------------------------
def _effective_rate(k: float, n: float, log_term: bool) -> float:
    rate = k / n - (0.5 * np.log2(n) / n if log_term else 0.0)
    if not rate > 0:
        raise ValueError("k, n: the effective rate k/n - log2(n)/(2n) must be > 0")
    return float(rate)


def _snr_at_q_argument(z: np.ndarray, rate: float, n: float) -> np.ndarray:
    """SNR s at which (ln(1+s) − rate·ln2)·√(n/V(s)) = z (the Q-argument of eq. 23)."""
    rho = rate * _LN2
    alpha = np.asarray(z, dtype=float) / np.sqrt(n)
    at_capacity = np.expm1(rho)
    with np.errstate(divide="ignore", over="ignore"):
        small = 0.125 * (rho / np.where(alpha == 0, 1.0, alpha)) ** 2
        lo = np.where(alpha >= 0, at_capacity, np.minimum(0.5 * np.expm1(0.5 * rho), small))
        hi = np.where(alpha >= 0, 2.0 * np.expm1(rho + alpha) + 1e-300, at_capacity)

    def residual(log_snr: np.ndarray, a: np.ndarray) -> np.ndarray:
        log1p_snr = np.log1p(np.exp(log_snr))
        return (log1p_snr - rho) / np.sqrt(-np.expm1(-2.0 * log1p_snr)) - a

    root = find_root(residual, np.log(lo), np.log(hi), args=(alpha,), xrtol=4e-16)
    out = np.exp(root)
    return np.where(alpha == 0, at_capacity, out)


class RayleighBler:
    """Mean finite-blocklength BLER of one stream over Rayleigh block fading.

    E(s) = E_G[Ψ(s G)], G ~ Exp(1), with Ψ the normal approximation of
    :func:`semopt.link.fbl.bler` for ``k`` bits in ``n`` channel uses, s the mean
    linear received SNR.

    Parameters
    ----------
    k, n : float
        Information bits and blocklength (channel uses) of the stream.
    log_term : bool
        Include the ½·log2(n)/n term (as in :func:`semopt.link.fbl.bler`).
    nodes : int
        Gauss–Hermite nodes of the reference quadrature (default 128).

    Notes
    -----
    :meth:`quadrature` is the reference: E(s) = Σ_j w_j (1 − exp(−S_j/s)) and
    1 − E(s) = Σ_j w_j exp(−S_j/s) over probabilists' Gauss–Hermite nodes z_j
    (weights w_j summing to 1), S_j the SNR at which the Q-argument of eq. 23 equals
    z_j (so Ψ(S_j) = Q(z_j) exactly). :meth:`mean_bler` and :meth:`mean_snr_for_bler`
    use a cubic-Hermite table of logit(E) in ln s built from it (spacing 0.004), and
    the exact asymptote E = m_1/s − m_2/(2s²) (m_r = Σ w_j S_j^r) beyond its
    high-SNR end; E = 1 to double precision below its low-SNR end.
    """

    def __init__(self, k: float, n: float, *, log_term: bool = False,
                 nodes: int = _QUADRATURE_NODES) -> None:
        self.k, self.n, self.log_term = float(k), float(n), bool(log_term)
        self.rate = _effective_rate(self.k, self.n, self.log_term)
        z, w = hermegauss(int(nodes))
        self.weights = w / np.sqrt(2.0 * np.pi)
        self.snr_nodes = _snr_at_q_argument(z, self.rate, self.n)
        self.z_nodes = z
        if not np.all(np.isfinite(self.snr_nodes) & (self.snr_nodes > 0)):
            raise ValueError(f"k, n: the quadrature nodes of the mean BLER could not be "
                             f"placed for k={k}, n={n}")
        self.m1 = float(self.weights @ self.snr_nodes)
        self.m2 = float(self.weights @ self.snr_nodes**2)
        self._build_table()

    # -- reference quadrature -----------------------------------------------------------
    def quadrature(self, mean_snr: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """E(s), 1 − E(s) and dE/d(ln s) by the Gauss–Hermite quadrature (any shape)."""
        s = np.asarray(mean_snr, dtype=float)
        flat = s.reshape(-1)
        e = np.empty(flat.shape)
        c = np.empty(flat.shape)
        d = np.empty(flat.shape)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for start in range(0, flat.size, _CHUNK):
                x = self.snr_nodes[None, :] / flat[start:start + _CHUNK, None]
                ex = np.exp(-x)
                e[start:start + _CHUNK] = (-np.expm1(-x)) @ self.weights
                c[start:start + _CHUNK] = ex @ self.weights
                d[start:start + _CHUNK] = -(np.where(ex > 0, x * ex, 0.0) @ self.weights)
        return e.reshape(s.shape), c.reshape(s.shape), d.reshape(s.shape)

    def _build_table(self) -> None:
        center = float(np.log(self.m1))
        coarse = np.arange(center - 60.0, center + 60.0, 0.25)
        e, c, _ = self.quadrature(np.exp(coarse))
        with np.errstate(divide="ignore"):
            y = np.log(e) - np.log(c)
        left = coarse[np.flatnonzero(y >= _Y_LEFT)[-1]] if np.any(y >= _Y_LEFT) else coarse[0]
        right = coarse[np.flatnonzero(y <= _Y_RIGHT)[0]] if np.any(y <= _Y_RIGHT) else coarse[-1]
        count = int(np.ceil((right - left) / _TABLE_STEP)) + 1
        t = left + _TABLE_STEP * np.arange(count)
        e, c, d = self.quadrature(np.exp(t))
        self.t0, self.h = float(t[0]), _TABLE_STEP
        self.t_nodes = t
        self.y_nodes = np.log(e) - np.log(c)
        self.dy_nodes = d / (e * c)  # dy/dt = (dE/dt) / (E (1 − E))
        if not (np.all(np.isfinite(self.y_nodes)) and np.all(self.dy_nodes < 0)):
            raise ValueError(f"k, n: the mean-BLER table is not monotone for k={self.k}, "
                             f"n={self.n}")
        # Per-cell cubic in u ∈ [0, 1]: y = y0 + u (m0 + u (c2 + u c3)), m = h·y'.
        y0, y1 = self.y_nodes[:-1], self.y_nodes[1:]
        m0, m1 = self.dy_nodes[:-1] * self.h, self.dy_nodes[1:] * self.h
        self._c2 = 3.0 * (y1 - y0) - 2.0 * m0 - m1
        self._c3 = 2.0 * (y0 - y1) + m0 + m1
        self._m0 = m0

    # -- tabulated model ------------------------------------------------------------------
    def _hermite(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """y(t) and y'(t) on the table (t inside it)."""
        pos = (t - self.t0) / self.h
        k = np.clip(pos.astype(np.int64), 0, len(self.t_nodes) - 2)
        u = pos - k
        m0, c2, c3 = self._m0[k], self._c2[k], self._c3[k]
        y = self.y_nodes[k] + u * (m0 + u * (c2 + u * c3))
        dy = (m0 + u * (2.0 * c2 + 3.0 * u * c3)) / self.h
        return y, dy

    def mean_bler(self, mean_snr: ArrayLike) -> np.ndarray:
        """E(s) = E_G[Ψ(s G)] at mean linear SNRs ``mean_snr`` (>= 0), any shape."""
        s = np.asarray(mean_snr, dtype=float)
        with np.errstate(divide="ignore"):
            t = np.log(s)
        out = np.ones(s.shape)
        t_end = self.t_nodes[-1]
        inside = (t >= self.t0) & (t <= t_end)
        if np.any(inside):
            y, _ = self._hermite(t[inside])
            out[inside] = special.expit(y)
        high = t > t_end
        if np.any(high):
            inv = 1.0 / s[high]
            out[high] = self.m1 * inv - 0.5 * self.m2 * inv * inv
        return out[()]

    def mean_snr_for_bler(self, bler: ArrayLike) -> np.ndarray:
        """Mean SNR s with E(s) = ``bler`` (in (0, 1]; 1 gives 0), the exact inverse of
        :meth:`mean_bler` (Newton on the tabulated cubic)."""
        b = np.asarray(bler, dtype=float)
        if np.any(~((b > 0) & (b <= 1))):
            raise ValueError("bler: must lie in (0, 1] (1 means the stream is not sent)")
        out = np.zeros(b.shape)
        with np.errstate(divide="ignore"):
            y_star = np.log(b) - np.log1p(-b)
        y_end = self.y_nodes[-1]
        inside = (b < 1) & (y_star >= y_end)
        if np.any(inside):
            ys = np.minimum(y_star[inside], self.y_nodes[0])
            k = np.clip(np.searchsorted(-self.y_nodes, -ys, side="right") - 1, 0,
                        len(self.y_nodes) - 2)
            y0, y1 = self.y_nodes[k], self.y_nodes[k + 1]
            t = self.t_nodes[k] + self.h * np.clip((ys - y0) / (y1 - y0), 0.0, 1.0)
            lo, hi = self.t_nodes[k], self.t_nodes[k + 1]
            for _ in range(4):  # from the chord: ~1e-7, 1e-14, then rounding
                y, dy = self._hermite(t)
                t = np.clip(t - (y - ys) / dy, lo, hi)
            out[inside] = np.exp(t)
        high = (b < 1) & (y_star < y_end)
        if np.any(high):
            # E = m1/s − m2/(2 s²)  ⇒  s = (m1 + √(m1² − 2 m2 E)) / (2E)
            e = b[high]
            out[high] = (self.m1 + np.sqrt(np.maximum(self.m1**2 - 2.0 * self.m2 * e, 0.0))) \
                / (2.0 * e)
        return out[()]

    def slope_log10(self, bler: ArrayLike) -> np.ndarray:
        """d s / d log10(E) at mean BLERs ``bler`` (≤ 0; −inf at 1)."""
        b = np.asarray(bler, dtype=float)
        s = np.asarray(self.mean_snr_for_bler(np.clip(b, 1e-300, 1.0)), dtype=float)
        out = np.full(b.shape, -np.inf)
        with np.errstate(divide="ignore"):
            t = np.log(s)
        inside = (b < 1) & (t >= self.t0) & (t <= self.t_nodes[-1])
        if np.any(inside):
            _, dy = self._hermite(t[inside])
            # dE/dt = E(1 − E) y'(t), ds/dt = s  ⇒  ds/dlog10 E = ln10 · s / ((1 − E) y')
            out[inside] = _LN10 * s[inside] / ((1.0 - b[inside]) * dy)
        high = (b < 1) & (t > self.t_nodes[-1])
        if np.any(high):
            out[high] = -_LN10 * s[high]  # E ∝ 1/s
        return out[()]


@functools.lru_cache(maxsize=64)
def _bler_table(k: float, n: float, log_term: bool) -> RayleighBler:
    return RayleighBler(k, n, log_term=log_term)


def rayleigh_mean_bler(mean_snr: ArrayLike, k: float, n: float, *,
                       log_term: bool = False) -> np.ndarray:
    r"""Mean finite-blocklength BLER over Rayleigh block fading, by quadrature.

    :math:`E[\Psi(sG)] = \int_0^\infty \Psi(s g)\,e^{-g}\,dg` evaluated as
    :math:`E_Z[1 - e^{-S(Z)/s}]`, Z standard normal, by 128-node Gauss–Hermite
    quadrature (see the module notes): the reference the fast tabulated model of
    :class:`RayleighBler` is checked against.

    Parameters
    ----------
    mean_snr : array_like
        Mean linear received SNR s (>= 0).
    k, n : float
        Information bits and blocklength (channel uses).
    log_term : bool
        Include the ½·log2(n)/n term of the normal approximation.

    Returns
    -------
    ndarray
        Mean BLER in [0, 1].
    """
    s = np.asarray(mean_snr, dtype=float)
    if np.any(~(s >= 0)):
        raise ValueError("mean_snr: linear SNR must be >= 0 (and not NaN)")
    return _bler_table(float(k), float(n), bool(log_term)).quadrature(s)[0][()]


# -- link strategies --------------------------------------------------------------------
class LinkModel(ABC):
    """Error rate ↔ received SNR of every stream (arrays with a last axis of streams).

    Attributes
    ----------
    scheme : str
        ``"forward"`` (uncoded BPSK BER) or ``"discard"`` (coded BLER).
    csi : str
        One of :data:`CSI_MODES`.
    max_error_rate : float
        Error rate of a switched-off stream (0.5 BER, 1 BLER).
    """

    scheme: str = ""
    csi: str = ""
    max_error_rate: float = 1.0

    @abstractmethod
    def error_rate(self, snr_linear: np.ndarray) -> np.ndarray:
        """Error rates Φ_i at linear (mean) received SNRs ``[..., I]``."""

    @abstractmethod
    def required_snr(self, error_rate: np.ndarray) -> np.ndarray:
        """Linear (mean) received SNR s_i(Φ_i) achieving the error rates ``[..., I]``."""

    @abstractmethod
    def required_snr_slope_log10(self, error_rate: np.ndarray) -> np.ndarray:
        """d s_i / d log10(Φ_i) (≤ 0; −inf at Φ_max, a switched-off stream)."""


class InstantaneousBPSK(LinkModel):
    """Uncoded BPSK at a known SNR: ψ = Q(√(2s)) (Xu et al. eq. 21)."""

    scheme, csi, max_error_rate = "forward", "instantaneous", 0.5

    def error_rate(self, snr_linear: np.ndarray) -> np.ndarray:
        return bpsk.ber(snr_linear)

    def required_snr(self, error_rate: np.ndarray) -> np.ndarray:
        return bpsk.snr_for_ber(np.clip(np.asarray(error_rate, dtype=float), 1e-300, 0.5))

    def required_snr_slope_log10(self, error_rate: np.ndarray) -> np.ndarray:
        rate = np.clip(np.asarray(error_rate, dtype=float), 1e-300, 0.5)
        x = -ndtri(rate)  # Q^{-1}(ψ)
        density = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
        with np.errstate(divide="ignore", invalid="ignore"):
            ds_drate = -x / density  # s = x²/2, dx/dψ = −1/φ(x)
        # At ψ = ½ (x = 0) the slope is exactly 0: s(ψ) is flat where the stream is off.
        return np.where(rate >= 0.5, 0.0, ds_drate * rate * _LN10)


class InstantaneousFBL(LinkModel):
    """Finite-blocklength BLER at a known SNR (Xu et al. eq. 23), per-stream k_i, n_i."""

    scheme, csi, max_error_rate = "discard", "instantaneous", 1.0

    def __init__(self, bits: np.ndarray, blocklength: np.ndarray, log_term: bool) -> None:
        self.bits = np.asarray(bits, dtype=float)
        self.blocklength = np.asarray(blocklength, dtype=float)
        self.log_term = bool(log_term)

    def error_rate(self, snr_linear: np.ndarray) -> np.ndarray:
        return fbl.bler(snr_linear, self.bits, self.blocklength, log_term=self.log_term)

    def required_snr(self, error_rate: np.ndarray) -> np.ndarray:
        rate = np.asarray(error_rate, dtype=float)
        out = fbl.snr_for_bler(np.clip(rate, 1e-300, 1.0), self.bits, self.blocklength,
                               log_term=self.log_term)
        return np.where(rate >= 1.0, 0.0, out)

    def required_snr_slope_log10(self, error_rate: np.ndarray) -> np.ndarray:
        rate = np.clip(np.asarray(error_rate, dtype=float), 1e-300, 1.0)
        s = self.required_snr(rate)
        n = self.blocklength
        r = self.bits / n - (np.log2(n) / (2.0 * n) if self.log_term else 0.0)
        cap = np.log2(1.0 + s)
        disp = 1.0 - (1.0 + s) ** -2.0
        dcap = 1.0 / ((1.0 + s) * _LN2)
        ddisp = 2.0 * (1.0 + s) ** -3.0
        with np.errstate(divide="ignore", invalid="ignore"):
            g = _LN2 * np.sqrt(n / disp) * (cap - r)
            dg = _LN2 * np.sqrt(n) * (dcap / np.sqrt(disp) - 0.5 * (cap - r) * ddisp / disp**1.5)
            density = np.exp(-0.5 * g * g) / np.sqrt(2.0 * np.pi)
            ds_drate = -1.0 / (density * dg)
        return np.where(rate >= 1.0, -np.inf, ds_drate * rate * _LN10)


class RayleighBPSK(LinkModel):
    """Uncoded BPSK with statistical CSI: mean BER over Rayleigh fading (closed form).

    The perception surface is then evaluated at the mean BERs: exact when every bit
    sees an independent gain (fast fading, ideal interleaving), an approximation under
    block fading (see the module notes).
    """

    scheme, csi, max_error_rate = "forward", "statistical", 0.5

    def error_rate(self, snr_linear: np.ndarray) -> np.ndarray:
        return rayleigh_mean_ber_bpsk(snr_linear)

    def required_snr(self, error_rate: np.ndarray) -> np.ndarray:
        return snr_for_rayleigh_mean_ber_bpsk(np.clip(np.asarray(error_rate, dtype=float),
                                                      1e-300, 0.5))

    def required_snr_slope_log10(self, error_rate: np.ndarray) -> np.ndarray:
        b = np.clip(np.asarray(error_rate, dtype=float), 1e-300, 0.5)
        # ds/db = −(1 − 2b) / (4 b² (1 − b)²)
        slope = -(1.0 - 2.0 * b) * _LN10 / (4.0 * b * (1.0 - b) ** 2)
        return np.where(b >= 0.5, 0.0, slope)  # exactly 0 at b = ½ (the stream is off)


class RayleighFBL(LinkModel):
    """Coded streams with statistical CSI: mean finite-blocklength BLER over Rayleigh
    block fading, one :class:`RayleighBler` per stream (the discard perception at the
    mean BLERs is the exact fading-averaged perception)."""

    scheme, csi, max_error_rate = "discard", "statistical", 1.0

    def __init__(self, bits: np.ndarray, blocklength: np.ndarray, log_term: bool) -> None:
        self.bits = np.asarray(bits, dtype=float)
        self.blocklength = np.asarray(blocklength, dtype=float)
        self.log_term = bool(log_term)
        self.streams = [_bler_table(float(k), float(n), self.log_term)
                        for k, n in zip(self.bits, self.blocklength)]

    def _per_stream(self, values: np.ndarray, fn: str) -> np.ndarray:
        arr = np.asarray(values, dtype=float)
        arr = np.broadcast_to(arr, arr.shape[:-1] + (len(self.streams),)) if arr.ndim else \
            np.broadcast_to(arr, (len(self.streams),))
        out = np.empty(arr.shape)
        for i, stream in enumerate(self.streams):
            out[..., i] = getattr(stream, fn)(arr[..., i])
        return out

    def error_rate(self, snr_linear: np.ndarray) -> np.ndarray:
        s = np.asarray(snr_linear, dtype=float)
        if np.any(~(s >= 0)):
            raise ValueError("snr: linear SNR must be >= 0 (and not NaN)")
        return self._per_stream(s, "mean_bler")

    def required_snr(self, error_rate: np.ndarray) -> np.ndarray:
        rate = np.clip(np.asarray(error_rate, dtype=float), 1e-300, 1.0)
        return self._per_stream(rate, "mean_snr_for_bler")

    def required_snr_slope_log10(self, error_rate: np.ndarray) -> np.ndarray:
        rate = np.clip(np.asarray(error_rate, dtype=float), 1e-300, 1.0)
        return self._per_stream(rate, "slope_log10")


def link_model(scheme: str, csi: str, bits: ArrayLike, blocklength: ArrayLike,
               log_term: bool = False) -> LinkModel:
    """The link strategy of a (scheme, CSI mode) pair.

    Parameters
    ----------
    scheme : {"forward", "discard"}
        Uncoded BPSK BER or coded finite-blocklength BLER.
    csi : {"instantaneous", "statistical"}
        Known SNR, or known mean SNR of Rayleigh block fading (error rates averaged).
    bits, blocklength : array_like, shape (I,)
        Payload bits K_i and channel uses N_i per stream (coded scheme).
    log_term : bool
        ½·log2(N)/N term of the normal approximation.
    """
    if csi not in CSI_MODES:
        raise ValueError(f"csi: must be one of {', '.join(map(repr, CSI_MODES))}, got {csi!r}")
    if scheme == "forward":
        return InstantaneousBPSK() if csi == "instantaneous" else RayleighBPSK()
    if scheme == "discard":
        cls = InstantaneousFBL if csi == "instantaneous" else RayleighFBL
        return cls(np.asarray(bits, dtype=float), np.asarray(blocklength, dtype=float), log_term)
    raise ValueError(f"scheme: must be 'forward' or 'discard', got {scheme!r}")
