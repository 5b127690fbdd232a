"""The ``capic`` command line: a click group whose verbs load lazily.

Each verb lives in its own module (``capic.cli.<module>``) exporting ``command``; only the
module of the verb being run is imported, which keeps start-up fast for CI and editors.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from capic import __version__

#: verb -> (module, one-line help). The help is here so that ``capic --help`` imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("check", "Lint rule files and report diagnostics."),
    "parse": ("parse", "Print the rule model (IR) of a project."),
    "schema": ("schema", "Print capic's JSON Schemas."),
    "rule": ("rules", "Explain one check by its code."),
    "rules": ("rules", "List every check."),
    "compile": ("compile", "Compile a project to a Python rule module."),
    "run": ("run", "Process an event stream and deliver it to the Graph API."),
    "serve": ("serve", "Serve the live forwarding endpoints (/v1/events, /v1/collect)."),
    "worker": ("worker", "Deliver events queued in Redis Streams (a consumer group member)."),
    "queue": ("queue", "Inspect the Redis queue: status, dead letters, requeue."),
    "emulator": ("emulator", "Run a local Graph API emulator."),
    "outbox": ("outbox", "Inspect and replay the delivery outbox."),
    "build": ("build", "Build a reproducible deployment bundle."),
    "verify": ("verify", "Verify a bundle's manifest, hashes and signature."),
    "inspect": ("inspect", "Show what a bundle contains."),
    "diff": ("diff", "Show what changed between two bundles."),
    "report": ("report", "Report what the rules would send over recorded events."),
    "init": ("init", "Scaffold a new capic project."),
    "test": ("test", "Run the test blocks of a project."),
    "quality": ("quality", "Meta's verdict on the events (Dataset Quality API) beside capic's."),
    "version": ("version", "Print capic's version."),
    "lsp": ("lsp", "Run the language server (stdio)."),
    "fmt": ("fmt", "Format rule files in the canonical layout."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"capic.cli.{entry[0]}")
        attr = "rule_command" if cmd_name == "rule" else "command"
        cmd = getattr(module, attr)
        assert isinstance(cmd, click.Command)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="capic")
def cli() -> None:
    """capic: rules for the Meta Conversions API, as code.

    Author rules in *.capi files, lint them, compile them to Python, bundle them per
    environment and run them against event streams.
    """


def main(argv: list[str] | None = None) -> Any:
    """Console entry point. Internal errors become one line and exit code 2, never a traceback."""
    try:
        return cli.main(args=argv, prog_name="capic", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("capic: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: users never see a traceback
        click.echo(f"capic: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
