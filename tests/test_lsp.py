"""`capic lsp` end to end: a real server process driven by pytest-lsp's client. Diagnostics on
open and change (the project's other files read from disk, open buffers from memory), hover,
completion, go to definition, references and code actions."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from capic.fmt import format_text
from tests.test_check_cli import PIXEL

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

ELEMENTS = """\
element email    = event.user.email
element order_id = event.order.id

shared user customer {
  external_id = event.user.id
}
"""
RULE = """\
rule "r" {
  send Lead to shop {
    event_id      = order_id
    event_time    = parse_time(event.time)
    action_source = "Email"
    user { em = email  ...customer }
  }
}
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "rules").mkdir(parents=True)
    (root / "capic.toml").write_text('[project]\nname = "shop"\n')
    (root / "pixels.capi").write_text(PIXEL)
    (root / "elements.capi").write_text(ELEMENTS)
    (root / "rules" / "lead.capi").write_text(RULE)
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "capic", "lsp"]),
)
async def client(lsp_client: LanguageClient, root: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=root.as_uri(),
            initialization_options={"debounce": 0},
        )
    )
    yield
    await lsp_client.shutdown_session()


def uri(path: Path) -> str:
    return path.resolve().as_uri()


def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri(path),
                language_id="capi",
                version=1,
                text=path.read_text() if text is None else text,
            )
        )
    )


def change(client: LanguageClient, path: Path, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri(path), version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def diagnostics_until(
    client: LanguageClient,
    path: Path,
    done: Callable[[Sequence[types.Diagnostic]], bool],
    timeout: float = 30.0,
) -> Sequence[types.Diagnostic]:
    async def wait() -> Sequence[types.Diagnostic]:
        while True:
            found = client.diagnostics.get(uri(path))
            if found is not None and done(found):
                return found
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(wait(), timeout)


def codes(found: Sequence[types.Diagnostic]) -> set[str]:
    return {str(d.code) for d in found}


async def test_diagnostics_on_open_and_change(client: LanguageClient, root: Path) -> None:
    lead = root / "rules" / "lead.capi"
    open_doc(client, lead)
    found = await diagnostics_until(client, lead, lambda d: "L001" in codes(d))
    (l001,) = [d for d in found if d.code == "L001"]
    # 0-based line 4, the string literal "Email" (columns 20 to 27).
    assert l001.range == types.Range(
        start=types.Position(line=4, character=20), end=types.Position(line=4, character=27)
    )
    assert l001.severity == types.DiagnosticSeverity.Error and l001.source == "capic"
    assert l001.code_description is not None and "#l001" in l001.code_description.href
    # `email` and `order_id` come from elements.capi on disk: no unknown names.
    assert not {c for c in codes(found) if c.startswith("R")}
    # An edit that is not saved: the buffer is what is checked.
    change(client, lead, RULE.replace('"Email"', '"email"').replace("em = email", "em = emial"), 2)
    found = await diagnostics_until(client, lead, lambda d: "L001" not in codes(d))
    assert "R002" in codes(found)  # `emial` is unknown
    # Another file's buffer changes what this file sees.
    elements = root / "elements.capi"
    open_doc(client, elements)
    change(client, elements, ELEMENTS + "element emial = event.user.email\n", 2)
    found = await diagnostics_until(client, lead, lambda d: "R002" not in codes(d))
    assert not {c for c in codes(found) if c.startswith(("R", "S"))}
    # A configuration change on disk, announced by the client's file watcher.
    change(client, lead, RULE, 3)
    await diagnostics_until(client, lead, lambda d: "L001" in codes(d))
    (root / "capic.toml").write_text('[project]\nname = "shop"\n[lint]\nignore = ["L001"]\n')
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=uri(root / "capic.toml"), type=types.FileChangeType.Changed)
            ]
        )
    )
    await diagnostics_until(client, lead, lambda d: "L001" not in codes(d))


async def test_hover_completion_definition_references(client: LanguageClient, root: Path) -> None:
    lead = root / "rules" / "lead.capi"
    open_doc(client, lead)
    await diagnostics_until(client, lead, lambda d: True)
    doc = types.TextDocumentIdentifier(uri=uri(lead))

    async def hover_at(line: int, character: int) -> str:
        result = await client.text_document_hover_async(
            types.HoverParams(
                text_document=doc, position=types.Position(line=line, character=character)
            )
        )
        assert result is not None and isinstance(result.contents, types.MarkupContent)
        return result.contents.value

    # An element: its definition and inferred type.
    text = await hover_at(2, 22)
    assert "element order_id = event.order.id" in text and "elements.capi:2" in text
    # A key of the send: Meta's description from the JSON Schema.
    assert "event_time" in await hover_at(3, 6)
    assert "Email address" in await hover_at(5, 12)
    # A function: its signature.
    assert "parse_time(arg1, arg2?) -> number" in await hover_at(3, 22)
    # The event: what Meta says about it.
    assert "Lead" in await hover_at(1, 8)

    # Completion: the keys of user_data inside `user { }`.
    change(
        client, lead, RULE.replace("user { em = email  ...customer }", "user {\n      ex\n    }"), 2
    )
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc, position=types.Position(line=6, character=8))
    )
    assert result is not None
    labels = {
        i.label for i in (result.items if isinstance(result, types.CompletionList) else result)
    }
    assert labels == {"external_id"}
    # Values: the project's elements and the standard library.
    change(client, lead, RULE.replace("event_id      = order_id", "event_id      = or"), 3)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc, position=types.Position(line=2, character=22))
    )
    assert result is not None
    items = result.items if isinstance(result, types.CompletionList) else result
    assert {i.label for i in items} == {"order_id"}
    change(client, lead, RULE, 4)
    await diagnostics_until(client, lead, lambda d: "L001" in codes(d))

    # Go to definition: the element in elements.capi.
    location = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=types.Position(line=5, character=17))
    )
    assert isinstance(location, types.Location)
    assert location.uri == uri(root / "elements.capi")
    assert location.range.start == types.Position(line=0, character=8)
    # ... and the shared block a send spreads.
    location = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=types.Position(line=5, character=27))
    )
    assert isinstance(location, types.Location)
    assert location.uri == uri(root / "elements.capi")
    assert location.range.start == types.Position(line=3, character=12)
    # References of the pixel: its declaration and the send.
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc,
            position=types.Position(line=1, character=16),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None
    assert {(r.uri, r.range.start.line) for r in refs} == {
        (uri(root / "pixels.capi"), 0),
        (uri(lead), 1),
    }


async def test_code_actions_fix_and_noqa(client: LanguageClient, root: Path) -> None:
    lead = root / "rules" / "lead.capi"
    open_doc(client, lead)
    found = await diagnostics_until(client, lead, lambda d: "L001" in codes(d))
    (l001,) = [d for d in found if d.code == "L001"]
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri(lead)),
            range=l001.range,
            context=types.CodeActionContext(diagnostics=[l001]),
        )
    )
    assert result is not None
    titles = {a.title: a for a in result if isinstance(a, types.CodeAction)}
    fix = titles['L001: Replace with "email"']
    assert fix.is_preferred
    assert fix.edit is not None and fix.edit.changes is not None
    (edit,) = fix.edit.changes[uri(lead)]
    assert edit.new_text == '"email"' and edit.range == l001.range
    noqa = titles["L001: suppress with `# noqa: L001`"]
    assert noqa.edit is not None and noqa.edit.changes is not None
    (edit,) = noqa.edit.changes[uri(lead)]
    assert edit.new_text == "  # noqa: L001"
    assert edit.range.start == types.Position(line=4, character=27)


async def test_document_formatting(client: LanguageClient, root: Path) -> None:
    lead = root / "rules" / "lead.capi"
    messy = RULE.replace("event_id      = order_id", "event_id=order_id")
    open_doc(client, lead, messy)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri(lead)),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert edits is not None
    (edit,) = edits
    assert edit.range.start == types.Position(line=0, character=0)
    assert edit.new_text == format_text(RULE).text
    assert "event_id      = order_id" in edit.new_text
    # A buffer with a syntax error is not formatted.
    change(client, lead, "rule {", 2)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri(lead)),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert not edits
