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

test("an unknown page is the dashboard's own 404, and every page names itself in the title", async ({ page }) => {
  server = await DashboardServer.start();
  const response = await page.goto(`${server.url}/no-such-page`);
  expect(response?.status()).toBe(404);
  await expect(page.locator("#page-title")).toHaveText("Page not found");
  await expect(page).toHaveTitle("Page not found · execdash");
  await expect(page.locator("#connection")).toHaveText("Live");
  await page.getByRole("link", { name: "Back to the board" }).click();
  await expect(page.locator('[data-column="inbox"]')).toBeVisible();
  await expect(page).toHaveTitle("Execution Dashboard · execdash");
  for (const [link, title] of [
    ["Costs", "Costs · execdash"],
    ["Agents", "Agents · execdash"],
    ["History", "History · execdash"],
    ["Board", "Execution Dashboard · execdash"],
  ]) {
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: link }).click();
    await expect(page).toHaveTitle(title);
  }
  // The API and the assets keep their own 404s.
  const api = await page.request.get(`${server.url}/api/no-such-endpoint`, { headers: { accept: "text/html" } });
  expect(api.status()).toBe(404);
  expect(await api.json()).toHaveProperty("error");
  const asset = await page.request.get(`${server.url}/pkg/no-such-file.js`);
  expect(asset.status()).toBe(404);
  expect(await asset.text()).not.toContain("Page not found");
});
