-- Issue 15: cashless-rate targets per province or commune and period range (giao chỉ tiêu),
-- loaded by `welfare-monitor targets import`. commune_code = 0: the province's target, which
-- its communes without a target of their own fall back to. The latest import of a (unit,
-- period_from) wins.
CREATE TABLE IF NOT EXISTS targets
(
    province_code     UInt16,
    commune_code      UInt32,
    period_from       LowCardinality(String),
    period_to         LowCardinality(String),
    target_rate       Float64,
    deadline          Date,
    responsible_unit  String,
    version           UInt64,
    imported_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (province_code, commune_code, period_from);
