"""Symbol-split tables: schema, content hash, monotonicity, costs, the prompt link, the job."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import perception_tables
from semopt import tables
from semopt.link import gened
from semopt.tables import TableFormatError
from semopt.tables.base import content_hash, document_to_table
from semopt.tables.symbol_split import PROMPT_STATES, SplitLevel, SymbolSplitTable
from solvers.isotonic import is_monotone_grid

SHIPPED = "symbol-split-sample"


def _synthetic(seed: int = 0, images: int = 3) -> SymbolSplitTable:
    """A small table from made-up per-image arrays (for schema tests only; not a measurement)."""
    rng = np.random.default_rng(seed)
    f_levels = [SplitLevel("off", None), SplitLevel("step-4", 4.0), SplitLevel("step-1", 1.0)]
    b_levels = [SplitLevel("off", None), SplitLevel("step-8", 8.0), SplitLevel("step-2", 2.0),
                SplitLevel("step-1", 1.0)]
    fg_bits = np.array([[0, 900, 4000], [0, 1100, 4400], [0, 800, 3600]][:images])
    bg_bits = np.array([[0, 500, 3000, 9000], [0, 700, 3400, 9800], [0, 400, 2600, 8000]][:images])
    base = 10 + 3 * np.arange(3)[:, None] + 2 * np.arange(4)[None, :]
    psnr = base[None, :, :, None] + np.array([0.0, 1.5])[None, None, None, :] \
        + rng.normal(0, 0.1, (images, 3, 4, 2))
    msssim = np.clip(psnr / 40.0, 0, 1)
    per_image = {"foreground_bits": fg_bits, "background_bits": bg_bits,
                 "side_bits": np.array([1200, 1150, 1300][:images]),
                 "prompt_bits": np.full(images, 984), "quality_psnr": psnr, "quality_ms-ssim": msssim}
    return SymbolSplitTable.from_per_image(
        per_image=per_image, foreground_levels=f_levels, background_levels=b_levels,
        metrics={"psnr": {"direction": "higher", "unit": "dB"}, "ms-ssim": {"direction": "higher"}},
        images=[f"im{k}" for k in range(images)], pixels_per_image=65536, name="synthetic",
        description="synthetic test table (illustrative numbers)",
        provenance={"source": "illustrative"})


def _document(table: SymbolSplitTable) -> tuple[dict, dict]:
    doc, arrays = table.to_document()
    doc = json.loads(json.dumps(doc))
    return doc, arrays


def _reload(doc: dict, arrays: dict) -> SymbolSplitTable:
    return document_to_table(doc, arrays, verify_hash=False)


# --------------------------------------------------------------------------- schema and hash

def test_roundtrip_file_and_content_hash(tmp_path):
    table = _synthetic()
    path = tables.save(table, tmp_path / "t.json")
    assert (tmp_path / "t.npz").is_file()
    loaded = tables.load(path)
    assert loaded.kind == "symbol-split" and loaded.shape == (3, 4, 2)
    for m in ("psnr", "ms-ssim"):
        for s in PROMPT_STATES:
            np.testing.assert_allclose(loaded.quality(m, s, fitted=False),
                                       table.quality(m, s, fitted=False), atol=1e-9)
    doc = json.loads(path.read_text())
    with np.load(tmp_path / "t.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    assert doc["content_hash"] == content_hash(doc, arrays)
    # tampering with one quality value or one array byte is detected
    bad = copy.deepcopy(doc)
    bad["data"]["quality"]["psnr"]["mean"][1][1][1] += 0.5
    path.write_text(json.dumps(bad))
    with pytest.raises(TableFormatError, match="content hash mismatch"):
        tables.load(path)
    arrays2 = dict(arrays)
    arrays2["foreground_bits"] = arrays2["foreground_bits"].copy()
    arrays2["foreground_bits"][0, 1] += 8
    assert content_hash(doc, arrays2) != doc["content_hash"]


def _mutated(path: str, value) -> dict:
    doc, _ = _document(_synthetic())
    node = doc["data"]
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


@pytest.mark.parametrize(("path", "value", "message"), [
    ("bits", KeyError, r"missing field 'bits'"),
    ("quality.psnr.mean", [[[1.0, 2.0]]], r"quality.psnr.mean: shape"),
    ("quality.psnr.stderr", [[[-1.0, 0.0]] * 4] * 3, r"quality.psnr.stderr: must be ≥ 0"),
    ("quality.psnr.mean", [[[float("nan"), 0.0]] * 4] * 3, r"quality.psnr.mean: values must be finite"),
    ("bits.foreground", [0.0, 5000.0, 4000.0], r"bits.foreground: must increase strictly"),
    ("bits.background", [10.0, 533.0, 3000.0, 8933.0], r"'not sent' level must cost 0 bits"),
    ("levels.foreground.1.step", None, r"the 'not sent' level \(step null\) must be the first"),
    ("levels.foreground.2.step", -1.0, r"step: must be finite and > 0"),
    ("levels.background.1.name", "off", r"duplicate level names"),
    ("mcs.visual.name", "qam17", r"mcs: unknown 'qam17'; valid: bpsk-1/2"),
    ("mcs.prompt.spectral_efficiency", 3.0, r"mcs.prompt.spectral_efficiency"),
    ("metrics.psnr.direction", "up", r"metrics.psnr.direction"),
    ("metrics.lpips", {"direction": "lower"}, r"quality: must hold exactly the metrics"),
    ("symbols.prompt", 400.0, r"symbols.prompt: does not equal"),
    ("prompt_states", ["delivered", "lost"], r"prompt_states: must be"),
    ("repetitions", 0, r"repetitions: must be ≥ 1"),
])
def test_schema_errors_are_clear(path, value, message):
    doc = _mutated(path, value)
    _, arrays = _synthetic().to_data()
    with pytest.raises(TableFormatError, match=message):
        _reload(doc, arrays)


def test_per_image_arrays_must_match_the_means():
    doc, arrays = _document(_synthetic())
    _reload(doc, arrays)  # consistent
    a = dict(arrays)
    a["quality_psnr"] = a["quality_psnr"] + 0.01
    with pytest.raises(TableFormatError, match=r"quality.psnr.mean: differs from the per-image arrays"):
        _reload(doc, a)
    a = dict(arrays)
    a["background_bits"] = a["background_bits"][:, ::-1].copy()
    with pytest.raises(TableFormatError, match=r"background_bits: must be ≥ 0 and non-decreasing"):
        _reload(doc, a)
    a = dict(arrays)
    del a["prompt_bits"]
    with pytest.raises(TableFormatError, match=r"per-image arrays incomplete.*prompt_bits"):
        _reload(doc, a)
    # a table without per-image arrays is valid (costs from the mean bits)
    doc_no = copy.deepcopy(doc)
    doc_no["data"]["symbols"] = None
    table = _reload(doc_no, {})
    assert table.per_image is None and table.symbols().prompt == 492.0


def test_queries_validate_arguments():
    table = _synthetic()
    with pytest.raises(ValueError, match=r"^metric: unknown 'clip'"):
        table.quality("clip")
    with pytest.raises(ValueError, match=r"^prompt: expected one of"):
        table.quality("psnr", "maybe")
    with pytest.raises(ValueError, match=r"^snr_db, probability"):
        table.expected_quality("psnr")
    with pytest.raises(ValueError, match=r"^probability"):
        table.expected_quality("psnr", probability=1.2)


# --------------------------------------------------------------------------- monotonicity, costs

def test_fit_is_monotone_and_violations_are_reported():
    table = _synthetic()
    _, arrays = _document(table)
    # plant a drop of 2 dB against the background rate at (fg 2, bg 3), prompt delivered
    a = dict(arrays)
    q = a["quality_psnr"].copy()
    q[:, 2, 3, 1] -= 2.0 + (q[:, 2, 3, 1] - q[:, 2, 2, 1])
    a["quality_psnr"] = q
    planted = SymbolSplitTable.from_per_image(
        per_image=a, foreground_levels=table.levels["foreground"],
        background_levels=table.levels["background"], metrics=table.metrics, name="planted")
    viol = planted.monotonicity_violations("psnr")
    assert viol["background/delivered"] == pytest.approx(2.0, abs=1e-9)
    assert viol["foreground/lost"] == 0.0
    for s in PROMPT_STATES:
        assert is_monotone_grid(planted.quality("psnr", s), atol=1e-9)
    raw = planted.quality("psnr", "delivered", fitted=False)
    assert not is_monotone_grid(raw)
    # the fit moves the planted value up and leaves cells away from it alone
    fit = planted.quality("psnr", "delivered")
    assert np.allclose(fit[:2, :3], raw[:2, :3]) and fit[2, 3] > raw[2, 3]


def test_lower_is_better_metrics_fit_non_increasing():
    table = _synthetic()
    _, arrays = table.to_data()
    a = dict(arrays)
    a["quality_lpips"] = 1.0 - a["quality_ms-ssim"]
    a.pop("quality_psnr")
    a.pop("quality_ms-ssim")
    t = SymbolSplitTable.from_per_image(per_image=a, foreground_levels=table.levels["foreground"],
                                        background_levels=table.levels["background"],
                                        metrics={"lpips": {"direction": "lower"}}, name="lp")
    assert not t.higher_is_better("lpips")
    assert is_monotone_grid(-t.quality("lpips", "lost"), atol=1e-12)


def test_symbols_are_bits_over_spectral_efficiency():
    table = _synthetic()
    pi = table.per_image
    for mcs in ("16qam-1/2", "64qam-5/6", "bpsk-1/2"):
        eta = gened.get_mcs(mcs).spectral_efficiency
        sym = table.symbols(mcs)
        np.testing.assert_allclose(sym.foreground, np.ceil(pi["foreground_bits"] / eta).mean(axis=0))
        np.testing.assert_allclose(sym.background, np.ceil(pi["background_bits"] / eta).mean(axis=0))
        assert sym.side == pytest.approx(np.ceil(pi["side_bits"] / eta).mean())
        # side information is charged unless both branches are off
        assert sym.visual[0, 0] == 0.0 and sym.visual[1, 0] == sym.foreground[1] + sym.side
        assert sym.visual[2, 3] == pytest.approx(sym.foreground[2] + sym.background[3] + sym.side)
    # the prompt: 984 bits = 123 bytes on LDPC 1/2 + 16-QAM
    assert table.symbols().prompt == gened.text_symbols(123) == 492


def test_expected_quality_and_points():
    table = _synthetic()
    snr = np.array([0.0, 4.9, 5.2, 6.0, 12.0])
    p = table.delivery_probability(snr)
    np.testing.assert_array_equal(p, gened.prompt_delivery_probability(snr, 123))
    eq = table.expected_quality("psnr", snr)
    assert eq.shape == (5, 3, 4)
    q_d, q_l = table.quality("psnr", "delivered"), table.quality("psnr", "lost")
    for k in range(5):
        np.testing.assert_allclose(eq[k], p[k] * q_d + (1 - p[k]) * q_l)
    np.testing.assert_allclose(eq[0], q_l, atol=1e-12)         # prompt lost at 0 dB
    np.testing.assert_allclose(eq[-1], q_d, atol=1e-12)        # delivered at 12 dB
    np.testing.assert_allclose(table.expected_quality("psnr", snr, prompt_sent=False)[2], q_l)
    pts = table.points("psnr", 5.2)
    assert pts.quality.shape == (3 * 4 * 2,)
    np.testing.assert_allclose(pts.symbols_total, pts.symbols_foreground + pts.symbols_background
                               + pts.symbols_side + pts.symbols_prompt)
    sent = pts.prompt_sent
    np.testing.assert_allclose(pts.quality[~sent], q_l[pts.foreground_level[~sent],
                                                         pts.background_level[~sent]])
    np.testing.assert_allclose(pts.quality[sent], eq[2][pts.foreground_level[sent],
                                                         pts.background_level[sent]])
    batch = table.points("psnr", snr)
    assert batch.quality.shape == (5, 24) and batch.delivery_probability.shape == (5,)


# --------------------------------------------------------------------------- the shipped table

def test_shipped_table_loads_with_provenance():
    assert SHIPPED in perception_tables.list_names()
    table = tables.load(SHIPPED)
    prov = table.provenance
    assert table.kind == "symbol-split" and prov["source"] == "measured"
    assert prov["command"].startswith("semopt profile symbol-split ")
    assert prov["dataset"]["names"] == ["camera", "chelsea", "coffee", "flower"]  # held out
    model = prov["encoder"]["model"]
    assert model["sha256"].startswith("sha256:") and model["weights"].endswith(".pt")
    assert model["sha256"] in {m["sha256"] for m in prov["model_table_models"]}
    assert "clip" in prov["metrics_not_measured"] and "lpips" in prov["metrics_not_measured"]
    assert set(table.metric_names) == {"psnr", "ms-ssim"}
    assert table.visual_mcs.name == table.prompt_mcs.name == "16qam-1/2"
    assert "/work/" not in json.dumps(prov)  # no machine paths in shipped data


def test_shipped_table_rates_and_fits_are_monotone():
    table = tables.load(SHIPPED)
    pi = table.per_image
    for branch in ("foreground", "background"):
        assert np.all(np.diff(pi[f"{branch}_bits"], axis=1) > 0)        # every image
        assert table.levels[branch][0].step is None and pi[f"{branch}_bits"][:, 0].max() == 0
    for m in table.metric_names:
        for s in PROMPT_STATES:
            assert is_monotone_grid(table.quality(m, s), atol=1e-9)
        # pooled raw means: monotone with the prompt lost; with it delivered any drop stays
        # within two standard errors (the drops sit at the 'nothing but the prompt' corner)
        viol = table.monotonicity_violations(m)
        assert viol["foreground/lost"] == 0.0 and viol["background/lost"] == 0.0
        se = float(table.stderr(m, "delivered").max())
        assert max(viol.values()) <= 2 * se


def test_shipped_table_prompt_value():
    table = tables.load(SHIPPED)
    gain = table.quality("psnr", "delivered", fitted=False) - table.quality("psnr", "lost", fitted=False)
    assert np.all(gain > 0)                        # the colour layout always helps PSNR
    assert gain[-1, 0] > 4.0 and gain[-1, -1] < 0.2  # a lot without background, little at full rate
    d = table.quality("ms-ssim", "delivered", fitted=False) - table.quality("ms-ssim", "lost", fitted=False)
    assert d[-1, 0] > 0.03
    # the prompt is 123 bytes = 492 symbols, about the paper's 426 + 16 %
    assert table.prompt_bits == 984 and table.symbols().prompt == 492


def test_every_part_costs_what_the_design_point_arithmetic_says():
    table = tables.load(SHIPPED)
    design = gened.paper_design_point()
    sym = table.symbols()
    # the full-rate point costs more than the paper's 8618-symbol budget; the budget's
    # visual part buys e.g. the foreground at step 1 with a coarse background
    assert sym.visual[-1, -1] > design.total_symbols
    affordable = sym.visual + sym.prompt <= design.total_symbols
    assert affordable.any() and not affordable.all()


def test_shipped_table_plots(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "s.png"
    tables.load(SHIPPED).plot(str(out))
    assert out.stat().st_size > 10_000


# --------------------------------------------------------------------------- the job (torch)

@pytest.fixture(scope="module")
def one_image():
    pytest.importorskip("torch")
    pytest.importorskip("compressai")
    from semopt.profiling.images import load_sample_images

    return load_sample_images("validation", size=192)[:1]


@pytest.mark.torch
def test_job_measures_a_valid_table_and_resumes_from_cache(one_image, tmp_path):
    from semopt.profiling.symbol_split_job import SymbolSplitJob

    job = SymbolSplitJob(stack_options={"fg_steps": "4,1", "bg_steps": "8,1", "threads": 1},
                         images=one_image, dataset={"kind": "sample", "split": "validation"})
    assert len(job.units()) == 3 * 3
    results, stats = job.run(tmp_path / "cache", progress=False)
    assert stats.computed == 9 and stats.cache_hits == 0
    table = job.table(results, name="tiny")
    assert table.shape == (3, 3, 2) and table.images == [one_image[0].name]
    path = tables.save(table, tmp_path / "tiny.json")
    again = tables.load(path)
    # bits are real rANS strings, increasing with the rate; side bits = ẑ + 12x12 mask + header
    assert np.all(np.diff(again.bits["foreground"]) > 0) and again.side_bits > 144 + 8
    assert again.prompt_bits == 8 * (11 + 7 * 16)
    # off/off without the prompt: what g_s makes of an all-zero latent; full rate is far better
    q = again.quality("psnr", "lost", fitted=False)
    assert q[-1, -1] > q[0, 0] + 10
    # a rerun computes nothing and rebuilds the same data
    results2, stats2 = job.run(tmp_path / "cache", progress=False)
    assert stats2.cache_hits == 9 and stats2.computed == 0
    d1, a1 = table.to_data()
    d2, a2 = job.table(results2, name="tiny").to_data()
    assert d1 == d2 and all(np.array_equal(a1[k], a2[k]) for k in a1)


@pytest.mark.torch
def test_job_editor_none_and_refusals(one_image, tmp_path):
    from semopt.profiling.stages import WeightsNotFoundError
    from semopt.profiling.symbol_split_job import SymbolSplitJob

    job = SymbolSplitJob(stack_options={"fg_steps": "2", "bg_steps": "2", "editor": "none",
                                        "metrics": ["psnr"]},
                         images=one_image, dataset={"kind": "sample"})
    results, _ = job.run(tmp_path / "c", progress=False)
    table = job.table(results, name="none")
    np.testing.assert_array_equal(table.quality("psnr", "delivered", fitted=False),
                                  table.quality("psnr", "lost", fitted=False))
    with pytest.raises(ValueError, match=r"^reps: the pipeline is deterministic"):
        SymbolSplitJob(stack_options={}, images=one_image, dataset={}, reps=2)
    with pytest.raises(ValueError, match=r"^metric:"):
        SymbolSplitJob(stack_options={"metrics": ["fid"]}, images=one_image, dataset={})
    clip = SymbolSplitJob(stack_options={"metrics": ["clip"], "clip_weights": str(tmp_path / "no.bin")},
                          images=one_image, dataset={})
    with pytest.raises(WeightsNotFoundError, match="SEMOPT_CLIP_WEIGHTS"):
        clip.run(tmp_path / "c2", progress=False)
    assert not (tmp_path / "c2").exists()  # failed before any work


def test_colour_layout_prompt_and_edit():
    from semopt.profiling.symbol_split_job import ColourLayoutEditor

    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)
    background = np.ones((64, 48), dtype=bool)
    background[:32, :24] = False                               # one quarter is foreground
    editor = ColourLayoutEditor(grid=2)
    prompt = editor.prompt(img, background)
    assert len(prompt.encode()) == 11 + 7 * 4 and prompt.split()[3] == "------"
    colours = editor.parse(prompt)
    assert np.isnan(colours[0, 0]).all()
    np.testing.assert_allclose(colours[1, 1], np.round(img[32:, 24:].reshape(-1, 3).mean(0)))
    # no prompt: the image itself; a grey image moves towards the described colours
    grey = np.full_like(img, 128)
    assert editor.edit(grey, None, background) is grey
    edited = editor.edit(grey, prompt, background)
    assert np.array_equal(edited[~background], grey[~background])   # foreground kept
    err = lambda a: np.mean((a.astype(float) - img) ** 2, where=background[..., None])  # noqa: E731
    assert err(edited) < err(grey)
    with pytest.raises(ValueError, match="colour layout"):
        ColourLayoutEditor(grid=3).parse(prompt)
