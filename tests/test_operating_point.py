"""Operating-point tables, the ``operating-point`` problem and its two methods."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import semopt
from semopt import tables
from semopt.allocators.operating_point import BestWithinBudgetMethod, CheapestMethod
from semopt.problems.operating_point import OperatingPointProblem, OperatingPointSolution
from semopt.tables.base import TableFormatError
from semopt.tables.operating_points import OperatingPoint, OperatingPointTable
from semopt.testing import conformance_violations, reference_problems
from semopt.testing.operating_point import brute_force_select, check_selection, illustrative_table
from semopt.units import parse_bits, parse_bpp, parse_cap, parse_symbols

TABLE = illustrative_table()
METHODS = ("cheapest", "best-within-budget")
REFERENCES = reference_problems("operating-point")
_ALLOCATORS: dict = {}


def _allocator(method: str, **options):
    """One allocator per configuration (the table is parsed once)."""
    key = (method, tuple(sorted(options.items())))
    if key not in _ALLOCATORS:
        _ALLOCATORS[key] = semopt.make_allocator("operating-point", method, table=TABLE,
                                                 **options)
    return _ALLOCATORS[key]


def _violates(alloc, targets):
    for metric, thr in (targets or {}).items():
        v = alloc.extras["predicted"][metric]
        higher = TABLE.metrics[metric].higher_is_better
        if not (v >= thr if higher else v <= thr):
            return True
    return False


# -- the shared reference problems ----------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ref", REFERENCES, ids=[r.name for r in REFERENCES])
def test_reference_problems_match_brute_force(method, ref):
    alloc = semopt.allocate(ref.snr, ref.budget, ref.target, problem="operating-point",
                            method=method, **ref.options)
    assert alloc.batch_shape == np.shape(ref.snr)
    assert conformance_violations(alloc, ref) == []
    assert ref.check(alloc) == []  # also for all-infeasible results: brute force agrees
    success = np.atleast_1d(alloc.success)
    status = np.atleast_1d(alloc.status)
    index = np.atleast_1d(alloc.extras["point_index"])
    assert np.all(status[success] == "optimal")
    assert np.all((status[~success] == "infeasible") & (index[~success] == -1))
    if ref.expect_feasible is not None:
        assert np.all(success == ref.expect_feasible)
    assert np.all(np.isnan(alloc.total_power_w)) and np.all(np.isnan(alloc.power_w))


def test_reference_check_catches_a_wrong_choice():
    ref = next(r for r in REFERENCES if r.name.endswith("case0"))
    best = semopt.allocate(ref.snr, ref.budget, ref.target, problem="operating-point",
                           method="best-within-budget", **ref.options)
    cheap = semopt.allocate(ref.snr, ref.budget, ref.target, problem="operating-point",
                            **ref.options)
    assert best.extras["point"] != cheap.extras["point"]
    relabelled = dataclasses.replace(best, method="cheapest")
    assert any("brute force" in v for v in ref.check(relabelled))
    wrong = dataclasses.replace(cheap, extras={**cheap.extras, "point": "C1"})  # psnr < 20
    assert any("target >= 20" in v for v in check_selection(
        wrong, table=TABLE, snr_db=6.0, channel="awgn", caps={}, targets={"psnr": 20.0}))


@settings(max_examples=120, deadline=None)
@given(snr=st.floats(-3, 15), psnr=st.one_of(st.none(), st.floats(10, 28)),
       lpips=st.one_of(st.none(), st.floats(0.1, 0.9)),
       budget=st.one_of(st.none(), st.integers(0, 2500)),
       method=st.sampled_from(METHODS), channel=st.sampled_from(["awgn", "rayleigh"]))
def test_selection_never_violates_target_or_budget(snr, psnr, lpips, budget, method, channel):
    target = {k: v for k, v in {"psnr": psnr, "lpips": lpips}.items() if v is not None}
    alloc = _allocator(method, channel=channel).allocate(snr, budget, target or None)
    caps = {} if budget is None else {"symbols": float(budget)}
    ref = brute_force_select(TABLE, snr, channel=channel, caps=caps, targets=target,
                             mode=method, cost="symbols",
                             objective=next(iter(target)) if len(target) == 1 else "psnr")
    assert (alloc.extras["point"] or None) == ref["point"]
    if alloc.success:
        assert alloc.status == "optimal"
        assert not _violates(alloc, target)
        if budget is not None:
            assert alloc.extras["cost"]["symbols"] <= budget
    else:
        assert alloc.status == "infeasible"


# -- the two methods --------------------------------------------------------------------------
def test_cheapest_picks_least_symbols_and_best_picks_highest_quality():
    cheap = semopt.allocate(9.0, None, {"psnr": 20}, problem="operating-point", table=TABLE)
    best = semopt.allocate(9.0, 1024, {"psnr": 20}, problem="operating-point", table=TABLE,
                           method="best-within-budget")
    assert cheap.success and best.success
    assert cheap.method == "cheapest" and best.method == "best-within-budget"
    assert cheap.extras["cost"]["symbols"] <= best.extras["cost"]["symbols"] <= 1024
    assert best.extras["predicted"]["psnr"] >= cheap.extras["predicted"]["psnr"]
    assert cheap.objective == cheap.extras["cost"]["symbols"]
    assert best.objective == best.perception == best.extras["predicted"]["psnr"]
    assert cheap.extras["snr_interp_db"] == {"lower": 9.0, "upper": 9.0}
    assert cheap.iterations == 0 and cheap.evaluations == len(TABLE.points)


def test_infeasible_reports_best_achievable():
    alloc = semopt.allocate(0.0, "256 symbols", "psnr>=25", problem="operating-point",
                            table=TABLE)
    assert alloc.success is False and alloc.status == "infeasible"
    assert alloc.extras["point"] == "" and math.isnan(alloc.extras["predicted"]["psnr"])
    best = alloc.extras["best_achievable"]["psnr"]
    # the true best PSNR within 256 symbols at 0 dB, read from the table with np.interp
    truth = max(float(np.interp(0.0, p.snr_db, p.quality["awgn"]["psnr"]))
                for p in TABLE.points if p.cost["symbols"] <= 256)
    assert best == pytest.approx(truth, rel=1e-12) and best < 25
    assert f"{best:.4g}" in alloc.message
    nothing = semopt.allocate(0.0, "64 symbols", None, problem="operating-point", table=TABLE)
    assert nothing.status == "infeasible"
    assert "no point fits the budget" in nothing.message and "symbols = 128" in nothing.message


def test_batch_infeasible_message_reports_the_median_best():
    alloc = semopt.allocate([0.0, 1.0, 12.0], "256 symbols", "psnr>=17", problem="operating-point",
                            table=TABLE)
    assert list(alloc.success) == [False, False, True]
    best = np.asarray(alloc.extras["best_achievable"]["psnr"])
    assert np.isnan(best[2]) and best[0] < best[1] < 17
    assert alloc.message.startswith("1 of 3 realizations")
    assert f"2 infeasible (best achievable within the budget, median over them: psnr " \
           f"{np.median(best[:2]):.4g})" in alloc.message


def test_snr_outside_table_range_raises_unless_extrapolation_is_asked():
    with pytest.raises(ValueError, match=r"^snr: 20 is outside the table's range \[-3, 15\] dB"):
        semopt.allocate(20.0, None, {"psnr": 20}, problem="operating-point", table=TABLE)
    clamp = semopt.allocate(20.0, None, {"psnr": 20}, problem="operating-point", table=TABLE,
                            extrapolate="clamp")
    assert clamp.success and clamp.extras["extrapolated"] is True
    assert clamp.extras["snr_interp_db"] == {"lower": 15.0, "upper": 15.0}
    lin = semopt.allocate([-6.0, 3.0], None, {"psnr": 12}, problem="operating-point",
                          table=TABLE, extrapolate="linear")
    assert list(lin.extras["extrapolated"]) == [True, False]
    with pytest.raises(ValueError, match=r"^extrapolate: must be one of"):
        semopt.allocate(3.0, None, None, problem="operating-point", table=TABLE, extrapolate=True)
    with pytest.raises(ValueError, match=r"^snr: .*plausible range"):
        semopt.allocate(250.0, None, None, problem="operating-point", table=TABLE,
                        extrapolate="clamp")


def test_batched_snr_and_budget_equal_the_scalar_loop():
    snr = np.linspace(-3, 15, 37)
    budget = np.where(np.arange(37) % 2, 512.0, np.inf)
    for method in METHODS:
        sel = _allocator(method, channel="rayleigh")
        batch = sel.allocate(snr, budget, {"lpips": 0.5})
        assert batch.batch_shape == (37,)
        assert batch.evaluations == 37 * len(TABLE.points)
        for i in range(37):
            one = sel.allocate(float(snr[i]), float(budget[i]), {"lpips": 0.5})
            assert batch.extras["point"][i] == one.extras["point"], method
            assert bool(batch.success[i]) == one.success
            assert np.array_equal(batch.objective[i], one.objective, equal_nan=True)
        grid = sel.allocate(snr[:, None], np.array([256.0, 1024.0])[None, :], {"lpips": 0.5})
        assert grid.batch_shape == (37, 2) and grid.extras["point"].shape == (37, 2)


def test_issue_call_returns_batch_shaped_fields_with_one_dtype():
    alloc = semopt.allocate([7, 9], None, "psnr>=19.9", problem="operating-point",
                            dataset="lsun-churches")
    for name in ("status", "success", "objective", "perception", "latency_s"):
        assert np.shape(getattr(alloc, name)) == (2,), name
    assert alloc.status.dtype == np.dtype("<U16") and alloc.success.dtype == bool
    assert alloc.objective.dtype == np.float64 and list(alloc.status) == ["optimal"] * 2
    assert alloc.power_w.shape == (2, 1)
    one = semopt.allocate("7 dB", None, "psnr>=19.9", problem="operating-point",
                          dataset="lsun-churches")
    assert isinstance(one.status, str) and isinstance(one.success, bool)
    assert isinstance(one.objective, float)


# -- parsing ---------------------------------------------------------------------------------
def test_budget_units_and_mappings():
    sel = _allocator("cheapest")
    a = sel.allocate(6.0, "0.3 ms", {"psnr": 15})  # latency budget → ranked by latency
    assert a.extras["cost_name"] == "latency_s" and a.latency_s <= 0.3e-3
    b = sel.allocate(6.0, {"symbols": 2048, "latency_s": "1 ms"}, {"psnr": 15})
    assert b.extras["budget"] == {"symbols": 2048.0, "latency_s": 1e-3}
    same = sel.allocate(6.0, "2048 symbols, 1 ms", {"psnr": 15})
    assert same.extras["budget"] == b.extras["budget"] and same.extras["point"] == b.extras["point"]
    c = sel.allocate(6.0, "rate=0.004", None)  # a dimensionless cost: a named cap
    assert c.extras["cost_name"] == "rate" and c.extras["cost"]["rate"] <= 0.004
    assert sel.allocate(6.0, "2 ksym", None).extras["budget"] == {"symbols": 2000.0}
    with pytest.raises(ValueError, match=r"^budget: cost 'bpp' is not in table"):
        sel.allocate(6.0, "0.004 bpp", None)  # bits per pixel is not the compression rate
    with pytest.raises(ValueError, match=r"^budget: unknown unit 'furlongs'"):
        sel.allocate(6.0, "3 furlongs", None)
    with pytest.raises(ValueError, match=r"case-sensitive: did you mean 'Mbit'"):
        sel.allocate(6.0, "1 mbit", None)
    with pytest.raises(ValueError, match=r"^budget: a cap must be non-negative"):
        sel.allocate(6.0, -1, None)
    with pytest.raises(ValueError, match=r"^budget: a cap must be a number"):
        sel.allocate(6.0, float("nan"), None)
    with pytest.raises(ValueError, match=r"^budget: expected a number, got the bool"):
        sel.allocate(6.0, True, None)
    with pytest.raises(ValueError, match=r"^budget\['latency_s'\]: expected a cap in s"):
        sel.allocate(6.0, {"latency_s": "2048 symbols"}, None)
    with pytest.raises(ValueError, match=r"^budget: cost 'symbols' is capped twice"):
        sel.allocate(6.0, "512 symbols, 1024 symbols", None)
    with pytest.raises(ValueError, match=r"^budget: points .* have no 'bits' cost"):
        sel.allocate(6.0, "10 kbit", None)


def test_target_parsing_and_direction_errors():
    problem = OperatingPointProblem(table=TABLE)
    inputs = problem.parse([3.0, 6.0], None, "psnr>=20, lpips<=0.4")
    assert inputs.target_metrics == ("psnr", "lpips") and list(inputs.floors) == [True, False]
    np.testing.assert_array_equal(inputs.thresholds, [[20.0, 0.4], [20.0, 0.4]])
    for same in (["psnr>=20", "lpips<=0.4"], {"psnr": 20, "lpips": 0.4},
                 [("psnr", 20), {"lpips": 0.4}], "psnr>=20 dB, lpips<=0.4", "psnr≥20,lpips≤0.4",
                 {"psnr": "20 dB", "lpips": "0.4"}):
        again = problem.parse([3.0, 6.0], None, same)
        assert again.target_metrics == inputs.target_metrics, same
        np.testing.assert_array_equal(again.thresholds, inputs.thresholds)
    per_row = problem.parse([3.0, 6.0], None, {"psnr": [18, 20]})
    np.testing.assert_array_equal(per_row.thresholds[:, 0], [18.0, 20.0])
    sel = _allocator("cheapest")
    for bad, pattern in [("lpips>=0.2", r"^target: lpips is lower-is-better"),
                         ({"brisque": 20}, r"^target: metric 'brisque' is not in table"),
                         ("psnr>20", r"^target: 'psnr>20': use '>=' for a floor"),
                         ("psnr>=20, psnr>=22", r"^target: psnr is constrained twice"),
                         ("lpips<=0.3 dB", r"^target: lpips is in no unit"),
                         ({"lpips": "0.3 dB"}, r"^target: lpips is in no unit"),
                         ("psnr>=20 dBm", r"^target: expected a number or a value in dB"),
                         ({"psnr": float("inf")}, r"^target: the psnr threshold must be finite"),
                         ("psnr is high", r"^target: cannot parse")]:
        with pytest.raises(ValueError, match=pattern):
            sel.allocate(6.0, None, bad)
    with pytest.raises(ValueError, match=r"^snr:"):
        sel.allocate(float("nan"), None, None)
    with pytest.raises(ValueError, match=r"^snr, budget, target: batch shapes"):
        sel.allocate([3.0, 6.0, 9.0], [512, 1024], None)


def test_unknown_option_names_it_and_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"^objective: unknown option .*valid options: .*channel.*"
                                         r"objective_metric"):
        semopt.allocate(6.0, None, None, problem="operating-point", table=TABLE, objective="psnr")
    with pytest.raises(ValueError, match=r"^cost: 'energy' is not a cost"):
        semopt.allocate(6.0, None, None, problem="operating-point", table=TABLE, cost="energy")


def test_objective_metric_and_points_options():
    a = semopt.allocate(6.0, 1024, None, problem="operating-point", table=TABLE,
                        method="best-within-budget", objective_metric="lpips")
    assert a.extras["objective_metric"] == "lpips" and a.objective == a.extras["predicted"]["lpips"]
    only = semopt.allocate(6.0, None, "psnr>=14", problem="operating-point", table=TABLE,
                           points="C2, C4")
    assert only.extras["point"] == "C2"
    assert semopt.allocate(6.0, None, "psnr>=14", problem="operating-point", table=TABLE,
                           points=["C4", "C8"]).extras["point"] == "C4"


def test_default_objective_metric_is_one_every_candidate_reports():
    a = OperatingPoint(name="a", snr_db=[0, 10], cost={"symbols": 5},
                       quality={"awgn": {"psnr": [10, 20], "lpips": [None, None]}})
    b = OperatingPoint(name="b", snr_db=[0, 10], cost={"symbols": 50},
                       quality={"awgn": {"psnr": [12, 22]}})
    table = OperatingPointTable.from_points([a, b], name="partial")
    assert list(table.metrics) == ["lpips", "psnr"]  # lpips first, but b does not report it
    res = semopt.allocate(5.0, None, None, problem="operating-point", table=table,
                          method="best-within-budget")
    assert res.extras["objective_metric"] == "psnr" and res.extras["point"] == "b"
    assert res.objective == pytest.approx(17.0)
    worst = semopt.allocate(5.0, None, "lpips<=0.3", problem="operating-point", table=table)
    assert worst.status == "infeasible" and "lpips not measured" in worst.message


def test_every_flag_of_the_old_cli_is_a_declared_option_with_a_kind():
    declared = OperatingPointProblem.options
    for flag in ("channel", "dataset", "cost", "objective_metric", "extrapolate", "points"):
        assert declared[flag].kind != "object" and declared[flag].help, flag
    assert declared["extrapolate"].choices == ("no", "linear", "clamp")
    shown = semopt.show_options("operating-point", "best-within-budget")
    assert set(shown["problem"]) == set(declared) and shown["method"] == {}
    assert CheapestMethod.optimality == BestWithinBudgetMethod.optimality == "global"
    assert CheapestMethod.vectorized and BestWithinBudgetMethod.vectorized


# -- the recheck ------------------------------------------------------------------------------
class _FirstCandidate(CheapestMethod):
    """Always returns candidate 0 (C1), feasible or not."""

    name = "first-candidate"

    def solve(self, inputs):
        n = inputs.snr_db.size
        return OperatingPointSolution(np.zeros(n, dtype=int), "cost", 0, n)


class _Nothing(CheapestMethod):
    """Never returns a point."""

    name = "nothing"

    def solve(self, inputs):
        n = inputs.snr_db.size
        return OperatingPointSolution(np.full(n, -1), "cost", 0, n)


class _OutOfRange(CheapestMethod):
    """Returns an index past the candidates."""

    name = "out-of-range"

    def solve(self, inputs):
        n = inputs.snr_db.size
        return OperatingPointSolution(np.full(n, 99), "cost", 0, n)


def test_recheck_refuses_a_violating_point_and_a_missed_one():
    bad = _FirstCandidate(table=TABLE).allocate([0.0, 12.0], None, "psnr>=15")
    # C1 has PSNR ≈ 13.9 at 0 dB (fails), ≈ 15.2 at 12 dB (meets)
    assert list(bad.status) == ["numerical_error", "optimal"]
    assert list(bad.extras["point"]) == ["", "C1"] and "recheck" in bad.message
    missed = _Nothing(table=TABLE).allocate([0.0, -3.0], None, "psnr>=18")
    assert list(missed.status) == ["numerical_error", "infeasible"]
    assert not np.any(missed.success)
    wild = _OutOfRange(table=TABLE).allocate(6.0, None, None)
    assert wild.status == "numerical_error" and wild.extras["point_index"] == -1


# -- units ------------------------------------------------------------------------------------
def test_cap_parsing_is_strict():
    assert parse_cap("2048 symbols") == ("symbol", 2048.0)
    assert parse_cap("12 kbit") == ("bit", 12000.0)
    assert parse_cap("20 ms") == ("s", pytest.approx(0.02))
    assert parse_cap("0.05 bpp") == ("bpp", 0.05)
    assert parse_cap(5) == ("", 5.0) and parse_cap("inf symbols") == ("symbol", math.inf)
    assert parse_symbols("1.5 Msym") == 1.5e6 and parse_bits("2 Gbit") == 2e9
    assert parse_bpp(0.25) == 0.25
    np.testing.assert_array_equal(parse_symbols([128, np.inf]), [128, np.inf])
    for bad, pattern in [("12 mbit", "did you mean 'Mbit'"), ("3 b", "unknown unit 'b'"),
                         ("-1 symbols", "non-negative"), ("nan", "must be a number"),
                         ("1e19 symbols", "plausible range"), ("2e3 bpp", "plausible range")]:
        with pytest.raises(ValueError, match=pattern):
            parse_cap(bad)
    with pytest.raises(ValueError, match="got the bool"):
        parse_symbols(True)
    with pytest.raises(ValueError, match=r"^budget: expected a plain number"):
        parse_cap("1 ms", unit="")


# -- the published tables -----------------------------------------------------------------------
def test_published_table_needs_a_dataset_and_handles_unknown_costs():
    with pytest.raises(ValueError, match=r"^dataset: table 'guo2025-tables-iii-iv' holds several"):
        semopt.make_allocator("operating-point", channel="awgn")
    sel = semopt.make_allocator("operating-point", channel="rayleigh", dataset="lsun-churches")
    ok = sel.allocate(7.0, None, {"psnr": 19.9})
    assert ok.success and ok.extras["point"] == "sd2-adaptive-lsun-churches"
    assert ok.extras["predicted"]["psnr"] == pytest.approx(19.39 + (21.14 - 19.39) / 3)
    assert ok.extras["diffusion"]["timestep"] == 131  # 7 dB on the linear T = 1000 schedule
    assert math.isnan(ok.objective)  # the paper reports no symbol counts
    bad = sel.allocate(7.0, None, {"psnr": 20.0})
    assert bad.status == "infeasible"
    assert bad.extras["best_achievable"]["psnr"] == pytest.approx(19.39 + (21.14 - 19.39) / 3)
    with pytest.raises(ValueError, match="no 'symbols' cost"):
        sel.allocate(7.0, "2000 symbols", None)
    mimo = semopt.allocate(7.0, None, None, problem="operating-point", channel="mimo",
                           dataset="lsun-churches")
    assert mimo.success and "diffusion" not in mimo.extras  # per-sub-channel steps differ


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
    a = semopt.allocate(5.0, "600 symbols", {"psnr": 21}, problem="operating-point", table=path,
                        channel="awgn", dataset="lsun-churches", points=["my-c4"])
    assert a.success and a.extras["point"] == "my-c4"
    # lpips is not measured at 10 dB: a ceiling on it is not met there (NaN never qualifies)
    nan = semopt.allocate(10.0, None, {"lpips": 0.45}, problem="operating-point", table=path,
                          channel="awgn", dataset="lsun-churches", points="my-c4")
    assert nan.status == "infeasible"
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


def test_registry_and_allocate_entry_point():
    assert set(semopt.list_methods("operating-point")) == set(METHODS)
    alloc = semopt.allocate(6.0, "1024 symbols", {"psnr": 18}, problem="operating-point",
                            table=TABLE, channel="awgn")
    assert alloc.method == "cheapest" and alloc.problem == "operating-point" and alloc.success
    assert semopt.allocate(6.0, None, None, table=TABLE).problem == "operating-point"  # by kind


# -- the command line (the generic `semopt allocate`) ------------------------------------------
def test_cli_allocate_operating_point(capsys):
    pytest.importorskip("semopt.cli.allocate", reason="the generic CLI is not installed yet")
    from semopt.cli import main

    rc = main(["allocate", "--problem", "operating-point", "--snr", "7", "--snr", "9",
               "--target", "psnr>=19.9", "--channel", "rayleigh", "--dataset", "lsun-churches",
               "--format", "json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["success"] == [True, True]
    assert out["point"] == ["sd2-adaptive-lsun-churches"] * 2
    rc = main(["allocate", "--problem", "operating-point", "--snr", "20", "--target",
               "psnr>=19.9", "--channel", "rayleigh", "--dataset", "lsun-churches"])
    assert rc == 2 and "outside the table's range" in capsys.readouterr().err
