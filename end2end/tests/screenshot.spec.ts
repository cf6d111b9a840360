// Not a test: refreshes docs/screenshot.png (and -light) of the demo workspace when EXECDASH_SCREENSHOT=1
// (EXECDASH_SCREENSHOT=1 npx playwright test screenshot). Skipped otherwise.
import { test } from "@playwright/test";
import { DashboardServer } from "./support/server";

test("screenshot of the demo board", async ({ page }) => {
  test.skip(!process.env.EXECDASH_SCREENSHOT, "set EXECDASH_SCREENSHOT=1 to refresh docs/screenshot.png");
  const server = await DashboardServer.start({ demo: true });
  try {
    await page.setViewportSize({ width: 1440, height: 1500 });
    await page.goto(server.url);
    await page.locator("#connection", { hasText: "Live" }).waitFor();
    await page.screenshot({ path: "../docs/screenshot.png" });
    await page.emulateMedia({ colorScheme: "light" });
    await page.screenshot({ path: "../docs/screenshot-light.png" });
  } finally {
    await server.dispose();
  }
});
