"""Latency-aware power split (Qiao et al.): link model, allocators, CLI, invariants."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import semopt.allocators.latency as L
from semopt.link import latency as link
from semopt.link.latency import LatencyScenario
from semopt.testing.latency import (
    check_allocation,
    random_instances,
    recompute_latencies,
    reference_problems,
)

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------
# Link model
# --------------------------------------------------------------------------------------
def test_prompt_per_matches_eq2_literally():
    snr = np.array([0.3, 1.0, 4.0, 30.0])
    length = 629
    literal = 1 - length ** (-0.374 / snr) * np.exp(0.31 / snr)
    np.testing.assert_allclose(link.prompt_per(snr, length), literal, rtol=1e-12)
    np.testing.assert_allclose(link.prompt_expected_transmissions(snr, length),
                               1 / (1 - literal), rtol=1e-12)


def test_prompt_latency_matches_eq3_and_inverse():
    snr, bits, packet, bw = 2.0, 629, 300, 1e6
    per = link.prompt_per(snr, packet)
    eq3 = bits / (0.5 * packet) / (1 - per) * packet / (2 * bw)
    t = link.prompt_latency_s(snr, bits, bw, packet_bits=packet)
    assert t == pytest.approx(eq3, rel=1e-12)
    back = link.prompt_snr_for_latency(t, bits, bw, packet_bits=packet)
    assert back == pytest.approx(snr, rel=1e-12)
    assert np.isinf(link.prompt_snr_for_latency(0.5 * bits / bw, bits, bw))


def test_mqam_rate_latency_and_orders():
    snr, ber, bw, bits = 100.0, 1e-6, 1e6, 7864
    rate = link.mqam_rate_bps(snr, ber, bw)
    assert rate == pytest.approx(bw * np.log2(1 + 1.5 * snr / -np.log(5 * ber)), rel=1e-12)
    t = link.mqam_latency_s(snr, ber, bits, bw)
    assert link.mqam_snr_for_latency(t, ber, bits, bw) == pytest.approx(snr, rel=1e-10)
    req = link.mqam_required_snr(np.array([4, 16, 64]), ber)
    np.testing.assert_allclose(link.mqam_ber(req, np.array([4, 16, 64])), ber, rtol=1e-12)
    assert link.mqam_order(req * (1 + 1e-9), ber).tolist() == [4, 16, 64]
    assert int(link.mqam_order(req[0] * 0.99, ber)) == 0


def test_average_snr_and_stream_snr_conversion():
    # Table I: 10 mW, -30 dB at 1 m, exponent 3.4, -174 dBm/Hz, 2 MHz, d = 100 m
    snr_db = link.average_snr_db(100.0)
    expected = 10 - 30 - 68 + 174 - 10 * np.log10(2e6)   # dBm - path loss - N0 B
    assert float(snr_db) == pytest.approx(expected, abs=1e-9)
    g = link.stream_snr(10.0, 0.25, 0.5)
    assert g == pytest.approx(5.0)
    assert link.stream_power_fraction(10.0, g, 0.5) == pytest.approx(0.25)


# --------------------------------------------------------------------------------------
# Lemma 1 and the multi-stream methods
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 8.0, 15.0, 25.0, 40.0])
@pytest.mark.parametrize("ber", [1e-8, 1e-6, 1e-3])
def test_lemma1_equal_latency_and_full_budget(snr_db, ber):
    alloc = L.Lemma1Allocator().allocate(snr_db, "10 mW", ber)
    assert alloc.success and alloc.status == "optimal"
    p = np.asarray(alloc.power_w)
    assert p.sum() == pytest.approx(0.01, rel=1e-12)
    t = recompute_latencies(p, snr_db, 0.01, LatencyScenario(), np.array([ber]))
    assert t[0] == pytest.approx(t[1], rel=1e-9)
    assert alloc.latency_s == pytest.approx(t.max(), rel=1e-9)
    assert alloc.objective == alloc.latency_s
    assert alloc.extras["expected_transmissions"] >= 1.0
    assert alloc.error_rate[1] == ber


def test_lemma1_is_the_minimum_of_max_latency():
    """Brute force over the power split: no split beats the Lemma 1 point."""
    sc, snr_db, ber = LatencyScenario(), 12.0, 1e-5
    alloc = L.Lemma1Allocator().allocate(snr_db, 0.01, ber)
    shares = np.linspace(1e-4, 1 - 1e-4, 20001)
    grid = np.stack([shares, 1 - shares], -1) * 0.01
    worst = np.array([recompute_latencies(p, snr_db, 0.01, sc, np.array([ber])).max()
                      for p in grid[::50]])
    assert alloc.latency_s <= worst.min() * (1 + 1e-12)


def test_batched_lemma1_and_discrete_match_scalar_calls():
    snr = np.array([[3.0, 11.0, 17.0], [22.0, 26.0, 35.0]])
    for cls in (L.Lemma1Allocator, L.DiscreteAllocator, L.BisectionAllocator, L.UnawareAllocator):
        batch = cls().allocate(snr, 0.01, 1e-6)
        assert np.shape(batch.latency_s) == snr.shape
        assert np.shape(batch.power_w) == snr.shape + (2,)
        assert np.shape(batch.extras["bits_per_symbol"]) == snr.shape + (1,)
        for idx in np.ndindex(*snr.shape):
            one = cls().allocate(float(snr[idx]), 0.01, 1e-6)
            assert one.status == batch.status[idx]
            np.testing.assert_allclose(batch.power_w[idx], one.power_w, rtol=1e-12)


def test_bisection_agrees_with_lemma1_and_cvxpy_on_random_instances():
    for ref in random_instances(10, seed=3):
        args = (ref.snr_db, ref.budget_w, list(ref.target_ber))
        bis = L.BisectionAllocator(scenario=ref.scenario).allocate(*args)
        newton = L.Lemma1Allocator(scenario=ref.scenario).allocate(*args)
        cvx = L.CvxpyAllocator(scenario=ref.scenario).allocate(*args)
        for alloc in (bis, newton, cvx):
            check_allocation(alloc, ref)
        assert newton.latency_s == pytest.approx(bis.latency_s, rel=1e-11)
        assert cvx.latency_s == pytest.approx(bis.latency_s, rel=1e-6), ref.name
        # all stream latencies equal at the optimum
        t = np.asarray(newton.extras["stream_latency_s"])
        assert np.ptp(t[np.asarray([1, *ref.scenario.stream_bits]) > 0]) <= 1e-9 * t.max()


def test_joint_bandwidth_never_slower_than_equal_split():
    for ref in random_instances(6, seed=11):
        n = ref.scenario.n_streams
        total = ref.scenario.total_bandwidth_hz
        equal = ref.scenario.with_bandwidth([total / (1 + n)] * (1 + n))
        args = (ref.snr_db, ref.budget_w, list(ref.target_ber))
        eq = L.Lemma1Allocator(scenario=equal).allocate(*args)
        joint = L.JointBandwidthAllocator(scenario=ref.scenario).allocate(*args)
        check_allocation(joint, ref)
        bw = np.asarray(joint.extras["bandwidth_hz"])
        assert bw.sum() == pytest.approx(total, rel=1e-9)
        assert joint.latency_s <= eq.latency_s * (1 + 1e-9), ref.name
        # and never slower than the scenario's own fixed bandwidths
        fixed = L.Lemma1Allocator(scenario=ref.scenario).allocate(*args)
        assert joint.latency_s <= fixed.latency_s * (1 + 1e-9)


def test_joint_bandwidth_dqcp_formulation_agrees():
    sc = LatencyScenario()
    dcp = L.JointBandwidthAllocator(scenario=sc).allocate(15.0, 0.01, 1e-6)
    dqcp = L.JointBandwidthAllocator(scenario=sc, formulation="dqcp").allocate(15.0, 0.01, 1e-6)
    assert dqcp.latency_s == pytest.approx(dcp.latency_s, rel=2e-2)
    assert dqcp.latency_s >= dcp.latency_s * (1 - 1e-9)


@pytest.mark.parametrize("method", sorted(L.METHODS))
def test_reference_problems_conformance(method):
    for ref in reference_problems():
        alloc = L.METHODS[method](scenario=ref.scenario).allocate(
            ref.snr_db, ref.budget_w, list(ref.target_ber))
        check_allocation(alloc, ref)
        assert alloc.method == method and alloc.problem == "latency"
        assert alloc.status in ("optimal", "outage", "infeasible")
        again = L.METHODS[method](scenario=ref.scenario).allocate(
            ref.snr_db, ref.budget_w, list(ref.target_ber))
        np.testing.assert_array_equal(np.asarray(alloc.power_w), np.asarray(again.power_w))


# --------------------------------------------------------------------------------------
# Discrete adaptation (Table II) and the unaware benchmark
# --------------------------------------------------------------------------------------
def test_discrete_reproduces_table2_first_column():
    snr = np.round(np.arange(0.0, 30.01, 0.2), 1)
    alloc = L.DiscreteAllocator().allocate(snr, 0.01, 1e-6)
    bps = np.asarray(alloc.extras["bits_per_symbol"])[:, 0]
    ranges = {m: (snr[bps == m].min(), snr[bps == m].max()) for m in (6, 4, 2)}
    assert ranges == {6: (24.2, 30.0), 4: (18.0, 24.0), 2: (11.2, 17.8)}
    assert snr[bps == 0].max() == 11.0
    lat = np.asarray(alloc.latency_s)
    assert lat[bps == 6] == pytest.approx(7864 / 6e6)
    assert lat[bps == 2] == pytest.approx(3.932e-3)
    assert set(np.asarray(alloc.status)[bps == 0]) == {"outage"}


def test_discrete_outage_and_overrun_option():
    out = L.DiscreteAllocator().allocate(5.0, 0.01, 1e-6)
    assert not out.success and out.status == "outage"
    assert out.extras["bits_per_symbol"].tolist() == [0.0]
    # 11.0 dB: 4-QAM fits, but the prompt cannot finish within T_1 (paper's rule)
    strict = L.DiscreteAllocator().allocate(11.0, 0.01, 1e-6)
    loose = L.DiscreteAllocator(prompt_within_stream=False).allocate(11.0, 0.01, 1e-6)
    assert strict.status == "outage" and loose.status == "optimal"
    assert loose.latency_s > 7864 / 2e6


def test_discrete_multistream_exact_against_enumeration():
    sc = LatencyScenario(stream_bits=(6000, 3000), bandwidth_hz=(1e6, 1e6, 0.5e6))
    ber = np.array([1e-5, 1e-3])
    snr_db = 24.0
    alloc = L.DiscreteAllocator(scenario=sc, prompt_within_stream=False).allocate(
        snr_db, 0.01, ber)
    gbar = 10 ** (snr_db / 10)
    w = np.asarray(sc.bandwidth_hz) / sc.total_bandwidth_hz
    best = np.inf
    for m1 in (4, 16, 64):
        for m2 in (4, 16, 64):
            x = [w[1 + i] * link.mqam_required_snr(m, ber[i]) / gbar
                 for i, m in enumerate((m1, m2))]
            x0 = 1 - sum(x)
            if x0 <= 0:
                continue
            t0 = link.prompt_latency_s(gbar * x0 / w[0], sc.prompt_bits, sc.bandwidth_hz[0])
            t = max(t0, 6000 / (1e6 * np.log2(m1)), 3000 / (0.5e6 * np.log2(m2)))
            best = min(best, t)
    assert alloc.latency_s == pytest.approx(best, rel=1e-12)


def test_unaware_benchmark():
    alloc = L.UnawareAllocator().allocate(15.0, 0.01, 1e-6)
    k = 1.5 / -np.log(5e-7)
    assert alloc.latency_s == pytest.approx((629 + 7864) / (2e6 * np.log2(1 + k * 10 ** 1.5)))
    assert alloc.extras["expected_transmissions"] == 1.0
    assert np.asarray(alloc.power_w).sum() == pytest.approx(0.01)
    disc = L.UnawareAllocator(modulation="discrete").allocate([10.0, 15.0], 0.01, 1e-6)
    assert disc.status.tolist() == ["outage", "optimal"]
    assert disc.latency_s[1] == pytest.approx((629 + 7864) / (2e6 * 2))


# --------------------------------------------------------------------------------------
# Monotonicity (property tests)
# --------------------------------------------------------------------------------------
snr_pairs = st.tuples(st.floats(-5, 40), st.floats(0, 10))


@SETTINGS
@given(pair=snr_pairs, ber=st.floats(-9, -2), method=st.sampled_from(["lemma1", "discrete",
                                                                       "unaware"]))
def test_latency_non_increasing_in_snr(pair, ber, method):
    snr, delta = pair
    alloc = L.METHODS[method]().allocate([snr, snr + delta], 0.01, 10.0 ** ber)
    lat = np.where(np.asarray(alloc.success), np.asarray(alloc.latency_s), np.inf)
    assert lat[1] <= lat[0] * (1 + 1e-12)


@SETTINGS
@given(snr=st.floats(-5, 40), p=st.floats(1e-4, 1.0), factor=st.floats(1.0, 10.0),
       method=st.sampled_from(["lemma1", "discrete"]))
def test_latency_non_increasing_in_budget(snr, p, factor, method):
    """With a fixed channel (snr measured at 10 mW), more power never slows it down."""
    alloc_cls = L.METHODS[method]
    a = alloc_cls(reference_power_w=0.01).allocate(snr, p, 1e-6)
    b = alloc_cls(reference_power_w=0.01).allocate(snr, p * factor, 1e-6)
    la = a.latency_s if a.success else np.inf
    lb = b.latency_s if b.success else np.inf
    assert lb <= la * (1 + 1e-12)


@SETTINGS
@given(snr=st.floats(-5, 40), ber=st.floats(-9, -1), tighten=st.floats(0, 4),
       method=st.sampled_from(["lemma1", "discrete", "bisection"]))
def test_latency_non_decreasing_as_target_tightens(snr, ber, tighten, method):
    ber = min(10.0 ** ber, 0.19)
    loose = L.METHODS[method]().allocate(snr, 0.01, ber)
    tight = L.METHODS[method]().allocate(snr, 0.01, ber * 10.0 ** -tighten)
    lo = loose.latency_s if loose.success else np.inf
    ti = tight.latency_s if tight.success else np.inf
    assert ti >= lo * (1 - 1e-12)


def test_distance_helper_gives_monotone_budget_curve():
    sc = LatencyScenario()
    budgets = np.array([1e-3, 3e-3, 1e-2, 3e-2])
    snr = sc.snr_db_from_distance(100.0, budgets)
    lat = [L.Lemma1Allocator().allocate(s, p, 1e-6).latency_s for s, p in zip(snr, budgets)]
    assert np.all(np.diff(lat) < 0)


# --------------------------------------------------------------------------------------
# Targets, errors, infeasibility
# --------------------------------------------------------------------------------------
def test_metric_targets_through_quality_curve():
    alloc = L.Lemma1Allocator().allocate(20.0, 0.01, {"clip": 0.999, "ms-ssim": 0.991})
    ref = L.Lemma1Allocator().allocate(20.0, 0.01, 1e-6)
    assert alloc.latency_s == pytest.approx(ref.latency_s, rel=1e-12)
    assert alloc.extras["quality"]["clip"] == pytest.approx(0.999)
    # the tighter metric decides: MS-SSIM 0.982 alone gives 1e-5, with CLIP 0.999 -> 1e-6
    both = L.Lemma1Allocator().allocate(20.0, 0.01, {"clip": 0.999, "ms-ssim": 0.982})
    assert both.extras["target_ber"].tolist() == pytest.approx([1e-6])
    assert L.Lemma1Allocator().allocate(20.0, 0.01, {"ber": 1e-6}).latency_s == \
        pytest.approx(ref.latency_s)


@pytest.mark.parametrize("method", ["lemma1", "discrete", "cvxpy", "unaware"])
def test_unreachable_metric_is_infeasible(method):
    alloc = L.METHODS[method]().allocate([10.0, 20.0], 0.01, {"clip": 0.9999})
    assert not np.any(alloc.success)
    assert set(np.asarray(alloc.status).tolist()) == {"infeasible"}
    assert "0.999" in alloc.message


@pytest.mark.parametrize("kwargs, args", [
    ({}, (10.0, 0.0, 1e-6)),
    ({}, (10.0, -0.01, 1e-6)),
    ({}, (10.0, "-1 mW", 1e-6)),
    ({}, (10.0, 0.01, 0.0)),
    ({}, (10.0, 0.01, 0.5)),
    ({}, (10.0, 0.01, 0.7)),
    ({}, (10.0, 0.01, -1e-3)),
    ({}, (10.0, 0.01, 0.3)),          # beyond 1/β of eq. (4)
    ({}, (float("nan"), 0.01, 1e-6)),
    ({}, (10.0, 0.01, {"nope": 0.9})),
    ({"bandwidth_hz": 0.0}, (10.0, 0.01, 1e-6)),
    ({"bandwidth_hz": (1e6, -1e6)}, (10.0, 0.01, 1e-6)),
    ({"stream_bits": (-5,)}, (10.0, 0.01, 1e-6)),
    ({"prompt_bits": -5}, (10.0, 0.01, 1e-6)),
    ({"stream_bits": (100, 200)}, (10.0, 0.01, [1e-6, 1e-6, 1e-6])),
    ({"nonsense": 1}, (10.0, 0.01, 1e-6)),
])
def test_bad_input_raises_value_error(kwargs, args):
    with pytest.raises(ValueError):
        L.Lemma1Allocator(**kwargs).allocate(*args)


def test_zero_bit_stream_needs_no_power():
    sc = LatencyScenario(stream_bits=(7864, 0))
    alloc = L.Lemma1Allocator(scenario=sc).allocate(15.0, 0.01, 1e-6)
    assert alloc.power_w[2] == 0.0
    one = L.Lemma1Allocator().allocate(15.0, 0.01, 1e-6)
    # the zero-bit stream still holds its 1 MHz, so compare with a 3 MHz total band
    assert alloc.success and alloc.latency_s > 0 and one.success


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------
def _cli(argv, capsys):
    from semopt.cli import main

    rc = main(["allocate", "--problem", "latency", *argv])
    return rc, capsys.readouterr()


def test_cli_json_fields(capsys):
    rc, out = _cli(["--snr", "15", "--budget", "10 mW", "--target-ber", "1e-6",
                    "--prompt-bits", "629", "--stream-bits", "7864",
                    "--modulation", "continuous", "--json"], capsys)
    assert rc == 0
    doc = json.loads(out.out)
    for key in ("success", "status", "latency_s", "power_w", "bits_per_symbol",
                "expected_transmissions", "message"):
        assert key in doc
    assert doc["success"] is True and doc["status"] == "optimal"
    assert len(doc["power_w"]) == 2 and len(doc["bits_per_symbol"]) == 1


def test_cli_discrete_multistream_and_errors(capsys):
    rc, out = _cli(["--snr", "5", "--target-ber", "1e-6", "--modulation", "discrete",
                    "--json"], capsys)
    doc = json.loads(out.out)
    assert rc == 0 and doc["status"] == "outage" and doc["bits_per_symbol"] == [0.0]
    rc, out = _cli(["--snr", "20", "--target-ber", "1e-6,1e-4", "--stream-bits", "7864,3000",
                    "--bandwidth", "1MHz,1MHz,0.5MHz", "--method", "bisection", "--json"],
                   capsys)
    doc = json.loads(out.out)
    assert rc == 0 and len(doc["power_w"]) == 3
    rc, out = _cli(["--snr", "20", "--budget", "0", "--target-ber", "1e-6", "--json"], capsys)
    assert rc == 2 and json.loads(out.out.splitlines()[0])["status"] == "error"
    rc, out = _cli(["--snr", "20", "--target-ber", "1e-6", "--stream-bits", "-3"], capsys)
    assert rc == 2
    rc, out = _cli(["--snr", "20", "--target-metric", "clip=0.9999", "--json"], capsys)
    assert rc == 0 and json.loads(out.out)["status"] == "infeasible"
