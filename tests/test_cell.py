"""The cell problem (issue 15, items 2, 3 and 5): U users share one power budget."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import semopt
from semopt import tables
from semopt.allocators.cell.mckp import dual_bisection, exchange, fill, knapsack_dp, repair
from semopt.link import fbl
from semopt.link.channel import drop_users, received_snr_db
from semopt.testing.cell import check_cell, optimal_served


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _least_powers(snr_db, budget, target, **options):
    res = semopt.allocate(snr_db, budget, target, problem="min-power", cost="power", **options)
    return np.where(res.success, res.total_power_w, np.inf)


def _sorted_count(least, budget_w):
    least = np.sort(least[np.isfinite(least)])
    return int(np.searchsorted(np.cumsum(least), budget_w, side="right"))


@pytest.mark.parametrize("csi", ["instantaneous", "statistical"])
def test_max_served_equals_sorting_the_min_power_least_powers(csi):
    drop = drop_users(300, power_w=0.05, radius_m=250.0, rng=2024)
    snr = drop.snr_db if csi == "instantaneous" else drop.mean_snr_db + 8.0
    res = semopt.allocate(snr, "50 mW", 0.45, problem="cell", objective="max-served",
                          table="xu2025-kodak-clip", csi=csi)
    least = _least_powers(snr, "50 mW", 0.45, table="xu2025-kodak-clip", csi=csi,
                          reference_power_w="50 mW")
    expected = _sorted_count(least, 0.05)
    assert 0 < expected < 300  # the budget binds
    assert res.extras["served"] == expected == int(np.count_nonzero(res.success))
    assert float(np.sum(res.total_power_w)) <= 0.05 * (1 + 1e-12)
    assert res.extras["power_used_w"] == pytest.approx(float(np.sum(res.total_power_w)))
    # the served users are the cheapest ones, and each meets its target when rechecked
    served = np.asarray(res.success)
    assert np.max(least[served]) <= np.min(least[~served])
    assert np.all(np.asarray(res.perception)[served] <= 0.45 + 1e-9)
    np.testing.assert_allclose(np.asarray(res.extras["least_power_w"]), least, rtol=1e-12)
    assert check_cell({"table": "xu2025-kodak-clip", "csi": csi}, snr, 0.05, 0.45, res) == []


def test_max_served_with_a_reference_power_and_per_user_targets():
    drop = drop_users(80, power_w=0.01, radius_m=300.0, rng=7)
    targets = np.repeat(np.linspace(0.36, 0.6, 8), 10)  # one iso-curve per distinct target
    res = semopt.allocate(drop.snr_db, "30 mW", targets, problem="cell",
                          reference_power_w="10 mW")
    least = _least_powers(drop.snr_db, "30 mW", targets, reference_power_w="10 mW")
    assert res.extras["served"] == _sorted_count(least, 0.03)
    # a larger budget on the same channel serves at least as many users
    more = semopt.allocate(drop.snr_db, "60 mW", targets, problem="cell",
                           reference_power_w="10 mW")
    assert more.extras["served"] >= res.extras["served"]


def test_ties_and_unreachable_users_are_reported():
    snr = np.array([[20.0, 20.0]] * 5 + [[-25.0, -25.0]])
    least = _least_powers(snr[:1], "10 mW", 0.45)[0]
    budget = 2.5 * least
    res = semopt.allocate(snr, budget, 0.45, problem="cell", reference_power_w="10 mW")
    assert res.extras["served"] == 2
    assert list(np.flatnonzero(res.success)) == [0, 1]  # lowest index first
    assert res.extras["tie"] == {"least_power_w": pytest.approx(least), "users": 5, "served": 2}
    reason = list(res.extras["reason"])
    assert reason[5] == "unreachable" and reason[2:5] == ["budget"] * 3
    assert "tie at the cut" in res.message and "cannot reach" in res.message
    assert np.all(np.asarray(res.power_w)[2:] == 0)
    assert np.asarray(res.status)[5] == "infeasible"


def test_aware_serves_more_than_the_baselines():
    drop = drop_users(200, power_w=0.05, radius_m=250.0, rng=5)
    served = {m: semopt.allocate(drop.snr_db, "50 mW", 0.45, problem="cell", method=m)
              .extras["served"] for m in ("dual", "knapsack", "unaware", "equal-power")}
    assert served["dual"] == served["knapsack"]
    assert served["dual"] > served["unaware"] and served["dual"] > served["equal-power"]


@pytest.mark.parametrize("csi", ["instantaneous", "statistical"])
def test_dual_is_within_half_a_percent_of_the_knapsack(csi):
    drop = drop_users(50, power_w=0.05, rng=3)
    snr = drop.snr_db if csi == "instantaneous" else drop.mean_snr_db + 8.0
    common = {"problem": "cell", "objective": "min-mean-perception", "csi": csi,
              "grid_points": 2000}
    dual = semopt.allocate(snr, "50 mW", None, method="dual", **common)
    knap = semopt.allocate(snr, "50 mW", None, method="knapsack", **common)
    for res in (dual, knap):
        assert float(np.sum(res.total_power_w)) <= 0.05 * (1 + 1e-9)
        assert check_cell({"csi": csi, "objective": "min-mean-perception"}, snr, 0.05, None,
                          res) == []
    assert dual.extras["mean_perception"] <= knap.extras["mean_perception"] * 1.005
    assert dual.extras["frontier_mean_perception"] <= \
        knap.extras["frontier_mean_perception"] * 1.005
    # the knapsack is exact over its options; the Lagrangian bound is below both
    assert dual.extras["lower_bound_mean_perception"] <= \
        knap.extras["knapsack_mean_perception"] + 1e-12
    base = {m: semopt.allocate(snr, "50 mW", None, method=m, problem="cell", csi=csi,
                               objective="min-mean-perception").extras["mean_perception"]
            for m in ("equal-power", "unaware")}
    assert dual.extras["mean_perception"] < min(base.values())


def test_min_mean_perception_with_targets_reports_who_is_served():
    snr = received_snr_db(0.01, distance_m=np.array([100.0, 250.0, 400.0, 600.0]))
    res = semopt.allocate(snr, "10 mW", 0.45, problem="cell", objective="min-mean-perception")
    p = np.asarray(res.perception)
    np.testing.assert_array_equal(res.success, p <= 0.45 + 1e-9)
    assert res.extras["mean_perception"] == pytest.approx(p.mean())
    np.testing.assert_allclose(res.objective, p)


def test_statistical_cell_meets_the_averaged_targets_by_monte_carlo():
    table = tables.load("xu2025-kodak-clip")
    k = np.array([s.bits for s in table.streams], dtype=float)
    n = np.round(k / 0.8)
    drop = drop_users(40, power_w=0.05, radius_m=400.0, fading="none", rng=9)
    res = semopt.allocate(drop.mean_snr_db, "50 mW", 0.40, problem="cell", csi="statistical")
    served = np.flatnonzero(res.success)
    assert 0 < served.size < 40
    rng = np.random.default_rng(1)
    draws = 100_000
    for u in served[:5]:
        mean_snr = 10 ** (drop.mean_snr_db[u] / 10) * np.asarray(res.power_w)[u] / 0.05
        psi = np.where(mean_snr > 0, fbl.bler(mean_snr * rng.exponential(size=(draws, 2)), k, n),
                       1.0)
        p = table.perception(psi, "discard")
        half = 3 * p.std() / np.sqrt(draws)
        assert p.mean() <= 0.40 + half
        assert abs(p.mean() - 0.40) <= half  # the target binds: not wasteful


def test_knapsack_dp_is_exact_against_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(30):
        u, m, cap = 4, 5, 40
        w = rng.integers(1, 25, size=(u, m))
        w[:, 0] = 0
        w[rng.uniform(size=(u, m)) < 0.15] = -1
        w[:, 0] = 0
        v = rng.uniform(0, 1, size=(u, m))
        choice, value = knapsack_dp(w, v, cap)
        best = np.inf
        for combo in itertools.product(range(m), repeat=u):
            ws = [w[i, j] for i, j in enumerate(combo)]
            if min(ws) >= 0 and sum(ws) <= cap:
                best = min(best, sum(v[i, j] for i, j in enumerate(combo)))
        assert value == pytest.approx(best)
        assert sum(w[i, j] for i, j in enumerate(choice)) <= cap
        assert sum(v[i, j] for i, j in enumerate(choice)) == pytest.approx(best)


def test_dual_bound_repair_fill_and_exchange_on_small_instances():
    rng = np.random.default_rng(1)
    for _ in range(30):
        u, m = 5, 6
        q = np.sort(rng.uniform(0, 1, size=(u, m)), axis=1)
        q[:, 0] = 0.0
        v = np.sort(rng.uniform(0, 1, size=m))[::-1]
        budget = float(rng.uniform(0.5, 2.5))
        best = min(sum(v[j] for j in combo) for combo in itertools.product(range(m), repeat=u)
                   if sum(q[i, j] for i, j in enumerate(combo)) <= budget)
        dual = dual_bisection(q, v, budget)
        assert dual.bound <= best + 1e-9
        rows = np.arange(u)
        assert q[rows, dual.feasible].sum() <= budget
        filled, _ = fill(q, v, dual.feasible, budget)
        improved, _ = exchange(q, v, filled, budget)
        repaired, _ = repair(q, v, dual.infeasible, budget)
        for choice in (filled, improved, repaired):
            assert q[rows, choice].sum() <= budget + 1e-12
            assert v[choice].sum() >= best - 1e-12
        assert v[improved].sum() <= v[filled].sum() + 1e-12


def test_drop_users_geometry_and_seeding():
    a = drop_users(20000, n_streams=3, power_w=0.05, radius_m=200.0, inner_radius_m=20.0, rng=4)
    b = drop_users(20000, n_streams=3, power_w=0.05, radius_m=200.0, inner_radius_m=20.0, rng=4)
    np.testing.assert_array_equal(a.snr_db, b.snr_db)
    assert a.snr_db.shape == (20000, 3) and a.position_m.shape == (20000, 2)
    assert a.distance_m.min() >= 20.0 and a.distance_m.max() <= 200.0
    # uniform in area: E[d²] = (R² + r0²)/2
    assert np.mean(a.distance_m**2) == pytest.approx((200.0**2 + 20.0**2) / 2, rel=0.02)
    np.testing.assert_allclose(np.hypot(*a.position_m.T), a.distance_m)
    np.testing.assert_allclose(a.mean_snr_db[:, 0], received_snr_db(0.05, distance_m=a.distance_m))
    np.testing.assert_allclose(a.snr_db - a.mean_snr_db, 10 * np.log10(a.fading_power_gain))
    assert np.mean(a.fading_power_gain) == pytest.approx(1.0, rel=0.02)
    none = drop_users(5, fading="none", rng=1)
    np.testing.assert_array_equal(none.snr_db, none.mean_snr_db)
    for bad in ({"radius_m": 10.0, "inner_radius_m": 10.0}, {"power_w": -1.0},
                {"fading": "rician"}, {"n_streams": 0}):
        with pytest.raises(ValueError):
            drop_users(3, **bad)


@pytest.mark.parametrize("call, match", [
    (dict(snr=np.zeros((2, 3)), budget="10 mW", target=0.45), "expected shape"),
    (dict(snr=np.zeros((2, 2, 2)), budget="10 mW", target=0.45), "dimensions"),
    (dict(snr=[10, 12], budget=[0.01, 0.02], target=0.45), "one total power"),
    (dict(snr=[10, 12], budget="10 mW", target=None), "needs a perception target"),
    (dict(snr=[10, 12], budget="10 mW", target=[0.4, 0.5, 0.6]), "one value per user"),
    (dict(snr=[10, 12], budget="10 mW", target=0.2), "must lie in"),
])
def test_invalid_inputs_raise_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        semopt.allocate(call["snr"], call["budget"], call["target"], problem="cell")


def test_single_user_and_one_snr_per_user_shapes():
    one = semopt.allocate(20.0, "10 mW", 0.45, problem="cell")
    assert one.batch_shape == () and one.success is True
    per_user = semopt.allocate([20.0, 10.0], "10 mW", 0.45, problem="cell")
    full = semopt.allocate([[20.0, 20.0], [10.0, 10.0]], "10 mW", 0.45, problem="cell")
    np.testing.assert_array_equal(per_user.power_w, full.power_w)
    with pytest.raises(ValueError, match="objective: must be one of"):
        semopt.make_allocator("cell", "dual", objective="nope")


def test_reference_problems_are_checked_independently():
    cases = semopt.testing.reference_problems("cell")
    assert len(cases) >= 40 and all(c.check is not None for c in cases)
    case = next(c for c in cases if c.options["objective"] == "max-served"
                and c.options["csi"] == "instantaneous" and c.options["scheme"] == "discard")
    res = semopt.allocate(case.snr, case.budget, case.target, problem="cell", **case.options)
    assert case.check(res) == []
    assert res.extras["served"] == optimal_served(case.options, case.snr, case.budget_w,
                                                  case.target)
