-- PostgreSQL 2.4.0: a statement that changes no row costs no rollup work, a session's metered
-- rows are found without reading its calls, an index nothing reads is gone
-- (src/telemetry/postgres.rs `SCHEMA_2_4_0`; `raw_sql`, in the migration's transaction).
--
-- Statement triggers fire for a statement that touched no row too: each batch's removal of its
-- sessions' metered rows (almost always none) ran the delete trigger, whose three
-- `DELETE … WHERE invocations <= 0` read every rollup table whole; a re-sent batch inserted
-- nothing and still ran the insert trigger's three grouped upserts. Both now return at once when
-- their transition table is empty (the bodies are 2.0.0's otherwise).
--
-- That removal (`session_id = ANY($1) AND invocation_id LIKE 'metered:%'`) went through the
-- session index, reading every call of each session (thousands in a long one) to find the few
-- metered rows: a partial index of the metered rows alone answers it.
--
-- `idx_invocations_repo_at` is read by no query (a repository's figures come from the rollups'
-- `repo`), and every insert updated it.

CREATE INDEX IF NOT EXISTS idx_invocations_metered ON invocations (session_id)
    WHERE invocation_id LIKE 'metered:%';
DROP INDEX IF EXISTS idx_invocations_repo_at;

CREATE OR REPLACE FUNCTION execdash_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM new_rows) THEN
        RETURN NULL;
    END IF;
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

CREATE OR REPLACE FUNCTION execdash_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM old_rows) THEN
        RETURN NULL;
    END IF;
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
