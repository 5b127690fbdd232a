"""``junit``: JUnit XML, one test suite per file and one test case per diagnostic; diagnostics
at or above the fail level are failures, the others pass with their text in system-out."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from capic.lint.engine import CheckResult, Finding
from capic.lint.render import Renderer, RenderOptions
from capic.lint.render._common import fails, location


class JunitRenderer(Renderer):
    def render(self, result: CheckResult, options: RenderOptions) -> str:
        groups: dict[str, list[Finding]] = {}
        for f in result.findings:
            groups.setdefault(f.display_path or "capic", []).append(f)
        failures = sum(1 for f in result.findings if fails(result, f.diagnostic))
        root = ET.Element(
            "testsuites",
            name="capic check",
            tests=str(max(1, len(result.findings))),
            failures=str(failures),
            errors="0",
        )
        if not groups:
            suite = ET.SubElement(
                root, "testsuite", name="capic", tests="1", failures="0", errors="0"
            )
            ET.SubElement(suite, "testcase", name="capic check", classname="capic")
        for path, items in groups.items():
            suite = ET.SubElement(
                root,
                "testsuite",
                name=path,
                tests=str(len(items)),
                failures=str(sum(1 for f in items if fails(result, f.diagnostic))),
                errors="0",
            )
            for f in items:
                d = f.diagnostic
                where = f"{d.span.line}:{d.span.column}" if d.span else "-"
                case = ET.SubElement(
                    suite,
                    "testcase",
                    name=f"{d.code} {d.name} at {where}",
                    classname=path,
                    file=path,
                    line=str(d.span.line) if d.span else "0",
                )
                text = f"{location(f)}: {d.code} [{d.severity.label}] {d.message}"
                if d.help:
                    text += f"\nhelp: {d.help}"
                if fails(result, d):
                    failure = ET.SubElement(case, "failure", message=d.message, type=d.code)
                    failure.text = text
                else:
                    ET.SubElement(case, "system-out").text = text
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
