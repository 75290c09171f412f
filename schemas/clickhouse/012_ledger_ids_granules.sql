-- Issue 13 (throughput): ledger_ids rebuilt with small granules and small compressed blocks.
-- Every batch looks its ids up here. Event ids are random UUIDs, so a batch of 4,000 ids
-- touches about 4,000 granules wherever they are, and each granule read decompresses its whole
-- compressed block. With the defaults (8,192 rows a granule, blocks of 64 KiB to 1 MiB) that is
-- most of the table once the ledger holds a national month: 808 ms of CPU per 4,000 ids at
-- 5,000,000 rows, against 239 ms with 256 rows a granule and blocks of 4-16 KiB (the same rows
-- found; docs/benchmarks.md). The granularity is fixed when a table is created, so the rows are
-- copied into a new table, which then takes the old one's name in one EXCHANGE.
-- Safe to re-run from any statement after a crash: the first statement drops a half-built copy
-- (or, after the EXCHANGE, the old layout) and the copy is made again from the live table.
-- Run it with the workers stopped: rows written to the old table during the copy would be
-- dropped with it (docs/ledger.md, "Upgrading").
DROP TABLE IF EXISTS ledger_ids_012;

CREATE TABLE ledger_ids_012
(
    event_id     String,
    digest       String,
    received_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (event_id, digest)
SETTINGS index_granularity = 256, min_compress_block_size = 4096, max_compress_block_size = 16384;

INSERT INTO ledger_ids_012 (event_id, digest, received_at)
SELECT event_id, digest, received_at FROM ledger_ids;

EXCHANGE TABLES ledger_ids AND ledger_ids_012;

DROP TABLE ledger_ids_012;
