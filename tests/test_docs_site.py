"""The documentation site: every page in the nav, no reference to a missing file, strict build."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP_DIRS = ("semopt", "solvers", "benchmarks", "perception_tables", "tests", "docs", ".ci")
_PATH = re.compile(rf"`((?:{'|'.join(re.escape(d) for d in TOP_DIRS)})/[\w./*\-]*)`")
_LINK = re.compile(r"\]\(([^)\s#]+\.md)(?:#[^)]*)?\)")


def _nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:"):]
    return re.findall(r":\s*([\w./\-]+\.md)\s*$", nav, flags=re.MULTILINE)


def test_every_docs_page_is_in_the_nav_and_every_nav_page_exists():
    nav = _nav_pages()
    assert nav, "mkdocs.yml has no nav"
    missing = [p for p in nav if not (ROOT / "docs" / p).is_file()]
    assert not missing, f"nav pages that do not exist: {missing}"
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    assert not pages - set(nav), f"docs pages missing from the nav: {sorted(pages - set(nav))}"


def _references() -> list[tuple[str, int, str, Path]]:
    refs = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for pattern, base in ((_PATH, ROOT), (_LINK, page.parent)):
            for m in pattern.finditer(text):
                target = m.group(1).rstrip(".,;:")
                line = text[:m.start()].count("\n") + 1
                refs.append((str(page.relative_to(ROOT)), line, target, base / target))
    return refs


def test_docs_reference_only_files_that_exist():
    broken = [f"{page}:{line}: {target}" for page, line, target, path in _references()
              if not (glob.glob(str(path)) if "*" in target else path.exists())]
    assert not broken, "references to files that do not exist:\n" + "\n".join(broken)


def test_docs_do_not_point_outside_the_repository():
    hits = [f"{page.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}"
            for page in PAGES for text in [page.read_text(encoding="utf-8")]
            for m in re.finditer(r"\bDESIGN\.md\b|/work/shared", text)]
    assert not hits, f"references to files outside the repository: {hits}"


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None
                    or importlib.util.find_spec("mkdocstrings_handlers") is None,
                    reason="needs the 'docs' extra (mkdocs, mkdocstrings[python], mkdocs-material)")
def test_mkdocs_build_strict(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    html = (tmp_path / "site" / "reference" / "semopt.html").read_text(encoding="utf-8")
    assert 'id="semopt.allocate"' in html  # the generated reference is there
