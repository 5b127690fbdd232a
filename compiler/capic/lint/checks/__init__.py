"""Every check of the linter, one class each; importing this package registers them all.

Modules by group: requirements (M), schema_failures (V), literals (L), dedup (D), privacy and
consent (P), quality (Q), hygiene (H), serve (W); language (shared blocks and computed event
names: H050, L050, L051); Meta's 2024-2026 additions: attribution (AppendAttribution: M070,
M071), leads (Conversion Leads: M072-M074), offline (store events: D070, D071), sensitive
(L070); versions (M030-M033). ``docs/rules.md`` is generated from the classes
(``python -m capic.lint.docs``).
"""

from capic.lint.checks import (
    attribution,
    consent,
    dedup,
    hygiene,
    language,
    leads,
    literals,
    offline,
    privacy,
    quality,
    requirements,
    schema_failures,
    sensitive,
    serve,
    versions,
)

__all__ = [
    "attribution",
    "consent",
    "dedup",
    "hygiene",
    "language",
    "leads",
    "literals",
    "offline",
    "privacy",
    "quality",
    "requirements",
    "schema_failures",
    "sensitive",
    "serve",
    "versions",
]
