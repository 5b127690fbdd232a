"""The active rules of the service: where they come from, and reloading them safely.

Two sources:

- :class:`BundleSource` (production): a bundle file, verified (and its signature checked
  with ``--key``) through :class:`capic.bundle.load.BundleSlot`, the keep-last-good slot.
  Nothing of the compiler front end is imported.
- :class:`ProjectSource` (development, ``capic serve PROJECT``): the project compiled in
  memory through :mod:`capic.api`, again whenever a source file changes.

:class:`RuleSet` holds what the service built from the active rules (its request handlers
read it once per request, so a request that started on the old rules finishes on them: a
reload never drops an event in flight) and replaces it only when the new rules loaded *and*
could be built (tokens resolvable, site settings usable). Otherwise the previous ones stay
active and the log says why. Reloads come from SIGHUP or from the watcher thread, which looks
at the files every ``interval`` seconds.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from capic.bundle.load import BundleSlot

__all__ = ["BundleSource", "Loaded", "ProjectSource", "RuleSet", "RuleSource", "SourceError"]

log = logging.getLogger("capic.serve")

A = TypeVar("A")


class SourceError(Exception):
    """The rules could not be loaded (or built into the service): one line saying why."""


@dataclass(frozen=True, slots=True)
class Loaded:
    module: ModuleType
    project: str
    environment: str | None
    revision: str
    description: str


class RuleSource(Protocol):
    def load(self) -> Loaded: ...

    def fingerprint(self) -> object:
        """Changes whenever the files behind the rules change."""


def _stat(path: Path) -> tuple[str, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino)


class BundleSource:
    def __init__(
        self,
        path: str | Path,
        *,
        env_name: str | None = None,
        key: Ed25519PublicKey | str | Path | None = None,
        slot: BundleSlot | None = None,
    ) -> None:
        """``slot`` (how bundles are verified) defaults to one that requires a signature by
        ``key`` when a key is given."""
        from capic.bundle.load import BundleSlot

        self.path = Path(path)
        self.env_name = env_name
        self.slot = slot or BundleSlot(key=key, require_signature=key is not None)

    def load(self) -> Loaded:
        result = self.slot.switch(self.path)
        if not result.switched or result.active is None:
            raise SourceError(result.reason or f"{self.path.name} could not be loaded")
        bundle = result.active
        m = bundle.manifest
        if self.env_name is not None and m.environment != self.env_name:
            raise SourceError(
                f"{self.path.name} was built for environment {m.environment!r}, "
                f"not {self.env_name!r}"
            )
        return Loaded(bundle.module, m.project, m.environment, m.revision, bundle.describe())

    def fingerprint(self) -> object:
        return _stat(self.path)


class ProjectSource:
    """A project compiled in memory (development). Imports the compiler through capic.api."""

    def __init__(self, path: str | Path, *, env_name: str | None = None) -> None:
        self.path = Path(path)
        self.env_name = env_name

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        found = [
            p
            for p in self.path.rglob("*")
            if p.suffix == ".capi" or p.name in ("capic.toml", "pyproject.toml")
        ]
        return sorted(p for p in found if ".capic_outbox" not in p.parts)

    def fingerprint(self) -> object:
        return tuple(_stat(p) for p in self._files())

    def load(self) -> Loaded:
        from capic import api
        from capic.diagnostics import Severity

        try:
            result = api.load_project(self.path, use_cache=False)
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        errors = [d for d in result.diagnostics if d.severity >= Severity.ERROR]
        if result.project is None or errors:
            shown = "; ".join(
                f"{d.span.file}:{d.span.line}: {d.code} {d.message}" if d.span else d.message
                for d in errors[:3]
            )
            raise SourceError(f"the project has {len(errors)} error(s): {shown}")
        project = result.project
        try:
            source = api.compile_project(project, self.env_name)
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        digest = hashlib.sha256(source.encode()).hexdigest()
        module = api.load_compiled(source, name=f"capic_serve_{digest[:16]}")
        env = getattr(module, "ENVIRONMENT", None)
        description = f"{project.name} {env or 'no environment'} (compiled from {self.path})"
        return Loaded(module, project.name, env, digest, description)


class RuleSet(Generic[A]):
    """The active build of the rules (see the module docstring). Thread-safe."""

    def __init__(
        self,
        source: RuleSource,
        build: Callable[[Loaded], A],
        *,
        on_activate: Callable[[Loaded], None] | None = None,
        on_reload: Callable[[bool], None] | None = None,
    ) -> None:
        self.source = source
        self._build = build
        self._on_activate = on_activate
        self._on_reload = on_reload
        self._lock = threading.Lock()
        self._active: A | None = None
        self.loaded: Loaded | None = None
        self._seen: object = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def active(self) -> A:
        active = self._active
        if active is None:
            raise SourceError("no rules are active")
        return active

    def _load_and_build(self) -> tuple[Loaded, A]:
        loaded = self.source.load()
        try:
            built = self._build(loaded)
        except SourceError:
            raise
        except Exception as exc:  # a config problem of the new rules: keep the old ones
            raise SourceError(f"{loaded.description}: {exc}") from None
        return loaded, built

    def start(self) -> A:
        """The first activation: raises :class:`SourceError` when it fails."""
        with self._lock:
            self._seen = self.source.fingerprint()
            loaded, built = self._load_and_build()
            self._activate(loaded, built)
            return built

    def _activate(self, loaded: Loaded, built: A) -> None:
        self._active, self.loaded = built, loaded
        if self._on_activate is not None:
            self._on_activate(loaded)

    def reload(self, why: str) -> bool:
        """Load the rules again; True when new ones are active."""
        with self._lock:
            self._seen = self.source.fingerprint()
            try:
                loaded, built = self._load_and_build()
            except SourceError as exc:
                kept = self.loaded.description if self.loaded else "nothing"
                log.warning("reload (%s) failed: %s; keeping %s", why, exc, kept)
                if self._on_reload is not None:
                    self._on_reload(False)
                return False
            self._activate(loaded, built)
            log.info("reload (%s): activated %s", why, loaded.description)
            if self._on_reload is not None:
                self._on_reload(True)
            return True

    # ------------------------------------------------------------------ watching
    def watch(self, interval: float) -> None:
        """Reload whenever the source's files change (checked every ``interval`` seconds)."""
        if interval <= 0 or self._watcher is not None:
            return
        self._watcher = threading.Thread(
            target=self._watch, args=(interval,), name="capic-watch", daemon=True
        )
        self._watcher.start()

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                current = self.source.fingerprint()
            except OSError:
                continue
            if current != self._seen and current is not None:
                # A file being written shows up as a change per write: wait for it to settle.
                if self._stop.wait(min(interval, 0.2)) or self.source.fingerprint() != current:
                    continue
                self.reload("file changed")

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=2)
