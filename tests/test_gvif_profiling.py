"""GVIF measurement pipeline and profiling job, with tiny random-initialised hyperprior models."""

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("compressai")

from semopt import tables
from semopt.cli import main as cli_main
from semopt.metrics import gvif
from semopt.profiling import hyperprior as hp
from semopt.profiling.gvif import image_gvif, latent_importance, measure_image
from semopt.profiling.gvif_job import GvifJob
from semopt.profiling.images import NamedImage, load_sample_images

pytestmark = pytest.mark.torch


def _model(seed, M=16):
    import torch

    torch.manual_seed(seed)
    model = hp.build_model(8, M)
    model.update(force=True)
    return model


@pytest.fixture(scope="module")
def model_table(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    entries = []
    for k, seed in enumerate((0, 1)):
        sha = hp.save_model(_model(seed), root / f"m{k}.pt", half=False)
        entries.append({"name": f"m{k}", "N": 8, "M": 16, "weights": f"m{k}.pt", "sha256": sha,
                        "lambda": 0.01 * (k + 1)})
    (root / "tiny.json").write_text(json.dumps({"models": entries}))
    return root / "tiny.json"


@pytest.fixture(scope="module")
def images():
    return load_sample_images("validation", size=128)[:2]


def test_image_gvif_is_eq27_on_the_hyperprior_scales(images):
    ref, other = _model(0), _model(1)
    x = images[0].pixels
    assert image_gvif(ref, ref, x, 0.0)["gvif"] == pytest.approx(1.0)
    r = image_gvif(ref, other, x, 0.4)
    t_r = hp.scales(ref, x)[0].double().numpy()
    t_c = hp.scales(other, x)[0].double().numpy()
    mask = latent_importance(x) >= 0.4
    assert r["gvif"] == pytest.approx(gvif(t_r, t_c, mask))
    assert 0 < r["mask_fraction"] < 1
    with pytest.raises(ValueError, match="latent shape"):
        image_gvif(ref, _model(2, M=8), x, 0.0)


def test_measure_image_rates_and_quality(images):
    model = _model(0)
    x = images[1].pixels
    imp = latent_importance(x)
    grid = [0.0, 0.3, 0.6]
    r = measure_image(model, x, imp, grid)
    assert r["info_bits"].shape == imp.shape == tuple(r["latent_shape"][1:])
    # Likelihood rate of the selected elements vs the real rANS length: same order of magnitude.
    for a, coded in zip(grid, r["coded_y_bits"]):
        lik = r["y_bits"][imp >= a].sum()
        assert coded == pytest.approx(lik, rel=0.5, abs=256)
    assert np.all(np.diff(r["coded_y_bits"]) <= 0)
    assert r["mse"] > 0 and np.isfinite(r["mask_psnr_db"]).all()
    with pytest.raises(ValueError, match="importance"):
        measure_image(model, x, imp[:-1], grid)


def test_job_is_cached_resumable_and_writes_a_table_with_provenance(model_table, images, tmp_path):
    job = GvifJob(images=images, dataset={"kind": "sample", "split": "validation"},
                  model_table=str(model_table), alpha_step=0.2, alpha_max=0.8, decode_step=0.4)
    cache = tmp_path / "cache"
    results, stats = job.run(cache, n_jobs=1, progress=False)
    assert stats.computed == 4 and stats.cache_hits == 0
    results2, stats2 = job.run(cache, n_jobs=1, progress=False)
    assert stats2.computed == 0 and stats2.cache_hits == 4 and results2 == results
    table = job.table(results, name="tiny-gvif", stats=stats)
    path = tables.save(table, tmp_path / "tiny-gvif.json")
    loaded = tables.load(path)
    prov = loaded.provenance
    assert prov["dataset"]["images"] == [img.name for img in images]
    assert [m["sha256"] for m in prov["model_table"]["models"]] == [m.weights_sha256 for m in loaded.models]
    assert prov["importance"]["method"] == loaded.importance_method == "spectral-residual"
    assert prov["gamma2"] == 0.1 and prov["alpha_grid"]["count"] == 5
    ref = loaded.model_index(loaded.reference_model)
    assert loaded.curves["gvif"][ref, 0] == pytest.approx(1.0)
    assert np.isnan(loaded.curves["mask_psnr_db"][0, 1]) and np.isfinite(loaded.curves["mask_psnr_db"][0, 2])
    # The job's grid values equal a direct measurement of one image.
    v, _ = loaded.per_image_values(1 - ref, 0.4, images=[0])
    direct = image_gvif(hp.load_model(model_table.parent / f"{loaded.reference_model}.pt"),
                        hp.load_model(model_table.parent / f"{loaded.models[1 - ref].name}.pt"),
                        images[0].pixels, 0.4)["gvif"]
    assert v[0] == pytest.approx(direct, rel=1e-5)


def test_job_refuses_mixed_sizes_and_cli_help(model_table, images):
    mixed = [images[0], NamedImage("small", images[1].pixels[:64, :64])]
    with pytest.raises(ValueError, match="one size"):
        GvifJob(images=mixed, dataset={}, model_table=str(model_table))
    assert cli_main(["profile", "--help"]) == 0
