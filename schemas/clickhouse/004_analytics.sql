-- Issue 4: per-programme statistics, alerts, access points and pipeline health.

-- Per (period, province, commune, programme): a full snapshot recounted from the Faust
-- beneficiary state each time the commune changes; the highest `version` wins.
-- Roll-ups sum the distinct counts (each beneficiary of a period is in one row) and take
-- quantiles over the concatenated `seconds_to_pay` arrays, so they are exact at any level.
CREATE TABLE IF NOT EXISTS commune_programme_stats
(
    period                       LowCardinality(String),
    province_code                UInt16,
    commune_code                 UInt32,
    programme                    LowCardinality(String),
    beneficiaries_due            UInt32,
    beneficiaries_paid           UInt32,
    beneficiaries_paid_cashless  UInt32,
    beneficiaries_paid_twice     UInt32,
    beneficiaries_paid_unknown   UInt32,
    payments_returned            UInt32,
    payments_by_channel          Map(LowCardinality(String), UInt32),
    amount_by_channel            Map(LowCardinality(String), UInt64),
    failures_by_reason           Map(LowCardinality(String), UInt32),
    seconds_to_pay               Array(UInt32),
    version                      UInt64,
    updated_at                   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (period, province_code, commune_code, programme);

-- The walking skeleton's commune totals are now a roll-up of the table above.
DROP TABLE IF EXISTS commune_payment_totals;

-- Alerts, one row per (kind, period, commune, subject) and version; `active` = 0 clears it.
-- subject: '' for commune alerts, the beneficiary's pseudonym for beneficiary alerts.
CREATE TABLE IF NOT EXISTS alerts
(
    kind           LowCardinality(String),
    period         LowCardinality(String),
    province_code  UInt16,
    commune_code   UInt32,
    subject        String,
    active         UInt8,
    value          Float64,
    threshold      Float64,
    message        String,
    version        UInt64,
    raised_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (kind, period, province_code, commune_code, subject);

-- Access points (ATMs, bank branches, post offices, mobile-money agents): the latest state
-- of each, by the occurred_at of the event that set it.
CREATE TABLE IF NOT EXISTS access_points
(
    access_point_id  String,
    kind             LowCardinality(String),
    operator         LowCardinality(String),
    latitude         Float64,
    longitude        Float64,
    province_code    UInt16,
    commune_code     UInt32,
    is_open          UInt8,
    version          UInt64,
    updated_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY access_point_id;

-- One row per worker and flush interval: throughput, lag, freshness, dead letters.
CREATE TABLE IF NOT EXISTS pipeline_health
(
    at                     DateTime64(3, 'UTC'),
    worker                 String,
    events                 UInt64,
    events_per_s           Float64,
    dead_letters           UInt64,
    dead_letters_by_class  Map(LowCardinality(String), UInt64),
    consumer_lag           Int64,
    latest_event_at        Nullable(DateTime64(3, 'UTC')),
    freshness_s            Nullable(Float64)
)
ENGINE = MergeTree
ORDER BY (at, worker)
TTL toDateTime(at) + INTERVAL 30 DAY;

-- Commune centres (synthetic, see the README) for distances to access points.
ALTER TABLE admin_units ADD COLUMN IF NOT EXISTS latitude Float64;
ALTER TABLE admin_units ADD COLUMN IF NOT EXISTS longitude Float64;
