"""Name resolution, the rule model (IR) and project loading: through ``capic.api`` and the CLI.

Covers unknown names with suggestions, element cycles, duplicates across files, loose files as
an ad-hoc project, a file checked in the context of its project, the parse cache, unreadable
files, and that no input produces a traceback.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from capic import api
from capic.cli import cli
from capic.diagnostics import Diagnostic
from capic.model import ir

PIXEL = """\
pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
}
"""
CONFIG = '[project]\nname = "shop"\ndefault_environment = "development"\n'
ENVIRONMENTS = "environment development { }\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def codes(diags: list[Diagnostic]) -> list[tuple[str, str, int, int]]:
    return [
        (d.code, d.span.file, d.span.line, d.span.column) if d.span else (d.code, "", 0, 0)
        for d in diags
    ]


def parse(text: str) -> api.LoadResult:
    return api.parse(PIXEL + textwrap.dedent(text), "t.capi")


def check(*args: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(cli, ["check", "--output-format", "concise", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def frontend_lines(output: str) -> list[str]:
    """Concise lines with front-end codes (S*/R*/C*); lint findings are another suite's job."""
    out = []
    for line in output.splitlines():
        parts = line.split(": ", 2)
        if len(parts) >= 2 and parts[1][:1] in "SRC" and parts[1][1:4].isdigit():
            out.append(line)
    return out


# ----------------------------------------------------------------------------- the IR


def test_a_valid_file_gives_a_typed_json_serializable_ir() -> None:
    result = parse(
        """
        element email = event.user.email ?? ""
        rule "MetaConversion_Lead" {
          when event.type == "lead" and exists(email)
          send Lead to shop {
            event_id = event.id
            user { em = lower(email) }
            custom { value = 5  currency = "USD" }
          }
        }
        """
    )
    assert result.diagnostics == []
    project = result.project
    assert project is not None
    assert set(project.pixels) == {"shop"}
    rule = project.rule("MetaConversion_Lead")
    assert rule is not None
    send = rule.sends[0]
    assert (send.event, send.pixel) == ("Lead", "shop")
    user = send.body.section("user_data")
    assert user is not None and user.name == "user"
    em = user.field("em")
    assert em is not None and isinstance(em.value, ir.Call) and em.value.func == "lower"
    assert isinstance(em.value.args[0], ir.ElementRef)
    assert isinstance(rule.condition, ir.Binary) and rule.condition.op == "and"
    event_id = send.body.field("event_id")
    assert event_id is not None and isinstance(event_id.value, ir.Path)
    assert isinstance(event_id.value.base, ir.Root) and event_id.value.segments == ("id",)
    token = project.pixels["shop"].fields["access_token"].value
    assert isinstance(token, ir.SecretRef) and token.describe() == 'env("META_CAPI_TOKEN")'
    data = project.to_json()
    assert json.loads(json.dumps(data)) == data


def test_capic_parse_prints_the_same_ir(tmp_path: Path) -> None:
    write(tmp_path, {"capic.toml": CONFIG, "rules.capi": PIXEL + ENVIRONMENTS})
    result = CliRunner().invoke(cli, ["parse", str(tmp_path)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == api.load_project(tmp_path).project.to_json()  # type: ignore[union-attr]


def test_extinfo_becomes_the_sixteen_element_list() -> None:
    result = parse(
        """
        rule "install" {
          send "MobileAppInstall" to shop {
            action_source = "app"
            app {
              advertiser_tracking_enabled = 1
              extinfo { version = "i2"  os_version = "17.4"  device_timezone = "UTC" }
            }
          }
        }
        """
    )
    assert result.diagnostics == []
    app = result.project.rules[0].sends[0].body.section("app_data")  # type: ignore[union-attr]
    assert app is not None
    extinfo = app.section("extinfo")
    assert extinfo is not None
    field = extinfo.field("extinfo")
    assert field is not None and isinstance(field.value, ir.ListOf)
    values = [item.value for item in field.value.items]  # type: ignore[union-attr]
    assert len(values) == 16
    assert values[0] == "i2" and values[4] == "17.4" and values[15] == "UTC"
    assert values[1:4] == ["", "", ""]


# ----------------------------------------------------------------------------- names


def test_unknown_names_functions_and_pixels_come_with_suggestions() -> None:
    result = parse(
        """
        element email = event.email
        rule "r" {
          when emial != null and lowercase(email) == "x"
          send Lead to shpo { event_id = evnt.id }
        }
        """
    )
    by_code = {d.code: d for d in result.diagnostics}
    assert sorted(by_code) == ["R001", "R002", "R005"]
    assert by_code["R001"].help == "did you mean `shop`?"
    assert by_code["R005"].help == "did you mean `lower`?"
    unknown = [d for d in result.diagnostics if d.code == "R002"]
    assert [(d.message, d.help) for d in unknown] == [
        ("unknown name `emial`", "did you mean `email`?"),
        ("unknown name `evnt`", "did you mean `event`?"),
    ]


def test_comprehension_variables_are_scoped() -> None:
    result = parse(
        """
        element ids = [for p in event.items : p.sku if p.qty > 0]
        element leak = p.sku
        """
    )
    assert [(d.code, d.message) for d in result.diagnostics] == [("R002", "unknown name `p`")]


@pytest.mark.parametrize(
    ("text", "chain"),
    [
        ("element a = a + 1\n", "a -> a"),
        ("element a = b\nelement b = a\n", "a -> b -> a"),
        ("element a = b\nelement b = [for x in c : x]\nelement c = {k = a}\n", "a -> b -> c -> a"),
    ],
)
def test_element_cycles(text: str, chain: str) -> None:
    result = api.parse(text, "t.capi")
    cycles = [d for d in result.diagnostics if d.code == "R004"]
    assert len(cycles) == 1
    assert cycles[0].message.endswith(chain)
    assert cycles[0].span is not None and cycles[0].span.column == 9


def test_elements_may_refer_to_later_elements() -> None:
    result = api.parse("element a = b.x ?? 1\nelement b = event.data\n", "t.capi")
    assert result.diagnostics == []
    assert result.project is not None
    assert result.project.elements["a"].deps == ("b",)


def test_arity_and_context_of_calls() -> None:
    result = parse(
        """
        element a = replace(event.x, "a")
        element b = now(1)
        element c = env("TOKEN")
        element d = hashed("x")
        element e = absent
        """
    )
    assert [(d.code, d.span.line) for d in result.diagnostics if d.span] == [
        ("R006", 6),
        ("R006", 7),
        ("R010", 8),
        ("R010", 9),
        ("R010", 10),
    ]


def test_literal_type_mismatches() -> None:
    result = parse(
        """
        element a = "10" * 2
        element b = event.x / 0
        element c = 1 < "2"
        element d = event.x starts_with 1
        element e = -"x"
        element f = event.total * 100 / 2
        """
    )
    assert [(d.code, d.span.line) for d in result.diagnostics if d.span] == [
        ("R009", 6),
        ("R009", 7),
        ("R009", 8),
        ("R009", 9),
        ("R009", 10),
    ]


def test_pixel_and_environment_settings() -> None:
    result = api.parse(
        """
pixel shop {
  id            = "1"
  browser_pixel = "yes"
  api_version   = "25"
  pixel_idd     = "1"
  user { }
}
environment development {
  test_event_code = event.code
  pixel shop { acces_token = env("T") }
  pixel nope { id = "2" }
}
""",
        "t.capi",
    )
    got = sorted((d.span.line, d.code, d.message) for d in result.diagnostics if d.span)
    assert got == [
        (2, "R015", "pixel `shop` has no `access_token`"),
        (4, "R015", "`browser_pixel` of pixel `shop` must be true or false"),
        (5, "R015", "`api_version` '25' is not a Graph API version"),
        (6, "R011", "unknown field `pixel_idd` in pixel `shop`"),
        (7, "R007", "pixel `shop` has no section `user`"),
        (10, "R010", "`event` is not available in settings"),
        (
            10,
            "R015",
            '`test_event_code` of environment `development` must be a string, env("VAR") or '
            'secret("NAME")',
        ),
        (11, "R011", "unknown field `acces_token` in pixel `shop` of environment `development`"),
        (12, "R001", "environment `development` overrides unknown pixel `nope`"),
    ]
    helps = {d.message: d.help for d in result.diagnostics}
    assert helps[got[7][2]] == "did you mean `access_token`?"


def test_tests_are_resolved() -> None:
    result = parse(
        """
        environment development { }
        rule "MetaConversion_Lead" { send Lead to shop { event_id = event.id } }
        test "ok" {
          environment = "development"
          now = "2026-03-03T15:00:00Z"
          event = {"id": "1", "nested": {"list": [1, 2.5, true, null]}}
          request = {ip: "192.0.2.1", headers: {"user-agent": "x"}}
          expect "MetaConversion_Lead" sends Lead to shop {
            event_id = "1"
            user { em = hashed("A@B.example")  ph = any  fn = absent }
          }
          expect "MetaConversion_Lead" sends nothing
          expect nothing
        }
        test "broken" {
          environment = "prod"
          event = {"id": event.id}
          expect "MetaConversion_Led" sends Lead to shopp { }
        }
        test "empty" { }
        """
    )
    got = [(d.code, d.message) for d in result.diagnostics]
    assert got == [
        ("R013", 'unknown environment "prod"'),
        ("R015", "test inputs are literals"),
        ("R014", 'no rule named "MetaConversion_Led"'),
        ("R001", "unknown pixel `shopp`"),
        ("R015", 'test "empty" has no `event`'),
        ("R015", 'test "empty" expects nothing'),
    ]
    ok = result.project.tests[0]  # type: ignore[union-attr]
    assert [e.kind for e in ok.expectations] == ["sends", "rule_nothing", "nothing"]
    user = ok.expectations[0].body.section("user_data")  # type: ignore[union-attr]
    assert user is not None
    kinds = {k: f.value.kind for k, f in user.entries.items()}  # type: ignore[union-attr]
    assert kinds == {"em": "hashed", "ph": "any", "fn": "absent"}


# ----------------------------------------------------------------------------- projects


def test_duplicate_definitions_across_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "capic.toml": CONFIG,
            "pixels.capi": PIXEL + ENVIRONMENTS,
            "a.capi": "element email = event.email\n",
            "rules/b.capi": PIXEL + "element email = event.user.email\n",
        },
    )
    result = api.load_project(tmp_path)
    assert codes(result.diagnostics) == [
        ("R003", "rules/b.capi", 1, 7),
        ("R003", "rules/b.capi", 5, 9),
    ]
    messages = [d.message for d in result.diagnostics]
    assert messages == [
        "pixel `shop` is already defined at pixels.capi:1:7",
        "element `email` is already defined at a.capi:1:9",
    ]


def test_names_resolve_across_the_files_of_a_project(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "capic.toml": CONFIG,
            "pixels.capi": PIXEL + ENVIRONMENTS,
            "elements.capi": "element email = event.email\n",
            "rules/lead.capi": 'rule "r" { send Lead to shop { user { em = email } } }\n',
        },
    )
    result = api.load_project(tmp_path)
    assert result.ok, result.diagnostics
    assert [f.path for f in result.project.files] == [  # type: ignore[union-attr]
        "elements.capi",
        "pixels.capi",
        "rules/lead.capi",
    ]


def test_default_environment_must_be_declared(tmp_path: Path) -> None:
    write(tmp_path, {"capic.toml": CONFIG, "pixels.capi": PIXEL})
    result = api.load_project(tmp_path)
    assert codes(result.diagnostics) == [("R013", "capic.toml", 3, 1)]


def test_invalid_project_config_is_reported_at_its_key(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"capic.toml": '[project]\nname = "shop"\nnmae = "x"\n', "p.capi": PIXEL},
    )
    result = api.load_project(tmp_path)
    assert [(c, f, line) for c, f, line, _ in codes(result.diagnostics)] == [
        ("C001", "capic.toml", 3)
    ]


def test_config_that_is_not_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"capic.toml": "[project\nname = 1\n", "p.capi": PIXEL})
    result = check(".", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code in (1, 2)
    assert any(
        line.startswith("capic.toml:1:") and " C001 " in line for line in result.stdout.splitlines()
    )


def test_loose_files_form_one_ad_hoc_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "one.capi": PIXEL + "element email = event.email\n",
            "two.capi": 'rule "r" { send Lead to shop { user { em = email } } }\n',
        },
    )
    together = api.load_project([tmp_path / "one.capi", tmp_path / "two.capi"])
    assert together.ok, together.diagnostics
    assert together.config.name == tmp_path.name
    alone = api.load_project(tmp_path / "two.capi")
    assert [(d.code, d.message) for d in alone.diagnostics] == [
        ("R001", "unknown pixel `shop`"),
        ("R002", "unknown name `email`"),
    ]
    # A directory without capic.toml is the same ad-hoc project.
    result = check(".", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code in (0, 1)  # the linter may have findings; the front end has none
    assert frontend_lines(result.stdout) == []
    result = check("two.capi", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert frontend_lines(result.stdout) == [
        "two.capi:1:25: R001 error: unknown pixel `shop`",
        "two.capi:1:44: R002 error: unknown name `email`",
    ]


def test_a_file_inside_a_project_is_checked_in_its_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "capic.toml": CONFIG,
            "pixels.capi": PIXEL + ENVIRONMENTS,
            "elements.capi": "element email = event.email\nelement broken = nope\n",
            "rules/lead.capi": """\
                rule "r" {
                  send Lead to shop {
                    user { em = email  ph = phnoe }
                  }
                }
                """,
        },
    )
    result = check("rules/lead.capi", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    # `email` and `shop` come from other files; only this file's problems are reported.
    assert frontend_lines(result.stdout) == [
        "rules/lead.capi:3:29: R002 error: unknown name `phnoe`"
    ]
    # From inside a subdirectory, paths are shown relative to the working directory.
    result = check("lead.capi", cwd=tmp_path / "rules", monkeypatch=monkeypatch)
    assert frontend_lines(result.stdout) == ["lead.capi:3:29: R002 error: unknown name `phnoe`"]
    # The whole project reports both files.
    result = check(".", cwd=tmp_path, monkeypatch=monkeypatch)
    assert frontend_lines(result.stdout) == [
        "elements.capi:2:18: R002 error: unknown name `nope`",
        "rules/lead.capi:3:29: R002 error: unknown name `phnoe`",
    ]


def test_every_file_is_reported_in_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "capic.toml": CONFIG,
            "a.capi": "element a = [1 2]\n",
            "b.capi": "element b = 'x'\n",
            "c.capi": PIXEL + ENVIRONMENTS,
        },
    )
    result = check(".", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert frontend_lines(result.stdout) == [
        "a.capi:1:16: S019 error: missing ',' between items",
        "b.capi:1:13: S014 error: strings use double quotes",
    ]


# ----------------------------------------------------------------------------- bad inputs


def test_non_utf8_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "latin1.capi").write_bytes(
        'element city = "Z\xfcrich"\n# caf\xe9\n'.encode("latin-1")
    )
    result = api.load_project(tmp_path / "latin1.capi")
    assert codes(result.diagnostics) == [("C003", "latin1.capi", 1, 1)]
    assert result.diagnostics[0].help == "save the file as UTF-8"
    cli_result = check("latin1.capi", cwd=tmp_path, monkeypatch=monkeypatch)
    assert cli_result.exit_code == 1  # a finding about that file, like ruff's E902
    assert frontend_lines(cli_result.stdout) == [
        "latin1.capi:1:1: C003 error: latin1.capi: not valid UTF-8 (byte 17)"
    ]


def test_missing_file_is_a_diagnostic_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = check("missing.capi", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 2  # a usage error: nothing to check
    assert "C002 error: missing.capi: no such file" in result.stdout
    result = check("no_such_dir", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 2
    assert "C002 error: no_such_dir: no such file or directory" in result.stdout


def test_capic_parse_on_broken_input_exits_1(tmp_path: Path) -> None:
    write(tmp_path, {"bad.capi": "element a = \n"})
    result = CliRunner().invoke(cli, ["parse", str(tmp_path / "bad.capi")])
    assert result.exit_code == 1
    assert "S023" in result.stderr
    assert result.stdout == ""


def test_api_load_project_refuses_two_projects(tmp_path: Path) -> None:
    write(tmp_path / "a", {"capic.toml": CONFIG.replace("shop", "a"), "p.capi": PIXEL})
    write(tmp_path / "b", {"capic.toml": CONFIG.replace("shop", "b"), "p.capi": PIXEL})
    with pytest.raises(ValueError, match="expected one project, found 2"):
        api.load_project([tmp_path / "a", tmp_path / "b"])
    results, problems = api.load([tmp_path / "a", tmp_path / "b"])
    assert [r.config.name for r in results] == ["a", "b"] and problems == []


# ----------------------------------------------------------------------------- parse cache


def test_parse_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from capic.syntax import parser

    write(
        tmp_path,
        {
            "capic.toml": CONFIG,
            "pixels.capi": PIXEL + ENVIRONMENTS,
            "elements.capi": "element email = event.email  # noqa: X1\n",
        },
    )
    first = api.load_project(tmp_path)
    assert first.ok
    cache = tmp_path / ".capic_cache"
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert len(list((cache / "parse").glob("*/*"))) == 2

    calls: list[str] = []
    real = parser.parse_text

    def counting(text: str, path: str) -> object:
        calls.append(path)
        return real(text, path)

    monkeypatch.setattr(parser, "parse_text", counting)
    second = api.load_project(tmp_path)
    assert calls == []  # everything came from the cache
    assert second.project is not None and first.project is not None
    assert second.project.to_json() == first.project.to_json()
    assert second.project.files[0].comments == first.project.files[0].comments

    (tmp_path / "elements.capi").write_text("element email = event.user.email\n")
    third = api.load_project(tmp_path)
    assert calls == ["elements.capi"]  # only the changed file is parsed again
    assert third.project is not None
    email = third.project.elements["email"].value
    assert isinstance(email, ir.Path) and email.segments == ("user", "email")

    calls.clear()
    api.load_project(tmp_path, use_cache=False)
    assert sorted(calls) == ["elements.capi", "pixels.capi"]


def test_parse_cache_keeps_syntax_errors_and_survives_garbage(tmp_path: Path) -> None:
    write(tmp_path, {"capic.toml": CONFIG, "bad.capi": "element a = [1 2]\n"})
    first = api.load_project(tmp_path)
    for entry in (tmp_path / ".capic_cache" / "parse").glob("*/*"):
        assert json.loads(entry.read_bytes())  # plain JSON, never pickle
    second = api.load_project(tmp_path)
    assert codes(second.diagnostics) == codes(first.diagnostics) == [("S019", "bad.capi", 1, 16)]
    for entry in (tmp_path / ".capic_cache" / "parse").glob("*/*"):
        entry.write_bytes(b"\x00 not json")
    third = api.load_project(tmp_path)
    assert codes(third.diagnostics) == codes(first.diagnostics)


def test_loose_files_are_not_cached(tmp_path: Path) -> None:
    write(tmp_path, {"loose.capi": PIXEL})
    api.load_project(tmp_path / "loose.capi")
    assert not (tmp_path / ".capic_cache").exists()
