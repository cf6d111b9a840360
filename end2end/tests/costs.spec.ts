// Costs, live: invocations posted to the API or written into telemetry.db by another process show
// up in the board's totals and cards and on the costs page (charts, cost by initiative) without a
// reload.
import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.afterEach(async () => {
  await server?.dispose();
});

async function openLive(page: Page) {
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
}

function invocation(id: string, cost: number, extra: Record<string, unknown> = {}) {
  return {
    invocation_id: id,
    tool_name: "claude-code",
    model_name: "claude-sonnet-4",
    agent_name: "python-pedro",
    prompt_tokens: 1000,
    completion_tokens: 500,
    total_tokens: 1500,
    cost_usd: cost,
    latency_ms: 1200,
    status: "success",
    ...extra,
  };
}

test("posted invocations update totals, charts and the card's cost without a reload", async ({ page, request }) => {
  server = await DashboardServer.start();
  mkdirSync(server.collab("assigned/python-pedro"), { recursive: true });
  mkdirSync(join(server.root, "specifications/billing"), { recursive: true });
  writeFileSync(
    join(server.root, "specifications/billing/invoices.md"),
    "---\nid: SPEC-BILL-1\ntitle: Invoices\nstatus: in_progress\ninitiative: Billing\n---\n",
  );
  writeFileSync(
    server.collab("assigned/python-pedro/t1.yaml"),
    'id: t1\ntitle: "Costly task"\nagent: python-pedro\nstatus: in_progress\n' +
      "specification: specifications/billing/invoices.md\n",
  );
  await openLive(page);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
  await expect(page.locator("#cost-today")).toHaveText("$0.00");

  const posted = await request.post(`${server.url}/api/invocations`, {
    data: [invocation("i1", 1.25, { task_id: "t1" }), invocation("i2", 0.5, { model_name: "gpt-5" })],
  });
  expect(posted.status()).toBe(200);
  expect(await posted.json()).toEqual({ inserted: 2, duplicates: 0, conflicts: [] });

  await expect(page.locator("#cost-today")).toHaveText("$1.75");
  await expect(page.locator("#cost-total")).toHaveText("$1.75");
  const card = page.locator(".card", { hasText: "Costly task" });
  await expect(card.locator(".card-cost")).toHaveText("$1.25");
  await expect(page.locator('.lane[data-lane="python-pedro"] .lane-cost')).toHaveText("$1.75");

  // The costs page, reached without a reload: charts, and the task's cost under its initiative.
  await page.locator(".pages a", { hasText: "Costs" }).click();
  await expect(page).toHaveURL(`${server.url}/costs`);
  await expect(page.locator('[data-chart="daily"] svg')).toBeVisible();
  await expect(page.locator('[data-chart="by-model"] svg')).toContainText("claude-sonnet-4");
  await expect(page.locator('[data-chart="by-agent"] svg')).toContainText("python-pedro");
  await expect(page.locator('[data-chart="daily"] .legend li')).toHaveCount(2);
  await expect(page.locator('.initiative-row[data-initiative="billing"] td').first()).toHaveText("$1.25");
  await expect(page.locator('.spec-row[data-spec="specifications/billing/invoices.md"] td').nth(1)).toHaveText(
    "$1.25",
  );
  await expect(page.locator(".unlinked-row td").first()).toHaveText("$0.00");
  // A second task's call: the page follows live.
  await request.post(`${server.url}/api/invocations`, { data: [invocation("i4", 2, { task_id: "t1" })] });
  await expect(page.locator('.initiative-row[data-initiative="billing"] td').first()).toHaveText("$3.25");
  await expect(page.locator("#cost-total")).toHaveText("$3.75");

  // Posting the same batch again changes nothing.
  const again = await request.post(`${server.url}/api/invocations`, { data: [invocation("i1", 1.25, { task_id: "t1" })] });
  expect(await again.json()).toEqual({ inserted: 0, duplicates: 1, conflicts: [] });
  // A bad payload is refused with the field named, and nothing is written.
  const bad = await request.post(`${server.url}/api/invocations`, { data: invocation("i3", -1) });
  expect(bad.status()).toBe(400);
  expect((await bad.json()).field).toBe("cost_usd");
  await expect(page.locator("#cost-total")).toHaveText("$3.75");

  // The range selector fetches the other ranges.
  await page.locator('.range[data-range="30d"]').click();
  await expect(page.locator('.range[data-range="30d"]')).toHaveClass(/active/);
  await expect(page.locator('[data-chart="by-model"] svg')).toContainText("gpt-5");
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(7);
});

// How fast is not this test's question (README: within a quarter of a second, a 100 ms poll and
// one summary); its generous bound only tells "never shows" from "shows" on a loaded CI machine.
test("a row written by another process shows without a reload", async ({ page }) => {
  server = await DashboardServer.start();
  await openLive(page);
  await expect(page.locator("#cost-total")).toHaveText("$0.00");
  execFileSync("sqlite3", [
    server.db,
    "INSERT INTO invocations (invocation_id, timestamp, agent_name, tool_name, model_name, total_tokens, cost_usd, latency_ms, status) " +
      "VALUES ('external-1', strftime('%Y-%m-%d %H:%M:%S','now'), 'curator', 'python-logger', 'gpt-5', 900, 2.5, 800, 'success');",
  ]);
  await expect(page.locator("#cost-total")).toHaveText("$2.50", { timeout: 5_000 });
  await expect(page.locator("#cost-today")).toHaveText("$2.50");
});

test("budgets warn at 80 % and alert at 100 %", async ({ page, request }) => {
  server = await DashboardServer.start({ args: ["--daily-budget", "2"] });
  await openLive(page);
  await expect(page.locator(".budget-banner")).toHaveCount(0);
  await request.post(`${server.url}/api/invocations`, { data: invocation("b1", 1.7) });
  await expect(page.locator('.budget-banner.warning[data-period="daily"]')).toContainText("85 %");
  await request.post(`${server.url}/api/invocations`, { data: invocation("b2", 0.6) });
  await expect(page.locator('.budget-banner.exceeded[data-period="daily"]')).toContainText("exceeded");
});

test("writes from another origin are refused", async ({ request }) => {
  server = await DashboardServer.start();
  const response = await request.post(`${server.url}/api/invocations`, {
    data: invocation("x1", 1),
    headers: { origin: "http://evil.example" },
  });
  expect(response.status()).toBe(403);
  const stats = await (await request.get(`${server.url}/api/stats`)).json();
  expect(stats.costs.total).toBe(0);
});

test("a task with a budget of its own shows its cost against it, marked once spent", async ({ page, request }) => {
  server = await DashboardServer.start();
  mkdirSync(server.collab("assigned/python-pedro"), { recursive: true });
  writeFileSync(
    server.collab("assigned/python-pedro/t9.yaml"),
    'id: t9\ntitle: "Budgeted task"\nagent: python-pedro\nstatus: in_progress\nbudget_usd: 2.00\n',
  );
  await openLive(page);
  const cost = page.locator(".card", { hasText: "Budgeted task" }).locator(".card-cost");
  await request.post(`${server.url}/api/invocations`, { data: [invocation("b1", 1.25, { task_id: "t9" })] });
  await expect(cost).toHaveText("$1.25 / $2.00");
  await expect(cost).toHaveAttribute("title", "LLM cost of this task, of its $2.00 budget");
  await expect(cost).not.toHaveClass(/over-budget/);
  await request.post(`${server.url}/api/invocations`, { data: [invocation("b2", 1.0, { task_id: "t9" })] });
  await expect(cost).toHaveText("$2.25 / $2.00");
  await expect(cost).toHaveClass(/over-budget/);
});
