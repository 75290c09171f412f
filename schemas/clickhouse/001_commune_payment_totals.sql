-- Per (period, province, commune): distinct beneficiaries due, paid and paid cashless,
-- as computed by the Faust payments agent. Each row is a full snapshot of the commune's
-- counts; the highest `version` wins, so re-sent snapshots (redelivery, restarts) are harmless.
CREATE TABLE IF NOT EXISTS commune_payment_totals
(
    period                       LowCardinality(String),
    province_code                UInt16,
    commune_code                 UInt32,
    beneficiaries_due            UInt32,
    beneficiaries_paid           UInt32,
    beneficiaries_paid_cashless  UInt32,
    version                      UInt64,
    updated_at                   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (period, province_code, commune_code);
