"""Reading and parsing a project's files: in parallel when many, through the parse cache on
disk (``<root>/.capic_cache``) and the trees a long-lived process remembers.

Spans use paths relative to the project root (posix), so the rule model and bundles do not
depend on the working directory.
"""

from __future__ import annotations

import collections
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from capic import __version__
from capic.codes import code
from capic.diagnostics import Diagnostic, Span
from capic.limits import file_too_large
from capic.model.discovery import CACHE_DIR, Overlay
from capic.resources import data_dir
from capic.syntax.redact import redact

if TYPE_CHECKING:
    from capic.model import ir

__all__ = ["CACHE_DIR", "PARALLEL_THRESHOLD", "ParseCache", "code_fingerprint", "parse_files"]

#: Below this many files to parse, worker start-up costs more than it saves.
PARALLEL_THRESHOLD = 48


def code_fingerprint() -> str:
    """capic's own files (code, schemas, grammar) by path, size and modification time: a
    development checkout changes without a version bump. Both caches key on it: a parse
    depends on the parser's code and the front end's limits, not only on the grammar."""
    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(__version__.encode())
    for top in (package, data_dir("schemas"), data_dir("grammar")):
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith((".py", ".json", ".lark")):
                    st = os.stat(os.path.join(dirpath, name))
                    h.update(f"{dirpath}/{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _parse_one(
    args: tuple[str, str, str | None, str, bool],
) -> tuple[Any, list[Diagnostic], bool, bytes | None]:
    """Parse one file. With a cache directory the entry is written there (by the worker
    itself, in parallel runs). Returns (AST or None, diagnostics, False when the cache directory
    cannot be written, the entry's bytes when ``as_json``: None when this tree cannot be
    encoded). Workers send the JSON form back rather than
    the objects: it is needed for the cache anyway, and orjson plus rebuilding the frozen
    dataclasses costs less than pickling them both ways."""
    from capic.syntax.parser import parse_text

    text, rel, cache_dir, key, as_json = args
    tree, diags = parse_text(text, rel)
    if cache_dir is None and not as_json:
        return tree, diags, False, None
    from capic.syntax import serialize

    try:
        encoded = orjson.dumps(
            [
                serialize.dump(tree) if tree is not None else None,
                [serialize.dump_diagnostic(d) for d in diags],
            ]
        )
    except orjson.JSONEncodeError:
        # Deeper than the encoder nests (the front end's limits keep trees well below it):
        # this file is simply not cached, and a worker leaves it to the parent process.
        if as_json:
            return None, [], True, None
        return tree, diags, True, None
    written = cache_dir is not None and _write_cache_entry(Path(cache_dir), key, encoded)
    if as_json:
        return None, [], written, encoded
    return tree, diags, written, None


def _write_cache_entry(directory: Path, key: str, encoded: bytes) -> bool:
    """Write one parse-cache entry atomically; False when the tree is read-only."""
    try:
        target = directory / key[:2]
        target.mkdir(parents=True, exist_ok=True)
        marker = directory.parent / ".gitignore"
        if not marker.exists():
            marker.write_text("# created by capic: the parse cache, safe to delete\n*\n")
        tmp = target / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(encoded)
        os.replace(tmp, target / key)
    except OSError:
        return False
    return True


class ParseCache:
    """Content-addressed parse results under ``<root>/.capic_cache`` (safe to delete)."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.dir = root / CACHE_DIR / "parse"
        self.enabled = enabled
        self.fingerprint = code_fingerprint() if enabled else ""

    def key(self, rel: str, text: str) -> str:
        h = hashlib.sha256(f"{self.fingerprint}\0{rel}\0".encode())
        h.update(text.encode("utf-8"))
        return h.hexdigest()

    def get(self, key: str) -> Any | None:
        if not self.enabled:
            return None
        try:
            return orjson.loads((self.dir / key[:2] / key).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None

    def put(self, key: str, value: Any) -> None:
        if self.enabled and not _write_cache_entry(self.dir, key, orjson.dumps(value)):
            # A read-only tree simply runs without a cache.
            self.enabled = False


#: Parse results by cache directory and key (content, path, grammar, version), in memory: the
#: trees are immutable, so a long-lived process reuses them instead of reading and rebuilding
#: them from the parse cache on every check. Bounded, least recently used first out.
_TREES: collections.OrderedDict[str, tuple[Any, list[Diagnostic]]] = collections.OrderedDict()
_TREES_MAX = 4096


def _remember(key: str, tree: Any, diagnostics: list[Diagnostic]) -> None:
    _TREES[key] = (tree, diagnostics)
    _TREES.move_to_end(key)
    while len(_TREES) > _TREES_MAX:
        _TREES.popitem(last=False)


def parse_files(
    root: Path,
    files: list[Path],
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    overlay: Overlay | None = None,
) -> tuple[list[tuple[ir.SourceFile, Any]], list[Diagnostic]]:
    """Read and parse files (relative paths for spans). Returns (source, AST or None) pairs."""
    from capic.model import ir

    overlay = overlay or {}
    cache = ParseCache(root, enabled=use_cache)
    diags: list[Diagnostic] = []
    sources: list[tuple[ir.SourceFile, str, str]] = []
    for path in files:
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            # Bytes of a file name that are not UTF-8 reach Python as lone surrogates, which
            # no hash, cache or output format can encode: the file is reported, not read.
            shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            diags.append(
                code("C003").diagnostic(
                    f"{shown}: the file name is not valid UTF-8",
                    Span.point(shown, 1, 1),
                    "rename the file",
                )
            )
            continue
        try:
            given = overlay.get(path)
            # Standard input that is not UTF-8 arrives with its bytes as lone surrogates.
            raw = (
                given.encode("utf-8", "surrogateescape") if given is not None else path.read_bytes()
            )
            text = raw.decode("utf-8" if given is not None else "utf-8-sig")
        except OSError as exc:
            diags.append(
                code("C002").diagnostic(
                    f"{rel}: cannot read: {exc.strerror}", Span.point(rel, 1, 1)
                )
            )
            continue
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            diags.append(
                code("C003").diagnostic(
                    f"{rel}: not valid UTF-8 (byte {exc.start})",
                    Span.point(rel, line, 1),
                    "save the file as UTF-8",
                )
            )
            continue
        if (too_large := file_too_large(len(raw), rel)) is not None:
            diags.append(too_large)
            continue
        digest = hashlib.sha256(raw).hexdigest()
        # Inline tokens are masked before anything reads, shows or caches the text.
        text = redact(text)
        sources.append(
            (ir.SourceFile(rel, digest, text.count("\n") + 1, text), text, cache.key(rel, text))
        )

    hits: dict[str, Any] = {}
    parsed: dict[str, tuple[Any, list[Diagnostic]]] = {}
    todo: list[tuple[str, str, str | None, str, bool]] = []
    for src, text, key in sources:
        remembered = _TREES.get(f"{cache.dir}\0{key}") if cache.enabled else None
        if remembered is not None:
            # A long-lived process (language server, watch mode) has seen this text before.
            _TREES.move_to_end(f"{cache.dir}\0{key}")
            parsed[src.path] = remembered
            continue
        hit = cache.get(key)
        if hit is not None:
            hits[src.path] = hit
        else:
            todo.append((text, src.path, str(cache.dir) if cache.enabled else None, key, False))
    if todo:
        workers = jobs if jobs is not None else min(os.cpu_count() or 1, 8)
        if workers > 1 and len(todo) >= PARALLEL_THRESHOLD:
            # Workers write the cache entries themselves and send the JSON form back.
            # (Imported here: concurrent.futures.process costs more to import than a small
            # project takes to check.)
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=workers) as pool:
                shipped = [(*args[:4], True) for args in todo]
                for args, (_, _, _, encoded) in zip(
                    todo, pool.map(_parse_one, shipped, chunksize=16), strict=True
                ):
                    if encoded is None:
                        tree, tree_diags, _, _ = _parse_one((*args[:2], None, args[3], False))
                        parsed[args[1]] = (tree, tree_diags)
                    else:
                        hits[args[1]] = orjson.loads(encoded)
        else:
            for text, rel, cache_dir, key, _ in todo:
                tree, tree_diags, written, _ = _parse_one(
                    (text, rel, cache_dir if cache.enabled else None, key, False)
                )
                if cache.enabled and not written:
                    cache.enabled = False  # a read-only tree simply runs without a cache
                parsed[rel] = (tree, tree_diags)

    out: list[tuple[ir.SourceFile, Any]] = []
    for src, _, key in sources:
        if src.path in parsed:
            tree, tree_diags = parsed[src.path]
            diags.extend(tree_diags)
        else:
            from capic.syntax import serialize

            tree_data, diag_data = hits[src.path]
            tree = serialize.load(tree_data) if tree_data is not None else None
            tree_diags = [serialize.load_diagnostic(d) for d in diag_data]
            diags.extend(tree_diags)
        if cache.enabled:
            _remember(f"{cache.dir}\0{key}", tree, list(tree_diags))
        comments = tree.comments if tree is not None else ()
        out.append((ir.SourceFile(src.path, src.sha256, src.lines, src.text, comments), tree))
    return out, diags
