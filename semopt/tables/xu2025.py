"""Build the shipped ``xu2025-kodak-clip`` / ``xu2025-kodak-msssim`` tables.

Run ``SEMOPT_REGENERATE_SHIPPED=1 python -m semopt.tables.xu2025`` to regenerate the
shipped files in ``perception_tables/data`` (without the variable, shipped files are
not overwritten; ``--out DIR`` writes elsewhere).

What is published and what is not (Xu et al., Sec. VI, Kodak, prompt + edge map,
ControlNet generator; stream 1 = prompt, stream 2 = edge map):

* discard subset values P_{1,2}, P_{1} = 1 − L_1, P_{2} = 1 − L_2 — published, used as is;
* uncoded best and worst cases P_forward(0, 0) = P_{1,2} and P_forward(½, ½) — published;
* bits per pixel of the two example images (0.0303, 0.0260 bpp) — published; the split
  between the prompt and the edge map is **not** published: we assume an 80-character
  ASCII prompt (640 bits) and give the edge map the rest of the mean bit budget;
* the forward surfaces P_forward(ψ_1, ψ_2) are published only as figures (Figs. 4, 5).
  Until a profiling job measures one, the tables carry an **illustrative** surface that
  obeys every qualitative statement of Sec. VI-B:

  - P(0, 0) = P_best and P(½, ½) = P_worst (the published values);
  - non-decreasing in each BER (Corollary 1);
  - forwarding one stream at high BER is worse than discarding it (Fig. 5):
    P(0, ½) > P_{1} and P(½, 0) > P_{2}. We put the corner a fraction
    ``FORWARD_PENALTY_FRACTION`` = ½ of the way from the discard value to P_worst,
    P(0, ½) = P_{1} + ½ (P_worst − P_{1}) and P(½, 0) = P_{2} + ½ (P_worst − P_{2});
    the fraction is an assumption, not a published number;
  - so the prompt matters more for CLIP (P(½, 0) > P(0, ½)) and the edge map more for
    MS-SSIM (P(0, ½) > P(½, 0));
  - the edge map is more BER-sensitive than the prompt: each stream's degradation is a
    logistic step in log10 BER centred where the stream carries three expected bit
    errors (K_i ψ = 3; the edge map has 16 times the bits), half a decade wide;
  - single-stream curves P^(i)(ψ) rise from P_{i} to P_worst < 1: a received stream
    keeps a positive semantic value even at the maximum BER (Fig. 4(c)).

  Between the corners the surface is bilinear in the two steps,
  P = P_best + a_1 s_1 + a_2 s_2 + a_12 s_1 s_2, which also keeps P(ψ_1, 0) ≤ P^(1)(ψ_1)
  ≤ P(ψ_1, ½) (a correct second stream helps, a fully corrupted one hurts) at every
  ψ_1, and likewise for the edge map.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import perception_tables
from semopt import tables
from semopt.tables.perception import DiscardSubsets, ForwardSurface, PerceptionTable, StreamInfo

__all__ = ["FORWARD_PENALTY_FRACTION", "PUBLISHED", "build_table", "forward_corners", "main"]

KODAK_PIXELS = 768 * 512
PUBLISHED_BPP = (0.0303, 0.0260)
PROMPT_BITS = 640
EDGE_BITS = round(np.mean(PUBLISHED_BPP) * KODAK_PIXELS) - PROMPT_BITS
CODE_RATE = 0.8
LOG10_BER_MIN = -8.0
GRID_POINTS = 97
TRANSITION_WIDTH_DECADES = 0.5
EXPECTED_ERRORS_AT_CENTRE = 3.0
# Illustrative (not published): how much worse than discarding it forwarding a fully
# corrupted stream is, as a fraction of the gap between the discard value and P_worst.
FORWARD_PENALTY_FRACTION = 0.5

PUBLISHED = {
    "clip": {"metric": "1 - CLIP similarity", "P12": 0.3191, "P1": 0.4113, "P2": 0.6404,
             "worst_forward": 0.8112, "L": (0.5887, 0.3596)},
    "msssim": {"metric": "1 - MS-SSIM", "P12": 0.3313, "P1": 0.4535, "P2": 0.3645,
               "worst_forward": 0.4720, "L": (0.5465, 0.6355)},
}

CITATION = ("Xu et al., 'Perception-error analysis and semantic-aware power allocation for "
            "generative semantic communication', Sec. VI (Kodak, prompt + edge map, ControlNet)")


def _transition(u: np.ndarray, centre: float, u_min: float, u_max: float) -> np.ndarray:
    """Logistic step in log10 BER rescaled to 0 at ``u_min`` and 1 at ``u_max``."""
    def logistic(x: np.ndarray | float) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(np.asarray(x) - centre) / TRANSITION_WIDTH_DECADES))

    return (logistic(u) - logistic(u_min)) / (logistic(u_max) - logistic(u_min))


def forward_corners(metric_key: str) -> dict[str, float]:
    """Corner values of the illustrative forward surface (see the module docstring).

    Returns ``P00`` = P(0, 0), ``P10`` = P(½, 0) (prompt fully corrupted, edge map
    correct), ``P01`` = P(0, ½) (edge map fully corrupted) and ``P11`` = P(½, ½).
    """
    pub = PUBLISHED[metric_key]
    worst = pub["worst_forward"]
    return {"P00": pub["P12"],
            "P10": pub["P2"] + FORWARD_PENALTY_FRACTION * (worst - pub["P2"]),
            "P01": pub["P1"] + FORWARD_PENALTY_FRACTION * (worst - pub["P1"]),
            "P11": worst}


def build_table(metric_key: str) -> PerceptionTable:
    """The shipped table for ``metric_key`` in ``{"clip", "msssim"}``."""
    pub = PUBLISHED[metric_key]
    streams = [
        StreamInfo("prompt", PROMPT_BITS, CODE_RATE, "textual prompt (prompt inversion), UTF-8"),
        StreamInfo("edge", EDGE_BITS, CODE_RATE, "edge map (HED + neural transform coding)"),
    ]
    discard = DiscardSubsets([1.0, pub["P1"], pub["P2"], pub["P12"]], 2)
    u_max = float(np.log10(0.5))
    axis = np.linspace(LOG10_BER_MIN, u_max, GRID_POINTS)
    centres = [np.log10(EXPECTED_ERRORS_AT_CENTRE / s.bits) for s in streams]
    s1, s2 = (_transition(axis, c, LOG10_BER_MIN, u_max) for c in centres)
    corner = forward_corners(metric_key)
    a1 = corner["P10"] - corner["P00"]   # corrupting the prompt
    a2 = corner["P01"] - corner["P00"]   # corrupting the edge map
    a12 = corner["P11"] - corner["P00"] - a1 - a2
    values = corner["P00"] + a1 * s1[:, None] + a2 * s2[None, :] \
        + a12 * s1[:, None] * s2[None, :]
    values[0, 0], values[-1, -1] = corner["P00"], corner["P11"]  # published, exactly
    single = [pub["P1"] + (pub["worst_forward"] - pub["P1"]) * s1,
              pub["P2"] + (pub["worst_forward"] - pub["P2"]) * s2]
    forward = ForwardSurface([axis, axis], values, single_stream=single)
    provenance = {
        "source": "published",
        "publication": CITATION,
        "dataset": "Kodak (24 images, 768x512)",
        "encoder": "prompt inversion (text) + HED edge map with neural transform coding",
        "generator": "ControlNet (Stable Diffusion)",
        "metric": pub["metric"],
        "discard": {"source": "published",
                    "values": "P_{1,2}, P_{1} = 1 - L_1, P_{2} = 1 - L_2 as printed in Sec. VI"},
        "forward": {
            "source": "illustrative",
            "what": "NOT measured: an illustrative monotone surface with the published "
                    f"P(0,0)={pub['P12']} and P(1/2,1/2)={pub['worst_forward']}, and assumed "
                    f"P(1/2,0)={corner['P10']:.6g} > P_{{2}}={pub['P2']}, "
                    f"P(0,1/2)={corner['P01']:.6g} > P_{{1}}={pub['P1']} (forwarding a "
                    "fully corrupted stream is worse than discarding it, Xu Fig. 5; "
                    f"{FORWARD_PENALTY_FRACTION} of the way from the discard value to "
                    "P_worst); stream 1 = prompt, 2 = edge map",
            "formula": "P = P00 + a1 s1 + a2 s2 + a12 s1 s2, s_i logistic in log10 BER "
                       f"centred at K_i psi = {EXPECTED_ERRORS_AT_CENTRE}, width "
                       f"{TRANSITION_WIDTH_DECADES} decades, rescaled to [0, 1] on "
                       f"[1e{LOG10_BER_MIN:.0f}, 0.5]; single-stream P^(i) = P_{{i}} + "
                       "(P_worst - P_{i}) s_i",
            "properties": "non-decreasing in each BER; P(0,1/2) > P_{1}, P(1/2,0) > P_{2}; "
                          "edge map more BER-sensitive than the prompt; single-stream "
                          "values < 1 at BER 1/2 (tests/test_xu_surfaces.py)",
            "replace_with": "semopt profile surface (a measured table)",
        },
        "stream_bits": {
            "source": "assumption",
            "what": f"total bits = mean published bpp {PUBLISHED_BPP} x {KODAK_PIXELS} pixels; "
                    f"prompt assumed 80 ASCII characters = {PROMPT_BITS} bits, edge map the rest",
        },
        "code_rate": {"source": "published", "what": "K_i/N_i = 0.8"},
        "builder": "SEMOPT_REGENERATE_SHIPPED=1 python -m semopt.tables.xu2025",
    }
    return PerceptionTable(
        name=f"xu2025-kodak-{metric_key}", streams=streams, metric=pub["metric"],
        discard=discard, forward=forward,
        description=f"Xu et al. Kodak {pub['metric']}: published discard subsets, "
                    "ILLUSTRATIVE forward surface (not measured)",
        provenance=provenance)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(perception_tables.data_dir()),
                        help="output folder (default: the shipped tables' folder, which "
                             "needs SEMOPT_REGENERATE_SHIPPED=1)")
    args = parser.parse_args(argv)
    for key in PUBLISHED:
        table = build_table(key)
        path = tables.save(table, Path(args.out) / f"{table.name}.json")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
