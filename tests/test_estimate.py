"""capic's match-quality estimate has one home (capic.meta.estimate): the linter's Q002 and
``capic report`` call it; the runtime side imports it without the compiler front end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from capic.cli import cli
from capic.meta import estimate


def test_every_key_scores_ten_and_none_zero() -> None:
    every = {part for name, _ in estimate.weights() for part in name.split("+")}
    assert estimate.estimate(every).score == pytest.approx(10.0)
    nothing = estimate.estimate(set())
    assert nothing.score == 0.0
    assert nothing.range == (0.0, 1.5)
    # the biggest gains come first: em, fbc and ph weigh 3
    assert [name for name, _ in nothing.gains[:3]] == ["em", "fbc", "ph"]


def test_a_pair_counts_only_whole_and_ipv4_counts_less() -> None:
    assert estimate.estimate({"fn"}).score == 0.0
    assert estimate.estimate({"fn", "ln"}).score > 0.0
    v6 = estimate.estimate({"client_ip_address"})
    v4 = estimate.estimate({"client_ip_address"}, ipv4=True)
    assert v4.score == pytest.approx(0.8 * v6.score)
    assert estimate.is_ipv4("203.0.113.7") and not estimate.is_ipv4("2001:db8::1")
    assert not estimate.is_ipv4(None)


def test_q002_reports_what_the_estimator_computes(tmp_path: Path) -> None:
    (tmp_path / "rules.capi").write_text(
        'pixel shop {\n  id = "1234567890123456"\n  access_token = env("T")\n}\n'
        'rule "Lead" {\n  when event.type == "lead"\n  send Lead to shop {\n'
        '    event_time = now()\n    action_source = "website"\n'
        "    event_source_url = event.page\n    user {\n      em = event.email\n"
        '      client_ip_address = "203.0.113.7"\n'
        '      client_user_agent = request.headers["user-agent"]\n    }\n  }\n}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["check", str(tmp_path), "--output-format", "json", "--select", "Q002", "--show-info"]
    )
    found = [d for d in json.loads(result.output) if d["code"] == "Q002"]
    assert len(found) == 1
    guess = estimate.estimate({"em", "client_ip_address", "client_user_agent"}, ipv4=True)
    assert found[0]["data"]["score"] == guess.rounded
    assert found[0]["data"]["range"] == list(guess.range)
    assert estimate.LABEL in found[0]["message"]


def test_the_runtime_side_imports_it_without_the_front_end() -> None:
    code = (
        "import sys; import capic.meta.estimate, capic.runtime.ingest; "
        "bad = [m for m in ('lark', 'jinja2', 'capic.lint', 'capic.syntax', 'capic.codegen') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
