-- PostgreSQL 2.1.0: the boards every node publishes (see `crate::team`): one row per repository
-- (its node, per-repository seq, heartbeat and counts) and one per task file (the whole task, or
-- its problem) (src/telemetry/postgres.rs `SCHEMA_2_1_0`; `raw_sql`, in the migration's
-- transaction).

CREATE TABLE repos (
    name TEXT PRIMARY KEY,
    node TEXT NOT NULL,
    instance TEXT NOT NULL,
    seq BIGINT NOT NULL DEFAULT 0,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    inbox BIGINT NOT NULL DEFAULT 0,
    assigned BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    problems BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE repo_files (
    repo TEXT NOT NULL REFERENCES repos (name) ON DELETE CASCADE,
    path TEXT NOT NULL,
    seq BIGINT NOT NULL,
    task JSONB,
    problem JSONB,
    PRIMARY KEY (repo, path)
);
CREATE INDEX idx_repo_files_seq ON repo_files (repo, seq);
