"""Uncoded BPSK: BER and its exact inverse."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semopt.link import bpsk


def _mp_snr_for_ber(psi: float) -> mp.mpf:
    """(Q^{-1}(psi))^2 / 2 at mp.dps digits, by Newton on log Phi(z) = log psi."""
    psi_mp = mp.mpf(psi)
    z0 = -mp.sqrt(-2 * mp.log(psi_mp)) if psi < 0.3 else mp.mpf(0)
    z = mp.findroot(lambda z: mp.log(mp.ncdf(z)) - mp.log(psi_mp), z0)
    return z * z / 2


def test_inverse_exact_from_1e_300_to_half_against_mpmath() -> None:
    mp.mp.dps = 50
    psi = np.concatenate([np.geomspace(1e-300, 0.49, 60), [0.4999999, 0.5 - 2**-40]])
    snr = bpsk.snr_for_ber(psi)
    for p, s in zip(psi, snr):
        ref = _mp_snr_for_ber(p)
        assert abs(s - float(ref)) <= 4e-15 * float(ref), (p, s, ref)
    assert bpsk.snr_for_ber(0.5) == 0.0


def test_round_trip_and_log_space() -> None:
    psi = np.geomspace(1e-300, 0.5, 200)
    snr = bpsk.snr_for_ber(psi)
    np.testing.assert_allclose(np.exp(bpsk.log_ber(snr)), psi, rtol=1e-12)
    np.testing.assert_allclose(bpsk.ber(snr), psi, rtol=1e-12)
    assert bpsk.ber(0.0) == 0.5
    assert bpsk.ber(np.inf) == 0.0
    # far tail: ber underflows, log_ber does not
    assert bpsk.log_ber(1e4) == pytest.approx(float(mp.log(mp.ncdf(-mp.sqrt(2e4)))), rel=1e-13)


def test_vectorized_shapes() -> None:
    snr = np.linspace(0, 10, 12).reshape(3, 4)
    assert bpsk.ber(snr).shape == (3, 4)
    assert bpsk.snr_for_ber(np.full((2, 5), 1e-3)).shape == (2, 5)
    assert np.ndim(bpsk.ber(1.0)) == 0


@pytest.mark.parametrize("bad", [0.0, -1e-3, 0.6, 1.0, np.nan])
def test_bad_ber_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="ber"):
        bpsk.snr_for_ber([1e-3, bad])


@pytest.mark.parametrize("bad", [-1.0, np.nan])
def test_bad_snr_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="snr"):
        bpsk.ber(bad)
    with pytest.raises(ValueError, match="snr"):
        bpsk.log_ber(bad)


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1e3), st.floats(0, 1e3))
def test_ber_decreasing_in_snr(s1: float, s2: float) -> None:
    lo, hi = min(s1, s2), max(s1, s2)
    assert bpsk.ber(hi) <= bpsk.ber(lo)
    assert bpsk.log_ber(hi) <= bpsk.log_ber(lo)


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-300, 0.5), st.floats(1e-300, 0.5))
def test_snr_for_ber_decreasing(p1: float, p2: float) -> None:
    lo, hi = min(p1, p2), max(p1, p2)
    assert bpsk.snr_for_ber(hi) <= bpsk.snr_for_ber(lo)
