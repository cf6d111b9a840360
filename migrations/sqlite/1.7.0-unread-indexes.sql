-- SQLite 1.7.0: the original schema's indexes that nothing reads, dropped
-- (src/telemetry/db.rs `UNREAD_INDEXES`; one `BEGIN IMMEDIATE` transaction, `raw_sql`).
--
-- Every row inserted updates every index of `invocations`: with the original's five, execdash's
-- seven and the table itself, thirteen B-trees a row, most of a telemetry writer's time. These
-- four are read by no query of execdash (which reads by `julianday(timestamp)`, model and day,
-- task, source, session: `src/telemetry/queries.rs`) nor of the original dashboard (its model
-- usage reads the whole table; its other queries are by `timestamp`, whose index stays). They
-- hold nothing that is not in the rows. The original logger creates them again if it runs its
-- `schema.sql` (`IF NOT EXISTS`): nothing breaks then, writes are only slower.

DROP INDEX IF EXISTS idx_invocations_agent;
DROP INDEX IF EXISTS idx_invocations_tool;
DROP INDEX IF EXISTS idx_invocations_model;
DROP INDEX IF EXISTS idx_invocations_status;
