"""`capic check` through the CLI and `capic.api.check`: the samples stay clean, a real mistake
fails, exit codes, options, environments, pre-commit style file arguments."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic import api
from capic.cli import cli
from capic.diagnostics import Severity
from capic.lint.engine import CheckResult, ConfigError
from tests.conftest import SAMPLES

STOREFRONT = SAMPLES / "storefront"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def storefront(tmp_path: Path) -> Path:
    root = tmp_path / "storefront"
    shutil.copytree(STOREFRONT, root, ignore=shutil.ignore_patterns(".capic_cache"))
    return root


def project(root: Path, files: dict[str, str], lint: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "capic.toml").write_text(f'[project]\nname = "p"\n\n{lint}', encoding="utf-8")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


PIXEL = 'pixel shop {\n  id = "1"\n  access_token = env("T")\n}\n'
GOOD_RULE = """rule "r" {
  send Lead to shop {
    event_id      = event.id
    event_time    = parse_time(event.time)
    action_source = "email"
    user { em = event.email  external_id = event.uid }
  }
}
"""
BAD_RULE = GOOD_RULE.replace('"email"', '"web"')


# ----------------------------------------------------------------------------- the samples


def test_storefront_is_clean_in_every_environment(storefront: Path) -> None:
    result = api.check([storefront])
    noisy = [d for d in result.diagnostics if d.severity >= Severity.WARNING]
    assert noisy == [], [(str(d.span), d.code, d.message) for d in noisy]
    assert result.exit_code == 0
    assert result.environments[storefront] == ["development", "staging", "production"]
    for env in ("development", "staging", "production"):
        checked = api.check([storefront], env=env)
        assert [d for d in checked.diagnostics if d.severity >= Severity.WARNING] == [], env


def test_every_sample_project_checks_without_errors_or_warnings() -> None:
    for sample in sorted(p.parent for p in SAMPLES.glob("*/capic.toml")):
        result = api.check([sample], use_cache=False)
        noisy = [
            (str(d.span), d.code) for d in result.diagnostics if d.severity >= Severity.WARNING
        ]
        assert noisy == [], sample


def test_removing_the_purchase_currency_fails_at_that_rule(storefront: Path) -> None:
    purchase = storefront / "rules" / "purchase.capi"
    lines = purchase.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.lstrip().startswith("currency ")]
    assert len(kept) == len(lines) - 1
    purchase.write_text("".join(kept), encoding="utf-8")
    code, out, _ = run(str(storefront), "--output-format", "json")
    assert code == 1
    errors = [d for d in json.loads(out) if d["severity"] == "error"]
    assert [d["code"] for d in errors] == ["M005"]
    (error,) = errors
    assert "currency" in error["message"]
    assert error["filename"].endswith("rules/purchase.capi")
    rule = api.load_project(storefront).project.rule("MetaConversion_Purchase")  # type: ignore[union-attr]
    assert rule is not None
    assert rule.span.line <= error["location"]["row"] <= rule.span.end_line


# ----------------------------------------------------------------------------- exit codes


def test_exit_codes(tmp_path: Path) -> None:
    good = project(tmp_path / "good", {"a.capi": PIXEL + GOOD_RULE})
    bad = project(tmp_path / "bad", {"a.capi": PIXEL + BAD_RULE})
    assert run(str(good))[0] == 0
    assert run(str(bad))[0] == 1
    assert run(str(bad), "--exit-zero")[0] == 0
    assert run(str(tmp_path / "missing.capi"))[0] == 2
    assert run(str(good), "--select", "Z9")[0] == 2
    assert run(str(good), "--env", "nowhere")[0] == 2
    assert run(str(good), "--output-format", "yaml")[0] == 2


def test_configuration_errors_exit_2_even_with_exit_zero(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + GOOD_RULE}, '[lint]\nselct = ["D"]\n')
    code, out, _ = run(str(root), "--exit-zero", "--output-format", "json")
    assert code == 2
    (problem,) = [d for d in json.loads(out) if d["code"] == "C101"]
    assert problem["help"] == "did you mean `select`?"
    assert problem["filename"].endswith("capic.toml") and problem["location"]["row"] == 5


def test_fail_level(tmp_path: Path) -> None:
    # An unused element is a warning: it fails only from --fail-level warning down.
    root = project(tmp_path / "p", {"a.capi": PIXEL + GOOD_RULE + "element spare = event.x\n"})
    assert run(str(root))[0] == 0
    assert run(str(root), "--fail-level", "warning")[0] == 1
    assert run(str(root), "--fail-level", "info")[0] == 1
    configured = project(
        tmp_path / "q",
        {"a.capi": PIXEL + GOOD_RULE + "element spare = event.x\n"},
        '[lint]\nfail-level = "warning"\n',
    )
    assert run(str(configured))[0] == 1
    assert run(str(configured), "--fail-level", "error")[0] == 0


def test_select_ignore_and_extend_select_on_the_command_line(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + BAD_RULE + "element spare = event.x\n"})

    def codes(*args: str) -> set[str]:
        _, out, _ = run(str(root), "--output-format", "json", "--show-info", *args)
        return {d["code"] for d in json.loads(out)}

    assert codes() >= {"L001", "H001", "Q002"}
    assert codes("--select", "H") == {"H001"}
    assert codes("--select", "H,L001") == {"H001", "L001"}
    assert "L001" not in codes("--ignore", "L")
    assert codes("--select", "H", "--extend-select", "Q002") == {"H001", "Q002"}


def test_output_file_and_no_colour(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + BAD_RULE})
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    code, out, _ = run(str(root), "--output-format", "json", "-o", str(target))
    assert code == 1 and out == ""
    assert any(d["code"] == "L001" for d in json.loads(target.read_text()))
    _, full, _ = run(str(root))
    assert "\x1b[" not in full


def test_colour_on_a_terminal_forced_or_never() -> None:
    from capic.lint.render import use_colour

    def colour(mode: str = "auto", tty: bool = True, human: bool = True, **env: str) -> bool:
        return use_colour(mode, human=human, to_terminal=tty, environ=env)

    assert colour() and not colour(tty=False) and not colour(human=False)
    assert not colour(NO_COLOR="1") and not colour(CAPIC_NO_COLOR="1")
    assert colour(tty=False, FORCE_COLOR="1")  # CI logs render ANSI but are not terminals
    assert not colour(FORCE_COLOR="1", NO_COLOR="1")  # NO_COLOR wins, as in CPython
    assert colour("always", tty=False, NO_COLOR="1") and not colour("never")
    assert not colour("always", human=False)  # JSON, SARIF, ... never


def test_color_option_and_force_color(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + BAD_RULE})
    assert "\x1b[" in run(str(root), "--color", "always")[1]
    assert "\x1b[" not in run(str(root), "--color", "never")[1]
    monkeypatch.delenv("CAPIC_NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in run(str(root), "--output-format", "concise")[1]
    assert "\x1b[" not in run(str(root), "--output-format", "json")[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run(str(root))[1]


def test_default_path_is_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + BAD_RULE})
    monkeypatch.chdir(root)
    code, out, _ = run("--output-format", "concise")
    assert code == 1 and out.startswith("a.capi:")


# ----------------------------------------------------------------------------- files, envs


def test_a_file_is_checked_in_its_project_and_only_its_diagnostics_reported(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {
            "pixels.capi": PIXEL + "element spare = event.x\n",
            "rules/good.capi": GOOD_RULE,
            "rules/bad.capi": BAD_RULE.replace('"r"', '"r2"'),
        },
    )
    code, out, _ = run(str(root / "rules" / "good.capi"), "--output-format", "json")
    assert code == 0
    assert {Path(d["filename"]).name for d in json.loads(out)} <= {"good.capi"}
    code, out, _ = run(str(root / "rules" / "bad.capi"), "--output-format", "json")
    assert code == 1
    assert {Path(d["filename"]).name for d in json.loads(out)} == {"bad.capi"}


def test_environment_findings_name_their_environments(tmp_path: Path) -> None:
    envs = (
        'environment development { test_event_code = "T1" }\n'
        "environment staging { pixel shop { browser_pixel = true } }\n"
        "environment production { }\n"
    )
    rule = GOOD_RULE.replace("    event_id      = event.id\n", "")
    root = project(tmp_path / "p", {"a.capi": PIXEL + rule, "envs.capi": envs})
    result = api.check([root])
    (missing,) = [d for d in result.diagnostics if d.code == "D001"]
    assert missing.message.endswith("(in environment staging)")
    assert missing.data["environments"] == ["staging"]
    assert api.check([root], env="production").exit_code == 0
    assert api.check([root], env="staging").exit_code == 1
    with pytest.raises(ConfigError, match="did you mean 'staging'"):
        api.check([root], env="stagign")


def test_test_event_code_in_production_is_an_error_for_the_build(tmp_path: Path) -> None:
    envs = 'environment production { test_event_code = "TEST1" }\n'
    root = project(tmp_path / "p", {"a.capi": PIXEL + GOOD_RULE, "envs.capi": envs})
    result = api.check([root], env="production")
    assert result.exit_code == 1
    assert [d.code for d in result.diagnostics if d.severity is Severity.ERROR] == ["P004"]


def test_frontend_errors_are_reported_and_not_doubled_by_lint(tmp_path: Path) -> None:
    rule = GOOD_RULE.replace("event.id", "evnt_id")
    root = project(tmp_path / "p", {"a.capi": PIXEL + rule})
    result = api.check([root])
    assert [d.code for d in result.diagnostics if d.severity is Severity.ERROR] == ["R002"]


def test_syntax_errors_stop_the_lint_but_are_reported(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + "rule r { }\n"})
    code, out, _ = run(str(root), "--output-format", "concise")
    assert code == 1 and " S012 " in out


def test_the_parse_cache_gives_the_same_result(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + BAD_RULE})
    cold = run(str(root), "--output-format", "json")
    warm = run(str(root), "--output-format", "json")
    assert cold == warm
    assert (root / ".capic_cache").is_dir()


def test_api_check_result_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + BAD_RULE})
    monkeypatch.chdir(tmp_path)
    result = api.check([root], fail_level="info")
    assert result.fail_level is Severity.INFO and result.failed
    finding = result.findings[0]
    assert result.display_path(finding) == "p/a.capi"
    assert result.source_text(finding) == (root / "a.capi").read_text()
    positions = [(d.span.line, d.span.column, d.code) for d in result.diagnostics if d.span]
    assert positions == sorted(positions)
    assert result.counts()["error"] == 1


def test_the_lint_cache_follows_rule_and_declaration_changes(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {
            "pixels.capi": PIXEL + "element mail = event.email\n",
            "rules/a.capi": GOOD_RULE.replace("event.email", "mail"),
            "rules/b.capi": GOOD_RULE.replace('"r"', '"b"'),
        },
    )

    def lines(result: CheckResult) -> list[str]:
        return [f"{d.span}: {d.code} {d.message}" for d in result.diagnostics]

    def both() -> tuple[list[str], list[str]]:
        return lines(api.check([root])), lines(api.check([root], use_cache=False))

    warm, cold = both()
    assert warm == cold and (root / ".capic_cache" / "lint").is_dir()
    (root / "rules" / "b.capi").write_text(BAD_RULE.replace('"r"', '"b"'), encoding="utf-8")
    warm, cold = both()
    assert warm == cold and any(" L001 " in line for line in warm)
    # A declaration changes what an unchanged rule file sends.
    (root / "pixels.capi").write_text(
        PIXEL + 'element mail = "fixed@example.com"\n', encoding="utf-8"
    )
    warm, cold = both()
    assert warm == cold
    (root / "pixels.capi").write_text(
        PIXEL.replace("}", "  browser_pixel = true\n}") + "element mail = event.email\n",
        encoding="utf-8",
    )
    (root / "rules" / "a.capi").write_text(
        GOOD_RULE.replace("event.email", "mail").replace("    event_id      = event.id\n", ""),
        encoding="utf-8",
    )
    warm, cold = both()
    assert warm == cold and any(" D001 " in line for line in warm)


def test_configuration_problems_are_reported_for_any_file_checked(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + GOOD_RULE}, '[lint]\nselct = ["D"]\n')
    code, out, _ = run(str(root / "a.capi"), "--output-format", "concise")
    assert code == 2 and " C101 " in out
