"""Grafana's read-only ClickHouse user: its DDL parses, and the init script is valid shell."""

import subprocess
from pathlib import Path

import pytest

from streams.storage.clickhouse_store import ClickHouseStore

CLICKHOUSE = Path(__file__).resolve().parents[2] / "dashboards" / "provisioning" / "clickhouse"

pytestmark = pytest.mark.integration


def test_read_only_user_ddl_parses_in_clickhouse(chdb_store: ClickHouseStore) -> None:
    text = (CLICKHOUSE / "grafana_readonly.sql").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    filled = (text.replace("__USER__", "grafana").replace("__PASSWORD__", "p")
              .replace("__DATABASE__", "welfare"))
    statements = [s.strip() for s in filled.split(";") if s.strip()]
    assert len(statements) == 3
    formatted = [
        chdb_store.query("SELECT formatQuery({q:String}) AS f", {"q": s})[0]["f"]
        for s in statements
    ]
    assert "readonly = 1" in formatted[0] and "CHANGEABLE_IN_READONLY" in formatted[0]
    assert formatted[2] == "GRANT SELECT ON welfare.* TO grafana"


def test_init_script_is_valid_shell() -> None:
    script = CLICKHOUSE / "10-grafana-readonly.sh"
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
