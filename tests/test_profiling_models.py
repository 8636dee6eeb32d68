"""The shipped ScaleHyperprior λ sweep, its model table and the offline sample images."""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
pytest.importorskip("compressai")

from semopt.profiling import hyperprior as hp  # noqa: E402
from semopt.profiling.images import (  # noqa: E402
    SAMPLE_NAMES,
    TRAIN_NAMES,
    VALIDATION_NAMES,
    NamedImage,
    dataset_hash,
    load_image_folder,
    load_sample_images,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)
MODELS_DIR = Path(str(resources.files("perception_tables") / "models"))
TABLE_PATH = MODELS_DIR / "hyperprior-sample.json"


@pytest.fixture(scope="module")
def table() -> dict:
    if not TABLE_PATH.is_file():
        pytest.fail(f"shipped model table missing: {TABLE_PATH}")
    return json.loads(TABLE_PATH.read_text())


@pytest.fixture(scope="module")
def validation() -> list[NamedImage]:
    return load_sample_images("validation")


def test_table_structure(table: dict) -> None:
    assert table["schema"] == "semopt.model-table/1"
    assert len(table["models"]) >= 12
    arch = table["architecture"]
    assert {(m["N"], m["M"]) for m in table["models"]} == {(arch["N"], arch["M"])}
    assert table["dataset"]["validation"] == list(VALIDATION_NAMES)
    assert not set(table["dataset"]["train"]) & set(VALIDATION_NAMES)
    for key in ("code_version", "date", "torch", "compressai"):
        assert table["provenance"][key]
    names = [m["name"] for m in table["models"]]
    assert len(set(names)) == len(names)
    assert [m["lambda"] for m in table["models"]] == sorted(m["lambda"] for m in table["models"])


def test_weights_files_match_sha256_and_size(table: dict) -> None:
    for m in table["models"]:
        path = MODELS_DIR / m["weights"]
        assert path.is_file(), path
        assert hp.file_sha256(path) == m["sha256"], f"{path} was modified"
        assert path.stat().st_size == m["file_bytes"]
        assert path.stat().st_size <= 5_000_000
    assert sum(m["file_bytes"] for m in table["models"]) <= 42_000_000


def test_models_load_weights_only(table: dict) -> None:
    for m in table["models"]:
        raw = torch.load(MODELS_DIR / m["weights"], map_location="cpu", weights_only=True)
        assert isinstance(raw, dict) and all(isinstance(v, torch.Tensor) for v in raw.values())
        model = hp.load_model(MODELS_DIR / m["weights"], expected_sha256=m["sha256"])
        assert hp.count_parameters(model) == m["parameters"]
        assert next(model.parameters()).dtype == torch.float32


def test_load_model_rejects_tampered_checksum(table: dict) -> None:
    m = table["models"][0]
    with pytest.raises(ValueError, match="sha256 mismatch"):
        hp.load_model(MODELS_DIR / m["weights"], expected_sha256="sha256:" + "0" * 64)


def test_load_model_rejects_foreign_state_dict(tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a ScaleHyperprior"):
        hp.load_model(path)
    with pytest.raises(FileNotFoundError):
        hp.load_model(tmp_path / "missing.pt")


def test_save_load_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = hp.build_model(16, 24)
    sha = hp.save_model(model, tmp_path / "m.pt")
    loaded = hp.load_model(tmp_path / "m.pt", expected_sha256=sha, N=16, M=24)
    w0, w1 = model.g_a[0].weight, loaded.g_a[0].weight
    assert torch.allclose(w0, w1, atol=1e-3, rtol=1e-3)
    with pytest.raises(ValueError, match="expected N=32"):
        hp.load_model(tmp_path / "m.pt", N=32)


def test_compress_decompress_round_trip(table: dict) -> None:
    best = table["models"][-1]
    model = hp.load_model(MODELS_DIR / best["weights"])
    img = load_sample_images("validation", size=(80, 100))[1]  # not a multiple of 64
    x = hp.to_tensor(img.pixels)
    with torch.no_grad():
        enc = model.compress(hp._pad(x))
        dec = model.decompress(enc["strings"], enc["shape"])["x_hat"][..., :80, :100]
    assert dec.shape == x.shape
    mse = float(((dec.clamp(0, 1) - x) ** 2).mean())
    assert 10 * math.log10(1 / mse) > 20.0
    rd = hp.measure_rate_distortion(model, [img])
    assert rd.bpp > 0 and rd.per_image[0]["pixels"] == 80 * 100


def test_recorded_rd_points_are_monotone(table: dict) -> None:
    bpp = [m["validation"]["bpp"] for m in table["models"]]
    psnr = [m["validation"]["psnr"] for m in table["models"]]
    assert table["rd_monotone"] is True
    assert all(a < b for a, b in itertools.pairwise(bpp)), bpp
    assert all(a < b for a, b in itertools.pairwise(psnr)), psnr
    assert psnr[-1] - psnr[0] > 2.0 and bpp[-1] / bpp[0] > 3.0  # a useful span


def test_recorded_gvif_size_points_are_monotone_and_reference_is_top(table: dict) -> None:
    """All sample images at 256 px (the GVIF set): D = mean per-image MSE falls with rate."""
    g = [m["sample_gvif_size"] for m in table["models"]]
    assert table["rd_monotone_sample_gvif_size"] is True
    assert all(a["bpp"] < b["bpp"] and a["mse"] > b["mse"] for a, b in itertools.pairwise(g))
    for e in g:
        assert e["mse"] == pytest.approx(np.mean([p["mse"] for p in e["per_image"]]), rel=1e-12)
        assert e["psnr"] == pytest.approx(10 * math.log10(255.0**2 / e["mse"]), rel=1e-12)
    assert g[0]["psnr"] <= 27.5  # the bottom of the paper's operating range is covered
    assert table["reference_model"] == table["models"][-1]["name"]
    # the table says which of these images were training images
    names = [p["name"] for p in g[0]["per_image"]]
    assert set(names) - set(table["dataset"]["train"]) == set(VALIDATION_NAMES)


def test_recorded_gvif_size_reproduces_on_one_image(table: dict) -> None:
    m = table["models"][-1]
    rec = next(p for p in m["sample_gvif_size"]["per_image"] if p["name"] == "coffee")
    img = next(im for im in load_sample_images("validation", size=256) if im.name == "coffee")
    model = hp.load_model(MODELS_DIR / m["weights"], expected_sha256=m["sha256"])
    rd = hp.measure_rate_distortion(model, [img])
    assert rd.per_image[0]["bits"] == pytest.approx(rec["bits"], rel=0.01)
    assert rd.psnr == pytest.approx(rec["psnr"], abs=0.05)


def test_recorded_rd_reproduces_on_one_validation_image(
    table: dict, validation: list[NamedImage]
) -> None:
    m = table["models"][len(table["models"]) // 2]
    recorded = {p["name"]: p for p in m["validation"]["per_image"]}
    img = next(im for im in validation if im.name == "chelsea")
    model = hp.load_model(MODELS_DIR / m["weights"], expected_sha256=m["sha256"])
    rd = hp.measure_rate_distortion(model, [img])
    assert rd.bpp == pytest.approx(recorded["chelsea"]["bpp"], rel=0.02)
    assert rd.psnr == pytest.approx(recorded["chelsea"]["psnr"], abs=0.1)
    # pooled numbers are consistent with the per-image ones
    per = m["validation"]["per_image"]
    bits, pix = sum(p["bits"] for p in per), sum(p["pixels"] for p in per)
    assert m["validation"]["bpp"] == pytest.approx(bits / pix, rel=1e-12)


def test_latent_statistics_theta_and_estimated_rate(table: dict) -> None:
    m = table["models"][2]
    model = hp.load_model(MODELS_DIR / m["weights"])
    img = load_sample_images("validation", size=128)[2]
    stats = hp.latent_statistics(model, img)
    assert stats.scales_hat.shape == (1, m["M"], 8, 8) == stats.y_hat.shape
    # h_s ends in a ReLU: θ ≥ 0 (the coder itself lower-bounds the scale at 0.11)
    assert torch.all(stats.scales_hat >= 0) and float(stats.scales_hat.max()) > 0
    assert torch.equal(hp.scales(model, img), stats.scales_hat)
    est_y_bits = float(-torch.log2(stats.y_likelihoods).sum())
    rd = hp.measure_rate_distortion(model, [img]).per_image[0]
    assert rd["z_bits"] == stats.z_bits
    assert est_y_bits == pytest.approx(rd["y_bits"], rel=0.15, abs=64)


def test_from_zoo_fails_fast_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="load_model"):
        hp.from_zoo(3)
    assert time.perf_counter() - t0 < 5.0
    with pytest.raises(ValueError, match="quality"):
        hp.from_zoo(0)


def test_split_is_deterministic_and_disjoint() -> None:
    assert not set(TRAIN_NAMES) & set(VALIDATION_NAMES)
    assert set(TRAIN_NAMES) | set(VALIDATION_NAMES) == set(SAMPLE_NAMES)
    assert len(VALIDATION_NAMES) == 4
    val1 = load_sample_images("validation", size=64)
    val2 = load_sample_images("validation", size=64)
    assert [im.name for im in val1] == list(VALIDATION_NAMES)
    assert dataset_hash(val1) == dataset_hash(val2)
    for im in val1:
        assert im.pixels.dtype == np.uint8 and im.pixels.shape == (64, 64, 3)
    train = load_sample_images("train", size=(32, 48))
    assert [im.name for im in train] == [n for n in TRAIN_NAMES if n in {i.name for i in train}]
    assert len(train) >= len(TRAIN_NAMES) - 1  # grace_hopper needs matplotlib
    assert dataset_hash(train) != dataset_hash(val1)
    with pytest.raises(ValueError, match="split"):
        load_sample_images("test")


def test_native_validation_images(validation: list[NamedImage]) -> None:
    shapes = {im.name: im.pixels.shape for im in validation}
    assert shapes["camera"] == (512, 512, 3) and shapes["chelsea"] == (300, 451, 3)


def test_load_image_folder(tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(tmp_path / "b.png")
    Image.fromarray(rng.integers(0, 255, (24, 24), dtype=np.uint8)).save(tmp_path / "a.JPG")
    (tmp_path / "notes.txt").write_text("x")
    images = load_image_folder(tmp_path)
    assert [im.name for im in images] == ["a.JPG", "b.png"]
    assert images[0].pixels.shape == (24, 24, 3) and images[1].pixels.shape == (20, 30, 3)
    assert load_image_folder(tmp_path, size=16)[1].pixels.shape == (16, 16, 3)
    with pytest.raises(NotADirectoryError):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no image files"):
        load_image_folder(tmp_path / "empty")


def test_load_model_table_helpers(table: dict, tmp_path: Path) -> None:
    data = hp.load_model_table()  # shipped name, verifies every sha256
    assert [m["name"] for m in data["models"]] == [m["name"] for m in table["models"]]
    first = table["models"][0]["name"]
    assert hp.count_parameters(hp.load_table_model(data, first)) == table["models"][0][
        "parameters"
    ]
    with pytest.raises(KeyError, match="no model"):
        hp.load_table_model(data, "hp-l9")
    # a tampered weights file is rejected
    bad = dict(table, models=[dict(table["models"][0], sha256="sha256:" + "1" * 64)])
    (tmp_path / "t.json").write_text(json.dumps(bad))
    (tmp_path / table["models"][0]["weights"]).write_bytes(
        (MODELS_DIR / table["models"][0]["weights"]).read_bytes()
    )
    with pytest.raises(ValueError, match="sha256 mismatch"):
        hp.load_model_table(tmp_path / "t.json")
    mixed = dict(table, models=[table["models"][0], dict(table["models"][1], M=1)])
    (tmp_path / "m.json").write_text(json.dumps(mixed))
    with pytest.raises(ValueError, match="latent shape"):
        hp.load_model_table(tmp_path / "m.json", verify=False)
