"""From the layout stream to text: comments placed where they were, blank lines kept (one at
most), indentation, then the ``=`` of runs of assignments and end-of-line comments of runs
of lines aligned.

A comment on the line of a token stays after that token (end of line); any other comment
stays on its own line before the token that followed it. Where a comment ends a line the
layout wanted to continue, the line breaks there and continues one level deeper.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from capic.fmt.layout import Indent, Item, Sep, Tok
from capic.fmt.tree import Comment

INDENT = "  "


@dataclass
class Line:
    depth: int
    text: str = ""
    #: Block the statement on this line belongs to (alignment runs stay in one block).
    block: int = 0
    #: Width of the key before an aligned ``=`` (None: not an assignment line).
    key: int | None = None
    #: Where the end-of-line comment starts in ``text`` (None: none).
    comment_at: int | None = None
    comment_only: bool = False
    blank: bool = False
    #: The line starts a statement of its block.
    statement: bool = False


@dataclass
class _State:
    lines: list[Line] = field(default_factory=list)
    depth: int = 0
    block: int = 0
    blocks: list[int] = field(default_factory=lambda: [0])
    counter: int = 0


def _blank_between(text_lines: list[str], a: int, b: int) -> bool:
    """Whether an empty line lies strictly between lines ``a`` and ``b`` (1-based)."""
    return any(not text_lines[n - 1].strip() for n in range(a + 1, b))


def render(stream: list[Item], comments: list[Comment], text: str) -> str:
    text_lines = text.split("\n")
    tokens = [item for item in stream if isinstance(item, Tok)]
    leading: dict[int, list[Comment]] = {}
    trailing: dict[int, Comment] = {}
    tail: list[Comment] = []
    positions = [(t.token.line or 0, t.token.column or 0) for t in tokens]
    for c in comments:
        i = bisect.bisect_left(positions, (c.line, c.column))
        before = i - 1
        if before >= 0 and positions[before][0] == c.line and before not in trailing:
            trailing[before] = c
        elif i < len(tokens):
            leading.setdefault(i, []).append(c)
        else:
            tail.append(c)

    st = _State()
    pending = ""
    statement = True
    last_line = 0  # original line of what was written last
    index = -1

    def new_line(depth: int) -> Line:
        line = Line(depth, block=st.block)
        st.lines.append(line)
        return line

    def blank(next_line: int, allowed: bool) -> None:
        if allowed and last_line and _blank_between(text_lines, last_line, next_line):
            st.lines.append(Line(0, blank=True))

    current: Line | None = None
    previous_text = ""
    for item in stream:
        if isinstance(item, Indent):
            st.depth += item.step
            if item.step > 0:
                st.counter += 1
                st.blocks.append(st.counter)
            else:
                st.blocks.pop()
            st.block = st.blocks[-1]
            continue
        if isinstance(item, Sep):
            pending = "\n" if "\n" in (pending, item.kind) else item.kind
            statement = item.statement if item.kind == "\n" else statement
            continue
        index += 1
        tok_line = item.token.line or last_line
        comments_before = leading.get(index, [])
        boundary = pending == "\n" or not st.lines
        closing = item.text in {"}", "]", ")"}
        # Mid-statement, a line ends only where a comment forces it: continue one deeper.
        depth = st.depth if boundary else st.depth + 1
        for c in comments_before:
            blank(c.line, boundary and previous_text != "{")
            line = new_line(depth + 1 if boundary and closing else depth)
            line.text, line.comment_only = c.text, True
            last_line = c.line
            current = None
        if boundary or current is None:
            after_brace = previous_text == "{" and not comments_before
            blank(tok_line, boundary and not after_brace and not closing)
            current = new_line(depth)
            current.statement = boundary and statement
        elif pending == " ":
            current.text += " "
        if item.align and current.key is None:
            current.key = len(current.text.rstrip())
        current.text += item.text
        pending = ""
        statement = False
        last_line = tok_line
        previous_text = item.text
        after = trailing.get(index)
        if after is not None:
            c = after
            current.comment_at = len(current.text)
            current.text += "  " + c.text
            last_line = c.line
            current = None
    for c in tail:
        blank(c.line, st.lines != [])
        line = new_line(0)
        line.text, line.comment_only = c.text, True
        last_line = c.line
    _align_equals(st.lines)
    _align_comments(st.lines)
    out = [(INDENT * line.depth + line.text) if not line.blank else "" for line in st.lines]
    return "\n".join(out).rstrip("\n") + "\n" if out else ""


def _align_equals(lines: list[Line]) -> None:
    run: list[Line] = []

    def flush() -> None:
        keyed = [line for line in run if line.key is not None]
        if len(keyed) > 1:
            width = max(line.key for line in keyed if line.key is not None)
            for line in keyed:
                assert line.key is not None
                pad = width - line.key
                if pad:
                    cut = line.key
                    line.text = line.text[:cut] + " " * pad + line.text[cut:]
                    if line.comment_at is not None:
                        line.comment_at += pad
                    line.key = width
        run.clear()

    for line in lines:
        if line.blank:
            flush()
        elif not line.statement:
            continue  # comments, continuation lines and closing brackets do not end a run
        elif line.key is not None and (not run or run[-1].block == line.block):
            run.append(line)
        else:
            flush()
            if line.key is not None:
                run.append(line)
    flush()


def _align_comments(lines: list[Line]) -> None:
    run: list[Line] = []

    def flush() -> None:
        if len(run) > 1:
            width = max(INDENT_WIDTH * line.depth + len(line.text[: line.comment_at].rstrip())
                        for line in run if line.comment_at is not None)  # fmt: skip
            for line in run:
                assert line.comment_at is not None
                code = line.text[: line.comment_at].rstrip()
                comment = line.text[line.comment_at :].lstrip()
                pad = width - INDENT_WIDTH * line.depth - len(code) + 2
                line.text = code + " " * pad + comment
                line.comment_at = len(code) + pad
        run.clear()

    for line in lines:
        if line.comment_at is not None and not line.comment_only:
            run.append(line)
        else:
            flush()
    flush()


INDENT_WIDTH = len(INDENT)
