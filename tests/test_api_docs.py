"""docs/api.md embeds the per-problem argument table generated from the problem classes.

Regenerate after adding or changing a problem with
``SEMOPT_REGENERATE_DOCS=1 pytest tests/test_api_docs.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

from semopt.api import conventions_markdown

API = Path(__file__).resolve().parents[1] / "docs" / "api.md"
START, END = "<!-- conventions:start -->", "<!-- conventions:end -->"


def test_conventions_table_matches_the_problem_classes():
    text = API.read_text()
    head, rest = text.split(START)
    _, tail = rest.split(END)
    if os.environ.get("SEMOPT_REGENERATE_DOCS") == "1":
        API.write_text(f"{head}{START}\n{conventions_markdown()}\n{END}{tail}")
        text = API.read_text()
        head, rest = text.split(START)
    assert rest.split(END)[0].strip() == conventions_markdown(), (
        "docs/api.md is out of date: run SEMOPT_REGENERATE_DOCS=1 pytest tests/test_api_docs.py")
