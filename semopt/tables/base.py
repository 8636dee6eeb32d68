"""Table file format: JSON document (+ optional NPZ arrays), provenance, content hash.

A table file is a JSON object::

    {
      "format": "semopt-table", "format_version": 1,
      "kind": "perception", "name": "...", "description": "...",
      "provenance": {"source": "measured" | "published" | "illustrative", ...},
      "data": {...kind-specific...},
      "arrays": "name.npz"            # optional, a plain file name next to the JSON file
      "content_hash": "sha256:..."
    }

``content_hash`` is the SHA-256 of the canonical JSON of every other field plus the
dtype, shape and bytes of each NPZ array (sorted by name). It is checked on load,
so a corrupted or carelessly edited file is rejected with the reason. It protects the
*integrity* of a file, not its *authenticity*: anyone who edits a file can recompute
it. To trust a file from elsewhere, compare its hash with one obtained from a trusted
channel (``load(..., expected_hash=...)``). NPZ files are read with
``allow_pickle=False``; nothing is ever pickled.

Reading a file never raises anything but :class:`TableError` (a ``ValueError``) naming
the file and the reason. Before anything is parsed or decompressed the reader checks
the limits below; the kinds then check their schema with bounds.

Limits (module constants)
-------------------------
``MAX_FILE_BYTES``
    Size of the JSON file (32 MiB).
``MAX_JSON_DEPTH``
    Nesting depth of JSON arrays and objects (32; shipped tables use at most 6).
``MAX_INT_DIGITS``
    Digits of a JSON integer (20). JSON numbers that overflow a float (``1e400``) and
    the non-standard constants ``NaN``/``Infinity`` are refused; duplicate keys too.
``MAX_NPZ_FILE_BYTES``, ``MAX_NPZ_BYTES``, ``MAX_NPZ_MEMBERS``
    Size of the NPZ file (256 MiB), total *decompressed* size of its members as declared
    by the zip directory (512 MiB, checked before anything is decompressed; the
    decompressor never produces more than declared), and number of members (64). Each
    member must be a plain ``.npy`` array of booleans, integers or floats whose header
    matches its declared size exactly.
``MAX_NAME_CHARS``, ``MAX_DESCRIPTION_CHARS``
    Length of the table name (200, no control characters) and description (100,000).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import math
import os
import re
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.lib.format as _npy

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_DESCRIPTION_CHARS",
    "MAX_FILE_BYTES",
    "MAX_INT_DIGITS",
    "MAX_JSON_DEPTH",
    "MAX_NAME_CHARS",
    "MAX_NPZ_BYTES",
    "MAX_NPZ_FILE_BYTES",
    "MAX_NPZ_MEMBERS",
    "PROVENANCE_SOURCES",
    "Table",
    "TableError",
    "TableFormatError",
    "ValidationReport",
    "atomic_write_bytes",
    "check_float",
    "check_int",
    "check_list",
    "check_mapping",
    "check_str",
    "content_hash",
    "json_depth",
    "read_table_file",
    "register_table_kind",
    "table_kinds",
    "validate_table_file",
    "write_table_file",
]

FORMAT = "semopt-table"
FORMAT_VERSION = 1
PROVENANCE_SOURCES = ("measured", "published", "illustrative")

MAX_FILE_BYTES = 32 * 2**20
MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 20
MAX_NPZ_FILE_BYTES = 256 * 2**20
MAX_NPZ_BYTES = 512 * 2**20
MAX_NPZ_MEMBERS = 64
MAX_ARRAY_NDIM = 8
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 100_000
MAX_KIND_CHARS = 64

_HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_NPZ_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.npz$")
_NPY_KINDS = "biuf"

_KINDS: dict[str, type[Table]] = {}


class TableError(ValueError):
    """A table file or object is malformed, out of bounds, tampered with, or unreadable.

    Parameters
    ----------
    reason : str
        What is wrong, naming the field (``"streams: 40 streams, at most 16"``).
    path : str, optional
        The file (or shipped name) it concerns; the message is ``"<path>: <reason>"``.
    """

    def __init__(self, reason: str, path: str | None = None) -> None:
        self.reason = str(reason)
        self.path = path
        super().__init__(f"{path}: {self.reason}" if path else self.reason)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.path))


#: Former name of :class:`TableError` (the same class).
TableFormatError = TableError


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


# --------------------------------------------------------------------------------------
# Checks shared by the kinds: each raises TableError("<where>: <reason>")
# --------------------------------------------------------------------------------------
def check_mapping(value: Any, where: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping (JSON object), else :class:`TableError`."""
    if not isinstance(value, Mapping):
        raise TableError(f"{where}: must be an object, got {type(value).__name__}")
    return value


def check_list(value: Any, where: str, *, min_len: int = 0, max_len: int | None = None) -> list[Any]:
    """``value`` as a list if it is a list/tuple with ``min_len ≤ len ≤ max_len``."""
    if not isinstance(value, (list, tuple)):
        raise TableError(f"{where}: must be a list, got {type(value).__name__}")
    if len(value) < min_len:
        raise TableError(f"{where}: needs at least {min_len} entries, got {len(value)}")
    if max_len is not None and len(value) > max_len:
        raise TableError(f"{where}: {len(value)} entries, at most {max_len} allowed")
    return list(value)


def check_str(value: Any, where: str, *, max_chars: int = MAX_DESCRIPTION_CHARS,
              allow_empty: bool = True, single_line: bool = False) -> str:
    """``value`` if it is a string of at most ``max_chars`` characters.

    ``single_line`` refuses control characters (names shown in terminals and legends).
    """
    if not isinstance(value, str):
        raise TableError(f"{where}: must be a string, got {type(value).__name__}")
    if not allow_empty and not value:
        raise TableError(f"{where}: must not be empty")
    if len(value) > max_chars:
        raise TableError(f"{where}: {len(value)} characters, at most {max_chars} allowed")
    if single_line and any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise TableError(f"{where}: must not contain control characters")
    return value


def check_int(value: Any, where: str, *, lo: int, hi: int) -> int:
    """``value`` as an ``int`` if it is an integer (not a bool) in ``[lo, hi]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TableError(f"{where}: must be an integer, got {type(value).__name__}")
    out = int(value)
    if not lo <= out <= hi:
        shown = out if abs(out) < 10**12 else f"{float(out):.3g}"
        raise TableError(f"{where}: {shown} is outside [{lo}, {hi}]")
    return out


def check_float(value: Any, where: str, *, lo: float = -math.inf, hi: float = math.inf,
                allow_none: bool = False) -> float:
    """``value`` as a finite ``float`` in ``[lo, hi]`` (``None`` → NaN if ``allow_none``)."""
    if value is None and allow_none:
        return math.nan
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                      np.floating)):
        raise TableError(f"{where}: must be a number, got {type(value).__name__}")
    try:
        out = float(value)
    except OverflowError:
        raise TableError(f"{where}: number too large") from None
    if not math.isfinite(out):
        raise TableError(f"{where}: must be finite, got {out}")
    if not lo <= out <= hi:
        raise TableError(f"{where}: {out:.6g} is outside [{lo:g}, {hi:g}]")
    return out


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------
class Table:
    """Base class of every table kind.

    Subclasses implement :meth:`from_data` (validate and build from the ``data``
    mapping and the NPZ arrays) and :meth:`to_data` (the inverse).

    Parameters
    ----------
    name : str
        1 to :data:`MAX_NAME_CHARS` characters, no control characters. A name is data:
        it is never used as a file name by semopt.
    description : str
    provenance : mapping, optional
    """

    kind: ClassVar[str] = ""

    def __init__(self, *, name: str, description: str = "",
                 provenance: Mapping[str, Any] | None = None) -> None:
        self.name = check_str(name, "name", max_chars=MAX_NAME_CHARS, allow_empty=False,
                              single_line=True)
        self.description = check_str(description, "description")
        if provenance is not None and not isinstance(provenance, Mapping):
            raise TableError(f"provenance: must be a mapping, got {type(provenance).__name__}")
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
    """SHA-256 over the canonical JSON (without ``content_hash``) and the arrays.

    An integrity check (accidental corruption, careless edits), not a signature: anyone
    can recompute it after editing a file.
    """
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
    """Serialize ``table`` to ``path`` atomically; arrays go to ``<stem>.npz`` beside it.

    Refuses (:class:`TableError`) to write a file the reader would refuse: a provenance
    without a valid ``source``, nesting deeper than :data:`MAX_JSON_DEPTH`, a file over
    :data:`MAX_FILE_BYTES`, arrays over :data:`MAX_NPZ_BYTES`.
    """
    path = Path(path)
    if path.suffix != ".json":
        path = path.with_suffix(".json")
    doc, arrays = table.to_document()
    if doc["provenance"].get("source") not in PROVENANCE_SOURCES:
        raise TableError(f"provenance.source: must be one of {PROVENANCE_SOURCES}, got "
                         f"{doc['provenance'].get('source')!r}", str(path))
    doc.setdefault("provenance", {}).setdefault(
        "written", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    npz_payload = None
    if arrays:
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        total = sum(a.nbytes for a in arrays.values())
        if total > MAX_NPZ_BYTES or len(arrays) > MAX_NPZ_MEMBERS:
            raise TableError(f"arrays: {len(arrays)} arrays of {total} bytes exceed the limits "
                             f"({MAX_NPZ_MEMBERS} arrays, {MAX_NPZ_BYTES} bytes)", str(path))
        npz_name = path.with_suffix(".npz").name
        if not _NPZ_NAME_RE.match(npz_name):
            raise TableError(f"arrays: the array file name {npz_name!r} must be letters, digits, "
                             "'.', '_' or '-'", str(path))
        doc["arrays"] = npz_name
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        npz_payload = buffer.getvalue()
    doc["content_hash"] = content_hash(doc, arrays)
    payload = json.dumps(doc, indent=1, allow_nan=False).encode() + b"\n"
    depth = json_depth(payload)
    if depth > MAX_JSON_DEPTH or len(payload) > MAX_FILE_BYTES:
        raise TableError(f"document: depth {depth} / {len(payload)} bytes exceed the limits "
                         f"({MAX_JSON_DEPTH}, {MAX_FILE_BYTES} bytes)", str(path))
    if npz_payload is not None:
        atomic_write_bytes(path.with_suffix(".npz"), npz_payload)
    atomic_write_bytes(path, payload)
    return path


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------
def _positions(mask: np.ndarray, chunk: int = 1 << 22) -> np.ndarray:
    """Indices of the true entries of a 1-D boolean mask, as int32 (memory-bounded)."""
    parts = [np.flatnonzero(mask[s:s + chunk]).astype(np.int32) + np.int32(s)
             for s in range(0, mask.size, chunk)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


def json_depth(raw: bytes) -> int:
    """Maximal nesting depth of arrays/objects in JSON text, in linear time (numpy).

    Brackets inside strings are ignored: a quote starts or ends a string unless it is
    preceded by an odd run of backslashes. Exact for valid JSON; for invalid JSON it is
    an estimate (the parser then rejects the text anyway).
    """
    b = np.frombuffer(raw, dtype=np.uint8)
    quotes = _positions(b == 0x22)
    slashes = _positions(b == 0x5C)
    if quotes.size and slashes.size:
        # Length of the run of backslashes ending right before each quote.
        starts = np.ones(slashes.size, dtype=bool)
        starts[1:] = slashes[1:] != slashes[:-1] + 1
        run_start = np.maximum.accumulate(np.where(starts, np.arange(slashes.size), 0))
        k = np.searchsorted(slashes, quotes) - 1
        ok = k >= 0
        kk = np.where(ok, k, 0)
        touching = ok & (slashes[kk] == quotes - 1)
        run = np.where(touching, kk - run_start[kk] + 1, 0)
        quotes = quotes[run % 2 == 0]
    brackets = _positions((b == 0x5B) | (b == 0x7B) | (b == 0x5D) | (b == 0x7D))
    if brackets.size == 0:
        return 0
    outside = np.searchsorted(quotes, brackets) % 2 == 0
    brackets = brackets[outside]
    if brackets.size == 0:
        return 0
    opening = (b[brackets] == 0x5B) | (b[brackets] == 0x7B)
    steps = np.where(opening, 1, -1).astype(np.int32)
    return int(max(np.cumsum(steps, dtype=np.int64).max(), 0))


class _Reject(Exception):
    """Raised by the JSON hooks (not a ValueError, so json passes it through)."""


def _reject_constant(name: str) -> Any:
    raise _Reject(f"non-standard JSON constant {name} (use null for missing values)")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Reject(f"integer with {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Reject(f"number {text[:40]} overflows a float")
    return value


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Reject(f"duplicate key {key[:60]!r} in an object")
        out[key] = value
    return out


def _regular_file_size(path: Path, limit: int, what: str) -> int:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise TableError("no such file" if what == "table file" else f"its {what} is missing") \
            from None
    except OSError as exc:
        raise TableError(f"cannot access the {what} ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise TableError(f"not a regular file ({what})")
    if info.st_size > limit:
        raise TableError(f"{what} is {info.st_size} bytes, over the limit of {limit} bytes")
    return int(info.st_size)


def _read_json(path: Path, info: dict[str, Any]) -> Any:
    info["file_bytes"] = _regular_file_size(path, MAX_FILE_BYTES, "table file")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TableError(f"cannot read the file ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise TableError(f"table file is over the limit of {MAX_FILE_BYTES} bytes")
    depth = json_depth(raw)
    info["json_depth"] = depth
    if depth > MAX_JSON_DEPTH:
        raise TableError(f"JSON nesting depth {depth} exceeds the limit of {MAX_JSON_DEPTH}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TableError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int,
                          parse_float=_parse_float, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise TableError(f"not valid JSON ({exc})") from None
    except _Reject as exc:
        raise TableError(f"invalid JSON: {exc}") from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise TableError("JSON nested too deeply") from None


def _read_npz(npz_path: Path, info: dict[str, Any]) -> dict[str, np.ndarray]:
    name = npz_path.name
    info["npz_bytes"] = _regular_file_size(npz_path, MAX_NPZ_FILE_BYTES, f"array file {name!r}")
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(npz_path) as archive:
            members = archive.infolist()
            if len(members) > MAX_NPZ_MEMBERS:
                raise TableError(f"array file {name!r}: {len(members)} members, at most "
                                 f"{MAX_NPZ_MEMBERS}")
            declared = sum(m.file_size for m in members)
            info["npz_decompressed_bytes"] = declared
            if declared > MAX_NPZ_BYTES:
                raise TableError(f"array file {name!r}: declares {declared} bytes decompressed, "
                                 f"over the limit of {MAX_NPZ_BYTES} bytes (not decompressed)")
            for member in members:
                key = member.filename.removesuffix(".npy")
                if not member.filename.endswith(".npy") or "/" in key or "\\" in key or not key:
                    raise TableError(f"array file {name!r}: unexpected member {member.filename!r}")
                if key in arrays:
                    raise TableError(f"array file {name!r}: duplicate member {member.filename!r}")
                if member.flag_bits & 0x1:
                    raise TableError(f"array file {name!r}: encrypted member {member.filename!r}")
                if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise TableError(f"array file {name!r}: member {member.filename!r} uses an "
                                     f"unsupported compression ({member.compress_type})")
                shape, dtype, header = _npy_header(archive, member, key)
                if dtype.hasobject or dtype.fields is not None or dtype.kind not in _NPY_KINDS:
                    raise TableError(f"array {key!r}: dtype {dtype} is not a plain boolean, "
                                     "integer or float type")
                if len(shape) > MAX_ARRAY_NDIM:
                    raise TableError(f"array {key!r}: {len(shape)} dimensions, at most "
                                     f"{MAX_ARRAY_NDIM}")
                nbytes = math.prod(shape) * dtype.itemsize
                if header + nbytes != member.file_size:
                    raise TableError(f"array {key!r}: header declares {nbytes} data bytes but the "
                                     f"member holds {member.file_size - header}")
                with archive.open(member) as handle:
                    arrays[key] = _npy.read_array(handle, allow_pickle=False)
    except TableError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError, OSError,
            NotImplementedError, OverflowError, MemoryError, KeyError, struct.error) as exc:
        raise TableError(f"unreadable array file {name!r} ({type(exc).__name__}: {exc})") from None
    return arrays


def _npy_header(archive: zipfile.ZipFile, member: zipfile.ZipInfo,
                key: str) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    """Shape, dtype and header length of one ``.npy`` member, read without its data.

    numpy's header parser evaluates a Python literal; whatever it raises on a damaged
    header (``ValueError``, ``SyntaxError``, ``tokenize.TokenError``, ...) is a
    :class:`TableError`.
    """
    try:
        with archive.open(member) as handle:
            version = _npy.read_magic(handle)
            if version == (1, 0):
                shape, _, dtype = _npy.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, _, dtype = _npy.read_array_header_2_0(handle)
            else:
                raise TableError(f"array {key!r}: unsupported .npy version {version}")
            return tuple(shape), dtype, handle.tell()
    except TableError:
        raise
    except Exception as exc:  # a parser of untrusted input: any failure is a refusal
        raise TableError(f"array {key!r}: unreadable .npy header ({type(exc).__name__}: "
                         f"{str(exc)[:200]})") from None


def _load_document(path: Path, info: dict[str, Any]) -> tuple[Any, dict[str, np.ndarray]]:
    doc = _read_json(path, info)
    arrays: dict[str, np.ndarray] = {}
    if isinstance(doc, dict) and doc.get("arrays") is not None:
        npz_name = doc["arrays"]
        if not isinstance(npz_name, str) or not _NPZ_NAME_RE.match(npz_name):
            raise TableError(f"arrays: must be a plain file name ending in .npz (letters, digits, "
                             f"'.', '_', '-'), got {str(npz_name)[:80]!r}")
        arrays = _read_npz(path.parent / npz_name, info)
    return doc, arrays


def _check_header(doc: Mapping[str, Any], verify_hash: bool,
                  expected_hash: str | None) -> tuple[str, str, str, dict[str, Any], dict[str, Any]]:
    if doc.get("format") != FORMAT:
        raise TableError(f"not a semopt table (format field {str(doc.get('format'))[:60]!r})")
    if "format_version" not in doc:
        raise TableError("missing field 'format_version'")
    version = doc["format_version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise TableError(f"format_version: must be an integer, got {type(version).__name__}")
    if version > FORMAT_VERSION:
        raise TableError(f"format_version {version} is newer than supported ({FORMAT_VERSION}); "
                         "upgrade semopt")
    if version < 1:
        raise TableError(f"format_version: {version} is not a valid version (≥ 1)")
    for key in ("kind", "name", "provenance", "data"):
        if key not in doc:
            raise TableError(f"missing field {key!r}")
    kind = check_str(doc["kind"], "kind", max_chars=MAX_KIND_CHARS, allow_empty=False,
                     single_line=True)
    name = check_str(doc["name"], "name", max_chars=MAX_NAME_CHARS, allow_empty=False,
                     single_line=True)
    description = check_str(doc.get("description", ""), "description")
    provenance = dict(check_mapping(doc["provenance"], "provenance"))
    data = dict(check_mapping(doc["data"], "data"))
    source = provenance.get("source")
    if source not in PROVENANCE_SOURCES:
        raise TableError(f"provenance.source: must be one of {PROVENANCE_SOURCES}, "
                         f"got {str(source)[:60]!r}")
    if verify_hash or expected_hash is not None:
        if "content_hash" not in doc:
            raise TableError("missing field 'content_hash'")
        stored = doc["content_hash"]
        if not isinstance(stored, str) or not _HASH_RE.match(stored):
            raise TableError("content_hash: must be 'sha256:' and 64 lowercase hex digits")
    return kind, name, description, provenance, data


def document_to_table(doc: Any, arrays: Mapping[str, np.ndarray], where: str = "table",
                      verify_hash: bool = True, expected_hash: str | None = None) -> Table:
    """Validate a parsed document (header, hash, then the kind's schema) and build the table.

    Raises
    ------
    TableError
        With ``path=where`` and the reason; nothing else.
    """
    try:
        return _document_to_table(doc, arrays, verify_hash, expected_hash)
    except TableError as exc:
        if exc.path is not None:
            raise
        raise TableError(exc.reason, where) from exc


def _document_to_table(doc: Any, arrays: Mapping[str, np.ndarray], verify_hash: bool,
                       expected_hash: str | None) -> Table:
    if not isinstance(doc, Mapping):
        raise TableError("top level must be a JSON object")
    kind, name, description, provenance, data = _check_header(doc, verify_hash, expected_hash)
    if verify_hash or expected_hash is not None:
        stored = doc["content_hash"]
        actual = content_hash(doc, arrays)
        if stored != actual:
            raise TableError(f"content hash mismatch (stored {stored[:19]}..., computed "
                             f"{actual[:19]}...): the file was modified or corrupted")
        if expected_hash is not None and actual != expected_hash:
            raise TableError(f"content hash {actual[:19]}... is not the expected "
                             f"{str(expected_hash)[:19]}...: not the file you meant to load")
    # Importing the kinds registers them.
    from semopt.tables import _import_kinds

    _import_kinds()
    if kind not in _KINDS:
        raise TableError(f"unknown table kind {kind!r}; known kinds: {', '.join(sorted(_KINDS))}")
    try:
        return _KINDS[kind].from_data(data, arrays, name=name, description=description,
                                      provenance=provenance)
    except TableError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError,
            MemoryError, ZeroDivisionError, RecursionError) as exc:
        # A safety net: the kinds check their schema explicitly, so reaching this is a gap
        # in a schema (the fuzz tests count these).
        raise TableError(f"invalid {kind!r} data: {type(exc).__name__}: {exc}") from exc


def read_table_file(path: str | os.PathLike[str], verify_hash: bool = True,
                    expected_hash: str | None = None) -> Table:
    """Read, verify and build a table from a JSON file (and its NPZ arrays, if any).

    Parameters
    ----------
    path : path-like
        The ``.json`` file.
    verify_hash : bool
        Check the stored content hash (default).
    expected_hash : str, optional
        A ``sha256:...`` hash obtained from a trusted channel; the file must have it.

    Raises
    ------
    TableError
        Naming the file and the reason, for every failure (limits, JSON, NPZ, schema,
        bounds, hash).
    """
    where = str(os.fspath(path))[:300]
    try:
        doc, arrays = _load_document(Path(path), {})
    except TableError as exc:
        raise TableError(exc.reason, where) from None
    except (OSError, ValueError, OverflowError, MemoryError) as exc:  # pragma: no cover
        raise TableError(f"cannot read ({type(exc).__name__}: {exc})", where) from None
    return document_to_table(doc, arrays, where=where, verify_hash=verify_hash,
                             expected_hash=expected_hash)


@dataclass
class ValidationReport:
    """What ``semopt tables validate`` found for one file.

    Attributes
    ----------
    path : str
    ok : bool
        Readable within the limits, schema and bounds valid, content hash verified.
    error : str or None
        The reason of the rejection.
    kind, name, source, content_hash : str or None
        From the file, when readable.
    checks : list of (str, str, str)
        ``(check, status, detail)`` rows, status ``"pass"``, ``"FAIL"`` or ``"skipped"``.
    """

    path: str
    ok: bool = False
    error: str | None = None
    kind: str | None = None
    name: str | None = None
    source: str | None = None
    content_hash: str | None = None
    checks: list[tuple[str, str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"path": self.path, "ok": self.ok, "error": self.error, "kind": self.kind,
                "name": self.name, "source": self.source, "content_hash": self.content_hash,
                "checks": [{"check": c, "status": s, "detail": d} for c, s, d in self.checks]}


def validate_table_file(path: str | os.PathLike[str],
                        expected_hash: str | None = None) -> ValidationReport:
    """Check a table file step by step (limits, JSON, arrays, header, hash, schema and bounds).

    Never raises for a bad file: the report says which check failed and why. The schema
    is checked even when the hash does not match, so a report tells an edited but valid
    file from an invalid one.
    """
    report = ValidationReport(path=str(os.fspath(path)))
    info: dict[str, Any] = {}
    try:
        doc, arrays = _load_document(Path(path), info)
    except TableError as exc:
        report.error = exc.reason
        report.checks.append(("read", "FAIL", exc.reason))
        return report
    report.checks.append(("read", "pass",
                          f"{info.get('file_bytes')} bytes (limit {MAX_FILE_BYTES}), JSON depth "
                          f"{info.get('json_depth')} (limit {MAX_JSON_DEPTH})"))
    if "npz_bytes" in info:
        report.checks.append(("arrays", "pass",
                              f"{len(arrays)} arrays, {info['npz_bytes']} bytes on disk, "
                              f"{info['npz_decompressed_bytes']} decompressed "
                              f"(limit {MAX_NPZ_BYTES})"))
    if isinstance(doc, Mapping):
        for key in ("kind", "name"):
            value = doc.get(key)
            setattr(report, key, value if isinstance(value, str) else None)
        prov = doc.get("provenance")
        if isinstance(prov, Mapping) and isinstance(prov.get("source"), str):
            report.source = prov["source"]
        if isinstance(doc.get("content_hash"), str):
            report.content_hash = doc["content_hash"]
    try:
        _check_header(doc if isinstance(doc, Mapping) else {}, True, expected_hash)
        report.checks.append(("header", "pass", f"format {FORMAT} v{doc['format_version']}, "
                              f"kind {doc['kind']!r}, source {doc['provenance']['source']!r}"))
    except TableError as exc:
        reason = exc.reason if isinstance(doc, Mapping) else "top level must be a JSON object"
        report.error = reason
        report.checks.append(("header", "FAIL", reason))
        return report
    hash_ok = content_hash(doc, arrays) == doc["content_hash"]
    report.checks.append(("content hash", "pass" if hash_ok else "FAIL",
                          "verified (integrity, not authenticity)" if hash_ok else
                          "mismatch: the file was modified or corrupted"))
    if hash_ok and expected_hash is not None and doc["content_hash"] != expected_hash:
        hash_ok = False
        report.checks.append(("expected hash", "FAIL", f"file has {doc['content_hash'][:19]}..., "
                              f"expected {expected_hash[:19]}..."))
    try:
        _document_to_table(doc, arrays, False, None)
        report.checks.append(("schema and bounds", "pass", f"kind {doc['kind']!r}"))
        schema_ok = True
    except TableError as exc:
        report.checks.append(("schema and bounds", "FAIL", exc.reason))
        report.error = report.error or exc.reason
        schema_ok = False
    if not hash_ok and report.error is None:
        report.error = next(d for c, s, d in report.checks if s == "FAIL")
        if report.error.startswith("mismatch"):
            report.error = "content hash mismatch: the file was modified or corrupted"
    report.ok = hash_ok and schema_ok
    return report
