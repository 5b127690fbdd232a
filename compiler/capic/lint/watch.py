"""``capic check --watch``: check, then check again whenever a file that matters changes.

Polling, not an OS notification API: it needs no dependency, works the same on every system
and file system (network shares, containers with bind mounts), and costs one ``stat`` per rule
file per interval. What is watched: the rule files of every project checked (new and deleted
ones included, since the file list is taken again each time), their ``capic.toml``, the
``pyproject.toml`` and ``.gitignore`` files that decide their settings. A change is acted on
once the files have been still for one interval (editors save in several steps).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from capic.files import git_top_level
from capic.lint.run import CheckRequest, Streams, UsageError, execute, stdin_path

#: Seconds between two looks at the files.
INTERVAL = 0.3

Snapshot = dict[Path, tuple[int, int]]


def _config_chain(root: Path) -> Iterable[Path]:
    top = git_top_level(root)
    for directory in [root, *root.parents]:
        for name in ("capic.toml", "pyproject.toml", ".gitignore"):
            yield directory / name
        if directory == top:
            break


def snapshot(request: CheckRequest) -> Snapshot:
    """(mtime, size) of every file whose change means checking again."""
    from capic.model.project import discover

    paths = list(request.paths) or ["."]
    specs, _ = discover(paths)
    watched: set[Path] = {Path(p).resolve() for p in paths}
    for spec in specs:
        watched.update(spec.files)
        watched.update(_config_chain(spec.root))
    out: Snapshot = {}
    for path in watched:
        try:
            st = path.stat()
        except OSError:
            continue
        out[path] = (st.st_mtime_ns, st.st_size)
    return out


def _stamp(text: str) -> str:
    return f"[{time.strftime('%H:%M:%S')}] {text}\n"


def watch_loop(
    request: CheckRequest,
    *,
    streams: Streams | None = None,
    stop: threading.Event | None = None,
    interval: float = INTERVAL,
) -> int:
    """Check on start and after every change, until interrupted (Ctrl-C, SIGTERM) or ``stop``
    is set. Returns 0: the findings were shown; watching itself succeeded."""
    if stdin_path(request) is not None:
        raise UsageError("--watch cannot read standard input")
    io = streams or Streams()
    stopping = stop or threading.Event()
    previous = _on_sigterm(stopping)
    try:
        io.out.write(_stamp("Checking in watch mode (Ctrl-C stops)"))
        last = snapshot(request)
        _once(request, io)
        while not stopping.wait(interval):
            now = snapshot(request)
            if now == last:
                continue
            # Wait for the editor to finish saving: act once nothing moved for an interval.
            while not stopping.wait(interval):
                settled = snapshot(request)
                if settled == now:
                    break
                now = settled
            if stopping.is_set():
                break
            last = now
            io.out.write(_stamp("File change detected, checking again..."))
            _once(request, io)
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _once(request: CheckRequest, io: Streams) -> None:
    try:
        execute(request, io)
    except UsageError as exc:
        io.err.write(f"capic check: {exc}\n")
    io.out.write(_stamp("Watching for changes..."))
    io.out.flush()


def _on_sigterm(stopping: threading.Event) -> Any:
    """Stop cleanly on SIGTERM (only possible from the main thread); returns the handler to
    restore."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, handler)
    return previous if previous is not None else signal.SIG_DFL
