-- The read-only ClickHouse user Grafana queries with. readonly = 1 forbids writes and DDL;
-- max_execution_time stays changeable, as the grafana-clickhouse-datasource client sets it.
-- __USER__, __PASSWORD__ and __DATABASE__ are filled in from the environment by
-- 10-grafana-readonly.sh (the password never lands in a file).
CREATE SETTINGS PROFILE IF NOT EXISTS grafana_readonly
    SETTINGS readonly = 1, max_execution_time = 60 CHANGEABLE_IN_READONLY;
CREATE USER IF NOT EXISTS __USER__
    IDENTIFIED WITH sha256_password BY '__PASSWORD__'
    SETTINGS PROFILE 'grafana_readonly';
GRANT SELECT ON __DATABASE__.* TO __USER__;
