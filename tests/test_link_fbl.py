"""Finite-blocklength BLER (Xu et al. eq. 23) and its closed-form inverse."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semopt.link import fbl


def _mp_snr_for_bler(psi: float, k: float, n: float, log_term: bool = False) -> mp.mpf:
    """High-precision inversion of eq. 23 by bisection in z = ln(1 + snr)."""
    psi_mp, k_mp, n_mp = mp.mpf(psi), mp.mpf(k), mp.mpf(n)
    z0 = -mp.sqrt(-2 * mp.log(psi_mp)) if psi < 0.3 else mp.mpf(0)
    q_inv = -mp.findroot(lambda z: mp.log(mp.ncdf(z)) - mp.log(psi_mp), z0)
    alpha = q_inv / mp.sqrt(n_mp)
    rate = k_mp / n_mp - (mp.log(n_mp, 2) / (2 * n_mp) if log_term else 0)
    rho = rate * mp.log(2)

    def g(z):
        return (z - rho) / mp.sqrt(-mp.expm1(-2 * z)) - alpha

    lo, hi = mp.mpf(10) ** -40, rho + 2 * abs(alpha) + 5
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if g(mid) < 0 else (lo, mid)
    return mp.expm1((lo + hi) / 2)


def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    psi = np.geomspace(1e-12, 0.5, 60)
    rate = np.linspace(0.05, 0.95, 19)
    n = np.array([10.0, 100.0, 1000.0, 10000.0])
    P, R, N = np.meshgrid(psi, rate, n, indexing="ij")
    return P, R * N, N


@pytest.mark.parametrize("log_term", [False, True])
def test_closed_form_matches_numeric_inversion(log_term: bool) -> None:
    psi, k, n = _grid()
    if log_term:  # keep the rate grid, with n >= 100 so that k/n - log2(n)/(2n) > 0
        k, n = k / n * np.maximum(n, 100.0), np.maximum(n, 100.0)
    closed = fbl.snr_for_bler(psi, k, n, log_term=log_term)
    numeric = fbl.snr_for_bler(psi, k, n, log_term=log_term, method="numeric")
    assert closed.shape == psi.shape
    np.testing.assert_allclose(closed, numeric, rtol=1e-12)


def test_closed_form_against_mpmath() -> None:
    mp.mp.dps = 40
    cases = [(1e-12, 50, 1000), (1e-3, 800, 1000), (0.3, 95, 100), (0.5, 9, 10),
             (1e-7, 5, 100), (0.9, 800, 1000), (0.999, 300, 1000), (1e-5, 7000, 10000)]
    for psi, k, n in cases:
        ref = float(_mp_snr_for_bler(psi, k, n))
        assert fbl.snr_for_bler(psi, k, n) == pytest.approx(ref, rel=1e-13), (psi, k, n)
    ref = float(_mp_snr_for_bler(1e-4, 500, 1000, log_term=True))
    assert fbl.snr_for_bler(1e-4, 500, 1000, log_term=True) == pytest.approx(ref, rel=1e-13)


def test_round_trip() -> None:
    psi, k, n = _grid()
    snr = fbl.snr_for_bler(psi, k, n)
    # eq. 23 itself is evaluated with ~1e-14 absolute error in its Q argument
    np.testing.assert_allclose(fbl.bler(snr, k, n), psi, rtol=1e-12)
    k, n = k / n * np.maximum(n, 100.0), np.maximum(n, 100.0)
    snr = fbl.snr_for_bler(psi, k, n, log_term=True)
    np.testing.assert_allclose(fbl.bler(snr, k, n, log_term=True), psi, rtol=1e-12)


def test_above_one_half_and_limits() -> None:
    k, n = 800.0, 1000.0
    # Psi = 1/2: capacity equals the rate exactly
    assert fbl.snr_for_bler(0.5, k, n) == pytest.approx(2 ** 0.8 - 1, rel=1e-15)
    assert fbl.capacity_bits(fbl.snr_for_bler(0.5, k, n)) == pytest.approx(0.8, rel=1e-15)
    # Psi = 1: the stream is not sent
    assert fbl.snr_for_bler(1.0, k, n) == 0.0
    # 1/2 < Psi < 1: the "middle" root, below the capacity point, checked both ways
    psi = np.array([0.5 + 1e-9, 0.6, 0.9, 0.999999, 1 - 1e-15])
    for kk, nn in [(800.0, 1000.0), (1.0, 10.0), (3.0, 4.0), (1.0, 1.0)]:
        closed = fbl.snr_for_bler(psi, kk, nn)
        numeric = fbl.snr_for_bler(psi, kk, nn, method="numeric")
        np.testing.assert_allclose(closed, numeric, rtol=1e-12)
        np.testing.assert_allclose(fbl.bler(closed, kk, nn), psi, rtol=1e-12)
        assert np.all(np.diff(closed) < 0) and np.all(closed < 2 ** (kk / nn) - 1)
    # monotone through 1/2
    s = fbl.snr_for_bler(np.array([0.49, 0.5, 0.51]), k, n)
    assert s[0] > s[1] > s[2] > 0


def test_literal_formula_over_statement_bug_e_instead_of_2() -> None:
    """Erratum: the paper's beta = e^(-K/N) (eq. 28 as printed) over-states snr by ~2 dB."""
    correct = fbl.snr_for_bler(1e-3, 800, 1000)
    literal = fbl.snr_for_bler_literal(1e-3, 800, 1000)
    assert correct == pytest.approx(0.89168, abs=1e-5)
    assert literal == pytest.approx(1.43290, abs=5e-6)
    assert 10 * np.log10(literal / correct) == pytest.approx(2.06, abs=0.005)
    # the literal value does not satisfy eq. 23; the corrected one does
    assert fbl.bler(correct, 800, 1000) == pytest.approx(1e-3, rel=1e-12)
    assert fbl.bler(literal, 800, 1000) < 1e-10


def test_forward_model_pieces() -> None:
    snr = np.array([0.0, 1e-12, 1.0, 1e6])
    np.testing.assert_allclose(fbl.capacity_bits(snr), np.log1p(snr) / np.log(2), rtol=1e-15)
    np.testing.assert_allclose(fbl.dispersion_nats2(snr[1:]), 1 - (1 + snr[1:]) ** -2,
                               rtol=1e-4)
    assert fbl.dispersion_nats2(1e-12) == pytest.approx(2e-12, rel=1e-11)
    assert fbl.bler(0.0, 10, 100) == 1.0
    c, v = fbl.capacity_bits(2.0), fbl.dispersion_nats2(2.0)
    from scipy.stats import norm
    expected = norm.sf(np.log(2) * np.sqrt(100 / v) * (c - 0.3))
    assert fbl.bler(2.0, 30, 100) == pytest.approx(expected, rel=1e-13)
    expected = norm.sf(np.log(2) * np.sqrt(100 / v) * (c - 0.3 + np.log2(100) / 200))
    assert fbl.bler(2.0, 30, 100, log_term=True) == pytest.approx(expected, rel=1e-13)
    assert np.exp(fbl.log_bler(2.0, 30, 100)) == pytest.approx(fbl.bler(2.0, 30, 100), rel=1e-13)


def test_broadcasting() -> None:
    psi = np.geomspace(1e-6, 0.4, 5)[:, None, None]
    k = np.array([100.0, 500.0])[None, :, None]
    n = np.array([1000.0, 2000.0, 4000.0])
    out = fbl.snr_for_bler(psi, k, n)
    assert out.shape == (5, 2, 3)
    assert out[2, 1, 0] == fbl.snr_for_bler(psi[2, 0, 0], 500.0, 1000.0)
    assert np.ndim(fbl.snr_for_bler(1e-3, 800, 1000)) == 0


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"bler": 0.0}, "bler"), ({"bler": 1.5}, "bler"), ({"bler": np.nan}, "bler"),
    ({"k": 0.0}, "k"), ({"n": -5.0}, "n"), ({"method": "brent"}, "method"),
])
def test_bad_input(kwargs: dict, name: str) -> None:
    args = {"bler": 1e-3, "k": 800.0, "n": 1000.0} | kwargs
    with pytest.raises(ValueError, match=name):
        fbl.snr_for_bler(**args)


def test_bad_input_forward() -> None:
    with pytest.raises(ValueError, match="snr"):
        fbl.bler(-1.0, 10, 100)
    with pytest.raises(ValueError, match="k, n"):
        fbl.bler(1.0, 1, 10, log_term=True)  # effective rate 0.1 - log2(10)/20 < 0
    with pytest.raises(ValueError, match="bler"):
        fbl.snr_for_bler_literal(0.7, 800, 1000)


@settings(max_examples=150, deadline=None)
@given(st.floats(0, 1e3), st.floats(0, 1e3), st.floats(0.05, 0.95),
       st.sampled_from([10.0, 100.0, 1000.0]))
def test_bler_decreasing_in_snr(s1: float, s2: float, rate: float, n: float) -> None:
    lo, hi = min(s1, s2), max(s1, s2)
    assert fbl.bler(hi, rate * n, n) <= fbl.bler(lo, rate * n, n)


@settings(max_examples=150, deadline=None)
@given(st.floats(0, 100), st.floats(10, 900), st.floats(10, 900),
       st.sampled_from([1000.0, 5000.0]))
def test_bler_increasing_in_k(snr: float, k1: float, k2: float, n: float) -> None:
    lo, hi = min(k1, k2), max(k1, k2)
    assert fbl.bler(snr, hi, n) >= fbl.bler(snr, lo, n)
    assert fbl.bler(snr, hi, n, log_term=True) >= fbl.bler(snr, lo, n, log_term=True)


@settings(max_examples=100, deadline=None)
@given(st.floats(1e-12, 0.999), st.floats(1e-12, 0.999), st.floats(0.05, 0.95))
def test_snr_for_bler_decreasing(p1: float, p2: float, rate: float) -> None:
    lo, hi = min(p1, p2), max(p1, p2)
    assert fbl.snr_for_bler(hi, rate * 100, 100) <= fbl.snr_for_bler(lo, rate * 100, 100)


def _mp_snr_bracketed(psi: float, rate: float, n: float) -> mp.mpf:
    """snr solving eq. 23 at mp.dps digits for the float rate ``rate`` = k/n (bit/use).

    g(z) = (z − ρ)/sqrt(V(z)) − α is strictly increasing in z = ln(1 + snr) (its
    derivative has the sign of 1 − e^(−2z)(1 + z − ρ) > 0 for z > ρ, and is positive
    for z < ρ), so the root is unique. It is polished by an mpmath secant from a
    starting point and then certified by a sign change of g at z·(1 ± 1e-30).
    """
    q_inv = -mp.sqrt(2) * mp.erfinv(2 * mp.mpf(psi) - 1)  # Q^-1(psi) = -Phi^-1(psi)
    alpha = q_inv / mp.sqrt(mp.mpf(n))
    rho = mp.mpf(rate) * mp.log(2)

    def g(z):
        return (z - rho) / mp.sqrt(-mp.expm1(-2 * z)) - alpha

    # start: the float numeric inverse (any nearby point works; certified below)
    start = mp.log1p(mp.mpf(float(fbl.snr_for_bler(psi, rate * n, n, method="numeric"))))
    z = mp.findroot(g, (start * (1 - mp.mpf("1e-6")), start * (1 + mp.mpf("1e-6"))),
                    solver="secant", tol=mp.mpf(10) ** (-2 * mp.mp.dps + 10))
    delta = z * mp.mpf("1e-30")
    assert g(z - delta) < 0 < g(z + delta), (psi, rate, n)
    return mp.expm1(z)


LOW_RATES = 10.0 ** np.arange(-9.0, 0.0, 1.0)  # K/N from 1e-9 to 0.1 bit/use
RATE_PSI = np.concatenate([np.geomspace(1e-12, 0.5, 9),
                           0.5 - np.array([1e-9, 1e-6, 1e-3]),  # alpha -> 0+
                           0.5 + np.array([1e-9, 1e-4, 0.2, 0.4999])])  # "middle" branch


@pytest.mark.parametrize("n", [1.0, 100.0, 1e5, 1e7])
def test_exact_at_very_low_rates_against_mpmath(n: float) -> None:
    """Regression: the bare Lambert-W closed form loses digits where the SNR is small.

    Below ~1e-5 bit/use (and for Psi near 1/2 or long blocks) the terms x and
    log(1 − (x/2α)²) of the Lambert-W equation nearly cancel, and the bare closed
    form was off by up to ~3e-6 relative. ``snr_for_bler`` now detects that by an
    a-posteriori Newton estimate and uses the numeric inverse there: relative 1e-14
    over K/N from 1e-9 and Psi from 1e-12 to 0.5 (and above).
    """
    mp.mp.dps = 50
    psi, rate = np.meshgrid(RATE_PSI, LOW_RATES, indexing="ij")
    got = fbl.snr_for_bler(psi, rate * n, n)
    numeric = fbl.snr_for_bler(psi, rate * n, n, method="numeric")
    ref = np.array([[float(_mp_snr_bracketed(p, r, n)) for p, r in zip(pr, rr)]
                    for pr, rr in zip(psi, rate)])
    np.testing.assert_allclose(got, ref, rtol=1e-14, atol=0)
    np.testing.assert_allclose(numeric, ref, rtol=1e-14, atol=0)


def test_bare_closed_form_loses_digits_where_it_is_replaced() -> None:
    """The regime exists (so the test above can fail), and outside it nothing changes."""
    mp.mp.dps = 50
    psi, rate, n = 0.5 - 1e-6, 1e-9, 1000.0
    alpha = -fbl.special.ndtri(np.array([psi])) / np.sqrt(n)
    bare = fbl._snr_closed_form(alpha, np.array([rate]))[0]
    ref = float(_mp_snr_bracketed(psi, rate, n))
    assert abs(bare / ref - 1) > 1e-10
    assert fbl.snr_for_bler(psi, rate * n, n) == pytest.approx(ref, rel=1e-14)
    # Xu et al. operating range: the closed form is accepted as it is
    p, r, nn = _grid()
    kept = fbl._newton_relative_error(fbl._snr_closed_form(
        -fbl.special.ndtri(p.ravel()) / np.sqrt(nn.ravel()), (r / nn).ravel()),
        -fbl.special.ndtri(p.ravel()) / np.sqrt(nn.ravel()), (r / nn).ravel())
    assert np.mean(kept <= fbl._CLOSED_FORM_RTOL) > 0.99


@pytest.mark.parametrize("n", [100.0, 1e5])
def test_log_term_low_effective_rate(n: float) -> None:
    """log_term=True with an effective rate k/n − log2(n)/(2n) down to 1e-9 bit/use."""
    mp.mp.dps = 50
    shift = 0.5 * np.log2(n) / n
    for eff in [1e-9, 1e-6, 1e-3]:
        k = (eff + shift) * n
        eff_float = k / n - shift  # the effective rate as the library forms it
        for psi in [1e-12, 1e-3, 0.3, 0.5 - 1e-6, 0.7]:
            ref = float(_mp_snr_bracketed(psi, eff_float, n))
            got = fbl.snr_for_bler(psi, k, n, log_term=True)
            assert got == pytest.approx(ref, rel=1e-14), (eff, psi, n, got, ref)
