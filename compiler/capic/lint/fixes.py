"""Applying the fixes diagnostics carry (``capic check --fix``, ``--diff``, the language
server's code actions).

Fixes are applied in rounds: check, apply every fix that does not overlap an earlier one,
check again (a fix may reveal or resolve other findings), until a round applies nothing or
:data:`MAX_ROUNDS` is reached. The rounds run on texts held in memory (an overlay over the
files on disk), so ``--diff`` and stdin never write, and ``--fix`` writes each changed file
once at the end. A fixed text that does not parse is never kept: the round's fixes for that
file are then tried one by one and only those that keep it parseable stay.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from capic.diagnostics import Applicability, Edit, Fix
from capic.lint.engine import CheckResult

#: Rounds of fixing before giving up on reaching a fixed point (a fix that keeps coming back).
MAX_ROUNDS = 10


def offsets(text: str) -> list[int]:
    """Offsets of the start of every line (index 0 is line 1)."""
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _offset(starts: list[int], text: str, line: int, column: int) -> int:
    if line > len(starts):
        return len(text)
    return min(starts[line - 1] + column - 1, len(text))


def _range(starts: list[int], text: str, edit: Edit) -> tuple[int, int]:
    span = edit.span
    return (
        _offset(starts, text, span.line, span.column),
        _offset(starts, text, span.end_line, span.end_column),
    )


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with non-overlapping edits applied (in any order)."""
    starts = offsets(text)
    ranges = sorted(((*_range(starts, text, e), e.content) for e in edits), reverse=True)
    out = text
    for start, end, content in ranges:
        out = out[:start] + content + out[end:]
    return out


def choose(text: str, fixes: Iterable[Fix]) -> list[Fix]:
    """The fixes to apply together: in source order, each whose edits overlap none already
    chosen (the others wait for the next round)."""
    starts = offsets(text)
    taken: list[tuple[int, int]] = []
    chosen: list[Fix] = []
    ordered = sorted(fixes, key=lambda f: min(_range(starts, text, e) for e in f.edits))
    for fix in ordered:
        ranges = [_range(starts, text, e) for e in fix.edits]
        if any(_overlap(r, t) for r in ranges for t in taken):
            continue
        taken.extend(ranges)
        chosen.append(fix)
    return chosen


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    # Two insertions at one point overlap too: their order would be arbitrary.
    return (a[0] < b[1] and b[0] < a[1]) or a == b


def _parses(text: str, path: str) -> bool:
    from capic.syntax.parser import parse_text

    tree, _ = parse_text(text, path)
    return tree is not None


def fix_text(text: str, fixes: Sequence[Fix], path: str = "<fix>") -> tuple[str, list[Fix]]:
    """Apply what can be applied of ``fixes`` to one file's text, never leaving it unparsable.
    Returns the new text and the fixes applied."""
    chosen = choose(text, fixes)
    if not chosen:
        return text, []
    together = apply_edits(text, [e for f in chosen for e in f.edits])
    if _parses(together, path):
        return together, chosen
    current, applied = text, []
    for fix in chosen:
        candidate = apply_edits(current, fix.edits)
        if _parses(candidate, path):
            current = candidate
            applied.append(fix)
        else:
            # Edits of the others were computed on the original text: stop at the first
            # refusal, and let the next round recompute them.
            break
    return current, applied


def wanted(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and (unsafe or fix.applicability is Applicability.SAFE)


@dataclass
class FixRun:
    """What the rounds of fixing did."""

    #: The final check (after the last round).
    result: CheckResult
    #: Absolute path -> (text before, text after), for files that changed.
    changed: dict[Path, tuple[str, str]] = field(default_factory=dict)
    #: How many fixes were applied, by code.
    applied: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.applied.values())


def fix_rounds(
    check: Callable[[dict[Path, str]], CheckResult],
    overlay: dict[Path, str],
    *,
    unsafe: bool = False,
    read: Callable[[Path], str] | None = None,
) -> FixRun:
    """Check, fix and check again until nothing changes. ``check(overlay)`` runs the linter on
    the current texts; ``overlay`` starts with texts not on disk (stdin) and collects the fixed
    ones. ``read`` gives the text of a file on disk (line endings normalized)."""
    reader = read or read_source
    texts = dict(overlay)
    originals: dict[Path, str] = {}
    applied: dict[str, int] = {}
    result = check(texts)
    for _ in range(MAX_ROUNDS):
        by_file: dict[Path, list[tuple[str, Fix]]] = {}
        for finding in result.all_findings:
            d = finding.diagnostic
            if not wanted(d.fix, unsafe) or finding.root is None or d.fix is None:
                continue
            files = {finding.root / e.span.file for e in d.fix.edits}
            if len(files) != 1:
                continue
            by_file.setdefault(files.pop().resolve(), []).append((d.code, d.fix))
        progress = False
        for path, items in sorted(by_file.items()):
            before = texts[path] if path in texts else reader(path)
            after, done = fix_text(before, [fix for _, fix in items], path.name)
            if not done:
                continue
            originals.setdefault(path, before)
            texts[path] = after
            progress = True
            codes = {id(fix): code for code, fix in items}
            for fix in done:
                applied[codes[id(fix)]] = applied.get(codes[id(fix)], 0) + 1
        if not progress:
            break
        result = check(texts)
    changed = {
        path: (originals[path], texts[path])
        for path in sorted(originals)
        if originals[path] != texts[path]
    }
    return FixRun(result, changed, applied)


def read_source(path: Path) -> str:
    """A rule file's text as the parser sees it (BOM dropped, CRLF as LF)."""
    return path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")


def write_source(path: Path, text: str) -> None:
    """Write a fixed file, keeping its byte order mark and line endings."""
    try:
        raw = path.read_bytes()
    except OSError:
        raw = b""
    bom = raw.startswith(b"\xef\xbb\xbf")
    if b"\r\n" in raw:
        text = text.replace("\n", "\r\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def unified_diff(shown: str, before: str, after: str) -> str:
    """A unified diff of one file, ``a/`` and ``b/`` prefixed like git's."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{shown}",
        tofile=f"b/{shown}",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
