"""Build the store the settings ask for: the same adapter for both modes, only the DSN differs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from streams.errors import ConfigurationError
from streams.settings import Settings
from streams.storage.base import Store
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.outage import OutageSwitchStore


def chdb_dsn(path: Path) -> str:
    """`chdb:///absolute/path`; clickhouse-connect takes the DSN's path verbatim (no unquoting)."""
    absolute = str(path.expanduser().resolve())
    if any(ch in absolute for ch in "?#"):
        raise ConfigurationError(
            f"the chDB directory {absolute} contains '?' or '#', which a chdb:// DSN cannot "
            "hold; choose a directory without them (CHDB_PATH or --data-dir)"
        )
    return f"chdb://{absolute}"


def server_dsn(url: str, user: str, password: str) -> str:
    """CLICKHOUSE_URL with CLICKHOUSE_USER and CLICKHOUSE_PASSWORD as its (quoted) user info."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"CLICKHOUSE_URL must be an http(s) URL such as http://clickhouse:8123, not {url!r}"
        )
    if parts.username is not None:
        raise ConfigurationError(
            "CLICKHOUSE_URL must not carry a user or password; set CLICKHOUSE_USER and "
            "CLICKHOUSE_PASSWORD instead"
        )
    if parts.path not in ("", "/"):
        raise ConfigurationError(
            "CLICKHOUSE_URL must not name a database; set CLICKHOUSE_DATABASE instead"
        )
    userinfo = quote(user, safe="") + ":" + quote(password, safe="")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}", path=""))


def store_dsn(settings: Settings, chdb_path: Path | None = None) -> str:
    """The DSN of the store the settings select: a server when CLICKHOUSE_URL is set, else chDB."""
    if settings.clickhouse_url:
        return server_dsn(
            settings.clickhouse_url,
            settings.clickhouse_user,
            settings.clickhouse_password.get_secret_value(),
        )
    return chdb_dsn(chdb_path or settings.chdb_path)


def open_store(settings: Settings, chdb_path: Path | None = None) -> Store:
    """Build and open the store: ClickHouse server when CLICKHOUSE_URL is set, else chDB."""
    store: Store = ClickHouseStore(store_dsn(settings, chdb_path), settings.clickhouse_database)
    if settings.store_outage_file is not None:
        store = OutageSwitchStore(store, settings.store_outage_file)
    store.open()
    return store
