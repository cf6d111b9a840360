-- SQLite 1.3.0: `cost_rollup_hourly`, per (UTC hour, model, agent, tool), kept by triggers of its
-- own beside 1.2.0's (src/telemetry/db.rs `HOURLY_ROLLUP_SCHEMA`; one `BEGIN IMMEDIATE`
-- transaction, `raw_sql`). The rolling 24 h reads its whole hours from it and only the partial
-- hour at its start from `invocations` (at 10 000 000 rows over three months: ~100 000 rows → a
-- few hundred). A timestamp SQLite cannot parse has no hour (it is in the all-time total only).
-- `hour` is `YYYY-MM-DD HH:00:00`, UTC.

CREATE TABLE IF NOT EXISTS cost_rollup_hourly (
    hour TEXT NOT NULL,
    model_name TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    tool_name TEXT NOT NULL,
    invocations INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0.0,
    PRIMARY KEY (hour, model_name, agent_name, tool_name)
) WITHOUT ROWID;
DELETE FROM cost_rollup_hourly;
INSERT INTO cost_rollup_hourly (hour, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
SELECT strftime('%Y-%m-%d %H:00:00', timestamp), model_name, COALESCE(agent_name, ''), tool_name,
       COUNT(*), SUM(status IS NOT 'success'), SUM(COALESCE(total_tokens, 0)),
       SUM(COALESCE(cost_usd, 0.0))
FROM invocations WHERE strftime('%Y-%m-%d %H:00:00', timestamp) IS NOT NULL GROUP BY 1, 2, 3, 4;

CREATE TRIGGER IF NOT EXISTS trg_invocations_hourly_insert AFTER INSERT ON invocations
WHEN strftime('%Y-%m-%d %H:00:00', NEW.timestamp) IS NOT NULL
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

CREATE TRIGGER IF NOT EXISTS trg_invocations_hourly_delete AFTER DELETE ON invocations
WHEN strftime('%Y-%m-%d %H:00:00', OLD.timestamp) IS NOT NULL
BEGIN
    UPDATE cost_rollup_hourly SET
        invocations = invocations - 1,
        errors = errors - (OLD.status IS NOT 'success'),
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE hour = strftime('%Y-%m-%d %H:00:00', OLD.timestamp) AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name;
    DELETE FROM cost_rollup_hourly
    WHERE hour = strftime('%Y-%m-%d %H:00:00', OLD.timestamp) AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name
      AND invocations <= 0;
END;

-- An update is the old row out and the new row in (each only when its time parses).
CREATE TRIGGER IF NOT EXISTS trg_invocations_hourly_update
AFTER UPDATE OF timestamp, agent_name, tool_name, model_name, total_tokens, cost_usd, status
ON invocations
BEGIN
    UPDATE cost_rollup_hourly SET
        invocations = invocations - 1,
        errors = errors - (OLD.status IS NOT 'success'),
        total_tokens = total_tokens - COALESCE(OLD.total_tokens, 0),
        cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0)
    WHERE hour = strftime('%Y-%m-%d %H:00:00', OLD.timestamp) AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name;
    DELETE FROM cost_rollup_hourly
    WHERE hour = strftime('%Y-%m-%d %H:00:00', OLD.timestamp) AND model_name = OLD.model_name
      AND agent_name = COALESCE(OLD.agent_name, '') AND tool_name = OLD.tool_name
      AND invocations <= 0;
    INSERT INTO cost_rollup_hourly (hour, model_name, agent_name, tool_name, invocations, errors, total_tokens, cost_usd)
    SELECT strftime('%Y-%m-%d %H:00:00', NEW.timestamp), NEW.model_name,
           COALESCE(NEW.agent_name, ''), NEW.tool_name, 1, NEW.status IS NOT 'success',
           COALESCE(NEW.total_tokens, 0), COALESCE(NEW.cost_usd, 0.0)
    WHERE strftime('%Y-%m-%d %H:00:00', NEW.timestamp) IS NOT NULL
    ON CONFLICT (hour, model_name, agent_name, tool_name) DO UPDATE SET
        invocations = invocations + 1,
        errors = errors + excluded.errors,
        total_tokens = total_tokens + excluded.total_tokens,
        cost_usd = cost_usd + excluded.cost_usd;
END;
