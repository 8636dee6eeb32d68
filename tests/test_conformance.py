"""Every registered allocator of every problem on its problem's shared reference problems.

A method registered without reference problems for its problem fails here, so the
suite grows with the registry. Checks (``semopt.testing.conformance_violations``): the
one result type, a known status matching ``success``, non-negative finite power whose
sum is ``total_power_w``, the budget respected where the problem caps power, a
non-empty message; and determinism (the same call twice gives the same result).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import semopt
from semopt.testing import conformance_violations


def _minpower() -> Iterator[tuple[dict, Any, Any, Any, dict]]:
    from semopt.testing.minpower import reference_problems

    for ref in reference_problems(n_targets=3, fading_draws=2)[::3]:
        yield ({"table": ref.table, "scheme": ref.scheme}, ref.snr_db, ref.budget_w, ref.target,
               {"budget_w": ref.budget_w, "target": ref.target})


def _latency() -> Iterator[tuple[dict, Any, Any, Any, dict]]:
    from semopt.testing.latency import reference_problems

    for ref in reference_problems():
        yield ref.config(), ref.snr_db, ref.budget_w, list(ref.target_ber), {"budget_w": ref.budget_w}


def _gvif() -> Iterator[tuple[dict, Any, Any, Any, dict]]:
    from semopt.testing.gvif import REFERENCE_PROBLEMS, synthetic_table

    table = synthetic_table()
    for _, snr, budget, target in REFERENCE_PROBLEMS:
        yield {"table": table}, snr, budget, target, {}


def _operating_point() -> Iterator[tuple[dict, Any, Any, Any, dict]]:
    from semopt.testing.operating_point import REFERENCE_PROBLEMS, illustrative_table

    table = illustrative_table()
    for case in REFERENCE_PROBLEMS:
        yield ({"table": table, "channel": case["channel"]}, case["snr"], case["budget"],
               case["target"], {})


REFERENCES = {"min-power": _minpower, "latency": _latency, "gvif": _gvif,
              "operating-point": _operating_point}
SLOW = {("min-power", "exhaustive"), ("min-power", "slsqp"), ("min-power", "genetic"),
        ("latency", "joint-bandwidth"), ("latency", "cvxpy")}

PAIRS = [(p, m) for p, methods in semopt.list_methods().items() for m in methods]


def test_every_problem_has_reference_problems():
    assert set(semopt.list_problems()) == set(REFERENCES)


@pytest.mark.parametrize("problem, method", PAIRS)
def test_conformance(problem, method):
    cases = list(REFERENCES[problem]())
    if (problem, method) in SLOW:
        cases = cases[::2]
    assert cases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for config, snr, budget, target, limits in cases:
            first = semopt.allocate(snr, budget, target, problem=problem, method=method, **config)
            assert first.method == method and first.problem == problem
            assert conformance_violations(first, **limits) == [], (problem, method, snr, target)
            again = semopt.allocate(snr, budget, target, problem=problem, method=method, **config)
            np.testing.assert_array_equal(np.asarray(first.power_w, float),
                                          np.asarray(again.power_w, float))
            assert first.status == again.status
