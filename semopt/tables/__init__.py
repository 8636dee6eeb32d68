"""Perception, quality and operating-point tables: load by name, path or object.

>>> from semopt import tables
>>> table = tables.load("xu2025-kodak-clip")
>>> table.perception([[1e-3, 1e-2]], scheme="forward")   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from typing import Any

import perception_tables
from semopt.tables.base import (
    Table,
    TableError,
    TableFormatError,
    ValidationReport,
    read_table_file,
    register_table_kind,
    table_kinds,
    validate_table_file,
    write_table_file,
)

__all__ = [
    "Table",
    "TableError",
    "TableFormatError",
    "ValidationReport",
    "list_tables",
    "load",
    "register_table_kind",
    "resolve",
    "save",
    "table_kinds",
    "validate",
]

# Modules defining table kinds; each registers itself on import.
_KIND_MODULES = [
    "semopt.tables.perception",
    "semopt.tables.operating_points",
    "semopt.tables.quality_curve",
    "semopt.tables.gvif",
    "semopt.tables.symbol_split",
]


def _import_kinds() -> None:
    for module in _KIND_MODULES:
        importlib.import_module(module)


_SHIPPED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_MAX_SOURCE_CHARS = 4096


def resolve(source: str | os.PathLike[str]) -> Path:
    """The file a table name or path refers to (no reading, no validation of contents).

    A string ending in ``.json``, containing a path separator or naming an existing file
    is a path; anything else is a shipped table name (letters, digits, ``.``, ``_``,
    ``-``).

    Raises
    ------
    TableError
        For names that are not strings or paths, contain NUL bytes, are too long for the
        file system, or name no shipped table.
    """
    if not isinstance(source, (str, os.PathLike)):
        raise TableError(f"table: expected a name, a path or a Table, got {type(source).__name__}")
    text = os.fspath(source)
    if not isinstance(text, str):
        raise TableError("table: give the path as a string, not bytes")
    shown = text if len(text) <= 80 else text[:77] + "..."
    if "\x00" in text:
        raise TableError("contains a NUL byte", repr(shown))
    if not text or len(text) > _MAX_SOURCE_CHARS:
        raise TableError(f"a table name or path has 1 to {_MAX_SOURCE_CHARS} characters, got "
                         f"{len(text)}", repr(shown))
    candidate = Path(text)
    separators = [os.sep] + ([os.altsep] if os.altsep else [])
    try:
        is_path = candidate.suffix == ".json" or any(s in text for s in separators) \
            or candidate.is_file()
    except OSError as exc:
        raise TableError(f"cannot access ({exc.strerror or exc})", repr(shown)) from None
    if is_path:
        return candidate
    if not _SHIPPED_NAME.match(text):
        raise TableError("not a file, and not a shipped table name (letters, digits, '.', '_', "
                         "'-')", repr(shown))
    try:
        return perception_tables.path(text)
    except OSError as exc:
        raise TableError(f"cannot access ({exc.strerror or exc})", repr(shown)) from None
    except ValueError as exc:
        raise TableError(str(exc)) from None


def load(source: str | os.PathLike[str] | Table, *, verify_hash: bool = True,
         expected_hash: str | None = None) -> Table:
    """Load a table by shipped name, by file path, or pass a table object through.

    Parameters
    ----------
    source
        A shipped table name (see :func:`list_tables`), a path to a ``.json`` table
        file, or a :class:`Table` instance (returned unchanged).
    verify_hash
        Check the stored content hash (default). A mismatch raises :class:`TableError`.
        Schema and bounds are checked either way.
    expected_hash
        A ``"sha256:..."`` hash from a trusted channel: the file must carry it and match
        it. The stored hash alone proves integrity, not authenticity (anyone who edits a
        file can recompute it).

    Raises
    ------
    TableError
        (a ``ValueError``) naming the file and the reason, for every failure.
    """
    if isinstance(source, Table):
        return source
    return read_table_file(resolve(source), verify_hash=verify_hash, expected_hash=expected_hash)


def validate(source: str | os.PathLike[str], *, expected_hash: str | None = None) -> ValidationReport:
    """Step-by-step check of a table file or shipped table (see :func:`validate_table_file`)."""
    try:
        path = resolve(source)
    except TableError as exc:
        report = ValidationReport(path=str(os.fspath(source)) if isinstance(
            source, (str, os.PathLike)) else repr(source))
        report.error = exc.reason
        report.checks.append(("locate", "FAIL", exc.reason))
        return report
    return validate_table_file(path, expected_hash=expected_hash)


def save(table: Table, path: str | os.PathLike[str]) -> Path:
    """Write ``table`` atomically; refuses to overwrite a shipped table file."""
    target = Path(path).resolve()
    if perception_tables.data_dir().resolve() in target.parents and target.exists() \
            and os.environ.get("SEMOPT_REGENERATE_SHIPPED") != "1":
        raise TableError(f"path: {target} is a shipped table; write new tables elsewhere "
                         "(set SEMOPT_REGENERATE_SHIPPED=1 to regenerate shipped files)")
    return write_table_file(table, path)


def list_tables() -> list[dict[str, Any]]:
    """Summaries of the shipped tables: name, kind, description, provenance source, and
    ``sources`` (per part where a table mixes them, e.g. published discard subsets with an
    illustrative forward surface) with a one-line ``source_label``."""
    out = []
    for name in perception_tables.list_names():
        table = load(name)
        source = table.provenance.get("source")
        sources = dict(getattr(table, "sources", None) or {"table": source})
        label = getattr(table, "source_label", None) or str(source)
        out.append({"name": name, "kind": table.kind, "description": table.description,
                    "source": source, "sources": sources, "source_label": label})
    return out
