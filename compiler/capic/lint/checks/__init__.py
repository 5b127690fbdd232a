"""Every check of the linter, one class each; importing this package registers them all.

Modules by group: requirements (M), schema_failures (V), literals (L), dedup (D), privacy and
consent (P), quality (Q), hygiene (H), serve (W); language (shared blocks and computed event
names: H050, L050, L051). ``docs/rules.md`` is generated from the classes
(``python -m capic.lint.docs``).
"""

from capic.lint.checks import (
    consent,
    dedup,
    hygiene,
    language,
    literals,
    privacy,
    quality,
    requirements,
    schema_failures,
    serve,
)

__all__ = [
    "consent",
    "dedup",
    "hygiene",
    "language",
    "literals",
    "privacy",
    "quality",
    "requirements",
    "schema_failures",
    "serve",
]
