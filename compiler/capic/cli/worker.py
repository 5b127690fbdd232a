"""``capic worker``: deliver what serve nodes queued in Redis (logic in :mod:`capic.queue`).

Every option has a ``CAPIC_*`` environment variable (shown by ``--help``). Importing this
module needs only click: redis-py and prometheus-client (the ``capic[queue]`` extra) are
imported when the worker starts.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import NoReturn

import click

from capic.cli.options import endpoint_option, endpoint_problem, missing_extra
from capic.cli.options import env_option as _opt


def _fail(message: str) -> NoReturn:
    click.echo(f"capic worker: {message}", err=True)
    sys.exit(2)


def _log(message: str) -> None:
    click.echo(f"capic worker: {message}", err=True)


@click.command(name="worker")
@_opt("--queue", "queue_url", env="QUEUE", required=True, help="Redis URL: redis://HOST:PORT/DB.")
@_opt("--group", env="WORKER_GROUP", default="capic", show_default=True, help="Consumer group.")
@_opt(
    "--consumer",
    env="WORKER_CONSUMER",
    default=None,
    help="This worker's name in the group, stable across restarts (default: the host name).",
)
@endpoint_option
@_opt(
    "--only",
    env="WORKER_ONLY",
    multiple=True,
    help="Serve only this queue: PROJECT:ENV, or PROJECT for all its environments (repeat).",
)
@_opt(
    "--secrets-dir",
    env="SECRETS_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help='Directory of secret("NAME") files.',
)
@_opt("--metrics-host", env="METRICS_HOST", default="127.0.0.1", show_default=True)
@_opt(
    "--metrics-port",
    env="METRICS_PORT",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve Prometheus metrics on this port (0: a free one; default: none).",
)
@_opt("--max-batch", env="MAX_BATCH", type=click.IntRange(1, 1000), default=1000, show_default=True)
@_opt("--max-age", env="MAX_AGE", type=click.FloatRange(0), default=1.0, show_default=True)
@_opt(
    "--concurrency",
    env="WORKER_CONCURRENCY",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Graph API requests in flight at once.",
)
@_opt("--timeout", env="TIMEOUT", type=click.FloatRange(0.1), default=30.0, show_default=True)
@_opt(
    "--max-attempts",
    env="MAX_ATTEMPTS",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Requests per batch before a failing pixel rests.",
)
@_opt(
    "--claim-idle",
    env="CLAIM_IDLE",
    type=click.FloatRange(0.1),
    default=60.0,
    show_default=True,
    help="Seconds before the entries of a silent consumer are claimed (live workers refresh "
    "theirs, however long a delivery takes).",
)
@_opt(
    "--max-deliveries",
    env="MAX_DELIVERIES",
    type=click.IntRange(1),
    default=10,
    show_default=True,
    help="Dead-letter an entry handed to workers more often than this (each stopped or was "
    "killed holding it); failed requests do not count.",
)
@_opt(
    "--rest",
    env="REST",
    type=click.FloatRange(0),
    default=60.0,
    show_default=True,
    help="Seconds a pixel whose retries ran out rests before its events are tried again.",
)
@_opt(
    "--stop-timeout",
    env="STOP_TIMEOUT",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    help="Seconds SIGTERM lets the batch in flight finish.",
)
def command(
    queue_url: str,
    group: str,
    consumer: str | None,
    endpoint: str | None,
    only: tuple[str, ...],
    secrets_dir: Path | None,
    metrics_host: str,
    metrics_port: int | None,
    max_batch: int,
    max_age: float,
    concurrency: int,
    timeout: float,
    max_attempts: int,
    claim_idle: float,
    max_deliveries: int,
    rest: float,
    stop_timeout: float,
) -> None:
    """Deliver the events serve nodes (and `capic run --queue`) appended to Redis Streams,
    as one consumer of a consumer group: batches per pixel, retries, bisection, dead letters.

    Run several (on one machine or many) with the same --group and different --consumer
    names. SIGTERM finishes the batch in flight; what is left stays pending for the next
    start or another worker.

    Exit status: 0 after a signal; 1 when delivery stopped (credentials rejected); 2 when it
    cannot start (usage, Redis unreachable, a port in use).
    """
    import re

    if (problem := endpoint_problem(endpoint)) is not None:
        _fail(problem)
    for name in only:
        if not re.fullmatch(r"[A-Za-z0-9._-]+(:[A-Za-z0-9._-]+)?", name):
            _fail(f"--only takes PROJECT or PROJECT:ENV, got {name!r}")
    try:
        from capic.queue.worker import WorkerConfig, WorkerError, run
    except ImportError as exc:
        _fail(missing_extra("worker", "queue", exc))
    config = WorkerConfig(
        queue=queue_url,
        group=group,
        consumer=consumer or socket.gethostname(),
        endpoint=endpoint,
        only=only,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
        secrets_dir=secrets_dir,
        max_batch=max_batch,
        max_age=max_age,
        concurrency=concurrency,
        timeout=timeout,
        max_attempts=max_attempts,
        claim_idle=claim_idle,
        max_deliveries=max_deliveries,
        rest=rest,
        stop_timeout=stop_timeout,
    )
    try:
        import prometheus_client  # noqa: F401
        import redis  # noqa: F401 - the extra is there
    except ImportError as exc:
        _fail(missing_extra("worker", "queue", exc))
    try:
        code = run(config, _log)
    except WorkerError as exc:
        _fail(str(exc))
    sys.exit(code)
