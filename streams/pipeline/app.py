"""The Faust application: built from settings, agents attached, nothing connected until start."""

from __future__ import annotations

import faust

from streams import faust_ext
from streams.faust_ext import reread_skipped
from streams.faust_ext.batching import BatchingStream
from streams.settings import Settings

__all__ = ["broker_urls", "create_app", "reread_skipped"]


def broker_urls(bootstrap_servers: str) -> str:
    """Faust's broker URL list from a Kafka bootstrap string ("h1:9092,h2:9092")."""
    return ";".join(f"kafka://{server.strip()}" for server in bootstrap_servers.split(","))


def create_app(settings: Settings) -> faust.App:
    """A Faust app configured from settings (no network I/O happens here)."""
    faust_ext.install(
        settings.kafka_bootstrap_servers if settings.broker_exact_end_offsets else None
    )
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
        # Acknowledged offsets are committed this often: part of the time from an event's
        # send to its rows counting as stored (docs/benchmarks.md, freshness).
        broker_commit_interval=0.2,
        broker_session_timeout=settings.broker_session_timeout_s,
        broker_heartbeat_interval=settings.broker_heartbeat_interval_s,
        broker_rebalance_timeout=settings.broker_rebalance_timeout_s,
        web_enabled=settings.web_enabled,
        web_host=settings.web_host,
        web_port=settings.web_port,
        table_cleanup_interval=30.0,
        Stream=BatchingStream,
        consumer_max_fetch_size=settings.consumer_max_fetch_bytes,
    )
