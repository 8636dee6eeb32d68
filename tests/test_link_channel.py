"""Path gain, fading, noise and received SNR (Xu et al. scenario defaults)."""

from __future__ import annotations

import numpy as np
import pytest

from semopt.link import channel


def test_path_gain_defaults() -> None:
    assert channel.path_gain_db(100.0) == pytest.approx(-98.0)
    assert channel.path_gain_db(1.0) == pytest.approx(-30.0)
    g = channel.path_gain_db(np.array([10.0, 100.0]), exponent=2.0, gain_at_reference_db=-40.0)
    np.testing.assert_allclose(g, [-60.0, -80.0])
    assert channel.path_gain_db(20.0, reference_distance_m=10.0, exponent=3.0) == pytest.approx(
        -30.0 - 30.0 * np.log10(2.0))


def test_received_snr_db_scenario() -> None:
    # 1 W = 30 dBm, -98 dB path gain, -110 dBm noise -> 42 dB
    assert channel.received_snr_db(1.0) == pytest.approx(42.0)
    assert channel.received_snr_db(1e-3, fading_power_gain=10.0) == pytest.approx(22.0)
    out = channel.received_snr_db(np.array([1.0, 0.1]), distance_m=np.array([[100.0], [10.0]]))
    assert out.shape == (2, 2)
    assert out[1, 0] == pytest.approx(42.0 + 34.0)
    assert channel.received_snr_db(0.0) == -np.inf
    np.testing.assert_allclose(channel.snr_linear_to_power_w(10 ** 4.2), 1.0, rtol=1e-12)


def test_noise_power() -> None:
    assert channel.noise_power_w() == pytest.approx(1e-14)
    assert channel.noise_power_w(-80.0) == pytest.approx(1e-11)
    assert channel.noise_power_w(noise_psd_dbm_hz=-174.0, bandwidth_hz=1e6) == pytest.approx(
        10 ** (-17.4) * 1e-3 * 1e6)


def test_rayleigh_unit_mean_and_seeding() -> None:
    g = channel.rayleigh_power_gain((200_000,), np.random.default_rng(1))
    assert g.mean() == pytest.approx(1.0, abs=0.01)
    assert np.var(g) == pytest.approx(1.0, abs=0.03)
    np.testing.assert_array_equal(channel.rayleigh_power_gain(5, 7),
                                  channel.rayleigh_power_gain(5, 7))
    assert channel.rayleigh_power_gain((2, 3), 0).shape == (2, 3)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="distance_m"):
        channel.path_gain_db(0.0)
    with pytest.raises(ValueError, match="power_w"):
        channel.received_snr_db(-1.0)
    with pytest.raises(ValueError, match="fading_power_gain"):
        channel.received_snr_db(1.0, fading_power_gain=-0.5)
    with pytest.raises(ValueError, match="noise_dbm"):
        channel.noise_power_w(-100.0, noise_psd_dbm_hz=-174.0, bandwidth_hz=1e6)
    with pytest.raises(ValueError, match="bandwidth_hz"):
        channel.noise_power_w(noise_psd_dbm_hz=-174.0)
    with pytest.raises(ValueError, match="bandwidth_hz"):
        channel.noise_power_w(noise_psd_dbm_hz=-174.0, bandwidth_hz=0.0)
