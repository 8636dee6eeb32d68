"""Channel → diffusion-step mapping (Guo et al.), schedules, simulators, Monte-Carlo check."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semopt.link import diffusion as d


def test_awgn_alpha_bar_is_exactly_one_over_one_plus_sigma2():
    snr_db = np.array([-10.0, -1.0, 0.0, 3.0, 12.0, 30.0])
    sigma2 = 10.0 ** (-snr_db / 10.0)
    # Exact in σ²; from dB, σ² itself is rounded once (numpy's pow may differ by an ulp).
    np.testing.assert_array_equal(d.alpha_bar_from_noise_var(sigma2), 1.0 / (1.0 + sigma2))
    np.testing.assert_allclose(d.channel_alpha_bar(snr_db), 1.0 / (1.0 + sigma2), rtol=1e-15, atol=0)
    assert d.channel_alpha_bar(0.0) == 0.5


def test_rayleigh_uses_gain_over_noise_not_the_papers_product():
    # eq. 22 prints 1/(1+|σh|²); the MMSE derivation gives σ_eff² = σ²/|h|²
    h = np.array([0.5, 1.0, 2.0 + 0j])
    ab = d.channel_alpha_bar(0.0, "rayleigh", gain=h)
    np.testing.assert_allclose(ab, 1.0 / (1.0 + 1.0 / np.abs(h) ** 2), rtol=1e-15)
    assert d.channel_alpha_bar(5.0, "rayleigh") == d.channel_alpha_bar(5.0)  # |h| = 1 default


def test_mimo_each_subchannel_uses_its_own_singular_value():
    sv = np.array([[2.0, 0.5], [1.0, 0.1]])
    snr_db = np.array([0.0, 6.0])
    ab = d.channel_alpha_bar(snr_db[:, None][:, 0], "mimo", singular_values=sv)
    sigma2 = 10.0 ** (-snr_db / 10.0)
    np.testing.assert_allclose(ab, 1.0 / (1.0 + sigma2[:, None] / sv ** 2), rtol=1e-15)
    mapping = d.map_channel_to_timestep(snr_db, "linear", "mimo", singular_values=sv)
    assert mapping.timestep.shape == (2, 2)
    assert np.all(mapping.timestep[:, 0] < mapping.timestep[:, 1])  # stronger → earlier step


@pytest.mark.parametrize("name", ["linear", "scaled-linear", "cosine"])
def test_schedules_are_decreasing_and_match_reference_formulas(name):
    s = d.get_schedule(name)
    assert s.num_steps == 1000 and s.alpha_bar[0] == 1.0
    assert np.all(np.diff(s.alpha_bar) < 0)
    if name == "linear":
        np.testing.assert_allclose(s.betas[[0, -1]], [1e-4, 0.02])
    if name == "scaled-linear":
        np.testing.assert_allclose(s.betas[[0, -1]], [0.00085, 0.012])


def test_timestep_noisier_rounding_gives_nonnegative_exact_compensation():
    snr_db = np.linspace(-20, 40, 301)
    for name in ("linear", "scaled-linear", "cosine"):
        m = d.map_channel_to_timestep(snr_db, name)
        assert np.all(m.alpha_bar_step <= m.alpha_bar + 1e-15)
        s = d.get_schedule(name)
        prev = s.alpha_bar[np.maximum(m.timestep - 1, 0)]
        assert np.all((prev > m.alpha_bar) | (m.timestep == 0))  # smallest such step
        ok = ~m.saturated
        assert np.all(m.compensating_noise_var[ok] >= 0)
        # after compensation the total noise equals the step's noise exactly
        np.testing.assert_allclose(m.noise_var[ok] + m.compensating_noise_var[ok],
                                   (1 - m.alpha_bar_step[ok]) / m.alpha_bar_step[ok], rtol=1e-12)
        assert np.all(np.diff(m.timestep) <= 0)  # better channel → earlier step


def test_inverse_mapping_round_trips():
    for name in ("linear", "scaled-linear", "cosine"):
        u = np.array([1, 10, 74, 200, 500, 900])
        snr = d.snr_db_for_timestep(u, name)
        np.testing.assert_allclose(d.get_schedule(name).fractional_timestep(
            d.channel_alpha_bar(snr)), u, atol=1e-9)
        np.testing.assert_array_equal(d.map_channel_to_timestep(snr, name).timestep, u)


@settings(max_examples=60, deadline=None)
@given(st.floats(-30, 50), st.floats(0.05, 5.0))
def test_inverse_of_alpha_bar_property(snr_db, gain):
    ab = d.channel_alpha_bar(snr_db, "rayleigh", gain=gain)
    assert math.isclose(float(d.snr_db_for_alpha_bar(ab, "rayleigh", gain=gain)), snr_db,
                        abs_tol=1e-8)


def test_fixed_step_compensation_and_worse_channel():
    # the paper's fixed 200-step variant: compensation only when the channel is better
    m = d.map_channel_to_timestep([0.0, 12.0], "linear", fixed_timestep=200)
    assert np.isnan(m.compensating_noise_var[0])  # u=200 ↔ 2.86 dB: 0 dB is worse
    assert m.compensating_noise_var[1] > 0
    with pytest.raises(ValueError, match="noisier than the step"):
        d.compensating_noise_var(1.0, d.get_schedule().alpha_bar[200])


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match=r"^channel:"):
        d.channel_alpha_bar(0.0, "rician")
    with pytest.raises(ValueError, match=r"^snr_db:"):
        d.channel_alpha_bar(np.nan)
    with pytest.raises(ValueError, match=r"^singular_values:"):
        d.channel_alpha_bar(0.0, "mimo")
    with pytest.raises(ValueError, match=r"^schedule:"):
        d.get_schedule("quadratic")
    with pytest.raises(ValueError, match=r"^features:"):
        d.simulate_awgn(np.zeros(3), 0.0)


@pytest.mark.parametrize("channel,kwargs", [
    ("awgn", {}), ("rayleigh", {}), ("rayleigh", {"block_length": 16}),
    ("mimo", {"n_antennas": 2}), ("mimo", {"n_antennas": 4}),
])
@pytest.mark.parametrize("snr_db", [-2.0, 5.0, 15.0])
def test_monte_carlo_effective_noise_matches_the_mapping(channel, kwargs, snr_db):
    res = d.monte_carlo_noise_check(channel, snr_db, n_features=80_000, rng=1234, **kwargs)
    assert abs(res["z"]) < 4.0, res  # within 4 standard errors
    assert res["standard_error"] == pytest.approx(math.sqrt(2 / 80_000))


def test_rayleigh_mmse_output_is_alpha_bar_times_unbiased():
    y = np.random.default_rng(3).standard_normal(4000)
    out = d.simulate_rayleigh_mmse(y, 4.0, rng=5)
    # with unit-power features the MMSE bias g equals ᾱ: diffusion state = MMSE output / √ᾱ
    np.testing.assert_allclose(out.raw / np.sqrt(out.alpha_bar), out.diffusion_state,
                               rtol=1e-12, atol=1e-12)


def test_simulators_are_deterministic_with_a_seed_and_batched():
    y = np.random.default_rng(0).standard_normal((3, 64))
    a = d.simulate_awgn(y, np.array([0.0, 5.0, 10.0]), rng=7)
    b = d.simulate_awgn(y, np.array([0.0, 5.0, 10.0]), rng=7)
    np.testing.assert_array_equal(a.equalized, b.equalized)
    np.testing.assert_allclose(a.noise_var[:, 0], 10 ** (-np.array([0.0, 5.0, 10.0]) / 10))
    m = d.simulate_mimo_svd(y, 3.0, rng=1, channel_matrix=np.diag([2.0, 0.5]).astype(complex))
    np.testing.assert_allclose(np.sort(m.extras["singular_values"]), [0.5, 2.0])
    assert set(np.round(np.unique(m.noise_var) * 10 ** 0.3, 10)) == {0.25, 4.0}
