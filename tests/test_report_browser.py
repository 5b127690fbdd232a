"""The report page in a real browser: headless Chromium renders it (a screenshot that is not
one solid colour), logs no console message (a Content-Security-Policy violation or a script
error would be one), and shows a `<script>` that came with the event data as text.

With CI=true a missing Chromium fails the test (scripts/setup-system.sh installs it)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

from tests.conftest import require_tool
from tests.report_project import INJECTED, write
from tests.test_report import report


def _png_colours(path: Path, enough: int = 16) -> int:
    """How many distinct pixel values a (non-interlaced, 8-bit) PNG has, up to ``enough``."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, (depth, interlace)
            channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * channels
    previous = bytearray(stride)
    seen: set[bytes] = set()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):  # undo the PNG row filter (RFC 2083 §6)
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 0xFF
        previous = line
        for x in range(0, stride, channels * 7):  # every 7th pixel is plenty
            seen.add(bytes(line[x : x + channels]))
        if len(seen) >= enough:
            break
    return len(seen)


def test_the_page_renders_in_chromium_without_console_messages(tmp_path: Path) -> None:
    chromium = require_tool("chromium", "the report page is checked in a real browser")
    project, events = write(tmp_path)
    changed = tmp_path / "changed"
    shutil.copytree(project, changed)
    rules = changed / "rules.capi"
    rules.write_text(rules.read_text().replace("ph                = event.phone\n", ""))
    page = tmp_path / "report.html"
    made = report(
        str(changed), "--baseline", str(project), "--events", str(events), "-o", str(page)
    )
    assert made.exit_code == 0, made.stderr
    shot = tmp_path / "shot.png"
    browser = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
            f"--screenshot={shot}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert browser.returncode == 0, browser.stderr[-2000:]
    # every console message (a CSP violation, a script error) is logged as CONSOLE
    console = [line for line in browser.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    assert shot.exists() and _png_colours(shot) >= 8, "the screenshot is (almost) one colour"
    dom = browser.stdout
    assert "<script" not in dom  # nothing became markup ...
    shown = INJECTED.replace("<", "&lt;").replace(">", "&gt;")
    assert shown in dom  # ... the event's text is shown as text
    assert re.search(r"<title>capic report: mini \(development\)</title>", dom)
    assert "user_data.ph" in dom and 'id="shadow"' in dom
