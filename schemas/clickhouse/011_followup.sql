-- Issue 15: who a commune's staff should follow up (docs/server-mode.md, "Follow-up list"):
-- the unpaid, failed (with the last reason) and paid-twice beneficiaries of each
-- commune-period, as pseudonyms, written by `welfare-monitor followup refresh` with the
-- pipeline's own rules (streams/explain.py) from the ledger. The only table the follow-up
-- reader (dashboards/provisioning/clickhouse/grafana-followup.xml) may read: no CCCD, no
-- amounts, no events. `active` = 0: no longer to follow up; the latest version wins.
CREATE TABLE IF NOT EXISTS followup
(
    period         LowCardinality(String),
    province_code  UInt16,
    commune_code   UInt32,
    category       LowCardinality(String),
    beneficiary    String,
    programme      LowCardinality(String),
    reason         LowCardinality(String),
    last_event_at  DateTime('UTC'),
    active         UInt8,
    version        UInt64,
    refreshed_at   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (period, province_code, commune_code, category, beneficiary);
