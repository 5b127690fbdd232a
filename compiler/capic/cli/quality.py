"""``capic quality``: Meta's verdict on the events the rules send (the Dataset Quality API),
beside capic's own estimate per rule. The one command besides delivery that uses the network,
and only when run."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from capic.cli.options import endpoint_problem

if TYPE_CHECKING:
    from capic.codegen.environment import ResolvedEnvironment
    from capic.model import ir


def _fail(message: str) -> NoReturn:
    click.echo(f"capic quality: {message}", err=True)
    raise SystemExit(2)


def _load_project(path: Path) -> ir.Project:
    from capic.api import load_project
    from capic.diagnostics import Severity

    try:
        result = load_project(path, use_cache=False)
    except ValueError as exc:
        _fail(str(exc))
    errors = [d for d in result.diagnostics if d.severity >= Severity.ERROR]
    if result.project is None or [d for d in errors if d.code[0] in "SRC"]:
        first = errors[0].message if errors else "it cannot be loaded"
        _fail(f"{path}: the project does not compile ({first}); run capic check")
    return result.project


def _from_bundle(path: str, env_name: str | None, tmp: Path) -> tuple[ir.Project, str]:
    from capic.bundle.verify import verify_bundle

    report = verify_bundle(path)
    if not report.ok or report.manifest is None:
        _fail(f"{path}: {'; '.join(report.problems) or 'not a capic bundle'}")
    environment = report.manifest.environment
    if env_name is not None and env_name != environment:
        _fail(f"{path} was built for environment {environment!r}, not {env_name!r}")
    prefix = "sources/"
    for name, data in report.files.items():
        if name.startswith(prefix):
            target = tmp / name[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return _load_project(tmp), environment


def _environment(project: ir.Project, env_name: str | None) -> ResolvedEnvironment:
    from capic.codegen.environment import EnvironmentConfigError, resolve_environment

    try:
        return resolve_environment(project, env_name)
    except EnvironmentConfigError as exc:
        _fail(str(exc))


@click.command(name="quality")
@click.argument("project", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--bundle", "bundle_path", default=None, help="A verified bundle instead of PROJECT.")
@click.option("--env", "env_name", default=None, help="Environment (default: the project's).")
@click.option(
    "--endpoint",
    default="https://graph.facebook.com",
    show_default=True,
    help="Graph API base URL (e.g. a local emulator's).",
)
@click.option(
    "--secrets-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help='Directory of secret("NAME") files (default: secrets_dir of capic.toml).',
)
@click.option("--pixel", "pixels", multiple=True, help="Only this pixel (repeat).")
@click.option(
    "--fields",
    default=None,
    help="The fields parameter of the request (default: the schema's; some names are unverified).",
)
@click.option("--agent-name", default="capic", show_default=True, help="The agent_name parameter.")
@click.option("--timeout", type=click.FloatRange(0.1), default=30.0, show_default=True)
@click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the comparison.",
)
@click.option(
    "--fail-on-disagreement",
    is_flag=True,
    help="Exit 1 when Meta's EMQ is outside capic's estimate for an event.",
)
def command(
    project: Path | None,
    bundle_path: str | None,
    env_name: str | None,
    endpoint: str,
    secrets_dir: Path | None,
    pixels: tuple[str, ...],
    fields: str | None,
    agent_name: str,
    timeout: float,
    output_format: str,
    fail_on_disagreement: bool,
) -> None:
    """Read Meta's Dataset Quality API for every pixel and show it beside capic's estimate.

    Per pixel and event name: Meta's Event Match Quality, match-key coverage, event coverage,
    dedup key feedback, freshness and diagnostics, next to capic's estimate for each rule that
    sends the event; disagreements are flagged, and each diagnostic names the rules it most
    likely concerns. The token is the pixel's access_token; which permission Meta requires for
    this read is not verified in capic's facts. Exit 0; 1 with --fail-on-disagreement when one
    is found or when some pixels could not be read; 2 when none could (or on bad usage).
    """
    import orjson

    from capic.quality.render import render_json, render_text
    from capic.quality.report import QualityOptions, quality_report

    if (project is None) == (bundle_path is None):
        _fail("give either PROJECT or --bundle BUNDLE")
    if (problem := endpoint_problem(endpoint)) is not None:
        _fail(problem)
    with tempfile.TemporaryDirectory(prefix="capic-quality-") as tmp:
        if bundle_path is not None:
            loaded, env = _from_bundle(bundle_path, env_name, Path(tmp))
            environment = _environment(loaded, env)
        else:
            assert project is not None
            loaded = _load_project(project)
            environment = _environment(loaded, env_name)
        unknown = sorted(set(pixels) - set(environment.pixels))
        if unknown:
            _fail(f"no pixel named {', '.join(unknown)} (pixels: {', '.join(environment.pixels)})")
        config_secrets = loaded.config.secrets_dir
        root = Path(loaded.root)
        options = QualityOptions(
            endpoint=endpoint.rstrip("/"),
            secrets_dir=secrets_dir or (root / config_secrets if config_secrets else None),
            agent_name=agent_name,
            fields=fields,
            timeout=timeout,
            pixels=pixels,
        )
        reports = quality_report(loaded, environment, options)
    failed = [r for r in reports if r.error is not None]
    if reports and len(failed) == len(reports):
        for report in failed:
            click.echo(f"capic quality: pixel {report.name}: {report.error}", err=True)
        raise SystemExit(2)
    name, env_label = loaded.name, environment.name
    if output_format == "json":
        data = render_json(reports, name, env_label, options.endpoint)
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(render_text(reports, name, env_label, options.endpoint), nl=False)
    for report in failed:
        click.echo(f"capic quality: pixel {report.name}: {report.error}", err=True)
    disagreements = any(e.disagrees for r in reports for e in r.events)
    if failed or (fail_on_disagreement and disagreements):
        raise SystemExit(1)
