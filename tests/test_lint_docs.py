"""Check documentation: `capic rule CODE`, `capic rules`, and docs/rules.md generated from the
check classes (this test fails when the page is stale: run
`python -m capic.lint.docs > docs/rules.md`)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from capic.cli import cli
from capic.codes import FRONTEND_CODES
from capic.lint import docs
from capic.lint.registry import PSEUDO_CODES, all_checks, all_infos, doc_anchor
from tests.conftest import REPO


def test_rules_md_is_generated_from_the_checks() -> None:
    page = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert page == docs.render(), (
        "docs/rules.md is stale: python -m capic.lint.docs > docs/rules.md"
    )
    for info in all_infos().values():
        assert f"### {info.code} {info.name}\n" in page
        assert f"(#{doc_anchor(info)})" in page


def test_every_check_is_documented_completely() -> None:
    names = set()
    for code, cls in all_checks().items():
        info = cls.info()
        assert info.code == code and info.name not in names
        names.add(info.name)
        assert info.name == info.name.lower() and " " not in info.name and "_" not in info.name
        for field in (info.summary, info.why, info.example, info.fix):
            assert field.strip(), (code, field)


def test_rule_prints_a_checks_documentation() -> None:
    result = CliRunner().invoke(cli, ["rule", "D002"])
    assert result.exit_code == 0
    for heading in ("D002 constant-event-id", "What it does", "Why it matters", "Example", "Fix"):
        assert heading in result.stdout
    by_name = CliRunner().invoke(cli, ["rule", "constant-event-id"])
    assert by_name.stdout == result.stdout


def test_rule_knows_front_end_and_pseudo_codes() -> None:
    for code in ("S011", "R001", "N002", "C101"):
        result = CliRunner().invoke(cli, ["rule", code.lower()])
        assert result.exit_code == 0 and result.stdout.startswith(code), code


def test_rule_json_and_unknown_codes() -> None:
    result = CliRunner().invoke(cli, ["rule", "M005", "--output-format", "json"])
    data = json.loads(result.stdout)
    assert data["code"] == "M005" and data["url"].endswith("#m005-purchase-currency-value")
    unknown = CliRunner().invoke(cli, ["rule", "M05"])
    assert unknown.exit_code == 2 and "did you mean" in unknown.stderr


def test_rules_lists_every_code() -> None:
    text = CliRunner().invoke(cli, ["rules"])
    assert text.exit_code == 0
    listed = [line.split()[0] for line in text.stdout.splitlines()]
    expected = {*FRONTEND_CODES, *PSEUDO_CODES, *all_checks()}
    assert set(listed) == expected and len(listed) == len(expected)
    as_json = json.loads(CliRunner().invoke(cli, ["rules", "--output-format", "json"]).stdout)
    assert [item["code"] for item in as_json] == listed
    assert {"code", "name", "group", "severity", "summary", "why", "example", "fix", "url"} == set(
        as_json[0]
    )
