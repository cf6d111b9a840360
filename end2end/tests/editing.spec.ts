// Editing a task's priority from the page (server started with --allow-writes): the change shows
// at once, only that line of the file changes, other clients see it live; a refused edit is undone
// with a toast; locked tasks and a read-only server offer no working menu.
import { expect, test, type Page } from "@playwright/test";
import { readFileSync, writeFileSync } from "node:fs";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.afterEach(async () => {
  await server?.dispose();
});

const editable = `# Owned by planning: keep this comment.
id: editable
title: "Editable task"
status: new
priority: "HIGH"   # agreed on Monday
`;

async function openLive(page: Page, path = "/") {
  await page.goto(server.url + path);
  await expect(page.locator("#connection")).toHaveText("Live");
}

test("a priority chosen on a card is written to its line and every client sees it", async ({ page, browser }) => {
  server = await DashboardServer.start({ args: ["--allow-writes"] });
  writeFileSync(server.collab("inbox/editable.yaml"), editable);
  await server.restart();
  const other = await (await browser.newContext()).newPage();
  await openLive(other);
  await openLive(page);

  const menu = page.locator('.card[data-id="editable"] select.priority-menu');
  await expect(menu).toHaveValue("high");
  await menu.selectOption("low");
  // Choosing does not open the detail.
  await expect(page.locator(".detail")).toHaveCount(0);
  await expect
    .poll(() => readFileSync(server.collab("inbox/editable.yaml"), "utf8"))
    .toBe(editable.replace('priority: "HIGH"   # agreed', 'priority: "LOW"   # agreed'));
  await expect(other.locator('.card[data-id="editable"] select.priority-menu')).toHaveValue("low");
  await expect(menu).toHaveValue("low");

  // In the detail too, with the version it read.
  await page.locator('.card[data-id="editable"] .card-title').click();
  const detailMenu = page.locator(".detail select.priority-menu");
  await expect(detailMenu).toHaveValue("low");
  await detailMenu.selectOption("critical");
  await expect(other.locator('.card[data-id="editable"] select.priority-menu')).toHaveValue("critical");
  expect(readFileSync(server.collab("inbox/editable.yaml"), "utf8")).toContain('priority: "CRITICAL"   # agreed');
});

test("a refused edit is undone with a toast, and locked tasks offer a disabled menu", async ({ page }) => {
  server = await DashboardServer.start({ args: ["--allow-writes"] });
  // A priority written as a block cannot be changed on its line: the server refuses (422).
  writeFileSync(server.collab("inbox/block.yaml"), "id: block\ntitle: Block task\npriority: >-\n  high\n");
  writeFileSync(server.collab("inbox/busy.yaml"), "id: busy\ntitle: Busy task\nstatus: in_progress\npriority: LOW\n");
  await server.restart();
  await openLive(page);

  const menu = page.locator('.card[data-id="block"] select.priority-menu');
  await expect(menu).toHaveValue("high");
  await menu.selectOption("low");
  await expect(page.locator(".toast")).toContainText("The priority of block was not changed");
  await expect(page.locator(".toast")).toContainText("edit the file by hand");
  await expect(menu).toHaveValue("high");
  expect(readFileSync(server.collab("inbox/block.yaml"), "utf8")).toBe("id: block\ntitle: Block task\npriority: >-\n  high\n");
  await page.locator(".toast .toast-close").click();
  await expect(page.locator(".toast")).toHaveCount(0);

  const busy = page.locator('.card[data-id="busy"] select.priority-menu');
  await expect(busy).toBeDisabled();
  await expect(busy).toHaveAttribute("title", /in progress, done or failed/);
});

test("a read-only dashboard shows priorities without a menu and refuses edits", async ({ page, request }) => {
  server = await DashboardServer.start();
  writeFileSync(server.collab("inbox/editable.yaml"), editable);
  await server.restart();
  await openLive(page);
  await expect(page.locator('.card[data-id="editable"] .badge.priority')).toHaveText("high");
  await expect(page.locator("select.priority-menu")).toHaveCount(0);
  const refused = await request.patch(`${server.url}/api/tasks/editable/priority`, {
    data: { priority: "LOW" },
  });
  expect(refused.status()).toBe(403);
  expect(readFileSync(server.collab("inbox/editable.yaml"), "utf8")).toBe(editable);
});
