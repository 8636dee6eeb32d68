"""Min-power curve methods against the dense grid over every regime of the target P̄.

The regimes are set by the perception with one stream alone. Coded (discard): the
subset values P_{1} (prompt only) and P_{2} (edge map only); uncoded (forward): the
analogous single-stream values P_fwd(0, ½) and P_fwd(½, 0) (one stream error-free, the
other at the maximum BER). Sorted, they cut (P_best, P_worst) into three intervals; in
each the iso-perception curve has a different shape (both streams needed, one of them
optional, either one optional), so each interval gets targets. Channels: unit fading
and Rayleigh draws around the paper's 22 dB at 10 mW; both shipped tables, both schemes.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import semopt
from semopt import tables
from semopt.link import fbl
from semopt.registry import get_problem

TABLES = ("xu2025-kodak-clip", "xu2025-kodak-msssim")
SCHEMES = ("discard", "forward")
TARGETS_PER_REGIME = 4
RAYLEIGH_DRAWS = 5


def regime_edges(table, scheme: str) -> np.ndarray:
    """(P_best, lower one-stream value, upper one-stream value, P_worst) of a table."""
    if scheme == "discard":
        alone = table.discard.values[[1, 2]]  # masks: stream 1 only, stream 2 only
    else:
        alone = table.perception(np.array([[0.0, 0.5], [0.5, 0.0]]), "forward")
    return np.concatenate([[table.best(scheme)], np.sort(alone), [table.worst(scheme)]])


def regime_targets(table, scheme: str, per_regime: int = TARGETS_PER_REGIME) -> np.ndarray:
    """``per_regime`` targets strictly inside each of the three regimes (and their index)."""
    edges = regime_edges(table, scheme)
    out = []
    for lo, hi in itertools.pairwise(edges):
        out.append(lo + (hi - lo) * np.linspace(0.03, 0.97, per_regime))
    return np.concatenate(out)


def channel_draws(seed: int = 11) -> np.ndarray:
    """Per-stream SNRs (dB) at 10 mW: unit fading, then Rayleigh power gains."""
    rng = np.random.default_rng(seed)
    gains_db = 10 * np.log10(rng.exponential(size=(RAYLEIGH_DRAWS, 2)))
    return np.vstack([np.zeros((1, 2)), gains_db]) + 22.0


def _sweep(method: str, table, scheme: str, **options):
    targets = regime_targets(table, scheme)
    snr = channel_draws()
    grid_snr = np.repeat(snr[:, None, :], len(targets), axis=1)
    grid_target = np.broadcast_to(targets, grid_snr.shape[:2])
    return semopt.allocate(grid_snr, 0.01, grid_target, method=method, table=table, scheme=scheme,
                           **options)


@pytest.fixture(scope="module")
def dense_grid():
    return {(name, scheme): _sweep("exhaustive", tables.load(name), scheme)
            for name in TABLES for scheme in SCHEMES}


def test_regimes_are_ordered_and_cover_both_orders():
    # CLIP: the prompt alone is better (P_{1} < P_{2}); MS-SSIM: the edge map (P_{2} < P_{1}).
    clip, msssim = (tables.load(n) for n in TABLES)
    assert clip.discard.values[1] < clip.discard.values[2]
    assert msssim.discard.values[2] < msssim.discard.values[1]
    for table in (clip, msssim):
        for scheme in SCHEMES:
            edges = regime_edges(table, scheme)
            assert np.all(np.diff(edges) > 0), (table.name, scheme, edges)


@pytest.mark.slow
@pytest.mark.parametrize("name", TABLES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_curve_methods_match_the_dense_grid_in_every_regime(name, scheme, dense_grid):
    table = tables.load(name)
    truth = dense_grid[(name, scheme)]
    ok = truth.success
    assert ok.size == (RAYLEIGH_DRAWS + 1) * 3 * TARGETS_PER_REGIME
    assert ok.sum() >= 0.8 * ok.size  # the sweep is mostly feasible at 22 dB mean
    for method, bound in (("global-search", 1e-6), ("bisection", 5e-3)):
        res = _sweep(method, table, scheme)
        assert np.array_equal(res.success, ok), (method, np.argwhere(res.success != ok))
        gap = res.objective[ok] / truth.objective[ok] - 1.0
        worst = np.unravel_index(np.argmax(np.where(ok, res.objective / truth.objective, 0)),
                                 ok.shape)
        assert gap.max() <= bound, (method, float(gap.max()), worst)
        targets = np.broadcast_to(regime_targets(table, scheme), ok.shape)
        assert np.all(res.perception[ok] <= targets[ok] + 1e-9)


@pytest.mark.slow
def test_paper_algorithm_is_kept_verbatim_and_can_be_far_off(dense_grid):
    # segments=1 is Algorithm 1 on the whole curve: in the coded scheme it returns the
    # left endpoint whenever one exists (an infinite derivative there), even when the
    # interior is cheaper; the measured gap is documented in docs/minpower.md.
    table = tables.load("xu2025-kodak-msssim")
    truth = dense_grid[("xu2025-kodak-msssim", "discard")]
    best = _sweep("global-search", table, "discard")
    literal = _sweep("bisection", table, "discard", segments=1)
    ok = truth.success & literal.success
    assert np.array_equal(literal.success, truth.success)
    # Against global-search (the dense grid is itself a grid: up to 2.5e-5 above the
    # optimum where the curve is steep in Ψ_2, near its end R).
    gap = literal.objective[ok] / best.objective[ok] - 1.0
    assert gap.min() >= -1e-9
    assert gap.max() > 0.05


def test_feasibility_is_decided_on_the_curve_not_by_a_scan():
    # Deep fades: a row is infeasible exactly when no point of the curve fits the
    # budget; the dense grid agrees on a batch with many such rows.
    rng = np.random.default_rng(4)
    snr = 14.0 + 10 * np.log10(rng.exponential(size=(300, 2)))
    for scheme in SCHEMES:
        truth = semopt.allocate(snr, 0.01, 0.45, method="exhaustive", scheme=scheme)
        res = semopt.allocate(snr, 0.01, 0.45, method="global-search", scheme=scheme)
        assert 0 < (~truth.success).sum() < len(snr)
        assert np.array_equal(res.success, truth.success)
        ok = truth.success
        assert np.max(res.objective[ok] / truth.objective[ok] - 1) <= 1e-6
        assert np.all(res.total_power_w <= 0.01 * (1 + 1e-9))
        # Infeasible rows: the best perception within the budget, no worse than a fine
        # scan of the power split.
        bad = np.flatnonzero(~res.success)
        problem = get_problem("min-power")(scheme=scheme)
        split = np.linspace(0.0, 1.0, 4001)
        gamma = 10 ** (snr[bad] / 10)
        rates = problem.error_rate(np.stack([gamma[:, None, 0] * split,
                                             gamma[:, None, 1] * (1 - split)], axis=-1))
        scan = problem.perception(rates).min(axis=1)
        assert np.all(res.perception[bad] <= scan + 1e-12)
        assert np.all(res.perception[bad] > 0.45)
        np.testing.assert_allclose(res.total_power_w[bad], 0.01, rtol=1e-12)


def test_two_stream_surface_equals_the_table():
    from semopt.problems.isocurve import TwoStreamSurface

    rng = np.random.default_rng(0)
    for name in TABLES:
        for scheme in SCHEMES:
            problem = get_problem("min-power")(table=name, scheme=scheme)
            surface = TwoStreamSurface(problem)
            top = problem.max_error_rate
            u = rng.uniform(-9.0, np.log10(top), size=(20000, 2))
            if scheme == "forward":  # exactly on grid lines too
                u[:500, 0] = rng.choice(surface.axis1, 500)
                u[500:1000, 1] = rng.choice(surface.axis2, 500)
            rates = 10**u
            np.testing.assert_allclose(surface.value(rates), problem.perception(rates),
                                       rtol=0, atol=1e-15)


def test_bracketed_fbl_inverse_equals_the_closed_form():
    from semopt.problems.isocurve import fbl_snr_in_bracket

    rng = np.random.default_rng(1)
    k, n = np.array([640.0, 10429.0]), np.array([800.0, 13036.0])
    psi = 10 ** rng.uniform(-15, -1e-9, size=(5000, 2))
    exact = fbl.snr_for_bler(psi, k, n)
    for width in (1e-6, 1e-3, 0.05):
        lo = fbl.snr_for_bler(np.minimum(psi * (1 + width), 1.0), k, n)
        hi = fbl.snr_for_bler(psi * (1 - width), k, n)
        got = fbl_snr_in_bracket(psi, k, n, lo, hi)
        np.testing.assert_allclose(got, exact, rtol=4e-15)
    got = fbl_snr_in_bracket(np.array([1.0]), k[:1], n[:1], np.array([0.0]), np.array([1.0]))
    assert got[0] == 0.0


def test_slope_from_known_snr_equals_the_problem_slope():
    from semopt.problems.isocurve import snr_slope_log10

    rng = np.random.default_rng(2)
    for scheme in SCHEMES:
        problem = get_problem("min-power")(scheme=scheme)
        rates = 10 ** rng.uniform(-12, np.log10(problem.max_error_rate) - 1e-6, size=(3000, 2))
        s = problem.required_snr(rates)
        np.testing.assert_allclose(snr_slope_log10(problem, rates, s),
                                   problem.required_snr_slope_log10(rates), rtol=1e-9)


def test_allocation_on_an_illustrative_surface_says_so():
    table = tables.load("xu2025-kodak-clip")
    assert table.sources == {"forward": "illustrative", "discard": "published"}
    fwd = semopt.allocate(22.0, 0.01, 0.45, scheme="forward")
    assert fwd.extras["illustrative"] is True
    assert "illustrative" in fwd.extras["caveat"].lower()
    assert "ILLUSTRATIVE" in fwd.message
    batch = semopt.allocate([[22.0, 22.0]] * 3, 0.01, 0.45, scheme="forward")
    assert "ILLUSTRATIVE" in batch.message and batch.extras["illustrative"] is True
    coded = semopt.allocate(22.0, 0.01, 0.45, scheme="discard")
    assert coded.extras["illustrative"] is False and "caveat" not in coded.extras
    assert "ILLUSTRATIVE" not in coded.message
