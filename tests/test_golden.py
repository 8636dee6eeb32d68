"""Golden results of the README's allocation, one per min-power method and scheme.

Regenerate after an intended change with ``SEMOPT_REGENERATE_GOLDEN=1 pytest tests/test_golden.py``
and review the diff of ``tests/golden/minpower.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

import semopt

GOLDEN = Path(__file__).parent / "golden" / "minpower.json"
FIELDS = ["success", "status", "power_w", "total_power_w", "objective", "error_rate", "perception"]


def _current() -> dict:
    out = {}
    for scheme in ("discard", "forward"):
        for method in ("proportional", "unaware", "bisection", "global-search", "exhaustive"):
            res = semopt.allocate(12, "10 mW", 0.40, table="xu2025-kodak-clip", scheme=scheme,
                                  method=method).to_dict()
            out[f"{scheme}/{method}"] = {k: res[k] for k in FIELDS}
    return out


def test_golden_allocations():
    current = _current()
    if os.environ.get("SEMOPT_REGENERATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    assert GOLDEN.exists(), f"{GOLDEN} missing: run with SEMOPT_REGENERATE_GOLDEN=1"
    golden = json.loads(GOLDEN.read_text())
    assert set(golden) == set(current)
    for key, expected in golden.items():
        got = current[key]
        assert got["status"] == expected["status"] and got["success"] == expected["success"], key
        for field in ("power_w", "total_power_w", "objective", "error_rate", "perception"):
            np.testing.assert_allclose(got[field], expected[field], rtol=1e-7, atol=1e-15,
                                       err_msg=f"{key}: {field}")
