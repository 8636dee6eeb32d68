"""Profiling job that measures a GVIF table (kind ``gvif``) over a dataset and a model table.

Every (image, model) pair is one work unit of :mod:`semopt.profiling.runner` (joblib in
parallel, a progress bar, one cached JSON result per unit, so a killed job resumes
without recomputing). A task holds one image and all models, so the importance map is
computed once per image. The cache key covers the image bytes (hash), the model weights
(sha256), the importance method and its options, γ², the α grid and the decode grid, so
changing any of them recomputes exactly what is affected.

The assembled table holds, per model, D(Φ) (mean per-image MSE of the unfiltered
reconstruction, eq. 12) and PSNR; per α on the grid, E[V], E[B] (likelihood bits of the
selected ŷ + real ẑ bits + run-length mask bits), the real-coder rate, and -- every
``decode_step`` in α (NaN elsewhere) -- the mask PSNR of the decoded filtered latents and
MS-SSIM; and the per-image arrays that make V and B exactly evaluable at any α.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from semopt.metrics import DEFAULT_GAMMA2
from semopt.profiling.runner import ResultCache, RunStats, WorkUnit, cache_key, run_units
from semopt.provenance import git_commit
from semopt.tables.gvif import GvifModel, GvifTable

__all__ = ["GvifJob", "alpha_grid", "compute_units"]

JOB_VERSION = 1
_MODELS: dict[str, Any] = {}


def alpha_grid(step: float = 0.02, alpha_max: float = 0.8) -> list[float]:
    """``0, step, …, alpha_max`` rounded to 10 decimals."""
    if not (step > 0 and 0 <= alpha_max <= 1):
        raise ValueError(f"alpha grid: need step > 0 and alpha_max in [0, 1], got {step}, {alpha_max}")
    n = round(alpha_max / step)
    return [round(k * step, 10) for k in range(n + 1)]


def _image_hash(pixels: np.ndarray) -> str:
    px = np.ascontiguousarray(pixels, dtype=np.uint8)
    return hashlib.sha256(str(px.shape).encode() + px.tobytes()).hexdigest()


def _model(spec: Mapping[str, Any]) -> Any:
    from semopt.profiling import hyperprior as hp

    key = spec["sha256"]
    if key not in _MODELS:
        _MODELS[key] = hp.load_model(spec["path"], expected_sha256=spec["sha256"])
    return _MODELS[key]


def compute_units(context: Mapping[str, Any], units: Sequence[WorkUnit]) -> list[dict[str, Any]]:
    """Worker: measure every (image, model) unit of one task (one image)."""
    import torch

    from semopt.profiling.gvif import latent_importance, measure_image

    if torch.get_num_threads() != context["threads"]:
        torch.set_num_threads(context["threads"])
    pixels = np.asarray(context["pixels"], dtype=np.uint8)
    imp = latent_importance(pixels, context["importance"], **context["importance_options"])
    grid = np.asarray(context["alpha_grid"])
    step = context["decode_step"]
    decode_idx = [k for k, a in enumerate(grid) if abs(a / step - round(a / step)) < 1e-9]
    out = []
    for unit in units:
        spec = context["models"][unit.spec[1]]
        model = _model(spec)
        full = measure_image(model, pixels, imp, grid, gamma2=context["gamma2"], decode=False)
        dec = measure_image(model, pixels, imp, grid[decode_idx], gamma2=context["gamma2"], decode=True)
        psnr = np.full(grid.size, np.nan)
        ssim = np.full(grid.size, np.nan)
        psnr[decode_idx] = dec["mask_psnr_db"]
        ssim[decode_idx] = dec["msssim"]

        def lst(a: Any) -> list[float | None]:
            return [None if not np.isfinite(v) else float(v) for v in np.ravel(a)]

        out.append({
            "latent_shape": full["latent_shape"], "importance": lst(imp),
            "info_bits": lst(full["info_bits"]), "y_bits": lst(full["y_bits"]),
            "z_bits": full["z_bits"], "z_bits_likelihood": full["z_bits_likelihood"],
            "coded_y_bits": lst(full["coded_y_bits"]), "mask_bits": lst(full["mask_bits"]),
            "mask_psnr_db": lst(psnr), "msssim": lst(ssim), "mse": dec["mse"],
            "pixels": int(pixels.shape[0] * pixels.shape[1]),
        })
    return out


@dataclass
class GvifJob:
    """Measure a GVIF table for a model table on a dataset.

    Parameters
    ----------
    images : list of NamedImage
        The dataset (all images of one size, so every latent grid is the same).
    dataset : dict
        Provenance description (kind, split, size, hash, ...).
    model_table : str
        Model-table name or path (:func:`semopt.profiling.hyperprior.load_model_table`).
    models : sequence of str, optional
        Subset of the model table (default: all).
    importance : str
        Importance method (:func:`semopt.profiling.importance.importance_map`).
    importance_options : dict
        Its options (``weights=...``, ``text=...``); recorded in the provenance.
    alpha_step, alpha_max : float
        α grid ``0 … alpha_max`` (α_th) in steps.
    decode_step : float
        Decode the filtered latents (mask PSNR, MS-SSIM) every ``decode_step`` in α.
    gamma2 : float
        HVS noise variance γ².
    threads : int
        torch threads per worker.
    """

    images: list[Any]
    dataset: dict[str, Any]
    model_table: str = "hyperprior-sample"
    models: Sequence[str] | None = None
    importance: str = "spectral-residual"
    importance_options: dict[str, Any] = field(default_factory=dict)
    alpha_step: float = 0.02
    alpha_max: float = 0.8
    decode_step: float = 0.1
    gamma2: float = DEFAULT_GAMMA2
    threads: int = 1

    def __post_init__(self) -> None:
        from semopt.profiling import hyperprior as hp

        if not self.images:
            raise ValueError("images: the dataset is empty")
        shapes = {tuple(np.asarray(img.pixels).shape) for img in self.images}
        if len(shapes) != 1:
            raise ValueError(f"images: all images must have one size (use --size), got {sorted(shapes)}")
        names = [img.name for img in self.images]
        if len(set(names)) != len(names):
            raise ValueError("images: duplicate image names")
        table = hp.load_model_table(self.model_table, verify=True)
        entries = table["models"]
        if self.models is not None:
            missing = [m for m in self.models if m not in {e["name"] for e in entries}]
            if missing:
                raise ValueError(f"models: {missing} not in model table {self.model_table!r}")
            entries = [e for e in entries if e["name"] in set(self.models)]
        shapes_m = {(e["N"], e["M"]) for e in entries}
        if len(shapes_m) != 1:
            raise ValueError(f"models: GVIF needs one latent shape; the models have (N, M) = "
                             f"{sorted(shapes_m)}")
        self.model_specs = [{"name": e["name"], "sha256": e["sha256"], "lambda": e.get("lambda"),
                             "N": e["N"], "M": e["M"],
                             "path": str(Path(table["_dir"]) / e["weights"])} for e in entries]
        self.model_table_info = {k: v for k, v in table.items() if k not in ("models", "_dir")}
        self.grid = alpha_grid(self.alpha_step, self.alpha_max)

    def _spec(self) -> dict[str, Any]:
        return {"job": "gvif", "version": JOB_VERSION, "importance": self.importance,
                "importance_options": self.importance_options, "gamma2": self.gamma2,
                "alpha_grid": self.grid, "decode_step": self.decode_step}

    def units(self) -> list[WorkUnit]:
        spec = self._spec()
        out = []
        for i, img in enumerate(self.images):
            ih = _image_hash(img.pixels)
            for p, m in enumerate(self.model_specs):
                key = cache_key({**spec, "image": img.name, "image_hash": ih, "model": m["sha256"]})
                out.append(WorkUnit(key=key, group=(i,), spec=(img.name, p)))
        return out

    def _context(self, group: tuple[Any, ...]) -> dict[str, Any]:
        return {**self._spec(), "pixels": np.asarray(self.images[group[0]].pixels),
                "models": self.model_specs, "threads": self.threads}

    def run(self, cache: ResultCache | str, *, n_jobs: int = 1, backend: str = "loky",
            scheduler: str | None = None, progress: bool = True) -> tuple[dict[str, Any], RunStats]:
        """Compute (or read from ``cache``) every unit."""
        cache = cache if isinstance(cache, ResultCache) else ResultCache(cache)
        return run_units(self.units(), compute_units, self._context, cache=cache, n_jobs=n_jobs,
                         backend=backend, scheduler=scheduler, chunk_size=len(self.model_specs),
                         progress=progress, desc="gvif")

    def table(self, results: Mapping[str, Any], *, name: str, stats: RunStats | None = None,
              description: str | None = None) -> GvifTable:
        """Assemble the GVIF table (with provenance) from the unit results."""
        units = self.units()
        n, p, a = len(self.images), len(self.model_specs), len(self.grid)
        first = results[units[0].key]
        c, h, w = first["latent_shape"]
        arr = {k: np.zeros((p, n, h, w)) for k in ("info_bits", "y_bits")}
        per = {k: np.zeros((p, n, a)) for k in ("coded_y_bits", "mask_psnr_db", "msssim")}
        zb = np.zeros((p, n))
        zl = np.zeros((p, n))
        mse = np.zeros((p, n))
        imp = np.zeros((n, h, w))
        pixels = np.zeros(n)
        mask_bits = np.zeros((n, a))
        for u in units:
            i, m = u.group[0], u.spec[1]
            r = results[u.key]
            if list(r["latent_shape"]) != [c, h, w]:
                raise ValueError(f"model {self.model_specs[m]['name']}: latent shape {r['latent_shape']} "
                                 f"differs from {[c, h, w]}; GVIF needs one latent shape")
            imp[i] = np.asarray(r["importance"], dtype=float).reshape(h, w)
            mask_bits[i] = r["mask_bits"]
            pixels[i] = r["pixels"]
            arr["info_bits"][m, i] = np.asarray(r["info_bits"], dtype=float).reshape(h, w)
            arr["y_bits"][m, i] = np.asarray(r["y_bits"], dtype=float).reshape(h, w)
            for k in per:
                per[k][m, i] = [np.nan if v is None else v for v in r[k]]
            zb[m, i], zl[m, i], mse[m, i] = r["z_bits"], r["z_bits_likelihood"], r["mse"]
        coded_rate = per["coded_y_bits"] + zb[..., None] + mask_bits[None]
        per_image = {
            "importance": imp.astype(np.float32), "info_bits": arr["info_bits"].astype(np.float32),
            "y_bits": arr["y_bits"].astype(np.float32), "z_bits": zb.astype(np.float32),
            "z_bits_likelihood": zl.astype(np.float32), "distortion_mse": mse.astype(np.float32),
            "coded_rate_bits_per_image": coded_rate.astype(np.float32),
            "mask_psnr_db_per_image": per["mask_psnr_db"].astype(np.float32),
            "msssim_per_image": per["msssim"].astype(np.float32),
        }
        d = mse.mean(axis=1)
        bits0 = (arr["y_bits"].sum(axis=(-2, -1)) + zb + mask_bits[None, :, 0]).mean(axis=1)
        models = [GvifModel(name=s["name"], distortion_mse=float(d[k]),
                            psnr_db=float(10 * np.log10(255.0**2 / d[k])),
                            bpp=float(bits0[k] / pixels.mean()), weights_sha256=s["sha256"],
                            lambda_=float(s["lambda"]) if s.get("lambda") is not None else float("nan"))
                  for k, s in enumerate(self.model_specs)]
        ref = min(models, key=lambda mm: mm.distortion_mse).name
        provenance = {
            "source": "measured",
            "job": "semopt.profiling.gvif_job", "job_version": JOB_VERSION,
            "dataset": {**self.dataset, "images": [img.name for img in self.images]},
            "model_table": {"name": str(self.model_table), **self.model_table_info,
                            "models": [{"name": s["name"], "sha256": s["sha256"], "lambda": s["lambda"],
                                        "N": s["N"], "M": s["M"]} for s in self.model_specs]},
            "reference_model": ref,
            "importance": {"method": self.importance, "options": self.importance_options,
                           "resolution": "latent grid (16x16 pixel blocks, block-averaged)"},
            "gamma2": self.gamma2, "alpha_grid": {"start": 0.0, "step": self.alpha_step,
                                                  "stop": self.alpha_max, "count": a},
            "decode_step": self.decode_step,
            "rate": "rate_bits = Σ_P −log2 P(ŷ|ẑ) + real ẑ bits + Elias-γ run-length mask bits; "
                    "coded_rate_bits = real rANS bytes of the selected ŷ ×8 + ẑ bits + mask bits",
            "distortion": "D(Φ) = mean over images of the MSE (0…255) of the unfiltered, "
                          "uint8-rounded reconstruction (eq. 12)",
            "code_version": git_commit(), "date": _dt.date.today().isoformat(),
        }
        if stats is not None:
            provenance["run"] = stats.as_dict()
        return GvifTable.from_arrays(
            models, self.grid, per_image, gamma2=self.gamma2, alpha_max=self.alpha_max,
            importance_method=self.importance, images=[img.name for img in self.images],
            latent_shape=(c, h, w), reference_model=ref, name=name,
            curve_units={"gvif": "expected GVIF (eq. 27)", "rate_bits": "bits per image",
                         "coded_rate_bits": "bits per image (real entropy coder)",
                         "mask_psnr_db": "dB (eq. 40), mean over images; NaN where not decoded",
                         "msssim": "MS-SSIM of the decoded filtered latents; NaN where not decoded"},
            description=description or (
                f"GVIF table: {p} ScaleHyperprior models × {n} images, importance "
                f"{self.importance}, γ² = {self.gamma2}, α grid 0…{self.alpha_max} step {self.alpha_step}"),
            provenance=provenance)
