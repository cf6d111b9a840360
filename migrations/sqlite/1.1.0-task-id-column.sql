-- SQLite 1.1.0: the board task an invocation worked for. Nullable, so the original writer (which
-- does not know the column) keeps working (src/telemetry/db.rs `TASK_ID_COLUMN`).
-- Run only when `invocations` has no `task_id` column yet: that check is in Rust, as SQLite has no
-- `ADD COLUMN IF NOT EXISTS`. One statement (`sqlx::query`), in 1.1.0's transaction.

ALTER TABLE invocations ADD COLUMN task_id TEXT;
