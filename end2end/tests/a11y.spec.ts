// Accessibility of every page in both themes, checked by axe-core (WCAG 2.x A and AA rules, colour
// contrast included): no serious or critical violation. Keyboard: the header's page links are
// reachable with Tab and show a visible focus.
import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.beforeAll(async () => {
  server = await DashboardServer.start({ demo: true, args: ["--allow-writes"] });
});
test.afterAll(async () => {
  await server?.dispose();
});

const pages = ["/", "/initiatives", "/agents", "/agents/python-pedro", "/history", "/costs", "/mcp", "/connect", "/sessions", "/no-such-page"];

for (const scheme of ["dark", "light"] as const) {
  test(`no serious accessibility violation on any page (${scheme})`, async ({ browser }) => {
    const context = await browser.newContext({ colorScheme: scheme });
    const page = await context.newPage();
    const found: string[] = [];
    for (const path of pages) {
      await page.goto(server.url + path);
      await expect(page.locator("#connection")).toHaveText("Live");
      const results = await new AxeBuilder({ page })
        .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
        .analyze();
      for (const violation of results.violations) {
        if (violation.impact === "serious" || violation.impact === "critical") {
          const targets = violation.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ");
          found.push(`${path}: ${violation.id} (${violation.nodes.length}): ${targets}`);
        }
      }
    }
    expect(found).toEqual([]);
    await context.close();
  });
}

test("the page links are reached with the keyboard and show their focus", async ({ page }) => {
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  const link = page.locator(".pages a", { hasText: "Initiatives" });
  for (let i = 0; i < 10 && !(await link.evaluate((a) => a === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(link).toBeFocused();
  const outline = await link.evaluate((a) => getComputedStyle(a).outlineStyle);
  expect(outline).not.toBe("none");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(`${server.url}/initiatives`);
});
