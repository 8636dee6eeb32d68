"""Regression tests for the min-power failures a fuzz campaign found (issue 13).

Each test is named after the failure it pins; each failed on the code before the
contract's recheck and strict parsing.
"""

from __future__ import annotations

import numpy as np
import pytest

import semopt
from semopt.testing.minpower import check_allocation


def test_subnormal_budget_is_rejected_not_optimal_at_zero_power():
    with pytest.raises(ValueError, match=r"budget: .*plausible range"):
        semopt.allocate(22, 5e-324, 0.45)


@pytest.mark.parametrize("snr", [400.0, 1e308, -1e308])
def test_overflowing_snr_is_rejected_not_optimal_at_zero_power(snr):
    with pytest.raises(ValueError, match=r"snr: .*plausible range"):
        semopt.allocate(snr, "10 mW", 0.45)


@pytest.mark.parametrize("code_rate", [1e-9, 0.0, 1.5, float("nan")])
def test_extreme_code_rate_is_rejected(code_rate):
    with pytest.raises(ValueError, match="code_rate"):
        semopt.allocate(22, "10 mW", 0.45, code_rate=code_rate)


@pytest.mark.parametrize("bits", [[1e400, 10], [10**20, 10], [0, 10], [1.5, 10]])
def test_unbounded_bits_name_the_option(bits):
    with pytest.raises(ValueError, match=r"^bits:"):
        semopt.allocate(22, "10 mW", 0.45, bits=bits)


@pytest.mark.parametrize("code_rate", [1e-4, 0.05, 0.999999, 1.0])
@pytest.mark.parametrize("method", ["global-search", "bisection", "proportional", "unaware"])
def test_success_at_extreme_code_rates_meets_the_target_when_rechecked(code_rate, method):
    res = semopt.allocate(22, "10 mW", 0.45, code_rate=code_rate, method=method)
    violations = check_allocation({"code_rate": code_rate}, np.array([22.0, 22.0]), 0.01, 0.45, res)
    assert violations == []
    if res.success:
        assert res.total_power_w <= 0.01 * (1 + 1e-9)


def test_non_finite_method_output_is_a_numerical_error_not_optimal():
    from semopt.problems.minpower import MinPowerProblem, MinPowerSolution

    problem = MinPowerProblem()
    inputs = problem.parse([22, 22], "10 mW", 0.45)
    bad = MinPowerSolution(np.array([[-2.0, -3.0]]), np.array([[np.inf, 1.0]]), 1, 1)
    res = problem.assemble(inputs, bad, method="test", wall_time_s=0.0)
    assert res.status == "numerical_error" and not res.success


def test_a_point_that_misses_the_target_when_rechecked_is_not_optimal():
    from semopt.problems.minpower import MinPowerProblem, MinPowerSolution

    problem = MinPowerProblem()
    inputs = problem.parse([22, 22], "10 mW", 0.45)
    # Both streams at a BLER of 0.9: feasible rates for nothing, perception far above P̄.
    wrong = MinPowerSolution(np.log10(np.array([[0.9, 0.9]])), None, 1, 1)
    res = problem.assemble(inputs, wrong, method="test", wall_time_s=0.0)
    assert res.status == "infeasible" and not res.success
