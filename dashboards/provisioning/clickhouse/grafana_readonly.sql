-- The read-only ClickHouse user Grafana queries with. readonly = 1 forbids writes and DDL;
-- max_execution_time stays changeable, as the grafana-clickhouse-datasource client sets it.
-- __USER__, __PASSWORD__ and __DATABASE__ are filled in from the environment by
-- 10-grafana-readonly.sh (the password never lands in a file).
CREATE SETTINGS PROFILE IF NOT EXISTS grafana_readonly
    SETTINGS readonly = 1, max_execution_time = 60 CHANGEABLE_IN_READONLY;
CREATE USER IF NOT EXISTS __USER__
    IDENTIFIED WITH sha256_password BY '__PASSWORD__'
    SETTINGS PROFILE 'grafana_readonly';
-- Least privilege: only the aggregate tables the dashboards read. Never the ledger
-- (ledger_payments, ledger_events, ledger_ids: one row per person and event, see
-- docs/ledger.md); a new table the dashboards need gets its own GRANT here.
GRANT SELECT ON __DATABASE__.commune_programme_stats TO __USER__;
GRANT SELECT ON __DATABASE__.admin_units TO __USER__;
GRANT SELECT ON __DATABASE__.access_points TO __USER__;
GRANT SELECT ON __DATABASE__.alerts TO __USER__;
GRANT SELECT ON __DATABASE__.dead_letters TO __USER__;
GRANT SELECT ON __DATABASE__.pipeline_health TO __USER__;
