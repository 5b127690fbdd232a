"""Every check of the linter, one class each; importing this package registers them all.

Modules by group: requirements (M), schema_failures (V), literals (L), dedup (D), privacy (P),
quality (Q), hygiene (H), versions (M030-M033). ``docs/rules.md`` is generated from the classes
(``python -m capic.lint.docs``).
"""

from capic.lint.checks import (
    dedup,
    hygiene,
    literals,
    privacy,
    quality,
    requirements,
    schema_failures,
    versions,
)

__all__ = [
    "dedup",
    "hygiene",
    "literals",
    "privacy",
    "quality",
    "requirements",
    "schema_failures",
    "versions",
]
