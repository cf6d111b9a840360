-- SQLite 1.0.0, for a file from before `schema_version` existed (it has `invocations` but no
-- `schema_version`): adds the table (additive) so that our migrations can be recorded
-- (src/telemetry/db.rs `SCHEMA_VERSION_TABLE`; `raw_sql`, no transaction).
-- The CREATE TABLE stays on one line: SQLite keeps a CREATE statement's text in sqlite_master.

CREATE TABLE IF NOT EXISTS schema_version (version TEXT PRIMARY KEY, applied_at DATETIME DEFAULT CURRENT_TIMESTAMP, description TEXT);
INSERT OR IGNORE INTO schema_version (version, description)
VALUES ('1.0.0', 'Initial telemetry schema with invocations and daily_costs tables');
