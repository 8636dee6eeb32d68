"""GenED-SC symbol budget: coded prompt overhead, visual JSCC symbols, and their split.

GenED-SC sends two streams over one channel: an analog JSCC visual stream split into a
foreground and a background branch, and a digital text prompt (UTF-8 → LDPC rate ½ →
16-QAM). Its overhead metric is the total number of complex channel symbols,

    S_total = S_text + S_fg + S_bg,
    S_text  = ⌈ n_coded / log2 M ⌉,   n_coded = ⌈ 8·bytes / R ⌉   (ideal-length code), or
              n_cw · N with n_cw = ⌈ 8·bytes / (R N) ⌉            (block code of length N),
    S_vis   = CBR · n_source            (complex symbols per real source value, n = 3HW).

:func:`split_symbol_budget` solves the budget question a designer asks: given a total
symbol budget, a prompt and the foreground's share of the image, how many symbols go to
each branch? The prompt must arrive losslessly, so it is served first; the rest is split
between the branches in proportion to area × symbol density::

    S_fg = ⌊ S_vis · ρ κ / (ρ κ + 1 − ρ) ⌋,   S_bg = S_vis − S_fg,

with ρ the foreground fraction and κ the foreground-to-background density ratio (symbols
per source value; κ > 1 compresses the background harder, as GenED-SC does).
All functions broadcast over array arguments.

Digital streams and the prompt link
-----------------------------------
Every digital stream (the prompt, and in the measured ``symbol-split`` table also the
entropy-coded foreground / background latents) is sent with a modulation and coding
scheme (:class:`MCS`, the set :data:`MCS_TABLE`): ``bits`` information bits cost
``⌈bits / η⌉`` complex symbols, ``η = R · log2 M`` bit per symbol
(:func:`digital_symbols`). :func:`delivery_probability` is the probability that such a
stream decodes, from the finite-blocklength normal approximation of
:mod:`semopt.link.fbl` with ``k`` = information bits and ``n`` = complex channel uses of
the codeword(s); :func:`prompt_delivery_probability` applies it to a UTF-8 prompt (LDPC
rate ½, 16-QAM: ``n`` = :func:`text_symbols`). ``snr`` is Es/N0 per complex symbol on a
complex AWGN channel. Two capacity models (``capacity=``):

* ``"gaussian"`` (default): :func:`semopt.link.fbl.bler` as it is -- the Gaussian-input
  capacity ``log2(1 + snr)`` and dispersion ``1 − (1 + snr)^−2``. The constellation
  enters only through the blocklength (``n = coded bits / log2 M``) and the rate
  ``k/n = R log2 M`` (2 bit/symbol for LDPC ½ + 16-QAM); capacity is not capped at
  ``log2 M``.
* ``"constellation"``: the same normal approximation with the mutual information
  ``I(snr)`` and the variance ``V(snr)`` of the information density of *uniform*
  ``M``-QAM inputs (coded modulation, :func:`constellation_moments`), which a
  16-QAM transmitter can actually approach; it needs about 0.35 dB more SNR than the
  Gaussian model at rate 2 bit/symbol (see ``docs/symbol-split.md``).

Finally :func:`expected_quality` averages a quality over the delivered / lost prompt,
``E[Q] = p · Q(delivered) + (1 − p) · Q(lost)``, and :func:`paper_design_point`
recomputes GenED-SC's 8192 + 426 = 8618 symbol design point with these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from semopt.link import fbl
from semopt.units import db_to_linear, parse_snr_db

__all__ = [
    "MCS",
    "MCS_TABLE",
    "GenEDBudget",
    "PaperDesignPoint",
    "constellation_moments",
    "delivery_probability",
    "digital_symbols",
    "expected_quality",
    "get_mcs",
    "paper_design_point",
    "prompt_bytes",
    "prompt_delivery_probability",
    "split_symbol_budget",
    "text_symbols",
    "visual_symbols",
]


def prompt_bytes(prompt: str | int | ArrayLike) -> np.ndarray:
    """UTF-8 length in bytes of a prompt (a string), or byte counts passed through."""
    if isinstance(prompt, str):
        return np.asarray(len(prompt.encode("utf-8")))
    n = np.asarray(prompt)
    if n.dtype.kind not in "iu" or np.any(n < 0):
        raise ValueError(f"prompt: must be a string or non-negative integer byte counts, "
                         f"got {prompt!r}")
    return n.astype(np.int64)


def text_symbols(prompt: str | int | ArrayLike, *, code_rate: float = 0.5,
                 bits_per_symbol: int = 4, codeword_bits: int | None = None,
                 crc_bits: int = 0) -> np.ndarray:
    """Channel symbols of an LDPC-coded, QAM-modulated UTF-8 prompt.

    Parameters
    ----------
    prompt : str or int or array of int
        The prompt text, or its UTF-8 length in bytes.
    code_rate : float
        LDPC code rate R (GenED-SC: ½).
    bits_per_symbol : int
        log2 of the QAM order (GenED-SC: 16-QAM → 4).
    codeword_bits : int, optional
        Block length N of the code. ``None`` (default) counts an ideal-length code,
        ``⌈8·bytes/R⌉`` coded bits; otherwise whole codewords of N bits, each carrying
        ``R·N`` information bits (e.g. 648 or 1944 for the IEEE 802.11n codes).
    crc_bits : int
        Extra information bits (CRC, header) added to the prompt.

    Returns
    -------
    ndarray of int
        Complex channel symbols. Example: 107 bytes → 856 bits → 1712 coded → 428 symbols;
        GenED-SC's "about 426" is the average over its prompts (≈ 106.5 bytes).
    """
    if not 0.0 < float(code_rate) <= 1.0:
        raise ValueError(f"code_rate: must lie in (0, 1], got {code_rate!r}")
    if int(bits_per_symbol) < 1:
        raise ValueError(f"bits_per_symbol: must be a positive integer, got {bits_per_symbol!r}")
    info = 8 * prompt_bytes(prompt) + int(crc_bits)
    if codeword_bits is None:
        coded = np.ceil(info / float(code_rate) - 1e-9)
    else:
        n = int(codeword_bits)
        k = round(n * float(code_rate))
        if n < 1 or k < 1:
            raise ValueError(f"codeword_bits: must give at least one information bit, got {n}")
        coded = np.ceil(info / k) * n
    return np.ceil(coded / int(bits_per_symbol)).astype(np.int64)


def visual_symbols(height: int, width: int, cbr: ArrayLike, *, image_channels: int = 3,
                   convention: str = "complex") -> np.ndarray:
    """JSCC visual symbols of an ``height × width`` image at channel bandwidth ratio ``cbr``.

    ``n = image_channels · height · width`` real source values. ``convention="complex"``
    (SwinJSCC / Deep-JSCC: CBR = complex channel uses / n) gives ``CBR · n`` symbols;
    ``"real"`` (CBR = real channel uses / n) gives ``CBR · n / 2``. Rounded down.
    """
    c = np.asarray(cbr, dtype=float)
    if np.any(~np.isfinite(c)) or np.any(c <= 0):
        raise ValueError(f"cbr: must be positive, got {cbr!r}")
    n = int(image_channels) * int(height) * int(width)
    if convention == "complex":
        k = c * n
    elif convention == "real":
        k = c * n / 2.0
    else:
        raise ValueError(f"convention: must be 'complex' or 'real', got {convention!r}")
    return np.floor(k + 1e-9).astype(np.int64)


@dataclass(frozen=True)
class GenEDBudget:
    """A split of a total symbol budget (arrays broadcast over the inputs).

    Attributes
    ----------
    total_symbols, text_symbols, visual_symbols, foreground_symbols, background_symbols
        Symbol counts (``text + foreground + background = total``).
    text_share : float or ndarray
        ``text_symbols / total_symbols``.
    foreground_cbr, background_cbr : float or ndarray
        Symbols per real source value of each branch (NaN unless ``source_dims`` given).
    """

    total_symbols: np.ndarray
    text_symbols: np.ndarray
    visual_symbols: np.ndarray
    foreground_symbols: np.ndarray
    background_symbols: np.ndarray
    text_share: np.ndarray
    foreground_cbr: np.ndarray
    background_cbr: np.ndarray


def split_symbol_budget(total_symbols: ArrayLike, prompt: str | int | ArrayLike, *,
                        foreground_fraction: ArrayLike,
                        foreground_density_ratio: ArrayLike = 1.0,
                        source_dims: int | None = None, code_rate: float = 0.5,
                        bits_per_symbol: int = 4,
                        codeword_bits: int | None = None) -> GenEDBudget:
    """Split a total symbol budget between text, foreground and background.

    Solves ``S_text + S_fg + S_bg = S_total`` with the prompt served first (it must be
    lossless) and ``S_fg / (ρ n) = κ · S_bg / ((1 − ρ) n)`` (density ratio κ), integer
    symbols (foreground rounded down).

    Parameters
    ----------
    total_symbols : int or array
        Total complex-symbol budget.
    prompt : str or int
        Prompt text or its UTF-8 length in bytes (see :func:`text_symbols`).
    foreground_fraction : float or array
        ρ ∈ [0, 1], share of the image (source values) that is foreground.
    foreground_density_ratio : float or array
        κ > 0, foreground symbols per source value over background's (1: uniform).
    source_dims : int, optional
        Real source values n (3HW) to report per-branch CBRs.

    Raises
    ------
    ValueError
        If the budget does not cover the prompt, or an argument is out of range.
    """
    total = np.asarray(total_symbols)
    if total.dtype.kind not in "iu" and not np.all(np.mod(total, 1) == 0):
        raise ValueError(f"total_symbols: must be whole symbols, got {total_symbols!r}")
    total = total.astype(np.int64)
    rho = np.asarray(foreground_fraction, dtype=float)
    if np.any(~np.isfinite(rho)) or np.any((rho < 0) | (rho > 1)):
        raise ValueError(f"foreground_fraction: must lie in [0, 1], got {foreground_fraction!r}")
    kappa = np.asarray(foreground_density_ratio, dtype=float)
    if np.any(~np.isfinite(kappa)) or np.any(kappa <= 0):
        raise ValueError(f"foreground_density_ratio: must be positive, "
                         f"got {foreground_density_ratio!r}")
    text = text_symbols(prompt, code_rate=code_rate, bits_per_symbol=bits_per_symbol,
                        codeword_bits=codeword_bits)
    visual = total - text
    if np.any(visual < 0):
        raise ValueError(f"total_symbols: {total_symbols!r} does not cover the "
                         f"{np.max(text)} symbols the coded prompt needs")
    weight = rho * kappa / (rho * kappa + (1.0 - rho))
    fg = np.floor(visual * weight + 1e-9).astype(np.int64)
    bg = visual - fg
    if source_dims is None:
        fg_cbr = np.full(np.shape(fg), np.nan)
        bg_cbr = np.full(np.shape(bg), np.nan)
    else:
        n = float(source_dims)
        with np.errstate(divide="ignore", invalid="ignore"):
            fg_cbr = np.where(rho > 0, fg / (rho * n), np.nan)
            bg_cbr = np.where(rho < 1, bg / ((1.0 - rho) * n), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, text / np.maximum(total, 1), np.nan)
    return GenEDBudget(total_symbols=np.broadcast_to(total, np.shape(fg)).copy(),
                       text_symbols=np.broadcast_to(text, np.shape(fg)).copy(),
                       visual_symbols=np.broadcast_to(visual, np.shape(fg)).copy(),
                       foreground_symbols=fg, background_symbols=bg,
                       text_share=np.broadcast_to(share, np.shape(fg)).copy(),
                       foreground_cbr=fg_cbr, background_cbr=bg_cbr)


# --------------------------------------------------------------------------------------------------
# Modulation and coding schemes

@dataclass(frozen=True)
class MCS:
    """A modulation and coding scheme: square QAM (or BPSK) of order ``M`` with code rate ``R``.

    Attributes
    ----------
    name : str
        E.g. ``"16qam-1/2"``.
    order : int
        Constellation size ``M`` (2 = BPSK, 4 = QPSK, 16, 64, 256: square QAM).
    code_rate : float
        Code rate ``R`` in (0, 1].
    """

    name: str
    order: int
    code_rate: float

    def __post_init__(self) -> None:
        if self.order not in _ORDERS:
            raise ValueError(f"mcs.order: must be one of {sorted(_ORDERS)} (BPSK or square QAM), "
                             f"got {self.order!r}")
        if not 0.0 < float(self.code_rate) <= 1.0:
            raise ValueError(f"mcs.code_rate: must lie in (0, 1], got {self.code_rate!r}")

    @property
    def bits_per_symbol(self) -> int:
        """``log2 M`` coded bits per complex symbol."""
        return round(math.log2(self.order))

    @property
    def spectral_efficiency(self) -> float:
        """``η = R · log2 M`` information bits per complex symbol."""
        return float(self.code_rate) * self.bits_per_symbol

    def to_json(self) -> dict[str, float | int | str]:
        """JSON-able description (name, order, code rate, bits per symbol, η)."""
        return {"name": self.name, "order": self.order, "code_rate": float(self.code_rate),
                "bits_per_symbol": self.bits_per_symbol,
                "spectral_efficiency": self.spectral_efficiency}


_ORDERS = (2, 4, 16, 64, 256)

#: The IEEE 802.11n single-stream MCS 0–7 modulation / code-rate pairs (η = R log2 M in
#: bit per complex symbol: 0.5, 1, 1.5, 2, 3, 4, 4.5, 5). GenED-SC's prompt uses
#: ``"16qam-1/2"`` (LDPC rate ½ on 16-QAM, η = 2).
MCS_TABLE: dict[str, MCS] = {m.name: m for m in (
    MCS("bpsk-1/2", 2, 1 / 2), MCS("qpsk-1/2", 4, 1 / 2), MCS("qpsk-3/4", 4, 3 / 4),
    MCS("16qam-1/2", 16, 1 / 2), MCS("16qam-3/4", 16, 3 / 4), MCS("64qam-2/3", 64, 2 / 3),
    MCS("64qam-3/4", 64, 3 / 4), MCS("64qam-5/6", 64, 5 / 6),
)}


def get_mcs(mcs: str | MCS) -> MCS:
    """An :class:`MCS` by name from :data:`MCS_TABLE` (or passed through).

    Raises
    ------
    ValueError
        For an unknown name, listing the valid ones.
    """
    if isinstance(mcs, MCS):
        return mcs
    if isinstance(mcs, str) and mcs in MCS_TABLE:
        return MCS_TABLE[mcs]
    raise ValueError(f"mcs: unknown {mcs!r}; valid: {', '.join(MCS_TABLE)}")


def digital_symbols(bits: ArrayLike, mcs: str | MCS = "16qam-1/2") -> np.ndarray:
    """Complex channel symbols of a digital stream of ``bits`` information bits.

    ``⌈bits / η⌉`` with ``η = R log2 M`` (an ideal-length code: ``⌈bits / R⌉`` coded bits,
    ``log2 M`` of them per symbol, rounded up once). Zero bits cost zero symbols.

    Parameters
    ----------
    bits : array_like
        Information bits (≥ 0).
    mcs : str or MCS
        The modulation and coding scheme (:data:`MCS_TABLE`).

    Returns
    -------
    ndarray of int64
        Symbols, shaped like ``bits``.
    """
    scheme = get_mcs(mcs)
    b = np.asarray(bits, dtype=float)
    if np.any(~np.isfinite(b)) or np.any(b < 0):
        raise ValueError(f"bits: must be finite and ≥ 0, got {bits!r}")
    coded = np.ceil(b / float(scheme.code_rate) - 1e-9)
    return np.ceil(coded / scheme.bits_per_symbol - 1e-9).astype(np.int64)


# --------------------------------------------------------------------------------------------------
# Constellation-constrained mutual information and dispersion

# Trapezoid nodes for E over a standard normal: exponentially accurate for the analytic,
# Gaussian-damped integrands below (checked against mpmath quadrature in the tests).
_NODE_STEP = 0.02
_NODES = np.arange(-12.0, 12.0 + _NODE_STEP / 2, _NODE_STEP)
_NODE_WEIGHTS = np.exp(-0.5 * _NODES**2) * _NODE_STEP / math.sqrt(2.0 * math.pi)


def _pam_moments(snr_dim: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance (bits, bits²) of the information density of uniform PAM.

    ``levels`` equiprobable points of unit average energy, real AWGN with per-dimension
    SNR ``snr_dim`` (signal energy / noise variance). ``y = x + n/√snr``; the density is
    ``i = log2 m − log2 Σ_x' exp(−snr d²/2 − √snr · n · d)``, ``d = x − x'``.
    """
    points = np.arange(levels, dtype=float) * 2.0 - (levels - 1)
    points /= math.sqrt(np.mean(points**2))
    d = points[:, None] - points[None, :]                       # (m, m'): x - x'
    flat = np.ravel(snr_dim)
    mean = np.empty(flat.shape)
    var = np.empty(flat.shape)
    for start in range(0, flat.size, 64):
        s = flat[start:start + 64][:, None, None, None]          # (S, 1, 1, 1)
        n = _NODES[None, None, :, None]                         # (1, 1, T, 1)
        expo = -0.5 * s * d[None, :, None, :] ** 2 - np.sqrt(s) * n * d[None, :, None, :]
        dens = (math.log(levels) - special.logsumexp(expo, axis=-1)) / math.log(2.0)  # (S, m, T)
        w = _NODE_WEIGHTS[None, None, :]
        norm = float(_NODE_WEIGHTS.sum())
        m1 = (dens * w).sum(axis=(1, 2)) / (levels * norm)
        m2 = (((dens - m1[:, None, None]) ** 2) * w).sum(axis=(1, 2)) / (levels * norm)
        mean[start:start + 64] = m1
        var[start:start + 64] = m2
    return mean.reshape(np.shape(snr_dim)), var.reshape(np.shape(snr_dim))


def constellation_moments(snr: ArrayLike, order: int = 16) -> tuple[np.ndarray, np.ndarray]:
    r"""Mutual information and dispersion of a uniform BPSK / square-QAM input on complex AWGN.

    For a uniform input ``X`` on the constellation (unit average energy, Es/N0 = ``snr``)
    and the information density :math:`i(x; y) = \log_2 p(y|x) / p(y)`, returns
    :math:`I = E[i]` (bit per complex symbol) and :math:`V = \mathrm{Var}[i]` (bit²), the
    two numbers of the normal approximation
    :math:`\epsilon \approx Q\bigl(\sqrt{n/V}\,(I - k/n)\bigr)` for a fixed input
    distribution. Square M-QAM is a product of two independent √M-PAMs, each at
    per-dimension SNR ``snr``, so ``I = 2 I_PAM`` and ``V = 2 V_PAM``; BPSK uses one
    dimension at per-dimension SNR ``2 snr``.

    Parameters
    ----------
    snr : array_like
        Linear Es/N0 (≥ 0).
    order : {2, 4, 16, 64, 256}
        Constellation size.

    Returns
    -------
    (I_bits, V_bits2) : tuple of ndarray
        Shaped like ``snr``; ``I → log2 M`` and ``V → 0`` as ``snr → ∞``, ``I = V = 0`` at 0.
    """
    s = np.asarray(snr, dtype=float)
    if np.any(~(s >= 0)):
        raise ValueError("snr: linear SNR must be >= 0 (and not NaN)")
    if order not in _ORDERS:
        raise ValueError(f"order: must be one of {_ORDERS}, got {order!r}")
    if order == 2:
        mean, var = _pam_moments(2.0 * s, 2)
        return mean[()], var[()]
    levels = math.isqrt(order)
    mean, var = _pam_moments(s, levels)
    return (2.0 * mean)[()], (2.0 * var)[()]


def _block_error(snr: np.ndarray, k: float, n: float, order: int, capacity: str,
                 log_term: bool) -> np.ndarray:
    """Block-error rate of one codeword (k information bits, n complex symbols)."""
    if capacity == "gaussian":
        return np.asarray(fbl.bler(snr, k, n, log_term=log_term), dtype=float)
    rate = k / n - (0.5 * math.log2(n) / n if log_term else 0.0)
    if rate <= 0:
        raise ValueError("k, n: with log_term=True the effective rate k/n - log2(n)/(2n) must be > 0")
    info, disp = constellation_moments(snr, order)
    info, disp = np.asarray(info), np.asarray(disp)
    with np.errstate(divide="ignore", invalid="ignore"):
        arg = (info - rate) * np.sqrt(n / disp)
    arg = np.where(disp > 0, arg, np.where(info > rate, np.inf, -np.inf))
    return special.ndtr(-arg)


def delivery_probability(
    snr_db: ArrayLike,
    info_bits: int,
    *,
    mcs: str | MCS = "16qam-1/2",
    codeword_bits: int | None = None,
    capacity: Literal["gaussian", "constellation"] = "gaussian",
    log_term: bool = False,
) -> np.ndarray:
    r"""Probability that a coded digital stream of ``info_bits`` bits is decoded.

    Finite-blocklength normal approximation (:mod:`semopt.link.fbl`, Xu et al. eq. 23) on a
    complex AWGN channel at Es/N0 ``snr``:

    * ideal-length code (``codeword_bits=None``): one codeword of ``k = info_bits`` bits
      in ``n = ⌈⌈k/R⌉ / log2 M⌉`` complex symbols; ``p = 1 − Ψ(snr; k, n)``;
    * block code of ``N = codeword_bits`` coded bits: ``c = ⌈k / (R N)⌉`` codewords of
      ``R N`` bits in ``N / log2 M`` symbols each (the last one padded to full length),
      independent errors, ``p = (1 − Ψ(snr; R N, N/log2 M))^c``.

    With ``capacity="gaussian"`` Ψ is :func:`semopt.link.fbl.bler` (Gaussian-input
    capacity and dispersion); with ``"constellation"`` the mutual information and
    information-density variance of the uniform constellation
    (:func:`constellation_moments`) replace them (see the module docstring).

    Parameters
    ----------
    snr_db : array_like or str
        Es/N0 per complex symbol in dB (``"7 dB"`` accepted); broadcast.
    info_bits : int
        Information bits of the stream (≥ 0; 0 gives ``p = 1``).
    mcs : str or MCS
        Modulation and code (:data:`MCS_TABLE`), default LDPC-like rate ½ on 16-QAM.
    codeword_bits : int, optional
        Coded bits per codeword ``N`` (``N / log2 M`` must be whole symbols).
    capacity : {"gaussian", "constellation"}
        Capacity / dispersion model.
    log_term : bool
        Include the ``½ log2(n)/n`` term of the normal approximation.

    Returns
    -------
    ndarray
        Delivery probability in [0, 1], shaped like ``snr_db``.
    """
    if capacity not in ("gaussian", "constellation"):
        raise ValueError(f"capacity: expected 'gaussian' or 'constellation', got {capacity!r}")
    scheme = get_mcs(mcs)
    snr = db_to_linear(parse_snr_db(snr_db, "snr_db"))
    k = int(info_bits) if np.ndim(info_bits) == 0 else None
    if k is None or k != info_bits or k < 0:
        raise ValueError(f"info_bits: must be a non-negative integer, got {info_bits!r}")
    if k == 0:
        return np.ones(np.shape(snr))[()]
    m = scheme.bits_per_symbol
    if codeword_bits is None:
        n = math.ceil(math.ceil(k / float(scheme.code_rate) - 1e-9) / m - 1e-9)
        psi = _block_error(snr, float(k), float(n), scheme.order, capacity, log_term)
        return (1.0 - psi)[()]
    big_n = int(codeword_bits)
    k_cw = round(big_n * float(scheme.code_rate))
    if big_n < 1 or k_cw < 1 or big_n % m:
        raise ValueError(f"codeword_bits: must be a positive multiple of log2 M = {m} carrying "
                         f"at least one information bit, got {codeword_bits!r}")
    count = math.ceil(k / k_cw)
    psi = _block_error(snr, float(k_cw), float(big_n // m), scheme.order, capacity, log_term)
    return np.exp(count * np.log1p(-np.minimum(psi, 1.0)))[()]


def prompt_delivery_probability(
    snr_db: ArrayLike,
    prompt: str | int,
    *,
    code_rate: float = 0.5,
    bits_per_symbol: int = 4,
    codeword_bits: int | None = None,
    crc_bits: int = 0,
    capacity: Literal["gaussian", "constellation"] = "gaussian",
    log_term: bool = False,
) -> np.ndarray:
    """Probability that GenED-SC's coded prompt (UTF-8 → LDPC rate ½ → 16-QAM) is decoded.

    :func:`delivery_probability` with ``k = 8 · bytes + crc_bits`` information bits and
    the blocklength of :func:`text_symbols` (same arguments), so the cost and the
    reliability of the prompt come from one codeword model.

    Parameters
    ----------
    snr_db : array_like or str
        Es/N0 per complex symbol in dB.
    prompt : str or int
        Prompt text, or its UTF-8 length in bytes.
    code_rate, bits_per_symbol, codeword_bits, crc_bits
        As in :func:`text_symbols` (GenED-SC: ½, 4, ideal length, 0).
    capacity, log_term
        As in :func:`delivery_probability`.

    Returns
    -------
    ndarray
        Delivery probability in [0, 1], shaped like ``snr_db``.

    Examples
    --------
    >>> from semopt.link.gened import prompt_delivery_probability
    >>> p = prompt_delivery_probability([3.0, 5.0, 7.0], 107)   # 107 bytes, 428 symbols
    >>> bool(p[0] < 0.01 and p[2] > 0.999)
    True
    """
    order = 2 ** int(bits_per_symbol)
    if order not in _ORDERS:
        raise ValueError(f"bits_per_symbol: must give BPSK or square QAM (1, 2, 4, 6, 8), "
                         f"got {bits_per_symbol!r}")
    scheme = MCS(f"{order}qam-{code_rate:g}", order, float(code_rate))
    bits = int(8 * int(prompt_bytes(prompt)) + int(crc_bits))
    return delivery_probability(snr_db, bits, mcs=scheme, codeword_bits=codeword_bits,
                                capacity=capacity, log_term=log_term)


def expected_quality(probability: ArrayLike, q_delivered: ArrayLike,
                     q_lost: ArrayLike) -> np.ndarray:
    """``E[Q] = p · Q(delivered) + (1 − p) · Q(lost)`` (broadcast).

    Parameters
    ----------
    probability : array_like
        Delivery probability ``p`` in [0, 1].
    q_delivered, q_lost : array_like
        Quality with the stream delivered / lost (any metric, same units).
    """
    p = np.asarray(probability, dtype=float)
    if np.any(~((p >= 0) & (p <= 1))):
        raise ValueError("probability: must lie in [0, 1]")
    return (p * np.asarray(q_delivered, dtype=float)
            + (1.0 - p) * np.asarray(q_lost, dtype=float))[()]


# --------------------------------------------------------------------------------------------------
# GenED-SC's published design point, recomputed

@dataclass(frozen=True)
class PaperDesignPoint:
    """GenED-SC's symbol budget for a 256×256 image, recomputed (see :func:`paper_design_point`).

    Attributes
    ----------
    height, width : int
        Image size.
    cbr : float
        Channel bandwidth ratio used for the visual stream.
    convention : str
        ``"complex"`` or ``"real"`` (see :func:`visual_symbols`).
    visual_symbols : int
        Visual JSCC symbols.
    prompt_bytes : tuple of int
        The prompt lengths averaged over.
    text_symbols : float
        Mean coded-prompt symbols over ``prompt_bytes``.
    total_symbols : float
        ``visual_symbols + text_symbols``.
    text_share : float
        ``text_symbols / total_symbols``.
    stated_cbr : float
        The CBR the design notes attach to the point (1/16).
    visual_symbols_at_stated_cbr : dict
        Visual symbols at ``stated_cbr`` in both conventions (the documented mismatch).
    snr_db : ndarray or None
        SNRs at which ``delivery_probability`` was evaluated.
    delivery_probability : ndarray or None
        Mean prompt delivery probability over ``prompt_bytes`` (Gaussian FBL model).
    """

    height: int
    width: int
    cbr: float
    convention: str
    visual_symbols: int
    prompt_bytes: tuple[int, ...]
    text_symbols: float
    total_symbols: float
    text_share: float
    stated_cbr: float
    visual_symbols_at_stated_cbr: dict[str, int]
    snr_db: np.ndarray | None = None
    delivery_probability: np.ndarray | None = None


def paper_design_point(snr_db: ArrayLike | None = None, *, height: int = 256, width: int = 256,
                       cbr: float = 1 / 24, convention: str = "complex",
                       prompt: Sequence[int] = (106, 107), stated_cbr: float = 1 / 16,
                       capacity: Literal["gaussian", "constellation"] = "gaussian") -> PaperDesignPoint:
    """GenED-SC's design point (Sec. V-C3: 8192 visual + about 426 text symbols), recomputed.

    The visual symbols come from :func:`visual_symbols` (256×256 at CBR 1/24 in the
    complex-symbol convention, equivalently 1/12 counting real channel uses) and the text
    symbols from :func:`text_symbols` (LDPC rate ½, 16-QAM), averaged over ``prompt``
    byte lengths: the paper gives only the average (about 426 symbols), which two prompts of
    106 and 107 bytes (mean 106.5 bytes) reproduce. ``stated_cbr`` exposes the mismatch
    with the CBR 1/16 of the design notes (12 288 complex symbols, not 8192). With
    ``snr_db`` the prompt delivery probability (:func:`prompt_delivery_probability`) is
    added, averaged over the prompt lengths.

    Parameters
    ----------
    snr_db : array_like, optional
        Es/N0 in dB for the prompt delivery probability.
    height, width, cbr, convention
        The visual stream (see :func:`visual_symbols`).
    prompt : sequence of int
        Prompt lengths in bytes to average over.
    stated_cbr : float
        The CBR quoted with the point elsewhere.
    capacity : {"gaussian", "constellation"}
        Capacity model of the delivery probability.

    Examples
    --------
    >>> from semopt.link.gened import paper_design_point
    >>> d = paper_design_point()
    >>> d.visual_symbols, d.text_symbols, d.total_symbols
    (8192, 426.0, 8618.0)
    """
    sizes = tuple(int(v) for v in prompt)
    if not sizes:
        raise ValueError("prompt: give at least one prompt length in bytes")
    vis = int(visual_symbols(height, width, cbr, convention=convention))
    text = float(np.mean(text_symbols(np.asarray(sizes, dtype=np.int64))))
    total = vis + text
    stated = {conv: int(visual_symbols(height, width, stated_cbr, convention=conv))
              for conv in ("complex", "real")}
    snr_arr = prob = None
    if snr_db is not None:
        snr_arr = np.atleast_1d(parse_snr_db(snr_db, "snr_db"))
        prob = np.mean([prompt_delivery_probability(snr_arr, b, capacity=capacity) for b in sizes],
                       axis=0)
    return PaperDesignPoint(height=int(height), width=int(width), cbr=float(cbr),
                            convention=convention, visual_symbols=vis, prompt_bytes=sizes,
                            text_symbols=text, total_symbols=total, text_share=text / total,
                            stated_cbr=float(stated_cbr), visual_symbols_at_stated_cbr=stated,
                            snr_db=snr_arr, delivery_probability=prob)
