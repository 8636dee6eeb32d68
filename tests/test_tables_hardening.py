"""Hardened table loading (issue 13): named regressions and a fuzz campaign.

Every regression test below names a failure class found by a fuzz campaign against the
loader before it was hardened; each fails there (an unhandled ``RecursionError``,
``BadZipFile``, ``OSError``, ``OverflowError``, ``MemoryError``, or an out-of-bounds table
accepted once its content hash was recomputed) and passes now. The fuzz tests mutate the
shipped tables (byte flips in the JSON and NPZ files, JSON field edits with the hash
recomputed) and check that loading either succeeds with a table an independent oracle
finds within bounds, or raises :class:`semopt.tables.TableError` -- never anything else.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import shutil
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perception_tables
from semopt import tables
from semopt.cli import main as cli_main
from semopt.tables import TableError
from semopt.tables import base as tbase
from semopt.tables.base import content_hash
from semopt.tables.report import describe

SHIPPED = perception_tables.list_names()
PERCEPTION = "fgbg-sample-msssim"
GUO = "guo2025-tables-iii-iv"
GVIF = "gvif-hyperprior-sample"
QIAO = "qiao2024-table2-quality"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _copy(name: str, folder: Path) -> Path:
    """Copy a shipped table (JSON and its NPZ, if any) into ``folder``; the JSON path."""
    src = perception_tables.path(name)
    dst = folder / src.name
    shutil.copy(src, dst)
    npz = src.with_suffix(".npz")
    if npz.is_file():
        shutil.copy(npz, folder / npz.name)
    return dst


def _doc(name: str) -> dict[str, Any]:
    return json.loads(perception_tables.path(name).read_text())


def _arrays(path: Path, doc: dict[str, Any]) -> dict[str, np.ndarray]:
    if not doc.get("arrays"):
        return {}
    with np.load(path.parent / doc["arrays"], allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _write(path: Path, doc: dict[str, Any], arrays: dict[str, np.ndarray] | None = None,
           rehash: bool = True) -> Path:
    """Write ``doc`` with its content hash recomputed (a careful editor)."""
    if rehash:
        try:
            doc["content_hash"] = content_hash(doc, arrays or {})
        except ValueError:  # NaN/inf cannot be canonicalised: leave the old hash
            pass
    path.write_text(json.dumps(doc))  # allow_nan=True: NaN is written as the NaN literal
    return path


# --------------------------------------------------------------------------------------
# Unhandled errors: each is now one TableError naming the file and the reason
# --------------------------------------------------------------------------------------
def test_deep_json_is_a_table_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"format": "semopt-table", "data": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(TableError, match=r"deep.json: JSON nesting depth 100001 exceeds"):
        tables.load(path)


def test_flipped_npz_byte_is_a_table_error_not_bad_zip_file(tmp_path):
    path = _copy(GVIF, tmp_path)
    npz = path.with_suffix(".npz")
    with zipfile.ZipFile(npz) as archive:
        member = archive.infolist()[1]
    raw = bytearray(npz.read_bytes())
    start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    for offset in (member.compress_size // 2, member.compress_size // 3):  # data, not header
        flipped = bytearray(raw)
        flipped[start + offset] ^= 0x5A
        npz.write_bytes(bytes(flipped))
        with pytest.raises(TableError, match=r"unreadable array file 'gvif-hyperprior-sample.npz' "
                                             r"\((BadZipFile|error)"):
            tables.load(path)


@pytest.mark.parametrize("source, reason", [
    ("x" * 300, "cannot access"),                     # ENAMETOOLONG from the file system
    ("x" * 300 + ".json", "cannot access the table file"),
    ("x" * 5000, "1 to 4096 characters"),
    ("a\x00b", "NUL byte"),
])
def test_long_or_bad_names_are_a_table_error_not_an_os_error(source, reason):
    with pytest.raises(TableError, match=reason):
        tables.load(source)


def test_overflowing_number_is_a_table_error_not_an_overflow_error(tmp_path):
    doc = _doc(GUO)
    text = json.dumps(doc).replace('"channels_c": null', '"channels_c": 1e400', 1)
    assert "1e400" in text
    path = tmp_path / "overflow.json"
    path.write_text(text)
    for verify in (True, False):
        with pytest.raises(TableError, match="1e400 overflows a float"):
            tables.load(path, verify_hash=verify)


def test_forty_streams_are_refused_before_a_2_to_the_40_table_is_allocated(tmp_path):
    doc = _doc(PERCEPTION)
    stream = doc["data"]["streams"][0]
    doc["data"]["streams"] = [dict(stream, name=f"s{i}") for i in range(40)]
    doc["data"]["forward"] = None
    path = _write(tmp_path / "forty.json", doc)
    with pytest.raises(TableError, match=r"streams: 40 entries, at most 16"):
        tables.load(path)


def test_not_utf8_is_a_table_error(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"format": "semopt-table", "name": "caf\xe9"}')
    with pytest.raises(TableError, match="not UTF-8 text"):
        tables.load(path)


# --------------------------------------------------------------------------------------
# Tables that passed validation once their hash was recomputed
# --------------------------------------------------------------------------------------
def _set(path: list[Any], value: Any):
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


@pytest.mark.parametrize("name, mutate, reason", [
    (PERCEPTION, _set(["format_version"], -1), r"format_version: -1 is not a valid version"),
    (PERCEPTION, _set(["format_version"], True), r"format_version: must be an integer"),
    (PERCEPTION, _set(["data", "streams", 0, "bits"], 10**400), r"integer with 401 digits"),
    (PERCEPTION, _set(["data", "streams", 0, "bits"], 2**41), r"bits: 2\.2e\+12 is outside"),
    (PERCEPTION, _set(["data", "discard", "values", 3], -0.1), r"discard.values\[3\]: -0.1 is outside"),
    (PERCEPTION, lambda d: d["data"]["forward"]["values"][0].__setitem__(0, -0.5),
     r"forward.values: values must lie in \[0, 1\]"),
    (GUO, _set(["data", "diffusion", "num_steps"], -1), r"diffusion.num_steps: -1 is outside"),
    (GUO, _set(["data", "diffusion", "num_steps"], 10**9), r"diffusion.num_steps: 1000000000 is"),
    (GUO, _set(["data", "diffusion", "schedule"], "teapot"), r"diffusion.schedule: unknown"),
    (GUO, lambda d: d["data"]["points"][0]["quality"]["awgn"]["psnr"].__setitem__(0, -5.0),
     r"psnr: values must lie in the metric's range \[0, inf\]"),
    (GUO, _set(["data", "points", 0, "snr_db"], [0.0, 3.0, 6.0, 9.0, 1e6]),
     r"snr_db: must lie in \[-200, 200\] dB"),
    (GVIF, _set(["data", "gamma2"], 1e308), None),  # finite: allowed (γ² is a variance)
    (QIAO, _set(["data", "ber"], [1e-6, 1e-5, 0.7]), r"every grid BER must lie in \(0, 0.5\]"),
])
def test_out_of_bounds_values_are_refused_even_with_a_recomputed_hash(tmp_path, name, mutate,
                                                                        reason):
    path = _copy(name, tmp_path)
    doc = json.loads(path.read_text())
    mutate(doc)
    _write(path, doc, _arrays(path, doc))
    if reason is None:
        tables.load(path)
        return
    with pytest.raises(TableError, match=reason):
        tables.load(path)


def test_nan_grid_axis_is_refused_also_without_the_hash_check(tmp_path):
    doc = _doc(PERCEPTION)
    doc["data"]["forward"]["log10_error_rate"][0][3] = math.nan
    path = _write(tmp_path / "nan.json", doc)  # the NaN literal: json.dumps(allow_nan=True)
    assert "NaN" in path.read_text()
    for verify in (False, True):
        with pytest.raises(TableError, match="non-standard JSON constant NaN"):
            tables.load(path, verify_hash=verify)


def test_nan_grid_axis_from_an_npz_array_is_refused_without_the_hash_check(tmp_path):
    doc = _doc(PERCEPTION)
    axes = np.array(doc["data"]["forward"]["log10_error_rate"], dtype=float)
    axes[1, 2] = np.nan
    np.savez_compressed(tmp_path / "nan.npz", axes=axes)
    doc["data"]["forward"]["log10_error_rate"] = "axes"
    doc["arrays"] = "nan.npz"
    path = _write(tmp_path / "nan.json", doc, {"axes": axes})
    with pytest.raises(TableError, match=r"log10_error_rate\[1\]: every node must be finite"):
        tables.load(path, verify_hash=False)


def test_zip_bomb_is_refused_before_anything_is_decompressed(tmp_path, monkeypatch):
    assert tbase.MAX_NPZ_BYTES < 1.5e9  # the campaign's bomb declared 1.5 GB
    path = _copy(GVIF, tmp_path)
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.zeros(3 * 2**20))  # 24 MiB of zeros
    with zipfile.ZipFile(path.with_suffix(".npz"), "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.npy", buffer.getvalue())
    assert path.with_suffix(".npz").stat().st_size < 2**20  # compressed: well under 1 MiB
    monkeypatch.setattr(tbase, "MAX_NPZ_BYTES", 8 * 2**20)

    def no_decompression(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an NPZ member was opened before the size check")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_decompression)
    with pytest.raises(TableError, match=r"declares \d+ bytes decompressed, over the limit of "
                                         r"8388608 bytes \(not decompressed\)"):
        tables.load(path)


def test_npz_header_must_match_the_declared_member_size(tmp_path):
    path = _copy(GVIF, tmp_path)
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**12,)})
    with zipfile.ZipFile(path.with_suffix(".npz"), "a") as zf:
        zf.writestr("liar.npy", buffer.getvalue() + bytes(32))  # claims 8 TB, holds 32 bytes
    with pytest.raises(TableError, match=r"array 'liar': header declares 8000000000000 data "
                                         r"bytes but the member holds 32"):
        tables.load(path, verify_hash=False)


@pytest.mark.parametrize("header", [
    "{'descr': '<f4', 'fortran_order': False, 's>)\xd4W=> 16> 16), }",   # tokenize.TokenError
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3,",              # tokenize.TokenError
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x: 1}",     # ValueError
])
def test_damaged_npy_header_is_a_table_error_not_a_token_error(tmp_path, header):
    # Found by the byte-flip fuzz test: numpy's header parser raised tokenize.TokenError.
    path = _copy(GVIF, tmp_path)
    text = header.encode("latin1")
    text += b" " * ((64 - (10 + len(text) + 1) % 64) % 64) + b"\n"
    raw = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + bytes(12)
    with zipfile.ZipFile(path.with_suffix(".npz"), "a") as zf:
        zf.writestr("damaged.npy", raw)
    with pytest.raises(TableError, match=r"array 'damaged': unreadable .npy header"):
        tables.load(path, verify_hash=False)


def test_array_file_name_cannot_leave_the_table_folder(tmp_path):
    sub = tmp_path / "tables"
    sub.mkdir()
    path = _copy(GVIF, sub)
    shutil.move(path.with_suffix(".npz"), tmp_path / "outside.npz")
    doc = json.loads(path.read_text())
    doc["arrays"] = "../outside.npz"
    _write(path, doc, _arrays(sub / "x", {"arrays": "../outside.npz"}))
    with pytest.raises(TableError, match=r"arrays: must be a plain file name"):
        tables.load(path)


def test_duplicate_keys_and_huge_files_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "dup.json"
    text = perception_tables.path(QIAO).read_text()
    path.write_text(text.replace('"format": "semopt-table"',
                                 '"format": "semopt-table", "format": "semopt-table"', 1))
    with pytest.raises(TableError, match="duplicate key 'format'"):
        tables.load(path)
    monkeypatch.setattr(tbase, "MAX_FILE_BYTES", 1000)
    with pytest.raises(TableError, match=r"table file is \d+ bytes, over the limit of 1000"):
        tables.load(perception_tables.path(QIAO))


def test_the_hash_protects_integrity_and_expected_hash_pins_a_file(tmp_path):
    path = _copy(QIAO, tmp_path)
    doc = json.loads(path.read_text())
    pinned = doc["content_hash"]
    assert tables.load(path, expected_hash=pinned).name == QIAO
    doc["data"]["metrics"]["clip"][0] = 0.9999          # a careful edit: hash recomputed
    _write(path, doc)
    assert tables.load(path).best("clip") == 0.9999      # integrity holds: accepted
    with pytest.raises(TableError, match="is not the expected"):
        tables.load(path, expected_hash=pinned)         # the pinned hash catches it


# --------------------------------------------------------------------------------------
# CLI: paths from the CLI only, one-line errors, validate, show
# --------------------------------------------------------------------------------------
def test_plot_output_path_never_comes_from_the_table_name(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    doc = _doc(QIAO)
    doc["name"] = "../escaped"
    _write(work / "tbl.json", doc)
    monkeypatch.chdir(work)
    assert cli_main(["tables", "plot", "tbl.json"]) == 0
    assert not (tmp_path / "escaped.png").exists()
    assert (work / "tbl.png").stat().st_size > 1000
    assert "wrote tbl.png" in capsys.readouterr().out


def test_plot_into_a_missing_directory_is_one_line_and_exit_2(tmp_path, capsys):
    code = cli_main(["tables", "plot", QIAO, "--out", str(tmp_path / "missing" / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err


def test_validate_rejects_each_tampered_file_with_its_reason(tmp_path, capsys):
    cases = {
        "version.json": (PERCEPTION, _set(["format_version"], -1), True, "format_version"),
        "streams.json": (PERCEPTION, _set(["data", "streams", 0, "bits"], 2**41), True, "bits"),
        "steps.json": (GUO, _set(["data", "diffusion", "num_steps"], 10**9), True, "num_steps"),
        "edited.json": (GUO, _set(["description"], "edited"), False, "content hash mismatch"),
    }
    files = []
    for fname, (name, mutate, rehash, _) in cases.items():
        doc = _doc(name)
        mutate(doc)
        files.append(str(_write(tmp_path / fname, doc, rehash=rehash)))
    good = str(_copy(QIAO, tmp_path))
    code = cli_main(["tables", "validate", *files, good])
    out = capsys.readouterr().out
    assert code == 2
    for fname, (*_, reason) in cases.items():
        line = next(line for line in out.splitlines() if line.startswith(str(tmp_path / fname)))
        assert "REJECTED" in line and reason in line, line
    assert f"{good}: OK" in out and "1 of 5 files valid, 4 rejected" in out
    assert cli_main(["tables", "validate", good]) == 0
    capsys.readouterr()
    assert cli_main(["tables", "validate", good, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)[0]
    assert report["ok"] and {c["check"] for c in report["checks"]} >= {
        "read", "header", "content hash", "schema and bounds"}


def test_show_prints_the_published_guo_values_as_a_table(capsys):
    assert cli_main(["tables", "show", GUO]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    awgn = lines.index("  channel awgn:")
    assert lines[awgn + 1].split() == ["SNR", "(dB)", "PSNR", "(dB)", "↑", "SSIM", "↑", "CLIP",
                                       "↑", "FID", "↓", "LPIPS", "↓"]
    assert lines[awgn + 3].split() == ["0", "22.74", "0.68", "0.88", "28.43", "0.22"]
    assert lines[awgn + 7].split() == ["12", "27.83", "0.81", "0.91", "14.45", "0.11"]
    assert "Provenance" in out and "  source: published" in out
    assert cli_main(["tables", "show", GUO, "--json"]) == 0
    dumped = json.loads(capsys.readouterr().out)
    assert dumped["data"]["points"][0]["quality"]["awgn"]["psnr"][0] == 22.74


def test_show_samples_large_grids_and_shows_small_tables_whole(capsys):
    assert cli_main(["tables", "show", "xu2025-kodak-clip"]) == 0
    out = capsys.readouterr().out
    assert "showing 10 of 97 rows × 10 of 97 columns" in out
    assert "prompt + edge     0.3191" in out
    assert cli_main(["tables", "show", PERCEPTION]) == 0
    out = capsys.readouterr().out
    assert "showing" not in out.split("Single-stream")[0]  # the 9 × 9 grid is shown whole
    assert cli_main(["tables", "show", "xu2025-kodak-clip", "--all"]) == 0
    assert "showing" not in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# Fuzz campaign on the shipped tables
# --------------------------------------------------------------------------------------
FUZZ_TABLES = [n for n in (PERCEPTION, "xu2025-kodak-msssim", GUO, GVIF, QIAO) if n in SHIPPED]
# Exception types that mean "a schema check is missing" when they reach the loader's
# safety net (the kinds check their structure explicitly before building anything).
BUG_LIKE = ("AttributeError", "IndexError", "RecursionError", "MemoryError", "OverflowError",
            "ZeroDivisionError", "KeyError")
STATS: dict[str, Counter[str]] = {}
#: Examples per table and campaign (deterministic: derandomize=True, no example database).
FUZZ_EXAMPLES = int(os.environ.get("SEMOPT_FUZZ_EXAMPLES", "100"))


def _oracle(table: tables.Table, doc: Any) -> None:
    """Independent bounds check of an accepted table (written apart from the loader)."""
    assert isinstance(doc, dict) and doc.get("format_version") == 1
    if table.kind == "perception":
        assert 1 <= table.n_streams <= 16
        for s in table.streams:
            assert type(s.bits) is int and 1 <= s.bits <= 2**40 and 0 < s.code_rate <= 1
        if table.discard is not None:
            v = table.discard.values
            assert v.shape == (2**table.n_streams,)
            assert np.all(np.isfinite(v)) and v.min() >= 0 and v.max() <= 1
        if table.forward is not None:
            f = table.forward
            for axis in f.axes:
                assert np.all(np.isfinite(axis)) and np.all(np.diff(axis) > 0)
                assert axis[0] >= -300 and abs(axis[-1] - np.log10(0.5)) < 1e-9
            assert np.all(np.isfinite(f.values)) and f.values.min() >= 0 and f.values.max() <= 1
            for i in range(f.values.ndim):
                assert np.all(np.diff(f.values, axis=i) >= -1e-12)
    elif table.kind == "operating-points":
        assert 1 <= len(table.points) <= 10_000
        for p in table.points:
            assert np.all(np.isfinite(p.snr_db)) and np.all(np.diff(p.snr_db) > 0)
            assert -200 <= p.snr_db[0] and p.snr_db[-1] <= 200
            for series in p.quality.values():
                for metric, values in series.items():
                    lo, hi = table.metrics[metric].value_range
                    known = {"psnr": (0, math.inf), "ssim": (-1, 1), "clip": (-1, 1),
                             "fid": (0, math.inf), "lpips": (0, math.inf)}.get(metric)
                    measured = values[~np.isnan(values)]
                    assert np.all(np.isfinite(measured))
                    assert np.all((measured >= lo) & (measured <= hi))
                    if known and "range" not in json.dumps(doc["data"]["metrics"].get(metric)):
                        assert np.all((measured >= known[0]) & (measured <= known[1]))
            for value in p.cost.values():
                assert math.isnan(value) or (math.isfinite(value) and value >= 0)
        if table.diffusion is not None:
            steps = table.diffusion.get("num_steps", 1000)
            assert type(steps) is int and 1 <= steps <= 100_000
    elif table.kind == "quality-curve":
        assert np.all(np.isfinite(table.ber)) and np.all(np.diff(table.ber) > 0)
        assert table.ber[0] > 0 and table.ber[-1] <= 0.5
        for values in table.metrics.values():
            assert np.all(np.isfinite(values)) and np.all(np.diff(values) <= 1e-12)
    elif table.kind == "gvif":
        assert len(table.models) >= 1
        assert np.all(np.isfinite(table.distortion_mse)) and table.distortion_mse.min() >= 0
        grid = table.alpha_grid
        assert np.all(np.diff(grid) > 0) and grid[0] >= 0 and grid[-1] <= 1
        assert math.isfinite(table.gamma2) and table.gamma2 > 0 and 0 <= table.alpha_max <= 1
        for key in ("gvif", "rate_bits"):
            assert np.all(np.isfinite(table.curves[key])) and table.curves[key].min() >= 0
    describe(table)        # the readable view never fails on an accepted table
    table.summary()


def _attempt(path: Path, campaign: str, verify_hash: bool = True) -> None:
    stats = STATS.setdefault(campaign, Counter())
    stats["tried"] += 1
    try:
        table = tables.load(path, verify_hash=verify_hash)
    except TableError as exc:
        stats["rejected"] += 1
        assert str(path) in str(exc), f"the error does not name the file: {exc}"
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else ""
        if exc.reason.startswith("invalid '") and " data: " in exc.reason:
            stats[f"safety net ({cause})"] += 1
        if cause in BUG_LIKE:
            stats["failed"] += 1
            raise AssertionError(f"{campaign}: a schema gap reached the safety net: {exc}") from exc
        return
    except Exception as exc:  # pragma: no cover - what the property forbids
        stats["failed"] += 1
        raise AssertionError(f"{campaign}: {type(exc).__name__} escaped: {exc}") from exc
    stats["accepted"] += 1
    try:
        _oracle(table, json.loads(path.read_text()))
    except AssertionError:
        stats["failed"] += 1
        raise


def _leaf_paths(obj: Any, prefix: tuple[Any, ...] = (), limit: int = 400) -> list[tuple[Any, ...]]:
    """Paths to values in a JSON document: every container and a sample of leaves."""
    out: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(obj, dict):
        items = list(obj.items())
    elif isinstance(obj, list):
        step = max(1, len(obj) // 4)
        items = [(i, obj[i]) for i in sorted({0, len(obj) - 1, *range(0, len(obj), step)})
                 if obj]
    else:
        return out
    for key, value in items:
        out += _leaf_paths(value, (*prefix, key), limit)
    return out[:limit * 50]


_PATHS = {name: [p for p in _leaf_paths(_doc(name)) if p[0] != "content_hash"]
          for name in FUZZ_TABLES}

_NASTY = st.one_of(
    st.none(), st.booleans(),
    st.integers(-2, 3), st.integers(-10**25, 10**25), st.sampled_from([2**40, 2**41, 10**400]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([-1.0, 0.0, 0.5, 1.0, 1.5, -1e-300, 1e308, -1e308, 5e-324]),
    st.text(max_size=5), st.sampled_from(["", "../x", "NaN", "semopt-table", "linear"]),
    st.lists(st.floats(-2, 2, allow_nan=False), max_size=4),
    st.lists(st.integers(-1, 40), max_size=3),
    st.dictionaries(st.sampled_from(["a", "name", "bits", "source"]), st.integers(-1, 2),
                    max_size=2),
    st.integers(1, 60).map(lambda depth: json.loads("[" * depth + "]" * depth)),
)


def _report(campaign: str, record_property: Any) -> None:
    stats = STATS.get(campaign, Counter())
    net = ", ".join(f"{k} {v}" for k, v in sorted(stats.items()) if k.startswith("safety"))
    line = (f"fuzz {campaign}: tried {stats['tried']}, accepted {stats['accepted']}, rejected "
            f"{stats['rejected']}, failed {stats['failed']}" + (f" [{net}]" if net else ""))
    print(line)
    record_property(campaign, dict(stats))
    assert stats["tried"] > 0 and stats["failed"] == 0, line


@pytest.mark.parametrize("name", FUZZ_TABLES)
def test_fuzz_field_edits_with_recomputed_hash(name, tmp_path_factory, record_property):
    """Edit one field of a shipped table (hash recomputed): TableError or an in-bounds table."""
    folder = tmp_path_factory.mktemp(f"edit-{name}")
    base_path = _copy(name, folder)
    base_doc = json.loads(base_path.read_text())
    arrays = _arrays(base_path, base_doc)
    campaign = f"field-edit {name}"

    @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(where=st.sampled_from(_PATHS[name]), value=_NASTY, drop=st.booleans(),
           verify=st.booleans())
    def run(where: tuple[Any, ...], value: Any, drop: bool, verify: bool) -> None:
        doc = copy.deepcopy(base_doc)
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        if drop and isinstance(parent, dict):
            parent.pop(where[-1], None)
        else:
            parent[where[-1]] = value
        path = folder / base_path.name
        _write(path, doc, arrays)
        _attempt(path, campaign, verify_hash=verify)

    run()
    _report(campaign, record_property)


@pytest.mark.parametrize("name", FUZZ_TABLES)
def test_fuzz_byte_flips(name, tmp_path_factory, record_property):
    """Flip 1-3 bytes of a shipped table's JSON or NPZ file: only TableError, never accepted
    out of bounds."""
    folder = tmp_path_factory.mktemp(f"flip-{name}")
    base_path = _copy(name, folder)
    files = [base_path] + ([base_path.with_suffix(".npz")]
                           if base_path.with_suffix(".npz").is_file() else [])
    originals = {f: f.read_bytes() for f in files}
    campaign = f"byte-flip {name}"

    @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(which=st.integers(0, len(files) - 1), data=st.data(), verify=st.booleans())
    def run(which: int, data: st.DataObject, verify: bool) -> None:
        target = files[which]
        raw = bytearray(originals[target])
        flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(1, 255)),
                                   min_size=1, max_size=3))
        for position, mask in flips:
            raw[position] ^= mask
        for f in files:
            f.write_bytes(bytes(raw) if f == target else originals[f])
        _attempt(base_path, campaign, verify_hash=verify)

    run()
    _report(campaign, record_property)
