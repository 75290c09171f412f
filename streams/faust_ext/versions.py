"""The guard: the overrides in this package were written against one faust-streaming and one
aiokafka release, and read or replace these upstream functions. A different release, or the
same release with any of these functions changed, refuses to start."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any

from faust.streams import Stream, _tracks_buffer_agen
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams.errors import ConfigurationError

#: Exactly the releases pinned in pyproject.toml.
PINNED: Mapping[str, str] = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}

#: The upstream functions the overrides replace or follow, captured at import (before any
#: override is installed), with the SHA-256 of their source at the pinned releases.
UPSTREAM: Mapping[str, Callable[..., Any]] = {
    "Consumer.ack": Consumer.ack,
    "Consumer._new_offset": Consumer._new_offset,
    "Consumer._add_gap": Consumer._add_gap,
    "Consumer.perform_seek": Consumer.perform_seek,
    "Consumer._commit_offsets": Consumer._commit_offsets,
    "Consumer._drain_messages": Consumer._drain_messages,
    "Thread._highwaters": AIOKafkaConsumerThread._highwaters,
    "Thread._seek_wait": AIOKafkaConsumerThread._seek_wait,
    "Stream.take_events": Stream.take_events,
    "_tracks_buffer_agen": _tracks_buffer_agen,
}

SOURCE_SHA256: Mapping[str, str] = {
    "Consumer.ack": "5fcf41cf45153475de3790dc56fec1b83335956dc8b3bf7ff6bbb2b57627f03f",
    "Consumer._new_offset": "1d2c7ea89a7ad4f1a216c1d51936e569162cd66bd56f889e13fd29c910b58eb0",
    "Consumer._add_gap": "4df2573ded7c1c2cde04dc6bde6d4480cb5875ef565256e56966b585ae39b1c1",
    "Consumer.perform_seek": "0e8c130ff4b0afd82c0be9c5fd831316e10febc62c94032833911096e156d7c6",
    "Consumer._commit_offsets": "1a6979904118844111259d182ca1c6e92ccc16364ccbe55c58e59d6e254a7adb",
    "Consumer._drain_messages": "44a2500309e83c630493f6828af50166ec8d96a0b3e4fb2bab735f704ae93417",
    "Thread._highwaters": "a7f4f97d9f32aca2777713e22671d70eae4b3ae51541bb09a90448ce83acefce",
    "Thread._seek_wait": "9d221e816d9404678ac2d802b1419c7c2d166cbc9c8ec9f689a77673b8f2e85f",
    "Stream.take_events": "607d48aead118ba8ea868718a0df87de1c5fcecd10ec542c659b448796728e08",
    "_tracks_buffer_agen": "bf38f607c6ff40f66f1f71ee8b38a05108aaed529f3a567643bd9c3c60867da9",
}


class FaustVersionError(ConfigurationError):
    """The installed Faust or aiokafka is not the code the overrides were written for."""


def source_sha256(function: Callable[..., Any]) -> str:
    """SHA-256 of a function's source text."""
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution, None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def check_versions() -> None:
    """Raise FaustVersionError unless the pinned releases and upstream sources are installed."""
    for distribution, pinned in PINNED.items():
        found = installed_version(distribution)
        if found != pinned:
            raise FaustVersionError(
                f"{distribution} {found or 'is not installed'}: the Faust overrides in "
                f"streams/faust_ext need exactly {distribution}=={pinned}; "
                f"run `pip install {distribution}=={pinned}` (or `make venv`)"
            )
    changed = sorted(
        name
        for name, function in UPSTREAM.items()
        if source_sha256(function) != SOURCE_SHA256.get(name)
    )
    if changed:
        raise FaustVersionError(
            f"upstream code the Faust overrides depend on has changed ({', '.join(changed)}) "
            f"although the versions match {dict(PINNED)}; reinstall them "
            "(`make venv`) or review streams/faust_ext against the new code"
        )
