"""GVIF tables (kind ``gvif``) and the ``gvif`` allocators on a synthetic table."""

import json
import math

import numpy as np
import pytest

import semopt
from semopt import tables
from semopt.allocators.gvif import (
    METHODS,
    ExactAllocator,
    NoFilteringAllocator,
    PerImageAllocator,
    ZoSgdAllocator,
    parse_distortion_target,
)
from semopt.cli import main as cli_main
from semopt.metrics import run_length_bits
from semopt.tables.base import TableFormatError
from semopt.tables.gvif import GvifTable
from semopt.testing.gvif import REFERENCE_PROBLEMS, brute_force_shared_alpha, synthetic_table


@pytest.fixture(scope="module")
def table():
    return synthetic_table()


@pytest.fixture(scope="module")
def saved(table, tmp_path_factory):
    path = tmp_path_factory.mktemp("gvif") / "syn.json"
    tables.save(table, path)
    return path


# ---------------------------------------------------------------------------- table
def test_round_trip_and_hash(table, saved):
    loaded = tables.load(saved)
    assert isinstance(loaded, GvifTable) and loaded.kind == "gvif"
    np.testing.assert_allclose(loaded.curves["gvif"], table.curves["gvif"], rtol=1e-7)
    np.testing.assert_allclose(loaded.curves["rate_bits"], table.curves["rate_bits"], rtol=1e-7)
    assert loaded.reference_model == "syn-0" and loaded.has_per_image
    assert semopt.registry.problem_for_table_kind("gvif") == "gvif"


def test_tampered_or_inconsistent_tables_are_rejected(saved, tmp_path, table):
    doc = json.loads(saved.read_text())
    doc["data"]["curves"]["gvif"][1][0] += 0.001
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    (tmp_path / saved.with_suffix(".npz").name).write_bytes(saved.with_suffix(".npz").read_bytes())
    with pytest.raises(TableFormatError, match="hash"):
        tables.load(bad)
    with pytest.raises(TableFormatError, match="differs from the mean"):
        tables.load(bad, verify_hash=False)
    with pytest.raises(TableFormatError, match="least-distortion"):
        GvifTable(table.models, table.alpha_grid, table.curves, reference_model="syn-2")
    with pytest.raises(TableFormatError, match="non-increasing"):
        curves = dict(table.curves)
        curves["gvif"] = curves["gvif"][:, ::-1]
        GvifTable(table.models, table.alpha_grid, curves, reference_model="syn-0")
    arrays = dict(table.per_image)
    arrays["y_bits"] = arrays["y_bits"][:, :, :4]
    with pytest.raises(TableFormatError, match="y_bits"):
        GvifTable(table.models, table.alpha_grid, table.curves, reference_model="syn-0", per_image=arrays)


def test_grid_curves_equal_per_image_evaluation_and_eq27(table):
    for p in range(len(table.models)):
        for k in (0, 7, 20, 40):
            a = table.alpha_grid[k]
            v, b = table.expected(p, a)
            assert v == pytest.approx(table.curves["gvif"][p, k], rel=1e-9)
            assert b == pytest.approx(table.curves["rate_bits"][p, k], rel=1e-9)
    # One image by hand: V = Σ_{I ≥ α} w / Σ w_ref, B = Σ_{I ≥ α} y + z + RLE(mask).
    arr = table.per_image
    mask = arr["importance"][3] >= 0.37
    v, b = table.per_image_values(2, 0.37, images=[3])
    assert v[0] == pytest.approx(arr["info_bits"][2, 3][mask].sum() / arr["info_bits"][0, 3].sum(), rel=1e-6)
    expect_b = arr["y_bits"][2, 3][mask].sum() + arr["z_bits"][2, 3] + run_length_bits(mask)
    assert b[0] == pytest.approx(expect_b, rel=1e-6)


def test_breakpoints_cover_every_achievable_value(table):
    bp = table.breakpoints(1)
    assert bp.alpha[0] == 0.0 and bp.alpha[-1] == pytest.approx(table.alpha_max)
    assert np.all(np.diff(bp.gvif) <= 1e-12)
    for a in np.linspace(0, table.alpha_max, 97):
        k = np.searchsorted(bp.alpha, a, side="left")   # a lies in (alpha[k-1], alpha[k]]
        v, b = table.expected(1, a)
        assert v == pytest.approx(bp.gvif[k], rel=1e-12) and b == pytest.approx(bp.rate_bits[k], rel=1e-12)


# ---------------------------------------------------------------------------- allocators
@pytest.mark.parametrize("label,snr,budget,target", REFERENCE_PROBLEMS)
@pytest.mark.parametrize("method", sorted(METHODS))
def test_conformance_on_reference_problems(table, method, label, snr, budget, target):
    res = METHODS[method](table=table).allocate(snr, budget, target)
    d0 = parse_distortion_target(target)
    truth, model, _ = brute_force_shared_alpha(table, snr, budget, d0, n_alpha=401)
    d = res.to_dict()
    for key in ("success", "status", "alpha", "model", "gvif", "rate_bits", "latency_s", "message"):
        assert key in d
    assert math.isnan(d["power_w"][0] if d["power_w"][0] is not None else math.nan)
    if label.startswith("infeasible"):
        assert not res.success and res.status == "infeasible"
        assert ("least expected latency" in res.message) or ("no model meets" in res.message)
        return
    if method == "no-filtering":
        if res.success:
            assert res.extras["alpha"] == 0.0
        return
    assert res.success, res.message
    assert res.latency_s <= budget * (1 + 1e-12)                      # latency constraint (31a)
    assert table.models[table.model_index(res.extras["model"])].distortion_mse <= d0
    v, b = table.expected(res.extras["model"], res.extras["alpha"]) if method != "per-image" else (None, None)
    if v is not None:
        assert res.objective == pytest.approx(v) and res.extras["rate_bits"] == pytest.approx(b)
    if method == "exact":
        assert res.objective >= truth - 1e-12                          # ≥ the dense-grid ground truth
        assert res.extras["model"] == model or res.objective == pytest.approx(truth)


def test_method_ordering_over_snr(table):
    snrs = np.arange(-6.0, 22.0, 2.0)
    budget = 0.0004
    ex = ExactAllocator(table=table).allocate(snrs, budget, None)
    zo = ZoSgdAllocator(table=table).allocate(snrs, budget, None)
    pi = PerImageAllocator(table=table).allocate(snrs, budget, None)
    nf = NoFilteringAllocator(table=table).allocate(snrs, budget, None)
    ok = ex.success
    assert np.array_equal(ok, zo.success) and np.array_equal(ok, pi.success)
    assert np.all(ex.objective[ok] >= zo.objective[ok] - 1e-12)
    assert np.all(pi.objective[ok] >= ex.objective[ok] - 1e-12)
    assert np.all(pi.objective[ok].max() > ex.objective[ok].max() - 1e-12)
    assert np.any(pi.objective[ok] > ex.objective[ok] + 1e-3)        # per-image strictly helps somewhere
    nf_ok = nf.success
    assert np.all(ex.objective[nf_ok] >= nf.objective[nf_ok] - 1e-12)
    assert np.all(ex.latency_s[ok] <= budget * (1 + 1e-12))
    assert np.all(pi.latency_s[ok] <= budget * (1 + 1e-12))


def test_binding_constraint_uses_the_budget_within_one_grid_step(table):
    alloc = ExactAllocator(table=table)
    step = table.alpha_grid[1] - table.alpha_grid[0]
    for snr in (0.0, 4.0, 8.0):
        res = alloc.allocate(snr, 0.0004, None)
        m, a = res.extras["model"], res.extras["alpha"]
        assert 0 < a < table.alpha_max                                  # the constraint binds
        _, b_step = table.expected(m, max(0.0, a - step))
        assert res.extras["rate_bits"] <= res.extras["cap_bits"] < b_step


def test_batch_vectorized_equals_scalar_calls_and_determinism(table):
    snrs = [-2.0, 5.0, 12.0]
    for cls in (ExactAllocator, ZoSgdAllocator, PerImageAllocator):
        batch = cls(table=table).allocate(snrs, "0.4 ms", "26dB")
        for k, s in enumerate(snrs):
            single = cls(table=table).allocate(s, "0.4 ms", "26dB")
            assert single.objective == pytest.approx(batch.objective[k])
            assert single.extras["model"] == batch.extras["model"][k]
    assert ZoSgdAllocator(table=table, seed=3).allocate(4.0, 4e-4, None).extras["alpha"] == \
        ZoSgdAllocator(table=table, seed=3).allocate(4.0, 4e-4, None).extras["alpha"]


def test_per_image_result_fields(table):
    res = PerImageAllocator(table=table).allocate(4.0, 4e-4, None)
    a = res.extras["alpha_per_image"]
    assert a.shape == (table.n_images,) and np.all((a >= 0) & (a <= table.alpha_max))
    assert res.extras["alpha_summary"]["mean"] == pytest.approx(res.extras["alpha"])
    v = np.mean([table.per_image_values(res.extras["model"], ai, images=[i])[0][0] for i, ai in enumerate(a)])
    assert v == pytest.approx(res.objective, rel=1e-9)


@pytest.mark.parametrize("args,match", [
    ((float("nan"), 0.01, None), "snr"), ((5.0, -1.0, None), "budget"), ((5.0, 0.01, -3.0), "target"),
    ((5.0, 0.01, "30 dBm"), "target"), ((5.0, "3 parsecs", None), "budget"),
])
def test_bad_input_raises_value_error_naming_the_argument(table, args, match):
    with pytest.raises(ValueError, match=match):
        ExactAllocator(table=table).allocate(*args)


def test_wrong_table_kind_and_unknown_method(table):
    with pytest.raises(ValueError, match="gvif"):
        ExactAllocator(table="xu2025-kodak-clip")
    with pytest.raises(ValueError, match="valid methods"):
        semopt.allocate(5, 0.01, None, problem="gvif", method="nope", table=table)
    with pytest.raises(ValueError, match="models"):
        ExactAllocator(table=table, models=["syn-9"])
    assert parse_distortion_target("30dB") == pytest.approx(255**2 / 1000)


def test_allocate_entry_point_and_cli(table, saved, capsys):
    res = semopt.allocate(6.0, 4e-4, None, problem="gvif", table=table)
    assert res.method == "exact" and res.success
    code = cli_main(["allocate", "--problem", "gvif", "--snr", "6", "--budget", "0.4ms", "--target", "26dB",
                     "--method", "per-image", "--table", str(saved), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("success", "status", "alpha", "model", "gvif", "rate_bits", "latency_s", "message"):
        assert key in out
    assert out["success"] is True and out["method"] == "per-image"
    code = cli_main(["allocate", "--problem", "gvif", "--snr", "6", "--budget", "0.4ms",
                     "--method", "exact", "--seed", "1", "--table", str(saved), "--json"])
    assert code == 2
