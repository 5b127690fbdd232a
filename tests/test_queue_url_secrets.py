"""A Redis password in a queue URL never reaches a message, through every verb that takes
one: in the user part (even when the port does not parse) or as redis-py's ``password=``
query parameter. Each bad URL is a one-line error with exit status 2, not a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from capic.cli import cli
from capic.queue.connection import display
from tests.redis_harness import free_port
from tests.serve_harness import SHOP

PASSWORD = "s3cretPW"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"redis://capic:{PASSWORD}@host:6379/0", "redis://capic:***@host:6379/0"),
        (f"redis://capic:{PASSWORD}@host:notaport/0", "redis://capic:***@host:notaport/0"),
        (f"redis://host/0?db=1&password={PASSWORD}", "redis://host/0?db=1&password=***"),
        (f"unix:///run/redis.sock?Password={PASSWORD}", "unix:///run/redis.sock?Password=***"),
        ("redis://user@[::1]:6379/0", "redis://user@[::1]:6379/0"),
    ],
)
def test_display_masks_the_password(url: str, shown: str) -> None:
    assert display(url) == shown


BAD_PORT = f"redis://capic:{PASSWORD}@127.0.0.1:notaport/0"
QUERY = f"redis://127.0.0.1:{free_port()}/0?password={PASSWORD}"  # nothing listens there
WORKER = ["worker", "--queue"]
STATUS = ["queue", "status"]
SERVE = ["serve", str(SHOP), "--insecure-no-auth", "--queue"]
RUN = ["run", str(SHOP), "--env", "production", "--events", "-", "--queue"]


@pytest.mark.parametrize(
    ("verb", "url"),
    # serve binds its ports before it contacts Redis, so it only gets the URL that cannot parse
    [
        *[(WORKER, BAD_PORT), (STATUS, BAD_PORT), (SERVE, BAD_PORT), (RUN, BAD_PORT)],
        *[(WORKER, QUERY), (STATUS, QUERY), (RUN, QUERY)],
    ],
    ids=["worker", "status", "serve", "run", "worker-query", "status-query", "run-query"],
)
def test_a_queue_password_is_not_shown_by_the_cli(verb: list[str], url: str) -> None:
    result = CliRunner().invoke(cli, [*verb, url], input="")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert PASSWORD not in result.output
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert "queue URL" in lines[0] or "Redis" in lines[0], lines
