"""The claims of Xu et al. (Sec. VI-C) that the min-power methods reproduce, pinned.

Coded discard-with-error claims use the published subset values of the shipped tables
(P_{1,2}, P_{1} = prompt only, P_{2} = edge map only); the scenario is the paper's
(d = 100 m, −30 dB at 1 m, exponent 3.4, σ² = −110 dBm: 22 dB per stream at 10 mW with
unit fading). Claims we do not reproduce, or reproduce on a narrower range, are pinned
at the values we get; docs/minpower.md gives the reasons with the numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

import semopt
from semopt import tables
from semopt.link.channel import rayleigh_power_gain, received_snr_db

BUDGET_W = 0.01
UNIT_SNR_DB = 22.0


def _coded(method: str, name: str, targets, snr_db=UNIT_SNR_DB):
    targets = np.atleast_1d(np.asarray(targets, dtype=float))
    snr = np.broadcast_to(np.asarray(snr_db, dtype=float), targets.shape + (2,))
    return semopt.allocate(snr, BUDGET_W, targets, method=method, table=name, scheme="discard")


@pytest.mark.parametrize("name", ["xu2025-kodak-clip", "xu2025-kodak-msssim"])
def test_sharp_power_drop_where_the_prompt_alone_suffices(name):
    # "the semantic-bisection method shows sharp power reductions at a certain semantic
    # requirement P̄, corresponding to when power allocation to one semantic stream
    # becomes zero": at P̄ = P_{1} the edge map is switched off.
    p1 = tables.load(name).discard.values[1]
    below, above = _coded("bisection", name, [p1 - 0.005, p1 + 0.005]).power_w
    assert below[1] > 0 and above[1] == 0.0 and above[0] > 0
    res = _coded("bisection", name, [p1 - 0.005, p1 + 0.005])
    assert res.objective[0] / res.objective[1] > 10  # measured 14.6× (CLIP), 14.2× (MS-SSIM)
    # Over Rayleigh draws one stream is off above P_{1} for nearly every draw (the edge
    # map, or with MS-SSIM, where P_{2} < P_{1}, the prompt on draws where it fades).
    gains = rayleigh_power_gain((200, 2), np.random.default_rng(0))
    snr = received_snr_db(BUDGET_W, distance_m=100.0, fading_power_gain=gains)
    off = _coded("global-search", name, np.full(200, p1 + 0.005), snr)
    assert np.mean(np.any(off.power_w[off.success] == 0.0, axis=-1)) > 0.97
    on = _coded("global-search", name, np.full(200, p1 - 0.005), snr)
    assert np.all(on.power_w[on.success, 1] > 0.0)  # below P_{1} the edge map is needed


@pytest.mark.parametrize("name", ["xu2025-kodak-clip", "xu2025-kodak-msssim"])
def test_proportional_close_to_bisection_under_stringent_targets(name):
    # "Under stringent semantic requirements, the semantic-proportional method achieves
    # similar performance to the semantic-bisection method. However, its advantage over
    # the semantic-unaware method diminishes as P̄ increases."
    table = tables.load(name)
    best, alone = table.best("discard"), min(table.discard.values[[1, 2]])
    targets = best + (alone - best) * np.array([0.05, 0.5, 0.95])
    bis, pro, una = (_coded(m, name, targets) for m in ("bisection", "proportional", "unaware"))
    assert pro.objective[0] / bis.objective[0] - 1 < 0.01  # measured 0.64 % CLIP, 0.0008 % MS-SSIM
    advantage = 1 - pro.objective / una.objective
    assert np.all(np.diff(advantage) < 0), advantage
    # Above the one-stream value proportional keeps both streams on and loses its edge.
    looser = _coded("proportional", name, [alone + 0.3 * (1 - alone)])
    unaware = _coded("unaware", name, [alone + 0.3 * (1 - alone)])
    assert abs(looser.objective[0] / unaware.objective[0] - 1) < 0.02


def test_msssim_prompt_not_transmitted_where_the_edge_map_alone_suffices():
    # Paper: "in the range of 0.3313 ≤ P̄ ≤ 0.4720, the prompt feature is not transmitted
    # as it alone cannot meet such requirements" (MS-SSIM, coded). Reproduced on
    # (P_{2}, P_{1}) = (0.3645, 0.4535): the edge map alone meets P̄ there, the prompt alone
    # cannot, and the prompt gets no power. Not reproduced below P_{2} (the edge map alone
    # cannot reach P̄ < 0.3645, so both are sent) nor above P_{1} (the prompt alone
    # suffices and, 16x shorter, is the one sent): see docs/minpower.md.
    name = "xu2025-kodak-msssim"
    values = tables.load(name).discard.values
    p1, p2 = values[1], values[2]
    assert (p2, p1) == pytest.approx((0.3645, 0.4535))
    inside = np.linspace(p2 + 1e-3, p1 - 1e-3, 12)
    res = _coded("global-search", name, inside)
    assert res.success.all()
    assert np.all(res.power_w[:, 0] == 0.0) and np.all(res.error_rate[:, 0] == 1.0)
    assert np.all(res.power_w[:, 1] > 0)
    both = _coded("global-search", name, [0.34, 0.36])
    assert np.all(both.power_w > 0)
    prompt_only = _coded("global-search", name, [0.46, 0.47])
    assert np.all(prompt_only.power_w[:, 0] > 0) and np.all(prompt_only.power_w[:, 1] == 0)


@pytest.mark.parametrize("name", ["xu2025-kodak-clip", "xu2025-kodak-msssim"])
def test_coded_savings_against_unaware_reach_about_ninety_percent(name):
    # "significant power savings compared to the baseline: ... 90% in channel-coded
    # cases" — Fig. 6 scenario, mean Σ N_i q_i over Rayleigh draws.
    table = tables.load(name)
    best, worst = table.best("discard"), table.worst("discard")
    targets = np.linspace(best + 0.02 * (worst - best), best + 0.95 * (worst - best), 15)
    gains = rayleigh_power_gain((60, 2), np.random.default_rng(0))
    snr = received_snr_db(BUDGET_W, distance_m=100.0, fading_power_gain=gains)
    grid_snr = np.repeat(snr[None], len(targets), axis=0)
    grid_t = np.repeat(targets[:, None], len(snr), axis=1)
    bis = semopt.allocate(grid_snr, BUDGET_W, grid_t, method="bisection", table=name,
                          scheme="discard")
    una = semopt.allocate(grid_snr, BUDGET_W, grid_t, method="unaware", table=name,
                          scheme="discard")
    solved = (bis.success & una.success).all(axis=0)
    saving = 1 - bis.objective[:, solved].mean(axis=1) / una.objective[:, solved].mean(axis=1)
    assert 0.88 <= saving.max() <= 0.97  # measured 94 %
    assert saving.min() >= 0.0  # bisection never costs more than unaware


def test_fig8_readings_on_the_clip_table():
    # "Under the semantic-unaware method, prompt and edge semantic data streams achieve
    # identical capacities ... due to equal received SNRs. While their BERs are identical
    # in the channel-uncoded case, BLERs differ in the channel-coded case"; "the
    # semantic-proportional method achieves identical BLERs for both features"; "When P̄
    # exceeds a threshold, edge map transmission shows BLER of 1 and capacity of 0".
    name = "xu2025-kodak-clip"
    targets = np.linspace(0.33, 0.8, 12)
    snr = np.full((len(targets), 2), UNIT_SNR_DB)
    for scheme in ("forward", "discard"):
        una = semopt.allocate(snr, BUDGET_W, targets, method="unaware", table=name, scheme=scheme)
        cap = np.asarray(una.extras["capacity_bits_per_use"])
        np.testing.assert_allclose(cap[:, 0], cap[:, 1], rtol=1e-8)
        np.testing.assert_allclose(np.asarray(una.extras["received_snr_db"])[:, 0],
                                   np.asarray(una.extras["received_snr_db"])[:, 1], atol=1e-8)
        if scheme == "forward":
            np.testing.assert_allclose(una.error_rate[:, 0], una.error_rate[:, 1], rtol=1e-12)
        else:
            assert np.all(np.abs(una.error_rate[:, 1] / una.error_rate[:, 0] - 1) > 1e-3)
    pro = _coded("proportional", name, targets)
    np.testing.assert_allclose(pro.error_rate[:, 0], pro.error_rate[:, 1], rtol=1e-12)
    bis = _coded("bisection", name, targets)
    off = targets > tables.load(name).discard.values[1]
    assert np.all(bis.error_rate[off, 1] == 1.0)
    assert np.all(np.asarray(bis.extras["capacity_bits_per_use"])[off, 1] == 0.0)
    assert np.all(bis.error_rate[~off, 1] < 1.0)
