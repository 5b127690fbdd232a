"""``capic serve``: the live forwarding service (logic in :mod:`capic.serve`).

Every option has a ``CAPIC_*`` environment variable (shown by ``--help``), so a container
is configured without a command line. Importing this module needs only click: Starlette and
uvicorn (the ``capic[serve]`` extra) are imported when the service starts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from capic.cli.options import (
    bundle_key_path,
    bundle_trust,
    bundle_trust_options,
    endpoint_option,
    endpoint_problem,
    missing_extra,
)
from capic.cli.options import env_option as _opt


def _fail(message: str) -> NoReturn:
    click.echo(f"capic serve: {message}", err=True)
    sys.exit(2)


@click.command(name="serve")
@click.argument("project", required=False, type=click.Path(exists=True))
@_opt(
    "--bundle",
    "bundle_path",
    env="BUNDLE",
    type=click.Path(dir_okay=False),
    help="Serve a verified bundle (production).",
)
@bundle_trust_options
@_opt("--env", "env_name", env="ENV", help="Environment (a bundle's must match).")
@_opt("--host", env="HOST", default="127.0.0.1", show_default=True, help="Public address.")
@_opt(
    "--port",
    env="PORT",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Public port (/v1/events, /v1/collect).",
)
@_opt(
    "--admin-host",
    env="ADMIN_HOST",
    default="127.0.0.1",
    show_default=True,
    help="Admin address (/healthz, /readyz, /metrics).",
)
@_opt(
    "--admin-port",
    env="ADMIN_PORT",
    type=click.IntRange(0, 65535),
    default=9090,
    show_default=True,
    help="Admin port.",
)
@endpoint_option
@_opt(
    "--outbox",
    "outbox_path",
    env="OUTBOX",
    type=click.Path(dir_okay=False),
    default=None,
    help="Outbox file, one per process (default .capic_outbox/serve-<env>.sqlite).",
)
@_opt(
    "--outbox-sync",
    env="OUTBOX_SYNC",
    type=click.Choice(["full", "normal"]),
    default="full",
    show_default=True,
    help="full: fsync every commit before answering (survives power loss); normal: written "
    "to the OS (survives the process being killed, not a power cut; much faster on slow disks).",
)
@_opt(
    "--secrets-dir",
    env="SECRETS_DIR",
    type=click.Path(file_okay=False),
    default=None,
    help='Directory of secret("NAME") files.',
)
@_opt(
    "--trusted-proxy",
    "trusted_proxies",
    env="TRUSTED_PROXIES",
    multiple=True,
    help="Address or CIDR of a proxy whose X-Forwarded-For/Forwarded is believed "
    "(repeat, or comma-separate).",
)
@_opt(
    "--insecure-no-auth",
    env="INSECURE_NO_AUTH",
    is_flag=True,
    help="Serve /v1/events without an ingest token (development only).",
)
@_opt(
    "--insecure-cookies",
    env="INSECURE_COOKIES",
    is_flag=True,
    help="Set cookies without Secure (plain-HTTP development only).",
)
@_opt(
    "--max-body",
    env="MAX_BODY",
    type=click.IntRange(1),
    default=8 * 1024 * 1024,
    show_default=True,
    help="Largest /v1/events body (bytes).",
)
@_opt(
    "--max-collect-body",
    env="MAX_COLLECT_BODY",
    type=click.IntRange(1),
    default=65536,
    show_default=True,
    help="Largest /v1/collect body (bytes).",
)
@_opt(
    "--max-depth",
    env="MAX_DEPTH",
    type=click.IntRange(1, 512),
    default=32,
    show_default=True,
    help="Deepest JSON nesting accepted.",
)
@_opt(
    "--max-events",
    env="MAX_EVENTS",
    type=click.IntRange(1),
    default=5000,
    show_default=True,
    help="Most events in one /v1/events request.",
)
@_opt(
    "--rate-limit",
    env="RATE_LIMIT",
    type=click.FloatRange(0),
    default=20.0,
    show_default=True,
    help="/v1/collect requests per second per client address (0: off).",
)
@_opt(
    "--rate-burst",
    env="RATE_BURST",
    type=click.IntRange(1),
    default=60,
    show_default=True,
    help="Requests a client may make at once before --rate-limit applies.",
)
@_opt(
    "--max-backlog",
    env="MAX_BACKLOG",
    type=click.IntRange(1),
    default=1_000_000,
    show_default=True,
    help="Outbox depth at which new events get 503 Retry-After.",
)
@_opt(
    "--drain-timeout",
    env="DRAIN_TIMEOUT",
    type=click.FloatRange(0),
    default=10.0,
    show_default=True,
    help="Seconds SIGTERM spends delivering before leaving the rest.",
)
@_opt(
    "--watch-interval",
    env="WATCH_INTERVAL",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Seconds between looks for changed files (0: SIGHUP only).",
)
@_opt(
    "--max-batch",
    env="MAX_BATCH",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="Events per Graph API request.",
)
@_opt(
    "--max-age",
    env="MAX_AGE",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Seconds a batch may wait before it is sent.",
)
@_opt(
    "--queue",
    "queue_url",
    env="QUEUE",
    default=None,
    help="Redis queue (redis://HOST:PORT/DB): append events to Redis Streams for `capic "
    "worker` to deliver; the outbox then only holds them while Redis is unavailable.",
)
@_opt(
    "--partitions",
    env="QUEUE_PARTITIONS",
    type=click.IntRange(1, 1024),
    default=8,
    show_default=True,
    help="Partition streams of the project's queue (the same on every node).",
)
@_opt(
    "--queue-strict",
    env="QUEUE_STRICT",
    is_flag=True,
    help="Refuse to start unless Redis fsyncs every write (appendonly yes, appendfsync always).",
)
@_opt(
    "--log-level",
    env="LOG_LEVEL",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="Service log level (stderr).",
)
@_opt(
    "--no-access-log",
    env="NO_ACCESS_LOG",
    is_flag=True,
    help="Do not write the JSON access log (stdout).",
)
def command(
    project: str | None,
    bundle_path: str | None,
    env_name: str | None,
    host: str,
    port: int,
    admin_host: str,
    admin_port: int,
    endpoint: str | None,
    outbox_path: str | None,
    outbox_sync: str,
    secrets_dir: str | None,
    trusted_proxies: tuple[str, ...],
    insecure_no_auth: bool,
    insecure_cookies: bool,
    max_body: int,
    max_collect_body: int,
    max_depth: int,
    max_events: int,
    rate_limit: float,
    rate_burst: int,
    max_backlog: int,
    drain_timeout: float,
    watch_interval: float,
    max_batch: int,
    max_age: float,
    queue_url: str | None,
    partitions: int,
    queue_strict: bool,
    log_level: str,
    no_access_log: bool,
) -> None:
    """Serve POST /v1/events (servers, bearer token) and POST /v1/collect (browsers) and
    deliver what the rules send, from a bundle (--bundle, production) or a PROJECT compiled
    in memory and recompiled when its files change (development).

    A 202 (or the collector's 204) is sent only after the server events are durable in the
    outbox. SIGHUP, or a changed file, reloads the rules, keeping the last good ones; SIGTERM
    drains deliveries for --drain-timeout seconds and leaves the rest in the outbox.

    Exit status: 0 after a signal stopped it; 2 when it cannot start (usage, configuration,
    a bundle that does not verify, an outbox another process holds, a port in use).
    """
    if bundle_key_path() is not None and bundle_path is None:
        _fail("--key verifies a bundle's signature: use it with --bundle")
    if (project is None) == (bundle_path is None):
        _fail("give either PROJECT (development) or --bundle FILE (production)")
    if (problem := endpoint_problem(endpoint)) is not None:
        _fail(problem)
    try:
        from capic.cli.run_setup import default_outbox
        from capic.serve.config import Limits, ServeConfig
        from capic.serve.context import TrustedProxies
        from capic.serve.rules import BundleSource, ProjectSource
        from capic.serve.service import ServiceError, run, setup_logging
    except ImportError as exc:
        _fail(missing_extra("serve", "serve", exc))
    try:
        trusted = TrustedProxies.parse(trusted_proxies)
    except ValueError as exc:
        _fail(str(exc))
    root = Path(project) if project is not None and Path(project).is_dir() else Path.cwd()
    # serve-<environment>.sqlite, the environment made safe for a file name as capic run does.
    outbox = Path(outbox_path) if outbox_path else default_outbox(root, "serve", env_name)
    config = ServeConfig(
        host=host,
        port=port,
        admin_host=admin_host,
        admin_port=admin_port,
        endpoint=endpoint,
        outbox=outbox,
        outbox_sync="normal" if outbox_sync == "normal" else "full",
        secrets_dir=Path(secrets_dir) if secrets_dir else None,
        trusted_proxies=trusted,
        insecure_no_auth=insecure_no_auth,
        limits=Limits(
            max_body=max_body,
            max_collect_body=max_collect_body,
            max_depth=max_depth,
            max_events=max_events,
            rate=rate_limit,
            burst=rate_burst,
            max_backlog=max_backlog,
        ),
        drain_timeout=drain_timeout,
        watch_interval=watch_interval,
        secure_cookies=not insecure_cookies,
        access_log=not no_access_log,
        max_batch=max_batch,
        max_age=max_age,
        queue=queue_url,
        queue_partitions=partitions,
        queue_strict=queue_strict,
    )
    if queue_url is not None:
        from capic.queue import QueueURL
        from capic.runtime.delivery.queue import QueueError

        try:
            QueueURL.parse(queue_url)
        except QueueError as exc:
            _fail(str(exc))
    elif queue_strict:
        _fail("--queue-strict checks the Redis queue: use it with --queue")
    trust = bundle_trust()  # --key / --require-signature, as capic run --bundle and verify
    setup_logging(log_level)
    source = (
        BundleSource(bundle_path, env_name=env_name, slot=trust.slot())
        if bundle_path is not None
        else ProjectSource(project or ".", env_name=env_name)
    )
    try:
        code = run(config, source)
    except ServiceError as exc:
        _fail(str(exc))
    sys.exit(code)
