// A real Claude Code run, offline against a loopback model stand-in, exporting OTLP to the
// dashboard: the card of the task named in OTEL_RESOURCE_ATTRIBUTES shows the cost live.
import { expect, test } from "@playwright/test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { claudeEnv } from "./support/claude";
import { DashboardServer } from "./support/server";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const claude =
  process.env.EXECDASH_CLAUDE ??
  join(process.env.EXECDASH_TOOLS_DIR ?? "/opt/execdash-tools", "agents/node_modules/.bin/claude");

let server: DashboardServer;
let standin: ChildProcess | undefined;
test.afterEach(async () => {
  standin?.kill();
  await server?.dispose();
});

/** Starts tests/support/model_standin.py on a free port; resolves to that port. */
function startStandin(): Promise<number> {
  standin = spawn("python3", [join(repo, "tests/support/model_standin.py"), "0"], {
    env: { ...process.env, STANDIN_INPUT_TOKENS: "1234", STANDIN_OUTPUT_TOKENS: "56" },
    stdio: ["ignore", "pipe", "ignore"],
  });
  return new Promise((done, fail) => {
    standin!.stdout!.once("data", (chunk: Buffer) => {
      const port = /PORT (\d+)/.exec(chunk.toString())?.[1];
      port ? done(Number(port)) : fail(new Error(`the stand-in said ${chunk}`));
    });
  });
}

/** Runs `claude -p` against the stand-in at `port`, exporting OTLP (protobuf) to the server. */
function runClaude(port: number) {
  const run = spawnSync(claude, ["-p", "say hello", "--model", "claude-sonnet-4-5"], {
    cwd: server.root,
    encoding: "utf8",
    env: claudeEnv(port, server.url),
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toContain("Hello from the stand-in.");
}

test("a claude -p run's cost appears on its task's card live", async ({ page }) => {
  expect(existsSync(claude), `Claude Code at ${claude} (scripts/bootstrap installs it)`).toBe(true);
  server = await DashboardServer.start();
  mkdirSync(server.collab("assigned/backend-dev"), { recursive: true });
  writeFileSync(
    server.collab("assigned/backend-dev/T-42.yaml"),
    "id: T-42\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
  );
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  const card = page.locator('.card[data-id="T-42"]');
  await expect(card).toBeVisible();
  await expect(card.locator(".card-cost")).toHaveCount(0);

  runClaude(await startStandin());
  // Claude Code's own price of 1234 + 700 + 300 tokens in and 56 out: $0.005877.
  await expect(card.locator(".card-cost")).toHaveText("$0.0059");
});

test("the Connect page gives this server's lines and sees Claude Code's first call arrive", async ({ page }) => {
  server = await DashboardServer.start();
  await page.goto(`${server.url}/agents`);
  await expect(page.locator("#connection")).toHaveText("Live");
  await page.getByRole("link", { name: "Connect your agents" }).click();
  await expect(page).toHaveURL(`${server.url}/connect`);
  const claudeCode = page.locator('.connect-sender[data-source="claude-code"]');
  await expect(claudeCode.locator(".connect-lines")).toContainText(`export OTEL_EXPORTER_OTLP_ENDPOINT=${server.url}`);
  await expect(claudeCode.locator(".connect-lines")).not.toContainText("Authorization");
  await expect(claudeCode.locator(".source-status")).toHaveText("Nothing has arrived yet");
  await expect(page.locator('.connect-sender[data-source="codex"] .connect-lines')).toContainText(
    `endpoint = "${server.url}/v1/logs"`,
  );
  await expect(page.locator(".connect-prices")).toContainText("LiteLLM");

  runClaude(await startStandin());
  await expect(claudeCode.locator(".source-status")).toContainText("1 call today");
  await expect(claudeCode.locator(".source-status")).toHaveClass(/arrived/);
  // Rendered by the server too.
  await page.reload();
  await expect(page).toHaveTitle("Connect your agents · execdash");
  await expect(claudeCode.locator(".source-status")).toContainText("1 call today");
});

test("a model without a price is listed as unpriced, and a call shows which of its costs is used", async ({ page, request }) => {
  server = await DashboardServer.start();
  mkdirSync(server.collab("assigned/backend-dev"), { recursive: true });
  writeFileSync(
    server.collab("assigned/backend-dev/T-42.yaml"),
    "id: T-42\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
  );
  // The calls below name no task: they are the task in progress's only once the board holds it.
  await server.waitForTask("T-42");
  const now = `${BigInt(Date.now()) * 1_000_000n}`;
  const attribute = (key: string, value: object) => ({ key, value });
  // Claude Code reporting a cost other than the price table's for its tokens ($0.005877).
  const logs = {
    resourceLogs: [{
      resource: { attributes: [attribute("task.id", { stringValue: "T-42" })] },
      scopeLogs: [{
        logRecords: [{
          timeUnixNano: now,
          body: { stringValue: "claude_code.api_request" },
          attributes: [
            attribute("session.id", { stringValue: "s-1" }),
            attribute("request_id", { stringValue: "req_1" }),
            attribute("model", { stringValue: "claude-sonnet-4-5" }),
            attribute("input_tokens", { intValue: 1234 }),
            attribute("output_tokens", { intValue: 56 }),
            attribute("cache_read_tokens", { intValue: 700 }),
            attribute("cache_creation_tokens", { intValue: 300 }),
            attribute("cost_usd_micros", { intValue: 12000 }),
          ],
        }],
      }],
    }],
  };
  expect((await request.post(`${server.url}/v1/logs`, { data: logs })).status()).toBe(200);
  const span = (spanId: string) => ({
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId,
    name: "chat",
    startTimeUnixNano: now,
    endTimeUnixNano: now,
    attributes: [
      attribute("gen_ai.request.model", { stringValue: "in-house-llm-7b" }),
      attribute("gen_ai.usage.input_tokens", { intValue: 1000 }),
      attribute("gen_ai.usage.output_tokens", { intValue: 200 }),
    ],
  });
  const traces = { resourceSpans: [{ scopeSpans: [{ spans: [span("00f067aa0ba902b7"), span("00f067aa0ba902b8")] }] }] };
  expect((await request.post(`${server.url}/v1/traces`, { data: traces })).status()).toBe(200);

  await page.goto(`${server.url}/costs`);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator("[data-unpriced]")).toContainText("2 calls of in-house-llm-7b (2400 tokens)");
  await expect(page.locator("[data-unpriced]")).toContainText("not in the totals");

  await page.goto(`${server.url}/tasks/T-42`);
  const costs = page.locator(".detail table.invocations td.cost");
  await expect(costs.filter({ hasText: "reported" })).toHaveText(
    "$0.012 reported (used) · $0.0059 by the price table",
  );
  // The spans named no task: T-42 is the one task in progress, so they are its, marked inferred,
  // and their cost is unknown, not $0.
  await expect(costs.filter({ hasText: "unpriced" })).toHaveCount(2);
  await expect(page.locator(".detail table.invocations .badge.inferred")).toHaveCount(2);
});
