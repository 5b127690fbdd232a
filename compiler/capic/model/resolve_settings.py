"""Resolving settings: the fields and consent gates of pixels and environments, and the pixel
overrides and serve blocks of environments."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from capic.model import ir
from capic.model.resolve_expr import ExprResolver
from capic.model.serve import resolve_serve
from capic.model.suggest import did_you_mean
from capic.syntax import ast

__all__ = ["ENVIRONMENT_FIELDS", "PIXEL_FIELDS", "SettingsResolver"]

PIXEL_FIELDS = {
    "id": "the pixel (dataset) id: a string of digits, or env()/secret()",
    "access_token": 'the Conversions API token: env("VAR") or secret("NAME")',
    "browser_pixel": "true when the Meta Pixel in the browser sends the same events",
    "api_version": 'the Graph API version, e.g. "v25.0"',
    "app_secret": "optional app secret for appsecret_proof: env() or secret()",
    "test_event_code": "a test event code for every event sent to this pixel",
}
ENVIRONMENT_FIELDS = {"test_event_code"}


class SettingsResolver(ExprResolver):
    """The pixel and environment part of :class:`capic.model.resolve.Resolver` (a mixin)."""

    pixel_decls: dict[str, ast.PixelDecl]

    def _pixel(self, decl: ast.PixelDecl, path: str) -> ir.Pixel:
        where = f"pixel `{decl.name}`"
        consent, items = self._split_consent(decl.body.items, where)
        fields = self._setting_fields(items, PIXEL_FIELDS, where)
        for required in ("id", "access_token"):
            if required not in fields:
                self.error(
                    "R015",
                    f"pixel `{decl.name}` has no `{required}`",
                    decl.name_span,
                    f"add {required} = ... ({PIXEL_FIELDS[required]})",
                )
        return ir.Pixel(decl.name, fields, decl.span, decl.name_span, path, consent)

    def _split_consent(
        self,
        items: Iterable[ast.Assignment | ast.Section | ast.Spread | ast.EnvPixel | ast.ServeDecl],
        where: str,
    ) -> tuple[ir.Consent | None, list[ast.Assignment | ast.Section | ast.Spread]]:
        """The consent gate among a pixel's or an environment's items, and the other items
        (environment pixel overrides and serve blocks are left out)."""
        consent: ir.Consent | None = None
        rest: list[ast.Assignment | ast.Section | ast.Spread] = []
        seen = False
        for item in items:
            if isinstance(item, ast.EnvPixel | ast.ServeDecl):
                continue
            if isinstance(item, ast.Section) and item.name == "consent":
                if seen:
                    self.error(
                        "R012", f"{where} has two consent gates", item.name_span, "merge them"
                    )
                    continue
                seen = True
                consent = self.consent_gate(item, where)
                continue
            rest.append(item)
        return consent, rest

    def _setting_fields(
        self,
        items: Iterable[ast.Assignment | ast.Section | ast.Spread],
        allowed: Mapping[str, str] | set[str],
        where: str,
    ) -> dict[str, ir.Field]:
        """Pixel / environment settings: constants or run-time references, checked by type."""
        out: dict[str, ir.Field] = {}
        for item in items:
            if isinstance(item, ast.Spread):
                self._spread(item, None, "pixel")
                continue
            if isinstance(item, ast.Section):
                self.error(
                    "R007",
                    f"{where} has no section `{item.name}`",
                    item.name_span,
                    "settings are `key = value` entries",
                )
                continue
            if item.key not in allowed:
                self.error(
                    "R011",
                    f"unknown field `{item.key}` in {where}",
                    item.key_span,
                    did_you_mean(item.key, allowed) or f"allowed: {', '.join(sorted(allowed))}",
                )
                continue
            if item.key in out:
                self.error(
                    "R012", f"`{item.key}` is set twice in {where}", item.key_span, "remove one"
                )
                continue
            value = self.expr(item.value, scope=(), context="pixel")
            self._check_setting(item.key, value, where)
            out[item.key] = ir.Field(item.key, value, item.span, item.key_span, item.comments)
        return out

    def _check_setting(self, key: str, value: ir.Expr, where: str) -> None:
        if key == "browser_pixel":
            if not (isinstance(value, ir.Const) and isinstance(value.value, bool)):
                self.error("R015", f"`browser_pixel` of {where} must be true or false", value.span)
            return
        if key == "api_version":
            if not (isinstance(value, ir.Const) and isinstance(value.value, str)):
                self.error("R015", f"`api_version` of {where} must be a string", value.span)
            elif not re.fullmatch(r"v\d+\.\d", value.value):
                self.error(
                    "R015",
                    f"`api_version` {value.value!r} is not a Graph API version",
                    value.span,
                    'write it like "v25.0"',
                )
            return
        ok = isinstance(value, ir.SecretRef) or (
            isinstance(value, ir.Const) and (isinstance(value.value, str) or value.value is None)
        )
        if not ok:
            self.error(
                "R015",
                f'`{key}` of {where} must be a string, env("VAR") or secret("NAME")',
                value.span,
                "settings are fixed at build time or read from the environment at run time",
            )

    def _environment(self, decl: ast.EnvironmentDecl, path: str) -> ir.Environment:
        where = f"environment `{decl.name}`"
        consent, items = self._split_consent(decl.items, where)
        fields = self._setting_fields(items, ENVIRONMENT_FIELDS, where)
        pixels: dict[str, ir.PixelOverride] = {}
        for item in decl.items:
            if not isinstance(item, ast.EnvPixel):
                continue
            if item.name not in self.pixel_decls:
                self.error(
                    "R001",
                    f"{where} overrides unknown pixel `{item.name}`",
                    item.name_span,
                    did_you_mean(item.name, self.pixel_decls) or "declare the pixel first",
                )
                continue
            if item.name in pixels:
                self.error(
                    "R012", f"pixel `{item.name}` is overridden twice in {where}", item.name_span
                )
                continue
            pixel_where = f"pixel `{item.name}` of {where}"
            pixel_consent, pixel_items = self._split_consent(item.body.items, pixel_where)
            over = self._setting_fields(pixel_items, PIXEL_FIELDS, pixel_where)
            pixels[item.name] = ir.PixelOverride(
                item.name, over, item.span, item.name_span, pixel_consent
            )
        serve: ir.ServeBlock | None = None
        for item in decl.items:
            if not isinstance(item, ast.ServeDecl):
                continue
            if serve is not None:
                self.error("R012", f"{where} has two serve blocks", item.span, "merge them")
                continue
            serve = resolve_serve(self, item, path, f"the serve block of {where}")
        return ir.Environment(
            decl.name, fields, pixels, decl.span, decl.name_span, path, consent, serve
        )
