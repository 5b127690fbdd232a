"""Suppression comments in rule files.

* ``# noqa: D002, H001`` at the end of a line suppresses those codes on that line (a bare
  ``# noqa`` suppresses every lint code there);
* ``# capic: disable[D002]`` ... ``# capic: enable[D002]`` suppresses between the two lines;
* ``# capic: file-ignore[D002]`` suppresses in the whole file.

A finding about a field written in a shared block is reported once per send that sends it, at
the field's line with the send as a related location: a suppression on the field's line
silences it for every send, one on the send's line (or range, or file) for that send.

Codes may also be written as check names (``# noqa: constant-event-id``). Front-end errors
(S, R, C codes) cannot be suppressed. Problems with the comments are reported: N001 (unknown
code), N002 (a suppression that suppressed nothing), N003 (unreadable directive, unmatched
range).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from capic.codes import CodeInfo
from capic.diagnostics import Diagnostic, Fix, Span
from capic.lint.registry import PSEUDO_CODES, by_name, code_info, is_frontend
from capic.model import ir

_NOQA = re.compile(r"#\s*noqa\b(?P<colon>\s*:\s*(?P<codes>[^#]*))?", re.IGNORECASE)
_DIRECTIVE = re.compile(r"#\s*capic\s*:\s*(?P<rest>.*)$")
_DIRECTIVE_FORM = re.compile(r"(?P<verb>[a-z][a-z-]*)\s*\[(?P<codes>[^\]]*)\]\s*$")
_VERBS = ("disable", "enable", "file-ignore")
_N001, _N002, _N003 = PSEUDO_CODES["N001"], PSEUDO_CODES["N002"], PSEUDO_CODES["N003"]
_END = 10**9


@dataclass
class Suppression:
    """One suppression comment (or one disable/enable range) and what it covers."""

    kind: str  # "noqa" | "range" | "file"
    file: str
    first_line: int
    last_line: int
    #: Codes suppressed; None for a bare noqa comment (every lint code).
    codes: frozenset[str] | None
    span: Span
    used: set[str] = field(default_factory=set)
    #: The comment's text (noqa and file-ignore: what a fix rewrites).
    comment: str = ""

    def covers(self, d: Diagnostic) -> bool:
        if d.span is None or d.span.file != self.file:
            return False
        if not self.first_line <= d.span.line <= self.last_line:
            return False
        return self.codes is None or d.code in self.codes

    def describe(self) -> str:
        marker = {"noqa": "noqa", "range": "capic: disable", "file": "capic: file-ignore"}
        return "# " + marker[self.kind]


@dataclass
class FileSuppressions:
    suppressions: list[Suppression]
    #: Problems with the comments themselves (N001, N003).
    problems: list[Diagnostic]


def _codes(raw: str, span: Span, problems: list[Diagnostic]) -> set[str]:
    out: set[str] = set()
    for token in (t for t in re.split(r"[\s,]+", raw.strip()) if t):
        code = token.upper() if re.fullmatch(r"[A-Za-z]+[0-9]+", token) else by_name(token)
        info: CodeInfo | None = code_info(code) if code else None
        if info is None or code is None:
            problems.append(
                _N001.diagnostic(
                    f"`{token}` is not a capic code or check name",
                    span,
                    "`capic rules` lists them",
                    token=token,
                )
            )
        elif is_frontend(code) or code in PSEUDO_CODES:
            problems.append(
                _N001.diagnostic(
                    f"{code} cannot be suppressed", span, "fix the problem instead", token=token
                )
            )
        else:
            out.add(code)
    return out


def parse(source: ir.SourceFile) -> FileSuppressions:
    """The suppressions written in one file."""
    result = FileSuppressions([], [])
    open_ranges: dict[str, tuple[int, Span]] = {}
    for comment in source.comments:
        text, span = comment.text, comment.span
        directive = _DIRECTIVE.search(text)
        if directive is not None:
            form = _DIRECTIVE_FORM.match(directive.group("rest").strip())
            if form is None or form.group("verb") not in _VERBS:
                result.problems.append(
                    _N003.diagnostic(
                        f"cannot read the directive `{text.strip()}`",
                        span,
                        "write # capic: disable[CODE], # capic: enable[CODE] or # capic: file-ignore[CODE]",
                    )
                )
                continue
            verb = form.group("verb")
            codes = _codes(form.group("codes"), span, result.problems)
            if verb == "file-ignore":
                result.suppressions.append(
                    Suppression("file", source.path, 1, _END, frozenset(codes), span, comment=text)
                )
            elif verb == "disable":
                for code in codes:
                    if code not in open_ranges:
                        open_ranges[code] = (span.line, span)
            else:
                for code in sorted(codes):
                    opened = open_ranges.pop(code, None)
                    if opened is None:
                        result.problems.append(
                            _N003.diagnostic(
                                f"`enable[{code}]` without a `disable[{code}]` before it",
                                span,
                                "remove it, or add # capic: disable[CODE] where the range starts",
                            )
                        )
                        continue
                    result.suppressions.append(
                        Suppression(
                            "range", source.path, opened[0], span.line, frozenset({code}), opened[1]
                        )
                    )
            continue
        noqa = _NOQA.search(text)
        if noqa is None:
            continue
        if noqa.group("colon") is None:
            result.suppressions.append(
                Suppression("noqa", source.path, span.line, span.line, None, span, comment=text)
            )
            continue
        codes = _codes(noqa.group("codes") or "", span, result.problems)
        if codes:
            result.suppressions.append(
                Suppression(
                    "noqa",
                    source.path,
                    span.line,
                    span.line,
                    frozenset(codes),
                    span,
                    comment=text,
                )
            )
    for code, (line, span) in sorted(open_ranges.items()):
        result.problems.append(
            _N003.diagnostic(
                f"`disable[{code}]` is never enabled again: it covers the rest of the file",
                span,
                f"add # capic: enable[{code}] where the range ends, or use # capic: file-ignore[{code}]",
            )
        )
        result.suppressions.append(
            Suppression("range", source.path, line, _END, frozenset({code}), span)
        )
    return result


def _suppressing(by_file: dict[str, FileSuppressions], d: Diagnostic) -> Suppression | None:
    """The suppression that silences ``d``: one covering its line, else one covering a line
    it is related to (the send of a finding in a shared block: ``# noqa`` on the send line
    silences it for that send only)."""
    places = [d.span] if d.span is not None else []
    places.extend(r.span for r in d.related)
    for span in places:
        entry = by_file.get(span.file)
        if entry is None:
            continue
        at = dataclasses.replace(d, span=span)
        hit = next((s for s in entry.suppressions if s.covers(at)), None)
        if hit is not None:
            return hit
    return None


def apply(
    files: Iterable[ir.SourceFile],
    diagnostics: list[Diagnostic],
    *,
    reportable: Callable[[str, str], bool],
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Drop suppressed diagnostics. Returns (kept, problems with the suppressions).

    ``reportable(code, file)`` says whether a finding with ``code`` could have been reported in
    ``file`` in this run (the code is enabled there, and fully checked): a suppression of a code
    that was not checked is not called unused.
    """
    by_file: dict[str, FileSuppressions] = {}
    texts: dict[str, str] = {}
    for source in files:
        if any("noqa" in c.text.lower() or "capic" in c.text for c in source.comments):
            by_file[source.path] = parse(source)
            texts[source.path] = source.text
    if not by_file:
        return diagnostics, []
    kept: list[Diagnostic] = []
    for d in diagnostics:
        hit = None
        if not is_frontend(d.code) and d.code not in PSEUDO_CODES:
            hit = _suppressing(by_file, d)
        if hit is None:
            kept.append(d)
        else:
            hit.used.add(d.code)
    problems: list[Diagnostic] = []
    for path, entry in by_file.items():
        problems.extend(entry.problems)
        for s in entry.suppressions:
            if s.codes is None:
                if not s.used:
                    problems.append(
                        _N002.diagnostic(
                            "`# noqa` suppresses nothing on this line",
                            s.span,
                            "remove the comment",
                            fix=_unused_fix(texts[path], s, None),
                        )
                    )
                continue
            unused = sorted(c for c in s.codes - s.used if reportable(c, path))
            if unused:
                listed = ", ".join(unused)
                problems.append(
                    _N002.diagnostic(
                        f"unused suppression ({s.describe()}): nothing to suppress for {listed}",
                        s.span,
                        "remove the codes that no longer apply",
                        fix=_unused_fix(texts[path], s, set(unused)),
                        codes=unused,
                    )
                )
    return kept, problems


# ----------------------------------------------------------------------------- fixes


def _unused_fix(text: str, s: Suppression, unused: set[str] | None) -> Fix | None:
    """Remove what a suppression comment lists in vain: the unused codes, or the directive
    when nothing it lists is used (with its line when the comment is alone on it). Ranges
    (two comments) are left to the author."""
    if s.kind == "range":
        return None
    lines = text.split("\n")
    if not 0 < s.span.line <= len(lines):
        return None
    line = lines[s.span.line - 1]
    start = s.span.column - 1
    if line[start : start + len(s.comment)] != s.comment:
        return None
    pattern = _NOQA if s.kind == "noqa" else _DIRECTIVE
    m = pattern.search(s.comment)
    if m is None:
        return None
    if unused is not None:
        kept = _kept_tokens(s, m, unused)
        if kept:
            return _rewrite(s, m, kept)
    if m.start() == 0 and not line[:start].strip():
        # The comment is alone on its line: remove the line.
        if s.span.line < len(lines):
            gone = Span(s.span.file, s.span.line, 1, s.span.line + 1, 1)
        else:
            gone = Span(s.span.file, s.span.line, 1, s.span.line, len(line) + 1)
        return Fix.replace(gone, "", "Remove the unused suppression comment")
    # Remove the directive and the blanks before it; what precedes it stays.
    before = (line[:start] + s.comment[: m.start()]).rstrip()
    end_column = start + len(s.comment[: m.end()].rstrip()) + 1
    where = Span(s.span.file, s.span.line, len(before) + 1, s.span.line, end_column)
    return Fix.replace(where, "", "Remove the unused suppression comment")


def _kept_tokens(s: Suppression, m: re.Match[str], unused: set[str]) -> list[str]:
    raw = m.group("codes") if s.kind == "noqa" else _DIRECTIVE_FORM.match(m.group("rest").strip())
    listed = raw if isinstance(raw, str) else (raw.group("codes") if raw else "")
    kept = []
    for token in (t for t in re.split(r"[\s,]+", listed.strip()) if t):
        code = token.upper() if re.fullmatch(r"[A-Za-z]+[0-9]+", token) else by_name(token)
        if code not in unused:
            kept.append(token)
    return kept


def _rewrite(s: Suppression, m: re.Match[str], kept: list[str]) -> Fix:
    """Replace the directive with one that lists only ``kept``."""
    directive = (
        f"# noqa: {', '.join(kept)}"
        if s.kind == "noqa"
        else f"# capic: file-ignore[{', '.join(kept)}]"
    )
    first = s.span.column + m.start()
    last = s.span.column + len(s.comment[: m.end()].rstrip())
    where = Span(s.span.file, s.span.line, first, s.span.line, last)
    return Fix.replace(where, directive, "Remove the unused codes from the suppression comment")
