"""``capic serve`` as a process: refusing to start without a token, bundle activation (signature,
reload on SIGHUP and on file change, keep-last-good), SIGTERM drain, a full backlog, a full
disk, and development mode (a project recompiled when its files change)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import in_ci
from tests.serve_harness import (
    CAPIC,
    SHOP,
    base_env,
    build_bundle,
    emulator,
    free_port,
    purchase,
    service,
)

pytestmark = pytest.mark.slow


def _wait(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _copy_shop(tmp: Path) -> Path:
    project = tmp / "shop"
    shutil.copytree(SHOP, project)
    return project


def test_refuses_to_start_without_an_ingest_token(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    env = base_env()
    env.pop("SHOP_INGEST_TOKEN")
    done = subprocess.run(
        [*CAPIC, "serve", "--bundle", str(bundle), "--port", str(free_port()),
         "--admin-port", str(free_port()), "--outbox", str(tmp_path / "o.sqlite")],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "SHOP_INGEST_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


def test_insecure_no_auth_and_the_capic_ingest_token_fallback(tmp_path: Path) -> None:
    project = _copy_shop(tmp_path)
    text = (project / "shop.capi").read_text()
    (project / "shop.capi").write_text(
        text.replace('  ingest_tokens   = env("SHOP_INGEST_TOKEN")\n', "")
    )
    bundle = build_bundle(tmp_path, project=project)
    args = [
        "--bundle", str(bundle), "--endpoint", "http://127.0.0.1:9", "--drain-timeout", "0",
        "--outbox", str(tmp_path / "a.sqlite"),
    ]  # fmt: skip
    with service(tmp_path, args, env={"CAPIC_INGEST_TOKEN": "fallback-token"}) as svc:
        ok = svc.post("/v1/events", purchase(1), headers={"authorization": "Bearer fallback-token"})
        assert ok.status_code == 202
    # The same deployment from CAPIC_* variables alone (as a container is configured).
    variables = {
        "CAPIC_BUNDLE": str(bundle),
        "CAPIC_ENDPOINT": "http://127.0.0.1:9",
        "CAPIC_DRAIN_TIMEOUT": "0",
        "CAPIC_OUTBOX": str(tmp_path / "b.sqlite"),
        "CAPIC_INSECURE_NO_AUTH": "1",
        "CAPIC_MAX_EVENTS": "2",
    }
    with service(tmp_path, [], env=variables) as svc:
        assert svc.post("/v1/events", purchase(2), token=False).status_code == 202
        too_many = svc.post("/v1/events", [purchase(3)] * 3, token=False)
        assert too_many.status_code == 413
    assert (tmp_path / "b.sqlite").exists()


def test_the_default_outbox_folder_is_kept_out_of_git(tmp_path: Path) -> None:
    # As capic run does: undelivered (hashed) events never end up committed by accident.
    bundle = build_bundle(tmp_path)
    args = ["--bundle", str(bundle), "--endpoint", "http://127.0.0.1:9", "--drain-timeout", "0"]
    with service(tmp_path, args) as svc:
        assert svc.post("/v1/events", purchase(1)).status_code == 202
    folder = tmp_path / ".capic_outbox"
    assert (folder / "serve-default.sqlite").exists()
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_second_process_on_the_same_outbox_is_refused(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    outbox = tmp_path / "shared.sqlite"
    args = [
        "--bundle", str(bundle), "--endpoint", "http://127.0.0.1:9", "--outbox", str(outbox),
        "--drain-timeout", "0",
    ]  # fmt: skip
    with service(tmp_path, args) as first:
        second = subprocess.run(
            [*CAPIC, "serve", *args, "--port", str(free_port()), "--admin-port", str(free_port())],
            capture_output=True, text=True, env=first.env, timeout=60, check=False,
        )  # fmt: skip
        assert second.returncode == 2
        assert str(first.proc.pid if first.proc else "") in second.stderr
        assert "Traceback" not in second.stderr


def test_signed_bundles_reload_keep_last_good_and_never_drop_in_flight_events(
    tmp_path: Path,
) -> None:
    from capic.bundle.sign import generate_keypair

    private, public = generate_keypair(tmp_path / "keys")
    project = _copy_shop(tmp_path)
    env = base_env()

    def build(tag: str) -> Path:
        out = tmp_path / f"dist-{tag}"
        done = subprocess.run(
            [*CAPIC, "build", str(project), "--env", "production", "-o", str(out),
             "--sign-key", str(private)],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return Path(done.stdout.strip().splitlines()[-1])

    live = tmp_path / "live.tar.gz"
    shutil.copy(build("v1"), live)
    with emulator(tmp_path) as emu:
        args = [
            "--bundle", str(live), "--key", str(public), "--env", "production",
            "--endpoint", emu.url, "--outbox", str(tmp_path / "o.sqlite"),
            "--watch-interval", "0.2", "--max-age", "0.05",
        ]  # fmt: skip
        with service(tmp_path, args) as svc:
            first = svc.metrics()
            assert 'result="activated"' not in first

            # A new revision (PageView now also reads event.page) replaces the file: reloaded.
            text = (project / "shop.capi").read_text()
            (project / "shop.capi").write_text(
                text.replace('?? "https://shop.example.com/"', '?? "https://shop.example.com/v2"')
            )
            v2 = build("v2")
            tmp_copy = tmp_path / "live.tmp"
            shutil.copy(v2, tmp_copy)
            os.replace(tmp_copy, live)
            _wait(lambda: 'capic_bundle_reloads_total{result="activated"} 1.0' in svc.metrics())

            # An unsigned bundle is refused; the signed v2 stays active.
            unsigned = build_bundle(tmp_path, project=project)
            shutil.copy(unsigned, tmp_copy)
            os.replace(tmp_copy, live)
            _wait(lambda: 'capic_bundle_reloads_total{result="kept"}' in svc.metrics())
            assert "signature" in svc.stderr.read_text()
            assert httpx.get(f"{svc.admin}/readyz").status_code == 200

            # A corrupt file, then SIGHUP: kept again, and events keep flowing meanwhile.
            live.write_bytes(b"not a bundle")
            svc.signal(signal.SIGHUP)
            _wait(lambda: 'capic_bundle_reloads_total{result="kept"} 2.0' in svc.metrics())
            reply = svc.post(
                "/v1/events",
                {
                    "event": {"name": "PageView", "id": "after-bad"},
                    "request": {"ip": "203.0.113.8", "headers": {"user-agent": "UA/1"}},
                },
            )
            assert reply.status_code == 202 and reply.json()["accepted"] == 1
            _wait(lambda: "after-bad" in emu.event_ids())
            sent = {i["event"]["event_id"]: i["event"] for i in emu.received()}
            assert sent["after-bad"]["event_source_url"] == "https://shop.example.com/v2"

            # Reloads while events are being posted lose none of them.
            shutil.copy(v2, live)
            posted = []
            for i in range(40):
                if i % 10 == 5:
                    svc.signal(signal.SIGHUP)
                reply = svc.post("/v1/events", purchase(1000 + i))
                assert reply.status_code == 202
                posted.append(f"p-{1000 + i}")
            _wait(lambda: set(posted) <= set(emu.event_ids()))


def test_sigterm_drains_and_a_restart_resumes_the_rest(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    outbox = tmp_path / "o.sqlite"
    with emulator(tmp_path, "--latency", "0.2") as emu:
        args = [
            "--bundle", str(bundle), "--endpoint", emu.url, "--outbox", str(outbox),
            "--drain-timeout", "0.5", "--max-batch", "10", "--max-age", "0.01",
        ]  # fmt: skip
        with service(tmp_path, args) as svc:
            body = [purchase(i) for i in range(60)]
            assert svc.post("/v1/events", body).json()["accepted"] == 60
            svc.signal(signal.SIGTERM)
            # While draining, /readyz fails (the admin port stays up until the end).
            with pytest.raises((httpx.HTTPError, AssertionError)):
                for _ in range(50):
                    assert httpx.get(f"{svc.admin}/readyz", timeout=1).status_code == 200
                    time.sleep(0.02)
            assert svc.exit_code() == 0
            err = svc.stderr.read_text()
            assert "left in the outbox" in err
            first = len(set(emu.event_ids()))
            assert 0 < first < 60, first
            svc.start()
            _wait(lambda: len(set(emu.event_ids())) == 60, timeout=30)


def test_503_with_retry_after_when_the_backlog_is_full(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    # Delivery cannot reach Meta (nothing listens): the outbox only grows.
    args = [
        "--bundle", str(bundle), "--endpoint", f"http://127.0.0.1:{free_port()}",
        "--outbox", str(tmp_path / "o.sqlite"), "--max-backlog", "5", "--drain-timeout", "0",
    ]  # fmt: skip
    with service(tmp_path, args) as svc:
        assert svc.post("/v1/events", [purchase(i) for i in range(5)]).status_code == 202
        full = svc.post("/v1/events", [purchase(9)])
        assert full.status_code == 503
        assert int(full.headers["retry-after"]) >= 1
        ready = httpx.get(f"{svc.admin}/readyz")
        assert ready.status_code == 503 and "outbox" in ready.text


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def test_503_when_the_disk_is_full_and_202_once_there_is_room(tmp_path: Path) -> None:
    disk = tmp_path / "small"
    if not _mount_tmpfs(disk, "4m"):
        message = "mounting a small tmpfs needs root (the disk-full test fills a real file system)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    try:
        bundle = build_bundle(tmp_path)
        args = [
            "--bundle", str(bundle), "--endpoint", f"http://127.0.0.1:{free_port()}",
            "--outbox", str(disk / "o.sqlite"), "--drain-timeout", "0",
        ]  # fmt: skip
        with service(tmp_path, args) as svc:
            assert svc.post("/v1/events", [purchase(0)]).status_code == 202
            filler = disk / "filler"
            with filler.open("wb") as fh, __import__("contextlib").suppress(OSError):
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            statuses = [
                svc.post("/v1/events", [purchase(i) for i in range(50)]).status_code
                for _ in range(5)
            ]
            assert 503 in statuses, statuses
            full = svc.post("/v1/events", [purchase(i) for i in range(50)])
            assert full.status_code == 503 and "retry-after" in full.headers
            filler.unlink()
            _wait(lambda: svc.post("/v1/events", [purchase(99)]).status_code == 202)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_development_mode_recompiles_a_changed_project(tmp_path: Path) -> None:
    project = _copy_shop(tmp_path)
    with emulator(tmp_path) as emu:
        args = [
            str(project), "--env", "production", "--endpoint", emu.url,
            "--outbox", str(tmp_path / "o.sqlite"), "--watch-interval", "0.2", "--max-age", "0.05",
        ]  # fmt: skip
        with service(tmp_path, args) as svc:
            page = {
                "event": {"name": "PageView", "id": "dev-1"},
                "request": {"ip": "203.0.113.8", "headers": {"user-agent": "UA/1"}},
            }
            assert svc.post("/v1/events", page).json()["accepted"] == 1
            text = (project / "shop.capi").read_text()
            # A syntax error: kept, still serving.
            (project / "shop.capi").write_text(text + "\nrule {\n")
            _wait(lambda: 'result="kept"' in svc.metrics())
            fixed = text.replace('rule "PageView"', 'rule "PageView2"')
            (project / "shop.capi").write_text(fixed)
            _wait(lambda: 'capic_bundle_reloads_total{result="activated"} 1.0' in svc.metrics())
            page["event"]["id"] = "dev-2"
            assert svc.post("/v1/events", page).json()["accepted"] == 1
            _wait(lambda: "PageView2" in svc.metrics())
            _wait(lambda: {"dev-1", "dev-2"} <= set(emu.event_ids()))


FRONT_END = (
    "lark",
    "jinja2",
    "capic.syntax",
    "capic.lint",
    "capic.codegen",
    "capic.model",
    "capic.api",
)

_PROBE = """
import json, os, signal, sys, threading, time, urllib.request
from capic.cli import main

def probe():
    url = "http://127.0.0.1:" + sys.argv[2] + "/readyz"
    for _ in range(600):
        try:
            if urllib.request.urlopen(url, timeout=1).status == 200:
                break
        except OSError:
            time.sleep(0.05)
    bad = sorted(m for m in sys.modules if m.startswith(tuple(json.loads(sys.argv[3]))))
    with open(sys.argv[4], "w") as fh:
        json.dump(bad, fh)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=probe, daemon=True).start()
main(["serve", "--bundle", sys.argv[1], "--admin-port", sys.argv[2], "--port", sys.argv[5],
      "--outbox", sys.argv[6], "--endpoint", "http://127.0.0.1:9"])
"""


def test_serving_a_bundle_imports_no_compiler_stage(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(bundle), str(free_port()), json.dumps(FRONT_END),
         str(report), str(free_port()), str(tmp_path / "o.sqlite")],
        capture_output=True, text=True, env=base_env(), timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give either PROJECT (development) or --bundle FILE (production)"),
        (["--key", "{bundle}"], "--key verifies a bundle's signature: use it with --bundle"),
        (["--bundle", "{bundle}", "--endpoint", "ftp://x"], "--endpoint must be an http(s) URL"),
        (
            ["--bundle", "{bundle}", "--trusted-proxy", "10.0.0.0/8,proxy"],
            "'proxy' is not an address",
        ),
        (
            ["--bundle", "{bundle}", "--env", "staging"],
            "built for environment 'production', not 'staging'",
        ),
        (["--bundle", "{junk}"], "junk.tar.gz"),
        (["--bundle", "{bundle}", "--port", "{busy}"], "cannot listen on 127.0.0.1:"),
    ],
)
def test_cannot_start_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    bundle = build_bundle(tmp_path)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a bundle")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        values = {"bundle": str(bundle), "junk": str(junk), "busy": str(busy.getsockname()[1])}
        argv = [a.format(**values) for a in args]
        if "--port" not in argv:
            argv += ["--port", str(free_port())]
        done = subprocess.run(
            [*CAPIC, "serve", *argv, "--admin-port", str(free_port()),
             "--outbox", str(tmp_path / "o.sqlite")],
            capture_output=True, text=True, env=base_env(), timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("capic serve: ") and done.stderr.count("\n") == 1, done.stderr
