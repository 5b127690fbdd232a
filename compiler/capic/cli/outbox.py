from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
import orjson

if TYPE_CHECKING:
    from capic.runtime.delivery import Outbox

_FORMAT = click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the result.",
)
_PATH = click.argument("path", type=click.Path(path_type=Path))


def _fail(message: str) -> NoReturn:
    click.echo(f"capic outbox: {message}", err=True)
    raise SystemExit(2)


def _open(path: Path, *, readonly: bool = False) -> Outbox:
    from capic.runtime.delivery import Outbox, OutboxError

    if path.is_dir():
        _fail(f"{path} is a directory; give one outbox file (capic outbox status lists them)")
    try:
        return Outbox(path, create=False, readonly=readonly)
    except OutboxError as exc:
        _fail(str(exc))


def _echo_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    moment = _dt.datetime.fromtimestamp(timestamp, tz=_dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@click.group(name="outbox")
def command() -> None:
    """Inspect and replay the delivery outbox (a SQLite file of undelivered events)."""


def _status_lines(path: Path, info: dict[str, Any]) -> list[str]:
    lines = [f"{path}: {info['pending']:,} pending, {_plural(info['dead_letters'], 'dead letter')}"]
    for dest in info["destinations"]:
        test = f" test_event_code={dest['test_event_code']}" if dest["test_event_code"] else ""
        secret = f" app_secret {dest['app_secret']}" if dest.get("app_secret") else ""
        lines.append(
            f"  pixel {dest['pixel_id']} {dest['api_version']}{test} token {dest['token']}"
            f"{secret}: {dest['pending']:,} pending (oldest {_when(dest['oldest_pending'])}), "
            f"{_plural(dest['dead_letters'], 'dead letter')}"
        )
    for item in info.get("inputs", ()):
        committed = _plural(item["lines"], "line")
        if item["kind"] != "file":  # a stream: how many lines are durable
            state = "ended" if item["finished"] else "did not end (stopped or killed)"
            lines.append(
                f"  input {item['name']}: {committed} committed, started "
                f"{_when(item['started'])}, {state}; last commit {_when(item['updated'])}"
            )
        else:
            lines.append(
                f"  input {item['name']}: checkpoint after {committed} (the same capic run "
                f"resumes there; --from-start reads it all again), {_when(item['updated'])}"
            )
    return lines


@command.command(name="status")
@_PATH
@_FORMAT
def status(path: Path, output_format: str) -> None:
    """Show pending events, dead letters and input checkpoints, per destination.

    PATH is an outbox file, or a directory (such as .capic_outbox) whose outboxes are listed.
    Status only reads: it works while a run uses the outbox."""
    if not path.exists():
        _fail(f"no outbox at {path}")
    paths = sorted(path.glob("*.sqlite")) if path.is_dir() else [path]
    infos: list[tuple[Path, dict[str, Any]]] = []
    for one in paths:
        outbox = _open(one, readonly=True)
        try:
            infos.append((one, outbox.status()))
        finally:
            outbox.close()
    if output_format == "json":
        _echo_json([info for _, info in infos] if path.is_dir() else infos[0][1])
        return
    if not infos:
        click.echo(f"{path}: no outboxes")
    for one, info in infos:
        for line in _status_lines(one, info):
            click.echo(line)


@command.command(name="replay")
@_PATH
@click.option(
    "--endpoint",
    default="https://graph.facebook.com",
    show_default=True,
    help="Graph API base URL (e.g. a local emulator).",
)
@click.option(
    "--secrets-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of mounted secrets for secret(...) token references.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1),
    default=30.0,
    show_default=True,
    help="Seconds to wait for each request.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Requests per batch before a failing destination is left for a later replay.",
)
@_FORMAT
def replay(
    path: Path,
    endpoint: str,
    secrets_dir: Path | None,
    timeout: float,
    max_attempts: int,
    output_format: str,
) -> None:
    """Deliver the pending events. Tokens come from the references stored with each
    destination (environment variables or mounted secrets)."""
    from capic.runtime.delivery import DeliveryEngine, GraphTransport, RetryPolicy

    outbox = _open(path)
    log = None if output_format == "json" else (lambda line: click.echo(line, err=True))
    transport = GraphTransport(endpoint, timeout=timeout)
    engine = DeliveryEngine(
        outbox,
        transport=transport,
        policy=RetryPolicy(max_attempts=max_attempts),
        secrets_dir=secrets_dir,
        log=log,
    )
    engine.start()
    try:
        engine.drain(None)
    finally:
        engine.stop(5.0)
        transport.close()
        outbox.close()
    if engine.stopped_reason is not None:
        _fail(engine.stopped_reason)
    stats = engine.stats.snapshot()
    if output_format == "json":
        _echo_json(stats.to_json())
    else:
        click.echo(
            f"replayed {_plural(stats.recovered, 'event')}: {stats.sent:,} delivered in "
            f"{_plural(stats.batches, 'request')}, {stats.dead_lettered:,} dead-lettered, "
            f"{stats.deferred:,} still pending"
        )
    if stats.dead_lettered or stats.deferred:
        raise SystemExit(1)


@command.command(name="dead-letters")
@_PATH
@_FORMAT
@click.option("--requeue", is_flag=True, help="Move every dead letter back to the outbox.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Show at most N.")
def dead_letters(path: Path, output_format: str, requeue: bool, limit: int | None) -> None:
    """List the events Meta rejected, with its reasons (exit 1 when there are any).

    With --requeue, put them back in the outbox for the next replay (after fixing the cause).
    """
    outbox = _open(path, readonly=not requeue)
    try:
        if requeue:
            count = outbox.requeue_dead_letters()
            if output_format == "json":
                _echo_json({"requeued": count})
            else:
                click.echo(f"requeued {_plural(count, 'dead letter')}")
            return
        letters = outbox.dead_letters(limit)
        total = outbox.dead_letter_count()
    finally:
        outbox.close()
    if output_format == "json":
        _echo_json([letter.to_json() for letter in letters])
    else:
        for letter in letters:
            codes = f"{letter.code}/{letter.subcode}" if letter.subcode else f"{letter.code}"
            click.echo(
                f"#{letter.id} pixel {letter.destination.pixel_id} "
                f"{letter.event_name or '?'} event_id={letter.event_id or '-'} "
                f"code {codes} fbtrace_id={letter.fbtrace_id or '-'} at {_when(letter.failed)}"
            )
            click.echo(f"    {letter.message}")
        shown = f" (showing {len(letters)})" if len(letters) < total else ""
        click.echo(f"{_plural(total, 'dead letter')}{shown}")
    if total:
        raise SystemExit(1)
