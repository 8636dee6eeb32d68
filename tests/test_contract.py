"""Issue 9's contract: one SNR convention, one result contract, plug-ins, one CLI, strict units."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import semopt
from semopt.cli import main

# The four calls of the contract issue, one per problem; each must return batch-shaped
# status, success and objective of shape (2,) with one dtype each across problems.
BATCH_CALLS = {
    "min-power": (([[12, 12], [10, 10]], "10 mW", 0.40), {"table": "xu2025-kodak-clip"}),
    "latency": (([10, 12], "10 mW", 1e-5), {"problem": "latency"}),
    "gvif": (([6, 8], "20 ms", "26dB"), {"problem": "gvif"}),
    "operating-point": (([7, 9], None, "psnr>=19.9"),
                        {"problem": "operating-point", "dataset": "lsun-churches"}),
    "symbol-split": (([7, 9], "8618 symbols", 25.0), {"problem": "symbol-split"}),
}
# One CLI line per problem (without --snr); `--snr -2 --snr 12` must give a batch of 2.
CLI_ARGS = {
    "min-power": ["--budget", "10 mW", "--target", "0.45"],
    "latency": ["--budget", "10 mW", "--target", "1e-5"],
    "gvif": ["--budget", "20 ms", "--target", "26dB"],
    "operating-point": ["--target", "psnr>=19.9", "--dataset", "lsun-churches", "--extrapolate",
                        "clamp"],
    "symbol-split": ["--budget", "8618 symbols"],
}


def _registered(problem):
    if problem not in semopt.list_problems():
        pytest.skip(f"problem {problem!r} not registered")


@pytest.mark.parametrize("problem", sorted(BATCH_CALLS))
def test_batch_calls_return_batch_shaped_fields(problem):
    _registered(problem)
    args, kwargs = BATCH_CALLS[problem]
    res = semopt.allocate(*args, **kwargs)
    assert res.problem == problem
    for name in ("status", "success", "objective"):
        assert np.shape(getattr(res, name)) == (2,), name
    assert res.status.dtype == np.dtype("<U16")
    assert res.success.dtype == np.dtype(bool)
    assert np.asarray(res.objective).dtype == np.dtype(float)
    assert np.shape(res.perception) == (2,) and np.shape(res.latency_s) == (2,)


def test_a_budget_that_does_not_bind_does_not_change_the_powers():
    loose = semopt.allocate(12, "1 W", 0.40, reference_power_w="10 mW", table="xu2025-kodak-clip")
    tight = semopt.allocate(12, "10 mW", 0.40, table="xu2025-kodak-clip")
    assert loose.success and tight.success
    np.testing.assert_allclose(loose.power_w, tight.power_w, rtol=1e-12)


def test_latency_falls_with_a_doubled_budget_on_a_fixed_channel():
    _registered("latency")
    one = semopt.allocate(12, "10 mW", 1e-5, problem="latency", reference_power_w="10 mW")
    two = semopt.allocate(12, "20 mW", 1e-5, problem="latency", reference_power_w="10 mW")
    assert one.success and two.success and two.latency_s < one.latency_s


@pytest.mark.parametrize("problem", sorted(BATCH_CALLS))
def test_unknown_option_is_a_value_error_listing_the_valid_ones(problem):
    _registered(problem)
    args, kwargs = BATCH_CALLS[problem]
    with pytest.raises(ValueError, match=r"^schem: unknown option .* valid options: "):
        semopt.allocate(*args, schem="x", **kwargs)


def test_show_options_lists_defaults_and_units():
    opts = semopt.show_options("min-power", "bisection")
    assert opts["method"]["segments"]["default"] == 16
    assert opts["problem"]["reference_power_w"]["unit"] == "W"
    assert "scheme" in opts["problem"]


PLUGIN = textwrap.dedent('''
    import semopt
    from semopt.allocators.minpower import UnawareMethod

    class Mine(UnawareMethod):
        """A user allocator: the semantic-unaware rule under another name."""

        name = "mine"
''')


@pytest.fixture
def plugin_dir(tmp_path):
    (tmp_path / "my_plugin.py").write_text(PLUGIN)
    return tmp_path


def _fresh(cwd, *args):
    """Run ``python *args`` in a fresh interpreter with the plug-in folder on the path."""
    root = str(Path(semopt.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": f"{cwd}{os.pathsep}{root}"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def test_plugin_registered_from_path_in_a_fresh_interpreter(plugin_dir):
    code = textwrap.dedent('''
        import semopt
        semopt.register_from_path("my_plugin:Mine", "min-power", "mine")
        r = semopt.allocate(22, "10 mW", 0.45, method="mine")
        assert r.method == "mine" and r.success, r
        try:
            semopt.register_from_path("my_plugin:Mine", "min-power", "global-search")
        except ValueError as exc:
            print("refused:", exc)
        else:
            raise SystemExit("a clash with a built-in was accepted")
        from semopt.allocators.minpower import UnawareMethod
        assert UnawareMethod.name == "unaware"
        print("ok")
    ''')
    done = _fresh(plugin_dir, "-c", code)
    assert done.returncode == 0, done.stderr
    assert "refused: method 'global-search'" in done.stdout and "ok" in done.stdout


def test_plugin_through_the_cli_in_a_fresh_interpreter(plugin_dir):
    done = _fresh(plugin_dir, "-c", "import sys; from semopt.cli import main; sys.exit(main())",
                  "allocate", "--plugin", "my_plugin:Mine", "--method", "mine", "--snr", "22",
                  "--budget", "10 mW", "--target", "0.45", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["method"] == "mine" and data["success"]


def test_plugin_benchmarked_in_a_fresh_interpreter(plugin_dir):
    done = _fresh(plugin_dir, "-c", "import sys; from semopt.cli import main; sys.exit(main())",
                  "bench", "minpower_reference", "--allocator", "my_plugin:Mine", "--help")
    assert done.returncode == 0, done.stderr


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_negative_snr_without_equals(capsys):
    code, out, err = _run(capsys, ["allocate", "--snr", "-3,-1", "--budget", "10 mW",
                                   "--target", "0.9", "--json"])
    assert code == 0, err
    assert json.loads(out)["success"] in (True, False)


@pytest.mark.parametrize("problem", sorted(CLI_ARGS))
def test_repeated_snr_gives_a_batch_in_every_problem(capsys, problem):
    _registered(problem)
    code, out, err = _run(capsys, ["allocate", "--problem", problem, "--snr", "-2", "--snr", "12",
                                   *CLI_ARGS[problem], "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert len(data["status"]) == 2 and len(data["success"]) == 2


def test_batch_text_and_csv_print_one_row_per_realization(capsys):
    code, out, _ = _run(capsys, ["allocate", "--snr", "12", "--snr", "14", "--snr", "16",
                                 "--budget", "10 mW", "--target", "0.45", "--format", "csv"])
    assert code == 0 and len(out.strip().splitlines()) == 4  # header + 3 rows
    code, out, _ = _run(capsys, ["allocate", "--snr", "12", "--snr", "14", "--budget", "10 mW",
                                 "--target", "0.45"])
    assert code == 0 and "batch (2,)" in out


def test_snr_file(tmp_path, capsys):
    path = tmp_path / "snr.csv"
    path.write_text("# prompt, edge\n12,12\n10,11\n-3,20\n")
    code, out, err = _run(capsys, ["allocate", "--snr-file", str(path), "--budget", "10 mW",
                                   "--target", "0.45", "--json"])
    assert code == 0, err
    assert len(json.loads(out)["status"]) == 3


def test_errors_name_flags_and_exit_2(capsys):
    code, _, err = _run(capsys, ["allocate", "--snr", "12", "--budget", "10 mW", "--target", "0.4",
                                 "--bits", "1,2,3"])
    assert code == 2 and err.startswith("semopt allocate: error: --bits:")
    code, _, err = _run(capsys, ["allocate", "--snr", "12", "--budget", "10 mW", "--target", "0.4",
                                 "--reference-power", "-3 W"])
    assert code == 2 and "--reference-power" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("budget, message", [
    ("10 mw", "case-sensitive"), (True, "bool"), (1e-40, "plausible range"),
])
def test_strict_budget_units(budget, message):
    with pytest.raises(ValueError, match=message):
        semopt.allocate(12, budget, 0.45)


def test_prefixes_are_case_sensitive():
    from semopt.units import parse_bandwidth, parse_duration, parse_power

    assert parse_power("10 MW") == pytest.approx(1e7)
    assert parse_power("10 mW") == pytest.approx(1e-2)
    assert parse_duration("20 ms") == pytest.approx(0.02)
    with pytest.raises(ValueError, match="case-sensitive"):
        parse_duration("20 Ms")
    with pytest.raises(ValueError, match="case-sensitive"):
        parse_bandwidth("1 mhz")


def test_snr_in_db_strings_and_range():
    a = semopt.allocate("12 dB", "10 mW", 0.45)
    b = semopt.allocate(12, "10 mW", 0.45)
    assert a.total_power_w == b.total_power_w
    with pytest.raises(ValueError, match=r"snr: .*plausible range"):
        semopt.allocate(250, "10 mW", 0.45)
    with pytest.raises(ValueError, match="snr"):
        semopt.allocate(True, "10 mW", 0.45)
