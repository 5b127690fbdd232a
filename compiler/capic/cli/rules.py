"""``capic rule CODE`` (explain one check) and ``capic rules`` (list them all)."""

from __future__ import annotations

import json
import sys

import click


@click.command(name="rule")
@click.argument("code")
@click.option(
    "--output-format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="How to print the documentation.",
)
def rule_command(code: str, output_format: str) -> None:
    """Explain the check (or front-end code) CODE: what it finds, why, an example, the fix.

    CODE may also be a check's name, e.g. constant-event-id.
    """
    from capic.lint.registry import all_infos, by_name, code_info, doc_markdown, doc_text, doc_url
    from capic.meta.catalog import suggest

    wanted = code.strip()
    info = code_info(wanted.upper()) or code_info(by_name(wanted) or "")
    if info is None:
        infos = all_infos()
        hint = suggest(wanted.upper(), list(infos)) or suggest(
            wanted, [i.name for i in infos.values()]
        )
        tail = f" (did you mean {hint}?)" if hint else ""
        click.echo(f"capic rule: unknown code {code!r}{tail}; `capic rules` lists them", err=True)
        sys.exit(2)
    if output_format == "json":
        click.echo(json.dumps(_as_json(info, doc_url(info.code)), indent=2))
    elif output_format == "markdown":
        click.echo(doc_markdown(info, heading="#"), nl=False)
    else:
        click.echo(doc_text(info), nl=False)


@click.command(name="rules")
@click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the list.",
)
def command(output_format: str) -> None:
    """List every code capic reports: code, name, group, default severity and summary."""
    from capic.lint.registry import all_infos, doc_url

    infos = list(all_infos().values())
    if output_format == "json":
        click.echo(json.dumps([_as_json(i, doc_url(i.code)) for i in infos], indent=2))
        return
    width = max(len(i.name) for i in infos)
    for i in infos:
        click.echo(f"{i.code:<5} {i.name:<{width}}  {i.severity.label:<7}  {i.group}")


def _as_json(info: object, url: str | None) -> dict[str, object]:
    from capic.codes import CodeInfo

    assert isinstance(info, CodeInfo)
    return {
        "code": info.code,
        "name": info.name,
        "group": info.group,
        "severity": info.severity.label,
        "summary": info.summary,
        "why": info.why,
        "example": info.example,
        "fix": info.fix,
        "url": url,
    }
