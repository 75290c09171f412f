"""The one typed settings object. Environment variable names are the field names, upper-cased."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.i18n import DEFAULT_LANGUAGE, Language, parse_language


class Settings(BaseSettings):
    """Runtime settings, read from the environment (and an optional `.env` file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = Field(
        "localhost:9092",
        description="Kafka bootstrap servers, host:port[,host:port] (server "
        "mode; embedded runs set their own).",
    )
    app_id: str = Field("welfare-monitor", description="Faust app id and consumer group.")
    events_topic: str = Field("welfare.events", description="Topic of incoming payment events.")
    dead_letter_topic: str = Field(
        "welfare.dead-letters", description="Topic of events that failed validation."
    )
    alerts_topic: str = Field("welfare.alerts", description="Topic of raised and cleared alerts.")
    topic_partitions: int = Field(4, ge=1, description="Partitions of the events topic.")

    clickhouse_url: str | None = Field(
        None, description="ClickHouse server HTTP URL; unset means embedded chDB."
    )
    clickhouse_user: str = Field("default", description="ClickHouse server user.")
    clickhouse_password: SecretStr = Field(
        SecretStr(""), description="ClickHouse server password (a secret)."
    )
    clickhouse_database: str = Field(
        "welfare", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Database for every table."
    )
    chdb_path: Path = Field(
        Path("data/chdb"),
        description="chDB data directory for worker and migrate without a server (embedded).",
    )

    pseudonym_key: SecretStr | None = Field(
        None,
        description="HMAC key for citizen-ID pseudonyms, 16+ characters; required by the "
        "server worker (embedded runs use the data dir's own key).",
    )

    table_store: Literal["memory", "rocksdb"] | None = Field(
        None, description="Faust table store; default rocksdb with a server, memory embedded."
    )
    grafana_url: str = Field("http://localhost:3000", description="Grafana for `dashboards push`.")
    grafana_token: SecretStr | None = Field(None, description="Grafana service-account token.")
    grafana_clickhouse_host: str = Field(
        "clickhouse", description="ClickHouse host as Grafana reaches it (data source)."
    )
    grafana_clickhouse_port: int = Field(
        8123, ge=1, le=65535, description="ClickHouse HTTP port as Grafana reaches it."
    )
    grafana_clickhouse_user: str = Field("grafana", description="Grafana's read-only user.")
    grafana_clickhouse_password: SecretStr | None = Field(
        None, description="Password of Grafana's read-only ClickHouse user (a secret)."
    )

    faust_datadir: Path = Field(Path("data/faust"), description="Faust's local state directory.")
    web_enabled: bool = Field(
        False,
        description="Serve the live page and its API from the worker (embedded runs "
        "turn it on at a free port).",
    )
    web_port: int = Field(6066, ge=0, le=65535, description="Port of the live page.")
    web_host: str = Field("127.0.0.1", description="Address the live page listens on.")

    batch_max_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1,
        description="Message bytes per agent batch (events or files); one "
        "insert per table per batch.",
    )
    batch_within_s: float = Field(1.0, gt=0, description="Longest wait to fill a batch.")
    health_interval_s: float = Field(2.0, gt=0, description="Seconds between pipeline_health rows.")

    alert_cashless_target: float = Field(
        0.05, ge=0, le=1, description="Alert when a commune's cashless rate is under this."
    )
    alert_rate_drop_points: float = Field(
        0.05, gt=0, le=1, description="Alert when the rate falls this much from last period."
    )
    alert_target_warn_days: int = Field(
        90,
        ge=0,
        description="behind_target alerts start this many days before a target's "
        "deadline (and stay while the commune is short of it, past the deadline too).",
    )
    target_recheck_interval_s: float = Field(
        3600.0,
        gt=0,
        description="Seconds between re-evaluations of behind_target for communes whose "
        "target deadline is within ALERT_TARGET_WARN_DAYS (time passing alone can raise it).",
    )
    alert_min_beneficiaries: int = Field(
        20, ge=1, description="Commune alerts need at least this many beneficiaries due."
    )
    producer_max_batch_size: int = Field(
        512 * 1024, ge=1, description="Faust producer batch bytes (dead letters, alerts)."
    )
    broker_exact_end_offsets: bool = Field(
        False, description="Read log ends instead of trusting ListOffsets (Tansu; embedded)."
    )
    consumer_max_fetch_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1024 * 1024,
        description="Bytes per partition per fetch; at least the largest payment file.",
    )
    ingest_processes: int = Field(
        1,
        ge=0,
        description="Helper processes that decode, validate and pseudonymise the "
        "next batch while the worker merges the current one; 0 ingests in the worker.",
    )
    ledger_cache_rows: int = Field(
        50_000,
        ge=0,
        description="Ledger rows of recently touched commune-periods a worker "
        "keeps (LRU, streams/storage/folded_cache.py), each checked against the ledger's "
        "fingerprint "
        "before use, so unchanged or only self-extended commune-periods are not read again; "
        "about 0.55 KB a row (50,000: about 28 MB); 0 reads every touched commune-period.",
    )
    worker_gc_thresholds: tuple[int, int, int] = Field(
        (50_000, 20, 100),
        description="Python GC thresholds in the worker. The default's "
        "gen-0 collection every 50,000 allocations (instead of 700) and rare full collections "
        "cut GC from ~16% to ~3.5% of the worker's time on a national replay; its state is "
        "millions of long-lived objects that every full collection walks.",
    )
    replay_file_events: int = Field(
        500,
        ge=0,
        description="Events per payment-file message when replaying a file "
        "(run, demo, replay, bench); 0 or 1 sends one event per message.",
    )
    replay_key: Literal["commune", "event", "none"] = Field(
        "commune",
        description="How the producer keys event messages (run, demo, replay, "
        "import): by commune code (default), by event id, or no key (kafka-python spreads "
        "them over the partitions); exactness does not depend on it (docs/ledger.md).",
    )
    replay_delivery_timeout_s: float = Field(
        120.0,
        gt=0,
        description="How long replay resends events the broker has not "
        "acknowledged (it is down or restarting) before it stops with an error.",
    )
    embedded_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Worker processes of an embedded run or service "
        "(`run`/`serve --workers N`): with more than one, N ingest workers and one store "
        "agent that owns the chDB directory (docs/workers.md).",
    )
    worker_role: Literal["all", "ingest", "store"] = Field(
        "all",
        description="What a worker process does: all (server mode, one embedded "
        "worker), ingest or store (set by the embedded run for --workers N).",
    )
    broker_session_timeout_s: float = Field(10.0, description="Consumer group session timeout.")
    broker_heartbeat_interval_s: float = Field(
        1.0, description="Consumer group heartbeat interval."
    )
    broker_rebalance_timeout_s: float = Field(10.0, description="Consumer group rebalance timeout.")

    store_outage_file: Path | None = Field(
        None, description="Outage drill: while this file exists, every ClickHouse call fails."
    )

    log_level: Literal["debug", "info", "warn", "error", "crit"] = Field(
        "warn", description="Worker log level."
    )

    language: Language = Field(
        DEFAULT_LANGUAGE,
        description="Language of what users read (pages, reports, CLI, "
        "dashboards): vi (default) or en; `--lang` overrides it. GNU-style values such as "
        "en_US.UTF-8 or fr:en are read as their first supported language.",
    )

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: object) -> str:
        return parse_language(str(value))

    @property
    def storage_kind(self) -> Literal["server", "chdb"]:
        """Which storage adapter the settings select."""
        return "server" if self.clickhouse_url else "chdb"

    @property
    def faust_store_url(self) -> str:
        """Faust's store URL: RocksDB keeps state on local disk across restarts."""
        kind = self.table_store or ("rocksdb" if self.storage_kind == "server" else "memory")
        return f"{kind}://"

    @property
    def accepted_topic(self) -> str:
        """The internal topic from ingest workers to the store agent (`--workers N`)."""
        return f"{self.events_topic.removesuffix('.events')}.accepted"

    @property
    def store_group(self) -> str:
        """The store agent's consumer group (the ingest workers use `app_id`)."""
        return f"{self.app_id}-store"

    def topic_layout(self) -> dict[str, int]:
        """Partitions of each topic the pipeline uses (created by `ensure_topics`)."""
        return {
            self.events_topic: self.topic_partitions,
            self.dead_letter_topic: 1,
            self.alerts_topic: 1,
            self.accepted_topic: self.topic_partitions,
        }

    @classmethod
    def env_names(cls) -> set[str]:
        """Every environment variable these settings read."""
        return {name.upper() for name in cls.model_fields}

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables, for a child process."""
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if isinstance(value, bool):
                env[name.upper()] = str(value).lower()
            elif isinstance(value, tuple | list | dict):
                env[name.upper()] = json.dumps(value)  # how pydantic-settings reads them
            else:
                env[name.upper()] = str(value)
        return env
