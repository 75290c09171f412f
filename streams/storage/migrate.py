"""Apply `schemas/clickhouse/NNN_*.sql` in order, once each, and seed the unit dimension."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from schemas import CLICKHOUSE_DIR
from streams.errors import MigrationError, StorageError
from streams.storage.base import Store
from streams.storage.nearest_atm import refresh_if_missing

_FILE_PATTERN = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

_LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version     UInt32,
    name        String,
    applied_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY version
"""


@dataclass(frozen=True)
class Migration:
    """One DDL file."""

    version: int
    name: str
    path: Path

    def statements(self) -> list[str]:
        """The file's statements, comments stripped, split on `;`."""
        text = "\n".join(
            line
            for line in self.path.read_text().splitlines()
            if not line.lstrip().startswith("--")
        )
        return [s.strip() for s in text.split(";") if s.strip()]


def discover(directory: Path = CLICKHOUSE_DIR) -> list[Migration]:
    """The migrations in `directory`, ordered by version; rejects duplicate versions."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: DDL files must be named NNN_snake_case.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two DDL files share version {version:03d}: rename one")
        found[version] = Migration(version, path.stem, path)
    return [found[v] for v in sorted(found)]


def migrate(store: Store, directory: Path = CLICKHOUSE_DIR) -> list[str]:
    """Apply pending migrations; return the names applied now."""
    store.command(_LEDGER_DDL)
    applied = {int(r["version"]) for r in store.query("SELECT version FROM schema_migrations")}
    done: list[str] = []
    for migration in discover(directory):
        if migration.version in applied:
            continue
        for statement in migration.statements():
            try:
                store.command(statement)
            except StorageError as e:
                raise MigrationError(f"{migration.path.name} failed: {e}") from e
        store.insert(
            "schema_migrations",
            [
                {
                    "version": migration.version,
                    "name": migration.name,
                    "applied_at": datetime.now(UTC),
                }
            ],
        )
        done.append(migration.name)
    seeded = seed_admin_units(store)
    refresh_if_missing(store, seeded > 0)
    return done


def seed_admin_units(store: Store) -> int:
    """Fill `admin_units` from vietnam-provinces (with the synthetic commune centres) when it
    is empty or predates the coordinates; return rows inserted."""
    from schemas.reference import all_communes, commune_position

    missing = store.query(
        "SELECT count() AS n, countIf(latitude = 0) AS bare FROM admin_units FINAL"
    )[0]
    if int(missing["n"]) and not int(missing["bare"]):
        return 0
    rows = []
    for c in all_communes():
        latitude, longitude = commune_position(c.province_code, c.code)
        rows.append(
            {
                "province_code": c.province_code,
                "province_name": c.province_name,
                "commune_code": c.code,
                "commune_name": c.name,
                "commune_type": c.kind,
                "latitude": latitude,
                "longitude": longitude,
            }
        )
    store.insert("admin_units", rows)
    store.command("OPTIMIZE TABLE admin_units FINAL")
    return len(rows)
