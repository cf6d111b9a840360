// The agents pages: one card per agent with its tasks and spending, server-rendered, live, and a
// page per agent with its cost chart and its tasks; reached from the header without a reload.
import { expect, test } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.beforeAll(async () => {
  server = await DashboardServer.start({ demo: true });
});
test.afterAll(async () => {
  await server?.dispose();
});

test("agents: cards from the board and the calls, a page per agent, live", async ({ page, browser, request }) => {
  // Without JavaScript: the server renders both pages.
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const still = await noScript.newPage();
  await still.goto(`${server.url}/agents`);
  await expect(still.locator('.agent-card[data-agent="python-pedro"] h3')).toHaveText("python-pedro");
  await still.goto(`${server.url}/agents/python-pedro`);
  await expect(still.locator("#page-title")).toHaveText("python-pedro");
  await expect(still.locator('[data-chart="agent-daily"] svg')).toBeVisible();
  await noScript.close();

  const sockets: string[] = [];
  page.on("websocket", (socket) => sockets.push(socket.url()));
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  await page.locator(".pages a", { hasText: "Agents" }).click();
  await expect(page).toHaveURL(`${server.url}/agents`);
  const pedro = page.locator('.agent-card[data-agent="python-pedro"]');
  const assigned = Number(await pedro.locator('[data-count="assigned"]').textContent());
  expect(assigned).toBeGreaterThan(0);
  const api = await (await request.get(`${server.url}/api/agents`)).json();
  const fromApi = api.agents.find((a: { name: string }) => a.name === "python-pedro");
  expect(fromApi.assigned).toBe(assigned);
  expect(fromApi.cost_total).toBeGreaterThan(0);

  // Live: a new task in its folder, and a call it makes.
  writeFileSync(
    server.collab("assigned/python-pedro/new-work.yaml"),
    "id: new-work\ntitle: Fresh work for Pedro\nstatus: in_progress\n",
  );
  await expect(pedro.locator('[data-count="assigned"]')).toHaveText(String(assigned + 1));
  const before = await pedro.locator('[data-cost="calls"]').textContent();
  const posted = await request.post(`${server.url}/api/invocations`, {
    data: {
      invocation_id: "agents-live-1",
      tool_name: "claude-code",
      model_name: "claude-sonnet-4",
      agent_name: "python-pedro",
      total_tokens: 1000,
      cost_usd: 0.5,
      status: "success",
    },
  });
  expect(posted.status()).toBe(200);
  await expect(pedro.locator('[data-cost="calls"]')).toHaveText(String(Number(before) + 1));
  // A caller without tasks: its card comes with its call, last active when it called (not at
  // the start of its day).
  const rita = await request.post(`${server.url}/api/invocations`, {
    data: {
      invocation_id: "agents-live-2",
      tool_name: "claude-code",
      model_name: "gpt-5",
      agent_name: "reviewer-rita",
      total_tokens: 500,
      cost_usd: 0.25,
      status: "success",
    },
  });
  expect(rita.status()).toBe(200);
  await expect(page.locator('.agent-card[data-agent="reviewer-rita"] .last-activity')).toHaveText(
    "Last active just now",
  );

  // The agent's page: its chart and its tasks; a task opens over it.
  await pedro.locator("h3 a").click();
  await expect(page).toHaveURL(`${server.url}/agents/python-pedro`);
  await expect(page.locator("#page-title")).toHaveText("python-pedro");
  await expect(page.locator('[data-chart="agent-daily"] svg')).toBeVisible();
  await page.locator('.agent-tasks .portfolio-task[data-id="new-work"] a').click();
  await expect(page.locator(".detail h2")).toHaveText("Fresh work for Pedro");
  await page.keyboard.press("Escape");
  await expect(page).toHaveURL(`${server.url}/agents/python-pedro`);
  await page.goBack();
  await expect(page).toHaveURL(`${server.url}/agents`);
  await expect(page.locator('.pages a[aria-current="page"]')).toHaveText("Agents");
  expect(sockets).toHaveLength(1);

  // An unknown agent is a 404.
  expect((await request.get(`${server.url}/agents/nobody-at-all`)).status()).toBe(404);
});
