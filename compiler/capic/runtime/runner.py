"""``capic run``: an input stream through the rules into the outbox, delivered by the engine.

    from capic.runtime.runner import RunConfig, RunHooks, run

    summary = run(module, destinations, RunConfig(events="events.jsonl", outbox=path))

The pipeline is the one ``capic serve`` uses: each line goes through an
:class:`~capic.runtime.ingest.Ingestor`; the items go to the outbox through a
:class:`~capic.runtime.delivery.commit.GroupCommitter`, in chunks of ``chunk_lines`` lines (or
``chunk_age`` seconds, or whenever the input pauses); a
:class:`~capic.runtime.delivery.engine.DeliveryEngine` reads them back and delivers them
meanwhile. At most one chunk is being committed while the next is read, so no more than two
chunks are ever read and not durable, and a chunk is submitted only after the one before it
is durable: the recorded position never runs ahead of the events.

Each commit records how far the input was read, in the same transaction
(:class:`~capic.runtime.delivery.queue.InputProgress`): for a stream the number of lines
committed (``capic outbox status`` shows it, even after ``kill -9``: every line up to it is in
the outbox), for a file a checkpoint keyed by the file's identity, from which the same command
resumes (``from_start`` reads it all again). A file read to its end leaves no checkpoint.

``--rebase-time``: :func:`probe_time_offset` (:mod:`capic.runtime.run_rebase`) runs the rules
over the input once without sending anything and returns ``floor(now) - newest`` (the largest
``event_time`` of every server event the rules would send); the real pass adds that offset to
every ``event_time``. A resumed file keeps the offset its first run recorded.

The settings, hooks and outbox directory of a run are in :mod:`capic.runtime.run_config`, the
group commit in :mod:`capic.runtime.run_commit`; their public names are re-exported here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import IO

from capic.runtime.context import Context, Rejection
from capic.runtime.delivery import (
    DeliveryEngine,
    DryRunSink,
    GraphTransport,
    InputProgress,
    Outbox,
    OutboxError,
    QueueItem,
)
from capic.runtime.destinations import Destinations, RunConfigError
from capic.runtime.ingest import Ingestor
from capic.runtime.inputs import Input, open_input, parse_line, read_lines
from capic.runtime.run_commit import ChunkCommitter
from capic.runtime.run_config import (
    OUTBOX_DIR,
    Deliverer,
    RunAborted,
    RunConfig,
    RunHooks,
    prepare_outbox_dir,
)
from capic.runtime.run_rebase import probe_time_offset, spool_input
from capic.runtime.summary import RunSummary

__all__ = [
    "OUTBOX_DIR",
    "Deliverer",
    "Destinations",
    "RunAborted",
    "RunConfig",
    "RunConfigError",
    "RunHooks",
    "RunSummary",
    "prepare_outbox_dir",
    "probe_time_offset",
    "read_lines",
    "run",
]

#: Reports of the same kind shown before they are only counted.
MAX_REPORTS = 20


def run(
    module: ModuleType, destinations: Destinations, config: RunConfig, hooks: RunHooks | None = None
) -> RunSummary:
    """Run ``module`` over ``config.events``; raises RunConfigError (one line) when the run
    cannot start, RunAborted when the caller aborts it."""
    hooks = hooks or RunHooks()
    if config.dry_run:
        return _Run(module, destinations, config, hooks).dry()
    if config.outbox is None:
        raise RunConfigError("a run that delivers needs an outbox")
    try:
        prepare_outbox_dir(config.outbox)
        outbox = Outbox(config.outbox)
    except OutboxError as exc:  # its message names the file
        raise RunConfigError(str(exc)) from None
    except OSError as exc:
        raise RunConfigError(f"outbox {config.outbox}: {exc.strerror or exc}") from None
    try:
        return _Run(module, destinations, config, hooks).deliver(outbox)
    finally:
        outbox.close()


class _Run:
    def __init__(
        self, module: ModuleType, destinations: Destinations, config: RunConfig, hooks: RunHooks
    ) -> None:
        self.module = module
        self.destinations = destinations
        self.config = config
        self.hooks = hooks
        self.summary = RunSummary(dry_run=config.dry_run)
        self._shown: dict[str, int] = {}
        self.lineno = 0
        self.position = 0
        self.offset = 0
        self.ingestor: Ingestor | None = None
        self.started = time.monotonic()
        self._delivery: Callable[[], dict[str, object]] | None = None

    def say(self, kind: str, message: str) -> None:
        if self.hooks.warn is None:
            return
        n = self._shown[kind] = self._shown.get(kind, 0) + 1
        if n <= MAX_REPORTS:
            self.hooks.warn(message)
        elif n == MAX_REPORTS + 1:
            self.hooks.warn(f"more {kind} are counted but not shown")

    def _on_reject(self, index: int, r: Rejection) -> None:
        self.say(
            "rejected events",
            f"line {index}: {r.event_name} from rule {r.rule!r} to pixel `{r.pixel}` "
            f"rejected: {r.reason}",
        )

    def _open(self, outbox: Outbox | None) -> tuple[Input, IO[bytes], InputProgress | None]:
        """Open the input once (a pipe cannot be opened twice), find its checkpoint in the
        outbox, and work out the time offset: the checkpoint's, or a probe's."""
        source = open_input(self.config.events)
        stream = source.stream
        checkpoint = None
        if outbox is not None and source.kind == "file":
            if self.config.from_start:
                outbox.forget_input(source.source)
            else:
                checkpoint = outbox.checkpoint(source.source)
        if checkpoint is not None:
            self.offset = checkpoint.time_offset if self.config.rebase_time else 0
        elif self.config.rebase_time:
            self.offset, stream = spool_input(self.module, source)
        if self.config.rebase_time:
            self.summary.time_offset = self.offset
        offset = self.offset
        self.ingestor = Ingestor(
            self.module,
            self.destinations,
            context_factory=lambda: Context(time_offset=offset),
            id_source=source.source,
            on_reject=self._on_reject,
        )
        return source, stream, checkpoint

    # -- dry run ----------------------------------------------------------------------------

    def dry(self) -> RunSummary:
        source, stream, _ = self._open(None)
        out = self.hooks.output
        if out is None:
            raise RunConfigError("standard output is closed: a dry run prints its requests there")
        sink = DryRunSink(
            out,
            base_url=self.config.endpoint,
            max_batch=self.config.max_batch,
            max_age=self.config.max_age,
        )
        self._delivery = sink.stats.to_json
        try:
            self._loop(stream, lambda items, _p, _n: sink.add(items), sink.tick, None)
            sink.close()
        finally:
            source.close()
            self._fill(sink.stats.to_json())
        return self.summary

    # -- delivery ---------------------------------------------------------------------------

    def deliver(self, outbox: Outbox) -> RunSummary:
        config = self.config
        source, stream, checkpoint = self._open(outbox)
        if checkpoint is not None:
            stream.seek(checkpoint.position)
            self.lineno = self.summary.resumed_from = checkpoint.lines
            self.position = checkpoint.position
            if self.hooks.warn is not None:
                self.hooks.warn(
                    f"resuming {source.name} after line {checkpoint.lines:,}, where an earlier "
                    "run stopped (--from-start reads it all again)"
                )
        transport = None
        engine: Deliverer
        if config.deliverer is not None:
            engine = config.deliverer(outbox)
        else:
            transport = GraphTransport(config.endpoint, timeout=config.timeout)
            engine = DeliveryEngine(
                outbox,
                transport=transport,
                policy=config.policy,
                max_batch=config.max_batch,
                max_age=config.max_age,
                secrets_dir=config.secrets_dir,
                environ=self.destinations.environ,
                log=self.hooks.warn,
                destinations=self.destinations.all(),
            )
        chunks = ChunkCommitter(
            outbox,
            source,
            start=(self.position, self.lineno),
            time_offset=self.offset,
            max_lines=config.chunk_lines,
            max_age=config.chunk_age,
            max_backlog=config.max_backlog,
            warn=self.hooks.warn,
        )
        self._delivery = engine.stats.to_json
        engine.start()
        aborted = False
        try:
            finished = self._loop(
                stream,
                chunks.add,
                lambda: chunks.flush(self.position, self.lineno),
                engine,
            )
            chunks.finish(self.position, self.lineno, finished=finished)
            if engine.stopped_reason is None:
                engine.drain(None)
        except BaseException:  # an abort (second signal) or a failure: stop at once
            aborted = True
            raise
        finally:
            chunks.close()
            engine.stop(0.0 if aborted else 5.0)
            if transport is not None:
                transport.close()
            source.close()
            self.summary.committed_lines = chunks.committed_lines
            if aborted:
                self.summary.aborted = True
                self.summary.interrupted = "aborted; what was committed stays in the outbox"
            if engine.stopped_reason is not None:
                self.summary.fatal = engine.stopped_reason
            self._fill(engine.stats.to_json())
        return self.summary

    # -- the loop ---------------------------------------------------------------------------

    def _loop(
        self,
        stream: IO[bytes],
        add: Callable[[Sequence[QueueItem], int, int], None],
        idle: Callable[[], None],
        engine: Deliverer | None,
    ) -> bool:
        """Read to the end (True) or until stopped (False). ``add`` gets the items of each
        line with the input position and line number after it."""
        assert self.ingestor is not None
        process = self.ingestor.process
        summary = self.summary
        stop = self.hooks.stop
        lines: Iterator[bytes | None] = read_lines(stream, idle=self.config.max_age)
        if self.hooks.lines is not None:
            lines = self.hooks.lines(lines)
        lineno, position = self.lineno, self.position
        first = lineno
        try:
            for raw in lines:
                if raw is None:
                    self.lineno, self.position = lineno, position
                    idle()
                    self._progress()
                    if (stop is not None and stop()) or (engine and engine.stopped_reason):
                        break
                    continue
                lineno += 1
                position += len(raw)
                if not raw.strip():
                    add((), position, lineno)
                    continue
                event, request, problem = parse_line(raw)
                if problem is not None:
                    summary.malformed += 1
                    self.say("malformed lines", f"line {lineno}: {problem}")
                    add((), position, lineno)
                    continue
                summary.events += 1
                outcome = process(event, request, lineno)
                if outcome.failed:
                    summary.errors += 1
                    self.say("internal errors", f"line {lineno}: {outcome.reason}")
                add(outcome.items, position, lineno)
                if not lineno & 255:  # flags and progress every 256 lines, not every line
                    self.lineno, self.position = lineno, position
                    if (stop is not None and stop()) or (engine and engine.stopped_reason):
                        break
                    if not lineno & 1023:
                        self._progress()
            else:
                return True
        finally:
            self.lineno, self.position = lineno, position
            summary.lines = lineno - first
        if stop is not None and stop():
            summary.interrupted = summary.interrupted or "stop requested"
        return False

    def _progress(self) -> None:
        if self.hooks.progress is not None:
            self._fill(self._delivery() if self._delivery is not None else None)
            self.hooks.progress(self.summary)

    def _fill(self, delivery: dict[str, object] | None) -> None:
        self.summary.duration = time.monotonic() - self.started
        if self.ingestor is not None:
            stats = self.ingestor.stats()
            self.summary.matched = dict(stats.matched)
            self.summary.unmatched = stats.unmatched
            self.summary.skipped = dict(stats.skipped)
            self.summary.consent = dict(stats.consent)
            self.summary.emitted = stats.emitted
            self.summary.rejected = dict(stats.rejected)
            self.summary.invalid_values = dict(stats.invalid_values)
        if delivery is not None:
            self.summary.delivery = dict(delivery)
