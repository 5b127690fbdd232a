"""Suppression comments: `# noqa`, `# capic: disable/enable`, `# capic: file-ignore`, and the
diagnostics about the comments themselves."""

from __future__ import annotations

from pathlib import Path

from capic import api
from capic.diagnostics import Diagnostic

PIXEL = 'pixel shop {\n  id = "1"\n  access_token = env("T")\n}\n'
SEND = """  send Lead to shop {{
    event_id      = "constant"{noqa}
    event_time    = parse_time(event.time)
    action_source = "email"
    user {{ em = event.email }}
  }}
"""


def check(tmp_path: Path, body: str, lint: str = "") -> list[Diagnostic]:
    root = tmp_path / "p"
    root.mkdir(parents=True)
    (root / "capic.toml").write_text(f'[project]\nname = "p"\n\n{lint}', encoding="utf-8")
    (root / "pixels.capi").write_text(PIXEL, encoding="utf-8")
    (root / "rules.capi").write_text(body, encoding="utf-8")
    result = api.check([root], use_cache=False, ignore=["Q", "M"])
    return [d for d in result.diagnostics if d.span is not None and d.span.file == "rules.capi"]


def rule(name: str, noqa: str = "") -> str:
    return f'rule "{name}" {{\n' + SEND.format(noqa=noqa) + "}\n"


def test_noqa_suppresses_the_codes_on_its_line(tmp_path: Path) -> None:
    assert [d.code for d in check(tmp_path, rule("a"))] == ["D002"]
    assert check(tmp_path / "1", rule("a", "  # noqa: D002")) == []
    assert check(tmp_path / "2", rule("a", "  # noqa: constant-event-id")) == []
    assert check(tmp_path / "3", rule("a", "  # noqa")) == []


def test_noqa_for_another_code_does_not_suppress_and_is_unused(tmp_path: Path) -> None:
    found = check(tmp_path, rule("a", "  # noqa: H001"))
    assert sorted(d.code for d in found) == ["D002", "N002"]
    unused = next(d for d in found if d.code == "N002")
    assert unused.span is not None and unused.span.line == 3 and "H001" in unused.message


def test_disable_enable_range(tmp_path: Path) -> None:
    body = "# capic: disable[D002]\n" + rule("a") + "# capic: enable[D002]\n" + rule("b")
    found = check(tmp_path, body)
    assert [(d.code, d.span.line if d.span else 0) for d in found] == [("D002", 13)]


def test_file_ignore(tmp_path: Path) -> None:
    body = rule("a") + rule("b") + "# capic: file-ignore[D002]\n"
    assert check(tmp_path, body) == []


def test_unused_and_malformed_directives_are_reported(tmp_path: Path) -> None:
    body = "# capic: file-ignore[H001]\n# capic: ignore[D002]\n# capic: disable[D002\n" + rule("a")
    found = {(d.code, d.span.line if d.span else 0) for d in check(tmp_path, body)}
    assert found == {("N002", 1), ("N003", 2), ("N003", 3), ("D002", 6)}


def test_unknown_codes_in_suppressions(tmp_path: Path) -> None:
    found = check(tmp_path, rule("a", "  # noqa: D002, X123, R002"))
    assert sorted((d.code, d.message) for d in found) == [
        ("N001", "R002 cannot be suppressed"),
        ("N001", "`X123` is not a capic code or check name"),
    ]


def test_suppression_checks_can_be_ignored_themselves(tmp_path: Path) -> None:
    body = rule("a", "  # noqa: D002, H001")
    assert [d.code for d in check(tmp_path, body)] == ["N002"]
    assert check(tmp_path / "x", body, '[lint]\nignore = ["N"]\n') == []


def test_frontend_errors_cannot_be_suppressed(tmp_path: Path) -> None:
    body = "element e = missing_name  # noqa: R002, H001\n"
    found = {d.code for d in check(tmp_path, body)}
    assert found == {"R002", "N001"}
