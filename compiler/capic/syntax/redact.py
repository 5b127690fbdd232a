"""Secrets written inline in rule files are masked before capic reads the text.

``access_token = "EAAB..."`` (or ``app_secret``) in a rule file is an error (P003), and the
value must not travel further: not into code frames of any output format, ``capic parse``,
``capic build``'s messages, the parse cache or a bundle. The front end therefore masks the
characters of such a string literal with ``*`` (same length, so every line and column stays
where it was) before parsing, and every later stage only ever sees the masked text. Other
occurrences of the same value in the file (a comment quoting it) are masked too.

The match is lexical, so it also covers files that do not parse (an unterminated token string
is masked up to the end of its line). It applies wherever the setting names appear as a field
name: a token is never meant to be a literal anywhere in the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SECRET_SETTINGS", "InlineSecret", "find", "redact"]

#: Settings whose values are secrets: they must be env("...") or secret("...") references.
SECRET_SETTINGS = ("access_token", "app_secret")
#: Values shorter than this are not searched for elsewhere in the file (too likely by chance).
_MIN_ECHOED = 8
_INLINE = re.compile(
    r'(?<![\w"])(?:(?P<key>access_token|app_secret)|"(?P<quoted>access_token|app_secret)")'
    r'[ \t]*=[ \t]*"(?P<value>(?:[^"\\\n]|\\.)*)(?:"|$)',
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class InlineSecret:
    """A secret string literal: its setting, the 1-based position of its opening quote (where
    P003 reports it) and the offsets of its characters."""

    key: str
    line: int
    column: int
    start: int
    end: int


def find(text: str) -> list[InlineSecret]:
    """Every ``access_token``/``app_secret`` written as a string literal in ``text``."""
    if "access_token" not in text and "app_secret" not in text:
        return []
    out = []
    for m in _INLINE.finditer(text):
        if not m.group("value"):
            continue
        start, end = m.span("value")
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1)  # the quote before the value
        out.append(InlineSecret(m.group("key") or m.group("quoted"), line, column, start, end))
    return out


def redact(text: str) -> str:
    """``text`` with the characters of every inline secret replaced by ``*``."""
    found = find(text)
    if not found:
        return text
    chars = list(text)
    values = set()
    for secret in found:
        values.add(text[secret.start : secret.end])
        chars[secret.start : secret.end] = "*" * (secret.end - secret.start)
    masked = "".join(chars)
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= _MIN_ECHOED and value.strip("*"):
            masked = masked.replace(value, "*" * len(value))
    return masked
