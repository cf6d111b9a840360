-- SQLite 1.0.0: the original `schema.sql`, used only when the file has no `invocations` table
-- (src/telemetry/db.rs `ORIGINAL_SCHEMA`; one `BEGIN IMMEDIATE` transaction, `raw_sql`).

CREATE TABLE IF NOT EXISTS invocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invocation_id TEXT UNIQUE NOT NULL,
    timestamp DATETIME DEFAULT CURRENT_TIMESTAMP,
    agent_name TEXT,
    tool_name TEXT NOT NULL,
    model_name TEXT NOT NULL,
    prompt_tokens INTEGER DEFAULT 0,
    completion_tokens INTEGER DEFAULT 0,
    total_tokens INTEGER DEFAULT 0,
    cost_usd REAL DEFAULT 0.0,
    latency_ms INTEGER DEFAULT 0,
    status TEXT NOT NULL,
    error_message TEXT,
    privacy_level TEXT DEFAULT 'metadata'
);
CREATE TABLE IF NOT EXISTS daily_costs (
    date DATE NOT NULL,
    agent_name TEXT,
    tool_name TEXT NOT NULL,
    model_name TEXT NOT NULL,
    invocations INTEGER DEFAULT 0,
    total_tokens INTEGER DEFAULT 0,
    total_cost_usd REAL DEFAULT 0.0,
    PRIMARY KEY (date, agent_name, tool_name, model_name)
);
CREATE INDEX IF NOT EXISTS idx_invocations_timestamp ON invocations(timestamp);
CREATE INDEX IF NOT EXISTS idx_invocations_agent ON invocations(agent_name);
CREATE INDEX IF NOT EXISTS idx_invocations_tool ON invocations(tool_name);
CREATE INDEX IF NOT EXISTS idx_invocations_model ON invocations(model_name);
CREATE INDEX IF NOT EXISTS idx_invocations_status ON invocations(status);
CREATE INDEX IF NOT EXISTS idx_daily_costs_date ON daily_costs(date);
CREATE TABLE IF NOT EXISTS schema_version (
    version TEXT PRIMARY KEY,
    applied_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    description TEXT
);
INSERT OR IGNORE INTO schema_version (version, description)
VALUES ('1.0.0', 'Initial telemetry schema with invocations and daily_costs tables');
