"""Command-line failures a fuzz campaign found (issue 13): one line on stderr, exit 2."""

from __future__ import annotations

import pytest

from semopt.cli import main


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("argv, flag", [
    (["allocate", "--snr", "12", "--budget", "10 mW", "--target", "0.4", "--bits", "inf,100"], "--bits"),
    (["allocate", "--problem", "latency", "--method", "discrete", "--snr", "12", "--budget",
      "10 mW", "--target", "1e-5", "--orders", "inf"], "--orders"),
    (["allocate", "--snr", "12", "--budget", "10 mW", "--target", "0.4", "--scheme", "nope"],
     "--scheme"),
    (["allocate", "--snr", "12", "--budget", "10 mW", "--target", "0.4", "--segments", "0",
      "--method", "bisection"], "--segments"),
])
def test_overflowing_or_bad_flag_values_are_one_line_errors(capsys, argv, flag):
    code, _, err = _run(capsys, argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and flag in err and "Traceback" not in err


def test_plot_into_a_missing_directory_is_one_line(capsys, tmp_path):
    code, _, err = _run(capsys, ["tables", "plot", "xu2025-kodak-clip", "--out",
                                 str(tmp_path / "missing" / "x.png")])
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_missing_extra_names_the_extra(capsys, monkeypatch):
    import semopt.cli as cli

    def profile(rest):
        raise ModuleNotFoundError("No module named 'skimage'", name="skimage")

    monkeypatch.setattr(cli, "_profile", profile)
    code, _, err = _run(capsys, ["profile", "surface"])
    assert code == 2 and "pip install 'semopt[profile]'" in err


def test_help_lists_only_commands_that_exist(capsys):
    code, out, _ = _run(capsys, ["--help"])
    assert code == 0
    for command in ("allocate", "methods", "tables", "bench", "profile"):
        assert command in out
    code, out, _ = _run(capsys, ["tables", "--help"])
    assert code == 0 and "validate" in out


def test_version(capsys):
    from semopt import __version__

    code, out, _ = _run(capsys, ["--version"])
    assert code == 0 and __version__ in out


def test_debug_shows_the_traceback(capsys):
    code, _, err = _run(capsys, ["--debug", "allocate", "--snr", "12", "--budget", "-1",
                                 "--target", "0.4"])
    assert code == 2 and "budget" in err
