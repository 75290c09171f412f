"""Grafana's read-only ClickHouse user (dashboards/provisioning/clickhouse/grafana-readonly.xml):
the password reaches ClickHouse exactly, on every start, and the user reads only what the
dashboards need.

How the clickhouse/clickhouse-server image starts (docker/server/entrypoint.sh): it writes
users.d/default-user.xml for CLICKHOUSE_USER, then runs /docker-entrypoint-initdb.d scripts
only when the data directory is new (`DATABASE_ALREADY_EXISTS`), so an init script's
`CREATE USER IF NOT EXISTS` never applies a changed password; files in users.d are read by the
server on every start. `from_env` makes the config processor take an element's text from the
environment (ClickHouse src/Common/Config/ConfigProcessor.cpp, `from_env` substitution): no
shell, sed or SQL quoting touches it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from dashboards import panels as p
from dashboards.build import build_all
from tests.support.grafana import panel_queries, variable_queries

ROOT = Path(__file__).resolve().parents[3]
USERS_XML = ROOT / "dashboards" / "provisioning" / "clickhouse" / "grafana-readonly.xml"
FOLLOWUP_XML = USERS_XML.with_name("grafana-followup.xml")
COMPOSE = ROOT / "docker-compose.yml"
HOSTILE = ["it's", "a&b", "back\\slash", "<tag>&amp;", 'dq"$HOME;`id`', "ví dụ mật khẩu"]


def resolve_from_env(element: ET.Element, env: dict[str, str]) -> str:
    """An element's value as ClickHouse's config processor sees it."""
    name = element.get("from_env")
    return env.get(name, "") if name else (element.text or "")


def grafana_user(env: dict[str, str]) -> tuple[ET.Element, str]:
    """The grafana user element of users.d and the password ClickHouse would load."""
    root = ET.parse(USERS_XML).getroot()
    user = root.find("./users/grafana")
    assert user is not None, f"{USERS_XML} defines no grafana user"
    password = user.find("password")
    assert password is not None
    return user, resolve_from_env(password, env)


@pytest.mark.parametrize("secret", HOSTILE)
def test_the_password_reaches_clickhouse_exactly(secret: str) -> None:
    _, password = grafana_user({"GRAFANA_CLICKHOUSE_PASSWORD": secret})
    assert password == secret


def test_the_password_comes_from_the_environment_on_every_start() -> None:
    user, _ = grafana_user({})
    password = user.find("password")
    assert password is not None and password.get("from_env") == "GRAFANA_CLICKHOUSE_PASSWORD"
    assert not (password.text or "").strip()  # never written in the file
    compose = yaml.safe_load(COMPOSE.read_text())
    clickhouse = compose["services"]["clickhouse"]
    assert any(
        v.startswith(
            "./dashboards/provisioning/clickhouse/grafana-readonly.xml:"
            "/etc/clickhouse-server/users.d/"
        )
        for v in clickhouse["volumes"]
    )
    assert not any("docker-entrypoint-initdb.d" in v for v in clickhouse["volumes"])
    assert clickhouse["environment"]["GRAFANA_CLICKHOUSE_PASSWORD"].startswith(
        "${GRAFANA_CLICKHOUSE_PASSWORD:?"
    )
    assert compose["services"]["grafana"]["environment"]["GRAFANA_CLICKHOUSE_USER"] == "grafana"


def test_the_profile_is_read_only() -> None:
    root = ET.parse(USERS_XML).getroot()
    user, _ = grafana_user({})
    profile_name = user.findtext("profile")
    profile = root.find(f"./profiles/{profile_name}")
    assert profile is not None and profile.findtext("readonly") == "1"


def tables_read(sql: str) -> set[str]:
    """Names after FROM / JOIN, less the query's own WITH names."""
    sql = re.sub(r"--[^\n]*", "", sql)
    ctes = set(re.findall(r"\b([A-Za-z_]\w*)\s+AS\s*\(", sql))
    return set(re.findall(r"\b(?:FROM|JOIN)\s+([A-Za-z_]\w*)", sql)) - ctes


def alerts_columns() -> set[str]:
    """The columns of the alerts table, from its migration."""
    sql = (ROOT / "schemas" / "clickhouse" / "004_analytics.sql").read_text()
    body = sql.split("CREATE TABLE IF NOT EXISTS alerts", 1)[1].split("ENGINE", 1)[0]
    return set(re.findall(r"^\s+(\w+)\s+\S", body, flags=re.M))


def test_grafana_may_read_only_the_tables_the_dashboards_read() -> None:
    """Least privilege: one SELECT grant per table the panels and variables read, in the
    database compose uses, and nothing else: no `welfare.*`, so a table of individual
    payments or beneficiaries added later is not readable by Grafana."""
    user, _ = grafana_user({})
    grants = [q.text or "" for q in user.findall("./grants/query")]
    granted = set()
    columns: dict[str, set[str]] = {}
    for grant in grants:
        match = re.fullmatch(r"GRANT SELECT(?:\(([\w, ]+)\))? ON welfare\.(\w+)", grant.strip())
        assert match, f"unexpected grant: {grant}"
        granted.add(match.group(2))
        if match.group(1):
            columns[match.group(2)] = {c.strip() for c in match.group(1).split(",")}
    read: set[str] = set()
    followup_sql = {q.sql for q in p.FOLLOWUP_PANELS}
    for board in build_all().values():
        for _, sql in [*panel_queries(board), *variable_queries(board)]:
            if sql not in followup_sql:
                read |= tables_read(sql)
    assert read == granted
    assert "commune_programme_stats" in tables_read(p.STATS)
    assert "followup" not in granted  # pseudonyms: the follow-up reader's alone
    # alerts.subject holds pseudonyms (paid_twice, unknown_beneficiary): every other column
    # of alerts, not that one (tests/integration/dashboards/test_least_privilege.py runs it
    # in ClickHouse)
    assert set(columns) == {"alerts"}
    assert columns["alerts"] == alerts_columns() - {"subject"}


def test_the_follow_up_reader_may_read_the_follow_up_table_alone() -> None:
    """The follow-up data source's user: readonly = 1, SELECT on `followup` only (not the
    ledger, not the statistics), its password from the environment; compose mounts it."""
    root = ET.parse(FOLLOWUP_XML).getroot()
    user = root.find("./users/grafana_followup")
    assert user is not None
    password = user.find("password")
    assert (
        password is not None and password.get("from_env") == "GRAFANA_FOLLOWUP_CLICKHOUSE_PASSWORD"
    )
    assert not (password.text or "").strip()
    profile = root.find(f"./profiles/{user.findtext('profile')}")
    assert profile is not None and profile.findtext("readonly") == "1"
    grants = [(q.text or "").strip() for q in user.findall("./grants/query")]
    read = set().union(*(tables_read(q.sql) for q in p.FOLLOWUP_PANELS))
    assert read == {"followup"}
    assert grants == ["GRANT SELECT ON welfare.followup"]
    compose = yaml.safe_load(COMPOSE.read_text())
    assert (
        "./dashboards/provisioning/clickhouse/grafana-followup.xml:"
        "/etc/clickhouse-server/users.d/grafana-followup.xml:ro"
    ) in compose["services"]["clickhouse"]["volumes"]
    grafana = compose["services"]["grafana"]["environment"]
    assert grafana["GRAFANA_FOLLOWUP_CLICKHOUSE_USER"] == "grafana_followup"
