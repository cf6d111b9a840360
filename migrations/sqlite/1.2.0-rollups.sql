-- SQLite 1.2.0: what makes every aggregate cheap at a million rows, whatever wrote the rows
-- (src/telemetry/db.rs `ROLLUP_SCHEMA`; one `BEGIN IMMEDIATE` transaction, `raw_sql`).
--
-- * `idx_invocations_julianday`: timestamps come in several formats (`...T...+00:00`, `...Z`,
--   `YYYY-MM-DD HH:MM:SS`), so windows must compare `julianday(timestamp)`, not the text. This
--   expression index makes those comparisons (last 24 h, last 5 minutes) index range scans.
-- * `idx_invocations_model_julianday`: the latency percentile sample (newest N of one model).
-- * `cost_rollup`: per (UTC day, model, agent, tool) sums. `agent_name` is `''` for NULL so that
--   NULL agents aggregate into one row (the original `daily_costs` duplicates them). `day` is `''`
--   for a timestamp SQLite cannot parse (counted in the all-time total only).
-- * `task_costs`: per task id sums (the board).
-- * Triggers on `invocations` keep both exact for inserts, updates and deletes from any
--   connection or process (they live in the database file). `daily_costs` is left to its
--   writers (the original logger upserts it itself; a trigger would count those rows twice).

CREATE INDEX IF NOT EXISTS idx_invocations_julianday ON invocations(julianday(timestamp));
CREATE INDEX IF NOT EXISTS idx_invocations_model_julianday
    ON invocations(model_name, julianday(timestamp));
CREATE TABLE IF NOT EXISTS cost_rollup (
    day TEXT NOT NULL,
    model_name TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    tool_name TEXT NOT NULL,
    invocations INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0.0,
    PRIMARY KEY (day, model_name, agent_name, tool_name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS task_costs (
    task_id TEXT PRIMARY KEY,
    invocations INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0.0
) WITHOUT ROWID;
DELETE FROM cost_rollup;
DELETE FROM task_costs;
INSERT INTO cost_rollup (day, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
SELECT COALESCE(date(timestamp), ''), model_name, COALESCE(agent_name, ''), tool_name,
       COUNT(*), SUM(status IS NOT 'success'), SUM(COALESCE(total_tokens, 0)),
       SUM(COALESCE(cost_usd, 0.0))
FROM invocations GROUP BY 1, 2, 3, 4;
INSERT INTO task_costs (task_id, invocations, total_tokens, cost_usd)
SELECT task_id, COUNT(*), SUM(COALESCE(total_tokens, 0)), SUM(COALESCE(cost_usd, 0.0))
FROM invocations WHERE task_id IS NOT NULL GROUP BY task_id;

CREATE TRIGGER IF NOT EXISTS trg_invocations_rollup_insert AFTER INSERT ON invocations
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

CREATE TRIGGER IF NOT EXISTS trg_invocations_rollup_delete AFTER DELETE ON invocations
BEGIN
    UPDATE cost_rollup SET
        invocations = invocations - 1,
        errors = errors - (OLD.status IS NOT 'success'),
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE day = COALESCE(date(OLD.timestamp), '') AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name;
    DELETE FROM cost_rollup
    WHERE day = COALESCE(date(OLD.timestamp), '') AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name
      AND invocations <= 0;
    UPDATE task_costs SET
        invocations = invocations - 1,
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE task_id = OLD.task_id;
    DELETE FROM task_costs WHERE task_id = OLD.task_id AND invocations <= 0;
END;

CREATE TRIGGER IF NOT EXISTS trg_invocations_rollup_update
AFTER UPDATE OF timestamp, agent_name, tool_name, model_name, total_tokens, cost_usd, status, task_id
ON invocations
BEGIN
    UPDATE cost_rollup SET
        invocations = invocations - 1,
        errors = errors - (OLD.status IS NOT 'success'),
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE day = COALESCE(date(OLD.timestamp), '') AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name;
    INSERT INTO cost_rollup (day, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
    VALUES (COALESCE(date(NEW.timestamp), ''), NEW.model_name, COALESCE(NEW.agent_name, ''),
            NEW.tool_name, 1, NEW.status IS NOT 'success', COALESCE(NEW.total_tokens, 0),
            COALESCE(NEW.cost_usd, 0.0))
    ON CONFLICT (day, model_name, agent_name, tool_name) DO UPDATE SET
        invocations = invocations + 1,
        errors = errors + excluded.errors,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
    DELETE FROM cost_rollup WHERE invocations <= 0
      AND day = COALESCE(date(OLD.timestamp), '') AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name;
    UPDATE task_costs SET
        invocations = invocations - 1,
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE task_id = OLD.task_id;
    INSERT INTO task_costs (task_id, invocations, total_tokens, cost_usd)
    SELECT NEW.task_id, 1, COALESCE(NEW.total_tokens, 0), COALESCE(NEW.cost_usd, 0.0)
    WHERE NEW.task_id IS NOT NULL
    ON CONFLICT (task_id) DO UPDATE SET
        invocations = invocations + 1,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
    DELETE FROM task_costs WHERE task_id = OLD.task_id AND invocations <= 0;
END;
