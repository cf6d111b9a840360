// The initiatives page: server-rendered at its own address, reached from the header without a
// reload (the socket stays open), back and forward between pages, progress per specification and
// initiative, true orphans, live as task files change, and a task's detail opened over it.
import { expect, test } from "@playwright/test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.beforeAll(async () => {
  server = await DashboardServer.start({ demo: true });
});
test.afterAll(async () => {
  await server?.dispose();
});

test("the initiatives page renders on the server, follows the board and keeps the socket", async ({ page, browser }) => {
  // Without JavaScript: the server renders it.
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const still = await noScript.newPage();
  await still.goto(`${server.url}/initiatives`);
  await expect(still.locator(".initiative h3")).toHaveText([
    "Code Quality",
    "Dashboard Enhancements",
    "Framework Distribution",
  ]);
  await expect(still).toHaveTitle("Initiatives · execdash");
  await noScript.close();

  const sockets: string[] = [];
  page.on("websocket", (socket) => sockets.push(socket.url()));
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator('.pages a[aria-current="page"]')).toHaveText("Board");

  // To the page and back without a reload: one socket all along.
  await page.locator(".pages a", { hasText: "Initiatives" }).click();
  await expect(page).toHaveURL(`${server.url}/initiatives`);
  await expect(page.locator('.pages a[aria-current="page"]')).toHaveText("Initiatives");
  await expect(page.locator("#page-title")).toHaveText("Initiatives");
  await expect(page.locator(".board")).toHaveCount(0);
  const dashboard = page.locator('.initiative[data-initiative="dashboard-enhancements"]');
  await expect(dashboard.locator(".spec")).toHaveCount(3);
  const assignment = page.locator(
    '.spec[data-spec="specifications/initiatives/dashboard-enhancements/orphan-task-assignment.md"]',
  );
  await expect(assignment.locator(".portfolio-task")).toHaveCount(1);
  await expect(assignment.locator(".progress-label")).toHaveText("1/1 done · 100%");
  const orphans = page.locator(".orphans .portfolio-task");
  const orphanCount = await orphans.count();
  expect(orphanCount).toBeGreaterThan(0);
  await expect(page.locator("#orphans-title")).toHaveText(`Orphan tasks (${orphanCount})`);

  await page.goBack();
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(page.locator(".board")).toBeVisible();
  await page.goForward();
  await expect(page.locator("#page-title")).toHaveText("Initiatives");
  await expect(page.locator("#connection")).toHaveText("Live");

  // Live: a new task linked to the specification, and one naming a missing one (an orphan).
  writeFileSync(
    server.collab("inbox/conflict-dialog.yaml"),
    "id: conflict-dialog\ntitle: Build the conflict dialog\nstatus: in_progress\n" +
      "specification: specifications/initiatives/dashboard-enhancements/orphan-task-assignment.md\n" +
      "feature: Conflict handling\n",
  );
  writeFileSync(
    server.collab("inbox/lost.yaml"),
    "id: lost\ntitle: Names a missing specification\nspecification: specifications/nowhere.md\n",
  );
  await expect(assignment.locator(".portfolio-task")).toHaveCount(2);
  await expect(assignment.locator(".progress-label")).toHaveText("1/2 done · 75%");
  await expect(assignment.locator(".feature", { hasText: "Conflict handling" }).locator(".counts")).toHaveText(
    "1 task · 50%",
  );
  await expect(orphans).toHaveCount(orphanCount + 1);
  // Screen readers hear the change (a polite live region).
  await expect(page.locator('[aria-live="polite"][data-live="initiatives"]')).toHaveText(
    `3 initiatives, ${orphanCount + 1} orphan tasks`,
  );
  await expect(page.locator('.orphans .portfolio-task[data-id="lost"] .missing-spec')).toHaveText(
    "specifications/nowhere.md",
  );

  // Live: a specification edited on disk (the watcher announces portfolio.updated).
  const spec = join(server.root, "specifications/initiatives/dashboard-enhancements/orphan-task-assignment.md");
  writeFileSync(spec, readFileSync(spec, "utf8").replace("title: Orphan Task Assignment", "title: Orphans, assigned"));
  await expect(assignment.locator(".spec-title")).toHaveText("Orphans, assigned");

  // A task opens over the page; closing it comes back to the page.
  await assignment.locator('.portfolio-task[data-id="conflict-dialog"] a').click();
  await expect(page).toHaveURL(`${server.url}/tasks/conflict-dialog`);
  await expect(page.locator(".detail h2")).toHaveText("Build the conflict dialog");
  await page.keyboard.press("Escape");
  await expect(page).toHaveURL(`${server.url}/initiatives`);
  await expect(page.locator(".detail")).toHaveCount(0);
  await expect(page.locator("#page-title")).toHaveText("Initiatives");

  // A specification whose front matter is broken: on this page, and in the board's Problems
  // with its line.
  writeFileSync(join(server.root, "specifications/broken.md"), "---\nid: B\ntitle: [unclosed\n---\n");
  await expect(page.locator(".spec-problems")).toContainText("specifications/broken.md");
  await page.locator(".pages a", { hasText: "Board" }).click();
  const problem = page.locator('.problems .problem[data-path="specifications/broken.md"]');
  await expect(problem.locator(".where")).toContainText("line 4");
  await expect(problem.locator(".reason")).toContainText("front matter is not valid YAML");

  expect(sockets).toHaveLength(1);
});

test("every page fits a 375 px screen", async ({ browser }, testInfo) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  for (const [path, name] of [
    ["/", "board"],
    ["/initiatives", "initiatives"],
    ["/costs", "costs"],
    ["/agents", "agents"],
    ["/agents/python-pedro", "agent"],
    ["/history", "history"],
  ]) {
    await page.goto(server.url + path);
    await expect(page.locator("#connection")).toHaveText("Live");
    // Nothing wider than the screen: no sideways scrolling.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} is wider than the screen`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: testInfo.outputPath(`${name}-375.png`), fullPage: true });
  }
  await context.close();
});
