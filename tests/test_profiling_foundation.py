"""ControlNet generator, CLIP metric and CLIP importance with tiny random-initialised models.

Everything is built here, saved to a temporary folder and loaded back through the
project's local-path loaders, fully offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
pytest.importorskip("compressai")
open_clip = pytest.importorskip("open_clip")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)

from semopt.profiling import hyperprior as hp  # noqa: E402
from semopt.profiling.images import load_sample_images  # noqa: E402
from semopt.profiling.importance import importance_map  # noqa: E402
from semopt.profiling.metrics import ClipMetric, load_clip  # noqa: E402
from semopt.profiling.stages import WeightsNotFoundError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("clip")
    config = root / "semopt-tiny-clip.json"
    config.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(str(config))
    torch.manual_seed(0)
    model = open_clip.create_model("semopt-tiny-clip", pretrained=None)
    weights = root / "tiny-clip.pt"
    torch.save(model.state_dict(), weights)
    return str(config), str(weights)


def _tokenizer_files(root: Path) -> Path:
    """A byte-level CLIP BPE vocabulary with no merges (every byte is a token)."""
    # GPT-2 / CLIP byte -> printable unicode map.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    chars = [chr(c) for c in cs]
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    folder = root / "tokenizer-src"
    folder.mkdir()
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return folder


@pytest.fixture(scope="module")
def diffusion_dirs(tmp_path_factory) -> tuple[str, str]:
    diffusers = pytest.importorskip("diffusers")
    transformers = pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("sd")
    torch.manual_seed(0)
    blocks = dict(block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4,
                  cross_attention_dim=16, attention_head_dim=2,
                  down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"))
    unet = diffusers.UNet2DConditionModel(sample_size=16, in_channels=4, out_channels=4,
                                          up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                                          **blocks)
    controlnet = diffusers.ControlNetModel(in_channels=4, conditioning_embedding_out_channels=(4, 8),
                                           **blocks)
    vae = diffusers.AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3,
                                  down_block_types=("DownEncoderBlock2D",) * 2,
                                  up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4,
                                  norm_num_groups=4)
    text = transformers.CLIPTextModel(transformers.CLIPTextConfig(
        bos_token_id=514, eos_token_id=515, pad_token_id=515, hidden_size=16, intermediate_size=32,
        num_attention_heads=2, num_hidden_layers=1, vocab_size=520, max_position_embeddings=77))
    src = _tokenizer_files(root)
    tokenizer = transformers.CLIPTokenizer(str(src / "vocab.json"), str(src / "merges.txt"),
                                           model_max_length=77)
    pipe = diffusers.StableDiffusionPipeline(
        vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
        scheduler=diffusers.DDIMScheduler(num_train_timesteps=1000), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(root / "sd")
    controlnet.save_pretrained(root / "controlnet")
    return str(root / "sd"), str(root / "controlnet")


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return load_sample_images("validation", size=64)[1].pixels


def test_clip_metric_loads_local_weights(clip_files, image) -> None:
    config, weights = clip_files
    metric = ClipMetric(config, weights)
    assert metric.distance(image, image) == pytest.approx(0.0, abs=1e-5)
    other = np.ascontiguousarray(image[::-1, ::-1])
    d = metric.distance(image, other)
    assert 0.0 <= d <= 2.0 and metric.distance(image, None) == 1.0
    norm = ClipMetric(config, weights, normalized=True)
    assert norm.distance(image, other) == pytest.approx(d / 2, abs=1e-6)
    assert norm.label == "1 - (CLIP + 1)/2"


def test_clip_patch_importance(clip_files, image, monkeypatch) -> None:
    config, weights = clip_files
    monkeypatch.setenv("SEMOPT_CLIP_MODEL", config)
    monkeypatch.setenv("SEMOPT_CLIP_WEIGHTS", weights)
    imp = importance_map(image, method="clip", resolution="latent")
    assert imp.shape == (4, 4) and 0.0 <= imp.min() <= imp.max() <= 1.0
    assert importance_map(image, method="clip", text="a cat").shape == image.shape[:2]


def test_missing_weights_fail_at_once_naming_the_variable(monkeypatch, tmp_path) -> None:
    from semopt.profiling.generators import ControlNetGenerator

    for var in ("SEMOPT_SD_DIR", "SEMOPT_CONTROLNET_DIR", "SEMOPT_CLIP_WEIGHTS"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(WeightsNotFoundError, match="SEMOPT_SD_DIR"):
        ControlNetGenerator().check()
    with pytest.raises(WeightsNotFoundError, match="SEMOPT_CONTROLNET_DIR"):
        ControlNetGenerator(sd_dir=str(tmp_path)).check()
    with pytest.raises(WeightsNotFoundError, match="SEMOPT_CLIP_WEIGHTS"):
        load_clip()
    captions = tmp_path / "c.json"
    captions.write_text(json.dumps({"chelsea": "a cat"}))
    hp.save_model(hp.build_model(16, 24), tmp_path / "edge.pt")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEMOPT_")}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from semopt.cli import main; sys.exit(main())",
         "profile", "surface", "--stack", "controlnet", "--dataset", "sample", "--limit", "1",
         "--captions", str(captions), "--model", str(tmp_path / "edge.pt"), "--out",
         str(tmp_path / "t.json"), "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "SEMOPT_SD_DIR" in proc.stderr and not (tmp_path / "cache").exists()


def test_controlnet_stack_end_to_end(diffusion_dirs, clip_files, tmp_path, monkeypatch) -> None:
    from semopt.profiling.surface_job import SurfaceJob, build_tables

    sd, cn = diffusion_dirs
    config, weights = clip_files
    monkeypatch.setenv("SEMOPT_SD_DIR", sd)
    monkeypatch.setenv("SEMOPT_CONTROLNET_DIR", cn)
    monkeypatch.setenv("SEMOPT_CLIP_MODEL", config)
    monkeypatch.setenv("SEMOPT_CLIP_WEIGHTS", weights)
    torch.manual_seed(0)
    edge_model = hp.build_model(16, 24)
    edge_model.update(force=True)
    hp.save_model(edge_model, tmp_path / "edge.pt")
    captions = tmp_path / "captions.json"
    captions.write_text(json.dumps({"chelsea": "a cat on a sofa"}))
    images = load_sample_images("validation", size=64)[1:2]
    job = SurfaceJob(stack="controlnet",
                     stack_options={"captions": str(captions), "model_path": str(tmp_path / "edge.pt"),
                                    "metrics": ["clip", "clip-norm"], "steps": 2},
                     images=images, dataset={"kind": "sample", "size": 64}, grid="1e-2",
                     reps=1, seed=0)
    results, stats = job.run(tmp_path / "cache", progress=False)
    assert stats.computed == 4 + 4 + 3
    built = build_tables(job, results, name="cn")
    table = built["clip"]
    assert table.streams[0].name == "prompt" and table.streams[1].name == "edge"
    assert table.metric == "1 - CLIP" and built["clip-norm"].metric == "1 - (CLIP + 1)/2"
    assert table.discard.values[0] == 1.0
    assert table.provenance["generator"]["name"] == "Stable Diffusion + ControlNet"
    # Deterministic given the seed: a second run from an empty cache gives the same data.
    again, _ = job.run(tmp_path / "cache2", progress=False)
    assert build_tables(job, again, name="cn")["clip"].to_data() == table.to_data()
