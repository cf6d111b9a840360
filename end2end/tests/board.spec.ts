// The live board: files created, moved, deleted and broken on disk show up without a reload, and a
// restarted server is followed.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.beforeEach(async () => {
  server = await DashboardServer.start();
});
test.afterEach(async () => {
  await server?.dispose();
});

const task = (id: string, title: string, status = "new") =>
  `id: ${id}\ntitle: "${title}"\nagent: python-pedro\nstatus: ${status}\npriority: HIGH\n`;

async function openLive(page: Page) {
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
}

function card(page: Page, column: string, title: string) {
  return page.locator(`[data-column="${column}"] .card`, { hasText: title });
}

test("a card follows its file from inbox to assigned to done, then leaves", async ({ page }) => {
  await openLive(page);
  // Marks the document: a reload would lose it.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  writeFileSync(server.collab("inbox/t1.yaml"), task("t1", "Wire the socket"));
  await expect(card(page, "inbox", "Wire the socket")).toBeVisible();
  // A card that changed live is highlighted for a moment.
  await expect(card(page, "inbox", "Wire the socket")).toHaveClass(/fresh/);
  await expect(card(page, "inbox", "Wire the socket").locator(".priority")).toHaveText("high");
  await expect(page.locator('[data-column="inbox"] .count')).toHaveText("1");

  mkdirSync(server.collab("assigned/python-pedro"), { recursive: true });
  renameSync(server.collab("inbox/t1.yaml"), server.collab("assigned/python-pedro/t1.yaml"));
  await expect(card(page, "assigned", "Wire the socket")).toBeVisible();
  await expect(card(page, "inbox", "Wire the socket")).toHaveCount(0);
  await expect(page.locator('[data-column="assigned"] .lane[data-lane="python-pedro"]')).toBeVisible();

  mkdirSync(server.collab("done/python-pedro"), { recursive: true });
  renameSync(server.collab("assigned/python-pedro/t1.yaml"), server.collab("done/python-pedro/t1.yaml"));
  await expect(card(page, "done", "Wire the socket")).toBeVisible();
  await expect(card(page, "assigned", "Wire the socket")).toHaveCount(0);

  rmSync(server.collab("done/python-pedro/t1.yaml"));
  await expect(page.locator(".card", { hasText: "Wire the socket" })).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
});

test("an edit updates the card and invalid YAML shows in Problems", async ({ page }) => {
  writeFileSync(server.collab("inbox/t2.yaml"), task("t2", "First title"));
  await openLive(page);
  await expect(card(page, "inbox", "First title")).toBeVisible();

  writeFileSync(server.collab("inbox/t2.yaml"), task("t2", "Second title", "blocked"));
  await expect(card(page, "inbox", "Second title")).toBeVisible();
  await expect(card(page, "inbox", "Second title").locator(".status")).toHaveText("blocked");

  writeFileSync(server.collab("inbox/broken.yaml"), "id: broken\nnotes:\n* Phase 1\n");
  const problem = page.locator('.problem[data-path="inbox/broken.yaml"]');
  await expect(problem).toBeVisible();
  await expect(problem.locator(".where")).toContainText("line 3");
  await expect(page.locator(".problems .count")).toHaveText("1");
  // The other task is still there.
  await expect(card(page, "inbox", "Second title")).toBeVisible();

  writeFileSync(server.collab("inbox/broken.yaml"), task("broken", "Fixed now"));
  await expect(card(page, "inbox", "Fixed now")).toBeVisible();
  await expect(problem).toHaveCount(0);
});

test("after a server restart the page reconnects and shows the disk as it is", async ({ page }) => {
  writeFileSync(server.collab("inbox/before.yaml"), task("before", "Before restart"));
  await openLive(page);
  await expect(card(page, "inbox", "Before restart")).toBeVisible();

  await server.stop();
  await expect(page.locator("#connection")).toHaveText(/Reconnecting|Offline/);
  // Changed while the server was down.
  rmSync(server.collab("inbox/before.yaml"));
  writeFileSync(server.collab("inbox/after.yaml"), task("after", "Written while down"));
  await server.launch();

  await expect(page.locator("#connection")).toHaveText("Live", { timeout: 15_000 });
  await expect(card(page, "inbox", "Written while down")).toBeVisible();
  await expect(page.locator(".card", { hasText: "Before restart" })).toHaveCount(0);
});
