"""Source codecs: one byte string per stream, so each stream's bits can be corrupted alone.

* :class:`TextCodec` -- UTF-8, optionally zlib-compressed. Corrupted UTF-8 decodes with
  replacement characters; a corrupted zlib stream that no longer inflates decodes to the
  empty prompt (the receiver cannot read it).
* :class:`GaussianConditionalCodec` -- compressai's rANS coder with the Gaussian
  conditional of a ``ScaleHyperprior``: codes any *subset* of latent symbols with their
  CDF indexes, so a foreground and a background subset become two separate streams.
  Decoding corrupted bytes is made safe: the string is zero-padded (the C++ decoder does
  no bounds checks) and decoded values are clamped to ±``SYMBOL_LIMIT`` (escape-coded
  garbage can otherwise be arbitrarily large).
* :class:`EdgeMapCodec` -- a binary edge map coded as an image by a ``ScaleHyperprior``
  (payload = the latent ``y`` string; the hyper-latent ``z`` is side information), and
  thresholded at ½ after decoding.

torch / compressai are imported lazily.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

__all__ = ["SYMBOL_LIMIT", "EdgeMapCodec", "GaussianConditionalCodec", "TextCodec"]

#: Decoded latent symbols are clamped to [-SYMBOL_LIMIT, SYMBOL_LIMIT].
SYMBOL_LIMIT = 4096


class TextCodec:
    """UTF-8 text, optionally zlib-compressed (``compress=True``)."""

    def __init__(self, compress: bool = False, level: int = 9) -> None:
        self.compress = compress
        self.level = level
        self.name = "utf8+zlib" if compress else "utf8"

    def encode(self, features: str) -> bytes:
        """Bytes of the prompt."""
        data = str(features).encode("utf-8")
        return zlib.compress(data, self.level) if self.compress else data

    def decode(self, data: bytes, **side: Any) -> str:
        """Prompt from (possibly corrupted) bytes; undecodable zlib gives ``""``."""
        if self.compress:
            try:
                data = zlib.decompress(data)
            except zlib.error:
                return ""
        return data.decode("utf-8", errors="replace")


class GaussianConditionalCodec:
    """rANS coding of latent symbols with a ScaleHyperprior's Gaussian conditional.

    Parameters
    ----------
    model : compressai.models.ScaleHyperprior
        With CDF tables built (``update()`` called).
    """

    name = "compressai-rans-gaussian"

    def __init__(self, model: Any) -> None:
        gc = model.gaussian_conditional
        self._cdf = gc.quantized_cdf.tolist()
        self._cdf_len = gc.cdf_length.reshape(-1).int().tolist()
        self._offset = gc.offset.reshape(-1).int().tolist()

    def encode(self, features: tuple[np.ndarray, np.ndarray]) -> bytes:
        """Code ``(symbols, indexes)`` (1-D int arrays of equal length)."""
        from compressai.ans import RansEncoder

        symbols, indexes = (np.asarray(a, dtype=np.int64).ravel() for a in features)
        if symbols.shape != indexes.shape:
            raise ValueError("symbols and indexes must have the same length")
        return RansEncoder().encode_with_indexes(symbols.tolist(), indexes.tolist(), self._cdf,
                                                 self._cdf_len, self._offset)

    def decode(self, data: bytes, **side: Any) -> np.ndarray:
        """Symbols for ``side['indexes']`` from (possibly corrupted) bytes; always succeeds."""
        from compressai.ans import RansDecoder

        indexes = np.asarray(side["indexes"], dtype=np.int64).ravel()
        # Each decoded symbol reads at most a few 32-bit words; pad so that garbage never
        # makes the (unchecked) C++ decoder read past the buffer.
        padded = bytes(data) + bytes(16 * indexes.size + 4096)
        out = np.asarray(RansDecoder().decode_with_indexes(
            padded, indexes.tolist(), self._cdf, self._cdf_len, self._offset), dtype=np.int64)
        return np.clip(out, -SYMBOL_LIMIT, SYMBOL_LIMIT)


class EdgeMapCodec:
    """A binary edge map coded as a grey image by a ``ScaleHyperprior`` (compressai).

    The payload is the rANS string of ``y``; the hyper-latent string and the shapes are
    side information (returned by :meth:`encode_with_side`).
    """

    name = "compressai-hyperprior-edges"

    def __init__(self, model: Any) -> None:
        self.model = model
        self._gc = GaussianConditionalCodec(model)

    def encode_with_side(self, edges: np.ndarray) -> tuple[bytes, dict[str, Any]]:
        """``(payload, side)`` for a boolean ``(H, W)`` edge map."""
        import torch

        from semopt.profiling.hyperprior import _pad, to_tensor

        edges = np.asarray(edges, dtype=bool)
        img = np.repeat((edges * 255).astype(np.uint8)[..., None], 3, axis=2)
        x = _pad(to_tensor(img))
        m = self.model
        with torch.no_grad():
            y = m.g_a(x)
            z = m.h_a(torch.abs(y))
            z_strings = m.entropy_bottleneck.compress(z)
            z_hat = m.entropy_bottleneck.decompress(z_strings, z.size()[-2:])
            indexes = m.gaussian_conditional.build_indexes(m.h_s(z_hat))
            symbols = m.gaussian_conditional.quantize(y, "symbols")
        payload = self._gc.encode((symbols.numpy().ravel(), indexes.numpy().ravel()))
        side = {"indexes": indexes.numpy().ravel(), "y_shape": tuple(y.shape),
                "image_shape": edges.shape, "z_bits": 8 * sum(len(s) for s in z_strings)}
        return payload, side

    def encode(self, features: np.ndarray) -> bytes:
        """Payload only (see :meth:`encode_with_side`)."""
        return self.encode_with_side(features)[0]

    def decode(self, data: bytes, **side: Any) -> np.ndarray:
        """Boolean edge map from (possibly corrupted) bytes and the side information."""
        import torch

        symbols = self._gc.decode(data, indexes=side["indexes"])
        y_hat = torch.from_numpy(symbols.astype(np.float32)).reshape(side["y_shape"])
        with torch.no_grad():
            x_hat = self.model.g_s(y_hat).clamp(0, 1)
        h, w = side["image_shape"]
        return x_hat[0, :, :h, :w].mean(dim=0).numpy() >= 0.5
