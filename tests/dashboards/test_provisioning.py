"""Grafana's read-only ClickHouse user: its DDL parses, and the init script is valid shell."""

import re
import subprocess
from pathlib import Path

import pytest

from streams.storage.chdb_store import ChdbStore

ROOT = Path(__file__).resolve().parents[2]
CLICKHOUSE = ROOT / "dashboards" / "provisioning" / "clickhouse"
DASHBOARDS = ROOT / "dashboards"
MIGRATIONS = ROOT / "schemas" / "clickhouse"

pytestmark = pytest.mark.integration


def test_read_only_user_ddl_parses_in_clickhouse(chdb_store: ChdbStore) -> None:
    text = (CLICKHOUSE / "grafana_readonly.sql").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    filled = (text.replace("__USER__", "grafana").replace("__PASSWORD__", "p")
              .replace("__DATABASE__", "welfare"))
    statements = [s.strip() for s in filled.split(";") if s.strip()]
    assert len(statements) == 8
    formatted = [
        chdb_store.query("SELECT formatQuery({q:String}) AS f", {"q": s})[0]["f"]
        for s in statements
    ]
    assert "readonly = 1" in formatted[0] and "CHANGEABLE_IN_READONLY" in formatted[0]
    granted = set()
    for grant in formatted[2:]:
        match = re.fullmatch(r"GRANT SELECT ON welfare\.(\w+) TO grafana", grant)
        assert match, grant
        granted.add(match.group(1))
    # Every table the dashboards read, and none of the ledger's individual rows.
    read = set()
    for path in DASHBOARDS.glob("*.py"):
        read |= set(re.findall(r"(?:FROM|JOIN)\s+([a-z_]+)", path.read_text()))
    tables = {m.group(1) for path in MIGRATIONS.glob("*.sql") for m in re.finditer(
        r"CREATE TABLE IF NOT EXISTS (\w+)", path.read_text())}
    assert granted == read & tables
    assert not {t for t in granted if t.startswith("ledger")}
    assert {"ledger_payments", "ledger_events", "ledger_ids"} <= tables


def test_init_script_is_valid_shell() -> None:
    script = CLICKHOUSE / "10-grafana-readonly.sh"
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
