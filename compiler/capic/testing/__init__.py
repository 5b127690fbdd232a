"""``capic test``: the ``test`` blocks of a project, run through its compiled rules.

    >>> from capic import api
    >>> from capic.testing import run
    >>> outcome = run(api.load_project("samples/storefront"))
    >>> outcome.passed, outcome.failed, outcome.exit_code

A test feeds its ``event`` (and ``request``) to the rules compiled for its environment, with a
fixed clock (``now``, default :data:`DEFAULT_NOW_TEXT`) and a fixed ``uuid()``
(:data:`TEST_UUID`), then checks its expectations (:mod:`capic.testing.compare`). Renderers for
the text and JUnit outputs are in :mod:`capic.testing.report`.
"""

from __future__ import annotations

from capic.testing.compare import Mismatch
from capic.testing.runner import (
    TEST_UUID,
    ExpectationFailure,
    TestResult,
    TestRun,
    run,
    select,
)
from capic.testing.spec import DEFAULT_NOW, DEFAULT_NOW_TEXT, hashed_value

__all__ = [
    "DEFAULT_NOW",
    "DEFAULT_NOW_TEXT",
    "TEST_UUID",
    "ExpectationFailure",
    "Mismatch",
    "TestResult",
    "TestRun",
    "hashed_value",
    "run",
    "select",
]
