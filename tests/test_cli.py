"""The command line: JSON output of `semopt allocate`, `semopt tables`, `semopt bench`."""

from __future__ import annotations

import json

import pytest

from semopt.cli import main

KEYS = ["method", "success", "status", "power_w", "total_power_w", "objective", "error_rate",
        "perception", "message"]


def _run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("scheme", ["discard", "forward"])
@pytest.mark.parametrize("method", ["bisection", "proportional", "unaware", "exhaustive",
                                    "global-search"])
def test_allocate_json(capsys, scheme, method):
    code, out, _ = _run(capsys, ["allocate", "--table", "xu2025-kodak-clip", "--scheme", scheme,
                                 "--snr", "12", "--budget", "10 mW", "--target", "0.40",
                                 "--method", method, "--json"])
    assert code == 0
    data = json.loads(out)
    for key in KEYS:
        assert key in data
    assert data["method"] == method and len(data["power_w"]) == 2


def test_allocate_per_stream_snr_bits_and_code_rate(capsys):
    code, out, _ = _run(capsys, ["allocate", "--snr", "12,15", "--budget", "10 dBm", "--target",
                                 "0.45", "--bits", "800,9000", "--code-rate", "0.5", "--json"])
    data = json.loads(out)
    assert code == 0 and data["success"] and data["symbols"] == [1600, 18000]


def test_allocate_human_readable(capsys):
    code, out, _ = _run(capsys, ["allocate", "--snr", "22", "--budget", "10 mW",
                                 "--target", "0.5"])
    assert code == 0 and "total power" in out and "optimal" in out


def test_allocate_bad_input_is_a_clear_error(capsys):
    code, _, err = _run(capsys, ["allocate", "--snr", "12", "--budget", "-1",
                                 "--target", "0.4"])
    assert code == 2 and "budget" in err
    code, _, err = _run(capsys, ["allocate", "--snr", "12", "--budget", "1", "--target", "0.4",
                                 "--method", "nope"])
    assert code == 2 and "valid methods" in err


def test_tables_list_show_plot(capsys, tmp_path):
    code, out, _ = _run(capsys, ["tables", "list", "--json"])
    names = [row["name"] for row in json.loads(out)]
    assert code == 0 and "xu2025-kodak-clip" in names and "xu2025-kodak-msssim" in names
    code, out, _ = _run(capsys, ["tables", "show", "xu2025-kodak-msssim", "--json"])
    assert code == 0 and json.loads(out)["kind"] == "perception"
    for name in names:  # every shipped table validates and plots
        code, _, _ = _run(capsys, ["tables", "show", name])
        assert code == 0, name
        png = tmp_path / f"{name}.png"
        code, _, err = _run(capsys, ["tables", "plot", name, "--out", str(png)])
        assert code == 0 and png.stat().st_size > 10_000, (name, err)


def test_bench_lists_benchmarks(capsys):
    code, out, _ = _run(capsys, ["bench", "--list"])
    assert code == 0 and "minpower_speed" in out
