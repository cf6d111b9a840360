-- PostgreSQL 2.3.0: the SQLite file's 1.5.0 (invocations by session) (src/telemetry/postgres.rs
-- `SCHEMA_2_3_0`; `raw_sql`, in the migration's transaction).

CREATE INDEX IF NOT EXISTS idx_invocations_session ON invocations (session_id)
    WHERE session_id IS NOT NULL;
