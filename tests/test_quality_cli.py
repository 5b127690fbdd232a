"""`capic quality` against the emulator, as real processes over HTTP: a sample run delivers the
offline-store sample's events, then `capic quality` prints Meta's verdict (the emulator's,
computed from what it received) beside capic's estimate per rule, flags where they disagree
and names the rule a diagnostic concerns. Refusals are one line, never a traceback or the
token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from capic.meta.estimate import estimate
from tests.conftest import SAMPLES

SAMPLE = SAMPLES / "offline-store"
TOKEN = "EAAGqualityTOKEN0123456789abcdefXYZ"
WEB = "5678901234567891"
STORES = "5678901234567890"


def capic(
    *args: str, token: str | None = TOKEN, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "META_CAPI_TOKEN"}
    if token is not None:
        env["META_CAPI_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "capic", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


class Emulator:
    def __init__(self, *flags: str) -> None:
        env = {**os.environ, "CAPIC_EMULATOR_TOKEN": TOKEN}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "capic", "emulator", "--port", "0", *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("capic emulator listening on "), line
        self.url = line.split()[-1]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=10)


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator process that received one `capic run` of the sample."""
    fixture = tmp_path_factory.mktemp("quality") / "fixture.json"
    fixture.write_text(
        json.dumps(
            {
                "datasets": {
                    WEB: {
                        "events": {
                            "Purchase": {
                                "diagnostics": [
                                    {
                                        "name": "Server sending mismatched IP addresses",
                                        "description": "The IP address differs from the pixel's.",
                                        "percentage": 12.5,
                                        "affected_event_count": 3,
                                        "total_event_count": 24,
                                    },
                                    {"name": "Low frequency of events"},
                                ],
                                "event_coverage": {"percentage": 62.0},
                            }
                        }
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    emulator = Emulator("--quality-fixture", str(fixture))
    outbox = tmp_path_factory.mktemp("outbox") / "out.sqlite"
    try:
        run = capic(
            "run", str(SAMPLE), "--env", "production", "--events", str(SAMPLE / "events.jsonl"),
            "--endpoint", emulator.url, "--rebase-time", "--outbox", str(outbox),
        )  # fmt: skip
        assert run.returncode == 1, run.stderr  # one credit is rejected on purpose
        assert "47 delivered in 2 requests" in run.stderr
        yield emulator
    finally:
        emulator.stop()


def quality(
    emulator: Emulator, *args: str, token: str | None = TOKEN
) -> subprocess.CompletedProcess[str]:
    return capic("quality", *args, "--env", "production", "--endpoint", emulator.url, token=token)


def test_per_rule_comparison_after_a_sample_run(delivered: Emulator) -> None:
    result = quality(delivered, str(SAMPLE))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert TOKEN not in out + result.stderr
    lines = out.splitlines()
    assert lines[0].endswith("capic's numbers are capic's estimate, not Meta's EMQ")
    assert f"pixel web (dataset {WEB}, v25.0)" in lines
    assert (
        "  Purchase: Meta EMQ 5.4, capic 5.5-8.5  DISAGREES: Meta's EMQ 5.4 is below capic's "
        "estimate (5.5-8.5)"
    ) in lines
    assert (
        "    rule Web_Purchase (rules/web.capi:8): capic 7.0 from client_ip_address, "
        "client_user_agent, em, external_id, fbc, fbp, ph"
    ) in lines
    assert (
        "    why: em is on 50.0% of the events Meta received; Web_Purchase sends it only when "
        "the event has it"
    ) in lines
    assert (
        "    why: ph is on 12.5% of the events Meta received; Web_Purchase sends it only when the event has it"
        in lines
    )
    assert "    diagnostic: Update IPv4 to IPv6 (62.5%, 15 of 24 events)" in lines
    assert (
        "      most likely: rule Web_Purchase (rules/web.capi:8): client_ip_address = request.ip: "
        "an address known at run time (IPv4 unless the visitor uses IPv6)"
    ) in lines
    assert (
        "  AppendAttribution: Meta EMQ 5.7, capic 1.1-4.1  DISAGREES: Meta's EMQ 5.7 is above capic's estimate (1.1-4.1)"
        in lines
    )
    assert (
        "  Purchase: no EMQ from Meta (capic 2.7-5.7); Meta computes EMQ for web events only "
        "(physical_store)"
    ) in lines
    assert lines[-1] == "2 disagreement(s), 3 diagnostic(s), 0 pixel(s) without a verdict"


def test_json_numbers_are_the_emulators_and_capics_estimators(delivered: Emulator) -> None:
    result = quality(delivered, str(SAMPLE), "--output-format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    web = next(p for p in data["pixels"] if p["name"] == "web")
    purchase = next(e for e in web["events"] if e["event_name"] == "Purchase")
    # Meta's side is what the emulator answers to the Dataset Quality API.
    answer = httpx.get(
        f"{delivered.url}/v25.0/dataset_quality",
        params={"dataset_id": WEB, "agent_name": "capic", "access_token": TOKEN},
    ).json()
    row = next(r for r in answer["web"] if r["event_name"] == "Purchase")
    assert (
        purchase["meta"]["composite_score"] == row["event_match_quality"]["composite_score"] == 5.4
    )
    assert purchase["meta"]["event_coverage"] == 62.0
    coverage = {k["identifier"]: k["coverage"] for k in purchase["meta"]["match_keys"]}
    assert coverage["email"] == 50.0 and coverage["ip_address"] == 100.0
    # capic's side is the one estimator (capic.meta.estimate), for the keys the rule sends.
    (rule,) = purchase["capic"]["rules"]
    assert rule["rule"] == "Web_Purchase" and (rule["file"], rule["line"]) == ("rules/web.capi", 8)
    assert rule["estimate"] == round(estimate(set(rule["keys"])).score, 1) == 7.0
    assert rule["range"] == [5.5, 8.5]
    assert rule["client_ip_address"] == {"source": "request.ip", "kind": "run time"}
    assert purchase["disagreement"] == "Meta's EMQ 5.4 is below capic's estimate (5.5-8.5)"
    diagnostics = {d["name"]: d for d in purchase["diagnostics"]}
    assert [r["rule"] for r in diagnostics["Update IPv4 to IPv6"]["likely_rules"]] == [
        "Web_Purchase"
    ]
    mismatched = diagnostics["Server sending mismatched IP addresses"]
    assert mismatched["parameters"] == ["client_ip_address"]
    assert [r["rule"] for r in mismatched["likely_rules"]] == ["Web_Purchase"]
    assert diagnostics["Low frequency of events"]["likely_rules"] == []
    assert data["disagreements"] == 2
    assert capic_fails_on_disagreement(delivered)


def capic_fails_on_disagreement(emulator: Emulator) -> bool:
    result = quality(emulator, str(SAMPLE), "--fail-on-disagreement")
    return result.returncode == 1 and "DISAGREES" in result.stdout


def test_a_bundle_is_read_the_same_way(delivered: Emulator, tmp_path: Path) -> None:
    built = capic("build", str(SAMPLE), "--env", "production", "-o", str(tmp_path))
    assert built.returncode == 0, built.stderr
    (bundle,) = tmp_path.glob("*.tar.gz")
    result = quality(delivered, "--bundle", str(bundle), "--output-format", "json")
    assert result.returncode == 0, result.stderr
    direct = json.loads(quality(delivered, str(SAMPLE), "--output-format", "json").stdout)
    assert json.loads(result.stdout)["pixels"] == direct["pixels"]
    wrong = capic(
        "quality", "--bundle", str(bundle), "--env", "staging", "--endpoint", delivered.url
    )
    assert wrong.returncode == 2
    assert wrong.stderr.strip().endswith("was built for environment 'production', not 'staging'")


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line]
    assert all(line.startswith("capic quality: ") for line in lines), lines
    return "\n".join(lines)


def test_meta_refusals_are_one_line_without_the_token(tmp_path: Path) -> None:
    fixture = tmp_path / "refuse.json"
    refusal = {"code": 10, "message": "(#10) Application does not have permission"}
    fixture.write_text(
        json.dumps({"datasets": {WEB: {"refuse": refusal}, STORES: {"refuse": refusal}}}),
        encoding="utf-8",
    )
    emulator = Emulator("--quality-fixture", str(fixture), "--deprecated-version", "v24.0")
    try:
        refused = one_line_error(quality(emulator, str(SAMPLE)))
        assert (
            f"pixel web: dataset {WEB}: Meta refused (code 10): (#10) Application does not have permission"
            in refused
        )
        assert (
            "permission the Dataset Quality API needs is not verified in capic's facts [U]"
            in refused
        )
        bad_token = one_line_error(quality(emulator, str(SAMPLE), token="EAAGwrongTOKEN"))
        assert "Meta refused (code 190)" in bad_token and "EAAGwrongTOKEN" not in bad_token
        no_token = one_line_error(quality(emulator, str(SAMPLE), token=None))
        assert (
            "the access token of pixel `stores`: " in no_token
            and 'env("META_CAPI_TOKEN")' in no_token
        )
        old = tmp_path / "old"
        old.mkdir()
        for item in SAMPLE.iterdir():
            if item.is_file():
                text = item.read_text(encoding="utf-8").replace('"v25.0"', '"v24.0"')
                (old / item.name).write_text(text, encoding="utf-8")
        (old / "rules").mkdir()
        for item in (SAMPLE / "rules").iterdir():
            (old / "rules" / item.name).write_text(
                item.read_text(encoding="utf-8"), encoding="utf-8"
            )
        deprecated = one_line_error(quality(emulator, str(old)))
        assert "Meta refused (code 2635)" in deprecated
        assert "Graph API v24.0 is deprecated: set api_version to a current version" in deprecated
    finally:
        emulator.stop()


def test_unreachable_endpoint_and_bad_usage() -> None:
    unreachable = capic(
        "quality", str(SAMPLE), "--env", "production", "--endpoint", "http://127.0.0.1:9"
    )
    assert "cannot reach http://127.0.0.1:9" in one_line_error(unreachable)
    neither = one_line_error(capic("quality", "--endpoint", "http://127.0.0.1:9"))
    assert neither == "capic quality: give either PROJECT or --bundle BUNDLE"
    bad = one_line_error(capic("quality", str(SAMPLE), "--endpoint", "ftp://x"))
    assert "--endpoint must be an http(s) URL" in bad
    pixel = one_line_error(
        capic("quality", str(SAMPLE), "--pixel", "nope", "--endpoint", "http://x.test")
    )
    assert "no pixel named nope (pixels: stores, web)" in pixel


def test_only_one_pixel(delivered: Emulator) -> None:
    result = quality(delivered, str(SAMPLE), "--pixel", "web", "--output-format", "json")
    assert [p["name"] for p in json.loads(result.stdout)["pixels"]] == ["web"]


def test_lists_of_another_shape_in_metas_answer_are_read_as_empty(tmp_path: Path) -> None:
    # match_key_feedback and diagnostics as a number once raised TypeError (a traceback).
    fixture = tmp_path / "odd.json"
    odd = {"match_key_feedback": 5, "diagnostics": True, "composite_score": 7.5}
    fixture.write_text(
        json.dumps({"datasets": {WEB: {"events": {"Purchase": odd}}}}), encoding="utf-8"
    )
    emulator = Emulator("--quality-fixture", str(fixture))
    try:
        result = quality(emulator, str(SAMPLE), "--output-format", "json")
    finally:
        emulator.stop()
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert "Purchase" in result.stdout
