from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import click


def _fixed_clock(text: str) -> float:
    import datetime as _dt

    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is neither unix seconds nor an ISO 8601 time", param_hint="--now"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.timestamp()


@click.command(name="emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0: a free port."
)
@click.option(
    "--token",
    envvar="CAPIC_EMULATOR_TOKEN",
    default=None,
    help="Access token requests must carry (default: any). Env: CAPIC_EMULATOR_TOKEN.",
)
@click.option(
    "--app-secret",
    envvar="CAPIC_EMULATOR_APP_SECRET",
    default=None,
    help="Require an appsecret_proof made with this app secret. Env: CAPIC_EMULATOR_APP_SECRET.",
)
@click.option(
    "--now",
    "fixed_now",
    default=None,
    help="A fixed clock for event-time checks: unix seconds or an ISO 8601 time "
    "(e.g. to deliver old events inside Meta's 7-day window). Default: the real clock.",
)
@click.option(
    "--fault-5xx",
    "fault_5xx",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of requests answered with HTTP 500/503.",
)
@click.option(
    "--fault-throttle",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of requests throttled (codes 4, 17, 613).",
)
@click.option(
    "--fault-timeout",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of requests held past the client's timeout.",
)
@click.option(
    "--fault-drop",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of requests whose connection is closed without a response.",
)
@click.option(
    "--stall",
    type=click.FloatRange(0),
    default=35.0,
    show_default=True,
    help="Seconds a timed-out request is held.",
)
@click.option(
    "--latency",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Seconds added to every response (the real Graph API takes a few hundred ms).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault generator.")
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append accepted events to this JSON-lines file.",
)
@click.option(
    "--physical-store-days",
    type=click.Choice(["7", "62"]),
    default="7",
    show_default=True,
    help="How old a physical_store event may be (Meta's docs state both 7 and 62 days).",
)
@click.option(
    "--append-attribution-original",
    "originals",
    multiple=True,
    help="An event name AppendAttribution may credit (repeat; default Purchase and "
    "fb_mobile_purchase).",
)
@click.option(
    "--deprecated-version",
    "deprecated",
    multiple=True,
    help="Answer requests to this Graph API version with error (#2635), as Meta does after a "
    "version's end (repeat).",
)
@click.option(
    "--upgraded-version",
    "upgraded",
    multiple=True,
    help="Accept requests to this version with an X-Ad-Api-Version-Warning header, as Meta "
    "does when it auto-upgrades a call (repeat).",
)
@click.option(
    "--quality-fixture",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSON file of diagnostics (and refusals) the Dataset Quality API adds per dataset.",
)
@click.option(
    "--keep",
    type=click.IntRange(0),
    default=100_000,
    show_default=True,
    help="Accepted events kept in memory for GET /_emulator/events.",
)
def command(
    host: str,
    port: int,
    token: str | None,
    app_secret: str | None,
    fixed_now: str | None,
    fault_5xx: float,
    fault_throttle: float,
    fault_timeout: float,
    fault_drop: float,
    stall: float,
    latency: float,
    seed: int,
    record: Path | None,
    physical_store_days: str,
    originals: tuple[str, ...],
    deprecated: tuple[str, ...],
    upgraded: tuple[str, ...],
    quality_fixture: Path | None,
    keep: int,
) -> None:
    """Run a local Graph API emulator until interrupted (Ctrl-C or SIGTERM).

    It serves POST /{version}/{pixel_id}/events, validates like Meta, and can inject faults;
    GET /{version}/dataset_quality answers with Meta's verdict on what it received.
    Query it with GET /_emulator/events, GET /_emulator/stats and POST /_emulator/reset.
    """
    from capic.emulator import FaultConfig, start
    from capic.emulator.meta_events import MetaEventRules
    from capic.emulator.quality import QualityFixtureError, load_fixture
    from capic.emulator.versions import VersionSignals

    try:
        faults = FaultConfig(
            rate_5xx=fault_5xx,
            rate_throttle=fault_throttle,
            rate_timeout=fault_timeout,
            rate_drop=fault_drop,
            stall=stall,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        fixture = load_fixture(quality_fixture) if quality_fixture is not None else None
    except QualityFixtureError as exc:
        raise click.UsageError(str(exc)) from None
    rules = MetaEventRules(int(physical_store_days), tuple(originals) or None)
    clock = time.time
    if fixed_now is not None:
        at = _fixed_clock(fixed_now)
        clock = lambda: at  # noqa: E731 - a constant clock
    try:
        handle = start(
            host,
            port,
            token=token,
            app_secret=app_secret,
            now=clock,
            faults=faults,
            seed=seed,
            record=record,
            keep=keep,
            latency=latency,
            rules=rules,
            versions=VersionSignals.of(deprecated, upgraded),
            quality_fixture=fixture,
        )
    except OSError as exc:
        click.echo(
            f"capic emulator: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True
        )
        raise SystemExit(2) from None

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        click.echo(f"capic emulator listening on {handle.url}", nl=True)
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stats = handle.stats()
        handle.stop()
    click.echo(
        f"capic emulator stopped: {stats['requests']} requests, "
        f"{stats['events_received']} events accepted, {stats['rejected_requests']} rejected",
        err=True,
    )
