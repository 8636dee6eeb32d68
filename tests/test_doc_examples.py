"""Every documented example is a test: README.md and docs/*.md, page by page.

What is collected
-----------------
* every fenced ``python`` block (one test per block, id ``page:line`` of the fence);
* every ``semopt ...`` (or ``python -m semopt ...``) command of ``bash``/``sh``/``shell``/
  ``console`` blocks and of untagged blocks (one test per command, id ``page:line``);
  backslash continuations are joined, ``A && B`` / ``A; B`` are split, the consumer of a
  pipe (``semopt tables show X | head``) is dropped, ``VAR=value`` prefixes and ``export``
  lines of the page set the environment, ``> FILE`` writes the output to ``FILE``;
* ``pip install ...`` lines are tests that skip (reason: install) — the suite tests the
  installed package. Other shell commands are not collected.

How it runs
-----------
The examples of one page run in order in one scratch directory (under pytest's
``tmp_path_factory``, also on ``sys.path``); the python blocks of a page share one
namespace. Selecting a single example (``-k``) first replays the page's earlier examples.
CLI commands run in-process through :func:`semopt.cli.main` (the ``semopt`` entry point).

Markers, written visibly in the page as comments
------------------------------------------------
``# needs: X`` (X one or more of ``weights``, ``gpu``, ``profile``, ``slow``, ``network``)
in a python block applies to the block; in a shell block a trailing comment applies to its
command and a comment line on its own to every later command of the block. ``profile``
runs when the ``profile`` extra is installed, ``gpu`` when CUDA is available; the others,
and any of them, run when listed in ``$SEMOPT_DOC_NEEDS`` (e.g. ``SEMOPT_DOC_NEEDS=slow``).
A skipped ``semopt`` command is still parsed by its real argument parser (nothing runs),
so a skipped example cannot drift into an invalid command.

``# expect: infeasible`` marks an example whose point is an infeasible answer.

What fails
----------
* a python block that raises; a python block that binds (or rebinds) a
  :class:`semopt.Allocation` whose ``success`` is False — for a batch, False everywhere —
  unless marked ``# expect: infeasible`` (then at least one such Allocation is required);
* a command whose exit code is not 0; an ``allocate`` command that prints an infeasible
  result (``infeasible``, ``success=False``, ``"success": false``) unless marked, or that
  is marked and prints none;
* an unknown marker.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]

KNOWN_NEEDS = ("weights", "gpu", "profile", "slow", "network")
KNOWN_EXPECT = ("infeasible",)
PYTHON_LANGS = {"python", "py", "python3"}
SHELL_LANGS = {"bash", "sh", "shell", "console", "zsh", ""}
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
_MARKER = re.compile(r"#\s*(needs|expect)\s*:\s*([A-Za-z][\w\-, ]*)")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_INFEASIBLE_OUTPUT = re.compile(r"infeasible|success=false|\"success\":\s*false", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    """One ``semopt`` invocation of a shell example."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    stdout_to: str | None = None


@dataclass(frozen=True)
class Example:
    """One collected example of a page."""

    page: str
    line: int
    kind: str  # "python" | "cli" | "install"
    source: str
    commands: tuple[Command, ...] = ()
    needs: frozenset[str] = frozenset()
    expect: frozenset[str] = frozenset()
    env: tuple[tuple[str, str], ...] = ()  # the page's `export`s before this example
    errors: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _markers(text: str) -> tuple[set[str], set[str], list[str]]:
    needs: set[str] = set()
    expect: set[str] = set()
    errors: list[str] = []
    for kind, values in _MARKER.findall(text):
        for value in re.split(r"[\s,]+", values.strip()):
            if not value:
                continue
            known = KNOWN_NEEDS if kind == "needs" else KNOWN_EXPECT
            if value not in known:
                errors.append(f"unknown marker '# {kind}: {value}' (known: {', '.join(known)})")
            (needs if kind == "needs" else expect).add(value)
    return needs, expect, errors


def _fenced_blocks(lines: list[str]) -> Iterator[tuple[int, str, list[tuple[int, str]]]]:
    """(fence line, info word, [(line number, text)]) for every fenced block."""
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = len(m.group("indent")), m.group("fence"), m.group("info").lower()
        start, body = i + 1, []
        i += 1
        while i < len(lines):
            close = re.match(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[i])
            if close:
                break
            text = lines[i]
            body.append((i + 1, text[indent:] if text[:indent].strip() == "" else text.lstrip()))
            i += 1
        yield start, info, body
        i += 1


def _logical_lines(body: list[tuple[int, str]], console: bool) -> Iterator[tuple[int, str]]:
    """Shell lines with backslash continuations joined; console blocks keep ``$ `` lines only."""
    buffer: list[str] = []
    first = 0
    for number, text in body:
        stripped = text.strip()
        if not buffer:
            if console:
                if not stripped.startswith("$ "):
                    continue
                stripped = stripped[2:]
            elif stripped.startswith("$ "):
                stripped = stripped[2:]
            first = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1])
            continue
        buffer.append(stripped)
        yield first, " ".join(buffer)
        buffer = []
    if buffer:
        yield first, " ".join(buffer)


def _segments(line: str) -> list[tuple[str, list[str]]]:
    """Split a shell line into (operator before, words) segments."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    segments: list[tuple[str, list[str]]] = []
    op, words = "", []
    for token in lexer:
        if token in ("&&", ";", "||", "|", "&"):
            segments.append((op, words))
            op, words = token, []
        else:
            words.append(token)
    segments.append((op, words))
    return [(o, w) for o, w in segments if w]


def _classify(words: list[str]) -> tuple[str, list[str], list[tuple[str, str]]]:
    """('semopt'|'install'|'export'|'other', argv, env prefix) of one simple command."""
    env = []
    while words and _ASSIGN.match(words[0]):
        key, _, value = words[0].partition("=")
        env.append((key, value))
        words = words[1:]
    if not words:
        return "export", [], env
    head = os.path.basename(words[0])  # "semopt/" (a layout line) is not a command
    if head == "semopt":
        return "semopt", words[1:], env
    if head.startswith("python") and words[1:3] == ["-m", "semopt"]:
        return "semopt", words[3:], env
    if (head in ("pip", "pip3") and words[1:2] == ["install"]) or (
            head.startswith("python") and words[1:4] == ["-m", "pip", "install"]):
        return "install", words, env
    if head == "export":
        pairs = [w.partition("=") for w in words[1:] if "=" in w]
        return "export", [], [(k, v) for k, _, v in pairs]
    return "other", words, env


def collect_page(page: str) -> list[Example]:
    """Every example of one page (path relative to the repository root)."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    examples: list[Example] = []
    page_env: list[tuple[str, str]] = []
    for fence_line, info, body in _fenced_blocks(lines):
        if info in PYTHON_LANGS:
            source = "\n".join(text for _, text in body)
            needs, expect, errors = _markers(source)
            # pad so that tracebacks point at the page's own line numbers
            padded = "\n" * fence_line + source
            examples.append(Example(page, fence_line, "python", padded, needs=frozenset(needs),
                                    expect=frozenset(expect), env=tuple(page_env),
                                    errors=tuple(errors)))
            continue
        if info not in SHELL_LANGS:
            continue
        sticky_needs: set[str] = set()
        sticky_expect: set[str] = set()
        sticky_errors: list[str] = []
        for number, text in _logical_lines(body, console=info == "console"):
            if not text or text.startswith("#"):
                n, e, err = _markers(text)
                sticky_needs |= n
                sticky_expect |= e
                sticky_errors += err
                continue
            needs, expect, errors = _markers(text)
            try:
                segments = _segments(text)
            except ValueError:  # unbalanced quotes: not shell we can read
                continue
            commands: list[Command] = []
            install = False
            for op, words in segments:
                if op == "|":
                    continue  # the consumer of a pipe (head, less, ...)
                stdout_to = None
                if ">" in words or ">>" in words:
                    k = words.index(">") if ">" in words else words.index(">>")
                    stdout_to = words[k + 1] if k + 1 < len(words) else None
                    words = words[:k] + words[k + 2:]
                kind, argv, env = _classify(words)
                if kind == "semopt":
                    commands.append(Command(tuple(argv), tuple(env), stdout_to))
                elif kind == "install":
                    install = True
                elif kind == "export" and not argv:
                    page_env += env
            if info == "" and not commands:
                continue  # untagged blocks: only their semopt lines are examples
            if commands or install:
                examples.append(Example(
                    page, number, "cli" if commands else "install", text, tuple(commands),
                    needs=frozenset(needs | sticky_needs), expect=frozenset(expect | sticky_expect),
                    env=tuple(page_env), errors=tuple(errors + sticky_errors)))
    return examples


EXAMPLES = [example for page in PAGES for example in collect_page(page)]


# --------------------------------------------------------------------------- running


def _forced_needs() -> set[str]:
    return set(re.split(r"[\s,]+", os.environ.get("SEMOPT_DOC_NEEDS", "").strip())) - {""}


def _unmet_need(needs: frozenset[str]) -> str | None:
    forced = _forced_needs()
    order = ("weights", "network", "slow", "profile", "gpu")  # cheap checks first
    for need in sorted(needs - forced, key=order.index):
        if need == "weights":
            return "needs: weights (pretrained weights are not installed here; " \
                   "SEMOPT_DOC_NEEDS=weights runs it)"
        if need == "network":
            return "needs: network (tests run offline; SEMOPT_DOC_NEEDS=network runs it)"
        if need == "slow":
            return "needs: slow (a long run, not in the default suite; SEMOPT_DOC_NEEDS=slow runs it)"
        if need == "profile":
            missing = [m for m in ("torch", "compressai", "pytorch_msssim", "skimage", "PIL")
                       if importlib.util.find_spec(m) is None]
            if missing:
                return f"needs: profile (the 'profile' extra; missing {', '.join(missing)})"
        if need == "gpu":
            if importlib.util.find_spec("torch") is None:
                return "needs: gpu (no torch, no CUDA device)"
            import torch

            if not torch.cuda.is_available():
                return "needs: gpu (no CUDA device)"
    return None


class _DryRun(BaseException):
    """Raised right after the documented command's arguments parsed."""


def _dry_parse(argv: tuple[str, ...]) -> tuple[int | None, str]:
    """Parse a skipped command with the real parsers, running nothing after the parse."""
    from semopt.cli import main

    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        original(self, *args, **kwargs)
        raise _DryRun

    out, err = io.StringIO(), io.StringIO()
    argparse.ArgumentParser.parse_args = parse_then_stop  # type: ignore[method-assign]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code: int | None = main(list(argv))
    except _DryRun:
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except ImportError as exc:  # the parser lives behind an extra that is not installed
        return None, f"arguments not checked: {exc}"
    finally:
        argparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]
    return code, out.getvalue() + err.getvalue()


def _allocations(values: list[Any]) -> list[Any]:
    from semopt import Allocation

    found = []
    for value in values:
        items = value.values() if isinstance(value, dict) else value \
            if isinstance(value, (list, tuple)) else [value]
        found += [v for v in items if isinstance(v, Allocation)]
    return found


def _success_fraction(allocation: Any) -> float:
    return float(np.mean(np.asarray(allocation.success, dtype=bool)))


@dataclass
class _Page:
    examples: list[Example]
    workdir: Path
    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "__doc_example__"})
    done: int = 0
    outcome: dict[str, str] = field(default_factory=dict)


_STATE: dict[str, _Page] = {}


def _skip_reason(example: Example) -> str | None:
    if example.kind == "install":
        return "install"
    return _unmet_need(example.needs)


def _run_python(example: Example, page: _Page) -> str:
    code = compile(example.source, example.page, "exec")
    before = {k: id(v) for k, v in page.namespace.items()}
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        exec(code, page.namespace)
    bound = [v for k, v in page.namespace.items() if before.get(k) != id(v)]
    allocations = _allocations(bound)
    failed = [a for a in allocations if _success_fraction(a) == 0.0]
    if "infeasible" in example.expect:
        assert failed, (f"{example.id} is marked '# expect: infeasible' but every Allocation it "
                        f"binds succeeded\n{out.getvalue()}")
    else:
        assert not failed, (f"{example.id}: an Allocation came back without success "
                            f"(status {[str(a.status) for a in failed]}); mark the block "
                            f"'# expect: infeasible' if that is its point\n"
                            f"{[str(a) for a in failed]}\n{out.getvalue()}")
    return out.getvalue()


def _run_cli(example: Example, monkeypatch: pytest.MonkeyPatch) -> str:
    from semopt.cli import main

    transcript = []
    infeasible_seen = False
    for command in example.commands:
        with monkeypatch.context() as mp:
            for key, value in command.env:
                mp.setenv(key, value)
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(list(command.argv))
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        text = out.getvalue() + err.getvalue()
        transcript.append(f"$ semopt {shlex.join(command.argv)}\n{text}")
        if command.stdout_to:
            Path(command.stdout_to).write_text(out.getvalue())
        assert code == 0, f"{example.id}: exit code {code}\n" + "\n".join(transcript)
        is_allocate = command.argv[:1] == ("allocate",) and not {"-h", "--help"} & set(command.argv)
        if is_allocate and _INFEASIBLE_OUTPUT.search(out.getvalue()):
            infeasible_seen = True
            assert "infeasible" in example.expect, (
                f"{example.id}: printed an infeasible result; mark it '# expect: infeasible' if "
                "that is its point\n" + "\n".join(transcript))
    if "infeasible" in example.expect:
        assert infeasible_seen, (f"{example.id} is marked '# expect: infeasible' but no allocate "
                                 "command printed an infeasible result\n" + "\n".join(transcript))
    return "\n".join(transcript)


def _execute(example: Example, page: _Page, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run one example (raises on failure, pytest.skip on an unmet need)."""
    if example.errors:
        raise AssertionError(f"{example.id}: " + "; ".join(example.errors))
    reason = _skip_reason(example)
    if reason is not None:
        if example.kind == "cli":
            for command in example.commands:
                code, text = _dry_parse(command.argv)
                assert code in (0, None), (f"{example.id}: the documented (skipped) command does "
                                           f"not parse: semopt {shlex.join(command.argv)}\n{text}")
                if code is None:
                    reason += f"; {text}"
        pytest.skip(reason)
    with monkeypatch.context() as mp:
        for key, value in example.env:
            mp.setenv(key, value)
        try:
            if example.kind == "python":
                _run_python(example, page)
            else:
                _run_cli(example, mp)
        finally:
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")


def _page(example: Example, tmp_path_factory: pytest.TempPathFactory) -> _Page:
    if example.page not in _STATE:
        stem = re.sub(r"[^A-Za-z0-9]+", "-", example.page).strip("-")
        _STATE[example.page] = _Page([e for e in EXAMPLES if e.page == example.page],
                                     tmp_path_factory.mktemp(f"doc-{stem}"))
    return _STATE[example.page]


@pytest.fixture(scope="module", autouse=True)
def _restore_registry():
    """Documented examples may register allocators; the rest of the suite must not see them."""
    from semopt import registry

    registry.list_problems()  # built-ins loaded before the snapshot
    problems = dict(registry._PROBLEMS)
    methods = {p: dict(m) for p, m in registry._ALLOCATORS.items()}
    yield
    registry._PROBLEMS.clear()
    registry._PROBLEMS.update(problems)
    registry._ALLOCATORS.clear()
    registry._ALLOCATORS.update(methods)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_doc_example(example: Example, tmp_path_factory: pytest.TempPathFactory,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    page = _page(example, tmp_path_factory)
    monkeypatch.chdir(page.workdir)
    monkeypatch.syspath_prepend(str(page.workdir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SEMOPT_PROGRESS", "0")
    monkeypatch.setenv("SEMOPT_CACHE_DIR", str(page.workdir / ".semopt-cache"))  # not ~/.cache
    index = page.examples.index(example)
    for earlier in page.examples[page.done:index]:  # replay what a -k selection left out
        try:
            _execute(earlier, page, monkeypatch)
            page.outcome[earlier.id] = "passed"
        except pytest.skip.Exception:
            page.outcome[earlier.id] = "skipped"
        except BaseException as exc:  # recorded, reported with this example
            page.outcome[earlier.id] = f"failed: {type(exc).__name__}"
    page.done = max(page.done, index + 1)
    failed_before = [k for k, v in page.outcome.items() if v.startswith("failed")]
    try:
        _execute(example, page, monkeypatch)
    except pytest.skip.Exception:
        page.outcome[example.id] = "skipped"
        raise
    except BaseException as exc:
        page.outcome[example.id] = f"failed: {type(exc).__name__}"
        if failed_before and hasattr(exc, "add_note"):  # Python >= 3.11
            exc.add_note(f"(earlier examples of this page failed: {', '.join(failed_before)})")
        raise
    page.outcome[example.id] = "passed"


# --------------------------------------------------------------------------- the collector itself

_SAMPLE = '''# Page

```python
import math
x = math.sqrt(4)   # needs: slow
```

```bash
pip install -e . && semopt allocate --snr 12 \\
    --budget "10 mW"   # expect: infeasible
# needs: weights
semopt profile surface --out a.json
export A=1
semopt tables show x > out.txt | head
python -m semopt bench --list
```

```
semopt/   a layout line, not a command
semopt tables list
```

```json
{"semopt": 1}
```
'''


def test_collector_reads_blocks_lines_and_markers(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "page.md").write_text(_SAMPLE)
    examples = collect_page("page.md")
    assert [(e.line, e.kind) for e in examples] == [
        (3, "python"), (9, "cli"), (12, "cli"), (14, "cli"), (15, "cli"), (20, "cli")]
    py, alloc, profile, show, bench, listing = examples
    assert py.needs == {"slow"} and "math.sqrt" in py.source
    assert py.source.count("\n") >= 3  # padded to the page's line numbers
    assert alloc.commands == (Command(("allocate", "--snr", "12", "--budget", "10 mW")),)
    assert alloc.expect == {"infeasible"} and not alloc.needs
    assert profile.needs == {"weights"} and profile.commands[0].argv[:2] == ("profile", "surface")
    assert show.commands == (Command(("tables", "show", "x"), (), "out.txt"),)
    assert show.env == (("A", "1"),) and show.needs == {"weights"}  # sticky comment marker
    assert bench.commands[0].argv == ("bench", "--list")
    assert listing.commands[0].argv == ("tables", "list")


def test_collector_rejects_unknown_markers(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "page.md").write_text("```python\nx = 1  # needs: wieghts\n```\n")
    (example,) = collect_page("page.md")
    assert example.errors and "wieghts" in example.errors[0]


def test_collector_finds_examples_in_every_page():
    pages_with_examples = {e.page for e in EXAMPLES}
    assert "README.md" in pages_with_examples and "docs/quickstart.md" in pages_with_examples
    assert len(EXAMPLES) >= 10
