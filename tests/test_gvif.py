"""GVIF tables (kind ``gvif``) and the ``gvif`` problem and methods on a synthetic table."""

import json
import math
import re

import numpy as np
import pytest

import semopt
from semopt import tables
from semopt.allocators.gvif import GvifMethod
from semopt.cli import main as cli_main
from semopt.metrics import run_length_bits
from semopt.problems.gvif import GvifProblem, GvifSolution, parse_distortion_target
from semopt.registry import register_allocator
from semopt.tables.base import TableFormatError
from semopt.tables.gvif import GvifTable
from semopt.testing import conformance_violations, reference_problems
from semopt.testing.gvif import brute_force_shared_alpha, direct_expectation, synthetic_table

METHODS = ("exact", "no-filtering", "per-image", "zo-sgd")


@pytest.fixture(scope="module")
def table():
    return synthetic_table()


@pytest.fixture(scope="module")
def saved(table, tmp_path_factory):
    path = tmp_path_factory.mktemp("gvif") / "syn.json"
    tables.save(table, path)
    return path


def run(method, snr, budget, target, table, **options):
    return semopt.allocate(snr, budget, target, problem="gvif", method=method, table=table, **options)


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


# ---------------------------------------------------------------------------- problem curves
def test_problem_curves_match_the_table_and_direct_masks(table):
    problem = GvifProblem(table=table)
    c = problem.curves
    assert problem.curves is c                                            # built once, cached
    for p in range(len(table.models)):
        bp = table.breakpoints(p)
        np.testing.assert_array_equal(c.bp_alpha, bp.alpha)
        np.testing.assert_allclose(c.bp_gvif[p], bp.gvif, rtol=1e-12)
        np.testing.assert_allclose(c.bp_rate_bits[p], bp.rate_bits, rtol=1e-12)
    rng = np.random.default_rng(4)
    models = rng.integers(0, len(table.models), size=40)
    alphas = np.concatenate([rng.uniform(-0.05, 1.05, size=36), c.bp_alpha[[0, 5, 100, -1]]])
    v, b = c.expected(models, alphas)
    for m, a, vi, bi in zip(models, alphas, v, b):
        want_v, want_b = direct_expectation(table, int(m), a)
        assert vi == pytest.approx(want_v, rel=1e-9) and bi == pytest.approx(want_b, rel=1e-9)
    # per-image thresholds: each image at its own α
    per = rng.uniform(0, 0.8, size=(3, table.n_images))
    v, b = c.expected(np.array([0, 1, 3]), per)
    for row, m in enumerate((0, 1, 3)):
        assert (v[row], b[row]) == pytest.approx(direct_expectation(table, m, per[row]), rel=1e-9)


def test_exact_is_the_brute_force_optimum_over_every_importance_value():
    small = synthetic_table(n_images=4, n_models=3, shape=(4, 6, 6), seed=3)
    candidates = np.unique(np.concatenate([small.per_image["importance"].astype(float).ravel(),
                                           [0.0, small.alpha_max]]))
    candidates = candidates[candidates <= small.alpha_max]
    values = {(m.name, a): direct_expectation(small, m.name, a) for m in small.models for a in candidates}
    snrs = np.linspace(-8, 14, 12)
    for target in (None, "27dB"):
        d0 = parse_distortion_target(target)
        res = run("exact", snrs, "0.15 ms", target, small)
        for k, snr in enumerate(snrs):
            cap = 0.15e-3 * 1e6 * math.log2(1 + 10 ** (snr / 10))
            feasible = [(v, name, a) for (name, a), (v, b) in values.items()
                        if b <= cap and small.models[small.model_index(name)].distortion_mse <= d0]
            if not feasible:
                assert res.status[k] == "infeasible"
                continue
            best = max(feasible)
            assert res.status[k] == "optimal"
            assert res.objective[k] == pytest.approx(best[0], rel=1e-12)


def test_vectorized_exact_equals_scalar_calls_on_mixed_rows(table):
    rng = np.random.default_rng(11)
    snrs = rng.uniform(-10, 25, size=60)
    budgets = rng.choice([2e-4, 4e-4, 1e-3], size=60)
    allocator = semopt.make_allocator("gvif", "exact", table=table)
    batch = allocator.allocate(snrs, budgets, "27dB")
    assert batch.objective.shape == (60,) and batch.status.dtype.kind == "U"
    for k in range(0, 60, 7):
        single = allocator.allocate(snrs[k], budgets[k], "27dB")
        assert single.status == batch.status[k]
        assert single.extras["model"] == batch.extras["model"][k]
        np.testing.assert_equal(single.objective, batch.objective[k])


def test_grid_only_table_is_linear_between_grid_points(table):
    grid = GvifTable(table.models, table.alpha_grid, table.curves, reference_model="syn-0",
                     name="grid-only")
    dense = np.linspace(0, table.alpha_max, 8001)
    for snr in (0.0, 6.0, 20.0):
        res = run("exact", snr, 4e-4, None, grid)
        cap = 4e-4 * 1e6 * math.log2(1 + 10 ** (snr / 10))
        best = -1.0
        for p in range(len(table.models)):        # brute force on the interpolated curves
            b = np.interp(dense, table.alpha_grid, table.curves["rate_bits"][p])
            v = np.interp(dense, table.alpha_grid, table.curves["gvif"][p])
            best = max(best, np.max(np.where(b <= cap, v, -1)))
        assert res.success and res.latency_s <= 4e-4 * (1 + 1e-12)
        assert best - 1e-12 <= res.objective <= best + 1e-3   # dense points: within 1e-4 in α
        z = run("zo-sgd", snr, 4e-4, None, grid)
        assert z.latency_s <= 4e-4 * (1 + 1e-12) and z.objective <= res.objective + 1e-12
    with pytest.raises(ValueError, match="per-image arrays"):
        semopt.make_allocator("gvif", "per-image", table=grid)


# ---------------------------------------------------------------------------- conformance
REFS = [r for r in reference_problems("gvif")]


@pytest.mark.parametrize("ref", REFS, ids=[r.name for r in REFS])
@pytest.mark.parametrize("method", METHODS)
def test_reference_problems(method, ref):
    res = semopt.allocate(ref.snr, ref.budget, ref.target, problem="gvif", method=method, **ref.options)
    assert conformance_violations(res, ref) == []
    assert ref.check(res) == []                     # also on infeasible rows
    assert res.batch_shape == np.shape(ref.snr)
    success = np.atleast_1d(res.success)
    if method == "no-filtering":
        assert np.all(np.atleast_1d(res.extras["alpha"])[success] == 0.0)
    elif ref.expect_feasible is not None:
        assert np.all(success == ref.expect_feasible), res.message
    if method == "exact" and np.ndim(ref.snr) == 0:
        truth, _, _ = brute_force_shared_alpha(ref.options["table"], ref.snr,
                                               float(np.asarray(semopt.units.parse_duration(ref.budget))),
                                               parse_distortion_target(ref.target), n_alpha=401)
        if res.success:
            assert res.objective >= truth - 1e-12                      # ≥ the dense-grid ground truth


def test_method_ordering_over_snr(table):
    snrs = np.arange(-6.0, 22.0, 2.0)
    budget = 0.0004
    ex, zo, pi, nf = (run(m, snrs, budget, None, table) for m in ("exact", "zo-sgd", "per-image",
                                                                  "no-filtering"))
    ok = ex.success
    assert np.array_equal(ok, zo.success) and np.array_equal(ok, pi.success)
    assert np.all(ex.objective[ok] >= zo.objective[ok] - 1e-12)
    assert np.all(ex.objective[ok] - zo.objective[ok] < 0.05)         # zo-sgd at its defaults
    assert np.all(pi.objective[ok] >= ex.objective[ok] - 1e-12)
    assert np.any(pi.objective[ok] > ex.objective[ok] + 1e-3)        # per-image strictly helps somewhere
    nf_ok = nf.success
    assert np.all(ex.objective[nf_ok] >= nf.objective[nf_ok] - 1e-12)
    assert np.any(ok & ~nf_ok)                                       # filtering rescues low SNRs
    assert np.all(ex.latency_s[ok] <= budget * (1 + 1e-12))
    assert np.all(pi.latency_s[ok] <= budget * (1 + 1e-12))


def test_binding_constraint_uses_the_budget_within_one_grid_step(table):
    allocator = semopt.make_allocator("gvif", "exact", table=table)
    step = table.alpha_grid[1] - table.alpha_grid[0]
    for snr in (0.0, 4.0, 8.0):
        res = allocator.allocate(snr, 0.0004, None)
        m, a = res.extras["model"], res.extras["alpha"]
        assert 0 < a < table.alpha_max                                  # the constraint binds
        _, b_step = table.expected(m, max(0.0, a - step))
        assert res.extras["rate_bits"] <= res.extras["cap_bits"] < b_step


def test_batch_equals_scalar_calls_and_determinism(table):
    snrs = [-2.0, 5.0, 12.0]
    for method in ("exact", "zo-sgd", "per-image", "no-filtering"):
        batch = run(method, snrs, "0.4 ms", "26dB", table)
        for k, s in enumerate(snrs):
            single = run(method, s, "0.4 ms", "26dB", table)
            assert single.objective == pytest.approx(batch.objective[k], nan_ok=True)
            assert single.extras["model"] == batch.extras["model"][k]
    a = run("zo-sgd", 4.0, 4e-4, None, table, seed=3)
    b = run("zo-sgd", 4.0, 4e-4, None, table, seed=3)
    assert a.extras["alpha"] == b.extras["alpha"] and a.evaluations == b.evaluations


def test_per_image_result_fields(table):
    res = run("per-image", 4.0, 4e-4, None, table)
    a = res.extras["alpha_per_image"]
    assert a.shape == (table.n_images,) and np.all((a >= 0) & (a <= table.alpha_max))
    assert res.extras["alpha"] == pytest.approx(a.mean())
    assert list(res.extras["images"]) == table.images
    v = np.mean([table.per_image_values(res.extras["model"], ai, images=[i])[0][0] for i, ai in enumerate(a)])
    assert v == pytest.approx(res.objective, rel=1e-9)
    batch = run("per-image", [4.0, 8.0], 4e-4, None, table)
    assert batch.extras["alpha_per_image"].shape == (2, table.n_images)


# ---------------------------------------------------------------------------- zo-sgd
def test_zo_sgd_converges_at_its_defaults_and_counts_evaluations(table):
    res = run("zo-sgd", np.arange(-4.0, 22.0, 2.0), "0.4 ms", None, table)
    ok = res.status != "infeasible"
    assert np.all(res.status[ok] == "optimal"), res.message
    assert 0 < res.iterations < 1000 and res.evaluations > 2 * table.n_images * res.iterations
    assert np.all(res.extras["zo_iterations"][ok] <= res.iterations)
    penalty_point = res.extras["alpha_penalty"][ok]
    alpha = res.extras["alpha"][ok]
    assert np.all((alpha >= penalty_point - 1e-12) | (alpha == 0))    # the repair raises α, or α = 0 fits


def test_zo_sgd_at_its_iteration_cap_reports_max_iterations(table):
    res = run("zo-sgd", [2.0, 8.0], 4e-4, None, table, max_iter=3)
    assert list(res.status) == ["max_iterations", "max_iterations"]
    assert not np.any(res.success) and res.iterations == 3
    assert np.all(res.latency_s <= 4e-4 * (1 + 1e-12))                 # still feasible (rechecked)
    single = run("zo-sgd", 2.0, 4e-4, None, table, max_iter=3)
    assert single.status == "max_iterations" and "not certified optimal" in single.message
    assert "stopped at the iteration cap" in res.message


def test_zo_sgd_options_are_validated(table):
    for bad, match in (({"step": 0}, "step"), ({"batch_size": 0}, "batch_size"),
                       ({"window": 1}, "window"), ({"scaling": "cubic"}, "scaling"),
                       ({"alpha0": 2.0}, "alpha0"), ({"max_iter": 1.5}, "max_iter")):
        with pytest.raises(ValueError, match=match):
            run("zo-sgd", 4.0, 4e-4, None, table, **bad)
    mini = run("zo-sgd", 4.0, 4e-4, None, table, batch_size=4, max_iter=2000)
    assert mini.status in ("optimal", "max_iterations") and mini.latency_s <= 4e-4 * (1 + 1e-12)


# ---------------------------------------------------------------------------- infeasible reports
_NUMBER = r"([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"


def _parse_infeasible(message):
    point = re.search(rf"returned point: model (\S+), (?:mean )?α = {_NUMBER}, E\[GVIF\] = {_NUMBER}, "
                      rf"E\[B\] = {_NUMBER} bits, expected latency {_NUMBER} ms > T_max", message)
    least = re.search(rf"least expected latency of any model meeting D_0 with one shared α ≤ α_th = "
                      rf"{_NUMBER} is {_NUMBER} ms \(model (\S+), α = {_NUMBER}\)", message)
    t_max = re.search(rf"fits T_max = {_NUMBER} ms \(cap {_NUMBER} bits\)", message)
    return point, least, t_max


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("snr,budget", [(-10.0, 2e-5), (-4.0, 1e-4), (0.0, 2e-4)])
def test_every_infeasible_message_matches_its_numbers(table, method, snr, budget):
    res = run(method, snr, budget, None, table)
    if res.success:
        assert method == "per-image"    # one α per image may fit where one shared α does not
        return
    assert res.status == "infeasible"
    point, least, t_max = _parse_infeasible(res.message)
    assert point and least and t_max, res.message
    name, alpha, gvif, bits, latency_ms = point.groups()
    assert name == res.extras["model"]
    assert float(alpha) == pytest.approx(res.extras["alpha"], abs=5e-5 * max(1, res.extras["alpha"]))
    assert float(gvif) == pytest.approx(res.objective, abs=5e-5)
    assert float(bits) == pytest.approx(res.extras["rate_bits"], abs=0.5)
    assert float(latency_ms) == pytest.approx(1e3 * res.latency_s, rel=5e-4)
    assert res.latency_s > budget                                    # the point truly misses T_max
    assert float(t_max.group(1)) == pytest.approx(1e3 * budget, rel=5e-4)
    assert float(t_max.group(2)) == pytest.approx(res.extras["cap_bits"], abs=0.5)
    amax, least_ms, least_model, least_alpha = least.groups()
    assert float(amax) == pytest.approx(table.alpha_max)
    assert float(least_ms) == pytest.approx(1e3 * res.extras["least_latency_s"], rel=5e-4)
    _, b = direct_expectation(table, least_model, float(least_alpha))
    assert b / (1e6 * math.log2(1 + 10 ** (snr / 10))) == pytest.approx(res.extras["least_latency_s"],
                                                                       rel=5e-4)
    # The problem's least latency is a true lower bound over every allowed model and α ≤ α_th.
    for m in table.models:
        for a in np.linspace(0, table.alpha_max, 81):
            assert direct_expectation(table, m.name, a)[1] >= b * (1 - 1e-12)
    if method == "no-filtering":
        assert res.extras["alpha"] == 0.0 and "at α = 0 (no filtering)" in res.message
        rates = [table.expected(m.name, 0.0)[1] for m in table.models]
        assert res.extras["rate_bits"] == pytest.approx(min(rates), rel=1e-12)   # least at α = 0
    if method == "exact":
        assert res.latency_s == pytest.approx(res.extras["least_latency_s"], rel=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_batch_messages_match_their_numbers(table, method):
    snrs = np.array([-10.0, -6.0, -2.0, 4.0, 12.0])
    res = run(method, snrs, 4e-4, None, table)
    counts = re.search(r"(\d+) of 5 realizations optimal", res.message)
    assert counts and int(counts.group(1)) == int(np.count_nonzero(res.status == "optimal"))
    bad = res.status == "infeasible"
    assert np.any(bad), res.message
    found = re.search(rf"(\d+) infeasible: no model meeting D_0 fits T_max (.*?) \(returned points: "
                      rf"expected latency {_NUMBER}–{_NUMBER} ms; least with one shared α ≤ α_th: "
                      rf"{_NUMBER}–{_NUMBER} ms\)", res.message)
    assert found, res.message
    n, scope, lo, hi, least_lo, least_hi = found.groups()
    assert int(n) == int(np.count_nonzero(bad))
    lat, least = 1e3 * res.latency_s[bad], 1e3 * res.extras["least_latency_s"][bad]
    assert float(lo) == pytest.approx(lat.min(), rel=5e-4) and float(hi) == pytest.approx(lat.max(), rel=5e-4)
    assert float(least_lo) == pytest.approx(least.min(), rel=5e-4)
    assert float(least_hi) == pytest.approx(least.max(), rel=5e-4)
    assert np.all(res.latency_s[bad] > 4e-4)
    assert scope == semopt.get_allocator("gvif", method).scope


def test_no_filtering_below_the_cliff_reports_alpha_zero_and_its_true_least_latency(table):
    snrs = np.arange(-6.0, 10.0, 1.0)
    nf = run("no-filtering", snrs, 4e-4, None, table)
    ex = run("exact", snrs, 4e-4, None, table)
    cliff = ~nf.success & ex.success
    assert np.any(cliff)
    assert np.all(nf.extras["alpha"] == 0.0) and np.all(nf.latency_s[cliff] > 4e-4)
    least0 = min(table.expected(m.name, 0.0)[1] for m in table.models)
    cap = 1e6 * np.log2(1 + 10 ** (snrs / 10))
    np.testing.assert_allclose(nf.latency_s[~nf.success], least0 / cap[~nf.success], rtol=1e-12)
    assert "at α = 0 (no filtering)" in nf.message


def test_no_model_meets_the_distortion_cap(table):
    for method in METHODS:
        res = run(method, [10.0, 12.0], 0.01, "60dB", table)
        assert list(res.status) == ["infeasible"] * 2 and np.all(np.isnan(res.objective))
        assert "no candidate model meets D_0" in res.message
        single = run(method, 10.0, 0.01, 1.0, table)
        best = min(m.distortion_mse for m in table.models)
        assert f"D(Φ) = {best:.4g}" in single.message and "no candidate model meets D_0 = 1" in single.message


class _LyingMethod(GvifMethod):
    """Claims α = 0 with the reference model feasible everywhere (for the recheck test)."""

    name = "lying"

    def solve(self, inputs):
        n = inputs.cap_bits.size
        return GvifSolution(np.zeros(n, dtype=int), np.zeros(n), np.ones(n, dtype=bool),
                            np.ones(n, dtype=bool), np.full((n, 4), np.nan), 0, 0)


def test_recheck_refuses_a_claim_that_misses_the_cap(table):
    register_allocator("gvif", replace=True)(_LyingMethod)
    res = semopt.allocate([-6.0, 30.0], 4e-4, None, problem="gvif", method="lying", table=table)
    assert list(res.status) == ["numerical_error", "optimal"]
    assert res.success.tolist() == [False, True]
    assert "refused by the recheck" in res.message
    single = semopt.allocate(-6.0, 4e-4, None, problem="gvif", method="lying", table=table)
    assert single.status == "numerical_error" and "does not meet T_max" in single.message


# ---------------------------------------------------------------------------- inputs, options, API
@pytest.mark.parametrize("args,match", [
    ((float("nan"), 0.01, None), "snr"), ((5.0, -1.0, None), "budget"), ((5.0, 0.01, -3.0), "target"),
    ((5.0, 0.01, "30 dBm"), "target"), ((5.0, "3 parsecs", None), "budget"), ((True, 0.01, None), "snr"),
    ((5.0, 0.01, True), "target"), ((5.0, "20 Ms", None), "budget"), ((5.0, 0.01, "nan dB"), "target"),
    (([1.0, 2.0, 3.0], [0.01, 0.02], None), "broadcast"),
])
def test_bad_input_raises_value_error_naming_the_argument(table, args, match):
    with pytest.raises(ValueError, match=match):
        run("exact", *args, table)


def test_targets_and_budgets_in_every_accepted_form(table):
    a = run("exact", 6.0, "0.4 ms", "28dB", table)
    b = run("exact", "6 dB", 4e-4, 255**2 / 10**2.8, table)
    assert a.objective == b.objective and a.extras["distortion_cap_mse"] == pytest.approx(255**2 / 10**2.8)
    c = run("exact", [6.0, 6.0], 4e-4, ["28dB", None], table)
    assert c.extras["distortion_cap_mse"][1] == math.inf and c.objective[0] == a.objective
    assert run("exact", 6.0, 4e-4, "none", table).objective == c.objective[1]
    assert parse_distortion_target("30dB") == pytest.approx(255**2 / 1000)


def test_problem_options_wrong_table_unknown_method_and_options(table):
    with pytest.raises(ValueError, match="gvif"):
        semopt.make_allocator("gvif", "exact", table="xu2025-kodak-clip")
    with pytest.raises(ValueError, match="valid methods"):
        semopt.allocate(5, 0.01, None, problem="gvif", method="nope", table=table)
    with pytest.raises(ValueError, match="model"):
        semopt.make_allocator("gvif", "exact", table=table, models=["syn-9"])
    with pytest.raises(ValueError, match=r"seed: unknown option.*valid options"):
        semopt.make_allocator("gvif", "exact", table=table, seed=1)
    with pytest.raises(ValueError, match="alpha_max"):
        semopt.make_allocator("gvif", "exact", table=table, alpha_max=1.5)
    with pytest.raises(ValueError, match="bandwidth_hz"):
        semopt.make_allocator("gvif", "exact", table=table, bandwidth_hz="1 mHz")
    narrow = run("exact", 6.0, 4e-4, None, table, models="syn-2,syn-3", alpha_max=0.5,
                 bandwidth_hz="2 MHz")
    assert narrow.extras["model"] in ("syn-2", "syn-3") and narrow.extras["alpha"] <= 0.5
    assert np.isnan(narrow.extras["alpha_per_model"][:2]).all()
    wide = run("exact", 6.0, 4e-4, None, table, bandwidth_hz=2e6)
    plain = run("exact", 6.0, 4e-4, None, table)
    assert wide.extras["cap_bits"] == pytest.approx(2 * plain.extras["cap_bits"])


def test_every_flag_of_the_old_gvif_cli_is_a_declared_option():
    problem = semopt.show_options("gvif", "zo-sgd")
    declared = set(problem["problem"]) | set(problem["method"])
    for name in ("bandwidth_hz", "alpha_max", "models", "alpha0", "penalty", "step", "smoothing",
                 "batch_size", "max_iter", "seed"):
        assert name in declared
    assert problem["method"]["step"]["default"] == 0.03
    assert semopt.show_options("gvif", "per-image")["method"]["mu_iterations"]["default"] == 100


def test_allocate_entry_point_batch_shapes_and_cli(table, saved, capsys):
    res = semopt.allocate([6, 8], "20 ms", "26dB", problem="gvif")
    assert res.status.shape == res.success.shape == res.objective.shape == (2,)
    assert res.status.dtype.kind == "U" and res.success.dtype == bool
    single = semopt.allocate(6.0, 4e-4, None, problem="gvif", table=table)
    assert single.method == "exact" and single.success is True and isinstance(single.status, str)
    code = cli_main(["allocate", "--problem", "gvif", "--snr", "6", "--budget", "0.4ms", "--target", "26dB",
                     "--method", "per-image", "--table", str(saved), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("success", "status", "alpha", "model", "rate_bits", "latency_s", "message"):
        assert key in out
    assert out["success"] is True and out["method"] == "per-image"
    code = cli_main(["allocate", "--problem", "gvif", "--snr", "2", "--snr", "12", "--budget", "0.4ms",
                     "--method", "zo-sgd", "--max-iter", "3", "--bandwidth", "1MHz", "--table", str(saved),
                     "--format", "csv"])
    assert code == 0 and capsys.readouterr().out.count("max_iterations") == 2
    code = cli_main(["allocate", "--problem", "gvif", "--snr", "6", "--budget", "0.4ms",
                     "--method", "exact", "--seed", "1", "--table", str(saved), "--json"])
    assert code == 2
