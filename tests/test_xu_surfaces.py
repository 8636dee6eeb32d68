"""The shipped Xu et al. tables obey every qualitative statement of Xu Sec. VI-B.

Stream 1 (index 0) is the textual prompt, stream 2 (index 1) the edge map. The discard
subset values are the published ones; the forward surfaces are illustrative (not
measured) and must say so, but they must not contradict the paper:

* P(0, 0) = P_best and P(½, ½) = P_worst (published);
* non-decreasing in each BER (Corollary 1);
* forwarding one stream at high BER is worse than discarding it (Fig. 5):
  P_fwd(0, ½) > P_{1} and P_fwd(½, 0) > P_{2};
* the prompt influences CLIP more, the edge map MS-SSIM more;
* the edge map is more BER-sensitive than the prompt;
* received streams keep a positive semantic value at the maximum BER (Fig. 4(c)).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import perception_tables
from semopt import tables
from semopt.tables import xu2025

# Published (Xu et al. Sec. VI-B): P_best, uncoded P_worst, P_{1} = 1 - L_1, P_{2} = 1 - L_2
PUBLISHED = {
    "xu2025-kodak-clip": {"best": 0.3191, "worst": 0.8112, "P1": 0.4113, "P2": 0.6404,
                          "L": (0.5887, 0.3596)},
    "xu2025-kodak-msssim": {"best": 0.3313, "worst": 0.4720, "P1": 0.4535, "P2": 0.3645,
                            "L": (0.5465, 0.6355)},
}
NAMES = list(PUBLISHED)
PROMPT, EDGE = 0, 1


def _fwd(table, ber_prompt, ber_edge) -> np.ndarray:
    rates = np.stack(np.broadcast_arrays(np.asarray(ber_prompt, float),
                                         np.asarray(ber_edge, float)), axis=-1)
    return table.perception(rates, "forward")


@pytest.fixture(params=NAMES)
def shipped(request):
    return request.param, tables.load(request.param), PUBLISHED[request.param]


def test_streams_are_prompt_then_edge(shipped) -> None:
    _, table, _ = shipped
    assert [s.name for s in table.streams] == ["prompt", "edge"]
    assert table.streams[EDGE].bits > table.streams[PROMPT].bits


def test_discard_subsets_stay_published(shipped) -> None:
    _, table, pub = shipped
    # bit mask 0 = nothing received, 1 = prompt only, 2 = edge only, 3 = both
    assert table.discard.values.tolist() == [1.0, pub["P1"], pub["P2"], pub["best"]]
    np.testing.assert_allclose(table.semantic_values(), pub["L"], atol=1e-12)
    # L_1 + L_2 > 1 - P_best: the two streams are not semantically independent
    assert sum(pub["L"]) > 1 - pub["best"]


def test_best_and_worst_are_published(shipped) -> None:
    _, table, pub = shipped
    assert table.best("forward") == pub["best"]
    assert table.worst("forward") == pub["worst"]
    assert table.best("discard") == pub["best"] and table.worst("discard") == 1.0


def test_non_decreasing_in_each_ber(shipped) -> None:
    _, table, _ = shipped
    values = table.forward.values
    assert np.all(np.diff(values, axis=0) >= 0) and np.all(np.diff(values, axis=1) >= 0)
    # off the grid too, through the public evaluation
    rng = np.random.default_rng(0)
    base = 10 ** rng.uniform(-9, np.log10(0.5), size=(2000, 2))
    for i in range(2):
        more = base.copy()
        more[:, i] = np.minimum(0.5, more[:, i] * 10 ** rng.uniform(0, 3, 2000))
        assert np.all(table.perception(more, "forward") >= table.perception(base, "forward"))
    for curve in table.forward.single_stream:
        assert np.all(np.diff(curve) >= 0)


def test_forwarding_a_high_ber_stream_is_worse_than_discarding_it(shipped) -> None:
    """Xu Fig. 5: with the other stream correct, forwarding garbage beats nothing."""
    _, table, pub = shipped
    # edge map forwarded at BER 1/2 next to a correct prompt, vs the prompt alone
    assert _fwd(table, 0.0, 0.5) > pub["P1"]
    # prompt forwarded at BER 1/2 next to a correct edge map, vs the edge map alone
    assert _fwd(table, 0.5, 0.0) > pub["P2"]
    # ... while a nearly error-free second stream still helps: the curves cross
    assert _fwd(table, 0.0, 1e-8) < pub["P1"] and _fwd(table, 1e-8, 0.0) < pub["P2"]


def test_prompt_matters_more_for_clip_edge_map_for_msssim() -> None:
    clip, msssim = (tables.load(n) for n in NAMES)
    assert _fwd(clip, 0.5, 0.0) > _fwd(clip, 0.0, 0.5)  # corrupting the prompt hurts CLIP more
    assert _fwd(msssim, 0.0, 0.5) > _fwd(msssim, 0.5, 0.0)  # the edge map hurts MS-SSIM more


def test_edge_map_more_ber_sensitive_than_prompt(shipped) -> None:
    """At every BER the edge map has lost a larger share of its effect than the prompt."""
    _, table, pub = shipped
    ber = np.geomspace(1e-8, 0.5, 400)
    best = pub["best"]
    d_prompt = (_fwd(table, ber, 0.0) - best) / (_fwd(table, 0.5, 0.0) - best)
    d_edge = (_fwd(table, 0.0, ber) - best) / (_fwd(table, 0.0, 0.5) - best)
    assert np.all(d_edge >= d_prompt - 1e-12)
    mid = (ber > 1e-4) & (ber < 1e-2)
    assert np.all(d_edge[mid] > d_prompt[mid] + 0.1)
    # the BER at which half the effect is lost is at least a decade lower for the edge map
    half_prompt, half_edge = ber[np.argmax(d_prompt >= 0.5)], ber[np.argmax(d_edge >= 0.5)]
    assert half_edge < half_prompt / 10
    # the same for the single-stream curves
    s = [np.interp(np.log10(ber), table.forward.axes[i], table.forward.single_stream[i])
         for i in range(2)]
    n_prompt = (s[PROMPT] - s[PROMPT][0]) / (s[PROMPT][-1] - s[PROMPT][0])
    n_edge = (s[EDGE] - s[EDGE][0]) / (s[EDGE][-1] - s[EDGE][0])
    assert np.all(n_edge >= n_prompt - 1e-12)


def test_single_stream_keeps_positive_semantic_value_at_max_ber(shipped) -> None:
    _, table, pub = shipped
    for i, p_alone in enumerate([pub["P1"], pub["P2"]]):
        curve = table.forward.single_stream[i]
        assert curve[0] == pytest.approx(p_alone, abs=1e-12)  # L̂_i(0) = L_i
        assert curve[-1] < 1.0
        assert table.received_semantic_value(i, 0.5, "forward") > 0
        lhat = table.received_semantic_value(i, np.geomspace(1e-9, 0.5, 50), "forward")
        assert np.all(np.diff(lhat) <= 0)  # Remark 1: non-increasing in the BER


def test_single_stream_curves_consistent_with_the_surface(shipped) -> None:
    """A correct second stream never hurts; a fully corrupted one never helps."""
    _, table, _ = shipped
    ber = np.geomspace(1e-8, 0.5, 200)
    u = np.log10(ber)
    alone_prompt = table.forward.single_stream_value(PROMPT, u)
    alone_edge = table.forward.single_stream_value(EDGE, u)
    assert np.all(_fwd(table, ber, 0.0) <= alone_prompt + 1e-12)
    assert np.all(alone_prompt <= _fwd(table, ber, 0.5) + 1e-12)
    assert np.all(_fwd(table, 0.0, ber) <= alone_edge + 1e-12)
    assert np.all(alone_edge <= _fwd(table, 0.5, ber) + 1e-12)


def test_forward_part_labelled_illustrative(shipped) -> None:
    _, table, _ = shipped
    assert table.sources == {"forward": "illustrative", "discard": "published"}
    assert table.source_label == "forward: illustrative, discard: published"
    assert table.summary()["sources"] == table.sources
    assert "illustrative" in table.description.lower()
    forward = table.provenance["forward"]
    assert forward["source"] == "illustrative" and "NOT measured" in forward["what"]
    assert table.provenance["discard"]["source"] == "published"


def test_sources_fall_back_to_the_table_source() -> None:
    clip = tables.load(NAMES[0])
    prov = {k: v for k, v in clip.provenance.items() if k not in ("forward", "discard")}
    prov["source"] = "measured"
    other = type(clip)(name="x", streams=clip.streams, metric=clip.metric,
                       forward=clip.forward, provenance=prov)
    assert other.sources == {"forward": "measured"} and other.source_label == "measured"


@pytest.mark.parametrize("key", ["clip", "msssim"])
def test_shipped_file_is_the_builder_output(key: str) -> None:
    """The shipped JSON was written by ``python -m semopt.tables.xu2025`` from this code."""
    built = xu2025.build_table(key)
    shipped_table = tables.load(built.name)  # verifies the content hash
    # Equal to the last ulps: numpy versions differ in the last bit of pow/log.
    np.testing.assert_allclose(shipped_table.forward.values, built.forward.values, rtol=1e-14, atol=0)
    for a, b in zip(shipped_table.forward.single_stream, built.forward.single_stream):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(shipped_table.discard.values, built.discard.values)
    prov = {k: v for k, v in shipped_table.provenance.items() if k != "written"}
    assert json.loads(json.dumps(prov)) == json.loads(json.dumps(built.provenance))
    assert shipped_table.description == built.description


def test_builder_writes_elsewhere_and_refuses_shipped(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SEMOPT_REGENERATE_SHIPPED", raising=False)
    xu2025.main(["--out", str(tmp_path)])
    for name in NAMES:
        table = tables.load(tmp_path / f"{name}.json")
        assert table.sources["forward"] == "illustrative"
    before = {n: perception_tables.path(n).read_bytes() for n in NAMES}
    with pytest.raises(ValueError, match="shipped"):
        xu2025.main([])
    assert {n: perception_tables.path(n).read_bytes() for n in NAMES} == before
