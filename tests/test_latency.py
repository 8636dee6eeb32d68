"""Latency-aware power split (Qiao et al.): link model, problem, methods, CLI, invariants.

Golden results of the pre-port code are in ``tests/golden/latency.json``; regenerate after
an intended change with ``SEMOPT_REGENERATE_GOLDEN=1 pytest tests/test_latency.py -k golden``
and review the diff.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import semopt
from semopt.allocators.latency import JointBandwidthMethod, LatencyMethod
from semopt.link import latency as link
from semopt.link.latency import LatencyScenario
from semopt.problems.latency import STATUS_CODE, LatencyProblem, LatencySolution
from semopt.registry import get_allocator
from semopt.result import to_jsonable
from semopt.testing import conformance_violations
from semopt.testing.latency import (
    check_allocation,
    random_instances,
    recompute_latencies,
    reference_problems,
    scenario_of,
    scenario_options,
)

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
GOLDEN = Path(__file__).parent / "golden" / "latency.json"
METHODS = semopt.list_methods("latency")


def run(snr, budget, target, method="lemma1", **options):
    """``semopt.allocate`` for the latency problem."""
    return semopt.allocate(snr, budget, target, problem="latency", method=method, **options)


def make(method="lemma1", **options):
    return semopt.make_allocator("latency", method, **options)


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
# The contract: batch shapes, options, SNR at a reference power, targets
# --------------------------------------------------------------------------------------
def test_batch_of_two_has_batch_shaped_fields():
    alloc = semopt.allocate([10, 12], "10 mW", 1e-5, problem="latency")
    for name in ("status", "success", "objective", "perception", "latency_s", "total_power_w"):
        assert np.shape(getattr(alloc, name)) == (2,), name
    assert alloc.status.dtype == np.dtype("<U16") and alloc.success.dtype == bool
    assert alloc.status.tolist() == ["optimal", "optimal"]
    assert np.shape(alloc.power_w) == (2, 2) and np.shape(alloc.error_rate) == (2, 2)
    assert np.shape(alloc.extras["stream_latency_s"]) == (2, 2)
    single = semopt.allocate(10, "10 mW", 1e-5, problem="latency")
    assert isinstance(single.status, str) and isinstance(single.success, bool)


def test_perception_is_the_binding_metric_for_metric_floors():
    alloc = run([12.0, 20.0], 0.01, {"clip": 0.999, "ms-ssim": 0.982})
    assert alloc.perception.shape == (2,)
    np.testing.assert_allclose(alloc.perception, 0.999)      # CLIP binds (BER 1e-6)
    assert np.all(np.isnan(run([12.0, 20.0], 0.01, 1e-6).perception))


def test_doubling_the_budget_on_a_fixed_channel_lowers_the_latency():
    """With snr measured at 10 mW (reference_power_w), 20 mW is faster than 10 mW."""
    for method in ("lemma1", "bisection", "joint-bandwidth"):
        one = run(12.0, "10 mW", 1e-5, method, reference_power_w="10 mW")
        two = run(12.0, "20 mW", 1e-5, method, reference_power_w="10 mW")
        assert one.success and two.success
        assert two.latency_s < one.latency_s * (1 - 1e-3), method
    # the same SNR at the budget itself (default reference) only rescales the powers
    a, b = run(12.0, "10 mW", 1e-5), run(12.0, "20 mW", 1e-5)
    assert b.latency_s == pytest.approx(a.latency_s, rel=1e-12)
    np.testing.assert_allclose(b.power_w, 2 * np.asarray(a.power_w), rtol=1e-12)
    # and the reference equal to the budget is the default
    c = run(12.0, "20 mW", 1e-5, reference_power_w="20 mW")
    assert c.latency_s == pytest.approx(b.latency_s, rel=1e-12)


def test_budget_none_is_table1_and_budget_batches():
    assert run(12.0, None, 1e-5).latency_s == pytest.approx(run(12.0, "10 mW", 1e-5).latency_s)
    batch = run([12.0, 12.0], [0.01, 0.02], 1e-5, reference_power_w=0.01)
    assert batch.latency_s[1] < batch.latency_s[0]
    np.testing.assert_allclose(batch.total_power_w, [0.01, 0.02], rtol=1e-12)


@pytest.mark.parametrize("text, value", [
    ("1e-5", 1e-5), ("ber<=1e-5", 1e-5), ({"ber": 1e-5}, 1e-5), ("12 dB", None)])
def test_target_strings(text, value):
    if value is None:
        with pytest.raises(ValueError, match="target"):
            run(12.0, 0.01, text)
        return
    assert run(12.0, 0.01, text).latency_s == pytest.approx(run(12.0, 0.01, value).latency_s,
                                                            rel=1e-15)


def test_metric_floor_strings_and_per_stream_ber_strings():
    ref = run(20.0, 0.01, {"clip": 0.999, "ms-ssim": 0.982})
    text = run(20.0, 0.01, "clip>=0.999, ms-ssim>=0.982")
    assert text.latency_s == pytest.approx(ref.latency_s, rel=1e-15)
    two = {"stream_bits": (7864, 3000), "bandwidth_hz": (1e6, 1e6, 0.5e6)}
    a = run(15.0, 0.01, "1e-6,1e-3", **two)
    b = run(15.0, 0.01, [1e-6, 1e-3], **two)
    assert a.latency_s == pytest.approx(b.latency_s, rel=1e-15)
    with pytest.raises(ValueError, match="target"):
        run(20.0, 0.01, "clip>=0.999,1e-6")
    with pytest.raises(ValueError, match="target"):
        run(20.0, 0.01, "clip<=0.999")


def test_snr_in_db_strings_and_strict_units():
    assert run("12 dB", "10 mW", 1e-5).latency_s == pytest.approx(run(12, 0.01, 1e-5).latency_s)
    with pytest.raises(ValueError, match="budget"):
        run(12, "10 MW!", 1e-5)
    with pytest.raises(ValueError, match="budget"):
        run(12, True, 1e-5)
    with pytest.raises(ValueError, match="snr"):
        run(250.0, 0.01, 1e-5)


def test_unknown_option_names_it_and_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"nonsense.*valid options.*stream_bits"):
        make("lemma1", nonsense=1)
    with pytest.raises(ValueError, match="prompt_within_stream"):
        make("lemma1", prompt_within_stream=False)     # a discrete-only option


def test_every_flag_of_the_old_cli_is_a_declared_option():
    """semopt/cli/latency.py offered these flags; the generic CLI derives them from options."""
    problem = set(LatencyProblem.options)
    assert {"prompt_bits", "stream_bits", "bandwidth_hz", "packet_bits", "code_rate",
            "prompt_order", "k", "b", "alpha", "beta", "orders",
            "reference_power_w"} <= problem
    owners = {"prompt_ber": "unaware", "modulation": "unaware",
              "prompt_within_stream": "discrete", "solver": "cvxpy",
              "formulation": "joint-bandwidth", "polish": "joint-bandwidth"}
    for option, method in owners.items():
        declared = get_allocator("latency", method).options[option]
        assert declared.kind != "object" and declared.help
    for name, option in LatencyProblem.options.items():
        assert option.kind in ("int", "ints", "float", "bandwidths", "power"), name


def test_capability_flags():
    flags = {m: (get_allocator("latency", m).optimality, get_allocator("latency", m).vectorized,
                 get_allocator("latency", m).requires) for m in METHODS}
    assert flags["lemma1"] == ("global", True, ())
    assert flags["unaware"][0] == "baseline"
    assert flags["cvxpy"] == ("global", False, ("cvxpy",))
    assert flags["joint-bandwidth"][2] == ("cvxpy",)
    assert semopt.show_options("latency", "discrete")["method"]["prompt_within_stream"][
        "default"] is True


# --------------------------------------------------------------------------------------
# Golden results (pre-port code)
# --------------------------------------------------------------------------------------
FIELDS = ("success", "status", "power_w", "total_power_w", "latency_s", "objective",
          "error_rate")
SOLVER_METHODS = {"cvxpy": (1e-7, 1e-7), "joint-bandwidth": (1e-7, 1e-3)}
"""cvxpy-based cases: (latency rtol, powers/bandwidths rtol). The solver's point moves
with 1-ulp changes of its parameters (the port computes γ̄ = exp(snr·ln10/10) instead of
10**(snr/10)); with the old conversion both cases reproduce to the last bit. The joint
optimum is flat in the bandwidths, so the split moves more than the latency."""


def _current(case: dict) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alloc = run(np.asarray(case["snr"]), case["budget"], case["target"], case["method"],
                    **case["options"])
    out = {}
    for key in case["expected"]:
        value = getattr(alloc, key) if key in FIELDS else alloc.extras[key]
        out[key] = to_jsonable(np.asarray(value).tolist())
    return out


def test_golden_latency_results():
    golden = json.loads(GOLDEN.read_text())
    if os.environ.get("SEMOPT_REGENERATE_GOLDEN") == "1":
        for case in golden["cases"]:
            case["expected"] = _current(case)
        GOLDEN.write_text(json.dumps(golden, indent=1) + "\n")
    for case in golden["cases"]:
        got = _current(case)
        lat_rtol, other_rtol = SOLVER_METHODS.get(case["method"], (1e-12, 1e-12))
        for key, expected in case["expected"].items():
            if key in ("success", "status"):
                assert got[key] == expected, (case["name"], key)
                continue
            e = np.array(expected, dtype=float)
            g = np.array(got[key], dtype=float)
            rtol = lat_rtol if key in ("latency_s", "objective", "stream_latency_s") \
                else other_rtol
            np.testing.assert_allclose(g, e, rtol=rtol, atol=0,
                                       err_msg=f"{case['name']}: {key}")


# --------------------------------------------------------------------------------------
# Lemma 1 and the multi-stream methods
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 8.0, 15.0, 25.0, 40.0])
@pytest.mark.parametrize("ber", [1e-8, 1e-6, 1e-3])
def test_lemma1_equal_latency_and_full_budget(snr_db, ber):
    alloc = run(snr_db, "10 mW", ber)
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
    alloc = run(snr_db, 0.01, ber)
    shares = np.linspace(1e-4, 1 - 1e-4, 20001)
    grid = np.stack([shares, 1 - shares], -1) * 0.01
    worst = np.array([recompute_latencies(p, snr_db, 0.01, sc, np.array([ber])).max()
                      for p in grid[::50]])
    assert alloc.latency_s <= worst.min() * (1 + 1e-12)


def test_lemma1_against_brentq_per_instance():
    """The expert baseline: scipy brentq on ln T_0(f) = ln T_1(f) over the prompt share f."""
    import math

    from scipy.optimize import brentq

    sc = LatencyScenario()
    ber = 1e-5
    snr = np.linspace(-10.0, 60.0, 29)
    alloc = run(snr, 0.01, ber)
    gap = float(link.mqam_gap(ber))
    a0 = sc.prompt_bits / (sc.code_rate * 2 * sc.bandwidth_hz[0])
    for s, lat in zip(snr, alloc.latency_s):
        g = 10 ** (s / 10)

        def f(x, g=g):
            return (math.log(a0) + sc.prompt_c * 0.5 / (g * x)
                    - math.log(7864 * math.log(2) / 1e6)
                    + math.log(math.log1p(gap * g * (1 - x) / 0.5)))

        x = brentq(f, 1e-300, 1 - 2**-53, xtol=1e-300, rtol=4 * np.finfo(float).eps)
        t = a0 * math.exp(sc.prompt_c * 0.5 / (g * x))
        assert lat == pytest.approx(t, rel=1e-12), s


def test_batched_methods_match_scalar_calls():
    snr = np.array([[3.0, 11.0, 17.0], [22.0, 26.0, 35.0]])
    for method in ("lemma1", "discrete", "bisection", "unaware"):
        allocator = make(method)
        batch = allocator.allocate(snr, 0.01, 1e-6)
        assert np.shape(batch.latency_s) == snr.shape
        assert np.shape(batch.power_w) == snr.shape + (2,)
        assert np.shape(batch.status) == snr.shape
        assert np.shape(batch.extras["bits_per_symbol"]) == snr.shape + (1,)
        for idx in np.ndindex(*snr.shape):
            one = allocator.allocate(float(snr[idx]), 0.01, 1e-6)
            assert one.status == batch.status[idx]
            np.testing.assert_allclose(batch.power_w[idx], one.power_w, rtol=1e-12)


def test_bisection_agrees_with_lemma1_and_cvxpy_on_random_instances():
    for ref in random_instances(10, seed=3):
        args = (ref.snr, ref.budget, ref.target)
        bis = run(*args, "bisection", **ref.options)
        newton = run(*args, "lemma1", **ref.options)
        cvx = run(*args, "cvxpy", **ref.options)
        for alloc in (bis, newton, cvx):
            assert ref.check(alloc) == [], ref.name
        assert newton.latency_s == pytest.approx(bis.latency_s, rel=1e-12)
        assert cvx.latency_s == pytest.approx(bis.latency_s, rel=1e-6), ref.name
        # all stream latencies equal at the optimum
        t = np.asarray(newton.extras["stream_latency_s"])
        active = np.asarray([1, *ref.options["stream_bits"]]) > 0
        assert np.ptp(t[active]) <= 1e-9 * t.max()


def test_many_streams_one_to_eight_lemma1_equals_bisection():
    rng = np.random.default_rng(5)
    for n in range(1, 9):
        sc = LatencyScenario(stream_bits=tuple(int(v) for v in rng.integers(500, 20000, n)),
                             bandwidth_hz=tuple(float(v) for v in rng.uniform(0.2e6, 2e6, n + 1)))
        ber = list(10.0 ** rng.uniform(-8, -2, n))
        snr = rng.uniform(-5, 45, 64)
        a = run(snr, 0.01, ber, "lemma1", **scenario_options(sc))
        b = run(snr, 0.01, ber, "bisection", **scenario_options(sc))
        assert np.all(a.success) and np.all(b.success)
        np.testing.assert_allclose(a.latency_s, b.latency_s, rtol=1e-12)
        assert check_allocation(a, sc, snr, 0.01, ber, rtol=1e-12) == []


def test_joint_bandwidth_never_slower_than_equal_split():
    for ref in random_instances(6, seed=11):
        sc = scenario_of(ref)
        n, total = sc.n_streams, sc.total_bandwidth_hz
        equal = scenario_options(sc.with_bandwidth([total / (1 + n)] * (1 + n)))
        args = (ref.snr, ref.budget, ref.target)
        eq = run(*args, "lemma1", **equal)
        joint = run(*args, "joint-bandwidth", **ref.options)
        assert ref.check(joint) == [], ref.name
        bw = np.asarray(joint.extras["bandwidth_hz"])
        assert bw.sum() == pytest.approx(total, rel=1e-9)
        assert joint.latency_s <= eq.latency_s * (1 + 1e-9), ref.name
        # and never slower than the scenario's own fixed bandwidths
        fixed = run(*args, "lemma1", **ref.options)
        assert joint.latency_s <= fixed.latency_s * (1 + 1e-9)


def test_joint_bandwidth_dqcp_formulation_agrees():
    dcp = run(15.0, 0.01, 1e-6, "joint-bandwidth")
    dqcp = run(15.0, 0.01, 1e-6, "joint-bandwidth", formulation="dqcp")
    assert dqcp.latency_s == pytest.approx(dcp.latency_s, rel=2e-2)
    assert dqcp.latency_s >= dcp.latency_s * (1 - 1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_reference_problems_conformance(method):
    refs = reference_problems()
    if method in ("cvxpy", "joint-bandwidth"):
        refs = refs[::2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ref in refs:
            alloc = run(ref.snr, ref.budget, ref.target, method, **ref.options)
            assert conformance_violations(alloc, ref) == [], (method, ref.name)
            assert alloc.method == method and alloc.problem == "latency"
            assert np.shape(alloc.status) == np.shape(ref.snr)
            assert set(np.ravel(alloc.status)) <= {"optimal", "outage", "infeasible"}
            again = run(ref.snr, ref.budget, ref.target, method, **ref.options)
            np.testing.assert_array_equal(np.asarray(alloc.power_w), np.asarray(again.power_w))


# --------------------------------------------------------------------------------------
# Issue 13: successes with a wrong answer (regression tests)
# --------------------------------------------------------------------------------------
def test_bisection_at_very_high_snr_returns_finite_power_not_infinite():
    """Issue 13: bisection at 200 dB returned infinite power with status optimal."""
    for snr in (150.0, 200.0):
        bis = run(snr, 0.01, 1e-6, "bisection")
        assert bis.success and np.all(np.isfinite(bis.power_w)), snr
        assert np.sum(bis.power_w) == pytest.approx(0.01, rel=1e-12)
        assert bis.latency_s == pytest.approx(run(snr, 0.01, 1e-6).latency_s, rel=1e-12)


def test_lemma1_snr_that_overflows_is_rejected_and_extreme_snr_is_finite():
    """Issue 13: lemma1 at an overflowing SNR returned NaN power."""
    with pytest.raises(ValueError, match="snr"):
        run(3100.0, 0.01, 1e-6)
    # the largest plausible SNR at a tiny reference power: γ̄ at the budget ≈ 1e59
    extreme = run(200.0, "1 GW", 1e-6, "lemma1", reference_power_w=1e-30)
    assert extreme.success and np.all(np.isfinite(extreme.power_w))
    assert np.sum(extreme.power_w) == pytest.approx(1e9, rel=1e-12)
    low = run(-200.0, "1e-30 W", 1e-6, "lemma1", reference_power_w="1 GW")
    assert not low.success and low.status in ("infeasible", "numerical_error")
    assert not np.any(np.isinf(low.power_w))


def test_joint_bandwidth_slower_than_fixed_bandwidths_is_never_optimal():
    """Issue 13: joint-bandwidth at 80 dB returned a latency 167x lemma1's as optimal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        joint = run([80.0, 20.0], 0.01, 1e-6, "joint-bandwidth")
    fixed = run([80.0, 20.0], 0.01, 1e-6)
    for k in range(2):
        if joint.status[k] == "optimal":
            assert joint.latency_s[k] <= fixed.latency_s[k] * (1 + 1e-9)
            assert np.all(np.isfinite(joint.power_w[k]))
        else:
            assert joint.status[k] == "numerical_error"
            assert np.all(np.isnan(joint.power_w[k]))
    assert joint.status[1] == "optimal"


class _OldJointAt80dB(JointBandwidthMethod):
    """The solver point issue 13 saw at 80 dB (B = 1.998 MHz / 2.2 kHz), every row."""

    name = "old-joint"

    def _solve_one(self, gbar, gap):
        beta = np.array([1997756.31269807, 2243.68730193]) / 2e6
        return np.array([3.61e-12, 1.0]), beta, "CLARABEL", 10


def test_joint_bandwidth_point_slower_than_a_fixed_split_is_refused():
    """Issue 13: joint-bandwidth returned a latency 167x lemma1's with status optimal."""
    alloc = _OldJointAt80dB().allocate([80.0, 20.0], 0.01, 1e-6)
    assert alloc.status.tolist() == ["numerical_error", "numerical_error"]
    assert np.all(np.isnan(alloc.power_w)) and not np.any(alloc.success)
    assert "slower than a fixed bandwidth split" in alloc.message


class _BrokenMethod(LatencyMethod):
    """A method returning what issue 13 saw: infinite, NaN and over-budget power."""

    name = "broken"

    def solve_reachable(self, inputs):
        x = np.array([[np.inf, 0.5], [np.nan, 0.5], [0.7, 0.6], [0.4, 0.6]])
        claimed = np.array([1e-3, 1e-3, 1e-3, 1.0])   # row 3: inconsistent with its powers
        return LatencySolution(x, np.zeros(4, dtype=np.int8), latency_s=claimed,
                               message="broken")


def test_recheck_refuses_infinite_nan_over_budget_and_inconsistent_rows():
    alloc = _BrokenMethod().allocate([10.0, 10.0, 10.0, 10.0], 0.01, 1e-6)
    assert alloc.status.tolist() == ["numerical_error"] * 4
    assert not np.any(alloc.success)
    assert np.all(np.isnan(alloc.power_w)) and np.all(np.isnan(alloc.latency_s))
    assert "continuous-MQAM optimum" in alloc.message
    assert conformance_violations(alloc) == []


def test_recheck_keeps_max_iterations_rows_not_successful():
    alloc = run([0.0, 30.0], 0.01, 1e-6, "lemma1", max_iter=1)
    assert set(alloc.status.tolist()) <= {"max_iterations", "optimal"}
    assert "max_iterations" in alloc.status.tolist()
    assert not np.all(alloc.success)
    assert STATUS_CODE["max_iterations"] == 3


# --------------------------------------------------------------------------------------
# Discrete adaptation (Table II) and the unaware benchmark
# --------------------------------------------------------------------------------------
def test_discrete_reproduces_table2_first_column():
    snr = np.round(np.arange(0.0, 30.01, 0.2), 1)
    alloc = run(snr, 0.01, 1e-6, "discrete")
    bps = np.asarray(alloc.extras["bits_per_symbol"])[:, 0]
    ranges = {m: (snr[bps == m].min(), snr[bps == m].max()) for m in (6, 4, 2)}
    assert ranges == {6: (24.2, 30.0), 4: (18.0, 24.0), 2: (11.2, 17.8)}
    assert snr[bps == 0].max() == 11.0
    lat = np.asarray(alloc.latency_s)
    assert lat[bps == 6] == pytest.approx(7864 / 6e6)
    assert lat[bps == 2] == pytest.approx(3.932e-3)
    assert set(np.asarray(alloc.status)[bps == 0]) == {"outage"}


def test_discrete_outage_and_overrun_option():
    out = run(5.0, 0.01, 1e-6, "discrete")
    assert not out.success and out.status == "outage"
    assert out.extras["bits_per_symbol"].tolist() == [0.0]
    # 11.0 dB: 4-QAM fits, but the prompt cannot finish within T_1 (paper's rule)
    strict = run(11.0, 0.01, 1e-6, "discrete")
    loose = run(11.0, 0.01, 1e-6, "discrete", prompt_within_stream=False)
    assert strict.status == "outage" and loose.status == "optimal"
    assert loose.latency_s > 7864 / 2e6
    with pytest.raises(ValueError, match="prompt_within_stream"):
        make("discrete", prompt_within_stream="no")


def test_discrete_multistream_exact_against_enumeration():
    sc = LatencyScenario(stream_bits=(6000, 3000), bandwidth_hz=(1e6, 1e6, 0.5e6))
    ber = np.array([1e-5, 1e-3])
    snr_db = 24.0
    alloc = run(snr_db, 0.01, ber, "discrete", prompt_within_stream=False,
                **scenario_options(sc))
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
    assert check_allocation(alloc, sc, snr_db, 0.01, ber) == []


def test_unaware_benchmark():
    alloc = run(15.0, 0.01, 1e-6, "unaware")
    k = 1.5 / -np.log(5e-7)
    assert alloc.latency_s == pytest.approx((629 + 7864) / (2e6 * np.log2(1 + k * 10 ** 1.5)))
    assert alloc.extras["expected_transmissions"] == 1.0
    assert np.asarray(alloc.power_w).sum() == pytest.approx(0.01)
    disc = run([10.0, 15.0], 0.01, 1e-6, "unaware", modulation="discrete")
    assert disc.status.tolist() == ["outage", "optimal"]
    assert disc.latency_s[1] == pytest.approx((629 + 7864) / (2e6 * 2))
    with pytest.raises(ValueError, match="modulation"):
        make("unaware", modulation="analog")


# --------------------------------------------------------------------------------------
# Monotonicity (property tests)
# --------------------------------------------------------------------------------------
snr_pairs = st.tuples(st.floats(-5, 40), st.floats(0, 10))


@SETTINGS
@given(pair=snr_pairs, ber=st.floats(-9, -2), method=st.sampled_from(["lemma1", "discrete",
                                                                       "unaware"]))
def test_latency_non_increasing_in_snr(pair, ber, method):
    snr, delta = pair
    alloc = run([snr, snr + delta], 0.01, 10.0 ** ber, method)
    lat = np.where(np.asarray(alloc.success), np.asarray(alloc.latency_s), np.inf)
    assert lat[1] <= lat[0] * (1 + 1e-12)


@SETTINGS
@given(snr=st.floats(-5, 40), p=st.floats(1e-4, 1.0), factor=st.floats(1.0, 10.0),
       method=st.sampled_from(["lemma1", "discrete", "bisection"]))
def test_latency_non_increasing_in_budget(snr, p, factor, method):
    """With a fixed channel (snr measured at 10 mW), more power never slows it down."""
    allocator = make(method, reference_power_w=0.01)
    a = allocator.allocate(snr, p, 1e-6)
    b = allocator.allocate(snr, p * factor, 1e-6)
    la = a.latency_s if a.success else np.inf
    lb = b.latency_s if b.success else np.inf
    assert lb <= la * (1 + 1e-12)


@SETTINGS
@given(snr=st.floats(-5, 40), ber=st.floats(-9, -1), tighten=st.floats(0, 4),
       method=st.sampled_from(["lemma1", "discrete", "bisection"]))
def test_latency_non_decreasing_as_target_tightens(snr, ber, tighten, method):
    ber = min(10.0 ** ber, 0.19)
    loose = run(snr, 0.01, ber, method)
    tight = run(snr, 0.01, ber * 10.0 ** -tighten, method)
    lo = loose.latency_s if loose.success else np.inf
    ti = tight.latency_s if tight.success else np.inf
    assert ti >= lo * (1 - 1e-12)


def test_distance_helper_gives_monotone_budget_curve():
    sc = LatencyScenario()
    budgets = np.array([1e-3, 3e-3, 1e-2, 3e-2])
    snr = sc.snr_db_from_distance(100.0, budgets)
    lat = [run(float(s), float(p), 1e-6).latency_s for s, p in zip(snr, budgets)]
    assert np.all(np.diff(lat) < 0)


# --------------------------------------------------------------------------------------
# Targets, errors, infeasibility
# --------------------------------------------------------------------------------------
def test_metric_targets_through_quality_curve():
    alloc = run(20.0, 0.01, {"clip": 0.999, "ms-ssim": 0.991})
    ref = run(20.0, 0.01, 1e-6)
    assert alloc.latency_s == pytest.approx(ref.latency_s, rel=1e-12)
    assert alloc.extras["quality"]["clip"] == pytest.approx(0.999)
    # the tighter metric decides: MS-SSIM 0.982 alone gives 1e-5, with CLIP 0.999 -> 1e-6
    both = run(20.0, 0.01, {"clip": 0.999, "ms-ssim": 0.982})
    assert both.extras["target_ber"].tolist() == pytest.approx([1e-6])
    assert run(20.0, 0.01, {"ber": 1e-6}).latency_s == pytest.approx(ref.latency_s)


@pytest.mark.parametrize("method", ["lemma1", "discrete", "cvxpy", "unaware"])
def test_unreachable_metric_is_infeasible(method):
    alloc = run([10.0, 20.0], 0.01, {"clip": 0.9999}, method)
    assert not np.any(alloc.success)
    assert set(np.asarray(alloc.status).tolist()) == {"infeasible"}
    assert "0.999" in alloc.message
    assert np.shape(alloc.status) == (2,)


@pytest.mark.parametrize("options, args", [
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
    ({}, (10.0, 0.01, True)),
    ({"bandwidth_hz": 0.0}, (10.0, 0.01, 1e-6)),
    ({"bandwidth_hz": (1e6, -1e6)}, (10.0, 0.01, 1e-6)),
    ({"stream_bits": (-5,)}, (10.0, 0.01, 1e-6)),
    ({"prompt_bits": -5}, (10.0, 0.01, 1e-6)),
    ({"prompt_bits": True}, (10.0, 0.01, 1e-6)),
    ({"orders": "inf"}, (10.0, 0.01, 1e-6)),
    ({"stream_bits": (100, 200)}, (10.0, 0.01, [1e-6, 1e-6, 1e-6])),
    ({"nonsense": 1}, (10.0, 0.01, 1e-6)),
])
def test_bad_input_raises_value_error(options, args):
    with pytest.raises(ValueError):
        make("lemma1", **options).allocate(*args)


def test_zero_bit_stream_needs_no_power():
    alloc = run(15.0, 0.01, 1e-6, stream_bits=(7864, 0))
    assert alloc.power_w[2] == 0.0
    one = run(15.0, 0.01, 1e-6)
    # the zero-bit stream still holds its 1 MHz, so compare with a 3 MHz total band
    assert alloc.success and alloc.latency_s > 0 and one.success


# --------------------------------------------------------------------------------------
# CLI (the generic `semopt allocate`, flags derived from the declared options)
# --------------------------------------------------------------------------------------
def _cli(argv, capsys):
    from semopt.cli import main

    rc = main(["allocate", "--problem", "latency", *argv])
    return rc, capsys.readouterr()


def test_cli_json_fields(capsys):
    rc, out = _cli(["--snr", "15", "--budget", "10 mW", "--target", "1e-6",
                    "--prompt-bits", "629", "--stream-bits", "7864", "--format", "json"],
                   capsys)
    assert rc == 0, out.err
    doc = json.loads(out.out)
    for key in ("success", "status", "latency_s", "power_w", "bits_per_symbol",
                "expected_transmissions", "message"):
        assert key in doc
    assert doc["success"] is True and doc["status"] == "optimal"
    assert len(doc["power_w"]) == 2 and len(doc["bits_per_symbol"]) == 1


def test_cli_discrete_multistream_batch_and_errors(capsys):
    rc, out = _cli(["--snr", "5", "--target", "1e-6", "--method", "discrete",
                    "--format", "json"], capsys)
    doc = json.loads(out.out)
    assert rc == 0 and doc["status"] == "outage" and doc["bits_per_symbol"] == [0.0]
    rc, out = _cli(["--snr", "20", "--target", "1e-6,1e-4", "--stream-bits", "7864,3000",
                    "--bandwidth", "1MHz,1MHz,0.5MHz", "--method", "bisection",
                    "--format", "json"], capsys)
    doc = json.loads(out.out)
    assert rc == 0 and len(doc["power_w"]) == 3
    rc, out = _cli(["--snr", "-2", "--snr", "12", "--target", "1e-5", "--format", "json"],
                   capsys)
    assert rc == 0 and json.loads(out.out)["status"] == ["optimal", "optimal"]
    rc, out = _cli(["--snr", "11", "--target", "1e-6", "--method", "discrete",
                    "--no-prompt-within-stream", "--format", "json"], capsys)
    assert rc == 0 and json.loads(out.out)["status"] == "optimal"
    rc, out = _cli(["--snr", "20", "--budget", "0", "--target", "1e-6"], capsys)
    assert rc == 2 and "--budget" in out.err
    rc, out = _cli(["--snr", "20", "--target", "1e-6", "--stream-bits", "-3"], capsys)
    assert rc == 2
    rc, out = _cli(["--snr", "20", "--target", "clip>=0.9999", "--format", "json"], capsys)
    assert rc == 0 and json.loads(out.out)["status"] == "infeasible"
