"""The ``symbol-split`` problem (GenED-SC) and its methods: exhaustive, pareto, equal-split."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import semopt
from semopt import tables
from semopt.allocators.symbol_split.pareto import concave_hull, pareto_front
from semopt.cli import main as cli_main
from semopt.link.gened import paper_design_point
from semopt.problems.symbol_split import SymbolSplitProblem, SymbolSplitSolution
from semopt.testing.symbol_split import (
    brute_force,
    check_split,
    equal_split_reference,
    illustrative_table,
)

TABLE = tables.load("symbol-split-sample")
ILLUSTRATIVE = illustrative_table()
_ALLOCATORS: dict = {}


def _allocator(method: str, table=TABLE, **options):
    key = (method, table.name, tuple(sorted(options.items())))
    if key not in _ALLOCATORS:
        _ALLOCATORS[key] = semopt.make_allocator("symbol-split", method, table=table, **options)
    return _ALLOCATORS[key]


def _cli(capsys, argv):
    code = cli_main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


# -- what the issue asks to show --------------------------------------------------------------
@pytest.mark.parametrize("method", ["exhaustive", "pareto"])
def test_cli_meets_a_feasible_target_within_the_paper_budget(capsys, method):
    code, out, err = _cli(capsys, ["allocate", "--problem", "symbol-split", "--method", method,
                                   "--snr", "7", "--budget", "8618 symbols", "--target", "25",
                                   "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert data["success"] is True and data["status"] == "optimal"
    parts = data["symbols"]
    used = parts["prompt"] + parts["foreground"] + parts["background"] + parts["side"]
    assert used == pytest.approx(data["total_symbols"]) and used <= 8618
    assert data["objective"] == pytest.approx(used)          # fewest symbols: objective = symbols
    assert data["perception"] >= 25.0 and data["quality"]["expected"] == data["perception"]
    # the optimum is the brute force's
    ref = brute_force(TABLE, 7.0, 8618.0, 25.0, metric="psnr")
    assert used == pytest.approx(ref["symbols"])


def test_cli_batch_shows_the_summary_columns(capsys):
    code, out, err = _cli(capsys, ["allocate", "--problem", "symbol-split", "--snr", "1",
                                   "--snr", "7", "--budget", "8618 symbols", "--format", "csv"])
    assert code == 0, err
    header = out.splitlines()[0].split(",")
    for column in SymbolSplitProblem.summary_extras:
        assert column in header
    assert len(out.strip().splitlines()) == 3


def test_the_paper_budget_is_computed_by_paper_design_point():
    from benchmarks.gened_split import design_budget

    design = paper_design_point()
    assert design_budget() == design.total_symbols == design.visual_symbols + design.text_symbols
    res = semopt.allocate(7, f"{design.total_symbols:g} symbols", None, problem="symbol-split")
    assert res.extras["budget_symbols"] == 8618.0 and res.success


@settings(max_examples=60, deadline=None, derandomize=True)
@given(snr=st.floats(-5.0, 15.0), b1=st.floats(0.0, 35_000.0), extra=st.floats(0.0, 20_000.0),
       metric=st.sampled_from(["psnr", "ms-ssim"]),
       method=st.sampled_from(["exhaustive", "pareto"]),
       prompt=st.sampled_from(["optional", "always", "never"]))
def test_a_larger_budget_never_gives_a_worse_best_quality(snr, b1, extra, metric, method, prompt):
    alloc = _allocator(method, metric=metric, prompt=prompt)
    res = alloc.allocate([snr, snr], [b1, b1 + extra], None)
    ok = np.asarray(res.success)
    if ok[0]:
        assert ok[1]
        assert res.perception[1] >= res.perception[0]
        assert res.extras["total_symbols"][1] <= b1 + extra


@settings(max_examples=40, deadline=None, derandomize=True)
@given(snr=st.floats(-5.0, 15.0), t1=st.floats(11.0, 30.0), less=st.floats(0.0, 10.0),
       method=st.sampled_from(["exhaustive", "pareto"]))
def test_a_looser_target_never_needs_more_symbols(snr, t1, less, method):
    res = _allocator(method).allocate([snr, snr], None, [t1, t1 - less])
    ok = np.asarray(res.success)
    if ok[0]:
        assert ok[1] and res.objective[1] <= res.objective[0]


def _benchmark_grid():
    from benchmarks.gened_split import SNRS_DB, budget_grid

    budgets = budget_grid(TABLE)
    return np.repeat(SNRS_DB, budgets.size), np.tile(budgets, len(SNRS_DB))


@pytest.mark.parametrize("metric", ["psnr", "ms-ssim"])
def test_pareto_matches_exhaustive_at_every_snr_and_budget_of_the_benchmark(metric):
    snr, budgets = _benchmark_grid()
    ex = _allocator("exhaustive", metric=metric).allocate(snr, budgets, None)
    pa = _allocator("pareto", metric=metric).allocate(snr, budgets, None)
    assert np.all(ex.success) and np.array_equal(ex.success, pa.success)
    np.testing.assert_array_equal(ex.objective, pa.objective)
    for key in ("foreground_index", "background_index", "prompt_sent", "total_symbols"):
        np.testing.assert_array_equal(ex.extras[key], pa.extras[key])
    # and in fewest-symbols mode, with the benchmark budgets as caps and targets across the range
    q = np.asarray(ex.perception)
    targets = np.random.default_rng(1).uniform(q.min(), q.max() * 1.02, snr.size)
    ex = _allocator("exhaustive", metric=metric).allocate(snr, budgets, targets)
    pa = _allocator("pareto", metric=metric).allocate(snr, budgets, targets)
    assert 0 < np.count_nonzero(ex.success) < snr.size
    np.testing.assert_array_equal(ex.success, pa.success)
    np.testing.assert_array_equal(ex.objective, pa.objective)
    np.testing.assert_array_equal(ex.extras["foreground_index"], pa.extras["foreground_index"])


@pytest.mark.parametrize("metric", ["psnr", "lpips"])
@pytest.mark.parametrize("prompt", ["optional", "always"])
def test_pareto_matches_exhaustive_on_the_illustrative_table(metric, prompt):
    rng = np.random.default_rng(3)
    snr = np.round(rng.uniform(-2, 12, 400), 1)
    budgets = np.round(rng.uniform(0, 5500, 400))
    for target in (None, rng.uniform(0.3, 0.8, 400) if metric == "lpips" else rng.uniform(12, 27, 400)):
        ex = _allocator("exhaustive", ILLUSTRATIVE, metric=metric, prompt=prompt).allocate(
            snr, budgets, target)
        pa = _allocator("pareto", ILLUSTRATIVE, metric=metric, prompt=prompt).allocate(
            snr, budgets, target)
        np.testing.assert_array_equal(ex.success, pa.success)
        np.testing.assert_array_equal(ex.objective, pa.objective)
        assert check_split(pa, table=ILLUSTRATIVE, snr_db=snr, budget=budgets, target=target,
                           metric=metric, prompt=prompt) == []


def test_reference_brute_force_agrees_with_exhaustive_on_random_instances():
    rng = np.random.default_rng(5)
    for _ in range(60):
        snr, budget = float(np.round(rng.uniform(-2, 12), 1)), float(np.round(rng.uniform(0, 33_000)))
        target = None if rng.random() < 0.5 else float(rng.uniform(12, 30))
        ref = brute_force(TABLE, snr, budget, target, metric="psnr")
        res = semopt.allocate(snr, budget, target, problem="symbol-split")
        assert res.success == (ref["symbols"] is not None)
        if res.success:
            assert res.objective == pytest.approx(ref["symbols"] if target is not None
                                                  else ref["quality"], rel=1e-12)


# -- pareto: the hull and the multiplier ---------------------------------------------------
def _hull_by_definition(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Vertices of the upper concave hull of points sorted by x, from the definition."""
    out = []
    for k in range(x.size):
        left = [(y[k] - y[i]) / (x[k] - x[i]) for i in range(k)]
        right = [(y[j] - y[k]) / (x[j] - x[k]) for j in range(k + 1, x.size)]
        if not left or not right or min(left) > max(right) + 1e-12:
            out.append(k)
    return out


@pytest.mark.parametrize("snr_db", [1.0, 4.8, 7.0])
def test_concave_hull_is_the_hull_of_the_front(snr_db):
    problem = SymbolSplitProblem()
    score = problem.candidate_quality("psnr", np.array([snr_db]))
    front = pareto_front(score, problem.costs)
    hull, n = concave_hull(front)
    on = np.flatnonzero(front.on_front[0])
    x, y = front.costs[on], front.best[0, on]
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) > 0)      # the front: sorted, monotone
    expected = on[_hull_by_definition(x, y)]
    np.testing.assert_array_equal(hull[0, :n[0]], expected)
    assert n[0] < on.size                                         # the front is not concave


def test_multiplier_point_is_a_lagrangian_maximizer_and_the_bound_holds():
    snr, budgets = _benchmark_grid()
    res = _allocator("pareto").allocate(snr, budgets, None)
    q = np.asarray(res.perception)
    assert np.all(np.asarray(res.extras["lagrangian_bound"]) >= q - 1e-9)      # dual bound
    on = np.asarray(res.extras["on_hull"])
    np.testing.assert_array_equal(np.asarray(res.extras["hull_quality"])[on], q[on])
    assert np.all(np.asarray(res.extras["hull_quality"]) <= q + 1e-12)
    assert np.any(~on)            # the multiplier alone would be wrong for some budgets
    problem = SymbolSplitProblem()
    lam = np.asarray(res.extras["multiplier"])
    values = problem.candidate_quality("psnr", snr) - lam[:, None] * problem.costs[None, :]
    hull_value = np.asarray(res.extras["hull_quality"]) - lam * np.asarray(res.extras["hull_symbols"])
    np.testing.assert_allclose(values.max(axis=1), hull_value, rtol=0, atol=1e-9)


def test_fewest_symbols_bound_is_a_lower_bound():
    rng = np.random.default_rng(2)
    snr = rng.choice([1.0, 4.0, 7.0, 10.0], 300)
    targets = rng.uniform(12, 29.5, 300)
    res = _allocator("pareto").allocate(snr, None, targets)
    ok = np.asarray(res.success)
    assert np.all(np.asarray(res.extras["lagrangian_bound"])[ok] <= np.asarray(res.objective)[ok]
                  + 1e-9)
    assert np.all(np.asarray(res.extras["hull_symbols"])[ok] >= np.asarray(res.objective)[ok])


# -- equal-split -------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", ["first", "best"])
def test_equal_split_follows_its_rule_and_never_beats_the_optimum(rule):
    rng = np.random.default_rng(4)
    snr = rng.choice([1.0, 4.0, 5.0, 7.0], 200)
    budgets = np.round(rng.uniform(0, 33_000, 200))
    eq = _allocator("equal-split", prompt_rule=rule).allocate(snr, budgets, None)
    opt = _allocator("exhaustive").allocate(snr, budgets, None)
    assert np.all(eq.success)
    assert np.all(np.asarray(opt.perception) >= np.asarray(eq.perception))
    assert check_split(eq, table=TABLE, snr_db=snr, budget=budgets, target=None, metric="psnr",
                       prompt_rule=rule) == []
    sym = TABLE.symbols()
    for r in range(snr.size):
        sent = bool(eq.extras["prompt_sent"][r])
        if rule == "first":
            assert sent == (budgets[r] >= sym.prompt)
        half = (budgets[r] - sym.prompt * sent - sym.side) / 2
        i, j = int(eq.extras["foreground_index"][r]), int(eq.extras["background_index"][r])
        if half >= 0:                             # the highest level of each branch within half
            assert sym.foreground[i] <= half and (i + 1 == sym.foreground.size
                                                  or sym.foreground[i + 1] > half)
            assert sym.background[j] <= half and (j + 1 == sym.background.size
                                                  or sym.background[j + 1] > half)
        else:
            assert i == j == 0


def test_equal_split_with_a_target_is_the_least_budget_of_its_rule():
    targets = np.linspace(12, 29, 30)
    res = _allocator("equal-split").allocate(np.full(30, 7.0), None, targets)
    for r, tau in enumerate(targets):
        ref = equal_split_reference(TABLE, 7.0, math.inf, float(tau), metric="psnr")
        assert bool(res.success[r]) == (ref["symbols"] is not None)
        if res.success[r]:
            assert res.objective[r] == pytest.approx(ref["symbols"])
    opt = _allocator("exhaustive").allocate(np.full(30, 7.0), None, targets)
    ok = np.asarray(res.success)
    assert np.all(np.asarray(opt.objective)[ok] <= np.asarray(res.objective)[ok])
    # a baseline that misses a target the problem can meet is infeasible, not a numerical error
    miss = semopt.allocate(7, "8618 symbols", 25.0, problem="symbol-split", method="equal-split")
    assert miss.status == "infeasible" and "the optimum meets it with 7880 symbols" in miss.message


# -- the recheck ---------------------------------------------------------------------------------
def _assemble(problem, inputs, fg, bg, sent, exact=True):
    sol = SymbolSplitSolution(np.asarray(fg), np.asarray(bg), np.asarray(sent), 0, 0, exact)
    return problem.assemble(inputs, sol, method="test", wall_time_s=0.0)


def test_the_recheck_refuses_inconsistent_points():
    problem = SymbolSplitProblem()
    inputs = problem.parse([7.0, 7.0], "3000 symbols", None)
    top = problem.n_foreground - 1
    over = _assemble(problem, inputs, [top, 1], [top, 1], [True, False])     # over the budget
    assert list(over.status) == ["numerical_error", "optimal"]
    assert np.isnan(over.objective[0]) and over.extras["foreground_level"][0] == ""
    bad = _assemble(problem, inputs, [99, -2], [0, 0], [False, False])      # invalid levels
    assert list(bad.status) == ["numerical_error", "numerical_error"]
    floats = _assemble(problem, inputs, [1.0, 1.0], [1.0, 1.0], [False, False])
    assert list(floats.status) == ["numerical_error", "numerical_error"]
    target = problem.parse([7.0], None, 25.0)
    low = _assemble(problem, target, [1], [1], [True])                         # misses τ
    assert low.status[0] == "numerical_error"
    none = _assemble(problem, target, [-1], [-1], [False])                   # missed a point
    assert none.status[0] == "numerical_error"
    baseline = _assemble(problem, target, [-1], [-1], [False], exact=False)
    assert baseline.status[0] == "infeasible" and "25.17 dB" not in baseline.message
    always = SymbolSplitProblem(prompt="always")
    policy = _assemble(always, always.parse([7.0], None, None), [2], [2], [False])
    assert policy.status[0] == "numerical_error"


def test_infeasible_rows_report_the_best_achievable():
    res = semopt.allocate([7.0, 7.0], [3000, 8618], 28.0, problem="symbol-split")
    assert list(res.status) == ["infeasible", "infeasible"] and not np.any(res.success)
    best = [brute_force(TABLE, 7.0, b, None, metric="psnr")["quality"] for b in (3000.0, 8618.0)]
    np.testing.assert_allclose(res.extras["best_achievable"], best, rtol=1e-12)
    need = brute_force(TABLE, 7.0, math.inf, 28.0, metric="psnr")["symbols"]
    np.testing.assert_allclose(res.extras["symbols_needed"], [need, need])
    single = semopt.allocate(7.0, 3000, 28.0, problem="symbol-split")
    assert f"{best[0]:.4g} dB" in single.message and f"{need:.6g} symbols" in single.message
    nothing = semopt.allocate(7.0, 300, None, problem="symbol-split", prompt="always")
    assert nothing.status == "infeasible" and "the cheapest costs 492 symbols" in nothing.message


# -- result fields ------------------------------------------------------------------------------
def test_extras_are_the_table_numbers():
    snr = np.array([1.0, 4.5, 7.0])
    res = semopt.allocate(snr, "5 ksym", None, problem="symbol-split")
    p = TABLE.delivery_probability(snr)
    np.testing.assert_allclose(res.extras["delivery_probability"], p, rtol=0, atol=0)
    sym = TABLE.symbols()
    parts = {k: np.asarray(v) for k, v in res.extras["symbols"].items()}
    np.testing.assert_allclose(sum(parts.values()), res.extras["total_symbols"])
    fi, bj = np.asarray(res.extras["foreground_index"]), np.asarray(res.extras["background_index"])
    np.testing.assert_array_equal(parts["foreground"], sym.foreground[fi])
    np.testing.assert_array_equal(np.asarray(res.extras["bits"]["background"]),
                                  TABLE.bits["background"][bj])
    sent = np.asarray(res.extras["prompt_sent"])
    np.testing.assert_array_equal(parts["prompt"], np.where(sent, sym.prompt, 0.0))
    np.testing.assert_allclose(res.error_rate[:, 0], np.where(sent, 1 - p, np.nan))
    assert np.all(np.isnan(res.power_w)) and np.all(np.isnan(res.total_power_w))
    np.testing.assert_array_equal(res.objective, res.perception)           # best-quality mode
    q = TABLE.expected_quality("psnr", snr)
    want = np.where(sent, q[np.arange(3), fi, bj], TABLE.quality("psnr", "lost")[fi, bj])
    np.testing.assert_allclose(res.perception, want, rtol=1e-12)
    assert "stand-in" in res.extras["editor"] and res.extras["mode"] == "best-quality"


def test_candidate_quality_and_costs_are_the_tables():
    problem = SymbolSplitProblem(mcs="64qam-5/6", capacity="constellation")
    pts = TABLE.points("ms-ssim", [4.0, 5.5], visual_mcs="64qam-5/6", capacity="constellation")
    np.testing.assert_array_equal(problem.candidate_quality("ms-ssim", np.array([5.5, 4.0, 5.5])),
                                  pts.quality[[1, 0, 1]])
    np.testing.assert_array_equal(problem.costs, pts.symbols_total)
    res = semopt.allocate(7, "4 ksym", "psnr>=20", problem="symbol-split", mcs="64qam-5/6")
    assert res.extras["mcs"]["visual"] == "64qam-5/6" and res.success
    assert res.extras["symbols"]["foreground"] == TABLE.symbols("64qam-5/6").foreground[
        res.extras["foreground_index"]]


def test_prompt_policy_and_link_model():
    snr = np.array([4.0, 5.0, 7.0, 10.0])
    always = semopt.allocate(snr, 3000, None, problem="symbol-split", prompt="always")
    never = semopt.allocate(snr, 3000, None, problem="symbol-split", prompt="never")
    free = semopt.allocate(snr, 3000, None, problem="symbol-split")
    assert np.all(always.extras["prompt_sent"]) and not np.any(never.extras["prompt_sent"])
    best = np.maximum(always.perception, never.perception)
    np.testing.assert_allclose(free.perception, best)
    gauss = semopt.allocate(5.0, 3000, None, problem="symbol-split", prompt="always")
    qam = semopt.allocate(5.0, 3000, None, problem="symbol-split", prompt="always",
                          capacity="constellation")
    assert qam.extras["delivery_probability"] < gauss.extras["delivery_probability"]
    assert qam.extras["link"]["capacity"] == "constellation"
    raw = semopt.allocate(7.0, None, None, problem="symbol-split", fitted=False)
    assert raw.perception == pytest.approx(float(TABLE.quality("psnr", "delivered", fitted=False)
                                                 .max()))


def test_no_budget_and_no_target_is_the_best_point_of_the_table():
    res = semopt.allocate(10.0, None, None, problem="symbol-split")
    assert res.perception == pytest.approx(float(TABLE.expected_quality("psnr", 10.0).max()))
    assert math.isinf(res.extras["budget_symbols"])


# -- parsing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", [25, 25.0, "25", "25 dB", "psnr>=25", "psnr >= 25 dB",
                                    "psnr≥25", {"psnr": 25}, np.float64(25)])
def test_target_forms(target):
    res = _allocator("exhaustive").allocate(7, "8618 symbols", target)
    assert res.success and res.extras["metric"] == "psnr" and res.extras["target"] == 25.0


def test_a_target_picks_the_metric():
    res = semopt.allocate(7, None, "ms-ssim>=0.95", problem="symbol-split")
    assert res.extras["metric"] == "ms-ssim" and res.perception >= 0.95
    lp = semopt.allocate([2, 6], 2000, "lpips<=0.55", problem="symbol-split", table=ILLUSTRATIVE)
    assert np.all(np.asarray(lp.perception) <= 0.55) and lp.extras["metric"] == "lpips"


@pytest.mark.parametrize("kwargs, message", [
    ({"target": "psnr<=25"}, "floor"),
    ({"target": "lpips>=3"}, "not in table"),
    ({"target": "25 W"}, "psnr is in dB"),
    ({"target": "ms-ssim>=0.9", "metric": "psnr"}, "problem's metric"),
    ({"target": "psnr>=25, ms-ssim>=0.9"}, "one quality bound"),
    ({"target": {"psnr": 1, "ms-ssim": 2}}, "one metric bound"),
    ({"target": "psnr>25"}, "floor or '<=' for a"),
    ({"target": math.nan}, "finite"),
    ({"target": True}, "bool"),
    ({"budget": "12 kbit"}, "unknown unit 'kbit'"),
    ({"budget": "8618 Symbols"}, "case-sensitive"),
    ({"budget": -3}, "non-negative"),
    ({"budget": math.nan}, "NaN"),
    ({"snr": "7 dBm"}, "SNR in dB"),
    ({"snr": [1, 2], "target": [1, 2, 3]}, "do not broadcast"),
    ({"metric": "clip"}, "not in table"),
    ({"mcs": "256qam"}, "must be one of"),
    ({"prompt": "sometimes"}, "must be one of"),
    ({"colour": 1}, "unknown option"),
])
def test_errors_name_the_argument(kwargs, message):
    call = {"snr": 7, "budget": 8618, "target": None, **kwargs}
    with pytest.raises(ValueError, match=message):
        semopt.allocate(call.pop("snr"), call.pop("budget"), call.pop("target"),
                        problem="symbol-split", **call)


def test_a_table_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="symbol-split"):
        semopt.allocate(7, 8618, None, problem="symbol-split", table="guo2025-tables-iii-iv")


def test_budget_strings_and_arrays():
    res = _allocator("pareto").allocate([7, 7, 7], ["1500 symbols", "3 ksym", 8618], None)
    np.testing.assert_array_equal(res.extras["budget_symbols"], [1500, 3000, 8618])
    assert np.all(np.asarray(res.extras["total_symbols"]) <= [1500, 3000, 8618])


def test_two_dimensional_batches_keep_their_shape():
    res = _allocator("pareto").allocate(np.array([[1, 4, 7], [10, 7, 4]]), [[1000], [9000]], None)
    assert res.batch_shape == (2, 3) and res.error_rate.shape == (2, 3, 1)
    assert np.shape(res.extras["symbols"]["prompt"]) == (2, 3)
    assert np.shape(res.extras["on_hull"]) == (2, 3)


# -- the benchmark ------------------------------------------------------------------------------
def test_benchmark_runs_and_its_figure_passes_the_check(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from benchmarks.gened_split import main
    from semopt.plotting import figure_problems

    figures = []
    original = Figure.savefig

    def savefig(self, *args, **kwargs):
        figures.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    results = main(["--points", "12", "--targets", "6", "--repeat", "1", "--batch", "200",
                    "--out-dir", str(tmp_path)])
    assert (tmp_path / "gened_split.json").is_file() and (tmp_path / "gened_split.png").is_file()
    assert figures and not [p for f in figures for p in figure_problems(f)]
    for metric in ("psnr", "ms-ssim"):
        block = results["metrics"][metric]
        assert all(block["pareto_equals_exhaustive"][k] for k in
                   ("best_quality_every_snr_and_budget", "fewest_symbols_on_target_grid"))
        for snr_block in block["per_snr"].values():
            assert snr_block["gain_over_equal_split"]["median"] >= 0
            assert snr_block["at_paper_budget"]["gain_over_paper_rule"] >= 0
    data = json.loads((tmp_path / "gened_split.json").read_text())
    assert data["results"]["paper_design_point"]["total_symbols"] == 8618.0
    assert "stand-in" in data["results"]["editor"]
