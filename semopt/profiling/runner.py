"""Job runner: parallel, cached, resumable execution of many small work units.

A profiling job is a list of :class:`WorkUnit` (one per image × grid point ×
repetition). The runner

1. looks every unit up in a :class:`ResultCache` (one small JSON file per finished unit,
   written atomically with ``fsync`` + ``os.replace``, so a killed job never leaves a torn
   entry and never loses a finished one). Each entry carries its own check, the SHA-256
   of its key and value: an entry that fails it (edited, corrupted, for another key,
   or written without a check) is never used -- it is recomputed, and the run reports
   it (a :class:`CacheIntegrityWarning`, a log record, ``RunStats.cache_rejected``);
2. groups the missing units into tasks (units of one group -- one image and repetition
   -- in chunks, so a worker prepares an image once per chunk);
3. runs the tasks with joblib -- local processes (``loky``, default), ``threading``,
   ``sequential``, ``dask`` (a ``dask.distributed`` scheduler at ``scheduler=ADDRESS``)
   -- or as native Ray tasks (``ray``: the caller's Ray session, the cluster at
   ``scheduler=ADDRESS``, or a local instance started and stopped for the run);
4. stores each result **in the calling process** as it arrives (workers need no shared
   file system), with a tqdm progress bar showing rate and ETA.

Results are pure functions of their unit (the unit carries its seed), so the order of
completion, the number of workers and the backend never change them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from semopt.tables.base import atomic_write_bytes

__all__ = ["BACKENDS", "RAY_TASK_OPTIONS", "CacheIntegrityWarning", "ResultCache", "RunStats",
           "WorkUnit", "cache_key", "demo_compute", "entry_check", "ray_task_options",
           "run_units"]

BACKENDS = ("loky", "threading", "sequential", "dask", "ray")

logger = logging.getLogger(__name__)


class CacheIntegrityWarning(UserWarning):
    """Cache entries failed their integrity check; they were recomputed, not used."""


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode()


def cache_key(payload: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of everything that determines a result."""
    return hashlib.sha256(_canonical(dict(payload))).hexdigest()


def entry_check(key: str, value: Mapping[str, Any]) -> str:
    """The integrity check stored with a cache entry: ``sha256:`` of canonical ``{key, value}``.

    Like a table's content hash it detects corruption and careless edits, not a
    deliberate forgery (anyone can recompute it).
    """
    return "sha256:" + hashlib.sha256(_canonical({"key": key, "value": dict(value)})).hexdigest()


@dataclass(frozen=True)
class WorkUnit:
    """One independently cached piece of work.

    Attributes
    ----------
    key : str
        Cache key (see :func:`cache_key`).
    group : tuple
        Units of the same group may run in one task (e.g. ``(image, repetition)``).
    spec : tuple
        What to compute, interpreted by the job's compute function (JSON-able).
    """

    key: str
    group: tuple[Any, ...]
    spec: tuple[Any, ...]


class ResultCache:
    """Directory of ``<key[:2]>/<key>.json`` result files, each written atomically.

    Each file holds ``{"key", "unit", "value", "check"}`` with ``check`` =
    :func:`entry_check` of the key and value. :meth:`get` returns a value only if its
    file passes that check; otherwise it records the entry in :attr:`rejected` (and
    logs it) and reports a miss, so the unit is recomputed and the entry rewritten.

    Parameters
    ----------
    root : path
        Cache directory (created on first write).

    Attributes
    ----------
    rejected : list of (str, str)
        ``(path, reason)`` of every entry that failed its check since creation.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.rejected: list[tuple[str, str]] = []

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def _reject(self, path: Path, reason: str) -> None:
        self.rejected.append((str(path), reason))
        logger.warning("profiling cache entry %s %s; it is recomputed, not used", path, reason)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored value if its entry passes its check, else ``None`` (a miss).

        A missing file is a plain miss; an entry that exists but is unreadable, not JSON,
        for another key, without a check or with a check that does not match is a
        miss recorded in :attr:`rejected`.
        """
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._reject(path, f"is unreadable ({exc.strerror or exc})")
            return None
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):
            self._reject(path, "is not valid JSON")
            return None
        if not isinstance(record, dict) or record.get("key") != key:
            self._reject(path, "is not an entry for its key")
            return None
        value = record.get("value")
        if not isinstance(value, dict):
            self._reject(path, "has no value object")
            return None
        if "check" not in record:
            self._reject(path, "has no integrity check (written by an older semopt)")
            return None
        try:
            expected = entry_check(key, value)
        except ValueError:  # NaN/inf in an edited value cannot be canonicalised
            expected = None
        if record["check"] != expected:
            self._reject(path, "fails its integrity check (edited or corrupted)")
            return None
        return value

    def put(self, key: str, value: Mapping[str, Any], unit: Any = None) -> None:
        """Store ``value`` (JSON-able) atomically, with its integrity check."""
        record = {"key": key, "unit": unit, "value": dict(value),
                  "check": entry_check(key, value)}
        atomic_write_bytes(self._path(key), _canonical(record))

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("??/*.json")) if self.root.is_dir() else 0


@dataclass
class RunStats:
    """What a run did.

    Attributes
    ----------
    total, cache_hits, computed : int
        Units requested, found in the cache, and computed in this run.
    cache_rejected : int
        Cache entries that failed their integrity check (recomputed, not used).
    wall_s : float
        Wall time of the run (including cache look-ups).
    backend : str
    n_jobs : int
    """

    total: int = 0
    cache_hits: int = 0
    computed: int = 0
    cache_rejected: int = 0
    wall_s: float = 0.0
    backend: str = "loky"
    n_jobs: int = 1
    extras: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary."""
        rate = self.computed / self.wall_s if self.wall_s > 0 else float("nan")
        return {"total": self.total, "cache_hits": self.cache_hits, "computed": self.computed,
                "cache_rejected": self.cache_rejected, "wall_s": round(self.wall_s, 3),
                "units_per_s": rate, "backend": self.backend,
                "n_jobs": self.n_jobs, **self.extras}


def _chunks(units: Sequence[WorkUnit], chunk_size: int) -> list[list[WorkUnit]]:
    groups: dict[tuple[Any, ...], list[WorkUnit]] = {}
    for unit in units:
        groups.setdefault(unit.group, []).append(unit)
    tasks = []
    for members in groups.values():
        for start in range(0, len(members), chunk_size):
            tasks.append(members[start:start + chunk_size])
    return tasks


def _run_task(compute: Callable[..., list[dict[str, Any]]], context: Any,
              units: list[WorkUnit]) -> tuple[list[WorkUnit], list[dict[str, Any]]]:
    return units, compute(context, units)


def _ctx(context: Any, task: list[WorkUnit]) -> Any:
    return context(task[0].group) if callable(context) else context


@contextlib.contextmanager
def _backend(backend: str, scheduler: str | None) -> Iterator[str]:
    """joblib backends: loky, threading, sequential, dask (Ray has its own path)."""
    import joblib

    if backend not in BACKENDS:
        raise ValueError(f"backend: unknown {backend!r}; valid: {', '.join(BACKENDS)}")
    if backend == "dask":
        try:
            from dask.distributed import Client
        except ImportError as exc:  # pragma: no cover - environment dependent
            raise ImportError("backend 'dask' needs dask[distributed]: pip install 'semopt[dask]'") \
                from exc
        client = Client(scheduler) if scheduler else Client(processes=False)
        try:
            with joblib.parallel_config(backend="dask"):
                yield "dask"
        finally:
            client.close()
    else:
        with joblib.parallel_config(backend=backend):
            yield backend


@contextlib.contextmanager
def _ray_session(scheduler: str | None, n_jobs: int) -> Iterator[Any]:
    """The ``ray`` module, initialised for the run.

    * Ray already initialised by the caller (``ray.init(...)`` before the run): used as
      is and left running.
    * ``scheduler`` given: connect to that cluster (``ray.init(address=scheduler)``) and
      disconnect afterwards; the cluster keeps running.
    * Otherwise: start a local single-node instance with ``num_cpus=n_jobs`` and no
      dashboard, and stop it afterwards.
    """
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - environment dependent
        raise ImportError("backend 'ray' needs ray: pip install 'semopt[ray]'") from exc
    if ray.is_initialized():
        yield ray
        return
    if scheduler:
        ray.init(address=scheduler, log_to_driver=False)
    else:
        ray.init(num_cpus=n_jobs, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


#: Options of ``ray.remote`` that ``SEMOPT_RAY_TASK_OPTIONS`` may set.
RAY_TASK_OPTIONS = ("num_cpus", "num_gpus", "memory", "resources", "max_retries")


def ray_task_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Resources each Ray task asks for: ``{"num_cpus": 1}``, updated from the JSON object
    in ``$SEMOPT_RAY_TASK_OPTIONS`` (e.g. ``{"num_gpus": 1}`` for GPU stacks: Ray hides
    the GPUs from tasks that do not ask for one)."""
    text = (os.environ if environ is None else environ).get("SEMOPT_RAY_TASK_OPTIONS", "")
    options: dict[str, Any] = {"num_cpus": 1}
    if not text.strip():
        return options
    try:
        extra = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"SEMOPT_RAY_TASK_OPTIONS: not JSON ({exc})") from None
    if not isinstance(extra, dict) or not set(extra) <= set(RAY_TASK_OPTIONS):
        raise ValueError(f"SEMOPT_RAY_TASK_OPTIONS: must be a JSON object with keys among "
                         f"{', '.join(RAY_TASK_OPTIONS)}, got {text!r}")
    options.update(extra)
    return options


def _ray_map(ray: Any, compute: Callable[..., list[dict[str, Any]]], context: Any,
             tasks: Sequence[list[WorkUnit]], n_jobs: int, options: Mapping[str, Any]
             ) -> Iterator[tuple[list[WorkUnit], list[dict[str, Any]]]]:
    """Run the tasks as Ray tasks (``options``, :func:`ray_task_options`: 1 CPU each), at
    most ``2 n_jobs`` in flight, yielding each result as it completes (so the caller
    stores it at once)."""
    remote = ray.remote(**dict(options))(_run_task)
    queue = iter(tasks)
    pending: list[Any] = []

    def submit() -> None:
        task = next(queue, None)
        if task is not None:
            pending.append(remote.remote(compute, _ctx(context, task), task))

    for _ in range(2 * n_jobs):
        submit()
    try:
        while pending:
            done, rest = ray.wait(pending, num_returns=1)
            pending[:] = rest
            yield ray.get(done[0])
            submit()
    finally:
        for ref in pending:  # an error or an interrupt: do not leave work running
            ray.cancel(ref)


def run_units(units: Sequence[WorkUnit], compute: Callable[..., list[dict[str, Any]]],
              context: Any, *, cache: ResultCache, n_jobs: int = 1, backend: str = "loky",
              scheduler: str | None = None, chunk_size: int = 8, progress: bool = True,
              desc: str = "profiling", on_result: Callable[[WorkUnit, dict[str, Any]], None] | None
              = None) -> tuple[dict[str, dict[str, Any]], RunStats]:
    """Compute every unit not already in ``cache``; return all results and statistics.

    Parameters
    ----------
    units : sequence of WorkUnit
        The job (keys must be unique).
    compute : callable
        Module-level function ``compute(context, units) -> list of JSON-able dicts``
        (picklable: it runs in worker processes).
    context : picklable or callable
        Passed to every ``compute`` call (job description, images, ...). If callable, it
        is called in this process with the task's group and its return value is passed
        instead (so each task ships only the data it needs, e.g. one image).
    cache : ResultCache
        Where finished units are stored.
    n_jobs : int
        Parallel workers. With ``loky``, ``threading`` or ``sequential``, ``1`` runs in this
        process; ``dask`` and ``ray`` always run on their workers (``n_jobs`` tasks at a
        time for Dask, up to ``2 n_jobs`` queued for Ray).
    backend : {"loky", "threading", "sequential", "dask", "ray"}
        ``ray`` runs native Ray tasks (``ray.remote``, results gathered with ``ray.wait``
        as they complete); see :func:`_ray_session` for which instance is used.
    scheduler : str, optional
        Address of the Dask scheduler / Ray cluster (``ray.init(address=...)``).
    chunk_size : int
        Units per task (from one group).
    progress : bool
        Show a tqdm progress bar (rate, ETA) on stderr.
    on_result : callable, optional
        Called after each unit is stored (testing hooks, logging).

    Returns
    -------
    (results, stats)
        ``results[key]`` for every unit; ``stats`` a :class:`RunStats`.
    """
    start = time.perf_counter()
    keys = [u.key for u in units]
    if len(set(keys)) != len(keys):
        raise ValueError("units: duplicate cache keys")
    if n_jobs < 1:
        raise ValueError(f"n_jobs: must be ≥ 1, got {n_jobs}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size: must be ≥ 1, got {chunk_size}")
    results: dict[str, dict[str, Any]] = {}
    missing: list[WorkUnit] = []
    rejected_before = len(cache.rejected)
    for unit in units:
        value = cache.get(unit.key)
        if value is None:
            missing.append(unit)
        else:
            results[unit.key] = value
    stats = RunStats(total=len(units), cache_hits=len(results), backend=backend, n_jobs=n_jobs)
    rejected = cache.rejected[rejected_before:]
    stats.cache_rejected = len(rejected)
    if rejected:
        first_path, first_reason = rejected[0]
        warnings.warn(CacheIntegrityWarning(
            f"{len(rejected)} profiling cache entr{'y' if len(rejected) == 1 else 'ies'} failed "
            f"the integrity check and will be recomputed, not used (first: {first_path} "
            f"{first_reason})"), stacklevel=2)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(missing), desc=desc, unit="pt", file=sys.stderr, dynamic_ncols=True,
                   smoothing=0.1)
        bar.set_postfix(cached=stats.cache_hits)
    tasks = _chunks(missing, chunk_size)
    try:
        if tasks:
            if backend not in BACKENDS:
                raise ValueError(f"backend: unknown {backend!r}; valid: {', '.join(BACKENDS)}")
            if n_jobs == 1 and backend in ("loky", "threading", "sequential"):
                finished: Any = (_run_task(compute, _ctx(context, t), t) for t in tasks)
                _consume(finished, cache, results, stats, bar, on_result)
            elif backend == "ray":
                options = ray_task_options()
                with _ray_session(scheduler, n_jobs) as ray:
                    stats.backend = "ray"
                    _consume(_ray_map(ray, compute, context, tasks, n_jobs, options), cache,
                             results, stats, bar, on_result)
            else:
                import joblib

                with _backend(backend, scheduler) as name:
                    parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered",
                                               batch_size=1, pre_dispatch="2*n_jobs")
                    stats.backend = name
                    finished = parallel(joblib.delayed(_run_task)(compute, _ctx(context, t), t)
                                        for t in tasks)
                    _consume(finished, cache, results, stats, bar, on_result)
    finally:
        if bar is not None:
            bar.close()
        stats.wall_s = time.perf_counter() - start
    return results, stats


def _consume(finished: Any, cache: ResultCache, results: dict[str, dict[str, Any]],
             stats: RunStats, bar: Any, on_result: Any) -> None:
    for task_units, values in finished:
        if len(values) != len(task_units):
            raise RuntimeError("compute returned a different number of results than units")
        for unit, value in zip(task_units, values):
            cache.put(unit.key, value, unit=list(unit.spec))
            results[unit.key] = value
            stats.computed += 1
            if on_result is not None:
                on_result(unit, value)
        if bar is not None:
            bar.update(len(task_units))


def demo_compute(context: Any, units: Sequence[WorkUnit]) -> list[dict[str, Any]]:
    """A tiny deterministic compute function (examples, tests, benchmarks of the runner).

    Returns ``{"value": sha-derived float in [0, 1)}`` per unit, after sleeping
    ``context.get("sleep_s", 0)`` seconds per unit.
    """
    out = []
    for unit in units:
        if isinstance(context, Mapping) and context.get("sleep_s"):
            time.sleep(float(context["sleep_s"]))
        digest = hashlib.sha256(_canonical([unit.key, list(unit.spec)])).hexdigest()
        out.append({"value": int(digest[:12], 16) / 16**12})
    return out
