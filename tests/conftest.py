"""Test configuration: everything runs offline on the CPU."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_terminal_summary(terminalreporter):
    """Print the fuzz suite's counts per entry point (tried, ok, rejected, failed)."""
    from semopt.testing import fuzz

    if fuzz.LOG:
        terminalreporter.section("fuzz: outcomes per entry point")
        terminalreporter.write_line(fuzz.summary())
