"""The only package that touches Faust's or aiokafka's private attributes.

`install()` checks that the installed faust-streaming and aiokafka are exactly the pinned
releases (and that the upstream functions the overrides follow are unchanged), then puts
the consumer overrides in place. Everything else in `streams` uses the names below.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from faust.streams import _current_event
from faust.types import EventT

from streams.faust_ext.consumer import install_consumer_overrides, read_offset, reread_skipped
from streams.faust_ext.highwaters import install_exact_highwaters
from streams.faust_ext.versions import FaustVersionError, check_versions

__all__ = [
    "FaustVersionError",
    "check_versions",
    "event_scope",
    "install",
    "read_offset",
    "reread_skipped",
]


def install(exact_highwaters_for: str | None = None) -> None:
    """Refuse to run on other Faust/aiokafka code, then install the overrides (idempotent).

    `exact_highwaters_for`: the bootstrap servers of a broker whose ListOffsets
    under-reports log ends (the embedded Tansu), to correct Faust's table recovery.
    """
    check_versions()
    install_consumer_overrides()
    if exact_highwaters_for:
        install_exact_highwaters(exact_highwaters_for)


@contextmanager
def event_scope(event: EventT) -> Iterator[None]:
    """Make `event` Faust's current event while a table key is written.

    Faust routes a table write to the changelog partition of the current event; inside
    `take_events` there is none, so we set it, as Faust's own iteration does.
    """
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
