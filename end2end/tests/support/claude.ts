// The environment of a real Claude Code run against the loopback model stand-in: a fresh home,
// no auto-update or other traffic, telemetry exported as OTLP to the dashboard with the task and
// agent as resource attributes.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function claudeEnv(standinPort: number, dashboardUrl: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: mkdtempSync(join(tmpdir(), "claude-home-")),
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${standinPort}`,
    ANTHROPIC_API_KEY: "sk-ant-standin",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_ENABLE_TELEMETRY: "1",
    OTEL_LOGS_EXPORTER: "otlp",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    OTEL_EXPORTER_OTLP_ENDPOINT: dashboardUrl,
    OTEL_RESOURCE_ATTRIBUTES: "task.id=T-42,agent=backend-dev",
  };
}
