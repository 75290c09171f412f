-- Issue 13 (query latency): each commune's distance to its nearest open ATM, computed when the
-- access points change (streams/storage/nearest_atm.py) instead of by every coverage-gap query,
-- which crossed every commune with every open ATM (3,321 x 2,809 haversines for one national
-- month: about 0.5 s of CPU per query; docs/benchmarks.md).
-- One row per commune of admin_units; has_atm = 0 when no ATM is open anywhere.
-- version: the sum of the access_points rows' versions the distances were computed from. Each
-- access point's version counts its changes in the ledger, so a refresh that saw fewer changes
-- carries a lower version and can never replace one that saw more, whichever worker wrote last.
CREATE TABLE IF NOT EXISTS commune_nearest_atm
(
    province_code   UInt16,
    commune_code    UInt32,
    has_atm         UInt8,
    nearest_atm_km  Float64,
    version         UInt64,
    updated_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (province_code, commune_code);
