"""Channels: seeded, reproducible corruption of one stream.

* :class:`BitFlipChannel` -- uncoded *forward-with-error*: every bit flips independently
  with probability ψ (the BER). Flips use **common random numbers**: one uniform draw
  ``u_j`` per bit, bit j flips iff ``u_j < ψ``. With the same generator state the flip
  set at ψ is contained in the flip set at every ψ' > ψ, so a Monte Carlo repetition
  is one coupled channel realisation across the whole BER grid (lower variance, and
  monotone per realisation in the number of flips).
* :class:`ErasureChannel` -- coded *discard-with-error*: the whole stream is lost with
  probability Ψ (the BLER) and the receiver discards it (returns ``None``).
* :class:`AwgnChannel`, :class:`RayleighChannel` -- analog symbols (JSCC streams):
  complex/real symbols plus Gaussian noise at an SNR in dB (Rayleigh: unit-power fading
  per symbol, perfect CSI, zero-forcing/MMSE equalisation).

Every channel takes a :class:`numpy.random.Generator`; nothing touches global state.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AwgnChannel", "BitFlipChannel", "ErasureChannel", "RayleighChannel", "flip_bits"]


def _check_rate(value: float, top: float, what: str) -> float:
    value = float(value)
    if not np.isfinite(value) or not 0.0 <= value <= top:
        raise ValueError(f"{what}: must lie in [0, {top}], got {value}")
    return value


def flip_bits(data: bytes, ber: float, uniforms: np.ndarray) -> bytes:
    """Flip bit j of ``data`` iff ``uniforms[j] < ber`` (MSB-first bit order).

    Parameters
    ----------
    data : bytes
        Payload.
    ber : float
        Bit error rate ψ in [0, 0.5].
    uniforms : numpy.ndarray
        At least ``8 * len(data)`` draws from U[0, 1).
    """
    ber = _check_rate(ber, 0.5, "ber")
    n = 8 * len(data)
    if uniforms.size < n:
        raise ValueError(f"uniforms: need {n} draws, got {uniforms.size}")
    if ber == 0.0 or n == 0:
        return bytes(data)
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    bits ^= (uniforms[:n] < ber).astype(np.uint8)
    return np.packbits(bits).tobytes()


class BitFlipChannel:
    """Binary symmetric channel: independent bit flips at BER ψ (forward-with-error)."""

    name = "bsc"

    def transmit(self, data: bytes, error_rate: float, rng: np.random.Generator) -> bytes:
        """Corrupt ``data`` at BER ``error_rate``; one uniform per bit is drawn from ``rng``."""
        return flip_bits(data, error_rate, rng.random(8 * len(data)))


class ErasureChannel:
    """Block erasure: the stream is lost (``None``) with probability Ψ (discard-with-error)."""

    name = "erasure"

    def transmit(self, data: bytes, error_rate: float, rng: np.random.Generator) -> bytes | None:
        """``data`` unchanged with probability 1 − Ψ, else ``None``."""
        bler = _check_rate(error_rate, 1.0, "bler")
        return None if rng.random() < bler else bytes(data)


class AwgnChannel:
    """Analog symbols through additive white Gaussian noise at ``snr_db``.

    Real inputs get real noise of variance ``P/snr``; complex inputs get circular complex
    noise. ``P`` is the mean symbol power of the input (power normalisation as in JSCC).
    """

    name = "awgn"

    def transmit(self, data: np.ndarray, error_rate: float, rng: np.random.Generator) -> np.ndarray:
        """``data + n`` with ``error_rate`` read as the SNR in dB."""
        x = np.asarray(data)
        snr = 10.0 ** (float(error_rate) / 10.0)
        power = float(np.mean(np.abs(x) ** 2)) or 1.0
        sigma2 = power / snr
        if np.iscomplexobj(x):
            noise = (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)) \
                * np.sqrt(sigma2 / 2)
        else:
            noise = rng.standard_normal(x.shape) * np.sqrt(sigma2)
        return x + noise


class RayleighChannel:
    """Analog symbols through per-symbol Rayleigh fading (unit mean power) plus AWGN.

    The receiver knows ``h`` and equalises: ``mmse=True`` (default) returns
    ``conj(h) y / (|h|² + 1/snr)``, otherwise zero-forcing ``y / h``.
    """

    name = "rayleigh"

    def __init__(self, mmse: bool = True) -> None:
        self.mmse = mmse

    def transmit(self, data: np.ndarray, error_rate: float, rng: np.random.Generator) -> np.ndarray:
        """Equalised received symbols; ``error_rate`` is the average SNR in dB."""
        x = np.asarray(data)
        snr = 10.0 ** (float(error_rate) / 10.0)
        power = float(np.mean(np.abs(x) ** 2)) or 1.0
        h = (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)) / np.sqrt(2)
        sigma2 = power / snr
        noise = (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)) * np.sqrt(sigma2 / 2)
        y = h * x + noise
        if self.mmse:
            est = np.conj(h) * y / (np.abs(h) ** 2 + 1.0 / snr)
        else:
            est = y / h
        return est if np.iscomplexobj(x) else est.real
