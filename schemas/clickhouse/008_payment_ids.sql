-- The payment a ledger_payments row is an outcome of (the event's `payment_id`): a later
-- version of the same outcome (same payment_id, event type and attempt; a corrected
-- spreadsheet row) supersedes the earlier one in the fold (docs/ledger.md). Rows stored
-- before this column existed read '' and are never superseded.
ALTER TABLE ledger_payments ADD COLUMN IF NOT EXISTS payment_id String DEFAULT ''
