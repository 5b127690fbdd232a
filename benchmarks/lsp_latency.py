"""How soon does `capic lsp` publish diagnostics after an edit, against a cold `capic check`?

    python benchmarks/lsp_latency.py [--files 100] [--changes 15]

Generates a project of ``--files`` rule files (the generator of check_speed.py), measures a
cold `capic check` of it in a subprocess (no parse cache: interpreter start-up, imports,
parsing and linting every file), then starts `capic lsp --debounce 0`, opens one rule file,
and times ``--changes`` edits: from sending `didChange` to receiving the
`publishDiagnostics` of that file for the new version. Target: the median latency within 0.2x
the cold check, measured in the same run. It prints the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_speed import generate, rule_file


def cold_check(root: Path, env: dict[str, str]) -> float:
    shutil.rmtree(root / ".capic_cache", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "capic", "check", str(root), "--output-format", "concise"],
        capture_output=True,
        check=False,
        env=env,
    )
    return time.perf_counter() - start


async def latencies(root: Path, files: int, changes: int, env: dict[str, str]) -> list[float]:
    client = LanguageClient("capic-bench", "1")
    published: dict[str, asyncio.Future[None]] = {}
    wanted: dict[str, int] = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(_: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        future = published.get(params.uri)
        if future is not None and not future.done() and params.version == wanted[params.uri]:
            future.set_result(None)

    await client.start_io(sys.executable, "-m", "capic", "lsp", "--debounce", "0", env=env)
    await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri())
    )
    client.initialized(types.InitializedParams())
    edited = min(7, files - 1)
    target = root / "rules" / f"r{edited:05d}.capi"
    uri = target.resolve().as_uri()
    loop = asyncio.get_running_loop()
    published[uri] = loop.create_future()
    wanted[uri] = 1
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="capi", version=1, text=target.read_text()
            )
        )
    )
    await asyncio.wait_for(published[uri], 120)  # the first check of the project
    out = []
    for n in range(changes):
        version = n + 2
        published[uri] = loop.create_future()
        wanted[uri] = version
        start = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangeWholeDocument(
                        text=rule_file(edited, f" edit {n}")
                    )
                ],
            )
        )
        await asyncio.wait_for(published[uri], 60)
        out.append(time.perf_counter() - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--changes", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3, help="cold checks (median)")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="capic-lsp-latency-"))
    # Byte code as an installed package has it, outside the source tree (see check_speed.py).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
    try:
        root = base / "project"
        lines = generate(root, args.files)
        cold_check(root, env)  # byte code, as after installation
        load_before = os.getloadavg()
        cold = statistics.median(cold_check(root, env) for _ in range(args.repeat))
        shutil.rmtree(root / ".capic_cache", ignore_errors=True)
        measured = asyncio.run(latencies(root, args.files, args.changes, env))
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    latency = statistics.median(measured)
    print(
        f"capic lsp latency, {args.files} files ({lines} lines), {os.cpu_count()} CPUs, load "
        f"average {load_before[0]:.2f} -> {load_after[0]:.2f}, Python {sys.version.split()[0]}"
    )
    print(f"  cold capic check (median of {args.repeat}):      {cold:.3f} s")
    print(
        f"  didChange -> publishDiagnostics (median of {len(measured)}): {latency:.3f} s "
        f"(min {min(measured):.3f}, max {max(measured):.3f})"
    )
    print(f"ratio={latency / cold:.3f}")


if __name__ == "__main__":
    main()
