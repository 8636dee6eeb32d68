"""Perception, quality and operating-point tables: load by name, path or object.

>>> from semopt import tables
>>> table = tables.load("xu2025-kodak-clip")
>>> table.perception([[1e-3, 1e-2]], scheme="forward")   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import perception_tables
from semopt.tables.base import (
    Table,
    TableFormatError,
    read_table_file,
    register_table_kind,
    table_kinds,
    write_table_file,
)

__all__ = [
    "Table",
    "TableFormatError",
    "list_tables",
    "load",
    "register_table_kind",
    "save",
    "table_kinds",
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


def load(source: str | os.PathLike[str] | Table, *, verify_hash: bool = True) -> Table:
    """Load a table by shipped name, by file path, or pass a table object through.

    Parameters
    ----------
    source
        A shipped table name (see :func:`list_tables`), a path to a ``.json`` table
        file, or a :class:`Table` instance (returned unchanged).
    verify_hash
        Check the stored content hash (default). A mismatch raises
        :class:`TableFormatError`.
    """
    if isinstance(source, Table):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"table: expected a name, a path or a Table, got {type(source).__name__}")
    text = os.fspath(source)
    candidate = Path(text)
    if candidate.suffix == ".json" or os.sep in text or candidate.is_file():
        return read_table_file(candidate, verify_hash=verify_hash)
    return read_table_file(perception_tables.path(text), verify_hash=verify_hash)


def save(table: Table, path: str | os.PathLike[str]) -> Path:
    """Write ``table`` atomically; refuses to overwrite a shipped table file."""
    target = Path(path).resolve()
    if perception_tables.data_dir().resolve() in target.parents and target.exists() \
            and os.environ.get("SEMOPT_REGENERATE_SHIPPED") != "1":
        raise ValueError(f"path: {target} is a shipped table; write new tables elsewhere "
                         "(set SEMOPT_REGENERATE_SHIPPED=1 to regenerate shipped files)")
    return write_table_file(table, path)


def list_tables() -> list[dict[str, Any]]:
    """Summaries (name, kind, description, provenance source) of the shipped tables."""
    out = []
    for name in perception_tables.list_names():
        table = load(name)
        out.append({"name": name, "kind": table.kind, "description": table.description,
                    "source": table.provenance.get("source")})
    return out
