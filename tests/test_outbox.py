"""The outbox: durable queue, dead letters, status, and what never goes into the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from capic.runtime.delivery import Destination, Outbox, OutboxError
from capic.runtime.secrets import SecretRef
from tests.conftest_delivery import PIXEL, TOKEN, VERSION, destination, event


def body(i: int) -> bytes:
    return orjson.dumps(event(i))


def file_bytes(path: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            data += p.read_bytes()
    return data


def test_add_pending_ack_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    dest = destination()
    with Outbox(path) as outbox:
        ids = [outbox.add(dest, body(i), f"ev-{i}") for i in range(5)]
        outbox.commit()
        rows = outbox.pending(10)
        assert [r.id for r in rows] == ids
        assert rows[0].destination == dest
        assert rows[0].body == body(0) and rows[0].event_id == "ev-0"
        outbox.ack(ids[:2])
        outbox.ack([ids[4]])
        assert [r.event_id for r in outbox.pending(10)] == ["ev-2", "ev-3"]
    with Outbox(path) as again:
        assert again.pending_count() == 2
        assert again.max_id() == ids[3]


def test_adds_are_durable_after_commit_only(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    outbox = Outbox(path)
    outbox.add(destination(), body(1), "ev-1")
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
    outbox.commit()
    assert reader.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 1
    reader.close()
    outbox.close()
    outbox.close()  # idempotent


def test_add_many_and_paging(tmp_path: Path) -> None:
    a, b = destination(), destination("999")
    with Outbox(tmp_path / "o.sqlite") as outbox:
        ids_a = outbox.add_many(a, [(body(i), f"a-{i}") for i in range(5)])
        ids_b = outbox.add_many(b, [(body(i), None) for i in range(3)])
        outbox.commit()
        assert ids_a == sorted(ids_a) and ids_b[0] > ids_a[-1]
        assert [r.id for r in outbox.pending(2)] == ids_a[:2]
        assert [r.id for r in outbox.pending(10, after_id=ids_a[3])] == [ids_a[4], *ids_b]
        assert [r.id for r in outbox.pending(10, upto_id=ids_a[1])] == ids_a[:2]
        assert [r.id for r in outbox.pending(10, destination=b)] == ids_b
        assert outbox.pending(10, destination=destination("555")) == []


def test_dead_letter_and_requeue(tmp_path: Path) -> None:
    dest = destination(test_event_code="TEST1")
    with Outbox(tmp_path / "o.sqlite") as outbox:
        ids = outbox.add_many(dest, [(body(i), f"ev-{i}") for i in range(4)])
        moved = outbox.dead_letter(ids[1:3], 100, 2804016, "User Parameter Not Hashed", "Atr")
        assert moved == 2
        assert outbox.pending_count() == 2
        letters = outbox.dead_letters()
        assert [d.event_id for d in letters] == ["ev-1", "ev-2"]
        first = letters[0]
        assert (first.code, first.subcode, first.fbtrace_id) == (100, 2804016, "Atr")
        assert first.message == "User Parameter Not Hashed"
        assert first.event_name == "Purchase"
        assert first.destination == dest
        as_json = first.to_json()
        assert as_json["event"]["event_id"] == "ev-1"
        assert as_json["test_event_code"] == "TEST1"
        assert len(outbox.dead_letters(limit=1)) == 1
        status = outbox.status()
        assert (status["pending"], status["dead_letters"]) == (2, 2)
        assert outbox.requeue_dead_letters([letters[0].id]) == 1
        assert outbox.requeue_dead_letters() == 1
        assert outbox.dead_letter_count() == 0
        assert sorted(r.event_id or "" for r in outbox.pending(10)) == [f"ev-{i}" for i in range(4)]


def test_ack_of_scattered_ids(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        ids = outbox.add_many(destination(), [(body(i), f"ev-{i}") for i in range(6)])
        outbox.ack([ids[5], ids[0], ids[2]])
        assert [r.event_id for r in outbox.pending(10)] == ["ev-1", "ev-3", "ev-4"]
        outbox.ack([])


def test_status_per_destination(tmp_path: Path) -> None:
    a = destination()
    b = Destination("42", VERSION, SecretRef.secret("meta_token"), "TEST9")
    with Outbox(tmp_path / "o.sqlite") as outbox:
        outbox.add_many(a, [(body(i), None) for i in range(3)])
        ids = outbox.add_many(b, [(body(i), None) for i in range(2)])
        outbox.dead_letter(ids[:1], 100, None, "bad", None)
        status = outbox.status()
    assert status["pending"] == 4 and status["dead_letters"] == 1
    by_pixel = {d["pixel_id"]: d for d in status["destinations"]}
    assert by_pixel[PIXEL]["pending"] == 3 and by_pixel[PIXEL]["token"] == 'env("CAPIC_TEST_TOKEN")'
    assert by_pixel["42"]["token"] == 'secret("meta_token")'
    assert by_pixel["42"]["test_event_code"] == "TEST9"
    assert (by_pixel["42"]["pending"], by_pixel["42"]["dead_letters"]) == (1, 1)
    assert by_pixel[PIXEL]["oldest_pending"] is not None


def test_token_never_stored_even_as_a_literal(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    literal = Destination(PIXEL, VERSION, SecretRef.literal(TOKEN))
    with Outbox(path) as outbox:
        outbox.add_many(literal, [(body(i), f"ev-{i}") for i in range(3)])
        outbox.commit()
        assert TOKEN.encode() not in file_bytes(path)
        stored = outbox.pending(1)[0].destination
        assert stored.token.is_redacted and stored.batch_key == literal.batch_key
    assert TOKEN.encode() not in file_bytes(path)
    with Outbox(path) as again:
        assert again.pending(1)[0].destination.token.describe() == "<literal>"


def test_memory_outbox() -> None:
    with Outbox(":memory:") as outbox:
        outbox.add(destination(), body(1), "ev-1")
        assert outbox.pending_count() == 1


def test_open_existing_only(tmp_path: Path) -> None:
    with pytest.raises(OutboxError, match="no outbox at"):
        Outbox(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()


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


def test_reader_sees_destinations_added_after_it_opened(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    with Outbox(path) as writer, Outbox(path, create=False) as reader:
        writer.add(destination("31"), body(1), "ev-1")
        writer.commit()
        assert reader.pending(5)[0].destination == destination("31")
        assert reader.status()["destinations"][0]["pixel_id"] == "31"
