"""A local Graph API emulator for tests, demos and offline development.

It serves ``POST /{version}/{pixel_id}/events`` on 127.0.0.1 and validates like Meta does
(token, ``data``, at most 1,000 events, event_name/event_time/action_source, hashed customer
information, the §3.5 "too broad" rule, website requirements), answers with Meta-shaped
successes and errors, records accepted events, and can inject faults (5xx, throttling,
timeouts, dropped connections) from a seeded random generator::

    from capic.emulator import FaultConfig, start

    with start(token="test-token", faults=FaultConfig(rate_5xx=0.1), seed=1) as emulator:
        ...  # deliver to emulator.url
        events = emulator.received()
"""

from __future__ import annotations

from capic.emulator.faults import Fault, FaultConfig, FaultKind
from capic.emulator.meta_events import MetaEventRules
from capic.emulator.server import EmulatorHandle, start
from capic.emulator.validation import GraphError, validate_events
from capic.emulator.versions import VersionSignals

__all__ = [
    "EmulatorHandle",
    "Fault",
    "FaultConfig",
    "FaultKind",
    "GraphError",
    "MetaEventRules",
    "VersionSignals",
    "start",
    "validate_events",
]
