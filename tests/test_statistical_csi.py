"""Statistical CSI for min-power: Rayleigh-averaged error rates (issue 15, item 1).

The mean BLER E[Ψ(sG)] = ∫ Ψ(s g) e^(−g) dg against mpmath at 30 digits in every regime
(E → 1, the transition, the 1/s tail), the tabulated model against the quadrature, the
BPSK closed form, every min-power method on the averaged curves against ``exhaustive``,
and Monte Carlo over ≥ 1e5 Rayleigh draws of the fading-averaged perception of
``csi="statistical"`` allocations.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest

import semopt
from semopt import tables
from semopt.link import bpsk, fbl
from semopt.link.fading import (
    RayleighBler,
    link_model,
    rayleigh_mean_ber_bpsk,
    rayleigh_mean_bler,
    snr_for_rayleigh_mean_ber_bpsk,
)

STREAMS = [(640, 800), (10429, 13036), (8, 10), (80, 100)]
MC_DRAWS = 200_000


def _psi_mp(s, k, n):
    if s == 0:
        return mp.mpf(1)
    rho = mp.mpf(k) / n * mp.log(2)
    v = 1 - (1 + s) ** -2
    return mp.erfc((mp.log1p(s) - rho) * mp.sqrt(n / v) / mp.sqrt(2)) / 2


def _mean_bler_mp(s, k, n):
    """∫ Ψ(s g) e^(−g) dg with breakpoints around the BLER's step (30 digits)."""
    s = mp.mpf(s)
    g0 = mp.expm1(mp.mpf(k) / n * mp.log(2)) / s
    cuts = sorted({mp.mpf(0)} | {g0 * (1 + d) for d in (-0.9, -0.5, -0.2, -0.1, -0.05, -0.02, 0,
                                                        0.02, 0.05, 0.1, 0.2, 0.5, 1, 3, 9)}
                  | {mp.inf})
    return mp.quad(lambda g: _psi_mp(s * g, k, n) * mp.exp(-g), cuts)


@pytest.mark.parametrize("k, n", STREAMS)
def test_mean_bler_quadrature_matches_mpmath_in_every_regime(k, n):
    mp.mp.dps = 30
    threshold = 2.0 ** (k / n) - 1.0
    mean_snr = threshold * np.array([10**-2.5, 0.1, 0.5, 1.0, 3.0, 30.0, 1e4, 1e8])
    ref = [_mean_bler_mp(mp.mpf(float(s)), k, n) for s in mean_snr]
    table = RayleighBler(k, n)
    e, c, _ = table.quadrature(mean_snr)
    for j, r in enumerate(ref):
        assert e[j] == pytest.approx(float(r), rel=2e-13), (k, n, mean_snr[j])
        complement = float(1 - r)
        if complement > 1e-250:
            assert c[j] == pytest.approx(complement, rel=2e-12), (k, n, mean_snr[j])
    np.testing.assert_allclose(rayleigh_mean_bler(mean_snr, k, n), e, rtol=0, atol=0)


def test_quadrature_nodes_sit_on_the_q_argument():
    table = RayleighBler(640, 800)
    from scipy.special import ndtr

    np.testing.assert_allclose(fbl.bler(table.snr_nodes, 640, 800), ndtr(-table.z_nodes),
                               rtol=1e-12)


def test_gauss_laguerre_is_poor_for_the_step_like_integrand():
    """Why the Q-argument substitution: Gauss–Laguerre on g misses the BLER step."""
    k, n = 10429, 13036
    g, w = np.polynomial.laguerre.laggauss(64)
    mean_snr = (2.0 ** (k / n) - 1.0) * np.array([0.5, 1.0, 3.0, 30.0])
    laguerre = np.array([w @ fbl.bler(s * g, k, n) for s in mean_snr])
    exact = RayleighBler(k, n).quadrature(mean_snr)[0]
    assert np.max(np.abs(laguerre - exact) / exact) > 1e-3


@pytest.mark.parametrize("k, n", STREAMS)
def test_tabulated_model_matches_the_quadrature_and_inverts_exactly(k, n):
    table = RayleighBler(k, n)
    s = np.exp(np.linspace(table.t0 - 2.0, table.t_nodes[-1] + 5.0, 40001))
    e, _, _ = table.quadrature(s)
    fast = table.mean_bler(s)
    assert np.max(np.abs(fast - e) / e) < 1e-12
    assert np.all(np.diff(fast) <= 0)  # monotone non-increasing in the mean SNR
    b = np.concatenate([np.logspace(-300, -1, 600), 1 - np.logspace(-10, -0.01, 200)])
    back = table.mean_bler(table.mean_snr_for_bler(b))
    assert np.max(np.abs(back - b) / b) < 1e-13
    assert table.mean_snr_for_bler(1.0) == 0.0 and table.mean_bler(0.0) == 1.0
    bb = np.logspace(-14, -0.5, 30)
    h = 1e-5
    fd = (table.mean_snr_for_bler(bb * 10**h) - table.mean_snr_for_bler(bb * 10**-h)) / (2 * h)
    np.testing.assert_allclose(table.slope_log10(bb), fd, rtol=1e-6)


def test_bpsk_rayleigh_closed_form_and_inverse():
    mp.mp.dps = 30
    for s in (1e-3, 0.3, 3.0, 300.0, 3e6):
        ref = mp.quad(lambda g, s=s: mp.erfc(mp.sqrt(2 * s * g) / mp.sqrt(2)) / 2 * mp.exp(-g),
                      [0, 1 / (10 * s), 1 / s, 10 / s, mp.inf])
        assert rayleigh_mean_ber_bpsk(s) == pytest.approx(float(ref), rel=1e-14)
    b = np.logspace(-12, np.log10(0.5), 200)
    np.testing.assert_allclose(rayleigh_mean_ber_bpsk(snr_for_rayleigh_mean_ber_bpsk(b)), b,
                               rtol=1e-13)
    assert snr_for_rayleigh_mean_ber_bpsk(0.5) == 0.0
    link = link_model("forward", "statistical", [640, 10429], [800, 13036])
    h = 1e-6
    fd = (link.required_snr(b[:-1] * 10**h) - link.required_snr(b[:-1] * 10**-h)) / (2 * h)
    np.testing.assert_allclose(link.required_snr_slope_log10(b[:-1]), fd, rtol=1e-6)


def test_instantaneous_link_is_unchanged():
    link = link_model("discard", "instantaneous", [640, 10429], [800, 13036])
    s = np.array([[0.5, 2.0], [1.0, 0.1]])
    np.testing.assert_array_equal(link.error_rate(s), fbl.bler(s, [640, 10429], [800, 13036]))
    forward = link_model("forward", "instantaneous", [640, 10429], [800, 13036])
    np.testing.assert_array_equal(forward.error_rate(s), bpsk.ber(s))


def _snr_grid():
    rng = np.random.default_rng(5)
    return 28.0 + 10 * np.log10(rng.exponential(size=(6, 2)))


@pytest.mark.parametrize("table", ["xu2025-kodak-clip", "xu2025-kodak-msssim"])
def test_every_method_works_on_the_averaged_curves(table):
    snr = _snr_grid()
    t = tables.load(table)
    best, worst = t.best("discard"), t.worst("discard")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for target in best + (worst - best) * np.array([0.05, 0.12, 0.3]):
            ref = semopt.allocate(snr, "10 mW", target, table=table, csi="statistical",
                                  method="exhaustive")
            assert np.any(ref.success)
            for method, rtol in (("global-search", 1e-6), ("slsqp", 1e-3)):
                res = semopt.allocate(snr, "10 mW", target, table=table, csi="statistical",
                                      method=method)
                ok = ref.success & res.success
                assert np.array_equal(res.success, ref.success), method
                assert np.all(res.objective[ok] <= ref.objective[ok] * (1 + rtol)), method
            # bisection is local (on MS-SSIM's averaged curves it was measured up to 57 %
            # above the optimum, see docs/cell.md); proportional and unaware are baselines:
            # all feasible where the optimum is, never cheaper than it (up to the grid)
            for method in ("bisection", "proportional", "unaware"):
                res = semopt.allocate(snr, "10 mW", target, table=table, csi="statistical",
                                      method=method)
                ok = ref.success & res.success
                assert np.all(res.objective[ok] >= ref.objective[ok] * (1 - 1e-6)), method


def test_statistical_needs_more_power_than_instantaneous_at_the_mean():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inst = semopt.allocate([28, 28], "10 mW", 0.38)
        stat = semopt.allocate([28, 28], "10 mW", 0.38, csi="statistical")
    assert inst.success and stat.success
    assert stat.total_power_w > 3 * inst.total_power_w


def _mc_discard(table, snr_db, power_w, reference_w, rng):
    """E[P] by Monte Carlo over Rayleigh draws (conditional on the gains, and with the
    block errors drawn too): mean and half-width of the 99.7 % interval."""
    k = np.array([s.bits for s in table.streams], dtype=float)
    n = np.round(k / np.array([s.code_rate for s in table.streams]))
    mean_snr = 10.0 ** (np.asarray(snr_db) / 10.0) * power_w / reference_w
    g = rng.exponential(size=(MC_DRAWS, len(k)))
    psi = np.where(power_w > 0, fbl.bler(mean_snr * g, k, n), 1.0)
    p = table.perception(psi, "discard")
    delivered = rng.uniform(size=psi.shape) > psi
    blocks = table.perception(np.where(delivered, 0.0, 1.0), "discard")
    half = lambda x: 3.0 * x.std() / np.sqrt(x.size)  # noqa: E731
    return (p.mean(), half(p)), (blocks.mean(), half(blocks))


@pytest.mark.parametrize("table_name", ["xu2025-kodak-clip", "xu2025-kodak-msssim"])
def test_statistical_allocations_meet_the_averaged_target_by_monte_carlo(table_name):
    table = tables.load(table_name)
    rng = np.random.default_rng(11)
    best, worst = table.best("discard"), table.worst("discard")
    snr = np.array([[30.0, 27.0], [24.0, 33.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for target in best + (worst - best) * np.array([0.06, 0.12, 0.25]):
            res = semopt.allocate(snr, "10 mW", target, table=table_name, csi="statistical")
            assert np.all(res.success)
            for row in range(len(snr)):
                # not wasteful: the averaged perception sits on the (binding) target
                assert res.perception[row] >= 0.99 * target
                (p, hp), (q, hq) = _mc_discard(table, snr[row], res.power_w[row], 0.01, rng)
                assert abs(p - target) <= hp, (target, row, p, hp)
                assert abs(q - target) <= hq, (target, row, q, hq)


def test_forward_statistical_mean_ber_by_monte_carlo():
    rng = np.random.default_rng(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = semopt.allocate([[45.0, 47.0]], "10 mW", 0.6, scheme="forward", csi="statistical")
    assert res.success[0]
    mean_snr = 10 ** (np.array([45.0, 47.0]) / 10) * res.power_w[0] / 0.01
    ber = bpsk.ber(mean_snr * rng.exponential(size=(MC_DRAWS, 2)))
    half = 3 * ber.std(axis=0) / np.sqrt(MC_DRAWS)
    assert np.all(np.abs(ber.mean(axis=0) - res.error_rate[0]) <= half)


def test_cost_power_minimizes_the_total_power():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for csi in ("instantaneous", "statistical"):
            energy = semopt.allocate([[26, 30], [31, 24]], "10 mW", 0.36, csi=csi,
                                     method="exhaustive")
            power = semopt.allocate([[26, 30], [31, 24]], "10 mW", 0.36, csi=csi, cost="power",
                                    method="exhaustive")
            assert np.all(power.success & energy.success)
            np.testing.assert_allclose(power.objective, power.total_power_w, rtol=1e-12)
            assert np.all(power.total_power_w <= energy.total_power_w * (1 + 1e-6))
