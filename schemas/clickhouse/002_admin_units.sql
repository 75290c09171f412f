-- Today's administrative units (34 provinces, 3,321 communes and wards since 1 July 2025),
-- seeded by `welfare-monitor migrate` from the vietnam-provinces package.
CREATE TABLE IF NOT EXISTS admin_units
(
    province_code  UInt16,
    province_name  String,
    commune_code   UInt32,
    commune_name   String,
    commune_type   LowCardinality(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (province_code, commune_code);
