"""Fuzz suite of the public entry points: ``semopt.allocate`` for every problem and method,
and the command line.

Inputs are drawn by Hypothesis around the shared reference problems and far outside them
(extreme, non-finite, malformed values, bools, wrong shapes, strings with and without
units). Every call must either raise a clean ``ValueError`` or return an
:class:`~semopt.Allocation` that satisfies the result contract and, where successful, an
independent recheck of the constraint and the budget. Unhandled exceptions, failed
rechecks and hangs are counted per entry point (:mod:`semopt.testing.fuzz`) and printed at
the end of the run. ``derandomize=True`` keeps CI deterministic; the example counts are
bounded.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import semopt
from semopt.cli import main as cli_main
from semopt.testing import conformance_violations, fuzz, reference_problems

FUZZ = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

NASTY_NUMBERS = st.sampled_from([0.0, -0.0, -1.0, 1e-320, 5e-324, 1e-300, 1e300, 1e308, math.inf,
                                 -math.inf, math.nan, True, False, 10**400])
DB_VALUES = st.one_of(st.floats(-60, 80), st.floats(-1e6, 1e6), NASTY_NUMBERS,
                      st.sampled_from(["12 dB", "12dB", "12", "-3 dB", "12 dBm", "x dB", "", "nan",
                                       "inf", "1e999"]))


def _snr_strategy(n_streams: int | None):
    scalar = DB_VALUES
    if not n_streams:
        return st.one_of(scalar, st.lists(st.floats(-20, 40), min_size=0, max_size=5),
                         st.lists(scalar, min_size=1, max_size=3))
    return st.one_of(
        scalar,
        st.lists(st.floats(-40, 60), min_size=n_streams, max_size=n_streams),
        st.lists(st.floats(-40, 60), min_size=0, max_size=n_streams + 2),
        st.lists(st.lists(st.floats(-40, 60), min_size=n_streams, max_size=n_streams),
                 min_size=1, max_size=4),
        st.lists(scalar, min_size=n_streams, max_size=n_streams),
    )


POWER_BUDGETS = st.one_of(st.floats(1e-6, 10.0), NASTY_NUMBERS,
                          st.sampled_from(["10 mW", "10 MW", "10 mw", "10 dBm", "-200 dBm", "500 dBm",
                                           "10 parsecs", "mW", "", "1e-40 W", [0.01, 0.02],
                                           None]))


def _recheck(case, snr, budget):
    def check(allocation):
        if not isinstance(allocation, semopt.Allocation):
            return [f"returned a {type(allocation).__name__}"]
        budget_w = None
        if case.budget_w is not None:
            try:
                budget_w = float(np.max(semopt.units.parse_power(budget, "budget")))
            except (ValueError, TypeError):
                budget_w = None
        return conformance_violations(allocation, budget_w=budget_w)

    return check


def _minpower_recheck(case, snr, budget, target):
    from semopt.testing.minpower import check_allocation

    base = _recheck(case, snr, budget)

    def check(allocation):
        out = base(allocation)
        if out or not np.any(allocation.success):
            return out
        budget_w = float(semopt.units.parse_power(budget, "budget"))
        snr_db = semopt.units.parse_snr_db(snr)
        snr_db = np.broadcast_to(snr_db, np.shape(allocation.power_w)) if np.ndim(snr_db) < 2 \
            else snr_db
        return check_allocation(dict(case.options), snr_db.reshape(-1, 2), budget_w,
                                float(target), allocation)

    return check


def _run(entry, case, snr, budget, target, method, recheck):
    def go():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return semopt.allocate(snr, budget, target, problem=case.problem, method=method,
                                   **case.options)

    outcome, value = fuzz.call(entry, go, timeout_s=120.0, recheck=recheck)
    assert outcome in ("ok", "rejected"), (entry, snr, budget, target, value)


MINPOWER_CASES = reference_problems("min-power")[::7]
FAST_MINPOWER = ["global-search", "bisection", "proportional", "unaware"]


@pytest.mark.parametrize("method", FAST_MINPOWER)
@FUZZ
@given(data=st.data())
def test_fuzz_minpower(method, data):
    case = data.draw(st.sampled_from(MINPOWER_CASES))
    snr = data.draw(st.one_of(st.just(case.snr), _snr_strategy(2)))
    budget = data.draw(st.one_of(st.just(case.budget), POWER_BUDGETS))
    target = data.draw(st.one_of(st.just(case.target), st.floats(0.0, 1.2), NASTY_NUMBERS,
                                 st.sampled_from(["0.45", "x", [0.4, 0.5], None])))
    _run(f"allocate min-power/{method}", case, snr, budget, target, method,
         _minpower_recheck(case, snr, budget, target) if isinstance(target, float) else
         _recheck(case, snr, budget))


@pytest.mark.slow
@pytest.mark.parametrize("method", ["exhaustive", "slsqp"])
@settings(FUZZ, max_examples=6)
@given(data=st.data())
def test_fuzz_minpower_slow_methods(method, data):
    case = data.draw(st.sampled_from(MINPOWER_CASES))
    snr = data.draw(st.one_of(st.just(case.snr), st.lists(st.floats(-10, 40), min_size=2,
                                                           max_size=2)))
    budget = data.draw(st.one_of(st.just(case.budget), POWER_BUDGETS))
    _run(f"allocate min-power/{method}", case, snr, budget, case.target, method,
         _minpower_recheck(case, snr, budget, case.target))


def _other_problem_cases():
    out = []
    for problem in semopt.list_problems():
        if problem == "min-power":
            continue
        cases = reference_problems(problem)
        out += [(problem, m, cases) for m in semopt.list_methods(problem)
                if m not in ("cvxpy", "joint-bandwidth")]
    return out


@pytest.mark.parametrize("problem, method, cases", _other_problem_cases(),
                         ids=lambda v: v if isinstance(v, str) else "")
@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_fuzz_every_other_problem(problem, method, cases, data):
    case = data.draw(st.sampled_from(cases))
    snr = data.draw(st.one_of(st.just(case.snr), _snr_strategy(None)))
    budget = data.draw(st.one_of(st.just(case.budget), POWER_BUDGETS,
                                 st.sampled_from(["20 ms", "20 Ms", "-1 s", "2048 symbols",
                                                  "1e400 symbols", "nan symbols"])))
    target = data.draw(st.one_of(st.just(case.target), NASTY_NUMBERS,
                                 st.sampled_from(["26dB", "1e-5", "psnr>=19.9", "clip>=2",
                                                  "psnr>=nan", {"clip": 0.999}, [1e-5, 1e-6],
                                                  None, "x"])))

    def recheck(allocation):
        out = _recheck(case, snr, budget)(allocation)
        if not out and (snr, budget, target) == (case.snr, case.budget, case.target) \
                and case.check is not None and np.any(allocation.success):
            out = case.check(allocation)
        return out

    _run(f"allocate {problem}/{method}", case, snr, budget, target, method, recheck)


CLI_TOKENS = st.sampled_from([
    "--snr", "12", "-3,-1", "--snr=-2", "--budget", "10 mW", "10 MW", "--target", "0.45", "1e-5",
    "--problem", "latency", "gvif", "min-power", "operating-point", "--method", "bisection",
    "nope", "--bits", "inf,100", "800,13036", "--orders", "inf", "--format", "csv", "json",
    "--json", "--reference-power", "-3 W", "--table", "../x", "no-such-table", "--segments",
    "0", "abc", "--snr-file", "/missing.csv", "--scheme", "forward", "--help-me", "",
])


@settings(FUZZ, max_examples=60)
@given(st.lists(CLI_TOKENS, min_size=0, max_size=10))
def test_fuzz_cli_allocate(capsys, tokens):
    def go():
        code = cli_main(["allocate", *tokens])
        captured = capsys.readouterr()
        if code not in (0, 2):
            raise AssertionError(f"exit code {code}")
        if "Traceback" in captured.err or (code == 2 and len(captured.err.strip().splitlines()) > 1
                                          and "usage:" not in captured.err):
            raise AssertionError(f"not one line: {captured.err!r}")
        return code

    outcome, value = fuzz.call("cli allocate", go, timeout_s=120.0)
    assert outcome == "ok", (tokens, value)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["cvxpy", "joint-bandwidth"])
@settings(FUZZ, max_examples=5)
@given(data=st.data())
def test_fuzz_latency_convex_methods(method, data):
    cases = reference_problems("latency")
    case = data.draw(st.sampled_from(cases))
    snr = data.draw(st.one_of(st.just(case.snr), st.floats(-30, 80), NASTY_NUMBERS))
    budget = data.draw(st.one_of(st.just(case.budget), POWER_BUDGETS))

    def recheck(allocation):
        out = _recheck(case, snr, budget)(allocation)
        if not out and (snr, budget) == (case.snr, case.budget) and np.any(allocation.success):
            out = case.check(allocation)
        return out

    _run(f"allocate latency/{method}", case, snr, budget, case.target, method, recheck)
