"""``capic schema``: list capic's JSON Schemas or print one."""

from __future__ import annotations

import json

import click

from capic.meta.catalog import schema, suggest
from capic.resources import schema_names


@click.command(name="schema")
@click.argument("name", required=False)
@click.option(
    "--list", "list_", is_flag=True, help="List the schemas with their titles (the default)."
)
def command(name: str | None, list_: bool) -> None:
    """Print the JSON Schema NAME (sorted keys, 2-space indent), or list the schemas.

    NAME is a schema name such as server_event (a trailing .schema.json is accepted).

    The schemas describe a Conversions API server event and its parts, the per-event and
    per-action-source requirements, capic.toml, pyproject.toml's [tool.capic] and the bundle
    manifest. Point an editor at them, or validate your own payloads.
    """
    names = schema_names()
    if name is not None and list_:
        raise click.UsageError("give either NAME or --list, not both")
    if name is None:
        width = max(len(n) for n in names)
        for n in names:
            click.echo(f"{n.ljust(width)}  {schema(n).get('title', '')}".rstrip())
        return
    key = name.removesuffix(".schema.json")
    if key not in names:
        hint = suggest(key, names)
        did_you_mean = f" (did you mean {hint!r}?)" if hint else ""
        click.echo(
            f"capic schema: unknown schema {name!r}{did_you_mean}; run 'capic schema' to list them",
            err=True,
        )
        click.get_current_context().exit(2)
    click.echo(json.dumps(schema(key), indent=2, sort_keys=True, ensure_ascii=False))
