"""Operating-point tables and the ``operating-point`` selection allocators."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import semopt.allocators.operating_point as op
from semopt import tables
from semopt.tables.base import TableFormatError
from semopt.tables.operating_points import OperatingPoint, OperatingPointTable
from semopt.testing.operating_point import (
    REFERENCE_PROBLEMS,
    brute_force_select,
    illustrative_table,
)

TABLE = illustrative_table()
METHODS = {"cheapest": op.CheapestSelector, "best-within-budget": op.BestWithinBudgetSelector}


def _caps(budget):
    return {k: float(v) for k, v in op.parse_budget(budget, "symbols").items()}


def _violates(alloc, targets):
    for metric, thr in (targets or {}).items():
        v = alloc.extras["predicted"][metric]
        higher = TABLE.metrics[metric].higher_is_better
        if not (v >= thr if higher else v <= thr):
            return True
    return False


# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("case", REFERENCE_PROBLEMS, ids=range(len(REFERENCE_PROBLEMS)))
def test_reference_problems_match_brute_force(method, case):
    alloc = METHODS[method](table=TABLE, channel=case["channel"]).allocate(
        case["snr"], case["budget"], case["target"])
    caps = _caps(case["budget"])
    cost = next(iter(caps)) if len(caps) == 1 else "symbols"
    objective = (next(iter(case["target"])) if case["target"] and len(case["target"]) == 1
                 else "psnr")
    ref = brute_force_select(TABLE, case["snr"], channel=case["channel"], caps=caps,
                             targets=case["target"] or {}, mode=method, cost=cost,
                             objective=objective)
    assert (alloc.extras["point"] or None) == ref["point"]
    assert alloc.success == (ref["point"] is not None)
    if alloc.success:
        assert alloc.status == "optimal"
        assert not _violates(alloc, case["target"])
        for key, cap in caps.items():
            assert alloc.extras["cost"][key] <= cap
    else:
        assert alloc.status == "infeasible" and alloc.extras["point_index"] == -1
    assert math.isnan(alloc.total_power_w) and np.all(np.isnan(alloc.power_w))


@settings(max_examples=120, deadline=None)
@given(snr=st.floats(-3, 15), psnr=st.one_of(st.none(), st.floats(10, 28)),
       lpips=st.one_of(st.none(), st.floats(0.1, 0.9)),
       budget=st.one_of(st.none(), st.integers(0, 2500)),
       method=st.sampled_from(sorted(METHODS)), channel=st.sampled_from(["awgn", "rayleigh"]))
def test_selection_never_violates_target_or_budget(snr, psnr, lpips, budget, method, channel):
    target = {k: v for k, v in {"psnr": psnr, "lpips": lpips}.items() if v is not None}
    alloc = METHODS[method](table=TABLE, channel=channel).allocate(snr, budget, target or None)
    caps = _caps(budget)
    ref = brute_force_select(TABLE, snr, channel=channel, caps=caps, targets=target,
                             mode=method, cost="symbols",
                             objective=next(iter(target)) if len(target) == 1 else "psnr")
    assert (alloc.extras["point"] or None) == ref["point"]
    if alloc.success:
        assert not _violates(alloc, target)
        if budget is not None:
            assert alloc.extras["cost"]["symbols"] <= budget
    else:
        assert alloc.status == "infeasible"


def test_cheapest_picks_least_symbols_and_best_picks_highest_quality():
    cheap = op.CheapestSelector(table=TABLE).allocate(9.0, None, {"psnr": 20})
    best = op.BestWithinBudgetSelector(table=TABLE).allocate(9.0, 1024, {"psnr": 20})
    assert cheap.success and best.success
    assert cheap.extras["cost"]["symbols"] <= best.extras["cost"]["symbols"] <= 1024
    assert best.extras["predicted"]["psnr"] >= cheap.extras["predicted"]["psnr"]
    assert cheap.objective == cheap.extras["cost"]["symbols"]
    assert best.perception == best.extras["predicted"]["psnr"]
    assert cheap.extras["snr_interp_db"] == {"lower": 9.0, "upper": 9.0}


def test_infeasible_reports_best_achievable():
    alloc = op.CheapestSelector(table=TABLE).allocate(0.0, "256 symbols", "psnr>=25")
    assert alloc.success is False and alloc.status == "infeasible"
    assert alloc.extras["point"] == "" and math.isnan(alloc.extras["predicted"]["psnr"])
    best = alloc.extras["best_achievable"]["psnr"]
    assert best < 25 and f"{best:.4g}" in alloc.message


def test_snr_outside_table_range_raises_unless_extrapolation_is_asked():
    with pytest.raises(ValueError, match=r"^snr: 20 is outside the table's range \[-3, 15\]"):
        op.CheapestSelector(table=TABLE).allocate(20.0, None, {"psnr": 20})
    clamp = op.CheapestSelector(table=TABLE, extrapolate="clamp").allocate(20.0, None,
                                                                           {"psnr": 20})
    assert clamp.success and clamp.extras["extrapolated"] is True
    lin = op.CheapestSelector(table=TABLE, extrapolate="linear").allocate([-6.0, 3.0], None,
                                                                          {"psnr": 12})
    assert list(lin.extras["extrapolated"]) == [True, False]


def test_batched_snr_and_budget_equal_the_scalar_loop():
    snr = np.linspace(-3, 15, 37)
    budget = np.where(np.arange(37) % 2, 512.0, np.inf)
    for method, cls in METHODS.items():
        sel = cls(table=TABLE, channel="rayleigh")
        batch = sel.allocate(snr, budget, {"lpips": 0.5})
        assert batch.batch_shape == (37,)
        for i in range(37):
            one = sel.allocate(float(snr[i]), float(budget[i]), {"lpips": 0.5})
            assert batch.extras["point"][i] == one.extras["point"], method
            assert bool(batch.success[i]) == one.success
        grid = sel.allocate(snr[:, None], np.array([256.0, 1024.0])[None, :], {"lpips": 0.5})
        assert grid.batch_shape == (37, 2)


def test_budget_units_and_mappings():
    sel = op.CheapestSelector(table=TABLE)
    a = sel.allocate(6.0, "0.3 ms", {"psnr": 15})  # latency budget → ranked by latency
    assert a.extras["cost_name"] == "latency_s" and a.latency_s <= 0.3e-3
    b = sel.allocate(6.0, {"symbols": 2048, "latency_s": "1 ms"}, {"psnr": 15})
    assert b.extras["budget"] == {"symbols": 2048.0, "latency_s": 1e-3}
    c = sel.allocate(6.0, "0.004 bpp", None)
    assert c.extras["cost"]["rate"] <= 0.004
    with pytest.raises(ValueError, match=r"^budget: unknown unit"):
        sel.allocate(6.0, "3 furlongs", None)
    with pytest.raises(ValueError, match=r"^budget: must be non-negative"):
        sel.allocate(6.0, -1, None)
    with pytest.raises(ValueError, match=r"^budget: points .* have no 'bits' cost"):
        sel.allocate(6.0, "10 kbit", None)


def test_target_parsing_and_direction_errors():
    sel = op.CheapestSelector(table=TABLE)
    assert op.parse_target("psnr>=20, lpips<=0.4", TABLE) == [("psnr", 20.0), ("lpips", 0.4)]
    with pytest.raises(ValueError, match=r"^target: lpips is lower-is-better"):
        sel.allocate(6.0, None, "lpips>=0.2")
    with pytest.raises(ValueError, match=r"^target: metric 'brisque' is not in table"):
        sel.allocate(6.0, None, {"brisque": 20})
    with pytest.raises(ValueError, match=r"^snr:"):
        sel.allocate(float("nan"), None, None)


def test_published_table_needs_a_dataset_and_handles_unknown_costs():
    with pytest.raises(ValueError, match=r"^dataset: table 'guo2025-tables-iii-iv' holds several"):
        op.CheapestSelector(channel="awgn")
    sel = op.CheapestSelector(channel="rayleigh", dataset="lsun-churches")
    ok = sel.allocate(7.0, None, {"psnr": 19.9})
    assert ok.success and ok.extras["point"] == "sd2-adaptive-lsun-churches"
    assert ok.extras["predicted"]["psnr"] == pytest.approx(19.39 + (21.14 - 19.39) / 3)
    assert ok.extras["diffusion"]["timestep"] == 131  # 7 dB on the linear T = 1000 schedule
    bad = sel.allocate(7.0, None, {"psnr": 20.0})
    assert bad.status == "infeasible"
    with pytest.raises(ValueError, match="no 'symbols' cost"):
        sel.allocate(7.0, "2000 symbols", None)


def test_user_table_with_points_round_trips_and_is_tamper_checked(tmp_path):
    published = tables.load("guo2025-tables-iii-iv")
    mine = OperatingPoint(name="my-c4", snr_db=[0, 5, 10],
                          quality={"awgn": {"psnr": [18.0, 21.0, 23.5], "lpips": [0.5, 0.4, None]}},
                          cost={"symbols": 512}, dataset="lsun-churches", channels_c=4)
    assert mine.compression_rate == pytest.approx(0.0052)
    merged = published.with_points(mine, name="my-merged")
    assert merged.provenance["source"] == "measured"
    assert merged.provenance["derived_from"]["source"] == "published"
    path = tables.save(merged, tmp_path / "my-merged.json")
    again = tables.load(path)
    assert isinstance(again, OperatingPointTable) and again.names[-1] == "my-c4"
    assert np.isnan(again.point("my-c4").quality["awgn"]["lpips"][2])
    sel = op.CheapestSelector(table=path, channel="awgn", dataset="lsun-churches",
                              points=["my-c4"])
    assert sel.allocate(5.0, "600 symbols", {"psnr": 21}).extras["point"] == "my-c4"
    text = path.read_text().replace("23.5", "25.5")
    path.write_text(text)
    with pytest.raises(TableFormatError, match="content hash mismatch"):
        tables.load(path)


def test_malformed_points_are_rejected_with_the_field_path():
    with pytest.raises(TableFormatError, match="snr_db: must be finite and strictly increasing"):
        OperatingPoint(name="x", snr_db=[0, 0], quality={"awgn": {"psnr": [1, 2]}})
    with pytest.raises(TableFormatError, match=r"quality.awgn.psnr: has 1 values for 2"):
        OperatingPoint(name="x", snr_db=[0, 1], quality={"awgn": {"psnr": [1]}})
    p = OperatingPoint(name="x", snr_db=[0, 1], quality={"awgn": {"sharpness": [1, 2]}})
    with pytest.raises(TableFormatError, match="declare the direction"):
        OperatingPointTable.from_points([p], name="t")


def test_cli_allocate_operating_point(capsys):
    from semopt.cli import main

    rc = main(["allocate", "--problem", "operating-point", "--snr", "7", "--target",
               "psnr>=19.9", "--channel", "rayleigh", "--dataset", "lsun-churches", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["success"] is True and out["point"] == "sd2-adaptive-lsun-churches"
    rc = main(["allocate", "--problem", "operating-point", "--snr", "20", "--target",
               "psnr>=19.9", "--channel", "rayleigh", "--dataset", "lsun-churches"])
    assert rc == 2 and "outside the table's range" in capsys.readouterr().err


def test_registry_and_allocate_entry_point():
    import semopt

    assert set(semopt.list_methods("operating-point")) >= {"cheapest", "best-within-budget"}
    alloc = semopt.allocate(6.0, "1024 symbols", {"psnr": 18}, problem="operating-point",
                            table=TABLE, channel="awgn")
    assert alloc.method == "cheapest" and alloc.success
