"""Every output format of `capic check` on one project, compared with golden files
(``tests/golden/check/``; ``CAPIC_UPDATE_GOLDEN=1`` regenerates them), and the fields GitHub
code scanning requires in the SARIF output."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic import __version__
from capic.cli import cli
from capic.lint.render import FORMATS
from tests.conftest import REPO, assert_golden

PROJECT = REPO / "tests" / "data" / "lint" / "golden"
GOLDEN = REPO / "tests" / "golden" / "check"
_EXTENSIONS = {
    "json": "json",
    "sarif": "sarif.json",
    "junit": "xml",
    "gitlab": "json",
    "rdjson": "json",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "golden"
    shutil.copytree(PROJECT, root)
    monkeypatch.chdir(root)
    return root


def run(*args: str) -> tuple[int, str]:
    """`capic check` with info notes shown (the goldens cover how every format prints them)."""
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--show-info", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


@pytest.mark.parametrize("output_format", list(FORMATS))
def test_output_format_golden(output_format: str, project: Path) -> None:
    code, out = run("--output-format", output_format)
    assert code == 1
    name = f"{output_format}.{_EXTENSIONS.get(output_format, 'txt')}"
    assert_golden(GOLDEN / name, out.replace(__version__, "<version>"))


def test_statistics_golden(project: Path) -> None:
    code, out = run("--statistics")
    assert code == 1
    assert_golden(GOLDEN / "statistics.txt", out)
    code, out = run("--statistics", "--output-format", "json")
    assert_golden(GOLDEN / "statistics.json", out)
    assert {row["code"] for row in json.loads(out)} >= {"M005", "M006", "Q002", "H001"}


def test_json_is_a_bare_array_with_ruffs_fields(project: Path) -> None:
    _, out = run("--output-format", "json")
    items = json.loads(out)
    assert isinstance(items, list) and items
    for item in items:
        assert set(item) == {
            "code", "name", "message", "severity", "filename", "location", "end_location",
            "fix", "url", "help", "data",
        }  # fmt: skip
        assert set(item["location"]) == {"row", "column"}
        assert item["url"].startswith("https://") and "#" in item["url"]
    estimate = next(i for i in items if i["code"] == "Q002")
    assert isinstance(estimate["data"]["score"], float)
    assert estimate["data"]["raise_most"][0]["key"]
    _, lines = run("--output-format", "json-lines")
    assert [json.loads(line) for line in lines.splitlines()] == items


def test_sarif_has_what_github_code_scanning_requires(project: Path) -> None:
    _, out = run("--output-format", "sarif")
    log = json.loads(out)
    assert log["version"] == "2.1.0" and log["$schema"]
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "capic" and driver["rules"]
    rule_ids = [r["id"] for r in driver["rules"]]
    for rule in driver["rules"]:
        for key in ("shortDescription", "fullDescription", "help"):
            assert rule[key]["text"].strip(), (rule["id"], key)
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
        assert rule["helpUri"].startswith("https://")
    bases = run_["originalUriBaseIds"]
    assert "uri" not in bases["SRCROOT"]  # never an absolute path
    assert run_["results"]
    for result in run_["results"]:
        assert result["message"]["text"]
        assert result["ruleId"] in rule_ids and rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert location["artifactLocation"]["uriBaseId"] == "SRCROOT"
        assert not uri.startswith(("/", "file:")) and ":" not in uri
        assert (project / uri).is_file()
        region = location["region"]
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= set(region)
        assert result["partialFingerprints"]["primaryLocationLineHash"]
    assert str(project) not in out


def test_sarif_fingerprints_survive_lines_added_above(project: Path) -> None:
    def fingerprints() -> dict[str, str]:
        _, out = run("--output-format", "sarif")
        return {
            r["ruleId"] + r["message"]["text"]: r["partialFingerprints"]["primaryLocationLineHash"]
            for r in json.loads(out)["runs"][0]["results"]
        }

    before = fingerprints()
    rules = project / "rules.capi"
    rules.write_text("# a new comment\n\n" + rules.read_text())
    assert fingerprints() == before


def test_github_annotations(project: Path) -> None:
    _, out = run("--output-format", "github")
    lines = out.splitlines()
    assert lines
    error = next(line for line in lines if "M005" in line)
    assert error.startswith("::error file=rules.capi,line=14,col=5,endLine=14,endColumn=11,")
    assert "title=capic (M005)::" in error
    assert any(line.startswith("::warning ") for line in lines)
    assert any(line.startswith("::notice ") for line in lines)


def test_junit_is_well_formed(project: Path) -> None:
    _, out = run("--output-format", "junit")
    root = ET.fromstring(out.split("\n", 1)[1])
    assert root.tag == "testsuites"
    failures = root.findall(".//failure")
    assert {f.get("type") for f in failures} == {"M005", "M006"}
    assert int(root.get("failures", "0")) == len(failures)
    _, out = run("--output-format", "junit", "--fail-level", "warning")
    assert int(ET.fromstring(out.split("\n", 1)[1]).get("failures", "0")) == 5
