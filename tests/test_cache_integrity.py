"""Profiling cache entries carry their own check (issue 13): edits are recomputed and reported.

Before, an edited cache entry was used as is and ended up, silently, in a new table with a
valid content hash. Each entry now stores the SHA-256 of its key and value; an entry that
fails it is never used: the unit is recomputed, the entry rewritten, and the run reports
it (``CacheIntegrityWarning``, a log record, ``RunStats.cache_rejected``).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semopt.profiling.runner import (
    CacheIntegrityWarning,
    ResultCache,
    WorkUnit,
    cache_key,
    demo_compute,
    entry_check,
    run_units,
)


def _units(n: int = 12) -> list[WorkUnit]:
    return [WorkUnit(key=cache_key({"i": i, "job": "integrity"}), group=(i % 3,), spec=("p", i))
            for i in range(n)]


def _entry(cache: ResultCache, key: str):
    return cache.root / key[:2] / f"{key}.json"


def _edit_value(record: dict[str, Any]) -> None:
    record["value"]["value"] = 0.123456  # check left as it was


def _edit_without_check(record: dict[str, Any]) -> None:
    record["value"]["value"] = 0.5
    record.pop("check")                  # an entry without a check cannot be trusted


def _edit_with_foreign_check(record: dict[str, Any]) -> None:
    record["value"]["value"] = 0.25      # the check of another key with this value
    record["check"] = entry_check("0" * 64, record["value"])


def _other_key(record: dict[str, Any]) -> None:
    record["key"] = "0" * 64


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "value edited, check left": (_edit_value, "fails its integrity check"),
    "value edited, check removed": (_edit_without_check, "has no integrity check"),
    "value edited, check of another key": (_edit_with_foreign_check, "fails its integrity check"),
    "entry of another key": (_other_key, "is not an entry for its key"),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_edited_entry_is_recomputed_and_reported(tmp_path, caplog, mutation) -> None:
    mutate, reason = MUTATIONS[mutation]
    units = _units()
    clean, _ = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "clean"),
                         progress=False)
    cache = ResultCache(tmp_path / "cache")
    run_units(units, demo_compute, {}, cache=cache, progress=False)
    path = _entry(cache, units[5].key)
    record = json.loads(path.read_text())
    assert record["check"] == entry_check(units[5].key, record["value"])
    mutate(record)
    path.write_text(json.dumps(record))

    fresh = ResultCache(tmp_path / "cache")
    with pytest.warns(CacheIntegrityWarning, match=r"1 profiling cache entry failed the "
                                                   r"integrity check and will be recomputed"), \
            caplog.at_level(logging.WARNING, logger="semopt.profiling.runner"):
        again, stats = run_units(units, demo_compute, {}, cache=fresh, progress=False)
    assert again == clean                                   # the edit was not used
    assert (stats.cache_rejected, stats.computed, stats.cache_hits) == (1, 1, 11)
    assert stats.as_dict()["cache_rejected"] == 1
    assert fresh.rejected == [(str(path), fresh.rejected[0][1])] and reason in fresh.rejected[0][1]
    assert str(path) in caplog.text and reason in caplog.text
    # The entry was rewritten with a valid check: the next run is all hits, without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheIntegrityWarning)
        third, s3 = run_units(units, demo_compute, {}, cache=ResultCache(tmp_path / "cache"),
                              progress=False)
    assert third == clean and (s3.cache_hits, s3.cache_rejected) == (12, 0)


def test_garbled_and_missing_entries(tmp_path) -> None:
    cache = ResultCache(tmp_path)
    key = cache_key({"a": 1})
    assert cache.get(key) is None and cache.rejected == []   # missing: a plain miss
    cache.put(key, {"v": 0.25})
    assert cache.get(key) == {"v": 0.25}
    _entry(cache, key).write_text("{not json")
    assert cache.get(key) is None and "not valid JSON" in cache.rejected[-1][1]
    _entry(cache, key).write_text(json.dumps({"key": key, "value": [1], "check": "x"}))
    assert cache.get(key) is None and "no value object" in cache.rejected[-1][1]
    value = {"v": float("nan")}
    _entry(cache, key).write_text(json.dumps({"key": key, "value": value, "check": "x"}))
    assert cache.get(key) is None and "fails its integrity check" in cache.rejected[-1][1]


# --------------------------------------------------------------------------------------
# A real profiling job: the table of a run over an edited cache equals a clean run's
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gvif_job(tmp_path_factory):
    torch = pytest.importorskip("torch")
    pytest.importorskip("compressai")
    from semopt.profiling import hyperprior as hp
    from semopt.profiling.gvif_job import GvifJob
    from semopt.profiling.images import load_sample_images

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("models")
    entries = []
    for k in range(2):
        torch.manual_seed(k)
        model = hp.build_model(8, 16)
        model.update(force=True)
        sha = hp.save_model(model, root / f"m{k}.pt", half=False)
        entries.append({"name": f"m{k}", "N": 8, "M": 16, "weights": f"m{k}.pt", "sha256": sha,
                        "lambda": 0.01 * (k + 1)})
    (root / "tiny.json").write_text(json.dumps({"models": entries}))
    images = load_sample_images("validation", size=128)[:2]
    return GvifJob(images=images, dataset={"kind": "sample", "split": "validation"},
                   model_table=str(root / "tiny.json"), alpha_step=0.2, alpha_max=0.8,
                   decode_step=0.4)


@pytest.mark.torch
def test_edited_cache_entry_never_reaches_a_table(gvif_job, tmp_path) -> None:
    from semopt import tables

    clean_results, clean_stats = gvif_job.run(tmp_path / "clean", progress=False)
    clean = gvif_job.table(clean_results, name="tiny-gvif", stats=clean_stats)

    cache = ResultCache(tmp_path / "cache")
    gvif_job.run(cache, progress=False)
    key = gvif_job.units()[1].key
    path = _entry(cache, key)
    record = json.loads(path.read_text())
    record["value"]["mse"] *= 2.0                           # a careful edit, check left
    path.write_text(json.dumps(record))

    with pytest.warns(CacheIntegrityWarning, match="1 profiling cache entry failed"):
        results, stats = gvif_job.run(tmp_path / "cache", progress=False)
    assert (stats.cache_rejected, stats.computed, stats.cache_hits) == (1, 1, 3)
    table = gvif_job.table(results, name="tiny-gvif", stats=stats)
    saved = tables.load(tables.save(table, tmp_path / "t.json"))
    data, arrays = saved.to_data()
    clean_data, clean_arrays = clean.to_data()
    assert data == clean_data
    assert set(arrays) == set(clean_arrays)
    for name in arrays:
        np.testing.assert_array_equal(arrays[name], clean_arrays[name])
    assert saved.provenance["run"]["cache_rejected"] == 1   # reported in the table too


# --------------------------------------------------------------------------------------
# Fuzz: whatever is done to an entry, get() returns the value as written or a reported miss
# --------------------------------------------------------------------------------------
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False,
                                                                      allow_infinity=False)
    | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4),
                                                                      children, max_size=3),
    max_leaves=6)
FUZZ_STATS: Counter[str] = Counter()


@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edit=st.sampled_from(["key", "unit", "value", "check", "value.value", "value.extra",
                             "drop", "bytes"]),
       new=_JSON, flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)),
                                 min_size=1, max_size=3))
def test_fuzz_cache_entries(tmp_path, edit, new, flips) -> None:
    cache = ResultCache(tmp_path / "fuzz")
    key = cache_key({"fuzz": 1})
    original = {"value": 0.7071067811865476, "n": 3}
    cache.put(key, original, unit=["p", 1])
    path = _entry(cache, key)
    FUZZ_STATS["tried"] += 1
    if edit == "bytes":
        raw = bytearray(path.read_bytes())
        for position, mask in flips:
            raw[position % len(raw)] ^= mask
        path.write_bytes(bytes(raw))
    else:
        record = json.loads(path.read_text())
        if edit == "drop":
            record.pop(sorted(record)[flips[0][0] % len(record)])
        elif edit.startswith("value."):
            record["value"][edit.split(".")[1]] = new
        else:
            record[edit] = new
        path.write_text(json.dumps(record))
    before = len(cache.rejected)
    try:
        got = cache.get(key)
    except Exception as exc:  # pragma: no cover - what the property forbids
        FUZZ_STATS["failed"] += 1
        raise AssertionError(f"get() raised {type(exc).__name__}: {exc}") from exc
    if got is None:
        FUZZ_STATS["rejected"] += 1
        assert len(cache.rejected) == before + 1      # every miss of an existing entry is reported
    else:
        FUZZ_STATS["accepted"] += 1
        assert got == original, f"an edited value was used: {got}"


def test_fuzz_cache_report(record_property) -> None:
    """Report of the cache fuzz campaign (runs after it)."""
    line = (f"fuzz profiling-cache: tried {FUZZ_STATS['tried']}, accepted {FUZZ_STATS['accepted']}, "
            f"rejected {FUZZ_STATS['rejected']}, failed {FUZZ_STATS['failed']}")
    print(line)
    record_property("profiling-cache", dict(FUZZ_STATS))
    if FUZZ_STATS["tried"]:
        assert FUZZ_STATS["failed"] == 0 and FUZZ_STATS["rejected"] > 0, line
