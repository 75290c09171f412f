"""ClickHouse storage: one protocol, one clickhouse-connect adapter for chDB and server."""

from streams.storage.base import Row, Store
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import open_store, store_dsn

__all__ = ["ClickHouseStore", "Row", "Store", "open_store", "store_dsn"]
