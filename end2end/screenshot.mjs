// Takes docs/screenshot.png of the demo workspace (run by hand: node screenshot.mjs after a release build).
import { chromium } from "@playwright/test";
import { DashboardServer } from "./tests/support/server.ts";

const server = await DashboardServer.start({ demo: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(server.url);
  await page.locator("#connection", { hasText: "Live" }).waitFor();
  await page.screenshot({ path: "../docs/screenshot.png" });
} finally {
  await browser.close();
  await server.dispose();
}
