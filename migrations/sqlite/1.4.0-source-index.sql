-- SQLite 1.4.0: each source's latest call and its calls today (the "Connect your agents" page)
-- (src/telemetry/db.rs `SOURCE_INDEX`). One statement (`sqlx::query`), after
-- 1.4.0-unpriced-index.sql, in the same transaction.
-- On one line: SQLite keeps a CREATE statement's text in sqlite_master.

CREATE INDEX IF NOT EXISTS idx_invocations_source ON invocations(source, julianday(timestamp)) WHERE source IS NOT NULL;
