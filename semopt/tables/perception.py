"""Perception tables: perception value P as a function of per-stream error rates.

Two schemes (Xu et al.):

* **discard** (coded, discard-with-error): a stream with a block error is dropped, so
  with independent block errors the perception is exactly multilinear in the BLERs::

      P_discard(Ψ) = Σ_{S ⊆ I} Π_{i∈S} (1 − Ψ_i) Π_{i∉S} Ψ_i · P_S ,   P_∅ = 1

  and the table is just the 2^I subset values P_S.
* **forward** (uncoded, forward-with-error): a measured surface P_forward(ψ_1, ..., ψ_I)
  on a rectilinear grid in log10 BER, non-decreasing in each ψ_i (Corollary 1),
  interpolated multilinearly in log10 ψ (which preserves monotonicity), clamped
  below the smallest grid error rate (error-free there) and defined up to ψ = ½.

Perception is a distance (lower is better): 1 − CLIP, 1 − MS-SSIM, ...
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from semopt.tables.base import (
    Table,
    TableFormatError,
    check_float,
    check_int,
    check_list,
    check_mapping,
    check_str,
    register_table_kind,
)
from solvers.isotonic import is_monotone_grid, isotonic_grid

__all__ = ["SCHEMES", "DiscardSubsets", "ForwardSurface", "PerceptionTable", "StreamInfo"]

SCHEMES = ("forward", "discard")
MAX_ERROR_RATE = {"forward": 0.5, "discard": 1.0}
MONOTONE_ATOL = 1e-12
#: Bounds checked on load and construction: at most 16 streams (a discard table holds
#: 2^I values), 1 to 2^40 payload bits per stream, at most 4096 nodes per forward-grid
#: axis and 2^22 grid cells, log10 error rates in [-300, log10 ½], perception values
#: (distances) in [0, 1].
MAX_STREAMS = 16
MAX_STREAM_BITS = 2**40
MAX_GRID_POINTS = 4096
MAX_GRID_CELLS = 2**22
MIN_LOG10_ERROR_RATE = -300.0
VALUE_RANGE = (0.0, 1.0)


def _check_values(arr: np.ndarray, where: str, lo: float = VALUE_RANGE[0],
                  hi: float = VALUE_RANGE[1]) -> None:
    """Every entry finite and in ``[lo, hi]`` (``TableFormatError`` naming ``where``)."""
    if not np.all(np.isfinite(arr)):
        raise TableFormatError(f"{where}: must be finite")
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise TableFormatError(f"{where}: values must lie in [{lo:g}, {hi:g}], got "
                               f"[{arr.min():.6g}, {arr.max():.6g}]")


@dataclass(frozen=True)
class StreamInfo:
    """One semantic stream: its name, payload length K_i (bits) and code rate K_i/N_i."""

    name: str
    bits: int
    code_rate: float = 0.8
    description: str = ""

    def __post_init__(self) -> None:
        check_str(self.name, "streams[].name", max_chars=200, single_line=True)
        if not (isinstance(self.bits, (int, np.integer)) and self.bits > 0):
            raise TableFormatError(f"streams[{self.name}].bits: must be a positive integer")
        check_int(self.bits, f"streams[{self.name}].bits", lo=1, hi=MAX_STREAM_BITS)
        check_float(self.code_rate, f"streams[{self.name}].code_rate")
        if not 0.0 < self.code_rate <= 1.0:
            raise TableFormatError(f"streams[{self.name}].code_rate: must be in (0, 1]")
        check_str(self.description, f"streams[{self.name}].description")


class DiscardSubsets:
    """Subset perception values P_S for the discard-with-error scheme.

    ``values[mask]`` is P_S for the set S of correctly received streams encoded as a
    bit mask (bit i set = stream i received); ``values[0]`` = P_∅.
    """

    def __init__(self, values: ArrayLike, n_streams: int, stderr: ArrayLike | None = None) -> None:
        check_int(n_streams, "discard: stream count", lo=1, hi=MAX_STREAMS)
        self.values = np.asarray(values, dtype=float)
        self.n_streams = n_streams
        if self.values.shape != (2**n_streams,):
            raise TableFormatError(f"discard.values: expected {2**n_streams} subset values")
        _check_values(self.values, "discard.values")
        self.stderr = None if stderr is None else np.asarray(stderr, dtype=float)
        if self.stderr is not None:
            if self.stderr.shape != self.values.shape:
                raise TableFormatError(f"discard.stderr: expected {2**n_streams} values")
            _check_values(self.stderr, "discard.stderr", 0.0, np.inf)
        for i in range(n_streams):
            bit = 1 << i
            without = np.array([m for m in range(2**n_streams) if not m & bit])
            if np.any(self.values[without | bit] > self.values[without] + MONOTONE_ATOL):
                raise TableFormatError(
                    f"discard.values: receiving stream {i} must never increase the perception "
                    "value (Corollary 1: P_discard non-decreasing in each BLER)")
        # Bits of every mask, shape (2^I, I): 1 where the stream is received.
        self._received = (np.arange(2**n_streams)[:, None] >> np.arange(n_streams)) & 1

    def value(self, bler: np.ndarray) -> np.ndarray:
        """P_discard for BLERs ``bler`` of shape ``[..., I]`` (exact multilinear formula)."""
        probs = np.where(self._received, 1.0 - bler[..., None, :], bler[..., None, :])
        return np.prod(probs, axis=-1) @ self.values

    def gradient(self, bler: np.ndarray) -> np.ndarray:
        """∂P/∂Ψ_i = P(Ψ; Ψ_i = 1) − P(Ψ; Ψ_i = 0), shape ``[..., I]``."""
        out = np.empty_like(bler)
        for i in range(self.n_streams):
            hi, lo = bler.copy(), bler.copy()
            hi[..., i], lo[..., i] = 1.0, 0.0
            out[..., i] = self.value(hi) - self.value(lo)
        return out

    def solve_stream(self, bler: np.ndarray, stream: int, target: np.ndarray) -> np.ndarray:
        """Largest Ψ_stream in [0, 1] with P ≤ target, the others fixed (NaN if none).

        P is affine in Ψ_stream, so this is closed form.
        """
        hi, lo = bler.copy(), bler.copy()
        hi[..., stream], lo[..., stream] = 1.0, 0.0
        p0, p1 = self.value(lo), self.value(hi)
        slope = p1 - p0
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(slope > 0, (target - p0) / slope, 1.0)
        x = np.where(p1 <= target, 1.0, np.clip(x, 0.0, 1.0))
        return np.where(p0 > target, np.nan, x)


class ForwardSurface:
    """Monotone grid surface P_forward(ψ) interpolated multilinearly in log10 ψ.

    Parameters
    ----------
    log10_axes : sequence of 1-D arrays
        Strictly increasing log10 BER grid per stream; the last node must be log10(½).
    values : ndarray, shape (n_1, ..., n_I)
        Perception values on the grid, non-decreasing along every axis.
    stderr : ndarray, optional
        Standard errors of the raw measured points (same shape).
    single_stream : sequence of 1-D arrays, optional
        P^(i)_forward(ψ_i) on axis i: the perception when only stream i is sent (needed
        by the semantic-proportional method).
    raw_values : ndarray, optional
        The measured means before the monotone fit.
    """

    def __init__(self, log10_axes: Sequence[ArrayLike], values: ArrayLike,
                 stderr: ArrayLike | None = None,
                 single_stream: Sequence[ArrayLike] | None = None,
                 raw_values: ArrayLike | None = None) -> None:
        if not isinstance(log10_axes, np.ndarray):
            check_list(log10_axes, "forward.log10_error_rate", min_len=1, max_len=MAX_STREAMS)
        self.axes = [np.asarray(a, dtype=float) for a in log10_axes]
        for i, axis in enumerate(self.axes):
            if axis.ndim != 1 or axis.size > MAX_GRID_POINTS:
                raise TableFormatError(f"forward.log10_error_rate[{i}]: must be a list of at most "
                                       f"{MAX_GRID_POINTS} numbers")
            if not np.all(np.isfinite(axis)) or np.any(axis < MIN_LOG10_ERROR_RATE):
                raise TableFormatError(f"forward.log10_error_rate[{i}]: every node must be finite "
                                       f"and ≥ {MIN_LOG10_ERROR_RATE:g}")
        if not 1 <= len(self.axes) <= MAX_STREAMS or \
                np.prod([float(a.size) for a in self.axes]) > MAX_GRID_CELLS:
            raise TableFormatError(f"forward: 1 to {MAX_STREAMS} axes and at most {MAX_GRID_CELLS} "
                                   "grid cells")
        self.values = np.asarray(values, dtype=float)
        self.stderr = None if stderr is None else np.asarray(stderr, dtype=float)
        self.raw_values = None if raw_values is None else np.asarray(raw_values, dtype=float)
        self.single_stream = None if single_stream is None else [
            np.asarray(s, dtype=float) for s in single_stream]
        shape = tuple(len(a) for a in self.axes)
        if self.values.shape != shape:
            raise TableFormatError(f"forward.values: shape {self.values.shape} does not match "
                                   f"the axes {shape}")
        for i, axis in enumerate(self.axes):
            if len(axis) < 2 or np.any(np.diff(axis) <= 0):
                raise TableFormatError(f"forward.log10_error_rate[{i}]: needs ≥ 2 strictly "
                                       "increasing values")
            if not np.isclose(axis[-1], np.log10(0.5), atol=1e-9):
                raise TableFormatError(f"forward.log10_error_rate[{i}]: the last node must be "
                                       f"log10(0.5) = {np.log10(0.5):.6f}")
        if not np.all(np.isfinite(self.values)):
            raise TableFormatError("forward.values: must be finite")
        _check_values(self.values, "forward.values")
        for key in ("stderr", "raw_values"):
            extra = getattr(self, key)
            if extra is not None:
                if extra.shape != shape:
                    raise TableFormatError(f"forward.{key}: shape {extra.shape} does not match "
                                           f"the axes {shape}")
                _check_values(extra, f"forward.{key}", *((0.0, np.inf) if key == "stderr"
                                                        else VALUE_RANGE))
        if self.single_stream is not None and len(self.single_stream) != len(self.axes):
            raise TableFormatError("forward.single_stream: one curve per stream")
        if not is_monotone_grid(self.values, atol=MONOTONE_ATOL):
            raise TableFormatError("forward.values: not non-decreasing in every error rate "
                                   "(Corollary 1); fit with ForwardSurface.fit(...)")
        if self.single_stream is not None:
            for i, curve in enumerate(self.single_stream):
                if curve.shape != self.axes[i].shape or np.any(np.diff(curve) < -MONOTONE_ATOL):
                    raise TableFormatError(f"forward.single_stream[{i}]: must be non-decreasing "
                                           "on axis {i}")
                _check_values(curve, f"forward.single_stream[{i}]")
        self.n_streams = len(self.axes)
        self._corners = np.array(list(itertools.product((0, 1), repeat=self.n_streams)))

    @classmethod
    def fit(cls, log10_axes: Sequence[ArrayLike], raw_values: ArrayLike,
            stderr: ArrayLike | None = None, **kwargs: Any) -> ForwardSurface:
        """Fit measured means with the isotonic least-squares projection (weights 1/stderr²)."""
        raw = np.asarray(raw_values, dtype=float)
        weights = None
        if stderr is not None:
            se = np.asarray(stderr, dtype=float)
            floor = max(float(np.median(se[se > 0])) if np.any(se > 0) else 1.0, 1e-12) * 1e-3
            weights = 1.0 / np.maximum(se, floor) ** 2
        fitted = isotonic_grid(raw, weights)
        return cls(log10_axes, fitted, stderr=stderr, raw_values=raw, **kwargs)

    # -- locating -------------------------------------------------------------------------
    def _cells(self, u: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        index, frac, active = [], [], []
        for k, axis in enumerate(self.axes):
            uk = u[..., k]
            clipped = np.clip(uk, axis[0], axis[-1])
            i = np.clip(np.searchsorted(axis, clipped, side="right") - 1, 0, len(axis) - 2)
            h = axis[i + 1] - axis[i]
            index.append(i)
            frac.append((clipped - axis[i]) / h)
            active.append((uk > axis[0]) / h)  # derivative factor; 0 in the clamped region
        return index, frac, active

    def value_log10(self, u: np.ndarray) -> np.ndarray:
        """P at log10 error rates ``u`` of shape ``[..., I]``."""
        index, frac, _ = self._cells(u)
        out = np.zeros(u.shape[:-1])
        for corner in self._corners:
            weight = np.ones(u.shape[:-1])
            for k, c in enumerate(corner):
                weight = weight * (frac[k] if c else 1.0 - frac[k])
            out += weight * self.values[tuple(index[k] + c for k, c in enumerate(corner))]
        return out

    def gradient_log10(self, u: np.ndarray) -> np.ndarray:
        """∂P/∂(log10 ψ_i), shape ``[..., I]`` (one-sided at grid nodes, 0 when clamped)."""
        index, frac, active = self._cells(u)
        out = np.zeros(u.shape)
        for corner in self._corners:
            v = self.values[tuple(index[k] + c for k, c in enumerate(corner))]
            for j in range(self.n_streams):
                weight = active[j] * (1.0 if corner[j] else -1.0)
                for k, c in enumerate(corner):
                    if k != j:
                        weight = weight * (frac[k] if c else 1.0 - frac[k])
                out[..., j] += weight * v
        return out

    def solve_stream_log10(self, u: np.ndarray, stream: int, target: np.ndarray) -> np.ndarray:
        """Largest log10 ψ_stream with P ≤ target, the others fixed (NaN if none).

        Exact: along one axis the interpolant is piecewise linear between grid nodes.
        """
        axis = self.axes[stream]
        others = [k for k in range(self.n_streams) if k != stream]
        index, frac, _ = self._cells(u)
        line = np.zeros(u.shape[:-1] + (len(axis),))
        for corner in itertools.product((0, 1), repeat=len(others)):
            weight = np.ones(u.shape[:-1])
            idx: list[Any] = [None] * self.n_streams
            for k, c in zip(others, corner):
                weight = weight * (frac[k] if c else 1.0 - frac[k])
                idx[k] = (index[k] + c)[..., None]
            idx[stream] = np.arange(len(axis))
            line += weight[..., None] * self.values[tuple(idx)]
        target = np.broadcast_to(target, line.shape[:-1])
        count = np.sum(line <= target[..., None], axis=-1)
        k = np.clip(count, 1, len(axis) - 1)
        v0 = np.take_along_axis(line, (k - 1)[..., None], axis=-1)[..., 0]
        v1 = np.take_along_axis(line, k[..., None], axis=-1)[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.clip((target - v0) / (v1 - v0), 0.0, 1.0)
        sol = axis[k - 1] + t * (axis[k] - axis[k - 1])
        sol = np.where(count >= len(axis), axis[-1], sol)
        return np.where(count == 0, np.nan, sol)

    def single_stream_value(self, stream: int, u: np.ndarray) -> np.ndarray:
        """P^(i)_forward at log10 BER ``u`` (only stream i sent)."""
        if self.single_stream is None:
            raise ValueError("table: this forward surface has no single-stream curves "
                             "(needed for the semantic-proportional method)")
        axis = self.axes[stream]
        return np.interp(np.clip(u, axis[0], axis[-1]), axis, self.single_stream[stream])


_STREAM_KEYS = {"name", "bits", "code_rate", "description"}
_FORWARD_KEYS = ("log10_error_rate", "values", "stderr", "single_stream", "raw_values")


def _check_perception_data(data: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Structure and bounds of a ``perception`` ``data`` object, before anything is built."""
    check_str(data.get("metric"), "metric", max_chars=200, single_line=True)
    streams = check_list(data.get("streams"), "streams", min_len=1, max_len=MAX_STREAMS)
    for i, stream in enumerate(streams):
        check_mapping(stream, f"streams[{i}]")
        unknown = sorted(set(stream) - _STREAM_KEYS)
        if unknown or "name" not in stream or "bits" not in stream:
            raise TableFormatError(f"streams[{i}]: needs 'name' and 'bits' (optional "
                                   f"'code_rate', 'description'), unknown fields {unknown}")
    n = len(streams)
    if data.get("discard") is None and data.get("forward") is None:
        raise TableFormatError("perception table: needs a discard and/or a forward part")
    if data.get("discard") is not None:
        d = check_mapping(data["discard"], "discard")
        subsets = check_list(d.get("subsets"), "discard.subsets", min_len=2**n, max_len=2**n)
        values = check_list(d.get("values"), "discard.values", min_len=2**n, max_len=2**n)
        seen = set()
        for k, subset in enumerate(check_list(s, f"discard.subsets[{j}]", max_len=n)
                                   for j, s in enumerate(subsets)):
            idx = [check_int(i, f"discard.subsets[{k}]", lo=0, hi=n - 1) for i in subset]
            if len(set(idx)) != len(idx) or frozenset(idx) in seen:
                raise TableFormatError(f"discard.subsets[{k}]: repeated stream or subset {idx}")
            seen.add(frozenset(idx))
        for k, v in enumerate(values):
            check_float(v, f"discard.values[{k}]", lo=VALUE_RANGE[0], hi=VALUE_RANGE[1])
        if d.get("stderr") is not None:
            for k, v in enumerate(check_list(d["stderr"], "discard.stderr", min_len=2**n,
                                             max_len=2**n)):
                check_float(v, f"discard.stderr[{k}]", lo=0.0)
    if data.get("forward") is not None:
        f = check_mapping(data["forward"], "forward")
        for key in ("log10_error_rate", "values"):
            if f.get(key) is None:
                raise TableFormatError(f"forward: missing field {key!r}")
        for key in _FORWARD_KEYS:
            value = f.get(key)
            if isinstance(value, str):
                if value not in arrays:
                    raise TableFormatError(f"forward.{key}: array {value!r} missing from NPZ")
                value = arrays[value]
            elif value is not None and not isinstance(value, list):
                raise TableFormatError(f"forward.{key}: must be a list, an NPZ array name or null")
            if value is not None:
                try:
                    kind = np.asarray(value).dtype.kind
                except ValueError:
                    kind = "O"
                if kind not in "iuf":
                    raise TableFormatError(f"forward.{key}: must be a rectangular array of numbers")
        axes = f["log10_error_rate"]
        if isinstance(axes, list):
            check_list(axes, "forward.log10_error_rate", min_len=n, max_len=n)
            for i, axis in enumerate(axes):
                for v in check_list(axis, f"forward.log10_error_rate[{i}]", min_len=2,
                                    max_len=MAX_GRID_POINTS):
                    check_float(v, f"forward.log10_error_rate[{i}]", lo=MIN_LOG10_ERROR_RATE)
        elif np.shape(arrays[axes])[:1] != (n,):
            raise TableFormatError(f"forward.log10_error_rate: needs one axis per stream ({n})")


@register_table_kind("perception")
class PerceptionTable(Table):
    """Perception as a function of per-stream error rates, for both Xu et al. schemes.

    Attributes
    ----------
    streams : list of StreamInfo
        Stream names, payload bits K_i and default code rates K_i/N_i.
    metric : str
        The perception measure (a distance, lower is better), e.g. ``"1 - CLIP"``.
    discard : DiscardSubsets or None
    forward : ForwardSurface or None
    """

    def __init__(self, *, name: str, streams: Sequence[StreamInfo], metric: str,
                 discard: DiscardSubsets | None = None, forward: ForwardSurface | None = None,
                 description: str = "", provenance: Mapping[str, Any] | None = None) -> None:
        super().__init__(name=name, description=description, provenance=provenance)
        self.streams = list(streams)
        if not 1 <= len(self.streams) <= MAX_STREAMS:
            raise TableFormatError(f"streams: {len(self.streams)} streams, 1 to {MAX_STREAMS} "
                                   "allowed")
        self.metric = check_str(metric, "metric", max_chars=200, single_line=True)
        self.discard = discard
        self.forward = forward
        if discard is None and forward is None:
            raise TableFormatError("perception table: needs a discard and/or a forward part")
        for part in (discard, forward):
            if part is not None and part.n_streams != len(self.streams):
                raise TableFormatError("perception table: stream count mismatch between parts")

    @property
    def n_streams(self) -> int:
        return len(self.streams)

    @property
    def schemes(self) -> tuple[str, ...]:
        """The schemes this table supports."""
        return tuple(s for s in SCHEMES if self._part(s, check=False) is not None)

    @property
    def sources(self) -> dict[str, str]:
        """Provenance source per scheme present: ``"measured"``, ``"published"`` or ``"illustrative"``.

        ``provenance[scheme]["source"]`` where the provenance describes that part
        (the Xu et al. tables: published discard values, an illustrative forward
        surface), else the table's ``provenance["source"]``.
        """
        default = str(self.provenance.get("source"))
        out = {}
        for scheme in self.schemes:
            part = self.provenance.get(scheme)
            out[scheme] = str(part.get("source", default)) if isinstance(part, Mapping) else default
        return out

    @property
    def source_label(self) -> str:
        """One-line provenance for listings, e.g. ``"forward: illustrative, discard: published"``.

        A single word when every part has the same source.
        """
        sources = self.sources
        if len(set(sources.values())) == 1:
            return next(iter(sources.values()))
        return ", ".join(f"{scheme}: {source}" for scheme, source in sources.items())

    def _part(self, scheme: str, check: bool = True) -> Any:
        if scheme not in SCHEMES:
            raise ValueError(f"scheme: must be one of {SCHEMES}, got {scheme!r}")
        part = self.discard if scheme == "discard" else self.forward
        if part is None and check:
            raise ValueError(f"scheme: table {self.name!r} has no {scheme!r} data; "
                             f"available: {self.schemes}")
        return part

    def _check_rates(self, error_rates: ArrayLike, scheme: str) -> np.ndarray:
        rates = np.asarray(error_rates, dtype=float)
        if rates.ndim == 0 or rates.shape[-1] != self.n_streams:
            raise ValueError(f"error_rates: last dimension must be the {self.n_streams} streams, "
                             f"got shape {rates.shape}")
        top = MAX_ERROR_RATE[scheme]
        if np.any(~np.isfinite(rates)) or np.any(rates < 0) or np.any(rates > top):
            raise ValueError(f"error_rates: must lie in [0, {top}] for the {scheme} scheme")
        return rates

    # -- evaluation -----------------------------------------------------------------------
    def perception(self, error_rates: ArrayLike, scheme: str = "discard") -> np.ndarray:
        """P(Φ) for per-stream error rates of shape ``[..., I]`` (BER or BLER)."""
        part = self._part(scheme)
        rates = self._check_rates(error_rates, scheme)
        if scheme == "discard":
            return part.value(rates)
        with np.errstate(divide="ignore"):
            return part.value_log10(np.log10(rates))

    def gradient(self, error_rates: ArrayLike, scheme: str = "discard") -> np.ndarray:
        """∂P/∂Φ_i at ``error_rates`` (shape ``[..., I]``)."""
        part = self._part(scheme)
        rates = self._check_rates(error_rates, scheme)
        if scheme == "discard":
            return part.gradient(rates)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = part.gradient_log10(np.log10(rates)) / (rates * np.log(10.0))
        return np.where(rates > 0, g, 0.0)

    def best(self, scheme: str = "discard") -> float:
        """P with error-free streams (P_best)."""
        return float(self.perception(np.zeros(self.n_streams), scheme))

    def worst(self, scheme: str = "discard") -> float:
        """P at the maximum error rates (½ uncoded, 1 coded)."""
        return float(self.perception(np.full(self.n_streams, MAX_ERROR_RATE[scheme]), scheme))

    def semantic_values(self) -> np.ndarray:
        """L_i = 1 − P^(i): one minus the perception when only stream i is received."""
        part = self._part("discard")
        return 1.0 - part.values[1 << np.arange(self.n_streams)]

    def received_semantic_value(self, stream: int, error_rate: ArrayLike,
                                scheme: str = "discard") -> np.ndarray:
        """L̂_i(Φ_i) = 1 − P^(i)(Φ_i) (Xu et al. eqs. 17–18)."""
        rate = np.asarray(error_rate, dtype=float)
        if scheme == "discard":
            p_alone = self._part("discard").values[1 << stream]
            return (1.0 - rate) * (1.0 - p_alone)
        with np.errstate(divide="ignore"):
            return 1.0 - self._part("forward").single_stream_value(stream, np.log10(rate))

    # -- serialization --------------------------------------------------------------------
    @classmethod
    def from_data(cls, data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *,
                  name: str, description: str, provenance: Mapping[str, Any]) -> PerceptionTable:
        _check_perception_data(data, arrays)
        streams = [StreamInfo(**s) for s in data["streams"]]
        n = len(streams)
        discard = None
        if data.get("discard") is not None:
            d = data["discard"]
            values = np.full(2**n, np.nan)
            for subset, value in zip(d["subsets"], d["values"]):
                if any(not 0 <= i < n for i in subset):
                    raise TableFormatError(f"discard.subsets: index out of range in {subset}")
                values[sum(1 << i for i in subset)] = value
            if np.any(np.isnan(values)):
                raise TableFormatError(f"discard: needs all {2**n} subsets (including [])")
            stderr = d.get("stderr")
            discard = DiscardSubsets(values, n, stderr)
        forward = None
        if data.get("forward") is not None:
            f = data["forward"]

            def arr(key: str) -> Any:
                value = f.get(key)
                if isinstance(value, str):  # stored in the NPZ file
                    if value not in arrays:
                        raise TableFormatError(f"forward.{key}: array {value!r} missing from NPZ")
                    return arrays[value]
                return value

            forward = ForwardSurface(arr("log10_error_rate"), arr("values"), stderr=arr("stderr"),
                                     single_stream=arr("single_stream"),
                                     raw_values=arr("raw_values"))
        return cls(name=name, streams=streams, metric=str(data["metric"]), discard=discard,
                   forward=forward, description=description, provenance=provenance)

    def to_data(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        data: dict[str, Any] = {"metric": self.metric,
                                "streams": [asdict(s) for s in self.streams]}
        if self.discard is not None:
            masks = range(2**self.n_streams)
            data["discard"] = {
                "subsets": [[i for i in range(self.n_streams) if m >> i & 1] for m in masks],
                "values": self.discard.values.tolist(),
                "stderr": None if self.discard.stderr is None else self.discard.stderr.tolist(),
            }
        if self.forward is not None:
            f = self.forward

            def lst(a: Any) -> Any:
                if a is None:
                    return None
                return [np.asarray(x).tolist() for x in a] if isinstance(a, list) else a.tolist()

            data["forward"] = {
                "log10_error_rate": lst(f.axes), "values": lst(f.values),
                "stderr": lst(f.stderr), "single_stream": lst(f.single_stream),
                "raw_values": lst(f.raw_values),
            }
        return data, {}

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update({
            "metric": self.metric,
            "streams": [asdict(s) for s in self.streams],
            "schemes": list(self.schemes),
            "sources": self.sources,
        })
        for scheme in self.schemes:
            out[f"{scheme}_best"] = self.best(scheme)
            out[f"{scheme}_worst"] = self.worst(scheme)
        if self.discard is not None:
            out["semantic_values"] = self.semantic_values().tolist()
        if self.forward is not None:
            out["forward_grid"] = [len(a) for a in self.forward.axes]
        return out

    def plot(self, path: str) -> None:
        """Plot the forward surface (iso-perception contours) and the discard curves."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        panels = [s for s in self.schemes]
        fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.5), squeeze=False)
        for ax, scheme in zip(axes[0], panels):
            if self.n_streams != 2:
                ax.text(0.5, 0.5, f"{self.n_streams} streams: 2-D view only for two streams",
                        ha="center")
                continue
            if scheme == "forward":  # the BER surface: log10 BER, as it is gridded
                g1 = np.logspace(self.forward.axes[0][0], np.log10(0.5), 200)
                g2 = np.logspace(self.forward.axes[1][0], np.log10(0.5), 200)
            else:  # multilinear in the BLERs: linear axes show it as it is
                g1 = g2 = np.linspace(0.0, 1.0, 201)
            grid = np.stack(np.meshgrid(g1, g2, indexing="ij"), axis=-1)
            p = self.perception(grid, scheme)
            mesh = ax.pcolormesh(g1, g2, p.T, shading="auto", cmap="viridis")
            levels = np.linspace(p.min(), p.max(), 9)[1:-1]
            cs = ax.contour(g1, g2, p.T, levels=levels, colors="w", linewidths=0.8)
            ax.clabel(cs, fmt="%.3f", fontsize=7)
            if scheme == "forward":
                ax.set_xscale("log")
                ax.set_yscale("log")
            label = "BER" if scheme == "forward" else "BLER"
            ax.set_xlabel(f"{label} of {self.streams[0].name}")
            ax.set_ylabel(f"{label} of {self.streams[1].name}")
            source = self.sources.get(scheme, "")
            note = f", {source}" if source == "illustrative" else ""
            ax.set_title(f"{self.name}: {scheme} ({self.metric}{note})", fontsize=9)
            fig.colorbar(mesh, ax=ax, label=self.metric)
            if source == "illustrative":  # neither measured nor published: say so on the panel
                from semopt.plotting import ILLUSTRATIVE_GID

                ax.text(0.5, 0.5, "ILLUSTRATIVE\nnot measured", transform=ax.transAxes,
                        ha="center", va="center", rotation=25, fontsize=22, fontweight="bold",
                        color="tab:red", alpha=0.45, zorder=1000, gid=ILLUSTRATIVE_GID)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
