"""semopt.metrics: GVIF (eq. 27) on arrays, filtering masks, run-length bits, mask PSNR, latency."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semopt.metrics import (
    filter_mask,
    gvif,
    gvif_curve,
    information_bits,
    latency_s,
    mask_psnr_db,
    run_length_bits,
)


def eq27(theta_ref, theta, mask, gamma2):
    beta = theta / theta_ref
    num = sum(math.log2(1 + (b * t) ** 2 / gamma2)
              for b, t, m in zip(beta.ravel(), theta_ref.ravel(), mask.ravel()) if m)
    den = sum(math.log2(1 + t**2 / gamma2) for t in theta_ref.ravel())
    return num / den


@pytest.mark.parametrize("seed", range(5))
def test_gvif_equals_eq27_on_random_arrays(seed):
    rng = np.random.default_rng(seed)
    t_ref = rng.lognormal(size=(6, 5, 7))
    t = t_ref * rng.uniform(0.0, 1.0, size=t_ref.shape)
    mask = rng.random(t_ref.shape) < 0.4
    gamma2 = rng.uniform(0.05, 2.0)
    assert gvif(t_ref, t, mask, gamma2) == pytest.approx(eq27(t_ref, t, mask, gamma2), rel=1e-12)
    # Literal eq. 27 also for β > 1 (no clipping by default).
    t_big = t_ref * rng.uniform(0.5, 2.0, size=t_ref.shape)
    assert gvif(t_ref, t_big, mask, gamma2) == pytest.approx(eq27(t_ref, t_big, mask, gamma2), rel=1e-12)


def test_gvif_full_mask_beta_one_is_one_and_empty_mask_is_zero():
    rng = np.random.default_rng(1)
    t = rng.lognormal(size=(4, 8, 8))
    assert gvif(t, t, np.ones(t.shape, bool)) == pytest.approx(1.0, abs=1e-15)
    assert gvif(t, t, np.zeros(t.shape, bool)) == 0.0
    assert gvif(t, t, np.ones((8, 8), bool)) == pytest.approx(1.0)      # spatial mask broadcasts
    assert gvif(t, np.zeros_like(t), np.ones(t.shape, bool)) == 0.0      # β = 0: nothing preserved


def test_gvif_spatial_mask_equals_channel_broadcast_and_beta_clip():
    rng = np.random.default_rng(2)
    t_ref = rng.lognormal(size=(3, 4, 5))
    t = t_ref * rng.uniform(0.5, 1.5, size=t_ref.shape)
    m = rng.random((4, 5)) < 0.5
    assert gvif(t_ref, t, m) == pytest.approx(gvif(t_ref, t, np.broadcast_to(m, t.shape)))
    clipped = gvif(t_ref, t, np.ones(t.shape, bool), beta_max=1.0)
    assert clipped <= 1.0 + 1e-12
    assert clipped == pytest.approx(gvif(t_ref, np.minimum(t, t_ref), np.ones(t.shape, bool)))


@pytest.mark.parametrize("bad", [
    dict(theta=np.ones((3, 4, 4)), mask=np.ones((2, 4, 4), bool)),
    dict(theta=np.ones((3, 4, 5)), mask=np.ones((3, 4, 4), bool)),
    dict(theta=np.ones((3, 4, 4)), mask=np.ones((4, 3), bool)),
])
def test_gvif_rejects_mismatched_shapes_clearly(bad):
    t_ref = np.ones((3, 4, 4))
    with pytest.raises(ValueError, match="shape"):
        gvif(t_ref, bad["theta"], bad["mask"])


def test_gvif_rejects_bad_values():
    t = np.ones((2, 3, 3))
    with pytest.raises(ValueError, match="gamma2"):
        gvif(t, t, np.ones((3, 3), bool), gamma2=0)
    with pytest.raises(ValueError, match="theta"):
        gvif(t, -t, np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="theta_ref"):
        gvif(np.zeros_like(t), t, np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="mask"):
        gvif(t, t, np.full((3, 3), 0.5))


def test_gvif_curve_matches_gvif_per_alpha():
    rng = np.random.default_rng(3)
    t_ref = rng.lognormal(size=(5, 6, 6))
    t = t_ref * rng.uniform(0.3, 1.0, size=t_ref.shape)
    imp = rng.random((6, 6))
    alphas = np.linspace(0, 1, 11)
    curve = gvif_curve(imp, information_bits(t).sum(axis=0), information_bits(t_ref).sum(), alphas)
    expect = [gvif(t_ref, t, filter_mask(imp, a)) for a in alphas]
    np.testing.assert_allclose(curve, expect, rtol=1e-12)
    assert np.all(np.diff(curve) <= 1e-15)               # non-increasing in α
    assert filter_mask(imp, alphas).shape == (11, 6, 6)


def naive_rle_bits(mask):
    flat = np.asarray(mask).ravel()
    runs, n = [], 1
    for a, b in itertools.pairwise(flat):
        if a == b:
            n += 1
        else:
            runs.append(n)
            n = 1
    runs.append(n)
    return 1 + sum(2 * math.floor(math.log2(r)) + 1 for r in runs)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(0, 2**31 - 1), st.floats(0, 1))
def test_run_length_bits_matches_a_naive_encoder(h, w, seed, p):
    rng = np.random.default_rng(seed)
    masks = rng.random((3, h, w)) < p
    got = run_length_bits(masks)
    assert got.shape == (3,)
    assert list(got) == [naive_rle_bits(m) for m in masks]
    assert run_length_bits(masks[0]) == naive_rle_bits(masks[0])


def test_run_length_bits_simple_cases():
    assert run_length_bits(np.ones((4, 4), bool)) == 1 + 9          # one run of 16: γ(16) = 9 bits
    assert run_length_bits(np.zeros((1, 1), bool)) == 2
    with pytest.raises(ValueError, match="mask"):
        run_length_bits(np.ones(5, bool))


def test_mask_psnr_eq40_and_latency_eq8():
    ref = np.full((4, 4, 3), 100.0)
    out = ref.copy()
    out[:2] += 10.0
    m = np.zeros((4, 4), bool)
    m[:2] = True
    assert mask_psnr_db(ref, out, m) == pytest.approx(10 * math.log10(255**2 / 100.0))
    assert mask_psnr_db(ref, out, ~m) == math.inf
    assert math.isnan(mask_psnr_db(ref, out, np.zeros((4, 4), bool)))
    with pytest.raises(ValueError, match="mask"):
        mask_psnr_db(ref, out, np.ones((3, 3), bool))
    assert latency_s(2e4, 0.0, 1e6) == pytest.approx(0.02)
    np.testing.assert_allclose(latency_s([1e6, 1e6], [10 * math.log10(3), 10 * math.log10(7)]), [0.5, 1 / 3])
