"""Every registered allocator of every problem on its problem's shared reference problems.

A problem registered without reference problems fails here, so the suite grows with the
registry. Checks (``semopt.testing.conformance_violations``): the one result contract
(type, shapes and dtypes of every field, known statuses matching ``success``),
non-negative finite power whose sum is ``total_power_w``, the budget, the problem's own
independent recheck, a non-empty message; determinism (the same call twice gives the
same result); and the batch contract: a batch of two realizations gives fields of shape
(2,) with the same dtypes as for every other problem.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import semopt
from semopt.testing import conformance_violations, reference_problems

SLOW = {("min-power", "exhaustive"), ("min-power", "slsqp"), ("min-power", "genetic"),
        ("latency", "joint-bandwidth"), ("latency", "cvxpy")}
PAIRS = [(p, m) for p, methods in semopt.list_methods().items() for m in methods]


def _cases(problem, method):
    cases = reference_problems(problem)
    if (problem, method) in SLOW:
        cases = cases[::4] if problem == "min-power" else cases[::2]
    elif problem == "min-power":
        cases = cases[::3]
    return cases


@pytest.mark.parametrize("problem", semopt.list_problems())
def test_every_problem_has_reference_problems(problem):
    cases = reference_problems(problem)
    assert cases and all(c.problem == problem for c in cases)


@pytest.mark.parametrize("problem, method", PAIRS)
def test_conformance(problem, method):
    cases = _cases(problem, method)
    assert cases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in cases:
            first = semopt.allocate(case.snr, case.budget, case.target, problem=problem,
                                    method=method, **case.options)
            assert first.method == method and first.problem == problem
            assert conformance_violations(first, case) == [], (problem, method, case.name)
            again = semopt.allocate(case.snr, case.budget, case.target, problem=problem,
                                    method=method, **case.options)
            np.testing.assert_array_equal(np.asarray(first.power_w, float),
                                          np.asarray(again.power_w, float))
            np.testing.assert_array_equal(np.asarray(first.status), np.asarray(again.status))


@pytest.mark.parametrize("problem, method", PAIRS)
def test_batch_of_two_has_the_batch_shape(problem, method):
    case = _cases(problem, method)[0]
    snr = np.asarray(case.snr, dtype=float)
    batch = np.stack([snr, snr + 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = semopt.allocate(batch, case.budget, case.target, problem=problem, method=method,
                              **case.options)
    assert res.batch_shape == (2,)
    assert conformance_violations(res, budget_w=case.budget_w) == []
    for name in ("success", "status", "objective", "perception", "total_power_w", "latency_s"):
        assert np.shape(getattr(res, name)) == (2,), name
    assert res.status.dtype.kind == "U" and res.success.dtype == bool
    assert np.asarray(res.objective).dtype == float
