-- SQLite 1.5.0: a session's calls found at once (a metrics-only sender's provisional rows are
-- removed when its session's calls come; the Sessions page) (src/telemetry/db.rs
-- `SESSION_INDEX`). One statement (`sqlx::query`), in 1.5.0's transaction.
-- On one line: SQLite keeps a CREATE statement's text in sqlite_master.

CREATE INDEX IF NOT EXISTS idx_invocations_session ON invocations(session_id) WHERE session_id IS NOT NULL;
