-- SQLite 1.6.0: the rollups of a batch added once per batch, not once per row
-- (src/telemetry/db.rs `BATCHED_ROLLUPS`; one `BEGIN IMMEDIATE` transaction, `raw_sql`).
--
-- The insert triggers of 1.2.0 and 1.3.0 upsert three rollup rows per invocation: a quarter of
-- an insert's time. A writer that inserts many rows at once (execdash's own ingestion,
-- src/telemetry/ingest.rs) puts the one row of `rollup_batch` in its transaction before its
-- inserts; the insert triggers then stand aside, and the writer adds its new rows to the
-- rollups with one grouped statement per rollup (`ROLLUP_BATCH` there) and deletes the row again,
-- all before it commits. Every other writer (the original logger, another process, an update or
-- a delete) never sees the row, so the triggers keep the rollups exact for it as before.

CREATE TABLE IF NOT EXISTS rollup_batch (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);

DROP TRIGGER IF EXISTS trg_invocations_rollup_insert;
CREATE TRIGGER trg_invocations_rollup_insert AFTER INSERT ON invocations
WHEN NOT EXISTS (SELECT 1 FROM rollup_batch)
BEGIN
    INSERT INTO cost_rollup (day, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
    VALUES (COALESCE(date(NEW.timestamp), ''), NEW.model_name, COALESCE(NEW.agent_name, ''),
            NEW.tool_name, 1, NEW.status IS NOT 'success', COALESCE(NEW.total_tokens, 0),
            COALESCE(NEW.cost_usd, 0.0))
    ON CONFLICT (day, model_name, agent_name, tool_name) DO UPDATE SET
        invocations = invocations + 1,
        errors = errors + excluded.errors,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
    INSERT INTO task_costs (task_id, invocations, total_tokens, cost_usd)
    SELECT NEW.task_id, 1, COALESCE(NEW.total_tokens, 0), COALESCE(NEW.cost_usd, 0.0)
    WHERE NEW.task_id IS NOT NULL
    ON CONFLICT (task_id) DO UPDATE SET
        invocations = invocations + 1,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
END;

DROP TRIGGER IF EXISTS trg_invocations_hourly_insert;
CREATE TRIGGER trg_invocations_hourly_insert AFTER INSERT ON invocations
WHEN strftime('%Y-%m-%d %H:00:00', NEW.timestamp) IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM rollup_batch)
BEGIN
    INSERT INTO cost_rollup_hourly (hour, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
    VALUES (strftime('%Y-%m-%d %H:00:00', NEW.timestamp), NEW.model_name,
            COALESCE(NEW.agent_name, ''), NEW.tool_name, 1, NEW.status IS NOT 'success',
            COALESCE(NEW.total_tokens, 0), COALESCE(NEW.cost_usd, 0.0))
    ON CONFLICT (hour, model_name, agent_name, tool_name) DO UPDATE SET
        invocations = invocations + 1,
        errors = errors + excluded.errors,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
END;
