// What a person sees on a laptop (issue 25, item 12), on the demo workspace: the header in one
// row's worth of title and nothing off the side of the screen at 1280 and 1440 px; the history
// page with one agent: whole-number ticks that do not repeat, the cycle-time chart no taller than
// its one bar needs and with the same text size as the other charts, and the tables' number
// headers over their numbers.
import { expect, test, type Page } from "@playwright/test";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.beforeAll(async () => {
  server = await DashboardServer.start({ demo: true });
});
test.afterAll(async () => {
  await server?.dispose();
});

async function open(page: Page, path: string) {
  await page.goto(server.url + path);
  await expect(page.locator("#connection")).toHaveText("Live");
}

for (const width of [1280, 1440]) {
  test(`at ${width} px the title is one line and nothing is off the side of the screen`, async ({ browser }) => {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    for (const path of ["/", "/history", "/costs", "/sessions"]) {
      await open(page, path);
      const [titleHeight, lineHeight] = await page
        .locator(".brand h1")
        .evaluate((h1) => [h1.getBoundingClientRect().height, parseFloat(getComputedStyle(h1).fontSize) * 1.6]);
      expect(titleHeight, `${path}: the title in one line`).toBeLessThan(lineHeight);
      const [scrolled, shown] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]);
      expect(scrolled, `${path}: nothing wider than the window`).toBeLessThanOrEqual(shown);
      await expect(page.locator("#connection")).toBeInViewport();
    }
    await page.close();
  });
}

test("history with one agent: whole-number ticks once each, a cycle chart sized to its bar, number headers on the right", async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await open(page, "/history");
  const completed = page.locator('[data-chart="completed"] svg');
  await expect(completed).toBeVisible();
  const ticks = (await completed.locator("text").allTextContents()).filter((t) => /^\d+$/.test(t.trim()));
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  expect(new Set(ticks).size, `y ticks ${ticks}`).toBe(ticks.length);

  const cycle = page.locator('[data-chart="cycle"] svg');
  await expect(cycle).toBeVisible();
  const cycleBox = (await cycle.boundingBox())!;
  expect(cycleBox.height, "one bar, not a 400 px slab").toBeLessThan(140);
  // Drawn at its own size, its text is the size of the wide charts' text (both 12 px in the SVG).
  const scale = async (svg: typeof cycle) =>
    svg.evaluate((s) => s.getBoundingClientRect().width / Number(s.getAttribute("width")));
  const [small, wide] = [await scale(cycle), await scale(completed)];
  expect(Math.abs(small / wide - 1), `drawn at ${small}× and ${wide}×`).toBeLessThan(0.15);

  for (const header of ["Tasks", "25 %", "Median", "75 %", "90 %"]) {
    const align = await page
      .locator(".cycle-table thead th", { hasText: header })
      .evaluate((th) => getComputedStyle(th).textAlign);
    expect(align, header).toBe("right");
  }
  const agent = await page.locator(".cycle-table thead th", { hasText: "Agent" }).evaluate((th) => getComputedStyle(th).textAlign);
  expect(agent).not.toBe("right");
});
