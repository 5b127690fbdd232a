"""``capic quality``: for every pixel of a project (or a bundle's project) in one environment,
Meta's verdict read from the Dataset Quality API beside capic's estimate per rule."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from capic.codegen.environment import ResolvedEnvironment, ResolvedPixel
from capic.model import ir
from capic.quality.client import QualityError, fetch_quality
from capic.quality.compare import EventComparison, compare_event
from capic.quality.rules import SendInfo, sends_by_event
from capic.quality.verdict import parse_verdict
from capic.runtime.secrets import Secret, SecretError, SecretRef, resolve

__all__ = ["PixelReport", "QualityOptions", "quality_report"]


@dataclass(frozen=True)
class QualityOptions:
    endpoint: str = "https://graph.facebook.com"
    secrets_dir: Path | None = None
    environ: Mapping[str, str] | None = None
    agent_name: str = "capic"
    fields: str | None = None
    timeout: float = 30.0
    #: Only these pixel names (empty: every pixel).
    pixels: tuple[str, ...] = ()


@dataclass
class PixelReport:
    name: str
    dataset_id: str
    api_version: str
    events: list[EventComparison] = field(default_factory=list)
    #: Event names Meta reports that no rule sends (the browser pixel's, another tool's).
    not_sent_by_rules: list[str] = field(default_factory=list)
    #: Sends whose event name comes from the event (compared with nothing).
    unnamed: list[SendInfo] = field(default_factory=list)
    version_warning: str | None = None
    #: Why Meta's verdict could not be read (one line), when it could not.
    error: str | None = None


def _resolve(ref: SecretRef, what: str, options: QualityOptions) -> Secret:
    try:
        return resolve(
            ref,
            secrets_dir=options.secrets_dir,
            environ=os.environ if options.environ is None else options.environ,
        )
    except SecretError as exc:
        raise QualityError(f"{what}: {exc}") from None


def _dataset_id(pixel: ResolvedPixel, options: QualityOptions) -> str:
    if isinstance(pixel.id, SecretRef):
        return _resolve(pixel.id, f"the id of pixel `{pixel.name}`", options).reveal()
    return str(pixel.id)


def _one_pixel(
    client: httpx.Client,
    pixel: ResolvedPixel,
    by_event: dict[str, list[SendInfo]],
    options: QualityOptions,
) -> PixelReport:
    report = PixelReport(pixel.name, "?", pixel.api_version)
    unnamed = by_event.get("*", [])
    report.unnamed = list(unnamed)
    try:
        report.dataset_id = _dataset_id(pixel, options)
        token = _resolve(pixel.token, f"the access token of pixel `{pixel.name}`", options)
        secret = (
            _resolve(pixel.app_secret, f"the app secret of pixel `{pixel.name}`", options)
            if pixel.app_secret is not None
            else None
        )
        answer = fetch_quality(
            client,
            endpoint=options.endpoint,
            version=pixel.api_version,
            dataset_id=report.dataset_id,
            token=token,
            app_secret=secret,
            agent_name=options.agent_name,
            fields=options.fields,
        )
    except QualityError as exc:
        report.error = str(exc)
        verdicts = {}
    else:
        report.version_warning = answer.version_warning
        verdicts = parse_verdict(answer.data)
    names = [n for n in by_event if n != "*"]
    for name in names:
        report.events.append(compare_event(name, tuple(by_event[name]), verdicts.get(name)))
    report.not_sent_by_rules = sorted(n for n in verdicts if n not in by_event)
    return report


def quality_report(
    project: ir.Project, environment: ResolvedEnvironment, options: QualityOptions
) -> list[PixelReport]:
    """One report per pixel (in name order); a pixel Meta refused carries its error."""
    sends = sends_by_event(project)
    reports: list[PixelReport] = []
    with httpx.Client(timeout=options.timeout, follow_redirects=False) as client:
        for name, pixel in sorted(environment.pixels.items()):
            if options.pixels and name not in options.pixels:
                continue
            reports.append(_one_pixel(client, pixel, sends.get(name, {}), options))
    return reports
