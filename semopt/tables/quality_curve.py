"""Quality curves: metrics Φ_j(BER) of one conditioning stream (Qiao et al., Fig. 2).

A quality curve holds, on a grid of BERs of one stream, the values of one or more
quality metrics of the regenerated signal (higher is better: normalized CLIP,
normalized MS-SSIM, ...). Lemma 1 needs each Φ_j non-increasing in BER; the curve is
interpolated linearly in ``log10(BER)`` (which keeps it monotone), held constant below
the smallest grid BER (error-free there) and not extrapolated above the largest.

The *generalized inverse* turns metric thresholds ε_j into a BER target::

    Φ_j^{-1}(ε) = sup { BER ∈ grid range : Φ_j(BER) ≥ ε }
    BER_1       = min_j Φ_j^{-1}(ε_j)                      (Lemma 1)

and is 0 (infeasible) when ε exceeds the best value of the curve.

Data layout (``data`` of the table file)::

    {"stream": "edge map", "ber": [...], "metrics": {"clip": [...], "ms-ssim": [...]},
     "stderr": {"clip": [...]}   # optional
    }
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from semopt.tables.base import (
    Table,
    TableFormatError,
    check_float,
    check_list,
    check_mapping,
    check_str,
    register_table_kind,
)

__all__ = ["QualityCurve", "qiao2024_table2_curve", "quality_curve"]

MONOTONE_ATOL = 1e-12
#: Bounds checked on load and construction: grid size and number of metrics.
MAX_GRID_POINTS = 4096
MAX_METRICS = 64


def _numbers(values: Any, where: str) -> list[float]:
    """A JSON list of finite numbers (no nulls) of at most ``MAX_GRID_POINTS`` entries."""
    return [check_float(v, f"{where}[{k}]")
            for k, v in enumerate(check_list(values, where, min_len=1, max_len=MAX_GRID_POINTS))]


@register_table_kind("quality-curve")
class QualityCurve(Table):
    """Metrics Φ_j(BER) of one stream, with the generalized inverse of Lemma 1.

    Parameters
    ----------
    ber : array_like, shape (N,)
        Strictly increasing BER grid in (0, 0.5].
    metrics : mapping of str to array_like, shape (N,)
        Metric name (lowercase-hyphenated, e.g. ``"clip"``, ``"ms-ssim"``) to its values
        on the grid, non-increasing in BER (higher is better).
    stream : str
        Which stream the BER belongs to (e.g. ``"edge map"``).
    stderr : mapping, optional
        Standard errors of the metric values.
    """

    def __init__(self, ber: ArrayLike, metrics: Mapping[str, ArrayLike], *, name: str,
                 stream: str = "conditioning stream", description: str = "",
                 provenance: Mapping[str, Any] | None = None,
                 stderr: Mapping[str, ArrayLike] | None = None) -> None:
        super().__init__(name=name, description=description, provenance=provenance)
        self.ber = np.asarray(ber, dtype=float)
        self.stream = check_str(stream, "stream", max_chars=200, single_line=True)
        if self.ber.ndim != 1 or self.ber.size < 1 or self.ber.size > MAX_GRID_POINTS:
            raise TableFormatError(f"ber: must be a non-empty 1-D list of at most "
                                   f"{MAX_GRID_POINTS} values")
        if not np.all(np.isfinite(self.ber)) or np.any(self.ber <= 0) or np.any(self.ber > 0.5):
            raise TableFormatError("ber: every grid BER must lie in (0, 0.5]")
        if np.any(np.diff(self.ber) <= 0):
            raise TableFormatError("ber: the grid must be strictly increasing")
        if not metrics:
            raise TableFormatError("metrics: at least one metric is required")
        if len(metrics) > MAX_METRICS:
            raise TableFormatError(f"metrics: {len(metrics)} metrics, at most {MAX_METRICS}")
        self.metrics: dict[str, np.ndarray] = {}
        for key, values in metrics.items():
            check_str(key, "metrics key", max_chars=64, allow_empty=False, single_line=True)
            arr = np.asarray(values, dtype=float)
            if arr.shape != self.ber.shape:
                raise TableFormatError(f"metrics.{key}: expected {self.ber.size} values, "
                                       f"got shape {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise TableFormatError(f"metrics.{key}: values must be finite")
            if np.any(np.diff(arr) > MONOTONE_ATOL):
                raise TableFormatError(
                    f"metrics.{key}: must be non-increasing in BER (Lemma 1 needs monotone "
                    "metrics); use QualityCurve.monotone_envelope() on raw measurements")
            self.metrics[str(key)] = arr
        self.stderr = {str(k): np.asarray(v, dtype=float) for k, v in (stderr or {}).items()}
        for key, arr in self.stderr.items():
            if key not in self.metrics or arr.shape != self.ber.shape:
                raise TableFormatError(f"stderr.{key}: must match a metric and the BER grid")
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise TableFormatError(f"stderr.{key}: must be finite and ≥ 0")
        self._log_ber = np.log10(self.ber)

    # --- construction helpers ---------------------------------------------------------
    @staticmethod
    def monotone_envelope(values: ArrayLike) -> np.ndarray:
        """Conservative non-increasing envelope ``min_{b' ≤ b} Φ(b')`` of raw values."""
        return np.minimum.accumulate(np.asarray(values, dtype=float))

    @classmethod
    def from_data(cls, data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *,
                  name: str, description: str, provenance: Mapping[str, Any]) -> QualityCurve:
        if "ber" not in data or "metrics" not in data:
            raise TableFormatError("quality-curve data: needs fields 'ber' and 'metrics'")
        if not isinstance(data["metrics"], Mapping):
            raise TableFormatError("metrics: must be an object {name: [values]}")
        ber = _numbers(data["ber"], "ber")
        metrics = {k: _numbers(v, f"metrics.{k}") for k, v in data["metrics"].items()}
        stderr = None
        if data.get("stderr") is not None:
            stderr = {k: _numbers(v, f"stderr.{k}")
                      for k, v in check_mapping(data["stderr"], "stderr").items()}
        return cls(ber, metrics, name=name, description=description,
                   provenance=provenance, stream=data.get("stream", "conditioning stream"),
                   stderr=stderr)

    def to_data(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        data: dict[str, Any] = {"stream": self.stream, "ber": self.ber.tolist(),
                                "metrics": {k: v.tolist() for k, v in self.metrics.items()}}
        if self.stderr:
            data["stderr"] = {k: v.tolist() for k, v in self.stderr.items()}
        return data, {}

    # --- evaluation ---------------------------------------------------------------------
    @property
    def metric_names(self) -> list[str]:
        """Names of the metrics held."""
        return list(self.metrics)

    def _check_metric(self, metric: str) -> np.ndarray:
        if metric not in self.metrics:
            raise ValueError(f"target: unknown metric {metric!r} for table {self.name!r}; "
                             f"valid metrics: {', '.join(self.metrics)}")
        return self.metrics[metric]

    def value(self, metric: str, ber: ArrayLike) -> np.ndarray:
        """Φ_metric(BER), interpolated in log10(BER); BER ≤ smallest grid value → first value.

        Raises ``ValueError`` for BER outside ``[0, max grid BER]``.
        """
        values = self._check_metric(metric)
        ber = np.asarray(ber, dtype=float)
        if np.any(~np.isfinite(ber)) or np.any(ber < 0) or np.any(ber > self.ber[-1] * (1 + 1e-12)):
            raise ValueError(f"ber: must lie in [0, {self.ber[-1]:g}] (the table's range)")
        with np.errstate(divide="ignore"):
            x = np.log10(np.maximum(ber, self.ber[0]))
        return np.interp(x, self._log_ber, values)

    def values(self, ber: ArrayLike) -> dict[str, np.ndarray]:
        """Every metric at ``ber``."""
        return {key: self.value(key, ber) for key in self.metrics}

    def best(self, metric: str) -> float:
        """Best (largest) value of a metric: its value at the smallest BER."""
        return float(self._check_metric(metric)[0])

    def inverse(self, metric: str, threshold: ArrayLike) -> np.ndarray:
        """Generalized inverse ``sup{BER : Φ(BER) ≥ ε}``; 0 where ε exceeds the best value.

        For ε at or below the value at the largest grid BER the largest grid BER is
        returned (the curve is not extrapolated).
        """
        values = self._check_metric(metric)
        eps = np.asarray(threshold, dtype=float)
        if np.any(~np.isfinite(eps)):
            raise ValueError(f"target: threshold for {metric!r} must be finite")
        # last index k with values[k] >= eps (values non-increasing)
        k = np.sum(values[None, :] >= eps.reshape(-1, 1), axis=1) - 1
        n = values.size
        k_next = np.minimum(k + 1, n - 1)
        k_safe = np.maximum(k, 0)
        v0, v1 = values[k_safe], values[k_next]
        x0, x1 = self._log_ber[k_safe], self._log_ber[k_next]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(v0 > v1, (v0 - eps.ravel()) / (v0 - v1), 0.0)
        x = np.where(k >= n - 1, self._log_ber[-1], x0 + frac * (x1 - x0))
        out = np.where(k < 0, 0.0, 10.0 ** x)
        return out.reshape(eps.shape)

    def ber_for(self, thresholds: Mapping[str, float]) -> float:
        """Lemma 1's BER target ``min_j Φ_j^{-1}(ε_j)`` (0 if a threshold is unreachable)."""
        if not thresholds:
            raise ValueError("target: give at least one metric threshold")
        return float(min(float(self.inverse(k, v)) for k, v in thresholds.items()))

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update({"stream": self.stream, "metrics": self.metric_names,
                    "ber_range": [float(self.ber[0]), float(self.ber[-1])],
                    "best": {k: self.best(k) for k in self.metrics}})
        return out

    def plot(self, path: str | None = None) -> Any:
        """Plot every metric versus BER (log x axis); save to ``path`` if given."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
        for key, values in self.metrics.items():
            ax.semilogx(self.ber, values, "o-", label=key)
        ax.set_xlabel(f"BER of the {self.stream}")
        ax.set_ylabel("metric (higher is better)")
        ax.set_title(self.name)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        if path is not None:
            fig.savefig(path, dpi=120, bbox_inches="tight")
        return fig


def quality_curve(ber: Sequence[float], metrics: Mapping[str, Sequence[float]], *,
                  name: str = "quality-curve", **kwargs: Any) -> QualityCurve:
    """Convenience constructor of a :class:`QualityCurve`."""
    return QualityCurve(ber, metrics, name=name, **kwargs)


def qiao2024_table2_curve() -> QualityCurve:
    """The (CLIP, MS-SSIM) targets of Table II of Qiao et al. paired with their BERs.

    Table II gives three targets of normalized (CLIP, MS-SSIM) — (0.999, 0.991),
    (0.997, 0.982), (0.978, 0.918) — and, per order M, the SNR γ̄_1 the edge map needs,
    rounded to 1 dB (27/21/14, 26/20/13, 25/19/12 dB for M = 64/16/4). Under eq. (4)
    those SNRs are ``(M − 1)(−ln(5 BER))/1.5``, which rounds to exactly these values
    for BER = 1e-6, 1e-5 and 1e-4, and for no other decade. Fig. 2 itself is not
    digitized: values between the points are interpolated and thresholds above the
    first point are reported infeasible.
    """
    return QualityCurve(
        [1e-6, 1e-5, 1e-4],
        {"clip": [0.999, 0.997, 0.978], "ms-ssim": [0.991, 0.982, 0.918]},
        name="qiao2024-table2-quality", stream="edge map",
        description="Normalized CLIP and MS-SSIM of edge-conditioned Stable Diffusion images vs the "
                    "edge-map BER: the three targets of Table II of Qiao et al. (2024)",
        provenance={
            "source": "published",
            "publication": "L. Qiao et al., Latency-Aware Generative Semantic "
                           "Communications with Pre-Trained Diffusion Models, 2024, Table II",
            "metrics": "normalized CLIP = CLIP/CLIP_0, normalized MS-SSIM (Sec. III-B, III-C)",
            "generator": "Stable Diffusion with edge-map conditioning (Sec. III-A)",
            "inferred": "the BER of each target is not printed; it is reconstructed from the "
                        "γ̄_1 column of Table II with eq. (4) (α = 1.5, β = 5): 1e-6, 1e-5, "
                        "1e-4 reproduce all nine rounded SNRs",
            "produced_by": "semopt.tables.quality_curve.qiao2024_table2_curve",
        })
