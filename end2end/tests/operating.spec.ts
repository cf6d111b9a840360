// What an operator sees when the dashboard is pointed at the wrong place: a root without
// work/collaboration is a problem on the page (not an empty board in silence), gone when the
// folder appears.
import { expect, test } from "@playwright/test";
import { mkdirSync, rmSync } from "node:fs";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.afterEach(async () => {
  await server?.dispose();
});

test("a missing board folder shows as a problem until it appears", async ({ page }) => {
  server = await DashboardServer.start();
  rmSync(server.collab(""), { recursive: true, force: true });
  await server.restart();
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  const problem = page.locator('.problem[data-path="work/collaboration"]');
  await expect(problem).toContainText("is --root the repository?");
  for (const folder of ["inbox", "assigned", "done"]) {
    mkdirSync(server.collab(folder), { recursive: true });
  }
  await expect(problem).toHaveCount(0);
});
