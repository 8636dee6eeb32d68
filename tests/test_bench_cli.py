"""`semopt bench` as a library command: listing, output folder, progress, packaging."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import semopt
from semopt import benchmarking
from semopt.cli import main
from semopt.cli.bench import benchmark_dir, benchmark_info, list_benchmarks

ROOT = Path(__file__).resolve().parents[1]

TINY = textwrap.dedent('''
    """A tiny benchmark for the tests."""
    import argparse

    from semopt.benchmarking import progress, write_results


    def main(argv=None):
        parser = argparse.ArgumentParser()
        parser.add_argument("--n", type=int, default=3)
        parser.add_argument("--out-dir", default=None)
        args = parser.parse_args(argv)
        total = sum(progress(range(args.n), desc="tiny"))
        path = write_results("tiny", __doc__.splitlines()[0], {"total": total}, out_dir=args.out_dir)
        print(f"wrote {path}")
        return {"total": total}
''')


@pytest.fixture
def tiny_folder(tmp_path, monkeypatch):
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "tiny.py").write_text(TINY)
    (folder / "__init__.py").write_text("RUN_TIME_S = {'tiny': 0.2}\n")
    monkeypatch.setenv("SEMOPT_BENCHMARKS", str(folder))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_list_gives_a_description_and_a_run_time_for_every_shipped_benchmark(capsys):
    rows = benchmark_info()
    assert {r["name"] for r in rows} == set(list_benchmarks()) and len(rows) >= 10
    for r in rows:
        assert r["description"], f"{r['name']}: no one-line docstring"
        assert r["run_time_s"] is not None and r["run_time_s"] > 0, \
            f"{r['name']}: no RUN_TIME_S entry in benchmarks/__init__.py"
    assert main(["bench", "--list"]) == 0
    out = capsys.readouterr().out
    for r in rows:
        line = next(ln for ln in out.splitlines() if ln.startswith(r["name"] + " "))
        assert r["description"][:20] in line and re.search(r"~\d+ (s|min) ", line), line


def test_the_benchmarks_ship_beside_the_package():
    assert benchmark_dir() == ROOT / "benchmarks"  # a sibling of semopt/, in a wheel too
    assert (benchmark_dir() / "__init__.py").is_file()


def test_default_output_is_semopt_results_in_the_current_directory(tiny_folder, capsys):
    assert main(["bench", "tiny", "--n", "4"]) == 0
    record = json.loads((tiny_folder / "semopt-results" / "tiny.json").read_text())
    assert record["results"] == {"total": 6} and record["wall_s"] >= 0
    assert "wrote" in capsys.readouterr().out


def test_out_dir_and_update_shipped(tiny_folder, tmp_path, monkeypatch, capsys):
    assert main(["bench", "tiny", "--out-dir", str(tmp_path / "mine")]) == 0
    assert (tmp_path / "mine" / "tiny.json").is_file()
    shipped = tmp_path / "shipped"
    monkeypatch.setattr(benchmarking, "shipped_results_dir", lambda: shipped)
    assert main(["bench", "tiny", "--update-shipped"]) == 0
    assert (shipped / "tiny.json").is_file()
    assert main(["bench", "tiny", "--update-shipped", "--out-dir", "x"]) == 2
    assert "exclude each other" in capsys.readouterr().err
    assert not (tiny_folder / "semopt-results").exists()


def test_update_shipped_needs_a_source_checkout(tmp_path, monkeypatch):
    assert benchmarking.shipped_results_dir() == ROOT / "benchmarks" / "results"
    fake = tmp_path / "site-packages" / "semopt" / "benchmarking.py"
    monkeypatch.setattr(benchmarking, "__file__", str(fake))
    with pytest.raises(ValueError, match="not a source checkout"):
        benchmarking.shipped_results_dir()


def test_unknown_and_missing_benchmarks_say_what_is_needed(tmp_path, monkeypatch, capsys):
    assert main(["bench", "no-such-benchmark"]) == 2
    assert "available:" in capsys.readouterr().err
    monkeypatch.setenv("SEMOPT_BENCHMARKS", str(tmp_path))
    assert main(["bench", "--list"]) == 2
    assert "no benchmark scripts" in capsys.readouterr().err


def test_progress_bar_and_its_fallback(monkeypatch, capsys):
    items = list(range(5))
    assert benchmarking.progress(items, enabled=False) is items
    monkeypatch.setenv("SEMOPT_PROGRESS", "0")
    assert benchmarking.progress(items) is items
    pytest.importorskip("tqdm")
    assert list(benchmarking.progress(items, desc="bar", enabled=True)) == items
    err = capsys.readouterr().err
    assert "bar" in err and "5/5" in err
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    text = benchmarking._TextProgress(iter(items), 5, "fallback", interval_s=0.0)
    assert list(text) == items
    lines = stream.getvalue().splitlines()
    assert len(lines) == 5 and lines[-1].startswith("fallback: 5/5") and "ETA 0 s" in lines[-1]


def test_python_dash_m_semopt_is_the_command_with_a_version_and_py_typed():
    proc = subprocess.run([sys.executable, "-m", "semopt", "bench", "--list"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "minpower_reference" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "semopt", "--version"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == f"semopt {semopt.__version__}", proc
    assert (Path(semopt.__file__).parent / "py.typed").is_file()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the tracked files")
def test_the_wheel_ships_benchmarks_py_typed_and_main(tmp_path):
    """A normal (non-editable) build: what `pip install .` installs."""
    pytest.importorskip("setuptools")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    src = tmp_path / "src"
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    # the files of this change even before they are committed
    for name in ("benchmarks/__init__.py", "semopt/py.typed", "semopt/__main__.py"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--quiet", "-w", str(tmp_path / "dist"), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("semopt-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    scripts = {f"benchmarks/{p.name}" for p in (ROOT / "benchmarks").glob("*.py")}
    assert scripts <= names, sorted(scripts - names)
    assert {"semopt/py.typed", "solvers/py.typed", "semopt/__main__.py"} <= names
    assert any(n.startswith("perception_tables/data/") and n.endswith(".json") for n in names)
    assert not any(n.startswith("benchmarks/results/") for n in names)
