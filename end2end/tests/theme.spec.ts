// Dark by default, light with the system setting or the toggle (remembered); the charts follow.
import { expect, test } from "@playwright/test";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.beforeAll(async () => {
  server = await DashboardServer.start({ demo: true });
});
test.afterAll(async () => {
  await server?.dispose();
});

const background = (page: import("@playwright/test").Page) =>
  page.evaluate(() => getComputedStyle(document.body).backgroundColor);
const chartText = (page: import("@playwright/test").Page) =>
  page.locator('[data-chart="by-model"] svg text').first().evaluate((t) => getComputedStyle(t).fill);

test("the system's light preference gives the light theme, charts included", async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: "light" });
  const page = await context.newPage();
  await page.goto(`${server.url}/costs`);
  expect(await background(page)).toBe("rgb(244, 246, 250)");
  // Chart text takes the theme's text colour (dark on light).
  expect(await chartText(page)).toBe("rgb(75, 85, 103)");
  await context.close();
});

test("the toggle switches themes and is remembered", async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: "dark" });
  const page = await context.newPage();
  await page.goto(`${server.url}/costs`);
  await expect(page.locator("#connection")).toHaveText("Live");
  expect(await background(page)).toBe("rgb(11, 15, 23)");
  expect(await chartText(page)).toBe("rgb(147, 160, 184)");
  await page.locator(".theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  expect(await background(page)).toBe("rgb(244, 246, 250)");
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await context.close();
});
