"""Measure perception-error surfaces and discard subset values, and write perception tables.

The job
-------
For a dataset of images, a grid of per-stream error rates ψ (log-spaced, last node ½)
and ``reps`` Monte Carlo repetitions, every (image, grid point, repetition) is one work
unit of :mod:`semopt.profiling.runner` (cached, resumable, parallel). Grid points are

* ``surface (i, j, ...)``  -- every stream sent, stream s at BER ``grid[i_s]``
  (uncoded forward-with-error: bit flips in the coded payload, which is then decoded);
* ``single (s, i)``        -- only stream s sent, at BER ``grid[i]``; the others absent
  (the curves P^(s)(ψ) of Xu et al. eq. 17 that the semantic-proportional method needs);
* ``subset S``             -- the streams in S received error-free, the others absent
  (discard-with-error subset values P_S; P_∅ = 1 by definition, not measured).

Channel realisations use common random numbers: in repetition r, stream s of an image
gets one uniform per bit, seeded by ``(seed, image hash, r, s)``, and bit j flips iff
``u_j < ψ`` -- the same draws at every grid point, so the flips at ψ are a subset of the
flips at ψ' > ψ. The result of a unit is therefore a pure function of its cache key.

Statistics and fitting
----------------------
Per grid point: the mean over images × repetitions, and its standard error treating the
images as a sample: ``std(per-image means, ddof=1) / sqrt(n_images)`` (with one image,
the Monte Carlo standard error over repetitions). The Monte Carlo part alone
(``sqrt(mean_k var_k / R) / sqrt(K)``, within-image variance over repetitions) is
reported in the provenance. The forward surface is fitted by the weighted isotonic
least-squares projection (weights 1/stderr², :meth:`ForwardSurface.fit`) so it is
non-decreasing in every ψ_i (Corollary 1); single-stream curves and discard subset values
get the same treatment. The raw means and their standard errors are stored too.
Semantic values: L_i = 1 − P_{i} and L̂_i(ψ) = 1 − P^(i)(ψ).

Stacks
------
``fg-bg`` (:class:`FgBgStack`, the embedded default, offline on CPU)
    A shipped ``ScaleHyperprior``'s quantised latent ŷ is split by a spectral-residual
    importance mask (top ``fg_fraction`` of latent positions) into a foreground and a
    background stream, each rANS-coded separately with the model's Gaussian conditional.
    The hyper-latent ẑ (which gives every symbol's CDF) and the mask are side information
    received error-free. **Absent stream**: the decoder uses 0 for its latent elements --
    the mean (and mode) of the zero-mean Gaussian conditional given ẑ, i.e. the receiver's
    best guess without the stream. The same convention is used for the discard subsets
    and the single-stream forward curves. Metrics: MS-SSIM, PSNR (as distances).
``controlnet`` (:class:`ControlNetStack`, the published scenario, needs weights)
    Prompt (captions file, UTF-8) + Canny edge map (coded by the hyperprior model) ->
    Stable Diffusion + ControlNet -> CLIP / MS-SSIM. Absent prompt = empty prompt; absent
    edge map = black control image.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from semopt.profiling.channels import BitFlipChannel
from semopt.profiling.runner import ResultCache, RunStats, WorkUnit, cache_key, run_units
from semopt.profiling.stages import Prepared, WeightsNotFoundError
from semopt.provenance import git_commit

__all__ = [
    "CODE_VERSION",
    "ControlNetStack",
    "FgBgStack",
    "SurfaceJob",
    "build_tables",
    "make_stack",
    "parse_grid",
]

#: Bump when a change alters measured values (it is part of every cache key).
CODE_VERSION = "surface-job/1"
DEFAULT_MODEL_TABLE = "hyperprior-sample"
DEFAULT_MODEL_NAME = "hp-l0.013"
MAX_BER = 0.5


# --------------------------------------------------------------------------------------------------
# Grid

def parse_grid(text: str | Sequence[float]) -> list[float]:
    """Parse a BER grid: ``"1e-5,1e-3,0.5"`` or ``"log:-5:-1:5"`` (5 points 1e-5..1e-1).

    ψ = ½ is appended when missing (the forward surface's last node must be ½). Values
    must be strictly increasing in (0, ½].
    """
    if isinstance(text, str):
        text = text.strip()
        if text.startswith("log:"):
            parts = text.split(":")
            if len(parts) != 4:
                raise ValueError(f"grid: expected 'log:LO:HI:N', got {text!r}")
            lo, hi, n = float(parts[1]), float(parts[2]), int(parts[3])
            values = list(10.0 ** np.linspace(lo, hi, n))
        else:
            try:
                values = [float(v) for v in text.split(",") if v.strip()]
            except ValueError as exc:
                raise ValueError(f"grid: expected comma-separated BERs, got {text!r}") from exc
    else:
        values = [float(v) for v in text]
    if not values or values[-1] != MAX_BER:
        values.append(MAX_BER)
    arr = np.asarray(values)
    if np.any(arr <= 0) or np.any(arr > MAX_BER) or np.any(np.diff(arr) <= 0):
        raise ValueError(f"grid: BERs must be strictly increasing in (0, 0.5], got {values}")
    if len(values) < 2:
        raise ValueError("grid: needs at least two BER values (the last is 0.5)")
    return [float(v) for v in values]


# --------------------------------------------------------------------------------------------------
# Stacks

def _set_threads(threads: int) -> None:
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _model_spec(model_path: str | None, model_table: str, model_name: str) -> dict[str, Any]:
    from semopt.profiling import hyperprior as hp

    if model_path:
        path = Path(model_path)
        if not path.is_file():
            raise WeightsNotFoundError(f"--model: ScaleHyperprior weights file not found: {path}")
        return {"path": str(path.resolve()), "name": path.stem, "sha256": hp.file_sha256(path)}
    table = hp.load_model_table(model_table, verify=False)
    for entry in table["models"]:
        if entry["name"] == model_name:
            return {"table": str(model_table), "name": model_name, "sha256": entry["sha256"],
                    "N": entry["N"], "M": entry["M"], "lambda": entry.get("lambda"),
                    "path": str(Path(table["_dir"]) / entry["weights"])}
    raise KeyError(f"model: no {model_name!r} in model table {model_table!r}; have "
                   f"{[m['name'] for m in table['models']]}")


def _load_model(spec: Mapping[str, Any]) -> Any:
    from semopt.profiling import hyperprior as hp

    return hp.load_model(spec["path"], expected_sha256=spec["sha256"])


class FgBgStack:
    """Foreground / background hyperprior latents -> bit flips -> g_s -> MS-SSIM, PSNR.

    Parameters
    ----------
    model_path : str, optional
        A ScaleHyperprior ``state_dict`` file; default: ``model_name`` of ``model_table``.
    model_table, model_name : str
        Shipped model table and model (default ``hyperprior-sample`` / ``hp-l0.013``).
    importance : str
        Importance method (:func:`semopt.profiling.importance.importance_map`).
    fg_fraction : float
        Fraction of latent positions in the foreground stream.
    metrics : sequence of str
        Metric names (:func:`semopt.profiling.metrics.get_metric`).
    threads : int
        torch threads per worker (1 keeps results bit-identical across backends).
    """

    name = "fg-bg"
    stream_names = ("foreground", "background")

    def __init__(self, *, model_path: str | None = None, model_table: str = DEFAULT_MODEL_TABLE,
                 model_name: str = DEFAULT_MODEL_NAME, importance: str = "spectral-residual",
                 fg_fraction: float = 0.25, metrics: Sequence[str] = ("msssim", "psnr"),
                 threads: int = 1) -> None:
        from semopt.profiling.metrics import get_metric

        self.model_spec = _model_spec(model_path, model_table, model_name)
        self.importance = importance
        self.fg_fraction = float(fg_fraction)
        self.metric_names = tuple(metrics)
        self.metrics = [get_metric(m) for m in self.metric_names]
        self.threads = int(threads)
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The loaded ScaleHyperprior (lazy, checksum-verified)."""
        if self._model is None:
            self._model = _load_model(self.model_spec)
        return self._model

    def config(self) -> dict[str, Any]:
        """Everything that changes the results (enters the cache key)."""
        return {"stack": self.name, "model": {k: self.model_spec[k] for k in ("name", "sha256")},
                "importance": self.importance, "fg_fraction": self.fg_fraction,
                "absent": "zeros (mean of the zero-mean Gaussian conditional)",
                "channel": "bsc, common random numbers", "codec": "compressai rANS, per stream"}

    def metric_labels(self) -> dict[str, str]:
        """Metric name -> stored distance."""
        return {m.name: m.label for m in self.metrics}

    def describe(self) -> dict[str, Any]:
        """Provenance of the stages."""
        return {
            "encoder": {"model": self.model_spec, "architecture": "compressai ScaleHyperprior",
                        "split": f"latent positions ranked by {self.importance} importance "
                                 f"(block-averaged to the latent grid); top {self.fg_fraction:g} "
                                 "-> foreground, rest -> background; all channels of a position "
                                 "in one stream",
                        "side_information": "hyper-latent z (rANS) + mask, received error-free"},
            "codec": "compressai rANS with the Gaussian conditional, one string per stream",
            "channel": "binary symmetric channel on each stream's coded bits (forward); "
                       "error-free or absent (discard subsets)",
            "generator": "ScaleHyperprior synthesis g_s; absent stream -> zeros",
        }

    def check(self) -> None:
        """Load the model now (fail fast)."""
        _ = self.model

    def prepare(self, name: str, pixels: np.ndarray, **context: Any) -> Prepared:
        """Split and code one image."""
        from semopt.profiling.codecs import GaussianConditionalCodec
        from semopt.profiling.extractors import LatentSplitExtractor

        _set_threads(self.threads)
        split = LatentSplitExtractor(self.model, self.importance, self.fg_fraction).extract(pixels)
        codec = GaussianConditionalCodec(self.model)
        payloads = [codec.encode(split.stream(True)), codec.encode(split.stream(False))]
        h, w = split.image_shape
        factor = (-(-h // 64) * 64) // split.mask.shape[0]
        pixel_mask = np.kron(split.mask, np.ones((factor, factor), dtype=bool))[:h, :w]
        z_bits = 8 * sum(len(s) for s in split.z_strings)
        return Prepared(
            name=name, reference=np.asarray(pixels), payloads=payloads,
            side={"split": split, "codec": codec, "pixel_mask": pixel_mask},
            side_bits=z_bits + split.mask.size,
            extras={"bits": [8 * len(p) for p in payloads], "z_bits": z_bits,
                    "mask_bits": int(split.mask.size),
                    "fg_symbols": int(split.selection(True).sum()),
                    "bg_symbols": int(split.selection(False).sum())})

    def regenerate(self, prepared: Prepared, received: Sequence[bytes | None],
                   rng: np.random.Generator) -> np.ndarray | None:
        """Decode the received streams into ŷ (absent -> 0) and run g_s."""
        from semopt.profiling.generators import HyperpriorDecoderGenerator

        if all(r is None for r in received):
            return None
        _set_threads(self.threads)
        split, codec = prepared.side["split"], prepared.side["codec"]
        y_hat = np.zeros(split.symbols.shape, dtype=np.float32)
        for foreground, data in zip((True, False), received):
            if data is None:
                continue
            sel = split.selection(foreground)
            y_hat[sel] = codec.decode(data, indexes=split.indexes[sel])
        return HyperpriorDecoderGenerator(self.model).generate([y_hat],
                                                                image_shape=split.image_shape)

    def score(self, prepared: Prepared, output: np.ndarray | None) -> dict[str, float]:
        """Distances for every metric."""
        return {m.name: float(m.distance(prepared.reference, output,
                                         mask=prepared.side.get("pixel_mask")))
                for m in self.metrics}


class ControlNetStack:
    """Prompt + Canny edge map -> Stable Diffusion ControlNet -> CLIP (the published scenario).

    Parameters
    ----------
    captions : str or mapping
        Captions file (or mapping) for the images.
    model_path, model_table, model_name
        The ScaleHyperprior that codes the edge map (see :class:`FgBgStack`).
    sd_dir, controlnet_dir : str, optional
        Local diffusers folders (``$SEMOPT_SD_DIR``, ``$SEMOPT_CONTROLNET_DIR``).
    clip_model, clip_weights : str, optional
        open_clip architecture / checkpoint (``$SEMOPT_CLIP_MODEL``, ``$SEMOPT_CLIP_WEIGHTS``).
    metrics : sequence of str
        Default ``("clip",)``.
    steps, guidance, device
        Diffusion settings.
    text_zlib : bool
        zlib-compress the prompt (off by default: a flipped bit then loses the whole prompt).
    """

    name = "controlnet"
    stream_names = ("prompt", "edge")

    def __init__(self, *, captions: Any, model_path: str | None = None,
                 model_table: str = DEFAULT_MODEL_TABLE, model_name: str = DEFAULT_MODEL_NAME,
                 sd_dir: str | None = None, controlnet_dir: str | None = None,
                 clip_model: str | None = None, clip_weights: str | None = None,
                 metrics: Sequence[str] = ("clip",), steps: int = 20, guidance: float = 7.5,
                 device: str = "cpu", canny_sigma: float = 2.0, text_zlib: bool = False,
                 threads: int = 1) -> None:
        from semopt.profiling.extractors import CaptionExtractor
        from semopt.profiling.generators import ControlNetGenerator
        from semopt.profiling.metrics import ClipMetric, get_metric

        self.captions = CaptionExtractor(captions)
        self.generator = ControlNetGenerator(sd_dir, controlnet_dir, steps=steps,
                                             guidance=guidance, device=device)
        self.metric_names = tuple(metrics)
        self.metrics = [ClipMetric(clip_model, clip_weights, normalized=(m == "clip-norm"))
                        if m in ("clip", "clip-norm") else get_metric(m) for m in self.metric_names]
        self.model_spec = _model_spec(model_path, model_table, model_name)
        self.canny_sigma = canny_sigma
        self.text_zlib = text_zlib
        self.threads = int(threads)
        self._model: Any = None
        self._clip = {"model": clip_model or os.environ.get("SEMOPT_CLIP_MODEL"),
                      "weights": clip_weights or os.environ.get("SEMOPT_CLIP_WEIGHTS")}

    def check(self) -> None:
        """Fail fast when any weights are missing (names the variable to set)."""
        self.generator.check()
        for m in self.metrics:
            if hasattr(m, "check"):
                m.check()

    @property
    def model(self) -> Any:
        """The edge-map ScaleHyperprior."""
        if self._model is None:
            self._model = _load_model(self.model_spec)
        return self._model

    def config(self) -> dict[str, Any]:
        """Everything that changes the results (enters the cache key)."""
        return {"stack": self.name, "model": {k: self.model_spec[k] for k in ("name", "sha256")},
                "generator": self.generator.config(), "clip": self._clip,
                "captions": self.captions.captions, "canny_sigma": self.canny_sigma,
                "text_zlib": self.text_zlib, "absent": "empty prompt / black edge map"}

    def metric_labels(self) -> dict[str, str]:
        """Metric name -> stored distance."""
        return {m.name: m.label for m in self.metrics}

    def describe(self) -> dict[str, Any]:
        """Provenance of the stages."""
        return {"encoder": {"prompt": "captions file", "edge": f"Canny (sigma {self.canny_sigma})",
                            "edge_codec_model": self.model_spec},
                "codec": "UTF-8" + (" + zlib" if self.text_zlib else "") +
                         " (prompt); ScaleHyperprior rANS (edge map, z as side information)",
                "channel": "binary symmetric channel per stream (forward); error-free or absent",
                "generator": {"name": "Stable Diffusion + ControlNet", **self.generator.config()}}

    def prepare(self, name: str, pixels: np.ndarray, **context: Any) -> Prepared:
        """Caption and code the prompt; Canny and code the edge map."""
        from semopt.profiling.codecs import EdgeMapCodec, TextCodec
        from semopt.profiling.extractors import CannyEdgeExtractor

        _set_threads(self.threads)
        prompt = self.captions.extract(pixels, name=name)["prompt"]
        edges = CannyEdgeExtractor(self.canny_sigma).extract(pixels)["edge"]
        text_codec, edge_codec = TextCodec(self.text_zlib), EdgeMapCodec(self.model)
        edge_payload, edge_side = edge_codec.encode_with_side(edges)
        payloads = [text_codec.encode(prompt), edge_payload]
        return Prepared(name=name, reference=np.asarray(pixels), payloads=payloads,
                        side={"text": text_codec, "edge": edge_codec, "edge_side": edge_side},
                        side_bits=int(edge_side["z_bits"]),
                        extras={"bits": [8 * len(p) for p in payloads], "prompt": prompt})

    def regenerate(self, prepared: Prepared, received: Sequence[bytes | None],
                   rng: np.random.Generator) -> np.ndarray | None:
        """Decode prompt and edge map and generate with ControlNet (seeded by ``rng``)."""
        _set_threads(self.threads)
        text_data, edge_data = received
        prompt = None if text_data is None else prepared.side["text"].decode(text_data)
        edges = None if edge_data is None else prepared.side["edge"].decode(
            edge_data, **prepared.side["edge_side"])
        return self.generator.generate([prompt, edges], image_shape=prepared.reference.shape[:2],
                                       seed=int(rng.integers(2**31 - 1)))

    def score(self, prepared: Prepared, output: np.ndarray | None) -> dict[str, float]:
        """Distances for every metric."""
        return {m.name: float(m.distance(prepared.reference, output)) for m in self.metrics}


STACKS = {"fg-bg": FgBgStack, "controlnet": ControlNetStack}


def make_stack(name: str, **options: Any) -> Any:
    """A stack by name (``fg-bg`` or ``controlnet``)."""
    if name not in STACKS:
        raise ValueError(f"stack: unknown {name!r}; valid: {', '.join(STACKS)}")
    return STACKS[name](**options)


# --------------------------------------------------------------------------------------------------
# Work units (run in worker processes)

_STACKS: dict[str, Any] = {}
_PREPARED: OrderedDict[tuple[str, str], Prepared] = OrderedDict()
_LOCK = threading.Lock()  # threaded backends (Dask processes=False, threading) share the memo


def _stack_from(spec: Mapping[str, Any]) -> Any:
    key = json.dumps(spec, sort_keys=True, default=str)
    with _LOCK:
        if key not in _STACKS:
            _STACKS[key] = make_stack(spec["name"], **spec["options"])
        return _STACKS[key]


def _prepared(stack: Any, stack_key: str, image: Mapping[str, Any]) -> Prepared:
    key = (stack_key, image["hash"])
    with _LOCK:
        if key not in _PREPARED:
            _PREPARED[key] = stack.prepare(image["name"], image["pixels"])
            while len(_PREPARED) > 4:
                _PREPARED.popitem(last=False)
        _PREPARED.move_to_end(key)
        return _PREPARED[key]


def _seed_int(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def compute_units(context: Mapping[str, Any], units: Sequence[WorkUnit]) -> list[dict[str, Any]]:
    """Worker entry point: evaluate units of one (image, repetition) group.

    ``context`` holds the stack spec, the seed and the one image of the group.
    """
    stack = _stack_from(context["stack"])
    image = context["image"]
    prepared = _prepared(stack, context["stack_key"], image)
    channel = BitFlipChannel()
    n = len(stack.stream_names)
    image_seed = _seed_int(image["hash"])
    out = []
    for unit in units:
        t0 = time.perf_counter()
        kind, index, rates, rep = unit.spec[0], unit.spec[1], unit.spec[2], unit.spec[3]
        received: list[bytes | None] = []
        for s in range(n):
            payload = prepared.payloads[s]
            if kind == "subset":
                received.append(payload if index[0] >> s & 1 else None)
                continue
            rate = rates[s]
            if rate is None:
                received.append(None)
                continue
            rng = np.random.default_rng([context["seed"], image_seed, rep, s])
            received.append(channel.transmit(payload, rate, rng))
        gen_rng = np.random.default_rng([context["seed"], image_seed, rep, 1000])
        output = stack.regenerate(prepared, received, gen_rng)
        value: dict[str, Any] = dict(stack.score(prepared, output))
        value["_s"] = round(time.perf_counter() - t0, 4)
        out.append(value)
    return out


# --------------------------------------------------------------------------------------------------
# The job

@dataclass
class SurfaceJob:
    """A dataset × BER grid × repetitions profiling job for one stack.

    Parameters
    ----------
    stack : str
        ``"fg-bg"`` or ``"controlnet"``.
    stack_options : dict
        Keyword arguments of the stack (model, importance, metrics, weights...).
    images : list of NamedImage
        The dataset (already resized).
    dataset : dict
        Description for the provenance (kind, source, size, split...).
    grid : list of float
        BER grid (last node ½).
    reps : int
        Monte Carlo repetitions.
    seed : int
    """

    stack: str
    stack_options: dict[str, Any]
    images: list[Any]
    dataset: dict[str, Any]
    grid: list[float]
    reps: int = 2
    seed: int = 0
    _stack_obj: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.grid = parse_grid(self.grid)
        if self.reps < 1:
            raise ValueError(f"reps: must be ≥ 1, got {self.reps}")
        if not self.images:
            raise ValueError("dataset: no images")
        self._stack_obj = make_stack(self.stack, **self.stack_options)
        self._hashes = [hashlib.sha256(np.ascontiguousarray(im.pixels).tobytes()).hexdigest()
                        for im in self.images]

    @property
    def stack_obj(self) -> Any:
        """The stack instance of this (parent) process."""
        return self._stack_obj

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metric names."""
        return tuple(self._stack_obj.metric_names)

    def _spec(self) -> dict[str, Any]:
        return {"name": self.stack, "options": self.stack_options}

    def unit_specs(self) -> list[tuple[Any, ...]]:
        """``(kind, index, rates, rep)`` for every unit of one image."""
        n = len(self._stack_obj.stream_names)
        g = self.grid
        specs: list[tuple[Any, ...]] = []
        for rep in range(self.reps):
            for idx in itertools.product(range(len(g)), repeat=n):
                specs.append(("surface", list(idx), [g[i] for i in idx], rep))
            for s in range(n):
                for i in range(len(g)):
                    rates: list[float | None] = [None] * n
                    rates[s] = g[i]
                    specs.append(("single", [s, i], rates, rep))
            for mask in range(1, 2**n):
                specs.append(("subset", [mask], [None] * n, rep))
        return specs

    def units(self) -> list[WorkUnit]:
        """All work units with their cache keys."""
        config = self._stack_obj.config()
        base = {"code": CODE_VERSION, "stack": config, "metrics": sorted(self.metrics),
                "seed": self.seed}
        out = []
        for k, digest in enumerate(self._hashes):
            for spec in self.unit_specs():
                key = cache_key({**base, "image": digest, "unit": [spec[0], spec[2] if spec[0] !=
                                 "subset" else spec[1], spec[3]]})
                out.append(WorkUnit(key=key, group=(k, spec[3]), spec=(*spec, k)))
        return out

    def _context(self, group: tuple[Any, ...]) -> dict[str, Any]:
        image = self.images[group[0]]
        return {"stack": self._spec(), "stack_key": json.dumps(self._spec(), sort_keys=True,
                                                                 default=str),
                "seed": self.seed, "image": {"name": image.name, "pixels": image.pixels,
                                             "hash": self._hashes[group[0]]}}

    def run(self, cache: ResultCache | str | os.PathLike[str], *, n_jobs: int = 1,
            backend: str = "loky", scheduler: str | None = None, chunk_size: int = 6,
            progress: bool = True) -> tuple[dict[str, Any], RunStats]:
        """Compute (or read from ``cache``) every unit; return ``(results by key, stats)``."""
        if hasattr(self._stack_obj, "check"):
            self._stack_obj.check()
        cache = cache if isinstance(cache, ResultCache) else ResultCache(cache)
        units = self.units()
        results, stats = run_units(units, compute_units, self._context, cache=cache, n_jobs=n_jobs,
                                   backend=backend, scheduler=scheduler, chunk_size=chunk_size,
                                   progress=progress, desc=f"profile {self.stack}")
        self._last_units = units
        return results, stats

    def per_image_extras(self) -> list[dict[str, Any]]:
        """Stream bits and side information per image (prepared in this process)."""
        out = []
        key = json.dumps(self._spec(), sort_keys=True, default=str)
        _STACKS.setdefault(key, self._stack_obj)
        for k, image in enumerate(self.images):
            prepared = _prepared(self._stack_obj, key, {"name": image.name, "pixels": image.pixels,
                                                        "hash": self._hashes[k]})
            out.append({"name": image.name, "side_bits": prepared.side_bits, **prepared.extras})
        return out


def _stderr(per_image_rep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, dataset standard error and Monte Carlo standard error over axes (0, 1) = (K, R)."""
    k, r = per_image_rep.shape[:2]
    mean = per_image_rep.mean(axis=(0, 1))
    image_means = per_image_rep.mean(axis=1)
    mc = np.sqrt(per_image_rep.var(axis=1, ddof=1).mean(axis=0) / r) / np.sqrt(k) if r > 1 \
        else np.zeros_like(mean)
    se = image_means.std(axis=0, ddof=1) / np.sqrt(k) if k > 1 else mc
    return mean, se, mc


def build_tables(job: SurfaceJob, results: Mapping[str, Mapping[str, Any]], *, name: str,
                 stats: RunStats | None = None, command: str | None = None,
                 started: float | None = None) -> dict[str, Any]:
    """Aggregate unit results into one :class:`PerceptionTable` per metric.

    Returns
    -------
    dict
        metric name -> PerceptionTable (forward surface + single-stream curves + discard
        subsets, fitted, with raw means, standard errors and provenance).
    """
    from semopt.tables.perception import DiscardSubsets, ForwardSurface, PerceptionTable, StreamInfo
    from solvers.isotonic import isotonic_grid

    stack = job.stack_obj
    n = len(stack.stream_names)
    g = job.grid
    K, R, G = len(job.images), job.reps, len(g)
    units = job.units()
    labels = stack.metric_labels()
    extras = job.per_image_extras()
    bits = [max(1, round(float(np.mean([e["bits"][s] for e in extras])))) for s in range(n)]
    log_axis = np.log10(np.asarray(g))
    tables = {}
    for metric in job.metrics:
        surf = np.full((K, R) + (G,) * n, np.nan)
        single = np.full((K, R, n, G), np.nan)
        subset = np.full((K, R, 2**n), np.nan)
        seconds = 0.0
        for unit in units:
            value = results[unit.key]
            kind, index, _rates, rep, k = unit.spec
            seconds += float(value.get("_s", 0.0))
            v = float(value[metric])
            if kind == "surface":
                surf[(k, rep, *index)] = v
            elif kind == "single":
                single[k, rep, index[0], index[1]] = v
            else:
                subset[k, rep, index[0]] = v
        subset[:, :, 0] = 1.0  # P_∅ = 1: nothing regenerated
        s_mean, s_se, s_mc = _stderr(surf)
        c_mean, c_se, c_mc = _stderr(single)
        d_mean, d_se, d_mc = _stderr(subset)
        forward_single = []
        for s in range(n):
            w = 1.0 / np.maximum(c_se[s], 1e-6) ** 2
            forward_single.append(isotonic_grid(c_mean[s], w))
        forward = ForwardSurface.fit([log_axis] * n, s_mean, s_se, single_stream=forward_single)
        # Discard subsets: P must not increase when a stream is received -> isotonic on the
        # cube indexed by "stream i NOT received".
        cube_index = [tuple(1 - (m >> i & 1) for i in range(n)) for m in range(2**n)]
        cube = np.zeros((2,) * n)
        cube_w = np.zeros((2,) * n)
        for m, idx in enumerate(cube_index):
            cube[idx] = d_mean[m]
            cube_w[idx] = 1.0 / max(float(d_se[m]), 1e-6) ** 2 if m else 1e12
        fitted_cube = isotonic_grid(cube, cube_w)
        d_fit = np.array([fitted_cube[idx] for idx in cube_index])
        d_fit[0] = 1.0
        discard = DiscardSubsets(d_fit, n, stderr=d_se)
        streams = [StreamInfo(stack.stream_names[s], bits[s], 0.8,
                              f"mean coded bits over {K} images (per image in provenance)")
                   for s in range(n)]
        semantic = (1.0 - d_fit[1 << np.arange(n)]).tolist()
        provenance = {
            "source": "measured",
            "producer": "semopt profile surface",
            "command": command,
            "stack": stack.name,
            "stack_config": stack.config(),
            **stack.describe(),
            "metric": {"name": metric, "distance": labels[metric]},
            "dataset": {**job.dataset, "n_images": K,
                        "names": [im.name for im in job.images],
                        "hash": _dataset_hash(job.images)},
            "grid": {"ber": g, "log10_ber": log_axis.tolist()},
            "repetitions": R,
            "seed": job.seed,
            "samples_per_point": K * R,
            "absent_stream": stack.config().get("absent"),
            "stderr": "standard error of the mean over images (per-image means over repetitions, "
                      "ddof=1, / sqrt(n_images)); raw means and stderr stored with the surface",
            "mc_stderr": {"what": "Monte Carlo (channel) part only: sqrt(mean_k var_k/R)/sqrt(K)",
                          "forward_median": float(np.median(s_mc)),
                          "forward_max": float(np.max(s_mc)),
                          "single_stream_median": float(np.median(c_mc)),
                          "discard": d_mc.tolist()},
            "fit": "weighted isotonic least squares (weights 1/stderr^2) in log10 BER, "
                   "non-decreasing in every BER (Corollary 1); discard subsets projected so "
                   "receiving a stream never increases P",
            "single_stream_raw": c_mean.tolist(),
            "single_stream_stderr": c_se.tolist(),
            "discard_raw": d_mean.tolist(),
            "semantic_values": {stack.stream_names[s]: semantic[s] for s in range(n)},
            "per_image": extras,
            "code_version": CODE_VERSION,
            "git_commit": git_commit(),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "compute_s": round(seconds, 2),
        }
        if stats is not None:
            provenance["last_run"] = stats.as_dict()
        if started is not None:
            provenance["run_wall_s"] = round(time.perf_counter() - started, 2)
        table_name = name if len(job.metrics) == 1 else f"{name}-{metric}"
        tables[metric] = PerceptionTable(
            name=table_name, streams=streams, metric=labels[metric], discard=discard,
            forward=forward, provenance=provenance,
            description=f"measured {stack.name} stack on {K} images ({job.dataset.get('kind')}), "
                        f"{labels[metric]}, {G}x{G} BER grid x {R} reps")
    return tables


def _dataset_hash(images: Sequence[Any]) -> str:
    from semopt.profiling.images import dataset_hash

    return dataset_hash(images)


def table_data(table: Any) -> dict[str, Any]:
    """The ``data`` part of a table document (what a rerun must reproduce exactly)."""
    data, _ = table.to_data()
    return data
