"""``capic run``: process an event stream with a project's rules (or a bundle) and deliver.

The command gets a rule module (compiling PROJECT in memory, or loading a verified bundle:
:mod:`capic.cli.run_setup`) and hands it to :func:`capic.runtime.runner.run`, which owns the
pipeline (outbox, group commit, checkpoints, the delivery engine). Everything but the dry-run
requests goes to stderr: warnings, rejected events, a progress line (on a terminal only) and
the final summary.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from capic.cli.options import bundle_trust_options, endpoint_problem
from capic.cli.run_console import Console, Signals
from capic.cli.run_setup import (
    OUTBOX_DIR,
    RunUsage,
    compile_project,
    default_outbox,
    load_bundle,
)
from capic.cli.run_setup import fail as _fail
from capic.runtime.tuning import tune_allocator

if TYPE_CHECKING:
    from capic.runtime.runner import RunSummary
    from capic.runtime.secrets import SecretRef


@click.command(name="run")
@click.argument("project", required=False, type=click.Path(exists=True))
@click.option(
    "--env", "env_name", default=None, help="Environment (default: the project's default)."
)
@click.option("--events", "events", required=True, help="JSON Lines file of events; - for stdin.")
@click.option(
    "--dry-run", is_flag=True, help="Validate and print the requests on stdout; send nothing."
)
@click.option(
    "--endpoint",
    default=None,
    help="Graph API base URL (default https://graph.facebook.com; e.g. the emulator's URL).",
)
@click.option(
    "--outbox",
    "outbox_path",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Outbox file (default: <project>/{OUTBOX_DIR}/<project>-<env>.sqlite).",
)
@click.option(
    "--secrets-dir",
    type=click.Path(file_okay=False),
    default=None,
    help='Directory of secret("NAME") files (default: secrets_dir of capic.toml).',
)
@click.option(
    "--rebase-time",
    is_flag=True,
    help="Shift all event times by one offset so that the newest lands at now.",
)
@click.option(
    "--max-batch",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="Events per request.",
)
@click.option(
    "--max-age",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Seconds a batch may wait before it is sent.",
)
@click.option(
    "--summary-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the final summary (on stderr).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.01),
    default=30.0,
    show_default=True,
    help="HTTP timeout (s).",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Requests per batch before it is left in the outbox.",
)
@click.option(
    "--backoff",
    type=click.FloatRange(0),
    default=0.5,
    show_default=True,
    help="First retry delay (s).",
)
@click.option(
    "--max-backoff",
    type=click.FloatRange(0),
    default=60.0,
    show_default=True,
    help="Longest retry delay (s).",
)
@click.option(
    "--from-start",
    is_flag=True,
    help="Read the whole file again, even where an earlier run of it stopped.",
)
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Run a verified bundle instead of compiling PROJECT.",
)
@bundle_trust_options
@click.option(
    "--queue",
    "queue_url",
    envvar="CAPIC_QUEUE",
    default=None,
    help="Append the server events to Redis Streams (redis://HOST:PORT/DB) for `capic worker` "
    "to deliver, instead of delivering them (backfills next to capic serve --queue).",
)
@click.option(
    "--partitions",
    envvar="CAPIC_QUEUE_PARTITIONS",
    type=click.IntRange(1, 1024),
    default=8,
    show_default=True,
    help="Partition streams of the queue (as on the serve nodes).",
)
@click.option(
    "--queue-strict",
    is_flag=True,
    help="Refuse to start unless Redis fsyncs every write (appendfsync always).",
)
def command(
    project: str | None,
    env_name: str | None,
    events: str,
    dry_run: bool,
    endpoint: str | None,
    outbox_path: str | None,
    secrets_dir: str | None,
    rebase_time: bool,
    max_batch: int,
    max_age: float,
    summary_format: str,
    timeout: float,
    max_attempts: int,
    backoff: float,
    max_backoff: float,
    from_start: bool,
    bundle_path: str | None,
    queue_url: str | None,
    partitions: int,
    queue_strict: bool,
) -> None:
    """Process the events of a JSON Lines file (or stdin) and deliver the server events.

    Each line is an event, or {"event": ..., "request": ...}. PROJECT is compiled in memory
    (no files are written besides the outbox); with --bundle the bundle's module runs.
    Undelivered events wait in the outbox (already hashed, never raw customer information):
    by default <project>/.capic_outbox/<project>-<env>.sqlite, or .capic_outbox/ in the
    current directory with --bundle. One process per outbox. What was read is committed to
    the outbox as the run goes: a file run that stops early resumes where it stopped when
    run again (--from-start reads it all again); a stream's committed line count is in the
    summary and in `capic outbox status`.

    Exit status: 0 every event delivered or deliberately not matched; 1 malformed lines,
    rejected or dead-lettered events, or events left in the outbox; 2 usage or configuration
    errors, or an access token Meta rejected.
    """
    tune_allocator()  # process-wide glibc settings for this process (capic.runtime.tuning)
    try:
        code = _run(
            project=project,
            env_name=env_name,
            events=events,
            dry_run=dry_run,
            endpoint=endpoint,
            outbox_path=outbox_path,
            secrets_dir=secrets_dir,
            rebase_time=rebase_time,
            max_batch=max_batch,
            max_age=max_age,
            summary_format=summary_format,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff=backoff,
            max_backoff=max_backoff,
            from_start=from_start,
            bundle_path=bundle_path,
            queue=(queue_url, partitions, queue_strict),
        )
    except RunUsage as exc:
        click.echo(f"capic run: {exc}", err=True)
        code = 2
    sys.exit(code)


def _run(
    *,
    project: str | None,
    env_name: str | None,
    events: str,
    dry_run: bool,
    endpoint: str | None,
    outbox_path: str | None,
    secrets_dir: str | None,
    rebase_time: bool,
    max_batch: int,
    max_age: float,
    summary_format: str,
    timeout: float,
    max_attempts: int,
    backoff: float,
    max_backoff: float,
    from_start: bool,
    bundle_path: str | None,
    queue: tuple[str | None, int, bool] = (None, 8, False),
) -> int:
    from capic.runtime.delivery import QueueError, RetryPolicy
    from capic.runtime.delivery.transport import DEFAULT_BASE_URL
    from capic.runtime.inputs import InputError
    from capic.runtime.runner import (
        Destinations,
        RunAborted,
        RunConfig,
        RunConfigError,
        RunHooks,
        run,
    )

    if (project is None) == (bundle_path is None):
        _fail("give either PROJECT or --bundle BUNDLE")
    if (problem := endpoint_problem(endpoint)) is not None:
        _fail(problem)
    secrets: dict[str, dict[str, SecretRef]] = {}
    config_secrets: str | None = None
    environment: str | None
    if bundle_path is not None:
        module, project_name, environment = load_bundle(bundle_path, env_name)
        root = Path.cwd()
    else:
        assert project is not None
        module, root, project_name, environment, secrets, config_secrets = compile_project(
            project, env_name
        )
    secrets_path = (
        Path(secrets_dir) if secrets_dir else (root / config_secrets if config_secrets else None)
    )
    console = Console()
    from capic.cli.run_queue import queue_deliverer

    try:
        deliverer = queue_deliverer(
            queue, project_name, environment, secrets, dry_run, console.warn
        )
    except ValueError as exc:
        _fail(str(exc))
    try:
        destinations = Destinations(
            module, secrets_dir=secrets_path, secrets=secrets, dry_run=dry_run
        )
        if not dry_run and deliverer is None:  # with a queue, the workers need the tokens
            destinations.check_secrets()
    except RunConfigError as exc:
        _fail(str(exc))
    for pixel, key, ref in destinations.unresolved:
        console.warn(f"dry run: the {key} of pixel `{pixel}` is {ref}, which is not set")
    base_url = endpoint or DEFAULT_BASE_URL
    if console.tty:
        for line in destinations.describe():
            console.warn(f"{'dry run for' if dry_run else 'delivering to'} {line} via {base_url}")
    config = RunConfig(
        events=events,
        outbox=Path(outbox_path)
        if outbox_path
        else default_outbox(root, project_name, environment),
        dry_run=dry_run,
        endpoint=base_url,
        secrets_dir=secrets_path,
        rebase_time=rebase_time,
        from_start=from_start,
        max_batch=max_batch,
        max_age=max_age,
        timeout=timeout,
        policy=RetryPolicy(max_attempts=max_attempts, base_delay=backoff, max_delay=max_backoff),
        deliverer=deliverer,
    )
    with Signals() as signals:
        hooks = RunHooks(
            warn=console.warn,
            progress=console.progress,
            stop=signals.stop,
            output=sys.stdout,
            lines=console.count,
        )
        if events != "-" and console.tty:
            with contextlib.suppress(OSError):
                console.total = os.stat(events).st_size
        try:
            summary = run(module, destinations, config, hooks)
        except (RunConfigError, InputError, QueueError) as exc:
            _fail(str(exc))
        except RunAborted:
            console.done()
            console.warn("aborted; what was committed stays in the outbox")
            return 1
        except BrokenPipeError:
            with contextlib.suppress(OSError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            console.warn("standard output closed; stopped")
            return 1
        if signals.received and not summary.aborted:
            summary.interrupted = f"{signals.received} received; the rest of the input was not read"
    console.done()
    _print_summary(summary, project_name, environment, summary_format)
    return summary.exit_code


def _print_summary(
    summary: RunSummary, project_name: str, environment: str | None, summary_format: str
) -> None:
    if summary_format == "json":
        import orjson

        data = {"project": project_name, "environment": environment, **summary.to_json()}
        click.echo(orjson.dumps(data).decode(), err=True)
        return
    click.echo(f"capic run: {project_name} ({environment or 'no environment'})", err=True)
    for line in summary.render_text().splitlines():
        click.echo(f"  {line}", err=True)
