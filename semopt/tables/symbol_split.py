"""Symbol-split tables (kind ``symbol-split``): quality vs (foreground rate, background rate, prompt).

A GenED-SC-like transmitter sends an image as three digital parts -- a foreground branch
and a background branch of entropy-coded latents, each at its own rate, and a coded text
prompt -- and the receiver regenerates the background with the prompt when the prompt
arrives. A symbol-split table holds what an allocator needs to split a budget of channel
symbols between the three parts:

* two rate axes: ``F`` foreground levels and ``B`` background levels, each a quantisation
  step of the shared latent (``step``; ``None`` = the branch is not sent), ordered by
  increasing rate; their information bits (mean over the images) must increase strictly
  along each axis, and the ``off`` level, if present, is first and costs nothing;
* a prompt axis of two states, ``lost`` (or not sent) and ``delivered``;
* per metric, the quality ``Q[i, j, s]`` (mean over the images, in natural units: PSNR in
  dB, MS-SSIM, ...; each metric says whether higher or lower is better), its standard
  error over the images and its Monte Carlo (repetition) part;
* the cost: information bits per level, side bits (hyper-latent, mask, level header --
  sent whenever at least one branch is sent) and prompt bits, and the channel symbols
  of every part for the table's modulation and coding schemes, ``⌈bits / η⌉`` with
  ``η = R log2 M`` (:func:`semopt.link.gened.digital_symbols`), averaged over the images;
* optionally (NPZ) the per-image arrays the means were computed from.

``data`` layout::

    {"branches": ["foreground", "background"], "prompt_states": ["lost", "delivered"],
     "levels": {"foreground": [{"name": "off", "step": null}, {"name": "step-32", "step": 32.0},
                               ...], "background": [...]},
     "metrics": {"psnr": {"direction": "higher", "unit": "dB", "description": "..."}, ...},
     "quality": {"psnr": {"mean": [[[lost, delivered], ...]], "stderr": ..., "mc_stderr": ...}},
     "bits": {"foreground": [F], "background": [B], "side": s, "prompt": p},
     "mcs": {"visual": {"name": "16qam-1/2", ...}, "prompt": {"name": "16qam-1/2", ...}},
     "symbols": {"foreground": [F], "background": [B], "side": s, "prompt": p,
                 "visual": [[F x B]]},
     "images": ["camera", ...], "repetitions": 1, "pixels_per_image": 65536}

    arrays (optional, NPZ): foreground_bits (K, F), background_bits (K, B), side_bits (K,),
    prompt_bits (K,), quality_<metric> (K, F, B, 2)

Monotonicity. The rate axes must be monotone (checked on load, per image too). Measured
quality need not be: a learned decoder can lose a little quality at a higher rate.
:meth:`SymbolSplitTable.quality` returns, by default, the weighted isotonic least-squares
projection of the means (weights ``1/stderr²``) that is non-decreasing (for
higher-is-better metrics; non-increasing for lower-is-better ones) along both rate axes
for each prompt state; ``fitted=False`` gives the raw means, and
:meth:`SymbolSplitTable.monotonicity_violations` reports by how much the raw means break
monotonicity. The prompt axis is not constrained: an editor may hurt a metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from semopt.link.gened import MCS, delivery_probability, digital_symbols, get_mcs
from semopt.tables.base import Table, TableFormatError, register_table_kind
from semopt.tables.operating_points import KNOWN_METRICS, MetricSpec

__all__ = ["PROMPT_STATES", "SplitLevel", "SplitPoints", "SplitSymbols", "SymbolSplitTable"]

BRANCHES = ("foreground", "background")
#: The prompt axis: index 0 = lost (or not sent), 1 = delivered.
PROMPT_STATES = ("lost", "delivered")
_ROUND = 10  # decimals stored in JSON


@dataclass(frozen=True)
class SplitLevel:
    """One rate level of a branch: a quantisation step of the latent, or ``None`` (not sent)."""

    name: str
    step: float | None

    @property
    def sent(self) -> bool:
        """Whether the branch is transmitted at this level."""
        return self.step is not None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "step": None if self.step is None else float(self.step)}


@dataclass(frozen=True)
class SplitSymbols:
    """Mean channel symbols per part (over the images) for given MCSs.

    Attributes
    ----------
    foreground : ndarray, shape (F,)
    background : ndarray, shape (B,)
    side : float
        Side information (charged when at least one branch is sent).
    prompt : float
        The coded prompt (charged when it is sent).
    visual : ndarray, shape (F, B)
        ``foreground[i] + background[j] + side · [branch i or j sent]``.
    visual_mcs, prompt_mcs : MCS
    """

    foreground: np.ndarray
    background: np.ndarray
    side: float
    prompt: float
    visual: np.ndarray
    visual_mcs: MCS
    prompt_mcs: MCS


@dataclass(frozen=True)
class SplitPoints:
    """Every candidate (foreground level, background level, prompt sent) of a table at some SNR(s).

    Flat arrays over the ``P = F · B · 2`` candidates (C order: foreground, background,
    prompt sent); ``quality`` and ``delivery_probability`` carry the SNR batch shape in
    front: ``(*snr_shape, P)`` and ``snr_shape``.

    Attributes
    ----------
    foreground_level, background_level : ndarray of int
    prompt_sent : ndarray of bool
    symbols_foreground, symbols_background, symbols_side, symbols_prompt : ndarray of float
        Mean symbols of each part (0 where the part is not sent).
    symbols_total : ndarray of float
    delivery_probability : ndarray
        Prompt delivery probability at each SNR.
    quality : ndarray
        ``E[Q] = p Q(delivered) + (1 − p) Q(lost)`` for candidates that send the prompt,
        ``Q(lost)`` for those that do not.
    metric : str
    higher_is_better : bool
    """

    foreground_level: np.ndarray
    background_level: np.ndarray
    prompt_sent: np.ndarray
    symbols_foreground: np.ndarray
    symbols_background: np.ndarray
    symbols_side: np.ndarray
    symbols_prompt: np.ndarray
    symbols_total: np.ndarray
    delivery_probability: np.ndarray
    quality: np.ndarray
    metric: str
    higher_is_better: bool


def _array(values: Any, where: str, ndim: int) -> np.ndarray:
    try:
        arr = np.array(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TableFormatError(f"{where}: must be numbers ({exc})") from exc
    if arr.ndim != ndim:
        raise TableFormatError(f"{where}: expected a {ndim}-D array, got shape {arr.shape}")
    if np.any(~np.isfinite(arr)):
        raise TableFormatError(f"{where}: values must be finite")
    return arr


def _levels(raw: Any, branch: str) -> list[SplitLevel]:
    where = f"levels.{branch}"
    if isinstance(raw, (list, tuple)) and raw and all(isinstance(v, SplitLevel) for v in raw):
        levels = list(raw)
    else:
        if not isinstance(raw, (list, tuple)) or not raw:
            raise TableFormatError(f"{where}: must be a non-empty list of {{name, step}}")
        levels = []
        for k, item in enumerate(raw):
            if not isinstance(item, Mapping) or "name" not in item or "step" not in item:
                raise TableFormatError(f"{where}[{k}]: needs 'name' and 'step' (null = not sent)")
            step = item["step"]
            if step is not None and (isinstance(step, bool) or not isinstance(step, (int, float))):
                raise TableFormatError(f"{where}[{k}].step: must be a number or null, got {step!r}")
            levels.append(SplitLevel(str(item["name"]), None if step is None else float(step)))
    names = [lv.name for lv in levels]
    if len(set(names)) != len(names):
        raise TableFormatError(f"{where}: duplicate level names {names}")
    for k, lv in enumerate(levels):
        if lv.step is not None and not (math.isfinite(lv.step) and lv.step > 0):
            raise TableFormatError(f"{where}[{k}].step: must be finite and > 0, got {lv.step}")
        if lv.step is None and k != 0:
            raise TableFormatError(f"{where}: the 'not sent' level (step null) must be the first")
    return levels


@register_table_kind("symbol-split")
class SymbolSplitTable(Table):
    """Quality against (foreground rate, background rate, prompt delivered) with costs.

    Parameters
    ----------
    foreground_levels, background_levels : sequence of SplitLevel or of {name, step}
        The rate axes, ``F`` and ``B`` levels, in increasing rate.
    metrics : mapping name -> MetricSpec or {direction, unit, description}
        Metric definitions (known names default from
        :data:`semopt.tables.operating_points.KNOWN_METRICS`).
    quality : mapping name -> {"mean", "stderr"[, "mc_stderr"]}
        Arrays of shape ``(F, B, 2)``: last axis = :data:`PROMPT_STATES`.
    bits : mapping
        ``foreground`` (F,), ``background`` (B,), ``side``, ``prompt``: mean information bits.
    visual_mcs, prompt_mcs : str or MCS
        Modulation and coding of the visual parts (both branches and the side information)
        and of the prompt (:data:`semopt.link.gened.MCS_TABLE`).
    images : sequence of str
        Image names (order of the per-image arrays).
    repetitions : int
        Monte Carlo repetitions per image and point.
    pixels_per_image : int
        ``H · W`` of every image.
    per_image : mapping, optional
        The per-image arrays of the module docstring; the means must equal their averages.
    symbols : mapping, optional
        Stored symbols (checked against the bits when given).
    """

    def __init__(self, *, foreground_levels: Sequence[Any], background_levels: Sequence[Any],
                 metrics: Mapping[str, Any], quality: Mapping[str, Mapping[str, Any]],
                 bits: Mapping[str, Any], visual_mcs: str | MCS = "16qam-1/2",
                 prompt_mcs: str | MCS = "16qam-1/2", images: Sequence[str] = (),
                 repetitions: int = 1, pixels_per_image: int = 0,
                 per_image: Mapping[str, Any] | None = None,
                 symbols: Mapping[str, Any] | None = None, name: str = "symbol-split",
                 description: str = "", provenance: Mapping[str, Any] | None = None) -> None:
        super().__init__(name=name, description=description, provenance=provenance)
        self.levels = {"foreground": _levels(foreground_levels, "foreground"),
                       "background": _levels(background_levels, "background")}
        shape = (len(self.levels["foreground"]), len(self.levels["background"]), 2)
        self.shape = shape
        try:
            self.visual_mcs = get_mcs(visual_mcs if not isinstance(visual_mcs, Mapping)
                                      else str(visual_mcs.get("name")))
            self.prompt_mcs = get_mcs(prompt_mcs if not isinstance(prompt_mcs, Mapping)
                                      else str(prompt_mcs.get("name")))
        except ValueError as exc:
            raise TableFormatError(str(exc)) from exc
        for key, given in (("visual", visual_mcs), ("prompt", prompt_mcs)):
            if isinstance(given, Mapping):
                scheme = getattr(self, f"{key}_mcs")
                for field, value in scheme.to_json().items():
                    if field in given and given[field] != value and not (
                            isinstance(value, float) and math.isclose(float(given[field]), value)):
                        raise TableFormatError(f"mcs.{key}.{field}: {given[field]!r} does not match "
                                               f"{scheme.name!r} ({value!r})")
        # metrics and quality
        if not isinstance(metrics, Mapping) or not metrics:
            raise TableFormatError("metrics: must map metric name -> {direction, unit, description}")
        self.metrics: dict[str, MetricSpec] = {}
        for key, spec in metrics.items():
            if isinstance(spec, MetricSpec):
                self.metrics[str(key)] = spec
                continue
            if not isinstance(spec, Mapping):
                raise TableFormatError(f"metrics.{key}: must be {{direction, unit, description}}")
            default = KNOWN_METRICS.get(str(key))
            direction = spec.get("direction", default.direction if default else None)
            if direction not in ("higher", "lower"):
                raise TableFormatError(f"metrics.{key}.direction: must be 'higher' or 'lower', "
                                       f"got {direction!r}")
            self.metrics[str(key)] = MetricSpec(direction, str(spec.get("unit", "")),
                                                str(spec.get("description", "")))
        if not isinstance(quality, Mapping) or set(quality) != set(self.metrics):
            raise TableFormatError(f"quality: must hold exactly the metrics {sorted(self.metrics)}, "
                                   f"got {sorted(quality) if isinstance(quality, Mapping) else quality!r}")
        self._mean: dict[str, np.ndarray] = {}
        self._stderr: dict[str, np.ndarray] = {}
        self._mc: dict[str, np.ndarray] = {}
        for key in self.metrics:
            block = quality[key]
            if not isinstance(block, Mapping) or "mean" not in block or "stderr" not in block:
                raise TableFormatError(f"quality.{key}: needs 'mean' and 'stderr' arrays")
            for part, store in (("mean", self._mean), ("stderr", self._stderr),
                                ("mc_stderr", self._mc)):
                if part not in block:
                    store[key] = np.zeros(shape)
                    continue
                arr = _array(block[part], f"quality.{key}.{part}", 3)
                if arr.shape != shape:
                    raise TableFormatError(f"quality.{key}.{part}: shape {arr.shape}, expected "
                                           f"(foreground levels, background levels, 2) = {shape}")
                if part != "mean" and np.any(arr < 0):
                    raise TableFormatError(f"quality.{key}.{part}: must be ≥ 0")
                arr.setflags(write=False)
                store[key] = arr
        # bits
        if not isinstance(bits, Mapping):
            raise TableFormatError("bits: must map foreground/background/side/prompt -> bits")
        for key in ("foreground", "background", "side", "prompt"):
            if key not in bits:
                raise TableFormatError(f"bits: missing {key!r}")
        self.bits = {b: _array(bits[b], f"bits.{b}", 1) for b in BRANCHES}
        for b, n in zip(BRANCHES, shape[:2]):
            arr = self.bits[b]
            if arr.shape != (n,):
                raise TableFormatError(f"bits.{b}: {arr.size} values for {n} levels")
            if np.any(arr < 0):
                raise TableFormatError(f"bits.{b}: must be ≥ 0")
            if self.levels[b][0].step is None and arr[0] != 0:
                raise TableFormatError(f"bits.{b}: the 'not sent' level must cost 0 bits, got {arr[0]}")
            if np.any(np.diff(arr) <= 0):
                raise TableFormatError(f"bits.{b}: must increase strictly along the levels "
                                       f"(levels are ordered by rate), got {arr.tolist()}")
            arr.setflags(write=False)
        self.side_bits = float(_array([bits["side"]], "bits.side", 1)[0])
        self.prompt_bits = float(_array([bits["prompt"]], "bits.prompt", 1)[0])
        if self.side_bits < 0 or self.prompt_bits <= 0:
            raise TableFormatError(f"bits: side must be ≥ 0 and prompt > 0, got {self.side_bits}, "
                                   f"{self.prompt_bits}")
        self.images = [str(v) for v in images]
        self.repetitions = int(repetitions)
        if self.repetitions < 1:
            raise TableFormatError(f"repetitions: must be ≥ 1, got {repetitions}")
        self.pixels_per_image = int(pixels_per_image)
        self.per_image = self._check_per_image(per_image) if per_image else None
        if symbols is not None:
            self._check_symbols(symbols)

    # ------------------------------------------------------------------ validation
    def _check_per_image(self, per_image: Mapping[str, Any]) -> dict[str, np.ndarray]:
        arrays = {str(k): np.asarray(v) for k, v in per_image.items()}
        need = ["foreground_bits", "background_bits", "side_bits", "prompt_bits"] + \
            [f"quality_{m}" for m in self.metrics]
        missing = [k for k in need if k not in arrays]
        if missing:
            raise TableFormatError(f"arrays: per-image arrays incomplete, missing {missing}")
        n = arrays["side_bits"].shape[0] if arrays["side_bits"].ndim == 1 else -1
        if n < 1:
            raise TableFormatError(f"arrays.side_bits: expected (images,), got {arrays['side_bits'].shape}")
        if self.images and len(self.images) != n:
            raise TableFormatError(f"arrays: {n} images but {len(self.images)} image names")
        f, b, _ = self.shape
        expect = {"foreground_bits": (n, f), "background_bits": (n, b), "prompt_bits": (n,),
                  **{f"quality_{m}": (n, *self.shape) for m in self.metrics}}
        for key, shape in expect.items():
            if arrays[key].shape != shape:
                raise TableFormatError(f"arrays.{key}: shape {arrays[key].shape}, expected {shape}")
        for key, arr in arrays.items():
            if not np.issubdtype(arr.dtype, np.number) or np.any(~np.isfinite(arr)):
                raise TableFormatError(f"arrays.{key}: must be finite numbers")
        for branch in BRANCHES:
            arr = arrays[f"{branch}_bits"]
            if np.any(arr < 0) or np.any(np.diff(arr, axis=1) < 0):
                raise TableFormatError(f"arrays.{branch}_bits: must be ≥ 0 and non-decreasing along "
                                       "the levels for every image")
        checks = [("bits.foreground", self.bits["foreground"], arrays["foreground_bits"].mean(axis=0)),
                  ("bits.background", self.bits["background"], arrays["background_bits"].mean(axis=0)),
                  ("bits.side", self.side_bits, arrays["side_bits"].mean()),
                  ("bits.prompt", self.prompt_bits, arrays["prompt_bits"].mean())]
        for m in self.metrics:
            per = arrays[f"quality_{m}"].astype(float)
            checks.append((f"quality.{m}.mean", self._mean[m], per.mean(axis=0)))
            se = per.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else self._mc[m]
            checks.append((f"quality.{m}.stderr", self._stderr[m], se))
        for where, stored, ref in checks:
            if not np.allclose(stored, ref, rtol=1e-8, atol=1e-7):
                worst = float(np.max(np.abs(np.asarray(stored) - ref)))
                raise TableFormatError(f"{where}: differs from the per-image arrays "
                                       f"(max abs difference {worst:.3g})")
        for arr in arrays.values():
            arr.setflags(write=False)
        return arrays

    def _check_symbols(self, stored: Mapping[str, Any]) -> None:
        ref = self.symbols()
        for key in ("foreground", "background", "side", "prompt", "visual"):
            if key not in stored:
                raise TableFormatError(f"symbols: missing {key!r}")
            value = np.asarray(stored[key], dtype=float)
            expected = np.asarray(getattr(ref, key), dtype=float)
            if value.shape != expected.shape or not np.allclose(value, expected, rtol=1e-9, atol=1e-6):
                raise TableFormatError(f"symbols.{key}: does not equal ⌈bits / η⌉ for the table's MCS "
                                       f"({ref.visual_mcs.name} visual, {ref.prompt_mcs.name} prompt)")

    # ------------------------------------------------------------------ construction / IO
    @classmethod
    def from_per_image(cls, *, per_image: Mapping[str, Any],
                       mc_stderr: Mapping[str, Any] | None = None, **kwargs: Any) -> SymbolSplitTable:
        """Build a table from its per-image arrays (means and standard errors computed here).

        ``stderr`` is the standard error of the mean over the images (per-image means over
        the repetitions, ``ddof=1``, ``/ sqrt(K)``); with one image it is ``mc_stderr``.
        """
        arrays = {k: np.asarray(v) for k, v in per_image.items()}
        n = int(arrays["side_bits"].shape[0])
        metrics = kwargs["metrics"]
        quality = {}
        for m in metrics:
            per = arrays[f"quality_{m}"].astype(float)
            mc = np.zeros(per.shape[1:]) if mc_stderr is None or m not in mc_stderr \
                else np.asarray(mc_stderr[m], dtype=float)
            se = per.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else mc
            quality[m] = {"mean": per.mean(axis=0), "stderr": se, "mc_stderr": mc}
        bits = {"foreground": arrays["foreground_bits"].mean(axis=0),
                "background": arrays["background_bits"].mean(axis=0),
                "side": float(arrays["side_bits"].mean()), "prompt": float(arrays["prompt_bits"].mean())}
        return cls(quality=quality, bits=bits, per_image=arrays, **kwargs)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *, name: str,
                  description: str, provenance: Mapping[str, Any]) -> SymbolSplitTable:
        for key in ("levels", "metrics", "quality", "bits", "mcs"):
            if key not in data:
                raise TableFormatError(f"data: missing field {key!r}")
        if list(data.get("branches", BRANCHES)) != list(BRANCHES):
            raise TableFormatError(f"branches: must be {list(BRANCHES)}")
        if list(data.get("prompt_states", PROMPT_STATES)) != list(PROMPT_STATES):
            raise TableFormatError(f"prompt_states: must be {list(PROMPT_STATES)}")
        levels, mcs = data["levels"], data["mcs"]
        if not isinstance(levels, Mapping) or set(levels) != set(BRANCHES):
            raise TableFormatError(f"levels: must map {list(BRANCHES)} to level lists")
        if not isinstance(mcs, Mapping) or "visual" not in mcs or "prompt" not in mcs:
            raise TableFormatError("mcs: needs 'visual' and 'prompt' schemes")
        return cls(foreground_levels=levels["foreground"], background_levels=levels["background"],
                   metrics=data["metrics"], quality=data["quality"], bits=data["bits"],
                   visual_mcs=mcs["visual"], prompt_mcs=mcs["prompt"],
                   images=list(data.get("images", [])), repetitions=int(data.get("repetitions", 1)),
                   pixels_per_image=int(data.get("pixels_per_image", 0)),
                   per_image=dict(arrays) or None, symbols=data.get("symbols"), name=name,
                   description=description, provenance=provenance)

    def to_data(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        def r(arr: Any) -> Any:
            return np.round(np.asarray(arr, dtype=float), _ROUND).tolist()

        sym = self.symbols()
        data = {
            "branches": list(BRANCHES), "prompt_states": list(PROMPT_STATES),
            "levels": {b: [lv.to_json() for lv in self.levels[b]] for b in BRANCHES},
            "metrics": {k: {"direction": s.direction, "unit": s.unit, "description": s.description}
                        for k, s in self.metrics.items()},
            "quality": {k: {"mean": r(self._mean[k]), "stderr": r(self._stderr[k]),
                            "mc_stderr": r(self._mc[k])} for k in self.metrics},
            "bits": {"foreground": r(self.bits["foreground"]), "background": r(self.bits["background"]),
                     "side": float(np.round(self.side_bits, _ROUND)),
                     "prompt": float(np.round(self.prompt_bits, _ROUND))},
            "mcs": {"visual": self.visual_mcs.to_json(), "prompt": self.prompt_mcs.to_json()},
            "symbols": {"foreground": r(sym.foreground), "background": r(sym.background),
                        "side": float(np.round(sym.side, _ROUND)),
                        "prompt": float(np.round(sym.prompt, _ROUND)), "visual": r(sym.visual)},
            "images": self.images, "repetitions": self.repetitions,
            "pixels_per_image": self.pixels_per_image,
        }
        return data, dict(self.per_image or {})

    # ------------------------------------------------------------------ queries
    @property
    def metric_names(self) -> list[str]:
        return list(self.metrics)

    def _metric(self, metric: str) -> str:
        if metric not in self.metrics:
            raise ValueError(f"metric: unknown {metric!r}; metrics of {self.name!r}: "
                             f"{', '.join(self.metrics)}")
        return metric

    @staticmethod
    def _state(prompt: str | int) -> int:
        if prompt in PROMPT_STATES:
            return PROMPT_STATES.index(str(prompt))
        if prompt in (0, 1) and not isinstance(prompt, bool):
            return int(prompt)
        raise ValueError(f"prompt: expected one of {PROMPT_STATES} (or 0/1), got {prompt!r}")

    def higher_is_better(self, metric: str) -> bool:
        """Whether larger values of ``metric`` are better."""
        return self.metrics[self._metric(metric)].higher_is_better

    @cached_property
    def _fitted(self) -> dict[str, np.ndarray]:
        from solvers.isotonic import isotonic_grid

        out = {}
        for m, spec in self.metrics.items():
            sign = 1.0 if spec.higher_is_better else -1.0
            fit = np.empty(self.shape)
            for s in range(2):
                w = 1.0 / np.maximum(self._stderr[m][..., s], 1e-6) ** 2
                fit[..., s] = sign * isotonic_grid(sign * self._mean[m][..., s], w)
            fit.setflags(write=False)
            out[m] = fit
        return out

    def quality(self, metric: str, prompt: str | int = "delivered", *, fitted: bool = True) -> np.ndarray:
        """Quality ``(F, B)`` for one prompt state.

        Parameters
        ----------
        metric : str
            A metric of the table.
        prompt : {"delivered", "lost"} or 1/0
            Prompt state (``"lost"`` is also the value when the prompt is not sent).
        fitted : bool
            The monotone (isotonic) fit along both rate axes (default) or the raw means.
        """
        m = self._metric(metric)
        s = self._state(prompt)
        return (self._fitted[m] if fitted else self._mean[m])[..., s]

    def stderr(self, metric: str, prompt: str | int = "delivered") -> np.ndarray:
        """Standard error over the images of the raw means, ``(F, B)``."""
        return self._stderr[self._metric(metric)][..., self._state(prompt)]

    def mc_stderr(self, metric: str, prompt: str | int = "delivered") -> np.ndarray:
        """Monte Carlo (repetition) part of the standard error, ``(F, B)`` (0 if deterministic)."""
        return self._mc[self._metric(metric)][..., self._state(prompt)]

    def monotonicity_violations(self, metric: str) -> dict[str, float]:
        """Largest drop of the raw means against a rate axis, per prompt state (0 = monotone).

        Returns ``{"foreground/lost": d, "background/lost": d, "foreground/delivered": d, ...}``
        in the metric's units, counting a drop in quality (a rise for lower-is-better metrics)
        when the rate of one branch increases with the other branch's level fixed.
        """
        m = self._metric(metric)
        sign = 1.0 if self.metrics[m].higher_is_better else -1.0
        out = {}
        for s, state in enumerate(PROMPT_STATES):
            q = sign * self._mean[m][..., s]
            for axis, branch in enumerate(BRANCHES):
                drop = -np.diff(q, axis=axis)
                out[f"{branch}/{state}"] = float(max(0.0, drop.max(initial=0.0)))
        return out

    def symbols(self, visual_mcs: str | MCS | None = None,
                prompt_mcs: str | MCS | None = None) -> SplitSymbols:
        """Mean channel symbols per part, ``⌈bits / η⌉`` per image averaged over the images.

        Parameters
        ----------
        visual_mcs, prompt_mcs : str or MCS, optional
            Schemes to cost the visual parts and the prompt with (default: the table's).
        """
        vm = self.visual_mcs if visual_mcs is None else get_mcs(visual_mcs)
        pm = self.prompt_mcs if prompt_mcs is None else get_mcs(prompt_mcs)
        if self.per_image is not None:
            fg = digital_symbols(self.per_image["foreground_bits"], vm).mean(axis=0)
            bg = digital_symbols(self.per_image["background_bits"], vm).mean(axis=0)
            side = float(digital_symbols(self.per_image["side_bits"], vm).mean())
            prompt = float(digital_symbols(self.per_image["prompt_bits"], pm).mean())
        else:
            fg = digital_symbols(np.round(self.bits["foreground"]), vm).astype(float)
            bg = digital_symbols(np.round(self.bits["background"]), vm).astype(float)
            side = float(digital_symbols(round(self.side_bits), vm))
            prompt = float(digital_symbols(round(self.prompt_bits), pm))
        sent_f = np.array([lv.sent for lv in self.levels["foreground"]])
        sent_b = np.array([lv.sent for lv in self.levels["background"]])
        any_sent = sent_f[:, None] | sent_b[None, :]
        visual = fg[:, None] + bg[None, :] + side * any_sent
        return SplitSymbols(foreground=fg, background=bg, side=side, prompt=prompt, visual=visual,
                            visual_mcs=vm, prompt_mcs=pm)

    def delivery_probability(self, snr_db: ArrayLike, *,
                             capacity: Literal["gaussian", "constellation"] = "gaussian",
                             log_term: bool = False, codeword_bits: int | None = None) -> np.ndarray:
        """Prompt delivery probability at ``snr_db`` (mean over the images' prompt lengths).

        :func:`semopt.link.gened.delivery_probability` with the table's prompt MCS and each
        image's prompt bits (the mean bits when there are no per-image arrays).
        """
        if self.per_image is not None:
            lengths, counts = np.unique(self.per_image["prompt_bits"].astype(np.int64), return_counts=True)
        else:
            lengths, counts = np.array([round(self.prompt_bits)]), np.array([1])
        probs = [delivery_probability(snr_db, int(k), mcs=self.prompt_mcs, capacity=capacity,
                                      log_term=log_term, codeword_bits=codeword_bits) for k in lengths]
        return np.tensordot(counts / counts.sum(), np.asarray(probs, dtype=float), axes=(0, 0))[()]

    def expected_quality(self, metric: str, snr_db: ArrayLike | None = None, *,
                         probability: ArrayLike | None = None, prompt_sent: bool = True,
                         fitted: bool = True, capacity: Literal["gaussian", "constellation"] = "gaussian",
                         log_term: bool = False) -> np.ndarray:
        """``E[Q] = p Q(delivered) + (1 − p) Q(lost)``, shape ``(*snr_shape, F, B)``.

        Parameters
        ----------
        metric : str
        snr_db : array_like, optional
            Es/N0 in dB; ``p`` from :meth:`delivery_probability`.
        probability : array_like, optional
            ``p`` directly (instead of ``snr_db``).
        prompt_sent : bool
            ``False`` gives ``Q(lost)`` (no prompt is sent).
        fitted : bool
            Use the monotone fit (default) or the raw means.
        capacity, log_term
            Link model of :meth:`delivery_probability`.
        """
        q_d = self.quality(metric, "delivered", fitted=fitted)
        q_l = self.quality(metric, "lost", fitted=fitted)
        if (snr_db is None) == (probability is None):
            raise ValueError("snr_db, probability: give exactly one of them")
        p = np.asarray(self.delivery_probability(snr_db, capacity=capacity, log_term=log_term)
                       if probability is None else probability, dtype=float)
        if np.any(~((p >= 0) & (p <= 1))):
            raise ValueError("probability: must lie in [0, 1]")
        if not prompt_sent:
            return np.broadcast_to(q_l, (*p.shape, *q_l.shape)).copy()
        p = p[..., None, None]
        return p * q_d + (1.0 - p) * q_l

    def points(self, metric: str, snr_db: ArrayLike, *, fitted: bool = True,
               visual_mcs: str | MCS | None = None, prompt_mcs: str | MCS | None = None,
               capacity: Literal["gaussian", "constellation"] = "gaussian",
               log_term: bool = False) -> SplitPoints:
        """Every (foreground level, background level, prompt sent) with its symbols and E[Q].

        The candidate set an allocator searches: costs from :meth:`symbols`, expected
        quality from :meth:`expected_quality` (prompt sent) or ``Q(lost)`` (not sent).
        """
        sym = self.symbols(visual_mcs, prompt_mcs)
        if prompt_mcs is not None and get_mcs(prompt_mcs) != self.prompt_mcs:
            raise ValueError("prompt_mcs: the delivery probability is modelled for the table's "
                             f"prompt MCS {self.prompt_mcs.name!r} only")
        f, b, _ = self.shape
        fi, bj, ps = np.meshgrid(np.arange(f), np.arange(b), np.array([False, True]), indexing="ij")
        fi, bj, ps = fi.ravel(), bj.ravel(), ps.ravel()
        p = np.asarray(self.delivery_probability(snr_db, capacity=capacity, log_term=log_term))
        sent = self.expected_quality(metric, probability=p, fitted=fitted)      # (*S, F, B)
        lost = self.quality(metric, "lost", fitted=fitted)
        q = np.where(ps, sent[..., fi, bj], lost[fi, bj])
        sent_f = np.array([lv.sent for lv in self.levels["foreground"]])
        sent_b = np.array([lv.sent for lv in self.levels["background"]])
        side = np.where(sent_f[fi] | sent_b[bj], sym.side, 0.0)
        prompt = np.where(ps, sym.prompt, 0.0)
        total = sym.foreground[fi] + sym.background[bj] + side + prompt
        return SplitPoints(foreground_level=fi, background_level=bj, prompt_sent=ps,
                           symbols_foreground=sym.foreground[fi], symbols_background=sym.background[bj],
                           symbols_side=side, symbols_prompt=prompt, symbols_total=total,
                           delivery_probability=p, quality=q, metric=metric,
                           higher_is_better=self.higher_is_better(metric))

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        sym = self.symbols()
        out.update({
            "levels": {b: [lv.name for lv in self.levels[b]] for b in BRANCHES},
            "metrics": {k: f"{s.direction} is better ({s.unit or 'no unit'})"
                        for k, s in self.metrics.items()},
            "images": len(self.images) or (0 if self.per_image is None else
                                           int(self.per_image["side_bits"].shape[0])),
            "repetitions": self.repetitions,
            "mcs": {"visual": self.visual_mcs.name, "prompt": self.prompt_mcs.name},
            "mean_bits": {"foreground": [round(float(v), 1) for v in self.bits["foreground"]],
                          "background": [round(float(v), 1) for v in self.bits["background"]],
                          "side": round(self.side_bits, 1), "prompt": round(self.prompt_bits, 1)},
            "symbols": {"visual_min": round(float(sym.visual.min()), 1),
                        "visual_max": round(float(sym.visual.max()), 1),
                        "prompt": round(sym.prompt, 1)},
            "quality_range": {k: [round(float(self._mean[k].min()), 4), round(float(self._mean[k].max()), 4)]
                              for k in self.metrics},
            "monotonicity_violations": {k: self.monotonicity_violations(k) for k in self.metrics},
            "per_image_arrays": sorted(self.per_image) if self.per_image else [],
        })
        return out

    def plot(self, path: str | None = None) -> Any:
        """Quality vs total symbols of every point, prompt lost vs delivered, per metric."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        sym = self.symbols()
        n = len(self.metrics)
        fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 3.8), squeeze=False)
        for ax, m in zip(axes[0], self.metrics):
            for s, (state, colour) in enumerate(zip(PROMPT_STATES, ("tab:gray", "tab:blue"))):
                x = sym.visual + (sym.prompt if s == 1 else 0.0)
                y = self._mean[m][..., s]
                ax.scatter(x.ravel(), y.ravel(), s=10, color=colour, alpha=0.6,
                           label=f"prompt {state}" + (" (or not sent)" if s == 0 else ""))
                order = np.argsort(x.ravel(), kind="stable")
                xs, ys = x.ravel()[order], y.ravel()[order]
                best = np.maximum.accumulate(ys) if self.metrics[m].higher_is_better \
                    else np.minimum.accumulate(ys)
                ax.step(xs, best, where="post", color=colour, lw=1.2)
            unit = self.metrics[m].unit
            ax.set_xlabel(f"channel symbols ({self.visual_mcs.name} visual, {self.prompt_mcs.name} prompt)")
            ax.set_ylabel(f"{m}" + (f" [{unit}]" if unit else ""))
            ax.set_title(f"{self.name}: {m}", fontsize=9)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120, bbox_inches="tight")
        return fig
