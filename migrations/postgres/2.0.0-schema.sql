-- PostgreSQL 2.0.0: the whole schema, as of the SQLite file's 1.2.0 plus `at` and `repo`
-- (src/telemetry/postgres.rs `SCHEMA_2_0_0`; `raw_sql`, in the migration's transaction).

CREATE TABLE invocations (
    id BIGSERIAL PRIMARY KEY,
    invocation_id TEXT UNIQUE NOT NULL,
    timestamp TEXT,
    at TIMESTAMPTZ,
    agent_name TEXT,
    tool_name TEXT NOT NULL,
    model_name TEXT NOT NULL,
    prompt_tokens BIGINT DEFAULT 0,
    completion_tokens BIGINT DEFAULT 0,
    total_tokens BIGINT DEFAULT 0,
    cost_usd DOUBLE PRECISION DEFAULT 0.0,
    latency_ms BIGINT DEFAULT 0,
    status TEXT NOT NULL,
    error_message TEXT,
    privacy_level TEXT DEFAULT 'metadata',
    task_id TEXT,
    repo TEXT
);
CREATE INDEX idx_invocations_at ON invocations (at);
CREATE INDEX idx_invocations_model_at ON invocations (model_name, at);
-- Each agent's latest call: one backward index step per agent.
CREATE INDEX idx_invocations_agent_at ON invocations (agent_name, at);
CREATE INDEX idx_invocations_task_id ON invocations (task_id);
CREATE INDEX idx_invocations_repo_at ON invocations (repo, at);

CREATE TABLE cost_rollup (
    day TEXT NOT NULL,
    model_name TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    tool_name TEXT NOT NULL,
    repo TEXT NOT NULL,
    invocations BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    total_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    PRIMARY KEY (day, model_name, agent_name, tool_name, repo)
);
-- Per UTC hour (a `timestamp` holding UTC): the rolling 24 h reads 23 hours from here and the
-- two partial hours at its edges from `invocations`.
CREATE TABLE cost_rollup_hourly (
    hour TIMESTAMP NOT NULL,
    model_name TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    tool_name TEXT NOT NULL,
    repo TEXT NOT NULL,
    invocations BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    total_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    PRIMARY KEY (hour, model_name, agent_name, tool_name, repo)
);
CREATE TABLE task_costs (
    task_id TEXT PRIMARY KEY,
    invocations BIGINT NOT NULL DEFAULT 0,
    total_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0.0
);

-- A row's rollup key: its UTC day ('' when the time is unknown), model, agent ('' for none),
-- tool and repository ('' for none), as the SQLite file's triggers compute it.
CREATE FUNCTION execdash_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cost_rollup AS r
        (day, model_name, agent_name, tool_name, repo, invocations, errors, total_tokens, cost_usd)
    SELECT COALESCE(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), ''), model_name,
           COALESCE(agent_name, ''), tool_name, COALESCE(repo, ''), count(*),
           count(*) FILTER (WHERE status IS DISTINCT FROM 'success'),
           sum(COALESCE(total_tokens, 0)), sum(COALESCE(cost_usd, 0.0))
    FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, model_name, agent_name, tool_name, repo) DO UPDATE SET
        invocations = r.invocations + excluded.invocations,
        errors = r.errors + excluded.errors,
        total_tokens = r.total_tokens + excluded.total_tokens,
        cost_usd = r.cost_usd + excluded.cost_usd;
    INSERT INTO cost_rollup_hourly AS r
        (hour, model_name, agent_name, tool_name, repo, invocations, errors, total_tokens, cost_usd)
    SELECT date_trunc('hour', at AT TIME ZONE 'UTC'), model_name, COALESCE(agent_name, ''),
           tool_name, COALESCE(repo, ''), count(*),
           count(*) FILTER (WHERE status IS DISTINCT FROM 'success'),
           sum(COALESCE(total_tokens, 0)), sum(COALESCE(cost_usd, 0.0))
    FROM new_rows WHERE at IS NOT NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (hour, model_name, agent_name, tool_name, repo) DO UPDATE SET
        invocations = r.invocations + excluded.invocations,
        errors = r.errors + excluded.errors,
        total_tokens = r.total_tokens + excluded.total_tokens,
        cost_usd = r.cost_usd + excluded.cost_usd;
    INSERT INTO task_costs AS t (task_id, invocations, total_tokens, cost_usd)
    SELECT task_id, count(*), sum(COALESCE(total_tokens, 0)), sum(COALESCE(cost_usd, 0.0))
    FROM new_rows WHERE task_id IS NOT NULL GROUP BY 1 ORDER BY 1
    ON CONFLICT (task_id) DO UPDATE SET
        invocations = t.invocations + excluded.invocations,
        total_tokens = t.total_tokens + excluded.total_tokens,
        cost_usd = t.cost_usd + excluded.cost_usd;
    RETURN NULL;
END $$;

CREATE FUNCTION execdash_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cost_rollup AS r SET
        invocations = r.invocations - d.invocations,
        errors = r.errors - d.errors,
        total_tokens = r.total_tokens - d.total_tokens,
        cost_usd = r.cost_usd - d.cost_usd
    FROM (SELECT COALESCE(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '') AS day, model_name,
                 COALESCE(agent_name, '') AS agent_name, tool_name, COALESCE(repo, '') AS repo,
                 count(*) AS invocations,
                 count(*) FILTER (WHERE status IS DISTINCT FROM 'success') AS errors,
                 sum(COALESCE(total_tokens, 0)) AS total_tokens,
                 sum(COALESCE(cost_usd, 0.0)) AS cost_usd
          FROM old_rows GROUP BY 1, 2, 3, 4, 5) AS d
    WHERE (r.day, r.model_name, r.agent_name, r.tool_name, r.repo)
        = (d.day, d.model_name, d.agent_name, d.tool_name, d.repo);
    DELETE FROM cost_rollup WHERE invocations <= 0;
    UPDATE cost_rollup_hourly AS r SET
        invocations = r.invocations - d.invocations,
        errors = r.errors - d.errors,
        total_tokens = r.total_tokens - d.total_tokens,
        cost_usd = r.cost_usd - d.cost_usd
    FROM (SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AS hour, model_name,
                 COALESCE(agent_name, '') AS agent_name, tool_name, COALESCE(repo, '') AS repo,
                 count(*) AS invocations,
                 count(*) FILTER (WHERE status IS DISTINCT FROM 'success') AS errors,
                 sum(COALESCE(total_tokens, 0)) AS total_tokens,
                 sum(COALESCE(cost_usd, 0.0)) AS cost_usd
          FROM old_rows WHERE at IS NOT NULL GROUP BY 1, 2, 3, 4, 5) AS d
    WHERE (r.hour, r.model_name, r.agent_name, r.tool_name, r.repo)
        = (d.hour, d.model_name, d.agent_name, d.tool_name, d.repo);
    DELETE FROM cost_rollup_hourly WHERE invocations <= 0;
    UPDATE task_costs AS t SET
        invocations = t.invocations - d.invocations,
        total_tokens = t.total_tokens - d.total_tokens,
        cost_usd = t.cost_usd - d.cost_usd
    FROM (SELECT task_id, count(*) AS invocations, sum(COALESCE(total_tokens, 0)) AS total_tokens,
                 sum(COALESCE(cost_usd, 0.0)) AS cost_usd
          FROM old_rows WHERE task_id IS NOT NULL GROUP BY 1) AS d
    WHERE t.task_id = d.task_id;
    DELETE FROM task_costs WHERE invocations <= 0;
    RETURN NULL;
END $$;

-- Every node LISTENs: a commit that changed invocations wakes them all (the payload is empty:
-- what changed is read from the tables).
CREATE FUNCTION execdash_notify_telemetry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('execdash_telemetry', '');
    RETURN NULL;
END $$;
CREATE TRIGGER trg_invocations_notify AFTER INSERT OR UPDATE OR DELETE ON invocations
    FOR EACH STATEMENT EXECUTE FUNCTION execdash_notify_telemetry();

CREATE TRIGGER trg_invocations_rollup_insert AFTER INSERT ON invocations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION execdash_rollup_insert();
CREATE TRIGGER trg_invocations_rollup_delete AFTER DELETE ON invocations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION execdash_rollup_delete();
-- An update is its old rows taken out and its new rows put in.
CREATE TRIGGER trg_invocations_rollup_update_old AFTER UPDATE ON invocations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION execdash_rollup_delete();
CREATE TRIGGER trg_invocations_rollup_update_new AFTER UPDATE ON invocations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION execdash_rollup_insert();

-- `execdash migrate`: how far the copy of each SQLite file got, and what it found.
CREATE TABLE migration_progress (
    source TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL DEFAULT 0,
    copied BIGINT NOT NULL DEFAULT 0,
    duplicates BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE migration_conflicts (
    source TEXT NOT NULL,
    invocation_id TEXT NOT NULL,
    PRIMARY KEY (source, invocation_id)
);
