#!/bin/bash
# ClickHouse server init script (/docker-entrypoint-initdb.d): creates Grafana's read-only
# user from grafana_readonly.sql with the credentials from the environment.
set -euo pipefail
: "${GRAFANA_CLICKHOUSE_PASSWORD:?set GRAFANA_CLICKHOUSE_PASSWORD}"
user="${GRAFANA_CLICKHOUSE_USER:-grafana}"
database="${CLICKHOUSE_DB:-welfare}"
password="${GRAFANA_CLICKHOUSE_PASSWORD//\'/\\\'}"
sed -e "s/__USER__/${user}/g" -e "s/__DATABASE__/${database}/g" \
    -e "s/__PASSWORD__/${password//\//\\/}/g" \
    /docker-entrypoint-initdb.d/grafana_readonly.sql.in \
  | clickhouse client --user "${CLICKHOUSE_USER}" --password "${CLICKHOUSE_PASSWORD}" --multiquery
