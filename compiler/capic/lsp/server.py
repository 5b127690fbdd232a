"""The pygls server: thin handlers over :mod:`capic.lsp.state` and the pure feature modules.

Checks run in a worker thread, debounced per project (``initializationOptions.debounce`` or
``capic lsp --debounce``, seconds; 0 checks on every change). A check whose buffers were
changed again while it ran is not published: the next one is.
"""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from capic import __version__
from capic.diagnostics import Edit, Severity
from capic.lint.engine import Finding
from capic.lint.registry import doc_url
from capic.lsp import actions, complete, hover, symbols
from capic.lsp.positions import Lines
from capic.lsp.state import Checked, State

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
_KINDS = {
    "keyword": types.CompletionItemKind.Keyword,
    "event": types.CompletionItemKind.EnumMember,
    "field": types.CompletionItemKind.Field,
    "section": types.CompletionItemKind.Module,
    "element": types.CompletionItemKind.Variable,
    "pixel": types.CompletionItemKind.Reference,
    "function": types.CompletionItemKind.Function,
    "value": types.CompletionItemKind.Constant,
}
DEFAULT_DEBOUNCE = 0.25


class CapicServer(LanguageServer):
    def __init__(self, debounce: float = DEFAULT_DEBOUNCE) -> None:
        super().__init__("capic", __version__)
        self.state = State()
        self.debounce = debounce
        self.pending: dict[Path, asyncio.Task[None]] = {}
        self._collector: asyncio.TimerHandle | None = None
        #: What was last published per project and file (unchanged files are not sent again;
        #: files whose findings went away are cleared).
        self.published: dict[Path, dict[Path, list[types.Diagnostic]]] = {}

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def path(uri: str) -> Path:
        fs = to_fs_path(uri)
        return Path(fs if fs is not None else uri).resolve()

    def text(self, uri: str) -> str:
        return self.workspace.get_text_document(uri).source

    def lines(self, path: Path) -> Lines:
        return Lines(self.state.text(path) or "")

    def schedule(self, uri: str) -> None:
        path = self.path(uri)
        key = self.state.key(path)
        previous = self.pending.get(key)
        if previous is not None and not previous.done():
            previous.cancel()
        self.pending[key] = asyncio.ensure_future(self._check_later(key, path))

    async def _check_later(self, key: Path, path: Path) -> None:
        if self.debounce > 0:
            await asyncio.sleep(self.debounce)
        me = asyncio.current_task()
        checked = await asyncio.to_thread(self.state.check, path)
        if self.pending.get(key) is not me:
            return  # a newer change is being checked
        self.publish(checked)
        self._collect_later()

    def _collect_later(self) -> None:
        """Collect garbage once the edits pause, not in the middle of a check: a check makes
        ~100,000 objects per 100 files, and a collection among them costs as much as a
        quarter of a check."""
        if self._collector is not None:
            self._collector.cancel()
        self._collector = asyncio.get_running_loop().call_later(1.0, self._collect)

    def _collect(self) -> None:
        self._collector = None
        if any(not task.done() for task in self.pending.values()):
            self._collect_later()
            return
        gc.collect()

    def publish(self, checked: Checked) -> None:
        """Publish the findings of every file of the checked project: open buffers first (the
        one being edited is waiting), then the files whose findings changed."""
        files = set(checked.files()) | set(checked.by_file)
        previous = self.published.get(checked.key, {})
        open_first = sorted(files | set(previous), key=lambda p: (p not in checked.versions, p))
        sent: dict[Path, list[types.Diagnostic]] = {}
        for path in open_first:
            findings = checked.by_file.get(path, [])
            diagnostics = [_diagnostic(f, self.lines(path)) for f in findings] if findings else []
            sent[path] = diagnostics
            if path not in checked.versions and previous.get(path) == diagnostics:
                continue
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=from_fs_path(str(path)) or path.as_uri(),
                    diagnostics=diagnostics,
                    version=checked.versions.get(path),
                )
            )
        self.published[checked.key] = sent

    def project_of(self, path: Path) -> tuple[Any, str] | None:
        found = self.state.project(path)
        if found is None:
            self.state.check(path)
            found = self.state.project(path)
        return found

    def location(self, root: Path, span: Any) -> types.Location:
        target = (root / span.file).resolve()
        return types.Location(
            uri=from_fs_path(str(target)) or target.as_uri(), range=self.lines(target).range(span)
        )


def _diagnostic(finding: Finding, lines: Lines) -> types.Diagnostic:
    d = finding.diagnostic
    assert d.span is not None
    url = doc_url(d.code)
    return types.Diagnostic(
        range=lines.range(d.span),
        severity=_SEVERITY[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=url) if url else None,
        source="capic",
        message=d.message + (f"\nhelp: {d.help}" if d.help else ""),
    )


def _edit(lines: Lines, edit: Edit) -> types.TextEdit:
    return types.TextEdit(range=lines.range(edit.span), new_text=edit.content)


def build(debounce: float = DEFAULT_DEBOUNCE) -> CapicServer:
    # Collections happen between bursts of edits (CapicServer._collect_later).
    gc.disable()
    server = CapicServer(debounce)

    @server.feature(types.INITIALIZE)
    def initialize(ls: CapicServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounce"), int | float):
            ls.debounce = max(0.0, float(options["debounce"]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CapicServer, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        ls.state.open(ls.path(doc.uri), doc.text, doc.version)
        ls.schedule(doc.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CapicServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = params.text_document
        ls.state.change(ls.path(doc.uri), ls.text(doc.uri), doc.version)
        ls.schedule(doc.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CapicServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CapicServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.state.close(ls.path(params.text_document.uri))
        ls.schedule(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: CapicServer, params: types.DidChangeWatchedFilesParams) -> None:
        # A file changed on disk (another rule file, capic.toml, pyproject.toml): check the
        # projects of the open buffers again.
        for key in {ls.state.key(path) for path in ls.state.buffers}:
            opened = next(p for p in ls.state.buffers if ls.state.key(p) == key)
            ls.schedule(from_fs_path(str(opened)) or opened.as_uri())

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: CapicServer, params: types.HoverParams) -> types.Hover | None:
        path = ls.path(params.text_document.uri)
        found = ls.project_of(path)
        if found is None:
            return None
        project, rel = found
        text = ls.text(params.text_document.uri)
        line, column = Lines(text).point(params.position)
        value = hover.hover(project, rel, text, line, column)
        if value is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=value)
        )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[" "]),
    )
    def on_completion(ls: CapicServer, params: types.CompletionParams) -> types.CompletionList:
        path = ls.path(params.text_document.uri)
        text = ls.text(params.text_document.uri)
        lines = Lines(text)
        line, column = lines.point(params.position)
        before = "\n".join([*lines.lines[: line - 1], lines.line(line)[: column - 1]])
        last = ls.state.project(path)
        items = complete.completions(before, last[0] if last is not None else None)
        return types.CompletionList(
            is_incomplete=False,
            items=[
                types.CompletionItem(
                    label=item.label,
                    kind=_KINDS.get(item.kind),
                    detail=item.detail,
                    documentation=item.documentation,
                )
                for item in items
            ],
        )

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: CapicServer, params: types.DefinitionParams) -> types.Location | None:
        path = ls.path(params.text_document.uri)
        found = ls.project_of(path)
        if found is None:
            return None
        project, rel = found
        line, column = Lines(ls.text(params.text_document.uri)).point(params.position)
        index = symbols.Index.of(project)
        symbol = index.at(rel, line, column)
        target = index.definition(symbol) if symbol is not None else None
        if target is None:
            return None
        return ls.location(Path(project.root), target.span)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    def on_references(ls: CapicServer, params: types.ReferenceParams) -> list[types.Location]:
        path = ls.path(params.text_document.uri)
        found = ls.project_of(path)
        if found is None:
            return []
        project, rel = found
        line, column = Lines(ls.text(params.text_document.uri)).point(params.position)
        index = symbols.Index.of(project)
        symbol = index.at(rel, line, column)
        if symbol is None:
            return []
        spans = index.usages(symbol, params.context.include_declaration)
        return [ls.location(Path(project.root), span) for span in spans]

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def on_code_action(ls: CapicServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        path = ls.path(uri)
        text = ls.text(uri)
        lines = Lines(text)
        findings = list(ls.state.findings(path))
        if not findings:
            return []
        root = findings[0].root
        first, last = params.range.start.line + 1, params.range.end.line + 1
        out = []
        for action in actions.actions([f.diagnostic for f in findings], text, first, last):
            by_uri: dict[str, list[types.TextEdit]] = {}
            for edit in action.edits:
                target = (root / edit.span.file).resolve() if root is not None else path
                target_uri = uri if target == path else (from_fs_path(str(target)) or uri)
                target_lines = lines if target == path else ls.lines(target)
                by_uri.setdefault(target_uri, []).append(_edit(target_lines, edit))
            out.append(
                types.CodeAction(
                    title=action.title,
                    kind=types.CodeActionKind.QuickFix,
                    is_preferred=action.preferred,
                    edit=types.WorkspaceEdit(changes=by_uri),
                )
            )
        return out

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def on_formatting(
        ls: CapicServer, params: types.DocumentFormattingParams
    ) -> list[types.TextEdit] | None:
        from capic.fmt import FormatError, format_text

        text = ls.text(params.text_document.uri)
        try:
            result = format_text(text, ls.path(params.text_document.uri).name)
        except FormatError:
            return None  # a syntax error: the diagnostics say where
        if result.text == text:
            return []
        lines = Lines(text)
        last = len(lines.lines)
        whole = types.Range(
            start=types.Position(line=0, character=0),
            end=lines.position(last, len(lines.line(last)) + 1),
        )
        return [types.TextEdit(range=whole, new_text=result.text)]

    return server
