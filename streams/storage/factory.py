"""Pick the storage adapter the settings ask for."""

from __future__ import annotations

from pathlib import Path

from streams.settings import Settings
from streams.storage.base import Store
from streams.storage.chdb_store import ChdbStore
from streams.storage.outage import OutageSwitchStore
from streams.storage.server_store import ServerStore


def open_store(settings: Settings, chdb_path: Path | None = None) -> Store:
    """Build and open the store: ClickHouse server when CLICKHOUSE_URL is set, else chDB."""
    store: Store
    if settings.clickhouse_url:
        store = ServerStore(
            settings.clickhouse_url,
            settings.clickhouse_user,
            settings.clickhouse_password.get_secret_value(),
            settings.clickhouse_database,
        )
    else:
        store = ChdbStore(chdb_path or settings.chdb_path, settings.clickhouse_database)
    if settings.store_outage_file is not None:
        store = OutageSwitchStore(store, settings.store_outage_file)
    store.open()
    return store
