"""The SQLite outbox: what only this backend does (the queue contract is tests/queue_contract.py):
the single-writer lock, the 0.1.0 upgrade, a full disk, input checkpoints, what never goes in."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

from capic.runtime.delivery import (
    Destination,
    GroupCommitter,
    InputProgress,
    Outbox,
    OutboxError,
    OutboxLocked,
    QueueFull,
)
from capic.runtime.secrets import SecretRef
from tests.conftest import REPO
from tests.conftest_delivery import PIXEL, TOKEN, VERSION, destination, fill, item

UPGRADE = REPO / "tests" / "data" / "upgrade" / "outbox-0.1.0.sqlite"


def file_bytes(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{path}{suffix}").exists()
    )


# -- one process per outbox --------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys, time
    from capic.runtime.delivery import Outbox
    outbox = Outbox(sys.argv[1])
    print("locked", flush=True)
    time.sleep(60)
    """
)


def hold(path: Path, tmp_path: Path) -> subprocess.Popen[str]:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO / "compiler"))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_process_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    proc = hold(path, tmp_path)
    try:
        with pytest.raises(OutboxLocked) as info:
            Outbox(path)
        message = str(info.value)
        assert f"pid {proc.pid}" in message and "holder.py" in message
        assert "\n" not in message
        with Outbox(path, create=False, readonly=True) as reader:  # status still works
            assert reader.status()["pending"] == 0
    finally:
        proc.send_signal(signal.SIGKILL)  # the kernel releases the lock of a killed process
        proc.wait()
    with Outbox(path) as outbox:
        outbox.append([item(1)])
        assert outbox.depth() == 1


def test_one_outbox_object_per_file_in_a_process_too(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    with Outbox(path), pytest.raises(OutboxLocked, match=f"pid {os.getpid()}"):
        Outbox(path)
    with Outbox(path):  # released by close()
        pass


# -- what goes in ------------------------------------------------------------------------------


def test_status_per_destination_with_references_only(tmp_path: Path) -> None:
    a = destination()
    b = Destination("42", VERSION, SecretRef.secret("meta_token"), "TEST9", SecretRef.env("APP"))
    with Outbox(tmp_path / "o.sqlite") as outbox:
        fill(outbox, [item(i, b) for i in range(2)] + [item(i, a) for i in range(3)], dead=1)
        status = outbox.status()
    assert status["pending"] == 4 and status["dead_letters"] == 1
    by_pixel = {d["pixel_id"]: d for d in status["destinations"]}
    assert by_pixel[PIXEL]["pending"] == 3 and by_pixel[PIXEL]["token"] == 'env("CAPIC_TEST_TOKEN")'
    assert by_pixel["42"]["token"] == 'secret("meta_token")'
    assert by_pixel["42"]["app_secret"] == 'env("APP")'
    assert by_pixel["42"]["test_event_code"] == "TEST9"
    assert (by_pixel["42"]["pending"], by_pixel["42"]["dead_letters"]) == (1, 1)


def test_secrets_never_stored_even_as_literals(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    app_secret = "appSECRETvalue987"
    literal = Destination(
        PIXEL, VERSION, SecretRef.literal(TOKEN), None, SecretRef.literal(app_secret)
    )
    with Outbox(path) as outbox:
        outbox.append([item(i, literal) for i in range(3)])
        [lease, *_] = outbox.lease(3, 0.0)
        stored = lease.item.destination
        assert stored.token.is_redacted and stored.app_secret is not None
        assert stored.app_secret.is_redacted and stored.batch_key == literal.batch_key
    data = file_bytes(path)
    assert TOKEN.encode() not in data and app_secret.encode() not in data


def test_requeue_dead_letters(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        fill(outbox, [item(i) for i in range(4)], dead=2)
        letters = outbox.dead_letters()
        assert [d.event_id for d in letters] == ["ev-0", "ev-1"]
        assert letters[0].event_name == "Purchase" and letters[0].to_json()["subcode"] == 2804016
        assert outbox.requeue_dead_letters([letters[0].id]) == 1
        assert outbox.requeue_dead_letters() == 1
        assert outbox.dead_letter_count() == 0 and outbox.depth() == 4
        ids = []
        while leases := outbox.lease(10, 0.0):
            ids += [lease.item.event_id for lease in leases]
        assert sorted(ids) == [f"ev-{i}" for i in range(4)]


def test_memory_outbox() -> None:
    with Outbox(":memory:") as outbox:
        outbox.append([item(1)])
        assert outbox.depth() == 1


def test_open_existing_only(tmp_path: Path) -> None:
    with pytest.raises(OutboxError, match="no outbox at"):
        Outbox(tmp_path / "missing.sqlite", create=False)
    assert list(tmp_path.iterdir()) == []  # not even a lock file


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a database at all, just some text " * 40, "not a readable capic outbox"),
        (b"", "not a capic outbox"),
    ],
)
def test_corrupt_or_empty_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.sqlite"
    path.write_bytes(content)
    with pytest.raises(OutboxError, match=message):
        Outbox(path, create=False)


def test_other_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    with pytest.raises(OutboxError, match="not a capic outbox"):
        Outbox(path)


def test_a_reader_sees_what_the_writer_commits(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    with Outbox(path) as writer, Outbox(path, create=False, readonly=True) as reader:
        writer.append([item(1, destination("31"))])
        status = reader.status()
        assert status["pending"] == 1 and status["destinations"][0]["pixel_id"] == "31"
        with pytest.raises(OutboxError, match="read-only"):
            reader.append([item(2)])


# -- a full disk -------------------------------------------------------------------------------


def test_a_full_file_refuses_the_append_and_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    with Outbox(path, max_bytes=64 * 1024) as outbox:
        stored = 0
        with pytest.raises(QueueFull) as info:
            for n in range(1000):
                outbox.append([item(n * 10 + k) for k in range(10)])
                stored += 10
        assert info.value.retry_after > 0 and "full" in str(info.value)
        assert stored > 0 and outbox.depth() == stored == outbox.pending_count()
        # A new destination in the failed transaction is not half-remembered.
        with pytest.raises(QueueFull):
            outbox.append([item(i, destination("999")) for i in range(50)])
        outbox.ack(outbox.lease(stored, 0.0))  # delivery makes room
        outbox.append([item(i, destination("999")) for i in range(10)])
        assert [lease.item.destination.pixel_id for lease in outbox.lease(10, 0.0)] == ["999"] * 10


def test_group_commit_reports_a_full_disk_to_every_waiter(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite", max_bytes=32 * 1024) as outbox:
        committer = GroupCommitter(outbox, max_delay=0.05)
        futures = [committer.submit([item(n * 100 + k) for k in range(100)]) for n in range(20)]
        errors = [f.exception(timeout=10) for f in futures]
        committer.close()
        full = [e for e in errors if e is not None]
        assert full and all(isinstance(e, QueueFull) for e in full)
        ok = sum(100 for e in errors if e is None)
        assert outbox.depth() == ok  # never a falsely acknowledged event


# -- inputs ------------------------------------------------------------------------------------


def test_input_progress_is_committed_with_the_events(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    mark = InputProgress("file:abc", "events.jsonl", 120, 3, time_offset=60)
    with Outbox(path) as outbox:
        outbox.append_at([item(1)], [mark])
        outbox.begin_input(InputProgress("stdin", "standard input", 0, 0, kind="stdin"))
        outbox.append_at([], [InputProgress("stdin", "standard input", 50, 7, kind="stdin")])
    with Outbox(path, readonly=True) as reader:
        assert reader.checkpoint("file:abc") == mark
        [stdin] = [i for i in reader.inputs() if i["kind"] == "stdin"]
        assert (stdin["lines"], stdin["finished"]) == (7, False)
    with Outbox(path) as outbox:
        outbox.append_at([item(2)], [InputProgress("file:abc", "events.jsonl", 200, 5, True)])
        assert outbox.checkpoint("file:abc") is None  # a finished file leaves none
        outbox.append_at([], [mark])
        outbox.forget_input("file:abc")
        assert outbox.checkpoint("file:abc") is None


# -- upgrades ----------------------------------------------------------------------------------


def test_a_0_1_0_outbox_is_upgraded_in_place(tmp_path: Path) -> None:
    path = Path(shutil.copy(UPGRADE, tmp_path / "old.sqlite"))
    with Outbox(path, readonly=True) as reader:  # reading never upgrades
        assert reader.version == 1 and reader.status()["pending"] == 434
    with Outbox(path) as outbox:
        assert outbox.version == 2 and outbox.depth() == 434
        leases = outbox.lease(1000, 0.0)
    assert len(leases) == 434
    assert all(
        lease.item.destination.token.describe() == 'env("META_CAPI_TOKEN")' for lease in leases
    )
    for lease in leases:  # every row has an id, in the stored body too (retries keep it)
        assert lease.item.event_id
        assert orjson.loads(lease.item.body)["event_id"] == lease.item.event_id
    with Outbox(path) as again:
        assert again.version == 2
        assert sorted(lease.item.event_id for lease in again.lease(1000, 0.0)) == sorted(
            lease.item.event_id for lease in leases
        )
