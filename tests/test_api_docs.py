"""docs/api.md embeds the per-problem argument table generated from the problem classes."""

from __future__ import annotations

from pathlib import Path

from semopt.api import conventions_markdown

API = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_conventions_table_matches_the_problem_classes():
    text = API.read_text()
    start = text.index("<!-- conventions:start -->") + len("<!-- conventions:start -->")
    end = text.index("<!-- conventions:end -->")
    assert text[start:end].strip() == conventions_markdown(), (
        "docs/api.md is out of date: replace the table between the markers by "
        "semopt.api.conventions_markdown()")
