"""GenED-SC symbol budget: coded prompt overhead, visual symbols, budget split."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semopt.link import gened as g


def test_text_symbols_ldpc_half_16qam():
    # 107 bytes → 856 bits → 1712 coded bits → 428 16-QAM symbols
    assert g.text_symbols(107) == 428
    assert g.text_symbols(106) == 424
    # GenED-SC: "about 426" symbols on average ↔ 106.5 bytes on average
    assert np.mean(g.text_symbols([106, 107])) == 426


def test_text_symbols_utf8_counts_bytes_not_characters():
    assert g.prompt_bytes("é") == 2
    assert g.text_symbols("é") == g.text_symbols(2) == 8
    assert g.text_symbols("ab") == 8


def test_text_symbols_block_code_pads_whole_codewords():
    # 802.11n rate-1/2 code, N = 648: 324 info bits per codeword
    assert g.text_symbols(107, codeword_bits=648) == 3 * 648 // 4
    assert g.text_symbols(40, codeword_bits=648) == 648 // 4


def test_visual_symbols_conventions():
    assert g.visual_symbols(256, 256, 1 / 24) == 8192
    assert g.visual_symbols(256, 256, 1 / 16) == 12288
    assert g.visual_symbols(256, 256, 1 / 12, convention="real") == 8192
    with pytest.raises(ValueError, match=r"^cbr:"):
        g.visual_symbols(256, 256, 0.0)


def test_split_reproduces_the_paper_total():
    b = g.split_symbol_budget(8192 + 428, 107, foreground_fraction=0.3,
                              foreground_density_ratio=4.0, source_dims=3 * 256 * 256)
    assert b.text_symbols == 428 and b.visual_symbols == 8192
    assert b.foreground_symbols + b.background_symbols == 8192
    assert b.foreground_cbr == pytest.approx(4.0 * b.background_cbr, rel=1e-3)


def test_split_rejects_budget_below_prompt():
    with pytest.raises(ValueError, match=r"^total_symbols:"):
        g.split_symbol_budget(100, 107, foreground_fraction=0.5)


@settings(max_examples=80, deadline=None)
@given(total=st.integers(500, 50_000), nbytes=st.integers(0, 120),
       rho=st.floats(0, 1), kappa=st.floats(0.1, 20))
def test_split_invariants(total, nbytes, rho, kappa):
    b = g.split_symbol_budget(total, nbytes, foreground_fraction=rho,
                              foreground_density_ratio=kappa)
    assert b.text_symbols + b.foreground_symbols + b.background_symbols == total
    assert b.foreground_symbols >= 0 and b.background_symbols >= 0
    if rho == 0:
        assert b.foreground_symbols == 0
    if rho == 1:
        assert b.background_symbols == 0


def test_split_is_vectorized():
    b = g.split_symbol_budget(np.array([1000, 2000, 4000]), 50,
                              foreground_fraction=np.array([0.2, 0.5, 0.8]))
    assert b.foreground_symbols.shape == (3,)
    np.testing.assert_array_equal(b.text_symbols, [200, 200, 200])


# --- MCS, digital symbols, the prompt link (finite blocklength), the paper's design point -------

import mpmath as mp  # noqa: E402

from semopt.link import fbl  # noqa: E402


def test_mcs_table_spectral_efficiencies():
    eta = {name: m.spectral_efficiency for name, m in g.MCS_TABLE.items()}
    assert eta == {"bpsk-1/2": 0.5, "qpsk-1/2": 1.0, "qpsk-3/4": 1.5, "16qam-1/2": 2.0,
                   "16qam-3/4": 3.0, "64qam-2/3": 4.0, "64qam-3/4": 4.5, "64qam-5/6": 5.0}
    assert g.get_mcs("16qam-1/2").bits_per_symbol == 4
    with pytest.raises(ValueError, match=r"^mcs: unknown 'qam17'.*16qam-1/2"):
        g.get_mcs("qam17")
    with pytest.raises(ValueError, match=r"^mcs.order"):
        g.MCS("8psk", 8, 0.5)


def test_digital_symbols_match_the_prompt_symbols():
    # the prompt's symbols are the digital symbols of its bits at LDPC 1/2 + 16-QAM
    for nbytes in (0, 1, 50, 106, 107, 500):
        assert g.digital_symbols(8 * nbytes, "16qam-1/2") == g.text_symbols(nbytes)
    np.testing.assert_array_equal(g.digital_symbols([0, 1, 5, 10], "64qam-5/6"), [0, 1, 1, 2])
    with pytest.raises(ValueError, match=r"^bits:"):
        g.digital_symbols(-1)


def _mp_bler(snr_db: float, k: int, n: int, log_term: bool = False) -> mp.mpf:
    """Eq. 23 evaluated directly at 50 digits."""
    with mp.workdps(50):
        snr = mp.mpf(10) ** (mp.mpf(snr_db) / 10)
        c = mp.log(1 + snr, 2)
        v = 1 - (1 + snr) ** -2
        rate = mp.mpf(k) / n - (mp.log(n, 2) / (2 * n) if log_term else 0)
        return mp.ncdf(-mp.log(2) * mp.sqrt(n / v) * (c - rate))


@pytest.mark.parametrize("log_term", [False, True])
def test_prompt_delivery_probability_against_mpmath(log_term):
    snr_db = np.linspace(0.0, 12.0, 49)
    for nbytes in (20, 107, 400):
        k, n = 8 * nbytes, int(g.text_symbols(nbytes))
        p = g.prompt_delivery_probability(snr_db, nbytes, log_term=log_term)
        ref = np.array([float(_mp_bler(s, k, n, log_term)) for s in snr_db])
        np.testing.assert_allclose(1.0 - p, ref, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(p, 1.0 - ref, rtol=1e-12, atol=1e-15)
        assert np.all(np.diff(p) >= 0)


def test_delivery_probability_block_code_multiplies_codewords():
    # 107 bytes = 856 bits on the 802.11n rate-1/2 code N = 648: 3 codewords of 324 bits,
    # 162 16-QAM symbols each
    for snr_db in (4.0, 5.5, 7.0):
        psi = float(fbl.bler(10 ** (snr_db / 10), 324, 162))
        p = g.delivery_probability(snr_db, 856, codeword_bits=648)
        assert p == pytest.approx((1 - psi) ** 3, rel=1e-12)
        assert g.prompt_delivery_probability(snr_db, 107, codeword_bits=648) == p
    assert g.delivery_probability(5.0, 0) == 1.0
    with pytest.raises(ValueError, match=r"^codeword_bits"):
        g.delivery_probability(5.0, 856, codeword_bits=650)
    with pytest.raises(ValueError, match=r"^snr_db"):
        g.delivery_probability(float("nan"), 856)
    with pytest.raises(ValueError, match=r"^capacity"):
        g.delivery_probability(5.0, 856, capacity="shannon")


def _mp_pam(snr_dim: float, levels: int) -> tuple[float, float]:
    """Mean and variance (bits) of the information density of uniform unit-energy PAM."""
    with mp.workdps(20):
        pts = [mp.mpf(2 * i - (levels - 1)) for i in range(levels)]
        e = mp.sqrt(sum(p * p for p in pts) / levels)
        pts = [p / e for p in pts]
        s = mp.mpf(snr_dim)

        def dens(x, t):
            terms = [-s * (x - xp) ** 2 / 2 - mp.sqrt(s) * t * (x - xp) for xp in pts]
            return (mp.log(levels) - mp.log(mp.fsum(mp.exp(u) for u in terms))) / mp.log(2)

        cuts = [-mp.inf, -6, -3, 0, 3, 6, mp.inf]
        mean = mp.fsum(mp.quad(lambda t, x=x: dens(x, t) * mp.npdf(t), cuts) for x in pts) / levels
        var = mp.fsum(mp.quad(lambda t, x=x: (dens(x, t) - mean) ** 2 * mp.npdf(t), cuts)
                      for x in pts) / levels
        return float(mean), float(var)


@pytest.mark.parametrize(("order", "snr_db"), [(2, -10.0), (2, 3.0), (4, 0.0), (16, -10.0), (16, 5.0),
                                             (16, 12.0), (16, 25.0), (64, 15.0)])
def test_constellation_moments_against_mpmath(order, snr_db):
    s = 10 ** (snr_db / 10)
    info, disp = g.constellation_moments(s, order)
    if order == 2:
        ref_i, ref_v = _mp_pam(2 * s, 2)
    else:
        m, v = _mp_pam(s, int(np.sqrt(order)))
        ref_i, ref_v = 2 * m, 2 * v
    assert info == pytest.approx(ref_i, rel=1e-10, abs=1e-13)
    assert disp == pytest.approx(ref_v, rel=1e-8, abs=1e-13)


def test_constellation_moments_limits_and_identities():
    snr = np.geomspace(1e-3, 1e4, 40)
    for order in (2, 4, 16, 64):
        info, disp = g.constellation_moments(snr, order)
        assert np.all(info <= np.log2(1 + snr) + 1e-12)        # Gaussian input is optimal
        assert np.all(np.diff(info) > -1e-12)
        assert info[-1] == pytest.approx(np.log2(order), abs=1e-9) and disp[-1] < 1e-9
    # QPSK is two BPSKs at half the energy each
    np.testing.assert_allclose(g.constellation_moments(snr, 4)[0],
                               2 * g.constellation_moments(snr / 2, 2)[0], rtol=1e-12)
    assert g.constellation_moments(0.0, 16) == (0.0, 0.0)


def test_constellation_model_needs_more_snr_than_the_gaussian_one():
    # p = 1/2 exactly where the capacity equals the rate (2 bit/symbol): 10 log10(3) dB for
    # the Gaussian model, higher for uniform 16-QAM
    from scipy.optimize import brentq

    half = {cap: brentq(lambda s, c=cap: float(g.prompt_delivery_probability(s, 107, capacity=c)) - 0.5,
                        3.0, 8.0, xtol=1e-10) for cap in ("gaussian", "constellation")}
    assert half["gaussian"] == pytest.approx(10 * np.log10(3), abs=1e-8)
    assert 0.2 < half["constellation"] - half["gaussian"] < 0.8


def test_expected_quality():
    assert g.expected_quality(1.0, 30.0, 20.0) == 30.0
    assert g.expected_quality(0.0, 30.0, 20.0) == 20.0
    np.testing.assert_allclose(g.expected_quality([0.25, 0.5], 30.0, 20.0), [22.5, 25.0])
    with pytest.raises(ValueError, match=r"^probability"):
        g.expected_quality(1.5, 1.0, 0.0)


def test_paper_design_point_is_computed():
    d = g.paper_design_point([1, 4, 7, 10])
    assert (d.visual_symbols, d.text_symbols, d.total_symbols) == (8192, 426.0, 8618.0)
    assert d.visual_symbols == g.visual_symbols(256, 256, 1 / 12, convention="real")
    assert d.text_share == pytest.approx(426 / 8618)
    # the CBR 1/16 of the design notes does not give 8192 in either convention
    assert d.visual_symbols_at_stated_cbr == {"complex": 12288, "real": 6144}
    ref = (g.prompt_delivery_probability(d.snr_db, 106) + g.prompt_delivery_probability(d.snr_db, 107)) / 2
    np.testing.assert_array_equal(d.delivery_probability, ref)
    assert d.delivery_probability[0] < 1e-6 and d.delivery_probability[2] > 1 - 1e-9
