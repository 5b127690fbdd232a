"""Which files belong to a project: the common .gitignore patterns are matched without
pathspec, exactly as pathspec (git's semantics) matches them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pathspec import GitIgnoreSpec

from capic.files import _SimpleSpec, _spec

NAMES = ["build", "dist", "gen", "a.capi", "b.pyc", ".venv", "x.log", "rules", "__pycache__"]
PATTERNS = ["build", "build/", "/build", "/gen/", "*.pyc", "*.log/", "__pycache__/", ".venv",
            "a.capi", "/a.capi", "*.capi", "rules/"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    patterns=st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=4),
    parts=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4),
    is_dir=st.booleans(),
)
def test_simple_patterns_match_as_pathspec_does(
    patterns: list[str], parts: list[str], is_dir: bool
) -> None:
    simple = _spec(patterns)
    assert isinstance(simple, _SimpleSpec)
    rel = "/".join(parts) + ("/" if is_dir else "")
    expected = GitIgnoreSpec.from_lines(patterns).check_file(rel).include
    assert simple.check_file(rel).include == (True if expected else None)


def test_other_patterns_go_to_pathspec() -> None:
    for pattern in ["!keep.capi", "gen/*.capi", "**/out", "a?.capi", "[ab].capi", "x\\ y"]:
        assert isinstance(_spec(["build/", pattern]), GitIgnoreSpec)
    assert _spec(["# only a comment", ""]) is None
