"""`capic outbox status | replay | dead-letters` through click's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from capic.cli import cli
from capic.emulator import EmulatorHandle, start
from capic.runtime.delivery import Destination, Outbox
from capic.runtime.secrets import SecretRef
from tests.conftest_delivery import PIXEL, TOKEN, TOKEN_ENV, VERSION, fill, item


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["outbox", *args], env=env, catch_exceptions=False)


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with start(token=TOKEN) as handle:
        yield handle


def make_outbox(
    path: Path, *, pending: int = 3, dead: int = 0, dest: Destination | None = None
) -> Path:
    with Outbox(path) as outbox:
        fill(outbox, [item(i, dest) for i in range(pending + dead)], dead=dead)
    return path


def test_status_text_and_json(tmp_path: Path) -> None:
    path = make_outbox(tmp_path / "o.sqlite", pending=3, dead=2)
    result = run("status", str(path))
    assert result.exit_code == 0, result.output
    assert "3 pending, 2 dead letters" in result.stdout
    assert f'pixel {PIXEL} {VERSION} token env("{TOKEN_ENV}")' in result.stdout
    result = run("status", str(path), "--output-format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["pending"], data["dead_letters"]) == (3, 2)
    assert data["destinations"][0]["pixel_id"] == PIXEL


@pytest.mark.parametrize("verb", ["status", "replay", "dead-letters"])
def test_missing_file_is_a_one_line_error(tmp_path: Path, verb: str) -> None:
    missing = tmp_path / "nope.sqlite"
    result = run(verb, str(missing))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"capic outbox: no outbox at {missing}"
    assert not missing.exists()


@pytest.mark.parametrize(
    "content", [b"garbage, not sqlite " * 50, b"", b"SQLite format 3\x00" + b"\x00" * 80]
)
def test_corrupt_file_is_a_one_line_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.sqlite"
    path.write_bytes(content)
    for verb in ("status", "dead-letters", "replay"):
        result = run(verb, str(path))
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("capic outbox: ")
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output


def test_dead_letters_list_and_requeue(tmp_path: Path) -> None:
    path = make_outbox(tmp_path / "o.sqlite", pending=1, dead=2)
    result = run("dead-letters", str(path))
    assert result.exit_code == 1
    assert "Purchase event_id=ev-0 code 100/2804016 fbtrace_id=Atrace1" in result.stdout
    assert "User Parameter Not Hashed" in result.stdout
    assert result.stdout.strip().endswith("2 dead letters")
    limited = run("dead-letters", str(path), "--limit", "1")
    assert "2 dead letters (showing 1)" in limited.stdout
    result = run("dead-letters", str(path), "--output-format", "json")
    letters = json.loads(result.stdout)
    assert [d["event_id"] for d in letters] == ["ev-0", "ev-1"]
    assert letters[0]["event"]["event_name"] == "Purchase" and letters[0]["subcode"] == 2804016
    result = run("dead-letters", str(path), "--requeue")
    assert result.exit_code == 0 and "requeued 2 dead letters" in result.stdout
    result = run("dead-letters", str(path))
    assert result.exit_code == 0 and "0 dead letters" in result.stdout
    status = json.loads(run("status", str(path), "--output-format", "json").stdout)
    assert (status["pending"], status["dead_letters"]) == (3, 0)


def test_replay_delivers_with_token_from_env(tmp_path: Path, emu: EmulatorHandle) -> None:
    path = make_outbox(tmp_path / "o.sqlite", pending=5)
    result = run("replay", str(path), "--endpoint", emu.url, env={TOKEN_ENV: TOKEN})
    assert result.exit_code == 0, result.output
    assert "replayed 5 events: 5 delivered in 1 request," in result.stdout
    assert sorted(r["event"]["event_id"] for r in emu.received()) == [f"ev-{i}" for i in range(5)]
    assert TOKEN not in result.output
    status = json.loads(run("status", str(path), "--output-format", "json").stdout)
    assert status["pending"] == 0


def test_replay_with_mounted_secret(tmp_path: Path, emu: EmulatorHandle) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "meta_token").write_text(TOKEN + "\n", encoding="utf-8")
    dest = Destination(PIXEL, VERSION, SecretRef.secret("meta_token"))
    path = make_outbox(tmp_path / "o.sqlite", pending=2, dest=dest)
    result = run(
        "replay", str(path), "--endpoint", emu.url, "--secrets-dir", str(secrets),
        "--output-format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sent"] == 2


def test_replay_with_wrong_or_missing_token(tmp_path: Path, emu: EmulatorHandle) -> None:
    path = make_outbox(tmp_path / "o.sqlite", pending=2)
    result = run("replay", str(path), "--endpoint", emu.url, env={TOKEN_ENV: "EAAGwrong123"})
    assert result.exit_code == 2
    assert f'env("{TOKEN_ENV}")' in result.stderr and "EAAGwrong123" not in result.output
    result = run("replay", str(path), "--endpoint", emu.url, env={TOKEN_ENV: None})  # type: ignore[dict-item]
    assert result.exit_code == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("capic outbox: ") and "is not set" in last
    assert f'env("{TOKEN_ENV}")' in last and "Traceback" not in result.output
    with Outbox(path, readonly=True) as outbox:
        assert outbox.pending_count() == 2


def test_replay_dead_letters_bad_events(tmp_path: Path, emu: EmulatorHandle) -> None:
    path = tmp_path / "o.sqlite"
    with Outbox(path) as outbox:
        outbox.append([item(1), item(2, user_data={"em": "raw"})])
    result = run("replay", str(path), "--endpoint", emu.url, env={TOKEN_ENV: TOKEN})
    assert result.exit_code == 1
    assert "1 delivered" in result.stdout and "1 dead-lettered" in result.stdout
    assert "dead-lettered" in result.stderr  # the deliverer's log line
    assert [r["event"]["event_id"] for r in emu.received()] == ["ev-1"]


def test_replay_against_unreachable_endpoint_keeps_events(tmp_path: Path) -> None:
    path = make_outbox(tmp_path / "o.sqlite", pending=2)
    with start() as handle:
        url = handle.url
    # Nothing listens any more: every attempt fails, the events stay for the next replay.
    result = CliRunner().invoke(
        cli,
        ["outbox", "replay", str(path), "--endpoint", url, "--max-attempts", "2"],
        env={TOKEN_ENV: TOKEN},
    )
    assert result.exit_code == 1, result.output
    assert "2 still pending" in result.stdout
