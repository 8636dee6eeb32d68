"""GVIF tables (kind ``gvif``): per source coder D(Φ), per threshold α E[V] and E[B].

A GVIF table holds what the max-fidelity problem of Huang et al. (eq. 31) needs about a
family of source coders Φ_1 … Φ_P (one shared latent shape) on a dataset:

* per model: the distortion ``D(Φ)`` (eq. 12, mean per-image MSE on the 0…255 scale,
  unfiltered), the bits per pixel, the weights checksum;
* per model and α on a grid ``0 = α_0 < … ≤ α_th``: the expected GVIF ``E[V](α)``
  (eq. 27) against the table's reference model (the least-distortion one), the expected
  rate ``E[B](α)`` in bits per image, and optional measured curves (rate by the real
  entropy coder, mask PSNR of the decoded filtered latents, MS-SSIM);
* optionally, per-image arrays that make ``V(Φ, α; x)`` and ``B(Φ, α; x)`` exactly
  evaluable at *any* α (NPZ)::

      importance   (N, h, w)     I_ij on the latent grid, in [0, 1]
      info_bits    (P, N, h, w)  Σ_c log2(1 + θᶜ_ijc² / γ²)            (GVIF numerator terms)
      y_bits       (P, N, h, w)  Σ_c −log2 P(ŷ_ijc | ẑ)                 (rate terms)
      z_bits       (P, N)        entropy-coded bits of ẑ (real coder)
      distortion_mse (P, N)      per-image MSE of the unfiltered reconstruction
      <curve>_per_image (P, N, A) per-image values of every measured grid curve

  With them ``V(α; x) = Σ_{I_ij ≥ α} info_bits_ij / Σ info_bits^ref`` and
  ``B(α; x) = Σ_{I_ij ≥ α} y_bits_ij + z_bits + RLE(I ≥ α)`` (the run-length-coded mask,
  :func:`semopt.metrics.run_length_bits`).

``data`` layout::

    {"models": [{"name", "distortion_mse", "psnr_db", "bpp", "weights_sha256", "lambda"}],
     "reference_model": "...", "gamma2": 0.1, "alpha_max": 0.8,
     "importance_method": "spectral-residual", "images": ["..."], "latent_shape": [C, h, w],
     "alpha_grid": [...], "curves": {"gvif": [[...]], "rate_bits": [[...]], ...},
     "curve_units": {"rate_bits": "bits per image", ...}}

Both ``E[V]`` and the ``y``-part of ``E[B]`` are non-increasing in α (the selected set
shrinks); ``E[V]`` is checked on load.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from semopt.metrics import run_length_bits
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

__all__ = ["REQUIRED_CURVES", "GvifModel", "GvifTable"]

#: Curves every GVIF table has (per model × α): expected GVIF and expected rate (bits/image).
REQUIRED_CURVES = ("gvif", "rate_bits")
PER_IMAGE_ARRAYS = ("importance", "info_bits", "y_bits", "z_bits")
#: Bounds checked on load and construction: models, α-grid points, curves, images,
#: latent positions h·w per image, and the work P·N·A·h·w of checking the per-image
#: arrays against the stored curves.
MAX_MODELS = 256
MAX_ALPHA_POINTS = 4096
MAX_CURVES = 64
MAX_IMAGES = 1_000_000
MAX_LATENT_POSITIONS = 2**14
MAX_LATENT_DIM = 2**16
MAX_CHECK_WORK = 2**28
_MODEL_KEYS = {"name", "distortion_mse", "psnr_db", "bpp", "weights_sha256", "lambda"}


def _check_gvif_data(data: Mapping[str, Any]) -> None:
    """Structure and bounds of a ``gvif`` ``data`` object, before anything is built."""
    models = check_list(data["models"], "models", min_len=1, max_len=MAX_MODELS)
    for k, m in enumerate(models):
        check_mapping(m, f"models[{k}]")
        if "name" not in m or "distortion_mse" not in m:
            raise TableFormatError(f"models[{k}]: needs 'name' and 'distortion_mse'")
        unknown = sorted(set(m) - _MODEL_KEYS)
        if unknown:
            raise TableFormatError(f"models[{k}]: unknown fields {unknown}")
        check_str(m["name"], f"models[{k}].name", max_chars=200, allow_empty=False,
                  single_line=True)
        check_float(m["distortion_mse"], f"models[{k}].distortion_mse", lo=0.0)
        for key in ("psnr_db", "bpp", "lambda"):
            check_float(m.get(key), f"models[{k}].{key}", allow_none=True)
        check_str(m.get("weights_sha256", ""), f"models[{k}].weights_sha256", max_chars=200)
    grid = check_list(data["alpha_grid"], "alpha_grid", min_len=1, max_len=MAX_ALPHA_POINTS)
    for k, v in enumerate(grid):
        check_float(v, f"alpha_grid[{k}]", lo=0.0, hi=1.0)
    curves = check_mapping(data["curves"], "curves")
    if len(curves) > MAX_CURVES:
        raise TableFormatError(f"curves: {len(curves)} curves, at most {MAX_CURVES}")
    for key, rows in curves.items():
        check_str(key, "curves key", max_chars=64, allow_empty=False, single_line=True)
        for p, row in enumerate(check_list(rows, f"curves.{key}", min_len=len(models),
                                           max_len=len(models))):
            for v in check_list(row, f"curves.{key}[{p}]", min_len=len(grid), max_len=len(grid)):
                check_float(v, f"curves.{key}[{p}]", allow_none=True)
    check_str(data["reference_model"], "reference_model", max_chars=200)
    for key, hi in (("gamma2", math.inf), ("alpha_max", 1.0)):
        if key in data:
            check_float(data[key], key, lo=0.0, hi=hi)
    check_str(data.get("importance_method", ""), "importance_method", max_chars=200)
    for k, image in enumerate(check_list(data.get("images", []), "images", max_len=MAX_IMAGES)):
        check_str(image, f"images[{k}]", max_chars=1000)
    if data.get("curve_units") is not None:
        for key, unit in check_mapping(data["curve_units"], "curve_units").items():
            check_str(unit, f"curve_units.{key}", max_chars=1000)
    if data.get("latent_shape") is not None:
        for v in check_list(data["latent_shape"], "latent_shape", min_len=3, max_len=3):
            check_int(v, "latent_shape", lo=1, hi=MAX_LATENT_DIM)


@dataclass(frozen=True)
class GvifModel:
    """One source coder of a GVIF table.

    Attributes
    ----------
    name : str
    distortion_mse : float
        D(Φ) of eq. 12: mean per-image MSE (0…255 scale) of the unfiltered reconstruction.
    psnr_db : float
        ``10 log10(255² / distortion_mse)``.
    bpp : float
        Mean bits per pixel at α = 0 (NaN if unknown).
    weights_sha256 : str
    lambda_ : float
        Rate–distortion trade-off it was trained with (NaN if unknown).
    """

    name: str
    distortion_mse: float
    psnr_db: float = math.nan
    bpp: float = math.nan
    weights_sha256: str = ""
    lambda_: float = math.nan

    def to_json(self) -> dict[str, Any]:
        def f(v: float) -> float | None:
            return None if not math.isfinite(v) else float(v)

        return {"name": self.name, "distortion_mse": f(self.distortion_mse),
                "psnr_db": f(self.psnr_db), "bpp": f(self.bpp),
                "weights_sha256": self.weights_sha256, "lambda": f(self.lambda_)}


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


@dataclass(frozen=True)
class Breakpoints:
    """Every achievable (α, E[V], E[B]) of one model for α in [0, α_max], α increasing.

    ``alpha[k]`` is the largest α of the interval on which the filtering sets of every
    image are constant (a breakpoint of the step functions, or α_max itself), so any α
    in ``(alpha[k-1], alpha[k]]`` gives the same values.
    """

    alpha: np.ndarray
    gvif: np.ndarray
    rate_bits: np.ndarray


@register_table_kind("gvif")
class GvifTable(Table):
    """GVIF table (see the module docstring).

    Parameters
    ----------
    models : sequence of GvifModel
        The source coders Φ_1 … Φ_P.
    alpha_grid : array_like, shape ``(A,)``
        Strictly increasing thresholds in [0, 1].
    curves : mapping name -> array_like ``(P, A)``
        Must contain ``gvif`` (E[V]) and ``rate_bits`` (E[B], bits per image).
    reference_model : str
        The least-distortion model (θʳ of eq. 27).
    gamma2, alpha_max : float
        HVS noise variance γ² and the maximal threshold α_th.
    importance_method : str
        How I_ij was computed (``spectral-residual``, ``cam``, ``clip``, ...).
    images : sequence of str
        Image names in the order of the per-image arrays.
    per_image : mapping, optional
        The per-image arrays listed in the module docstring.
    curve_units : mapping, optional
        Unit or description of each curve.
    latent_shape : sequence of int, optional
        ``(C, h, w)`` of the shared latent.
    """

    def __init__(self, models: Sequence[GvifModel], alpha_grid: Any, curves: Mapping[str, Any], *,
                 reference_model: str, gamma2: float = 0.1, alpha_max: float = 0.8,
                 importance_method: str = "spectral-residual", images: Sequence[str] = (),
                 per_image: Mapping[str, Any] | None = None,
                 curve_units: Mapping[str, str] | None = None,
                 latent_shape: Sequence[int] | None = None, name: str = "gvif",
                 description: str = "", provenance: Mapping[str, Any] | None = None) -> None:
        super().__init__(name=name, description=description, provenance=provenance)
        self.models = list(models)
        if not self.models:
            raise TableFormatError("models: a GVIF table needs at least one model")
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise TableFormatError(f"models: duplicate names in {names}")
        for m in self.models:
            if not (math.isfinite(m.distortion_mse) and m.distortion_mse >= 0):
                raise TableFormatError(f"models.{m.name}.distortion_mse: must be finite and ≥ 0")
        grid = np.asarray(alpha_grid, dtype=float)
        if grid.ndim != 1 or grid.size < 1 or np.any(~np.isfinite(grid)) or np.any(np.diff(grid) <= 0) \
                or grid[0] < 0 or grid[-1] > 1:
            raise TableFormatError("alpha_grid: must be strictly increasing values in [0, 1]")
        self.alpha_grid = grid
        self.gamma2 = float(gamma2)
        self.alpha_max = float(alpha_max)
        if not (math.isfinite(self.gamma2) and self.gamma2 > 0 and 0 <= self.alpha_max <= 1):
            raise TableFormatError(f"gamma2/alpha_max: need γ² > 0 and α_th in [0, 1], got "
                                   f"{gamma2}, {alpha_max}")
        if reference_model not in names:
            raise TableFormatError(f"reference_model: {reference_model!r} is not one of {names}")
        best = min(self.models, key=lambda m: m.distortion_mse)
        if self.models[names.index(reference_model)].distortion_mse > best.distortion_mse:
            raise TableFormatError(f"reference_model: must be the least-distortion model ({best.name!r}), "
                                   f"got {reference_model!r}")
        self.reference_model = reference_model
        self.importance_method = str(importance_method)
        self.images = [str(n) for n in images]
        self.latent_shape = None if latent_shape is None else tuple(int(v) for v in latent_shape)
        self.curve_units = dict(curve_units or {})
        self.curves: dict[str, np.ndarray] = {}
        shape = (len(self.models), grid.size)
        for key, values in curves.items():
            arr = np.array([[_float(v) for v in row] for row in values], dtype=float) \
                if not isinstance(values, np.ndarray) else np.asarray(values, dtype=float)
            if arr.shape != shape:
                raise TableFormatError(f"curves.{key}: shape {arr.shape}, expected (models, alphas) {shape}")
            arr.setflags(write=False)
            self.curves[str(key)] = arr
        for key in REQUIRED_CURVES:
            if key not in self.curves:
                raise TableFormatError(f"curves: missing required curve {key!r}")
            if np.any(~np.isfinite(self.curves[key])) or np.any(self.curves[key] < 0):
                raise TableFormatError(f"curves.{key}: values must be finite and ≥ 0")
        if np.any(np.diff(self.curves["gvif"], axis=1) > 1e-9):
            raise TableFormatError("curves.gvif: E[V] must be non-increasing in α")
        self.per_image = self._check_per_image(per_image) if per_image else None

    # ------------------------------------------------------------------ validation / IO
    def _check_per_image(self, per_image: Mapping[str, Any]) -> dict[str, np.ndarray]:
        arrays = {k: np.asarray(v) for k, v in per_image.items()}
        missing = [k for k in PER_IMAGE_ARRAYS if k not in arrays]
        if missing:
            raise TableFormatError(f"arrays: per-image arrays incomplete, missing {missing}")
        imp = arrays["importance"].astype(np.float64)
        if imp.ndim != 3:
            raise TableFormatError(f"arrays.importance: expected (N, h, w), got {imp.shape}")
        n_img = imp.shape[0]
        positions = imp.shape[1] * imp.shape[2]
        work = len(self.models) * n_img * self.alpha_grid.size * positions
        if n_img < 1 or positions < 1 or positions > MAX_LATENT_POSITIONS or work > MAX_CHECK_WORK:
            raise TableFormatError(f"arrays.importance: shape {imp.shape} is outside the bounds "
                                   f"(≥ 1 image, 1 to {MAX_LATENT_POSITIONS} latent positions, "
                                   f"models·images·alphas·positions ≤ {MAX_CHECK_WORK})")
        if self.images and len(self.images) != n_img:
            raise TableFormatError(f"arrays.importance: {n_img} images but {len(self.images)} names")
        p = len(self.models)
        expect = {"info_bits": (p, *imp.shape), "y_bits": (p, *imp.shape), "z_bits": (p, n_img)}
        for key, shape in expect.items():
            if arrays[key].shape != shape:
                raise TableFormatError(f"arrays.{key}: shape {arrays[key].shape}, expected {shape}")
        for key, arr in arrays.items():
            if np.issubdtype(arr.dtype, np.floating) and np.any(~np.isfinite(arr)) \
                    and not key.endswith("_per_image"):
                raise TableFormatError(f"arrays.{key}: non-finite values")
        if np.any(imp < 0) or np.any(imp > 1):
            raise TableFormatError("arrays.importance: values must lie in [0, 1]")
        for key in ("info_bits", "y_bits", "z_bits"):
            if np.any(arrays[key] < 0):
                raise TableFormatError(f"arrays.{key}: must be ≥ 0")
        a = self.alpha_grid.size
        for key, arr in arrays.items():
            if key.endswith("_per_image") and arr.shape != (p, n_img, a):
                raise TableFormatError(f"arrays.{key}: shape {arr.shape}, expected {(p, n_img, a)}")
        # The stored expectations must be the means of the per-image arrays.
        gv, rb = self._grid_from_arrays(arrays)
        for key, ref in (("gvif", gv), ("rate_bits", rb)):
            if not np.allclose(self.curves[key], ref, rtol=1e-6, atol=1e-9):
                worst = float(np.max(np.abs(self.curves[key] - ref)))
                raise TableFormatError(f"curves.{key}: differs from the mean of the per-image arrays "
                                       f"(max abs difference {worst:.3g})")
        for arr in arrays.values():
            arr.setflags(write=False)
        return arrays

    def _grid_from_arrays(self, arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        imp = arrays["importance"].astype(np.float64)
        info = arrays["info_bits"].astype(np.float64)
        ybits = arrays["y_bits"].astype(np.float64)
        ref = info[self.model_index(self.reference_model)].sum(axis=(-2, -1))      # (N,)
        sel = imp[:, None] >= self.alpha_grid[None, :, None, None]                  # (N, A, h, w)
        v = np.einsum("nahw,pnhw->pna", sel, info) / ref[None, :, None]
        yb = np.einsum("nahw,pnhw->pna", sel, ybits)
        mbits = run_length_bits(sel)                                                 # (N, A)
        b = yb + arrays["z_bits"].astype(np.float64)[..., None] + mbits[None]
        return v.mean(axis=1), b.mean(axis=1)

    @classmethod
    def from_arrays(cls, models: Sequence[GvifModel], alpha_grid: Any, per_image: Mapping[str, Any], *,
                    extra_curves: Mapping[str, Any] | None = None, **kwargs: Any) -> GvifTable:
        """Build a table from per-image arrays, computing E[V], E[B] (and the means of every
        ``<name>_per_image`` array, NaN-aware) on the grid.

        ``reference_model`` defaults to the least-distortion model.
        """
        models = list(models)
        kwargs.setdefault("reference_model", min(models, key=lambda m: m.distortion_mse).name)
        arrays = {k: np.asarray(v) for k, v in per_image.items()}
        probe = cls(models, alpha_grid, {
            "gvif": np.zeros((len(models), np.size(alpha_grid))),
            "rate_bits": np.zeros((len(models), np.size(alpha_grid)))},
            **{k: v for k, v in kwargs.items() if k in ("reference_model", "gamma2", "alpha_max")})
        gv, rb = probe._grid_from_arrays(arrays)
        curves: dict[str, Any] = {"gvif": gv, "rate_bits": rb}
        for key, arr in arrays.items():
            if key.endswith("_per_image"):
                finite = np.isfinite(arr)
                count = finite.sum(axis=1)
                total = np.where(finite, arr, 0.0).sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    curves[key.removesuffix("_per_image")] = np.where(count > 0, total / count, np.nan)
        curves.update(dict(extra_curves or {}))
        return cls(models, alpha_grid, curves, per_image=arrays, **kwargs)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *, name: str,
                  description: str, provenance: Mapping[str, Any]) -> GvifTable:
        for key in ("models", "alpha_grid", "curves", "reference_model"):
            if key not in data:
                raise TableFormatError(f"data: missing field {key!r}")
        _check_gvif_data(data)
        models = []
        for k, m in enumerate(data["models"]):
            if not isinstance(m, Mapping) or "name" not in m or "distortion_mse" not in m:
                raise TableFormatError(f"models[{k}]: needs 'name' and 'distortion_mse'")
            models.append(GvifModel(name=str(m["name"]), distortion_mse=_float(m["distortion_mse"]),
                                    psnr_db=_float(m.get("psnr_db")), bpp=_float(m.get("bpp")),
                                    weights_sha256=str(m.get("weights_sha256", "")),
                                    lambda_=_float(m.get("lambda"))))
        if not isinstance(data["curves"], Mapping):
            raise TableFormatError("curves: must map curve name -> (models × alphas) lists")
        return cls(models, data["alpha_grid"], data["curves"], reference_model=str(data["reference_model"]),
                   gamma2=float(data.get("gamma2", 0.1)), alpha_max=float(data.get("alpha_max", 0.8)),
                   importance_method=str(data.get("importance_method", "")),
                   images=list(data.get("images", [])), per_image=dict(arrays) or None,
                   curve_units=data.get("curve_units"), latent_shape=data.get("latent_shape"),
                   name=name, description=description, provenance=provenance)

    def to_data(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        def rows(arr: np.ndarray) -> list[list[float | None]]:
            return [[None if not math.isfinite(v) else round(float(v), 9) for v in row] for row in arr]

        data = {
            "models": [m.to_json() for m in self.models],
            "reference_model": self.reference_model, "gamma2": self.gamma2,
            "alpha_max": self.alpha_max, "importance_method": self.importance_method,
            "images": self.images,
            "latent_shape": None if self.latent_shape is None else list(self.latent_shape),
            "alpha_grid": [float(v) for v in self.alpha_grid],
            "curves": {k: rows(v) for k, v in self.curves.items()},
            "curve_units": self.curve_units,
        }
        return data, dict(self.per_image or {})

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update({
            "models": [(m.name, round(m.distortion_mse, 3), round(m.psnr_db, 2)) for m in self.models],
            "reference_model": self.reference_model, "importance_method": self.importance_method,
            "gamma2": self.gamma2, "alpha_max": self.alpha_max,
            "alpha_grid": [float(self.alpha_grid[0]), float(self.alpha_grid[-1]), self.alpha_grid.size],
            "images": len(self.images), "curves": sorted(self.curves),
            "per_image_arrays": sorted(self.per_image) if self.per_image else [],
        })
        return out

    # ------------------------------------------------------------------ queries
    @property
    def model_names(self) -> list[str]:
        return [m.name for m in self.models]

    def model_index(self, model: str | int) -> int:
        """Index of a model given by name or index (``ValueError`` listing the names)."""
        if isinstance(model, (int, np.integer)):
            if not 0 <= int(model) < len(self.models):
                raise ValueError(f"model: index {model} out of range 0..{len(self.models) - 1}")
            return int(model)
        names = self.model_names
        if model not in names:
            raise ValueError(f"model: unknown {model!r}; models of {self.name!r}: {', '.join(names)}")
        return names.index(model)

    @property
    def distortion_mse(self) -> np.ndarray:
        """D(Φ) per model, shape ``(P,)``."""
        return np.array([m.distortion_mse for m in self.models])

    @property
    def has_per_image(self) -> bool:
        return self.per_image is not None

    @property
    def n_images(self) -> int:
        return 0 if self.per_image is None else int(self.per_image["importance"].shape[0])

    @cached_property
    def _sorted(self) -> dict[str, np.ndarray]:
        """Per image, positions sorted by importance (ascending) and the mask bits per threshold."""
        if self.per_image is None:
            raise ValueError("table: this GVIF table has no per-image arrays")
        imp = self.per_image["importance"].astype(np.float64)
        n, h, w = imp.shape
        flat = imp.reshape(n, h * w)
        order = np.argsort(flat, axis=1, kind="stable")
        imp_sorted = np.take_along_axis(flat, order, axis=1)
        # Mask bits for the threshold imp_sorted[n, k] (mask = I ≥ that value); last column: empty.
        mbits = np.empty((n, h * w + 1), dtype=np.float64)
        for i in range(n):
            sel = flat[i][None, :] >= imp_sorted[i][:, None]
            mbits[i, :-1] = run_length_bits(sel.reshape(-1, h, w))
            mbits[i, -1] = run_length_bits(np.zeros((h, w), dtype=bool))
        first = np.ones_like(imp_sorted, dtype=bool)
        first[:, 1:] = imp_sorted[:, 1:] != imp_sorted[:, :-1]
        return {"order": order, "imp": imp_sorted, "mask_bits": mbits, "first": first}

    @cached_property
    def _suffix(self) -> dict[str, np.ndarray]:
        """Per model: suffix sums of info and y bits over importance-sorted positions, (P, N, Q+1)."""
        s = self._sorted
        p = len(self.models)
        n = s["imp"].shape[0]
        info = self.per_image["info_bits"].astype(np.float64).reshape(p, n, -1)
        ybits = self.per_image["y_bits"].astype(np.float64).reshape(p, n, -1)
        order = np.broadcast_to(s["order"], info.shape)
        out = {}
        for key, arr in (("info", info), ("y", ybits)):
            srt = np.take_along_axis(arr, order, axis=2)
            suf = np.zeros(srt.shape[:2] + (srt.shape[2] + 1,))
            suf[..., :-1] = np.cumsum(srt[..., ::-1], axis=2)[..., ::-1]
            out[key] = suf
        out["ref"] = out["info"][self.model_index(self.reference_model), :, 0]       # (N,)
        return out

    def _index_at(self, alpha: float) -> np.ndarray:
        """Per image, the first sorted position with I ≥ α (Q if none)."""
        return np.sum(self._sorted["imp"] < float(alpha), axis=1)

    def per_image_values(self, model: str | int, alpha: float,
                         images: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """``V(Φ, α; x)`` and ``B(Φ, α; x)`` of each image at any α (needs per-image arrays).

        Returns
        -------
        (gvif, rate_bits) : ndarray, ndarray, shape ``(n,)``
        """
        p = self.model_index(model)
        k = self._index_at(alpha)
        idx = np.arange(k.size) if images is None else np.asarray(images)
        k = k[idx]
        suf = self._suffix
        v = suf["info"][p, idx, k] / suf["ref"][idx]
        b = suf["y"][p, idx, k] + self.per_image["z_bits"][p, idx] + self._sorted["mask_bits"][idx, k]
        return v, b

    def expected(self, model: str | int, alpha: float) -> tuple[float, float]:
        """``(E[V], E[B])`` at α: exact with per-image arrays, else linear on the grid."""
        if self.has_per_image:
            v, b = self.per_image_values(model, alpha)
            return float(v.mean()), float(b.mean())
        p = self.model_index(model)
        return (float(np.interp(alpha, self.alpha_grid, self.curves["gvif"][p])),
                float(np.interp(alpha, self.alpha_grid, self.curves["rate_bits"][p])))

    def image_candidates(self, model: str | int, alpha_max: float | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every achievable per-image (α, V, B) for α in [0, α_max] (needs per-image arrays).

        Returns
        -------
        alpha, gvif, rate_bits : ndarray, shape ``(N, Q + 1)``
            Column k: the filtering set ``{I ≥ imp_sorted[k]}`` (α = that value).
        valid : ndarray of bool, shape ``(N, Q + 1)``
            Columns that are achievable with α ≤ α_max (first of each tie group, plus α_max).
        """
        amax = self.alpha_max if alpha_max is None else float(alpha_max)
        p = self.model_index(model)
        s, suf = self._sorted, self._suffix
        n = s["imp"].shape[0]
        alpha = np.concatenate([s["imp"], np.full((n, 1), np.inf)], axis=1)
        valid = np.concatenate([s["first"], np.zeros((n, 1), dtype=bool)], axis=1) & (alpha <= amax)
        k_max = self._index_at(amax)                      # the set at α_max itself
        valid[np.arange(n), k_max] = True
        alpha = alpha.copy()
        alpha[np.arange(n), k_max] = np.minimum(alpha[np.arange(n), k_max], amax)
        # α for the set {I ≥ u_k} is reported as u_k; the α_max column as α_max when u_k > α_max.
        v = suf["info"][p] / suf["ref"][:, None]
        b = suf["y"][p] + self.per_image["z_bits"][p][:, None] + s["mask_bits"]
        return alpha, v, b, valid

    def breakpoints(self, model: str | int, alpha_max: float | None = None) -> Breakpoints:
        """All achievable ``(α, E[V](α), E[B](α))`` for one shared α in [0, α_max].

        With per-image arrays the candidates are every distinct importance value ≤ α_max of
        every image plus α_max (the step functions are constant between them); without,
        the grid points ≤ α_max.
        """
        amax = self.alpha_max if alpha_max is None else float(alpha_max)
        p = self.model_index(model)
        if not self.has_per_image:
            keep = self.alpha_grid <= amax + 1e-12
            return Breakpoints(self.alpha_grid[keep], self.curves["gvif"][p][keep],
                               self.curves["rate_bits"][p][keep])
        imp = self._sorted["imp"]
        cand = np.unique(np.concatenate([imp[imp <= amax], [amax]]))
        k = np.stack([np.searchsorted(row, cand, side="left") for row in imp])   # (N, K)
        rows = np.arange(imp.shape[0])[:, None]
        suf = self._suffix
        v = (suf["info"][p][rows, k] / suf["ref"][:, None]).mean(axis=0)
        b = (suf["y"][p][rows, k] + self.per_image["z_bits"][p][:, None]
             + self._sorted["mask_bits"][rows, k]).mean(axis=0)
        return Breakpoints(cand, v, b)

    def plot(self, path: str) -> None:
        """E[GVIF] and E[rate] against α for every model, and the models' rate–distortion."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        for k, name in enumerate(self.model_names):
            axes[0].plot(self.alpha_grid, self.curves["gvif"][k], color=f"C{k % 10}", label=name)
            axes[1].plot(self.alpha_grid, self.curves["rate_bits"][k] / 1e3, color=f"C{k % 10}")
        axes[0].set_ylabel("E[GVIF]")
        axes[1].set_ylabel("E[rate] (kbit)")
        for ax in axes[:2]:
            ax.set_xlabel("filtering threshold α")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7)
        rate0 = self.curves["rate_bits"][:, 0] / 1e3
        psnr = 10 * np.log10(255.0**2 / self.distortion_mse)
        axes[2].plot(rate0, psnr, "o-")
        for name, x, y in zip(self.model_names, rate0, psnr):
            axes[2].annotate(name, (x, y), fontsize=7, textcoords="offset points", xytext=(4, -8))
        axes[2].set_xlabel("E[rate] at α = 0 (kbit)")
        axes[2].set_ylabel("PSNR of D(Φ) (dB)")
        axes[2].grid(alpha=0.3)
        fig.suptitle(f"{self.name} ({self.n_images} images)", fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
