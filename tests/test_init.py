"""`capic init`: a new project that checks clean and whose tests pass; refusals; bad arguments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic import api
from capic.cli import cli
from capic.diagnostics import Severity
from capic.scaffold import render, validate
from capic.scaffold.events import STANDARD_EVENT_NAMES

DOMAIN = "shop.example.com"
PIXEL = "1234567890123456"

#: The 18 standard events, in the issue's order.
EXPECTED_EVENTS = [
    "PageView",
    "ViewContent",
    "Search",
    "AddToCart",
    "AddToWishlist",
    "InitiateCheckout",
    "AddPaymentInfo",
    "Purchase",
    "Lead",
    "CompleteRegistration",
    "Contact",
    "CustomizeProduct",
    "Donate",
    "FindLocation",
    "Schedule",
    "StartTrial",
    "SubmitApplication",
    "Subscribe",
]


def init(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["init", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("init") / "shop"
    code, out, err = init(str(target), "--domain", DOMAIN, "--pixel-id", PIXEL)
    assert code == 0, err
    assert err == ""
    assert "Created 27 files" in out
    return target


def test_every_standard_event_has_a_rule_and_a_test(project: Path) -> None:
    assert list(STANDARD_EVENT_NAMES) == EXPECTED_EVENTS
    load = api.load_project(project)
    assert load.ok, load.diagnostics
    assert load.project is not None
    rules = {r.name: r for r in load.project.rules}
    assert sorted(rules) == sorted(f"MetaConversion_{e}" for e in EXPECTED_EVENTS)
    for name in EXPECTED_EVENTS:
        (send,) = rules[f"MetaConversion_{name}"].sends
        assert (send.event, send.pixel, send.quoted) == (name, "site", False)
        event_id = send.body.field("event_id")
        assert event_id is not None
        assert "event_id" in re.findall(r"\w+", str(event_id.value))  # the data layer element
    tested = {e.rule for t in load.project.tests for e in t.expectations if e.kind == "sends"}
    assert tested == set(rules)
    element = load.project.elements["event_id"]
    assert "conversion" in element.deps
    assert "eventId" in str(element.value)


def test_test_titles_agree_with_their_expectations(project: Path) -> None:
    """A title that says nothing is sent expects nothing; one that names events expects them."""
    result = api.load_project(project)
    assert result.project is not None
    for test in result.project.tests:
        sent = {e.event for e in test.expectations if e.kind == "sends"}
        title = test.name.lower()
        if re.search(r"\bno(thing)?\b.*\b(sen[dt]s?|rule|conversion)\b", title) and not re.search(
            r"\bno other\b", title
        ):
            assert not sent, f"{test.name!r} expects {sorted(sent)} to be sent"
        for event in EXPECTED_EVENTS:
            if re.search(rf"\bsends {event}\b", test.name):
                assert event in sent, f"{test.name!r} does not expect {event}"


def test_custom_data_meta_requires_or_recommends(project: Path) -> None:
    from capic.meta import catalog

    load = api.load_project(project)
    assert load.project is not None
    for rule in load.project.rules:
        (send,) = rule.sends
        custom = send.body.section("custom_data")
        sent = set(custom.entries) if custom is not None else set()
        recommended = set(catalog.recommended_custom_keys(send.event))
        assert recommended <= sent, (rule.name, recommended - sent)
    purchase = load.project.rule("MetaConversion_Purchase")
    assert purchase is not None
    custom = purchase.sends[0].body.section("custom_data")
    assert custom is not None and {"currency", "value"} <= set(custom.entries)


def test_generated_project_checks_without_warnings_or_errors(project: Path) -> None:
    result = api.check([project])
    bad = [d for d in result.diagnostics if d.severity >= Severity.WARNING]
    assert bad == [], "\n".join(f"{d.span}: {d.code} {d.message}" for d in bad)
    assert result.exit_code == 0
    for env in ("development", "staging", "production"):
        bad = [
            d for d in api.check([project], env=env).diagnostics if d.severity >= Severity.WARNING
        ]
        assert bad == [], (env, [(d.code, d.message) for d in bad])


def test_check_and_test_through_the_cli(project: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(cli, ["check", str(project), "--fail-level", "warning"])
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    tested = runner.invoke(cli, ["test", str(project)])
    assert tested.exit_code == 0, tested.stdout + tested.stderr
    assert tested.stdout.endswith("24 passed, 0 failed\n")
    assert "FAIL" not in tested.stdout


def test_events_jsonl_holds_one_envelope_per_standard_event(project: Path) -> None:
    lines = (project / "events.jsonl").read_text(encoding="utf-8").splitlines()
    envelopes = [json.loads(line) for line in lines]
    assert [e["event"]["eventName"] for e in envelopes] == EXPECTED_EVENTS
    for envelope in envelopes:
        assert set(envelope) == {"event", "request"}
        assert envelope["event"]["conversionData"]["eventId"]
        assert envelope["event"]["page"]["url"].startswith(f"https://{DOMAIN}/")
        assert envelope["request"]["headers"]["user-agent"]


def test_sample_events_go_through_the_rules(project: Path) -> None:
    from capic.runtime import Context, Rejection

    load = api.load_project(project)
    assert load.project is not None
    module = api.load_compiled(api.compile_project(load.project, "production"))
    rejected: list[Rejection] = []
    lines = (project / "events.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        envelope = json.loads(line)
        context = Context(now=lambda: 1768471200 + 3600, on_reject=rejected.append)
        (emitted,) = module.process(envelope["event"], envelope["request"], context=context)
        assert emitted.rule == f"MetaConversion_{envelope['event']['eventName']}"
        assert emitted.event["event_id"] == envelope["event"]["conversionData"]["eventId"]
        raw_email = envelope["event"].get("customerInformation", {}).get("email")
        assert raw_email is None or raw_email not in json.dumps(emitted.event)
    assert rejected == []


def test_browser_snippet_shares_the_event_id(project: Path) -> None:
    html = (project / "site" / "meta-pixel-snippet.html").read_text(encoding="utf-8")
    assert "connect.facebook.net/en_US/fbevents.js" in html
    assert f'var PIXEL_ID = "{PIXEL}";' in html
    assert 'var DATA_LAYER_PATH = "window.dataLayer.meta";' in html
    assert (
        "window.fbq(method, layer.eventName, params, {eventID: String(conversion.eventId)})" in html
    )
    assert 'window.fbq("init", PIXEL_ID' in html
    for name in EXPECTED_EVENTS:
        assert f'"{name}"' in html
    assert f"id={PIXEL}&amp;ev=PageView" in html


def test_readme_documents_the_data_layer_and_the_snippet(project: Path) -> None:
    readme = (project / "README.md").read_text(encoding="utf-8")
    for needle in (
        "conversionData.eventId",
        "currency",
        "value",
        "contents",
        "predicted_ltv",
        "customerInformation",
        "`fbp`, `fbc`",
        "site/meta-pixel-snippet.html",
        "<head>",
        "window.dataLayer.meta",
        "$META_CAPI_TOKEN",
        "CAPI_TEST_EVENT_CODE",
    ):
        assert needle in readme, needle


def test_environments_and_pixel(project: Path) -> None:
    load = api.load_project(project)
    assert load.project is not None
    assert sorted(load.project.environments) == ["development", "production", "staging"]
    assert load.project.config.default_environment == "development"
    dev = load.project.environments["development"]
    assert str(dev.fields["test_event_code"].value.describe()) == 'env("CAPI_TEST_EVENT_CODE")'  # type: ignore[union-attr]
    assert "test_event_code" not in load.project.environments["production"].fields
    pixel = load.project.pixels["site"]
    assert pixel.browser_pixel
    assert pixel.fields["access_token"].value.describe() == 'env("META_CAPI_TOKEN")'  # type: ignore[union-attr]


def test_options_reach_the_files(tmp_path: Path) -> None:
    target = tmp_path / "custom"
    code, _, err = init(
        str(target),
        "--domain",
        "WWW.Example.org.",
        "--pixel-id",
        "987654321012345",
        "--data-layer-path",
        "window.digitalData.meta",
        "--token-env",
        "SHOP_CAPI_TOKEN",
    )
    assert code == 0, err
    assert 'env("SHOP_CAPI_TOKEN")' in (target / "pixels.capi").read_text()
    assert 'id            = "987654321012345"' in (target / "pixels.capi").read_text()
    html = (target / "site" / "meta-pixel-snippet.html").read_text()
    assert 'var DATA_LAYER_PATH = "window.digitalData.meta";' in html
    assert "https://www.example.org/" in (target / "elements.capi").read_text()
    assert 'name = "custom"' in (target / "capic.toml").read_text()
    tested = CliRunner().invoke(cli, ["test", str(target)])
    assert tested.exit_code == 0, tested.stdout


def test_internationalized_domain_becomes_punycode(tmp_path: Path) -> None:
    code, _, err = init(str(tmp_path / "idn"), "--domain", "Bücher.example", "--pixel-id", PIXEL)
    assert code == 0, err
    assert "https://xn--bcher-kva.example/" in (tmp_path / "idn" / "elements.capi").read_text()


def test_unusual_pixel_id_length_is_accepted_with_a_note(tmp_path: Path) -> None:
    code, _, err = init(str(tmp_path / "p"), "--domain", DOMAIN, "--pixel-id", "1234")
    assert code == 0
    assert err == "note: pixel id 1234 has 4 digits; Meta dataset ids usually have 15 or 16\n"


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "shop"
    assert init(str(target), "--domain", DOMAIN, "--pixel-id", PIXEL)[0] == 0
    (target / "rules" / "purchase.capi").write_text("# my own rule\n", encoding="utf-8")
    code, out, err = init(str(target), "--domain", DOMAIN, "--pixel-id", PIXEL)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "already exist; pass --force to overwrite" in err
    assert (target / "rules" / "purchase.capi").read_text() == "# my own rule\n"
    code, _, _ = init(str(target), "--domain", DOMAIN, "--pixel-id", PIXEL, "--force")
    assert code == 0
    assert "MetaConversion_Purchase" in (target / "rules" / "purchase.capi").read_text()


def test_refuses_when_one_file_is_in_the_way(tmp_path: Path) -> None:
    target = tmp_path / "shop"
    target.mkdir()
    (target / "README.md").write_text("mine\n", encoding="utf-8")
    code, _, err = init(str(target), "--domain", DOMAIN, "--pixel-id", PIXEL)
    assert code == 2
    assert f"{target / 'README.md'} already exists; pass --force to overwrite" in err
    assert sorted(p.name for p in target.iterdir()) == ["README.md"]


def test_into_an_existing_empty_directory(tmp_path: Path) -> None:
    code, _, _ = init(str(tmp_path), "--domain", DOMAIN, "--pixel-id", PIXEL)
    assert code == 0
    assert (tmp_path / "capic.toml").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pixel-id", "abc"], "--pixel-id must be the dataset's numeric id"),
        (["--pixel-id", "12 34"], "--pixel-id must be the dataset's numeric id"),
        (["--pixel-id", "-123"], "--pixel-id must be the dataset's numeric id"),
        (["--pixel-id", "١٢٣"], "--pixel-id must be the dataset's numeric id"),
        (["--pixel-id", "1" * 21], "too long for a Meta dataset id"),
        (["--domain", "https://shop.example.com/"], "not a URL: write --domain shop.example.com"),
        (["--domain", "shop_example.com"], "is not a host name"),
        (["--domain", "-shop.example.com"], "is not a host name"),
        (["--domain", "shop..example.com"], "is not a host name"),
        (["--domain", "203.0.113.7"], "is an IP address"),
        (["--domain", "shop.example.com:8080"], "has a port"),
        (["--domain", " "], "--domain is empty"),
        (
            ["--data-layer-path", "window..meta"],
            "--data-layer-path must be a dotted JavaScript path",
        ),
        (
            ["--data-layer-path", "window.data-layer"],
            "--data-layer-path must be a dotted JavaScript path",
        ),
        (["--token-env", "1TOKEN"], "--token-env must be an environment variable name"),
        (["--token-env", "MY-TOKEN"], "--token-env must be an environment variable name"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    options = {"--domain": DOMAIN, "--pixel-id": PIXEL}
    options.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = [str(tmp_path / "p")] + [x for kv in options.items() for x in kv]
    code, out, err = init(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith("capic init: error: ")
    assert err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("missing", ["--domain", "--pixel-id"])
def test_missing_required_option(tmp_path: Path, missing: str) -> None:
    options = {"--domain": DOMAIN, "--pixel-id": PIXEL}
    del options[missing]
    code, _, err = init(str(tmp_path / "p"), *[x for kv in options.items() for x in kv])
    assert code == 2
    assert err.count("\n") == 1
    assert f"{missing} is required" in err


def test_target_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    code, _, err = init(str(target), "--domain", DOMAIN, "--pixel-id", PIXEL)
    assert code == 2
    assert "exists and is not a directory" in err


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    options = validate(tmp_path / "a", domain=DOMAIN, pixel_id=PIXEL)
    assert render(options) == render(options)
    assert all(text.endswith("\n") for text in render(options).values())


def test_templates_live_inside_the_package() -> None:
    import capic.scaffold

    package = Path(capic.scaffold.__file__).parent
    templates = sorted(p.name for p in (package / "templates").iterdir())
    assert "rule.capi.j2" in templates
    assert "meta-pixel-snippet.html.j2" in templates


def test_dry_run_of_the_sample_events(project: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "run",
            str(project),
            "--env",
            "production",
            "--events",
            str(project / "events.jsonl"),
            "--rebase-time",
            "--dry-run",
        ],
    )
    assert result.exit_code == 0, result.stderr
    requests = [json.loads(line) for line in result.stdout.splitlines()]
    events = [e for r in requests for e in r["body"]["data"]]
    assert sorted(e["event_name"] for e in events) == sorted(EXPECTED_EVENTS)
    assert "jane" not in result.stdout.lower()
    assert all(r["pixel_id"] == PIXEL for r in requests)
    assert "18 server events valid, 0 rejected" in result.stderr


def test_collect_url_wires_the_snippet_and_the_serve_block(tmp_path: Path) -> None:
    target = tmp_path / "site"
    url = "https://collect.shop.example.com/v1/collect"
    code, _, err = init(str(target), "--domain", DOMAIN, "--pixel-id", PIXEL, "--collect-url", url)
    assert code == 0, err
    html = (target / "site" / "meta-pixel-snippet.html").read_text(encoding="utf-8")
    assert f'var COLLECTOR_URL = "{url}";' in html
    # The collector gets the page URL and referrer in the body, as text/plain (no preflight).
    assert "event: event, url: window.location.href" in html
    assert 'type: "text/plain;charset=UTF-8"' in html
    serve = (target / "serve.capi").read_text(encoding="utf-8")
    assert 'allowed_origins = ["https://shop.example.com"]' in serve
    assert 'cookie_domain   = "shop.example.com"' in serve
    assert 'ingest_tokens   = env("CAPIC_INGEST_TOKEN")' in serve
    # Fresh cookies from the request win over copies in the event body.
    elements = (target / "elements.capi").read_text(encoding="utf-8")
    assert 'element fbp        = request.cookies["_fbp"] ?? event.fbp' in elements
    checked = CliRunner().invoke(cli, ["check", str(target), "--env", "production"])
    assert checked.exit_code == 0, checked.stdout
    tested = CliRunner().invoke(cli, ["test", str(target)])
    assert tested.exit_code == 0, tested.stdout


def test_collector_on_another_site_gets_no_cookie_domain(tmp_path: Path) -> None:
    target = tmp_path / "third"
    url = "https://events.example.net/v1/collect"
    code, _, err = init(str(target), "--domain", DOMAIN, "--pixel-id", PIXEL, "--collect-url", url)
    assert code == 0, err
    serve = (target / "serve.capi").read_text(encoding="utf-8")
    assert "cookie_domain   =" not in serve
    assert "third-party" in serve


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("collect.example.com/v1/collect", "must be an absolute URL"),
        ("http://collect.example.com/v1/collect", "is plain HTTP"),
        ('https://collect.example.com/v1/collect"', "must have no query"),
        ("https://collect.example.com/v1/collect?x=1", "must have no query"),
    ],
)
def test_bad_collect_urls_are_one_line_errors(tmp_path: Path, url: str, message: str) -> None:
    code, _, err = init(
        str(tmp_path / "p"), "--domain", DOMAIN, "--pixel-id", PIXEL, "--collect-url", url
    )
    assert code == 2
    assert err.count("\n") == 1, err
    assert message in err
