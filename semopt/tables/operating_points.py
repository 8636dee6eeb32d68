"""Operating-point tables: per operating point, quality metrics vs SNR per channel, and cost.

An *operating point* is one configuration a transmitter can choose — a model, a
compression rate (for Guo et al. a channel count ``C`` with ``r = 0.0013·C``), a branch
split — together with what it costs on the air (``symbols``, ``bits``, ``latency_s``,
``rate``, ...) and the quality it delivers (PSNR, SSIM, CLIP, FID, LPIPS, ...) as a
function of the SNR, per channel type. File layout (``data`` of a ``semopt-table``)::

    {
      "metrics": {"psnr": {"direction": "higher", "unit": "dB", "description": "..."}, ...},
      "channels": ["awgn", "mimo", "rayleigh"],
      "costs": {"symbols": "complex channel symbols per image", ...},
      "diffusion": {"schedule": "linear", "num_steps": 1000},          # optional
      "points": [
        {"name": "...", "model": "...", "dataset": "...",
         "compression_rate": 0.0052, "channels_c": 4, "branch_split": null,
         "cost": {"symbols": 512, "bits": null},                        # null = unknown
         "snr_db": [0, 3, 6, 9, 12],                                    # strictly increasing
         "quality": {"awgn": {"psnr": [...], ...}, ...},               # null = not measured
         "source": "Table III", "notes": "..."}
      ]
    }

Build your own with :class:`OperatingPoint` and :meth:`OperatingPointTable.from_points`
(or add points to a shipped table with :meth:`OperatingPointTable.with_points`) and
save with :func:`semopt.tables.save`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
from solvers.select import interp_grid

__all__ = [
    "KNOWN_METRICS",
    "MetricSpec",
    "OperatingPoint",
    "OperatingPointTable",
    "guo_compression_rate",
]

_KEY = re.compile(r"^[a-z][a-z0-9_\-]*$")

#: Bounds checked on load and construction.
MAX_POINTS = 10_000
MAX_SNR_POINTS = 10_000
MAX_METRICS = 64
MAX_CHANNELS = 64
#: The SNR grid of a point (dB); the same range as ``semopt.units.SNR_DB_RANGE``.
SNR_DB_BOUNDS = (-200.0, 200.0)
#: ``diffusion.num_steps``: 1 to 100,000 forward steps (DDPM uses 1000).
MAX_DIFFUSION_STEPS = 100_000
DIFFUSION_SCHEDULES = ("linear", "scaled-linear", "cosine")
MAX_CHANNELS_C = 1_000_000
_INF = math.inf


def guo_compression_rate(channels_c: ArrayLike) -> np.ndarray:
    """Guo et al.'s compression rate ``r = 0.0013 · C`` for ``C`` transmitted channels."""
    return 0.0013 * np.asarray(channels_c, dtype=float)


@dataclass(frozen=True)
class MetricSpec:
    """A quality metric: ``direction`` is ``"higher"`` (floor targets) or ``"lower"`` (ceilings).

    ``value_range`` ``(lo, hi)`` bounds every value of the metric in a table (``±inf`` =
    unbounded); a value outside it is refused on load. In a file it is ``"range": [lo,
    hi]`` with ``null`` for an infinite end; a known metric without ``range`` takes the
    range of :data:`KNOWN_METRICS` (e.g. PSNR ≥ 0 dB, SSIM in [−1, 1]), any other metric
    is unbounded.
    """

    direction: str
    unit: str = ""
    description: str = ""
    value_range: tuple[float, float] = (-_INF, _INF)

    def __post_init__(self) -> None:
        if self.direction not in ("higher", "lower"):
            raise ValueError(f"direction: must be 'higher' or 'lower', got {self.direction!r}")
        lo, hi = (float(v) for v in self.value_range)
        if math.isnan(lo) or math.isnan(hi) or lo > hi:
            raise ValueError(f"range: needs lo ≤ hi, got {self.value_range}")
        object.__setattr__(self, "value_range", (lo, hi))

    def range_json(self) -> list[float | None] | None:
        """``[lo, hi]`` with ``None`` for infinite ends; ``None`` when unbounded."""
        lo, hi = self.value_range
        if math.isinf(lo) and math.isinf(hi):
            return None
        return [None if math.isinf(lo) else lo, None if math.isinf(hi) else hi]

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


KNOWN_METRICS: dict[str, MetricSpec] = {
    "psnr": MetricSpec("higher", "dB", "peak signal-to-noise ratio", (0.0, _INF)),
    "ssim": MetricSpec("higher", "", "structural similarity index", (-1.0, 1.0)),
    "ms-ssim": MetricSpec("higher", "", "multi-scale structural similarity", (0.0, 1.0)),
    "clip": MetricSpec("higher", "", "CLIP score (cosine similarity of CLIP embeddings)",
                       (-1.0, 1.0)),
    "lpips": MetricSpec("lower", "", "learned perceptual image patch similarity", (0.0, _INF)),
    "fid": MetricSpec("lower", "", "Fréchet inception distance", (0.0, _INF)),
    "brisque": MetricSpec("lower", "", "blind/referenceless image spatial quality evaluator"),
    "dists": MetricSpec("lower", "", "deep image structure and texture similarity", (0.0, 1.0)),
}


def _float_array(values: Any, where: str) -> np.ndarray:
    if not isinstance(values, (list, tuple, np.ndarray)):
        raise TableFormatError(f"{where}: must be a list of numbers")
    if len(values) > MAX_SNR_POINTS:
        raise TableFormatError(f"{where}: {len(values)} values, at most {MAX_SNR_POINTS}")
    if not isinstance(values, np.ndarray) and any(
            isinstance(v, bool) or not (v is None or isinstance(v, (int, float, np.number)))
            for v in values):
        raise TableFormatError(f"{where}: must be a flat list of numbers (null = not measured)")
    out = np.array([math.nan if v is None else v for v in values], dtype=float)
    if out.ndim != 1:
        raise TableFormatError(f"{where}: must be a flat list of numbers")
    return out


def _jsonable_list(values: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(float(v)) else float(v) for v in values]


@dataclass(frozen=True, eq=False)
class OperatingPoint:
    """One selectable configuration: its cost and its quality vs SNR per channel.

    Parameters
    ----------
    name : str
        Unique within a table.
    snr_db : array_like, shape ``(G,)``
        Strictly increasing SNR grid (dB) of the measurements.
    quality : mapping ``channel -> metric -> array (G,)``
        Metric values per channel type; NaN (``None`` in JSON) where not measured.
    cost : mapping ``cost name -> float``
        E.g. ``symbols``, ``bits``, ``latency_s``, ``rate``; NaN/None = unknown.
    model, dataset : str
        What produced the numbers (points of different datasets are never compared).
    compression_rate : float, optional
        Source compression rate (Guo et al.: ``r = 0.0013·C``).
    channels_c : int, optional
        Number of transmitted feature channels ``C``.
    branch_split : mapping, optional
        E.g. ``{"foreground": 0.6, "background": 0.3, "text": 0.1}`` (GenED-SC).
    source, notes : str
        Where the numbers come from (e.g. ``"Table III"``) and remarks.
    """

    name: str
    snr_db: np.ndarray
    quality: Mapping[str, Mapping[str, np.ndarray]]
    cost: Mapping[str, float] = field(default_factory=dict)
    model: str = ""
    dataset: str = ""
    compression_rate: float | None = None
    channels_c: int | None = None
    branch_split: Mapping[str, float] | None = None
    source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TableFormatError("point: 'name' must be a non-empty string")
        check_str(self.name, "point name", max_chars=200, single_line=True)
        where = f"point {self.name!r}"
        for key in ("model", "dataset", "source", "notes"):
            check_str(getattr(self, key), f"{where}.{key}")
        grid = _float_array(self.snr_db, f"{where}.snr_db")
        if grid.size < 1 or not np.all(np.isfinite(grid)) or np.any(np.diff(grid) <= 0):
            raise TableFormatError(f"{where}.snr_db: must be finite and strictly increasing")
        if grid[0] < SNR_DB_BOUNDS[0] or grid[-1] > SNR_DB_BOUNDS[1]:
            raise TableFormatError(f"{where}.snr_db: must lie in [{SNR_DB_BOUNDS[0]:g}, "
                                   f"{SNR_DB_BOUNDS[1]:g}] dB")
        grid.setflags(write=False)
        object.__setattr__(self, "snr_db", grid)
        if not isinstance(self.quality, Mapping) or not self.quality:
            raise TableFormatError(f"{where}.quality: must map channel -> metric -> values")
        if len(self.quality) > MAX_CHANNELS:
            raise TableFormatError(f"{where}.quality: at most {MAX_CHANNELS} channels")
        quality: dict[str, dict[str, np.ndarray]] = {}
        for channel, metrics in self.quality.items():
            if not isinstance(metrics, Mapping) or len(metrics) > MAX_METRICS:
                raise TableFormatError(f"{where}.quality.{channel}: must map metric -> values "
                                       f"(at most {MAX_METRICS} metrics)")
            quality[str(channel)] = {}
            for metric, values in metrics.items():
                arr = _float_array(values, f"{where}.quality.{channel}.{metric}")
                if arr.shape != grid.shape:
                    raise TableFormatError(f"{where}.quality.{channel}.{metric}: has {arr.size} "
                                           f"values for {grid.size} SNR points")
                if np.any(np.isinf(arr)):
                    raise TableFormatError(f"{where}.quality.{channel}.{metric}: infinite value")
                arr.setflags(write=False)
                quality[str(channel)][str(metric)] = arr
        object.__setattr__(self, "quality", quality)
        cost: dict[str, float] = {}
        check_mapping(self.cost, f"{where}.cost")
        for key, value in dict(self.cost).items():
            if not _KEY.match(str(key)) or len(str(key)) > 64:
                raise TableFormatError(f"{where}.cost: invalid cost name {str(key)[:80]!r}")
            v = math.nan if value is None or (isinstance(value, float) and math.isnan(value)) \
                else check_float(value, f"{where}.cost.{key}")
            if math.isfinite(v) and v < 0:
                raise TableFormatError(f"{where}.cost.{key}: must be non-negative, got {v}")
            cost[str(key)] = v
        object.__setattr__(self, "cost", cost)
        if self.compression_rate is not None:
            object.__setattr__(self, "compression_rate", check_float(
                self.compression_rate, f"{where}.compression_rate", lo=0.0))
        if self.channels_c is not None:
            check_int(self.channels_c, f"{where}.channels_c", lo=1, hi=MAX_CHANNELS_C)
        if self.branch_split is not None:
            split = check_mapping(self.branch_split, f"{where}.branch_split")
            if len(split) > MAX_CHANNELS:
                raise TableFormatError(f"{where}.branch_split: at most {MAX_CHANNELS} branches")
            for key, value in split.items():
                check_str(key, f"{where}.branch_split key", max_chars=64, single_line=True)
                check_float(value, f"{where}.branch_split.{key}", lo=0.0, hi=1.0)
        if self.compression_rate is None and self.channels_c is not None:
            object.__setattr__(self, "compression_rate",
                               float(guo_compression_rate(self.channels_c)))

    def to_json(self) -> dict[str, Any]:
        """JSON form (NaN → ``null``)."""
        return {
            "name": self.name, "model": self.model, "dataset": self.dataset,
            "compression_rate": self.compression_rate, "channels_c": self.channels_c,
            "branch_split": None if self.branch_split is None else dict(self.branch_split),
            "cost": {k: (None if not math.isfinite(v) else v) for k, v in self.cost.items()},
            "snr_db": _jsonable_list(self.snr_db),
            "quality": {ch: {m: _jsonable_list(v) for m, v in ms.items()}
                        for ch, ms in self.quality.items()},
            "source": self.source, "notes": self.notes,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], index: int = 0) -> OperatingPoint:
        if not isinstance(doc, Mapping):
            raise TableFormatError(f"points[{index}]: must be an object")
        for key in ("name", "snr_db", "quality"):
            if key not in doc:
                raise TableFormatError(f"points[{index}]: missing field {key!r}")
        channels_c = doc.get("channels_c")
        return cls(name=doc["name"], snr_db=doc["snr_db"], quality=doc["quality"],
                   cost=doc.get("cost") or {}, model=doc.get("model", ""),
                   dataset=doc.get("dataset", ""),
                   compression_rate=doc.get("compression_rate"),
                   channels_c=None if channels_c is None else check_int(
                       channels_c, f"points[{index}].channels_c", lo=1, hi=MAX_CHANNELS_C),
                   branch_split=doc.get("branch_split"), source=doc.get("source", ""),
                   notes=doc.get("notes", ""))


def _check_diffusion(diffusion: Any) -> dict[str, Any]:
    """``{"schedule": one of DIFFUSION_SCHEDULES, "num_steps": 1..MAX_DIFFUSION_STEPS}``."""
    info = dict(check_mapping(diffusion, "diffusion"))
    schedule = check_str(info.get("schedule", "linear"), "diffusion.schedule", max_chars=64)
    if schedule.replace("_", "-").lower() not in DIFFUSION_SCHEDULES:
        raise TableFormatError(f"diffusion.schedule: unknown {schedule!r}; valid: "
                               f"{', '.join(DIFFUSION_SCHEDULES)}")
    check_int(info.get("num_steps", 1000), "diffusion.num_steps", lo=1, hi=MAX_DIFFUSION_STEPS)
    return info


def _metric_spec(key: str, spec: Any) -> MetricSpec:
    where = f"data.metrics.{key}"
    check_str(key, "data.metrics key", max_chars=64, allow_empty=False, single_line=True)
    if not isinstance(spec, Mapping) or "direction" not in spec:
        raise TableFormatError(f"{where}: needs a 'direction'")
    unit = check_str(spec.get("unit", ""), f"{where}.unit", max_chars=64)
    description = check_str(spec.get("description", ""), f"{where}.description")
    if spec.get("range") is not None:
        bounds = check_list(spec["range"], f"{where}.range", min_len=2, max_len=2)
        value_range = (check_float(bounds[0], f"{where}.range[0]", allow_none=True),
                       check_float(bounds[1], f"{where}.range[1]", allow_none=True))
        value_range = (-_INF if math.isnan(value_range[0]) else value_range[0],
                       _INF if math.isnan(value_range[1]) else value_range[1])
    elif key in KNOWN_METRICS:
        value_range = KNOWN_METRICS[key].value_range
    else:
        value_range = (-_INF, _INF)
    try:
        return MetricSpec(str(spec["direction"]), unit, description, value_range)
    except ValueError as exc:
        raise TableFormatError(f"{where}: {exc}") from exc


@register_table_kind("operating-points")
class OperatingPointTable(Table):
    """A set of :class:`OperatingPoint` s with declared metrics, channels and costs.

    Parameters
    ----------
    points : sequence of OperatingPoint
    metrics : mapping ``name -> MetricSpec``, optional
        Defaults to :data:`KNOWN_METRICS` for the metrics the points use.
    channels : sequence of str, optional
        Defaults to the channel names the points use.
    costs : mapping ``cost name -> description``, optional
    diffusion : mapping, optional
        The noise schedule of the generator (``{"schedule": "linear", "num_steps": 1000}``),
        used to report the SNR → diffusion-step mapping with a selection.
    """

    def __init__(self, points: Sequence[OperatingPoint], *, name: str, description: str = "",
                 provenance: Mapping[str, Any] | None = None,
                 metrics: Mapping[str, MetricSpec] | None = None,
                 channels: Sequence[str] | None = None,
                 costs: Mapping[str, str] | None = None,
                 diffusion: Mapping[str, Any] | None = None) -> None:
        super().__init__(name=name, description=description, provenance=provenance)
        points = tuple(points)
        if not points:
            raise TableFormatError("points: a table needs at least one operating point")
        if len(points) > MAX_POINTS:
            raise TableFormatError(f"points: {len(points)} points, at most {MAX_POINTS}")
        names = [p.name for p in points]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise TableFormatError(f"points: duplicate names {dup}")
        used_metrics = sorted({m for p in points for ms in p.quality.values() for m in ms})
        used_channels = sorted({c for p in points for c in p.quality})
        if metrics is None:
            unknown = [m for m in used_metrics if m not in KNOWN_METRICS]
            if unknown:
                raise TableFormatError(f"metrics: declare the direction of {unknown} "
                                       "(higher or lower is better)")
            metrics = {m: KNOWN_METRICS[m] for m in used_metrics}
        self.metrics: dict[str, MetricSpec] = dict(metrics)
        missing = [m for m in used_metrics if m not in self.metrics]
        if missing:
            raise TableFormatError(f"metrics: metrics {missing} are used but not declared")
        for p in points:
            for channel, series in p.quality.items():
                for metric, values in series.items():
                    lo, hi = self.metrics[metric].value_range
                    measured = values[np.isfinite(values)]
                    if measured.size and (measured.min() < lo or measured.max() > hi):
                        raise TableFormatError(
                            f"point {p.name!r}.quality.{channel}.{metric}: values must lie in "
                            f"the metric's range [{lo:g}, {hi:g}], got [{measured.min():.6g}, "
                            f"{measured.max():.6g}] (a table may declare another \"range\" "
                            "in data.metrics)")
        if channels is not None:
            for c in check_list(channels, "channels", max_len=MAX_CHANNELS):
                check_str(c, "channels[]", max_chars=64, allow_empty=False, single_line=True)
        self.channels: tuple[str, ...] = tuple(channels) if channels is not None \
            else tuple(used_channels)
        extra = [c for c in used_channels if c not in self.channels]
        if extra:
            raise TableFormatError(f"channels: channels {extra} are used but not declared")
        used_costs = sorted({k for p in points for k in p.cost})
        self.costs: dict[str, str] = {k: "" for k in used_costs}
        for key, text in dict(check_mapping(costs or {}, "costs")).items():
            check_str(text, f"costs.{key}")
        self.costs.update(dict(costs or {}))
        self.diffusion: dict[str, Any] | None = None if diffusion is None \
            else _check_diffusion(diffusion)
        self.points: tuple[OperatingPoint, ...] = points

    # --- construction ---------------------------------------------------------------
    @classmethod
    def from_points(cls, points: Iterable[OperatingPoint], *, name: str, description: str = "",
                    provenance: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> OperatingPointTable:
        """Build a table from your own points (``provenance.source`` defaults to ``measured``)."""
        prov = {"source": "measured"}
        prov.update(dict(provenance or {}))
        return cls(list(points), name=name, description=description, provenance=prov, **kwargs)

    def with_points(self, *points: OperatingPoint, name: str | None = None,
                    provenance: Mapping[str, Any] | None = None) -> OperatingPointTable:
        """A new table with ``points`` added (e.g. your measurements beside published ones).

        The new table's provenance records the parent table and defaults to ``measured``
        (mixing in your own numbers makes it no longer purely published).
        """
        prov: dict[str, Any] = {"source": "measured", "derived_from": {
            "name": self.name, "source": self.provenance.get("source"),
            "content": self.provenance.get("citation", "")}}
        prov.update(dict(provenance or {}))
        metrics = dict(self.metrics)
        for p in points:
            for ms in p.quality.values():
                for m in ms:
                    if m not in metrics:
                        if m not in KNOWN_METRICS:
                            raise ValueError(f"points: metric {m!r} has no known direction; "
                                             "build the table with from_points(metrics=...)")
                        metrics[m] = KNOWN_METRICS[m]
        channels = list(self.channels) + sorted(
            {c for p in points for c in p.quality} - set(self.channels))
        return type(self)(self.points + tuple(points), name=name or f"{self.name}+measured",
                          description=self.description, provenance=prov, metrics=metrics,
                          channels=channels, costs=self.costs, diffusion=self.diffusion)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *,
                  name: str, description: str,
                  provenance: Mapping[str, Any]) -> OperatingPointTable:
        if not isinstance(data.get("points"), list):
            raise TableFormatError("data.points: must be a list of operating points")
        check_list(data["points"], "data.points", min_len=1, max_len=MAX_POINTS)
        metrics_doc = data.get("metrics")
        if not isinstance(metrics_doc, Mapping):
            raise TableFormatError("data.metrics: must map metric -> {direction, unit, ...}")
        if len(metrics_doc) > MAX_METRICS:
            raise TableFormatError(f"data.metrics: at most {MAX_METRICS} metrics")
        metrics = {str(key): _metric_spec(key, spec) for key, spec in metrics_doc.items()}
        points = [OperatingPoint.from_json(p, i) for i, p in enumerate(data["points"])]
        return cls(points, name=name, description=description, provenance=provenance,
                   metrics=metrics, channels=data.get("channels"), costs=data.get("costs"),
                   diffusion=data.get("diffusion"))

    def to_data(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        data: dict[str, Any] = {
            "metrics": {k: {"direction": v.direction, "unit": v.unit,
                            "description": v.description,
                            **({"range": v.range_json()} if v.range_json() is not None else {})}
                        for k, v in self.metrics.items()},
            "channels": list(self.channels),
            "costs": dict(self.costs),
            "points": [p.to_json() for p in self.points],
        }
        if self.diffusion is not None:
            data["diffusion"] = dict(self.diffusion)
        return data, {}

    # --- queries --------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [p.name for p in self.points]

    @property
    def datasets(self) -> list[str]:
        return sorted({p.dataset for p in self.points})

    def point(self, name: str) -> OperatingPoint:
        """The point called ``name``; ``ValueError`` listing valid names."""
        for p in self.points:
            if p.name == name:
                return p
        raise ValueError(f"point: unknown {name!r}; valid points: {', '.join(self.names)}")

    def candidates(self, *, channel: str, dataset: str | None = None,
                   points: Sequence[str] | None = None) -> list[int]:
        """Indices of the points that can be compared for ``channel`` (and ``dataset``).

        Points of different datasets are not comparable: when the table holds several and
        ``dataset`` is None, ``ValueError`` lists them.
        """
        if channel not in self.channels:
            raise ValueError(f"channel: {channel!r} is not in table {self.name!r}; valid "
                             f"channels: {', '.join(self.channels)}")
        idx = list(range(len(self.points)))
        if points is not None:
            wanted = set(points)
            unknown = sorted(wanted - set(self.names))
            if unknown:
                raise ValueError(f"points: unknown {unknown}; valid points: "
                                 f"{', '.join(self.names)}")
            idx = [i for i in idx if self.points[i].name in wanted]
        if dataset is None:
            found = sorted({self.points[i].dataset for i in idx})
            if len(found) > 1:
                raise ValueError(f"dataset: table {self.name!r} holds several datasets "
                                 f"({', '.join(found)}); choose one with dataset=...")
        else:
            if dataset not in self.datasets:
                raise ValueError(f"dataset: {dataset!r} is not in table {self.name!r}; valid "
                                 f"datasets: {', '.join(self.datasets)}")
            idx = [i for i in idx if self.points[i].dataset == dataset]
        idx = [i for i in idx if channel in self.points[i].quality]
        if not idx:
            raise ValueError(f"channel: no point of table {self.name!r} was measured on "
                             f"{channel!r} for dataset {dataset!r}")
        return idx

    def predict(self, snr_db: ArrayLike, metric: str, *, channel: str,
                indices: Sequence[int] | None = None,
                extrapolate: bool | str = False) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Interpolated ``metric`` at ``snr_db`` for the points ``indices``.

        Returns
        -------
        values : ndarray, shape ``snr_db.shape + (P,)``
            Linear interpolation in dB between the bracketing table SNRs (NaN where the
            point lacks the metric or a bracketing value is missing).
        bracket : dict
            ``lower_snr_db``, ``upper_snr_db`` (shape ``snr_db.shape + (P,)``) — the table
            SNRs used — and ``extrapolated`` (bool, same shape).
        """
        values, bracket = self.predict_many(snr_db, [metric], channel=channel, indices=indices,
                                            extrapolate=extrapolate)
        return values[metric], bracket

    def predict_many(self, snr_db: ArrayLike, metrics: Sequence[str], *, channel: str,
                     indices: Sequence[int] | None = None, extrapolate: bool | str = False
                     ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """:meth:`predict` for several metrics at once (one interpolation per SNR grid)."""
        for metric in metrics:
            if metric not in self.metrics:
                raise ValueError(f"target: metric {metric!r} is not in table {self.name!r}; "
                                 f"valid metrics: {', '.join(self.metrics)}")
        snr = np.asarray(snr_db, dtype=float)
        indices = list(range(len(self.points))) if indices is None else list(indices)
        shape = (*snr.shape, len(indices))
        out = {m: np.full(shape, np.nan) for m in metrics}
        lo = np.full(shape, np.nan)
        hi = np.full(shape, np.nan)
        extra = np.zeros(shape, dtype=bool)
        groups: dict[bytes, list[int]] = {}
        for j, i in enumerate(indices):
            groups.setdefault(self.points[i].snr_db.tobytes(), []).append(j)
        for members in groups.values():
            grid = self.points[indices[members[0]]].snr_db
            stack = np.full((len(members), len(metrics), grid.size), np.nan)
            for a, j in enumerate(members):
                series = self.points[indices[j]].quality.get(channel, {})
                for b, metric in enumerate(metrics):
                    if metric in series:
                        stack[a, b] = series[metric]
            try:
                res = interp_grid(grid, stack, snr, extrapolate=extrapolate, argument="snr")
            except ValueError as exc:
                raise ValueError(f"{exc} (operating point {self.points[indices[members[0]]].name!r} "
                                 f"of table {self.name!r})") from None
            for b, metric in enumerate(metrics):
                out[metric][..., members] = res.values[..., b]
            lo[..., members] = grid[res.lower][..., None]
            hi[..., members] = grid[res.upper][..., None]
            extra[..., members] = res.extrapolated[..., None]
        return out, {"lower_snr_db": lo, "upper_snr_db": hi, "extrapolated": extra}

    def cost_vector(self, cost: str, indices: Sequence[int] | None = None) -> np.ndarray:
        """Cost ``cost`` of the points ``indices`` (NaN where unknown)."""
        if cost not in self.costs:
            raise ValueError(f"cost: {cost!r} is not a cost of table {self.name!r}; valid "
                             f"costs: {', '.join(self.costs) or '(none)'}")
        indices = list(range(len(self.points))) if indices is None else list(indices)
        return np.array([self.points[i].cost.get(cost, math.nan) for i in indices])

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update({
            "metrics": {k: v.direction for k, v in self.metrics.items()},
            "channels": list(self.channels), "costs": dict(self.costs),
            "datasets": self.datasets,
            "points": [{"name": p.name, "dataset": p.dataset, "model": p.model,
                        "snr_db": [float(p.snr_db[0]), float(p.snr_db[-1])],
                        "cost": p.to_json()["cost"]} for p in self.points],
        })
        return out

    def plot(self, path: str | Any) -> Any:
        """Plot every metric vs SNR (one panel per metric; colour = point, style = channel)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        metrics = list(self.metrics)
        ncol = min(3, len(metrics))
        nrow = -(-len(metrics) // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
        styles = ["-", "--", ":", "-."]
        markers = ["o", "s", "^", "D"]
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for k, metric in enumerate(metrics):
            ax = axes.flat[k]
            for i, p in enumerate(self.points):
                for c, channel in enumerate(self.channels):
                    series = p.quality.get(channel, {}).get(metric)
                    if series is None:
                        continue
                    # channel -> line style and marker (hollow and larger after the
                    # first, drawn around it): channels with equal values stay visible
                    ax.plot(p.snr_db, series, styles[c % 4], marker=markers[c % 4],
                            ms=3.5 + 2.0 * (c % 4), mfc="none" if c % 4 else None,
                            lw=1.6 - 0.3 * (c % 4), color=colors[i % len(colors)],
                            label=f"{p.name} / {channel}" if k == 0 else None)
            spec = self.metrics[metric]
            arrow = "↑" if spec.higher_is_better else "↓"
            ax.set_title(f"{metric} {arrow}")
            ax.set_xlabel("SNR (dB)")
            ax.set_ylabel(f"{metric.upper()} ({spec.unit})" if spec.unit
                          else f"{metric.upper()} (unitless)")
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(metrics):]:
            ax.axis("off")
        fig.legend(loc="lower center", ncol=min(3, len(self.points) * len(self.channels)),
                   fontsize=7, bbox_to_anchor=(0.5, -0.02))
        fig.suptitle(self.name)
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        return path
