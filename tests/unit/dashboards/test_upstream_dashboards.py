"""The committed dashboards (dashboards/json) run as Grafana runs them, with Grafana's own
code as the oracle (tests/support/grafana_upstream): Scenes substitutes the variables
(@grafana/scenes 6.6.3), the plugin's backend expands the macros (sqlutil v0.277.1, the macro
table of clickhouse-datasource v4.10.1), and chDB runs the result as a `readonly = 1` user with
the settings the pinned plugin sends. Issue 14 items 1, 2 and 7; issue 18 item 2.
"""

from __future__ import annotations

from tests.support.upstream_dashboards import (
    ROOT,
    load,
    pinned_plugin_version,
    targets,
)

# One language's set: the English set (uid `-en`) has the same queries (tests/unit/dashboards).
BOARDS = sorted(
    p for p in (ROOT / "dashboards" / "json").rglob("*.json") if not p.stem.endswith("-en")
)
# The plugin versions whose pkg/macros the oracle's macro table follows: identical at v4.10.1
# and v4.10.2 (`git diff v4.10.1 v4.10.2 -- pkg/macros` is empty); it changes later.
MACRO_TABLE_VERSIONS = {"4.10.1", "4.10.2"}


def test_the_oracle_follows_the_plugin_version_compose_installs() -> None:
    """tests/upstream/go/clickhouse_macros.go restates the macro table of one plugin version;
    docker-compose.yml must install a version with the same table."""
    assert pinned_plugin_version() in MACRO_TABLE_VERSIONS, (
        "update tests/upstream/go/clickhouse_macros.go to the pinned plugin's pkg/macros"
    )


def test_every_dashboard_has_queries_for_the_oracle() -> None:
    assert len(BOARDS) == 4
    assert all(targets(load(path)) for path in BOARDS)
