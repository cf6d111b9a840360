// Editing a task's priority from the page (server started with --allow-writes): the change shows
// at once, only that line of the file changes, other clients see it live; a refused edit is undone
// with a toast; locked tasks and a read-only server offer no working menu.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
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
  // And again at once: the second edit is sent with the version the first one's answer gave, and
  // is not refused as made against an older file.
  await detailMenu.selectOption("medium");
  await expect(other.locator('.card[data-id="editable"] select.priority-menu')).toHaveValue("medium");
  expect(readFileSync(server.collab("inbox/editable.yaml"), "utf8")).toContain('priority: "MEDIUM"   # agreed');
  await expect(page.locator(".toast")).toHaveCount(0);
});

test("two files with one id: the card's menu edits its own file, never the other", async ({ page }) => {
  server = await DashboardServer.start({ args: ["--allow-writes"] });
  const named = "id: named\ntitle: The real one\nstatus: new\npriority: HIGH\n";
  const shadow = "id: named\ntitle: A copy under another name\nstatus: new\npriority: HIGH\n";
  writeFileSync(server.collab("inbox/named.yaml"), named);
  writeFileSync(server.collab("inbox/named-shadow.yaml"), shadow);
  await server.restart();
  await openLive(page);

  const menu = (file: string) => page.locator(`.card[data-path="inbox/${file}"] select.priority-menu`);
  await menu("named-shadow.yaml").selectOption("low");
  await expect
    .poll(() => readFileSync(server.collab("inbox/named-shadow.yaml"), "utf8"))
    .toBe(shadow.replace("HIGH", "LOW"));
  await menu("named.yaml").selectOption("critical");
  await expect
    .poll(() => readFileSync(server.collab("inbox/named.yaml"), "utf8"))
    .toBe(named.replace("HIGH", "CRITICAL"));
  expect(readFileSync(server.collab("inbox/named-shadow.yaml"), "utf8")).toBe(shadow.replace("HIGH", "LOW"));
  await expect(menu("named-shadow.yaml")).toHaveValue("low");
  await expect(menu("named.yaml")).toHaveValue("critical");
  await expect(page.locator(".toast")).toHaveCount(0);
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
  await page.locator('.card[data-id="editable"] .card-title').click();
  await expect(page.locator(".detail h2")).toHaveText("Editable task");
  await expect(page.locator(".link-specification")).toHaveCount(0);
  const refused = await request.patch(`${server.url}/api/tasks/editable/priority`, {
    data: { priority: "LOW" },
  });
  expect(refused.status()).toBe(403);
  expect(readFileSync(server.collab("inbox/editable.yaml"), "utf8")).toBe(editable);
});

function writeSpecification(relative: string, text: string) {
  const path = join(server.root, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

test("an orphan task is linked to a specification and a feature from its detail", async ({ page, browser }) => {
  server = await DashboardServer.start({ args: ["--allow-writes"] });
  writeSpecification(
    "specifications/initiatives/dash/orphan-task-assignment.md",
    "---\nid: SPEC-DASH-008\ntitle: Orphan Task Assignment\nstatus: in_progress\n" +
      "initiative: Dashboard Enhancements\nfeatures:\n  - id: F1\n    title: Assignment modal\n" +
      "  - id: F2\n    title: Conflict handling\n---\n# Orphan Task Assignment\n\n" +
      "Orphans are **linked** from the dashboard.\n\n<script>window.specScript = 1</script>\n" +
      "<img src=x onerror=\"window.specImage = 1\">\n[click](javascript:window.specLink=1)\n",
  );
  writeSpecification(
    "specifications/initiatives/dist/multi-tool.md",
    "---\nid: SPEC-DIST-001\ntitle: Multi-Tool Distribution\nstatus: planned\ninitiative: Framework Distribution\n---\n",
  );
  const orphan = "# Filed by the curator.\nid: orphan\ntitle: Orphan task\nstatus: new\npriority: MEDIUM\n";
  writeFileSync(server.collab("inbox/orphan.yaml"), orphan);
  writeFileSync(server.collab("inbox/busy.yaml"), "id: busy\ntitle: Busy task\nstatus: in_progress\n");
  await server.restart();
  const other = await (await browser.newContext()).newPage();
  await openLive(other, "/tasks/orphan");
  // The picker's and the reader's code are modules of their own, fetched on first use.
  const modules: string[] = [];
  let documentReads = 0;
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    const name = path.split("/").pop() ?? "";
    if (name.startsWith("split_")) modules.push(name);
    if (path.endsWith("/api/specifications/document")) documentReads += 1;
  });
  const picker = () => modules.filter((name) => name.startsWith("split_picker_panel_"));
  const reader = () => modules.filter((name) => name.startsWith("split_specification_document_"));
  await openLive(page, "/tasks/orphan");
  expect([picker(), reader()]).toEqual([[], []]);

  await page.locator(".link-specification").click();
  const choices = page.locator(".specification-choice");
  await expect(choices).toHaveCount(2);
  await expect(choices.first()).toContainText("Dashboard Enhancements");
  // The search covers feature titles.
  await page.locator(".specification-search").fill("conflict");
  await expect(choices).toHaveCount(1);
  await choices.first().click();
  await expect(choices.first()).toHaveAttribute("aria-pressed", "true");
  await page.locator(".feature-choice select").selectOption("Conflict handling");
  await page.locator(".specification-picker button.link").click();

  await expect(page.locator(".toast")).toContainText("orphan is linked to Orphan Task Assignment");
  await expect
    .poll(() => readFileSync(server.collab("inbox/orphan.yaml"), "utf8"))
    .toContain("specification: specifications/initiatives/dash/orphan-task-assignment.md");
  const written = readFileSync(server.collab("inbox/orphan.yaml"), "utf8");
  expect(written.startsWith(orphan)).toBe(true);
  expect(written).toContain('feature: "Conflict handling"');
  const shown = "specifications/initiatives/dash/orphan-task-assignment.md · Conflict handling";
  await expect(page.locator(".detail .specification")).toHaveText(shown);
  // Another client's open detail follows.
  await expect(other.locator(".detail .specification")).toHaveText(shown);
  await expect(page.locator(".link-specification")).toHaveText("Change the specification…");

  // The specification reads in place, rendered and sanitized on the server.
  expect([picker().length, reader()]).toEqual([1, []]);
  await page.locator(".read-specification").click();
  const document = page.locator(".specification-document");
  await expect(document.locator("h1")).toHaveText("Orphan Task Assignment");
  await expect(document.locator("strong")).toHaveText("linked");
  await expect(document.locator("script, img, [onerror]")).toHaveCount(0);
  await expect(document.locator('a[href^="javascript"]')).toHaveCount(0);
  // Hidden and shown again: the document read once, its module fetched once.
  await page.locator(".read-specification").click();
  await expect(document).toHaveCount(0);
  await page.locator(".read-specification").click();
  await expect(document.locator("h1")).toHaveText("Orphan Task Assignment");
  expect([picker().length, reader().length, documentReads]).toEqual([1, 1, 1]);
  const planted = await page.evaluate(() => {
    const globals = window as unknown as Record<string, unknown>;
    return [globals.specScript, globals.specImage];
  });
  expect(planted).toEqual([undefined, undefined]);

  // A task in progress cannot be linked.
  await openLive(page, "/tasks/busy");
  await expect(page.locator(".detail h2")).toHaveText("Busy task");
  await expect(page.locator(".link-specification")).toHaveCount(0);
});
