"""Shipped data tables of semopt (data only: no code depends on semopt here).

Tables live in ``data/`` as ``<name>.json`` (+ ``<name>.npz``); trained model
weights and their table live in ``models/``. Use :func:`semopt.tables.load` to
load and verify a table; this module only locates the files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["data_dir", "list_names", "models_dir", "path"]


def data_dir() -> Path:
    """Folder holding the shipped table files."""
    return Path(str(resources.files(__name__) / "data"))


def models_dir() -> Path:
    """Folder holding the shipped model weights and model tables."""
    return Path(str(resources.files(__name__) / "models"))


def list_names() -> list[str]:
    """Names of the shipped tables (file stems in ``data/``)."""
    return sorted(p.stem for p in data_dir().glob("*.json"))


def path(name: str) -> Path:
    """Path of the shipped table ``name``; ``ValueError`` listing the valid names."""
    candidate = data_dir() / f"{name}.json"
    if not candidate.is_file():
        raise ValueError(f"table: unknown shipped table {name!r}; shipped tables: "
                         f"{', '.join(list_names()) or '(none)'}")
    return candidate
