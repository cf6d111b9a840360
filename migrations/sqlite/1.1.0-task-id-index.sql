-- SQLite 1.1.0: invocations by board task (src/telemetry/db.rs `TASK_ID_INDEX`). One statement
-- (`sqlx::query`), after 1.1.0-task-id-column.sql, in the same transaction.

CREATE INDEX IF NOT EXISTS idx_invocations_task_id ON invocations(task_id);
