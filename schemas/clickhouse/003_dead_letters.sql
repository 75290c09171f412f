-- Events that failed validation: where they came from and why. Never the payload itself,
-- which may hold a citizen ID in the clear.
CREATE TABLE IF NOT EXISTS dead_letters
(
    received_at     DateTime64(3, 'UTC'),
    source_topic    LowCardinality(String),
    source_partition UInt32,
    source_offset   UInt64,
    error_class     LowCardinality(String),
    reason          String
)
ENGINE = ReplacingMergeTree
ORDER BY (source_topic, source_partition, source_offset);
