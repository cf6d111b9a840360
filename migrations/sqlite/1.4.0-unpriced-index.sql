-- SQLite 1.4.0: the calls no price was found for (few): the cost page lists them apart
-- (src/telemetry/db.rs `UNPRICED_INDEX`). One statement (`sqlx::query`), in 1.4.0's transaction,
-- after the agents' columns (`AGENT_COLUMNS`, each added in Rust only if missing).
-- On one line: SQLite keeps a CREATE statement's text in sqlite_master.

CREATE INDEX IF NOT EXISTS idx_invocations_unpriced ON invocations(model_name) WHERE source IS NOT NULL AND reported_cost_usd IS NULL AND computed_cost_usd IS NULL;
