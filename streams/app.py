"""The Faust application: built from settings, agents attached, nothing connected until start."""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.consumer import Consumer
from faust.types import Message

from streams import end_offsets
from streams.batching import BatchingStream
from streams.durable_tables import DurableGlobalTable, DurableTable
from streams.settings import Settings

_original_ack = Consumer.ack


def _ack_processed_only(self: Any, message: Message) -> bool:
    """Consumer.ack that refuses messages no stream has taken (`tracked` is False).

    During a rebalance or a table recovery, Faust's stream iterator skips the messages it
    had already fetched and acknowledges them; their offsets can then be committed although
    the agent never saw them, and a crash before they are read again loses them (the kill -9
    test caught whole communes missing). Left unacknowledged, they are simply read again
    after Faust seeks back to the committed offsets at the end of the rebalance.
    """
    if not message.tracked:
        return False
    return bool(_original_ack(self, message))


def guard_acks() -> None:
    """Install `_ack_processed_only` (idempotent)."""
    Consumer.ack = _ack_processed_only  # type: ignore[method-assign]


def broker_urls(bootstrap_servers: str) -> str:
    """Faust's broker URL list from a Kafka bootstrap string ("h1:9092,h2:9092")."""
    return ";".join(f"kafka://{server.strip()}" for server in bootstrap_servers.split(","))


def create_app(settings: Settings) -> faust.App:
    """A Faust app configured from settings (no network I/O happens here)."""
    guard_acks()
    if settings.broker_exact_end_offsets:
        end_offsets.install(settings.kafka_bootstrap_servers)
    return faust.App(
        settings.app_id,
        broker=broker_urls(settings.kafka_bootstrap_servers),
        store=settings.faust_store_url,
        datadir=str(settings.faust_datadir),
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_max_batch_size=settings.producer_max_batch_size,
        broker_commit_interval=1.0,
        broker_session_timeout=settings.broker_session_timeout_s,
        broker_heartbeat_interval=settings.broker_heartbeat_interval_s,
        broker_rebalance_timeout=settings.broker_rebalance_timeout_s,
        web_enabled=settings.web_enabled,
        web_host=settings.web_host,
        web_port=settings.web_port,
        table_cleanup_interval=30.0,
        Stream=BatchingStream,
        Table=DurableTable,
        GlobalTable=DurableGlobalTable,
        consumer_max_fetch_size=settings.consumer_max_fetch_bytes,
    )
