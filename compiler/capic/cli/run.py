"""``capic run``: process an event stream with a project's rules (or a bundle) and deliver.

Everything but the dry-run requests goes to stderr: warnings, rejected events, a progress
line (on a terminal only) and the final summary. See :mod:`capic.runtime.runner` for the
input format and for ``--rebase-time``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, ModuleType
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from capic.cli.options import bundle_trust, bundle_trust_options
from capic.runtime.tuning import tune_allocator

if TYPE_CHECKING:
    from capic.runtime.runner import Destinations, RunSummary
    from capic.runtime.secrets import SecretRef

OUTBOX_DIR = ".capic_outbox"


class _Usage(Exception):
    """A usage or configuration problem: one line, exit status 2."""


def _fail(message: str) -> NoReturn:
    raise _Usage(message)


# ----------------------------------------------------------------------------- console


class _Console:
    """stderr: warnings, and a progress line that only a terminal gets."""

    def __init__(self, *, total_bytes: int | None) -> None:
        self.tty = sys.stderr.isatty()
        self.total = total_bytes
        self.read = 0
        self._drawn = False
        self._last = 0.0

    def warn(self, message: str) -> None:
        self._clear()
        click.echo(f"capic run: {message}", err=True)

    def _clear(self) -> None:
        if self._drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._drawn = False

    def progress(self, summary: RunSummary) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        rate = summary.events / summary.duration if summary.duration > 0 else 0.0
        rejected = sum(summary.rejected.values())
        parts = [
            f"{summary.events:,} events",
            f"{summary.sent:,} sent",
            f"{rejected:,} rejected",
            f"{rate:,.0f}/s",
        ]
        head = ""
        if self.total:
            share = min(1.0, self.read / self.total)
            width = 24
            filled = int(share * width)
            head = f"[{'#' * filled}{'.' * (width - filled)}] {share:6.1%}  "
        line = head + " · ".join(parts)
        columns = shutil.get_terminal_size((100, 20)).columns
        sys.stderr.write("\r\x1b[K" + line[: max(10, columns - 1)])
        sys.stderr.flush()
        self._drawn = True

    def done(self) -> None:
        self._clear()

    def count(self, lines: Iterator[bytes | None]) -> Iterator[bytes | None]:
        """Pass ``lines`` through, counting bytes for the progress bar."""
        if not self.tty or not self.total:
            yield from lines
            return
        for line in lines:
            if line is not None:
                self.read += len(line)
            yield line


# ----------------------------------------------------------------------------- signals


class _Signals:
    """First SIGINT/SIGTERM: stop reading and flush. Second: abort without flushing."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, OSError):  # not the main thread
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, old)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        from capic.runtime.runner import RunAborted

        name = signal.Signals(signum).name
        if self.received is not None:
            raise RunAborted()
        self.received = name
        click.echo(
            f"capic run: {name}: stopping; flushing the events in flight (again to abort)",
            err=True,
        )

    def stop(self) -> bool:
        return self.received is not None


# ----------------------------------------------------------------------------- set-up


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "capic"


def default_outbox(root: Path, project: str, environment: str | None) -> Path:
    """``<root>/.capic_outbox/<project>-<environment>.sqlite``."""
    return (
        root / OUTBOX_DIR / f"{_safe_name(project)}-{_safe_name(environment or 'default')}.sqlite"
    )


def _prepare_outbox_dir(path: Path) -> None:
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    if directory.name == OUTBOX_DIR:
        marker = directory / ".gitignore"
        if not marker.exists():
            with contextlib.suppress(OSError):
                marker.write_text("# created by capic: undelivered (hashed) events\n*\n")


def _compile_project(
    path: str, env_name: str | None
) -> tuple[ModuleType, Path, str, str | None, dict[str, SecretRef], str | None]:
    """(module, root, project name, environment, inline tokens, secrets_dir from config)."""
    from capic.api import load_project
    from capic.codegen import CodegenError, generate, resolve_environment
    from capic.diagnostics import Severity
    from capic.runtime.loader import load_module

    try:
        result = load_project(path, use_cache=False)
    except ValueError as exc:
        _fail(str(exc))
    errors = [d for d in result.diagnostics if d.severity >= Severity.ERROR]
    for d in errors:
        where = (
            f"{result.display_path(d.span.file)}:{d.span.line}:{d.span.column}: " if d.span else ""
        )
        click.echo(f"{where}{d.code} {d.message}", err=True)
    if result.project is None or errors:
        _fail(f"the project has {len(errors)} error(s); fix them first (capic check)")
    project = result.project
    try:
        source = generate(project, env_name)
        resolved = resolve_environment(project, env_name)
    except (CodegenError, ValueError) as exc:
        _fail(str(exc))
    module = load_module(source, name=f"capic_run_{_safe_name(project.name)}")
    tokens = {
        name: pixel.token
        for name, pixel in resolved.pixels.items()
        if pixel.token.kind == "literal"
    }
    return (
        module,
        Path(project.root),
        project.name,
        resolved.name,
        tokens,
        project.config.secrets_dir,
    )


def _load_bundle(path: str, env_name: str | None) -> tuple[ModuleType, str, str]:
    from capic.bundle import load as bundle_load

    try:
        bundle = bundle_trust().load(path)  # --key / --require-signature (cli.options)
    except bundle_load.BundleError as exc:
        _fail(f"{path}: {exc.describe()}")
    environment = bundle.manifest.environment
    if env_name is not None and env_name != environment:
        _fail(f"{path} was built for environment {environment!r}, not {env_name!r}")
    return bundle.module, bundle.manifest.project, environment


def _open_events(events: str) -> tuple[IO[bytes], int | None, bool]:
    """(stream, size for the progress bar, is a regular file)."""
    if events == "-":
        return sys.stdin.buffer, None, False
    try:
        stream = open(events, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        _fail(f"cannot read {events}: {exc.strerror or exc}")
    try:
        st = os.fstat(stream.fileno())
    except OSError:
        return stream, None, False
    import stat

    regular = stat.S_ISREG(st.st_mode)
    return stream, (st.st_size if regular else None), regular


def _probe(module: ModuleType, stream: IO[bytes], regular: bool) -> tuple[int, IO[bytes]]:
    """The --rebase-time offset, and the stream to read for the real pass (the file again,
    or a temporary copy of standard input)."""
    from capic.runtime.runner import probe_time_offset, read_lines

    if regular:
        offset = probe_time_offset(module, read_lines(stream))
        stream.seek(0)
        return offset, stream
    spool = tempfile.TemporaryFile(prefix="capic-run-")  # noqa: SIM115 - returned

    def copy() -> Iterator[bytes]:
        for line in read_lines(stream):
            if line is not None:
                spool.write(line)
                yield line

    offset = probe_time_offset(module, copy())
    spool.flush()
    spool.seek(0)
    return offset, spool


# ----------------------------------------------------------------------------- the command


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
    "--bundle",
    "bundle_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Run a verified bundle instead of compiling PROJECT.",
)
@bundle_trust_options
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
    bundle_path: str | None,
) -> None:
    """Process the events of a JSON Lines file (or stdin) and deliver the server events.

    Each line is an event, or {"event": ..., "request": ...}. PROJECT is compiled in memory
    (no files are written besides the outbox); with --bundle the bundle's module runs.
    Undelivered events wait in the outbox (already hashed, never raw customer information):
    by default <project>/.capic_outbox/<project>-<env>.sqlite, or .capic_outbox/ in the
    current directory with --bundle.

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
            bundle_path=bundle_path,
        )
    except _Usage as exc:
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
    bundle_path: str | None,
) -> int:
    from capic.runtime.runner import Destinations, RunConfigError

    if (project is None) == (bundle_path is None):
        _fail("give either PROJECT or --bundle BUNDLE")
    if endpoint is not None and not re.match(r"https?://[^/\s]+", endpoint):
        _fail(f"--endpoint must be an http(s) URL, got {endpoint!r}")
    tokens: dict[str, SecretRef] = {}
    config_secrets: str | None = None
    environment: str | None
    if bundle_path is not None:
        module, project_name, environment = _load_bundle(bundle_path, env_name)
        root = Path.cwd()
    else:
        assert project is not None
        module, root, project_name, environment, tokens, config_secrets = _compile_project(
            project, env_name
        )
    secrets = (
        Path(secrets_dir) if secrets_dir else (root / config_secrets if config_secrets else None)
    )
    try:
        destinations = Destinations(
            module, secrets_dir=secrets, tokens=tokens, tokens_required=not dry_run
        )
        if not dry_run:
            destinations.check_tokens()
    except RunConfigError as exc:
        _fail(str(exc))
    stream, size, regular = _open_events(events)
    try:
        return _deliver(
            module=module,
            destinations=destinations,
            stream=stream,
            size=size,
            regular=regular,
            project_name=project_name,
            environment=environment,
            dry_run=dry_run,
            endpoint=endpoint,
            outbox=Path(outbox_path)
            if outbox_path
            else default_outbox(root, project_name, environment),
            secrets=secrets,
            rebase_time=rebase_time,
            max_batch=max_batch,
            max_age=max_age,
            summary_format=summary_format,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff=backoff,
            max_backoff=max_backoff,
        )
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _deliver(
    *,
    module: ModuleType,
    destinations: Destinations,
    stream: IO[bytes],
    size: int | None,
    regular: bool,
    project_name: str,
    environment: str | None,
    dry_run: bool,
    endpoint: str | None,
    outbox: Path,
    secrets: Path | None,
    rebase_time: bool,
    max_batch: int,
    max_age: float,
    summary_format: str,
    timeout: float,
    max_attempts: int,
    backoff: float,
    max_backoff: float,
) -> int:
    from capic.runtime import Context
    from capic.runtime.delivery import (
        Deliverer,
        DryRunSink,
        GraphTransport,
        InvalidTokenError,
        Outbox,
        OutboxError,
        RetryPolicy,
    )
    from capic.runtime.delivery.transport import DEFAULT_BASE_URL
    from capic.runtime.runner import RunAborted, read_lines, run_stream
    from capic.runtime.secrets import SecretError

    base_url = endpoint or DEFAULT_BASE_URL
    console = _Console(total_bytes=size)
    offset = 0
    if rebase_time:
        offset, stream = _probe(module, stream, regular)
    context = Context(time_offset=offset)
    closers: list[Callable[[], None]] = []
    sink: Any
    if dry_run:
        sink = DryRunSink(sys.stdout, base_url=base_url, max_batch=max_batch, max_age=max_age)
    else:
        try:
            _prepare_outbox_dir(outbox)
            box = Outbox(outbox)
        except (OutboxError, OSError) as exc:
            _fail(f"outbox {outbox}: {exc}")
        transport = GraphTransport(base_url, timeout=timeout)
        sink = Deliverer(
            outbox=box,
            transport=transport,
            policy=RetryPolicy(
                max_attempts=max_attempts, base_delay=backoff, max_delay=max_backoff
            ),
            max_batch=max_batch,
            max_age=max_age,
            secrets_dir=secrets,
            log=console.warn,
        )
        closers.extend([box.close, transport.close])
    if console.tty:
        for line in destinations.describe():
            console.warn(f"{'dry run for' if dry_run else 'delivering to'} {line} via {base_url}")
    summary: RunSummary | None = None
    with _Signals() as signals:
        try:
            if not dry_run:
                sink.recover()
            lines = console.count(read_lines(stream, idle=max_age))
            summary = run_stream(
                module,
                lines,
                sink,
                destinations=destinations,
                context=context,
                stop=signals.stop,
                report=console.warn,
                progress=console.progress,
                dry_run=dry_run,
                rebased=rebase_time,
            )
            if summary.fatal is None and not summary.aborted:
                sink.close()
        except (InvalidTokenError, SecretError, OutboxError) as exc:
            if summary is None:
                from capic.runtime.runner import RunSummary

                summary = RunSummary(dry_run=dry_run)
            summary.fatal = str(exc)
        except RunAborted:
            if summary is not None:
                summary.aborted = True
                summary.interrupted = "aborted; undelivered events stay in the outbox"
            else:
                console.done()
                console.warn("aborted; undelivered events stay in the outbox")
                for close in closers:
                    with contextlib.suppress(Exception):
                        close()
                return 1
        except BrokenPipeError:
            with contextlib.suppress(OSError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            console.warn("standard output closed; stopped")
            return 1
        finally:
            for close in closers:
                with contextlib.suppress(Exception):
                    close()
        if summary is not None and signals.received and not summary.aborted:
            summary.interrupted = f"{signals.received} received; the rest of the input was not read"
    console.done()
    assert summary is not None
    summary.delivery = sink.stats.to_json()
    if summary_format == "json":
        import orjson

        data = {"project": project_name, "environment": environment, **summary.to_json()}
        click.echo(orjson.dumps(data).decode(), err=True)
    else:
        click.echo(f"capic run: {project_name} ({environment or 'no environment'})", err=True)
        for line in summary.render_text().splitlines():
            click.echo(f"  {line}", err=True)
    return summary.exit_code
