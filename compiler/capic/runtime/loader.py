"""Importing a generated rule module from its source text or a ``.py`` file.

Nothing is written to disk and nothing is added to ``sys.modules``: each call gives a fresh,
independent module. The source is registered with :mod:`linecache` so that tracebacks through
generated code show its lines.
"""

from __future__ import annotations

import hashlib
import linecache
from pathlib import Path
from types import ModuleType

from capic import RUNTIME_API_VERSION

__all__ = ["RuleModuleError", "load_module"]

#: What every generated module defines.
REQUIRED = ("process", "RULES", "PIXELS", "ENVIRONMENT", "SETTINGS", "SOURCES", "RUNTIME_API")


class RuleModuleError(ImportError):
    """The source is not a loadable capic rule module (or was built for another runtime)."""


def load_module(source: str | Path, *, name: str = "capic_rules") -> ModuleType:
    """Execute a generated module and return it.

    ``source`` is the module's text, or a :class:`~pathlib.Path` (or a string ending in
    ``.py`` that names an existing file) to read it from.
    """
    path: Path | None = None
    if isinstance(source, Path):
        path = source
    elif source.endswith(".py") and "\n" not in source and Path(source).is_file():
        path = Path(source)
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RuleModuleError(f"cannot read {path}: {exc}") from None
        filename = str(path)
    else:
        text = str(source)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        filename = f"<capic:{name}:{digest}>"
    try:
        code = compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise RuleModuleError(
            f"{filename} is not valid Python: {exc.msg} (line {exc.lineno})"
        ) from None
    module = ModuleType(name)
    module.__file__ = filename
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    exec(code, module.__dict__)
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise RuleModuleError(f"{filename} is not a capic rule module (no {', '.join(missing)})")
    api = getattr(module, "RUNTIME_API", None)
    if api != RUNTIME_API_VERSION:
        raise RuleModuleError(
            f"{filename} was generated for runtime API {api!r}; this capic runs API "
            f"{RUNTIME_API_VERSION!r}: compile it again"
        )
    return module
