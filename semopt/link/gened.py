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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "GenEDBudget",
    "prompt_bytes",
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
