"""A small harness for fuzzing public entry points: outcomes counted per entry point.

``call(entry, fn)`` runs ``fn()`` with a wall-clock alarm and classifies the outcome:
``rejected`` (a clean ``ValueError`` — bad input named), ``ok`` (returned), ``unhandled``
(any other exception) or ``hang`` (the alarm fired). :data:`LOG` keeps the counts and the
first failures of each entry point; the project's test suite prints them at the end of
the run (``tests/conftest.py``). Use it to fuzz your own allocators the same way.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LOG", "EntryLog", "FuzzHang", "call", "summary"]


class FuzzHang(RuntimeError):
    """The call did not return within its time limit."""


@dataclass
class EntryLog:
    """Counts of one entry point."""

    tried: int = 0
    ok: int = 0
    rejected: int = 0
    unhandled: int = 0
    hang: int = 0
    recheck_failed: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.unhandled + self.hang + self.recheck_failed


LOG: dict[str, EntryLog] = {}


@contextmanager
def _alarm(seconds: float):
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "SIGALRM"):
        yield
        return

    def fire(signum: int, frame: Any) -> None:
        raise FuzzHang(f"no result within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call(entry: str, fn: Callable[[], Any], *, timeout_s: float = 60.0,
         recheck: Callable[[Any], list[str]] | None = None) -> tuple[str, Any]:
    """Run ``fn()`` and record its outcome under ``entry``; returns ``(outcome, value)``.

    ``recheck(value) -> violations`` is applied to a returned value; any violation counts
    as ``recheck_failed``.
    """
    log = LOG.setdefault(entry, EntryLog())
    log.tried += 1
    try:
        with _alarm(timeout_s):
            value = fn()
    except FuzzHang as exc:
        log.hang += 1
        log.examples.append(f"hang: {exc}")
        return "hang", exc
    except ValueError as exc:
        log.rejected += 1
        return "rejected", exc
    except Exception as exc:  # the point of fuzzing: anything else is a defect
        log.unhandled += 1
        if len(log.examples) < 5:
            log.examples.append(f"{type(exc).__name__}: {exc}")
        return "unhandled", exc
    if recheck is not None:
        violations = recheck(value)
        if violations:
            log.recheck_failed += 1
            if len(log.examples) < 5:
                log.examples.append("recheck: " + "; ".join(violations))
            return "recheck_failed", violations
    log.ok += 1
    return "ok", value


def summary() -> str:
    """One line per entry point: tried, ok, rejected and failed counts."""
    lines = []
    for entry, log in sorted(LOG.items()):
        lines.append(f"{entry:<38} tried {log.tried:>5}  ok {log.ok:>5}  rejected {log.rejected:>5}"
                     f"  unhandled {log.unhandled}  recheck-failed {log.recheck_failed}"
                     f"  hangs {log.hang}")
        lines += [f"    {e}" for e in log.examples]
    return "\n".join(lines)
