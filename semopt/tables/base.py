"""Table file format: JSON document (+ optional NPZ arrays), provenance, content hash.

A table file is a JSON object::

    {
      "format": "semopt-table", "format_version": 1,
      "kind": "perception", "name": "...", "description": "...",
      "provenance": {"source": "measured" | "published" | "illustrative", ...},
      "data": {...kind-specific...},
      "arrays": "name.npz"            # optional, next to the JSON file
      "content_hash": "sha256:..."
    }

``content_hash`` is the SHA-256 of the canonical JSON of every other field plus the
dtype, shape and bytes of each NPZ array (sorted by name). It is checked on load,
so a corrupted or hand-edited file is rejected with the reason. NPZ files are read
with ``allow_pickle=False``; nothing is ever pickled.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Table",
    "TableFormatError",
    "atomic_write_bytes",
    "content_hash",
    "read_table_file",
    "register_table_kind",
    "table_kinds",
    "write_table_file",
]

FORMAT = "semopt-table"
FORMAT_VERSION = 1
PROVENANCE_SOURCES = ("measured", "published", "illustrative")

_KINDS: dict[str, type[Table]] = {}


class TableFormatError(ValueError):
    """A table file or object is malformed, tampered with, or of an unknown kind."""


def register_table_kind(kind: str) -> Callable[[type[Table]], type[Table]]:
    """Class decorator registering a :class:`Table` subclass for a ``kind`` string."""

    def decorator(cls: type[Table]) -> type[Table]:
        cls.kind = kind
        _KINDS[kind] = cls
        return cls

    return decorator


def table_kinds() -> dict[str, type[Table]]:
    """Registered table kinds."""
    return dict(_KINDS)


class Table:
    """Base class of every table kind.

    Subclasses implement :meth:`from_data` (validate and build from the ``data``
    mapping and the NPZ arrays) and :meth:`to_data` (the inverse).
    """

    kind: ClassVar[str] = ""

    def __init__(self, *, name: str, description: str = "",
                 provenance: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.description = description
        self.provenance = dict(provenance or {})

    # --- to be provided by each kind -------------------------------------------------
    @classmethod
    def from_data(cls, data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *,
                  name: str, description: str, provenance: Mapping[str, Any]) -> Table:
        raise NotImplementedError

    def to_data(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError

    def summary(self) -> dict[str, Any]:
        """Short JSON-able description used by ``semopt tables show``."""
        return {"name": self.name, "kind": self.kind, "description": self.description,
                "provenance": self.provenance}

    # --- shared ----------------------------------------------------------------------
    def to_document(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        data, arrays = self.to_data()
        doc = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "name": self.name,
            "description": self.description,
            "provenance": self.provenance,
            "data": data,
        }
        return doc, arrays

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table atomically to ``path`` (JSON, plus ``.npz`` if it has arrays)."""
        return write_table_file(self, path)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} kind={self.kind!r}>"


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode()


def content_hash(doc: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the canonical JSON (without ``content_hash``) and the arrays."""
    h = hashlib.sha256()
    h.update(_canonical({k: v for k, v in doc.items() if k != "content_hash"}))
    for key in sorted(arrays):
        arr = np.ascontiguousarray(arrays[key])
        h.update(key.encode())
        h.update(str(arr.dtype.str).encode())
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    return "sha256:" + h.hexdigest()


def atomic_write_bytes(path: str | os.PathLike[str], payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (temporary file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_table_file(table: Table, path: str | os.PathLike[str]) -> Path:
    """Serialize ``table`` to ``path`` atomically; arrays go to ``<stem>.npz`` beside it."""
    path = Path(path)
    if path.suffix != ".json":
        path = path.with_suffix(".json")
    doc, arrays = table.to_document()
    doc.setdefault("provenance", {}).setdefault(
        "written", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    if arrays:
        npz_name = path.with_suffix(".npz").name
        doc["arrays"] = npz_name
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
        atomic_write_bytes(path.with_suffix(".npz"), buffer.getvalue())
    doc["content_hash"] = content_hash(doc, arrays)
    atomic_write_bytes(path, json.dumps(doc, indent=1, allow_nan=False).encode() + b"\n")
    return path


def _require(doc: Mapping[str, Any], key: str, typ: type | tuple[type, ...], where: str) -> Any:
    if key not in doc:
        raise TableFormatError(f"{where}: missing field {key!r}")
    if not isinstance(doc[key], typ):
        raise TableFormatError(f"{where}: field {key!r} must be {typ}, got {type(doc[key]).__name__}")
    return doc[key]


def document_to_table(doc: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                      where: str = "table", verify_hash: bool = True) -> Table:
    """Validate a parsed document and build the table object of its kind."""
    if not isinstance(doc, Mapping):
        raise TableFormatError(f"{where}: top level must be a JSON object")
    if doc.get("format") != FORMAT:
        raise TableFormatError(f"{where}: not a semopt table (format field {doc.get('format')!r})")
    version = _require(doc, "format_version", int, where)
    if version > FORMAT_VERSION:
        raise TableFormatError(f"{where}: format_version {version} is newer than supported "
                               f"({FORMAT_VERSION}); upgrade semopt")
    kind = _require(doc, "kind", str, where)
    name = _require(doc, "name", str, where)
    provenance = _require(doc, "provenance", dict, where)
    data = _require(doc, "data", dict, where)
    source = provenance.get("source")
    if source not in PROVENANCE_SOURCES:
        raise TableFormatError(f"{where}: provenance.source must be one of {PROVENANCE_SOURCES}, "
                               f"got {source!r}")
    if verify_hash:
        stored = _require(doc, "content_hash", str, where)
        actual = content_hash(doc, arrays)
        if stored != actual:
            raise TableFormatError(f"{where}: content hash mismatch (stored {stored[:19]}..., "
                                   f"computed {actual[:19]}...): the file was modified or corrupted")
    # Importing the kinds registers them.
    from semopt.tables import _import_kinds

    _import_kinds()
    if kind not in _KINDS:
        raise TableFormatError(f"{where}: unknown table kind {kind!r}; known kinds: "
                               f"{', '.join(sorted(_KINDS))}")
    try:
        return _KINDS[kind].from_data(data, arrays, name=name,
                                      description=str(doc.get("description", "")),
                                      provenance=provenance)
    except TableFormatError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise TableFormatError(f"{where}: invalid {kind!r} data: {exc}") from exc


def read_table_file(path: str | os.PathLike[str], verify_hash: bool = True) -> Table:
    """Read, verify and build a table from a JSON file (and its NPZ arrays, if any)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"table: no such file {str(path)!r}")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise TableFormatError(f"{path}: not valid JSON ({exc})") from exc
    arrays: dict[str, np.ndarray] = {}
    if isinstance(doc, dict) and doc.get("arrays"):
        npz_path = path.parent / str(doc["arrays"])
        if not npz_path.is_file():
            raise TableFormatError(f"{path}: its array file {npz_path.name!r} is missing")
        try:
            with np.load(npz_path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (ValueError, OSError) as exc:
            raise TableFormatError(f"{npz_path}: unreadable array file ({exc})") from exc
    return document_to_table(doc, arrays, where=str(path), verify_hash=verify_hash)
