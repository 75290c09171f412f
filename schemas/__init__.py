"""Event contracts (JSON Schema) and ClickHouse DDL, shipped as package data."""

from pathlib import Path

SCHEMAS_DIR = Path(__file__).resolve().parent
EVENTS_DIR = SCHEMAS_DIR / "events"
CLICKHOUSE_DIR = SCHEMAS_DIR / "clickhouse"
