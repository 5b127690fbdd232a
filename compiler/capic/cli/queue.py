"""``capic queue status|dead-letters|requeue URL``: the Redis queue, for operators."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any, NoReturn

import click
import orjson

from capic.cli.options import missing_extra

_FORMAT = click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the result.",
)
_URL = click.argument("url", envvar="CAPIC_QUEUE")
_ONLY = click.option(
    "--only",
    multiple=True,
    help="Only this queue: PROJECT:ENV, or PROJECT for all its environments (repeat).",
)


def _fail(message: str) -> NoReturn:
    click.echo(f"capic queue: {message}", err=True)
    raise SystemExit(2)


def _echo_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return _dt.datetime.fromtimestamp(timestamp, tz=_dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _with_queue(url: str, only: tuple[str, ...], work: Callable[[Any, Any, str], Any]) -> Any:
    """Connect, find the namespaces, run ``work(client, namespaces, where)``; one-line errors."""
    try:
        from capic.queue.connection import QueueURL, connect
        from capic.queue.ops import namespaces
        from capic.runtime.delivery.queue import QueueError
    except ImportError as exc:
        _fail(missing_extra("queue", "queue", exc))
    try:
        parsed = QueueURL.parse(url)
        client = connect(parsed)
    except QueueError as exc:
        _fail(str(exc))
    where = str(parsed)
    try:
        found = namespaces(client, where, only)
        if only and not found:
            _fail(f"no queue named {', '.join(only)} on {where}")
        return work(client, found, where)
    except QueueError as exc:
        _fail(str(exc))
    finally:
        client.close()


@click.group(name="queue")
def command() -> None:
    """Inspect the Redis queue of serve nodes and workers (capic[queue])."""


@command.command(name="status")
@_URL
@_ONLY
@click.option("--group", default=None, help="Show only this consumer group.")
@_FORMAT
def status(url: str, only: tuple[str, ...], group: str | None, output_format: str) -> None:
    """Lag and pending entries per queue, partition and consumer group (from XINFO).

    lag: entries the group has not read yet (scale workers out when it grows); pending: read
    by a worker and not yet acked (a consumer holding many for a long idle time is stuck or
    dead: the others claim its entries)."""
    from capic.queue.ops import dead_letter_count, partition_status

    def work(client: Any, spaces: Any, where: str) -> list[dict[str, Any]]:
        out = []
        for ns in spaces:
            parts = partition_status(client, ns, where)
            for part in parts:
                part.groups[:] = [g for g in part.groups if group is None or g.name == group]
            out.append(
                {
                    "queue": ns.name,
                    "partitions": [part.to_json() for part in parts],
                    "dead_letters": dead_letter_count(client, ns, where),
                }
            )
        return out

    queues = _with_queue(url, only, work)
    if output_format == "json":
        _echo_json(queues)
        return
    if not queues:
        click.echo("no queues yet (a serve node registers its queue when it starts)")
    for q in queues:
        length = sum(p["length"] for p in q["partitions"])
        click.echo(
            f"{q['queue']}: {_plural(length, 'event')} queued in "
            f"{_plural(len(q['partitions']), 'partition')}, "
            f"{_plural(q['dead_letters'], 'dead letter')}"
        )
        for part in q["partitions"]:
            groups = part["groups"] or [{"name": "-", "lag": None, "pending": 0, "consumers": []}]
            for g in groups:
                lag = "?" if g["lag"] is None else f"{g['lag']:,}"
                members = ", ".join(
                    f"{c['name']} {c['pending']:,} pending, idle {c['idle']:.1f}s"
                    for c in g["consumers"]
                )
                click.echo(
                    f"  partition {part['partition']}: {part['length']:,} queued; group "
                    f"{g['name']}: lag {lag}, {g['pending']:,} pending"
                    + (f" ({members})" if members else "")
                )


@command.command(name="dead-letters")
@_URL
@_ONLY
@click.option("--limit", type=click.IntRange(1), default=None, help="Show at most N per queue.")
@_FORMAT
def dead_letters(url: str, only: tuple[str, ...], limit: int | None, output_format: str) -> None:
    """List the events given up, with Meta's error (exit 1 when there are any)."""
    from capic.queue.ops import dead_letter_count, read_dead_letters

    def work(client: Any, spaces: Any, where: str) -> list[tuple[str, Any, int]]:
        return [
            (
                ns.name,
                read_dead_letters(client, ns, where, limit),
                dead_letter_count(client, ns, where),
            )
            for ns in spaces
        ]

    found = _with_queue(url, only, work)
    total = sum(count for _, _, count in found)
    if output_format == "json":
        _echo_json(
            [
                {**letter.to_json(), "queue": name}
                for name, letters, _ in found
                for letter in letters
            ]
        )
    else:
        for name, letters, count in found:
            for letter in letters:
                r = letter.reason
                code = (
                    "-"
                    if r.code is None
                    else (f"{r.code}/{r.subcode}" if r.subcode else f"{r.code}")
                )
                pixel = letter.item.destination.pixel_id if letter.item else "?"
                event_id = letter.item.event_id if letter.item else "-"
                click.echo(
                    f"{name} {letter.id} pixel {pixel} {letter.event_name or '?'} "
                    f"event_id={event_id} code {code} fbtrace_id={r.fbtrace_id or '-'} "
                    f"handed out {letter.deliveries + 1}x, failed {_when(letter.failed)}"
                )
                click.echo(f"    {r.message}")
            if len(letters) < count:
                click.echo(f"{name}: showing {len(letters)} of {count:,}")
        click.echo(_plural(total, "dead letter"))
    if total:
        raise SystemExit(1)


@command.command(name="requeue")
@_URL
@_ONLY
@click.option("--id", "ids", multiple=True, help="Requeue only this dead letter (repeat).")
@_FORMAT
def requeue(url: str, only: tuple[str, ...], ids: tuple[str, ...], output_format: str) -> None:
    """Put dead letters back in their partitions (after fixing the cause); workers deliver
    them again with the same event_id."""
    from capic.queue.ops import requeue as requeue_letters

    def work(client: Any, spaces: Any, where: str) -> int:
        return sum(requeue_letters(client, ns, where, ids or None) for ns in spaces)

    count = _with_queue(url, only, work)
    if output_format == "json":
        _echo_json({"requeued": count})
    else:
        click.echo(f"requeued {_plural(count, 'dead letter')}")
