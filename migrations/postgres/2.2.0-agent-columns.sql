-- PostgreSQL 2.2.0: the columns of the SQLite file's 1.4.0 (the coding agents' own reports)
-- (src/telemetry/postgres.rs `SCHEMA_2_2_0`; `raw_sql`, in the migration's transaction).

ALTER TABLE invocations
    ADD COLUMN IF NOT EXISTS source TEXT,
    ADD COLUMN IF NOT EXISTS session_id TEXT,
    ADD COLUMN IF NOT EXISTS cache_read_tokens BIGINT,
    ADD COLUMN IF NOT EXISTS cache_write_tokens BIGINT,
    ADD COLUMN IF NOT EXISTS reported_cost_usd DOUBLE PRECISION,
    ADD COLUMN IF NOT EXISTS computed_cost_usd DOUBLE PRECISION,
    ADD COLUMN IF NOT EXISTS attribution TEXT;
-- The calls no price was found for (few): the cost page lists them apart.
CREATE INDEX IF NOT EXISTS idx_invocations_unpriced ON invocations (at)
    WHERE source IS NOT NULL AND reported_cost_usd IS NULL AND computed_cost_usd IS NULL;
-- Each source's latest call and its calls today (the "Connect your agents" page).
CREATE INDEX IF NOT EXISTS idx_invocations_source ON invocations (source, at)
    WHERE source IS NOT NULL;
