"""`semopt bench`: a user's allocator, registered by import path, runs beside the built-ins."""

from __future__ import annotations

import json
import sys
import textwrap

import semopt
from semopt.cli import main

USER_MODULE = textwrap.dedent('''
    from semopt.allocators.minpower import UnawareMethod

    class HalfwayAllocator(UnawareMethod):
        """A user's allocator: the equal-SNR rule under another name."""
''')


def test_user_allocator_is_benchmarked_beside_the_builtins(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_alloc.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    out_dir = tmp_path / "results"
    try:
        code = main(["bench", "minpower_reference", "--allocator", "my_alloc:HalfwayAllocator",
                     "--targets", "1", "--draws", "1", "--out-dir", str(out_dir)])
        assert code == 0
        record = json.loads((out_dir / "minpower_reference.json").read_text())
        methods = record["results"]["methods"]
        assert methods["halfwayallocator"]["user"] is True
        assert methods["halfwayallocator"]["violations"] == []
        assert {"bisection", "global-search", "proportional"} <= set(methods)
        assert "halfwayallocator" in capsys.readouterr().out
    finally:
        from semopt import registry

        registry._ALLOCATORS["min-power"].pop("halfwayallocator", None)
        sys.modules.pop("my_alloc", None)
    assert "halfwayallocator" not in semopt.list_methods("min-power")
