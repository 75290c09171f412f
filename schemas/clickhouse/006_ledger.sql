-- Issue 13: the ledger, the system of record. Every accepted event (validated, the citizen ID
-- replaced by its keyed pseudonym) is stored here before any figure is written for it, and
-- every figure is recomputed from these rows (docs/ledger.md). Rows are only ever added.
-- The Grafana read-only user must not read these tables: they hold individual rows.

-- Payment events, in the order a commune-period is read back.
CREATE TABLE IF NOT EXISTS ledger_payments
(
    event_id       String,
    event_type     LowCardinality(String),
    period         LowCardinality(String),
    programme      LowCardinality(String),
    beneficiary    String,
    province_code  UInt16,
    commune_code   UInt32,
    channel        LowCardinality(String),
    occurred_ms    Int64,
    amount_vnd     Int64,
    reason         LowCardinality(String),
    attempt        UInt32,
    received_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (period, commune_code, province_code, beneficiary, event_id);

-- Every other event type (access points, enrolments, exits): the pseudonymised payload.
-- subject: the access point's id, or the beneficiary's pseudonym.
CREATE TABLE IF NOT EXISTS ledger_events
(
    event_id       String,
    event_type     LowCardinality(String),
    subject        String,
    province_code  UInt16,
    commune_code   UInt32,
    occurred_ms    Int64,
    payload        String,
    received_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (event_type, subject, event_id);

-- Every accepted event id with the digest of its content: a batch looks its ids up here, so an
-- id seen before with other content is dead-lettered as conflicting_duplicate, whenever the
-- first copy came. Written after the event's row above, so a crash in between only repeats it.
CREATE TABLE IF NOT EXISTS ledger_ids
(
    event_id     String,
    digest       String,
    received_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (event_id, digest);
