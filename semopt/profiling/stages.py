"""The five stage protocols of a profiling stack and the stack protocol itself.

A profiling stack turns one image into a few independently transmitted semantic
streams and measures how the regenerated image degrades when those streams are
corrupted::

    extractor  ->  codec (one byte string per stream)  ->  channel  ->  generator  ->  metric
    (features)     (bits K_i that can be corrupted)        (BER ψ /    (decoder or     (distance,
                                                          BLER Ψ)      generative      lower is
                                                                       model)          better)

Every stage is a small :class:`typing.Protocol`; the concrete stages live in
:mod:`~semopt.profiling.extractors`, :mod:`~semopt.profiling.codecs`,
:mod:`~semopt.profiling.channels`, :mod:`~semopt.profiling.generators` and
:mod:`~semopt.profiling.metrics`. A :class:`Stack` ties them together for the job runner
(:mod:`semopt.profiling.surface_job`), which only ever sees byte strings per stream:

* :meth:`Stack.prepare` runs the extractor and the codecs once per image and returns a
  :class:`Prepared` (the clean payloads plus whatever side information the receiver
  is assumed to get error-free);
* :meth:`Stack.regenerate` takes one received payload per stream -- the clean bytes,
  corrupted bytes, or ``None`` for a stream that is *absent* (not sent, or erased and
  discarded) -- and returns the regenerated image (``None`` when nothing can be
  regenerated, which every metric scores as distance 1);
* :meth:`Stack.score` turns the output into ``{metric name: distance}``.

Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "Channel",
    "Codec",
    "Extractor",
    "Generator",
    "Metric",
    "Prepared",
    "Stack",
    "WeightsNotFoundError",
]


class WeightsNotFoundError(RuntimeError, ValueError):
    """Foundation-model weights are not available locally (nothing is ever downloaded).

    A ``ValueError`` too, so the command line reports it as a one-line error.
    """


@dataclass
class Prepared:
    """One image after extraction and source coding.

    Attributes
    ----------
    name : str
        Image name.
    reference : numpy.ndarray
        The original ``uint8 (H, W, 3)`` image every metric compares against.
    payloads : list of bytes
        The coded streams, in the stack's stream order.
    side : dict
        Receiver-side information assumed to arrive error-free (e.g. the hyper-latent,
        the importance mask, symbol indexes); its size is reported in ``side_bits``.
    side_bits : int
        Bits of side information (counted, not corrupted).
    extras : dict
        JSON-able per-image facts for the provenance (bits per stream, mask fraction...).
    """

    name: str
    reference: np.ndarray
    payloads: list[bytes]
    side: dict[str, Any] = field(default_factory=dict)
    side_bits: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def bits(self) -> list[int]:
        """Payload length K_i in bits per stream."""
        return [8 * len(p) for p in self.payloads]


@runtime_checkable
class Extractor(Protocol):
    """Image -> semantic features (one entry per stream it produces)."""

    name: str

    def extract(self, pixels: np.ndarray, **context: Any) -> Mapping[str, Any]:
        """Features of one ``uint8 (H, W, 3)`` image, keyed by stream name."""
        ...


@runtime_checkable
class Codec(Protocol):
    """Features of one stream <-> bytes. ``decode`` must tolerate corrupted bytes."""

    name: str

    def encode(self, features: Any) -> bytes:
        """Source-code one stream's features."""
        ...

    def decode(self, data: bytes, **side: Any) -> Any:
        """Decode (possibly corrupted) bytes back into features; never raises on garbage."""
        ...


@runtime_checkable
class Channel(Protocol):
    """A seeded, reproducible transmission model for one stream."""

    name: str

    def transmit(self, data: Any, error_rate: float, rng: np.random.Generator) -> Any:
        """Received version of ``data`` (``None`` if the stream is erased/discarded)."""
        ...


@runtime_checkable
class Generator(Protocol):
    """Received features of every stream -> regenerated image (or ``None``)."""

    name: str

    def generate(self, features: Sequence[Any | None], **side: Any) -> np.ndarray | None:
        """Regenerate a ``uint8 (H, W, 3)`` image; ``None`` entries are absent streams."""
        ...


@runtime_checkable
class Metric(Protocol):
    """A perception *distance* (lower is better, 0 = identical, 1 = nothing regenerated)."""

    name: str
    label: str

    def distance(self, reference: np.ndarray, output: np.ndarray | None,
                 **context: Any) -> float:
        """Distance of ``output`` from ``reference``; exactly 1.0 when ``output`` is None."""
        ...


@runtime_checkable
class Stack(Protocol):
    """A complete encoder -> channel -> generator -> metric pipeline for the job runner."""

    name: str
    stream_names: tuple[str, ...]
    metric_names: tuple[str, ...]

    def config(self) -> dict[str, Any]:
        """JSON-able description of everything that changes the results (enters the cache key)."""
        ...

    def prepare(self, name: str, pixels: np.ndarray, **context: Any) -> Prepared:
        """Extract and code one image."""
        ...

    def regenerate(self, prepared: Prepared, received: Sequence[bytes | None],
                   rng: np.random.Generator) -> np.ndarray | None:
        """Decode the received payloads (``None`` = absent) and regenerate the image."""
        ...

    def score(self, prepared: Prepared, output: np.ndarray | None) -> dict[str, float]:
        """Distances of ``output`` from ``prepared.reference`` for every configured metric."""
        ...

    def metric_labels(self) -> dict[str, str]:
        """Metric name -> the exact distance it stores (e.g. ``"1 - MS-SSIM"``)."""
        ...
