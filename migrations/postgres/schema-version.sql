-- PostgreSQL: `schema_version`, where the migrations are recorded (src/telemetry/postgres.rs
-- `BOOKKEEPING`). Run in a migration's transaction when the table is missing, once it holds the
-- migration advisory lock, before `schema_version` is read.

CREATE TABLE IF NOT EXISTS schema_version (
    version TEXT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    description TEXT
);
