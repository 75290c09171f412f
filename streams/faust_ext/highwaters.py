"""Exact highwaters for brokers whose ListOffsets under-reports the log end (Tansu): Faust's
table recovery reads changelogs up to `AIOKafkaConsumerThread._highwaters`, corrected here
by `streams.replay.end_offsets.exact_end_offsets` (see that module for the broker's behaviour)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

from streams.replay.end_offsets import exact_end_offsets

_upstream_highwaters = AIOKafkaConsumerThread._highwaters


def install_exact_highwaters(bootstrap_servers: str) -> None:
    """Make Faust's highwaters (used by table recovery) exact for this process's broker."""

    async def exact_highwaters(self: Any, partitions: list[TP]) -> Mapping[TP, int]:
        reported = await _upstream_highwaters(self, partitions)
        corrected = await asyncio.get_running_loop().run_in_executor(
            None,
            exact_end_offsets,
            bootstrap_servers,
            {(tp.topic, tp.partition): end for tp, end in reported.items() if end is not None},
        )
        return {tp: corrected.get((tp.topic, tp.partition), end) for tp, end in reported.items()}

    AIOKafkaConsumerThread._highwaters = exact_highwaters  # type: ignore[method-assign]
