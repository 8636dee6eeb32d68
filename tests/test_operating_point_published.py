"""The shipped Guo et al. Tables III/IV reproduce the published numbers exactly."""

from __future__ import annotations

import numpy as np

from semopt import tables

# Transcribed verbatim from the paper text (Guo et al. 2025, Tables III and IV).
PAPER_TEXT = """
TABLE III
PSNR	AWGN	22.74	25.59	26.79	26.79	27.83
PSNR	MIMO	22.74	24.24	25.59	26.79	27.83
PSNR	Rayleigh	14.87	17.70	21.23	23.27	24.39
SSIM	AWGN	0.68	0.73	0.76	0.79	0.81
SSIM	MIMO	0.68	0.73	0.76	0.79	0.81
SSIM	Rayleigh	0.52	0.57	0.66	0.70	0.72
CLIP	AWGN	0.88	0.90	0.91	0.91	0.91
CLIP	MIMO	0.88	0.89	0.90	0.91	0.91
CLIP	Rayleigh	0.53	0.66	0.82	0.83	0.85
FID	AWGN	28.43	23.15	19.45	16.56	14.45
FID	MIMO	28.58	23.41	19.38	16.52	14.31
FID	Rayleigh	234.08	115.28	43.26	30.67	22.47
LPIPS	AWGN	0.22	0.18	0.15	0.12	0.11
LPIPS	MIMO	0.22	0.18	0.15	0.12	0.11
LPIPS	Rayleigh	0.78	0.58	0.34	0.25	0.21
TABLE IV
PSNR	AWGN	20.16	21.39	22.52	23.52	24.38
PSNR	MIMO	20.16	21.39	22.52	23.52	24.38
PSNR	Rayleigh	13.84	16.15	19.39	21.14	22.01
SSIM	AWGN	0.58	0.62	0.67	0.70	0.73
SSIM	MIMO	0.58	0.62	0.67	0.70	0.73
SSIM	Rayleigh	0.41	0.45	0.55	0.60	0.63
CLIP	AWGN	0.86	0.88	0.89	0.89	0.89
CLIP	MIMO	0.86	0.88	0.89	0.89	0.89
CLIP	Rayleigh	0.45	0.56	0.77	0.82	0.83
FID	AWGN	27.17	22.43	19.12	16.52	14.72
FID	MIMO	27.10	22.59	19.05	16.63	14.77
FID	Rayleigh	272.50	151.58	43.80	37.96	29.50
LPIPS	AWGN	0.24	0.20	0.17	0.14	0.13
LPIPS	MIMO	0.24	0.20	0.17	0.14	0.12
LPIPS	Rayleigh	0.86	0.70	0.42	0.28	0.23
"""
POINTS = {"TABLE III": "sd2-adaptive-lsun-bedrooms", "TABLE IV": "sd2-adaptive-lsun-churches"}


def _parse():
    out, current = {}, None
    for line in PAPER_TEXT.strip().splitlines():
        if line.startswith("TABLE"):
            current = POINTS[line.strip()]
            continue
        metric, channel, *values = line.split("\t")
        out[(current, channel.lower(), metric.lower())] = [float(v) for v in values]
    return out


def test_shipped_table_reproduces_the_published_numbers_exactly():
    table = tables.load("guo2025-tables-iii-iv")  # content hash verified, offline
    expected = _parse()
    assert len(expected) == 2 * 3 * 5
    for (point, channel, metric), values in expected.items():
        p = table.point(point)
        assert list(p.snr_db) == [0.0, 3.0, 6.0, 9.0, 12.0]
        assert list(p.quality[channel][metric]) == values, (point, channel, metric)
    # nothing extra was shipped
    shipped = {(p.name, c, m) for p in table.points for c, ms in p.quality.items() for m in ms}
    assert shipped == set(expected)


def test_published_provenance():
    table = tables.load("guo2025-tables-iii-iv")
    prov = table.provenance
    assert prov["source"] == "published"
    assert "Guo" in prov["citation"] and "Bandwidth Constraints" in prov["citation"]
    assert prov["tables"] == ["Table III (LSUN-Bedrooms)", "Table IV (LSUN-Churches)"]
    assert {"psnr", "ssim", "clip", "fid", "lpips", "snr_db"} <= set(prov["columns"])
    assert table.metrics["fid"].direction == "lower" and table.metrics["clip"].direction == "higher"
    assert table.diffusion == {"schedule": "linear", "num_steps": 1000}
    assert all(np.isnan(p.cost["symbols"]) for p in table.points)  # not reported


def test_selection_on_the_published_table_predicts_the_published_numbers():
    """Through the public API, at the tabulated SNRs, every predicted metric is the paper's."""
    import semopt

    expected = _parse()
    snr = [0.0, 3.0, 6.0, 9.0, 12.0]
    for dataset in ("lsun-bedrooms", "lsun-churches"):
        point = f"sd2-adaptive-{dataset}"
        for channel in ("awgn", "mimo", "rayleigh"):
            for method in ("cheapest", "best-within-budget"):
                res = semopt.allocate(snr, None, None, problem="operating-point", method=method,
                                      dataset=dataset, channel=channel)
                assert list(res.status) == ["optimal"] * 5
                assert list(res.extras["point"]) == [point] * 5
                for metric in ("psnr", "ssim", "clip", "fid", "lpips"):
                    assert list(res.extras["predicted"][metric]) == \
                        expected[(point, channel, metric)], (dataset, channel, metric)
