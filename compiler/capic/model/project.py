"""Finding, reading, parsing (cached, in parallel when many) and resolving projects.

A project is a directory with a ``capic.toml`` and any number of ``*.capi`` files below it.
Loose files outside a project form one ad-hoc project. Spans in the IR use paths relative to
the project root (posix), so the rule model and bundles do not depend on the working
directory; :meth:`LoadResult.display_path` turns them back into paths for people.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import hashlib
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from capic import __version__
from capic.codes import code
from capic.diagnostics import Diagnostic, Severity, Span
from capic.resources import grammar_text
from capic.syntax.redact import redact

if TYPE_CHECKING:
    # Imported where the rule model is built: discovery (and a check whose result is cached)
    # never needs it, and its dataclasses take a while to create.
    from capic.model import ir

CONFIG_NAME = "capic.toml"
CACHE_DIR = ".capic_cache"
#: Below this many files to parse, worker start-up costs more than it saves.
PARALLEL_THRESHOLD = 48


@dataclass
class LoadResult:
    """What loading one project gives: the IR (None when it could not be built) and every
    diagnostic found on the way."""

    root: Path
    config: ir.ProjectConfig
    project: ir.Project | None
    diagnostics: list[Diagnostic]
    files: list[str] = field(default_factory=list)
    #: When set, only these project-relative files were asked for (diagnostics elsewhere are
    #: still computed, because names resolve across the whole project, but not reported).
    focus: set[str] | None = None
    _shown: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.project is not None and not any(
            d.severity >= Severity.ERROR for d in self.diagnostics
        )

    def display_path(self, rel: str) -> str:
        key = (rel, os.getcwd())
        shown = self._shown.get(key)
        if shown is None:
            shown = self._shown[key] = self._display_path(rel)
        return shown

    def _display_path(self, rel: str) -> str:
        # Like ruff: relative to the working directory for files below it, else absolute
        # (a path full of ../ is neither stable nor readable).
        absolute = Path(os.path.normpath(self.root / rel))
        try:
            return absolute.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return str(absolute)


@dataclass(frozen=True)
class ProjectSpec:
    root: Path
    config_path: Path | None
    files: list[Path]
    focus: set[Path] | None


# ----------------------------------------------------------------------------- discovery


def find_project_root(start: Path) -> Path | None:
    for parent in [start, *start.parents]:
        if (parent / CONFIG_NAME).is_file():
            return parent
    return None


def _capi_files(root: Path) -> list[Path]:
    # .gitignore and the exclude settings decide (capic.files).
    from capic.files import capi_files

    return capi_files(root)


#: Texts to use instead of the files on disk (absolute paths): unsaved editor buffers, stdin,
#: and the rounds of ``capic check --fix``. A path here need not exist on disk.
Overlay = Mapping[Path, str]
#: The name of standard input when it has no --stdin-filename (a file of no project).
STDIN_NAME = "-"


def discover(
    paths: Sequence[str | Path], overlay: Overlay | None = None
) -> tuple[list[ProjectSpec], list[Diagnostic]]:
    """Group the given paths into projects."""
    overlay = overlay or {}
    problems: list[Diagnostic] = []
    by_root: dict[Path, ProjectSpec] = {}
    loose: list[Path] = []
    for raw in paths:
        p = Path(raw).resolve()
        if p.name == STDIN_NAME and p in overlay:
            loose.append(p)
            continue
        if p.is_dir():
            root = p if (p / CONFIG_NAME).is_file() else find_project_root(p)
            if root is None:
                files = _capi_files(p)
                if not files:
                    problems.append(
                        code("C002").diagnostic(
                            f"{raw}: no capic.toml and no .capi files here",
                            None,
                            "pass a project directory",
                        )
                    )
                loose.extend(files)
                continue
            spec = by_root.get(root)
            if spec is None or spec.focus is not None:
                by_root[root] = ProjectSpec(root, root / CONFIG_NAME, _capi_files(root), None)
        elif p.is_file() or p.suffix == ".capi" or p in overlay:
            if not p.is_file() and p not in overlay:
                problems.append(
                    code("C002").diagnostic(f"{raw}: no such file", None, "check the path")
                )
                continue
            root = find_project_root(p.parent)
            if root is None:
                loose.append(p)
                continue
            spec = by_root.get(root)
            if spec is None:
                spec = by_root[root] = ProjectSpec(root, root / CONFIG_NAME, _capi_files(root), {p})
            elif spec.focus is not None:
                spec.focus.add(p)
            if p not in spec.files:
                # Named on the command line: checked even when excluded or git-ignored.
                spec.files.append(p)
                spec.files.sort()
        else:
            problems.append(
                code("C002").diagnostic(f"{raw}: no such file or directory", None, "check the path")
            )
    specs = [by_root[r] for r in sorted(by_root)]
    for spec in specs:
        # Unsaved editor buffers of new files belong to the project they are in.
        new = [q for q in overlay if q.suffix == ".capi" and q.is_relative_to(spec.root)]
        new = [q for q in new if q not in spec.files and not q.exists()]
        if new:
            spec.files.extend(new)
            spec.files.sort()
    if loose:
        loose = sorted(set(loose))
        common = Path(os.path.commonpath([str(f.parent) for f in loose]))
        specs.append(ProjectSpec(common, None, loose, None))
    return specs, problems


# ----------------------------------------------------------------------------- config

_PROJECT_KEYS = {
    "name",
    "default_environment",
    "default_country",
    "dob_order",
    "api_version",
    "secrets_dir",
}


def _key_span(text: str, rel: str, key: str) -> Span:
    m = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE) if key else None
    if m is None:
        return Span.point(rel, 1, 1)
    line = text.count("\n", 0, m.start()) + 1
    col = len(m.group(0)) - len(m.group(0).lstrip()) + 1
    return Span(rel, line, col, line, col + len(key))


def load_config(root: Path, config_path: Path | None) -> tuple[ir.ProjectConfig, list[Diagnostic]]:
    from capic.model import ir

    if config_path is None:
        return ir.ProjectConfig(name=root.name or "project"), []
    rel = config_path.name
    try:
        text = config_path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        return ir.ProjectConfig(name=root.name), [
            code("C001").diagnostic(f"cannot read {rel}: {exc}", Span.point(rel, 1, 1))
        ]
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        span = Span.point(rel, int(m.group(1)), int(m.group(2))) if m else Span.point(rel, 1, 1)
        return ir.ProjectConfig(name=root.name), [
            code("C001").diagnostic(f"{rel} is not valid TOML: {exc}", span, "fix the TOML syntax")
        ]
    diags = _validate_config(data, text, rel)
    project: dict[str, Any] = (
        data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    )
    lint = data.get("lint", {}) if isinstance(data.get("lint"), dict) else {}
    meta = data.get("meta", {}) if isinstance(data.get("meta"), dict) and not diags else {}

    def opt_str(key: str) -> str | None:
        v = project.get(key)
        return v if isinstance(v, str) else None

    name = opt_str("name") or root.name
    country = opt_str("default_country")
    config = ir.ProjectConfig(
        name=name,
        default_environment=opt_str("default_environment"),
        default_country=country.lower() if country else None,
        dob_order=opt_str("dob_order") or "mdy",
        api_version=opt_str("api_version") or "v25.0",
        secrets_dir=opt_str("secrets_dir"),
        consent="required" if opt_str("consent") == "required" else "optional",
        lint=lint,
        meta=meta,
        path=rel,
    )
    return config, diags


def _validate_config(data: dict[str, Any], text: str, rel: str) -> list[Diagnostic]:
    """Validate capic.toml except its [lint] table, which the linter validates itself (with
    suggestions, as C101/C102): reporting it here too would say everything twice."""
    from capic.resources import load_schema

    if "lint" in data:
        if not isinstance(data["lint"], dict):
            return [
                code("C001").diagnostic(
                    f"{rel}: lint must be a table", _key_span(text, rel, "lint"), "write [lint]"
                )
            ]
        data = {k: v for k, v in data.items() if k != "lint"}

    try:
        schema = load_schema("config")
    except FileNotFoundError:
        schema = None
    diags: list[Diagnostic] = []
    if schema is not None and _plainly_valid(data, schema):
        # The common case (a [project] table of plain strings): no need to import jsonschema
        # (~0.2 s) to learn that there is nothing to report.
        return diags
    if schema is not None:
        import jsonschema

        validator = jsonschema.Draft202012Validator(schema)
        for err in sorted(
            validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
        ):
            path = [str(p) for p in err.absolute_path]
            key = path[-1] if path else ""
            if err.validator == "additionalProperties":
                extra = re.findall(r"'([^']+)'", err.message)
                key = extra[0] if extra else key
            where = ".".join(path) or "(top level)"
            message = err.message
            if (
                err.validator == "enum"
                and isinstance(err.validator_value, list)
                and len(err.validator_value) > 8
            ):
                message = f"{err.instance!r} is not an allowed value"
            diags.append(
                code("C001").diagnostic(
                    f"{rel}: {where}: {message}",
                    _key_span(text, rel, key),
                    "see `capic schema config`",
                )
            )
        return diags
    project = data.get("project")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        diags.append(
            code("C001").diagnostic(
                f"{rel} needs a [project] table with a name",
                Span.point(rel, 1, 1),
                '[project]\nname = "shop"',
            )
        )
        return diags
    for key in project:
        if key not in _PROJECT_KEYS:
            diags.append(
                code("C001").diagnostic(
                    f"{rel}: unknown key project.{key}",
                    _key_span(text, rel, key),
                    f"keys: {', '.join(sorted(_PROJECT_KEYS))}",
                )
            )
    return diags


#: The JSON Schema keywords _plainly_valid() evaluates (or may ignore) for a [project] key.
_SIMPLE_KEYWORDS = {"type", "pattern", "enum", "minLength", "default", "description", "examples"}


def _plainly_valid(data: dict[str, Any], schema: dict[str, Any]) -> bool:
    """True when ``data`` certainly passes the config schema: only a [project] table whose
    values are strings meeting their property's pattern, enum and minLength. Anything else
    (a [lint] table, another type, a keyword this does not know) answers False, and the caller
    runs the full JSON Schema validation, which gives the messages."""
    project_ref = schema.get("properties", {}).get("project", {}).get("$ref")
    definition = schema.get("$defs", {}).get("project")
    if (
        set(data) != {"project"}
        or schema.get("additionalProperties") is not False
        or project_ref != "#/$defs/project"
        or not isinstance(definition, dict)
        or definition.get("type") != "object"
        or definition.get("additionalProperties") is not False
        or set(definition.get("required", [])) != {"name"}
    ):
        return False
    project = data["project"]
    properties = definition.get("properties", {})
    if not isinstance(project, dict) or "name" not in project:
        return False
    for key, value in project.items():
        rules = properties.get(key)
        if not isinstance(rules, dict) or not isinstance(value, str):
            return False
        if set(rules) - _SIMPLE_KEYWORDS or rules.get("type", "string") != "string":
            return False
        if "pattern" in rules and re.search(rules["pattern"], value) is None:
            return False
        if "enum" in rules and value not in rules["enum"]:
            return False
        if len(value) < rules.get("minLength", 0):
            return False
    return True


# ----------------------------------------------------------------------------- parsing + cache


def _grammar_fingerprint() -> str:
    return hashlib.sha256(f"{__version__}\0{grammar_text()}".encode()).hexdigest()[:16]


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
        self.fingerprint = _grammar_fingerprint() if enabled else ""

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
            given = overlay.get(path)
            raw = given.encode("utf-8") if given is not None else path.read_bytes()
            text = given if given is not None else raw.decode("utf-8-sig")
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


# ----------------------------------------------------------------------------- loading


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: loading builds ~200 acyclic objects per line, and
    the collections that triggers cost a quarter of a warm load without freeing anything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_spec(
    spec: ProjectSpec,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    overlay: Overlay | None = None,
) -> LoadResult:
    with paused_gc():
        return _load_spec(spec, use_cache=use_cache, jobs=jobs, overlay=overlay)


def _load_spec(
    spec: ProjectSpec, *, use_cache: bool, jobs: int | None, overlay: Overlay | None
) -> LoadResult:
    from capic.model import ir
    from capic.model.resolve import resolve

    config, diags = load_config(spec.root, spec.config_path)
    parsed, parse_diags = parse_files(
        spec.root,
        spec.files,
        use_cache=use_cache and spec.config_path is not None,
        jobs=jobs,
        overlay=overlay,
    )
    diags.extend(parse_diags)
    focus = (
        {f.relative_to(spec.root).as_posix() for f in spec.focus}
        if spec.focus is not None
        else None
    )
    result = LoadResult(spec.root, config, None, diags, [s.path for s, _ in parsed], focus)
    if any(tree is None for _, tree in parsed) or any(
        d.code in {"C002", "C003"} for d in parse_diags
    ):
        return result
    trees = [tree for _, tree in parsed]
    resolved, resolve_diags = resolve(trees)
    diags.extend(resolve_diags)
    result.project = ir.Project(
        config=config,
        root=str(spec.root),
        files=tuple(s for s, _ in parsed),
        **resolved,
    )
    if (
        config.default_environment
        and config.default_environment not in resolved["environments"]
        and config.path
    ):
        text = (spec.root / config.path).read_text(encoding="utf-8")
        diags.append(
            code("R013").diagnostic(
                f"default_environment {config.default_environment!r} is not declared",
                _key_span(text, config.path, "default_environment"),
                "declare it with environment NAME { ... }",
            )
        )
    return result


def load(
    paths: Sequence[str | Path],
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    overlay: Overlay | None = None,
) -> tuple[list[LoadResult], list[Diagnostic]]:
    specs, problems = discover(paths, overlay)
    return [load_spec(s, use_cache=use_cache, jobs=jobs, overlay=overlay) for s in specs], problems
