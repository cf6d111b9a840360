// The connection indicator and its fallbacks, with the socket refused by Playwright's
// routeWebSocket (HTTP still reaches the real server) and the page's timers on Playwright's clock:
// retries back off (250 ms doubling, capped at 5 s, ±25 % jitter), the page says Offline after 8
// failed attempts and keeps trying, the board is read over HTTP every 30 s while the socket is
// down, and the first retry that gets through is Live again.
import { expect, test } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.beforeEach(async () => {
  server = await DashboardServer.start();
});
test.afterEach(async () => {
  await server?.dispose();
});

/** The status of the server's answer for task `id` (200 once its watcher has read the file). */
const onServer = async (id: string) => (await fetch(`${server.url}/api/board/task?id=${id}`)).status;

/** The wait before retry number `failures` (after that many failed attempts), without jitter. */
const backoff = (failures: number) => Math.min(250 * 2 ** (failures - 1), 5_000);

test("refused sockets back off, go Offline, poll the board, and recover", async ({ page }) => {
  let attempts = 0;
  let refuse = true;
  // The page names the board it holds: /ws?since=…&instance=…
  await page.routeWebSocket(/\/ws(\?.*)?$/, (ws) => {
    attempts += 1;
    if (refuse) ws.close();
    else ws.connectToServer();
  });
  await page.clock.install();
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText(/Reconnecting/);
  // From here on the page's time moves only when the test says so. Jumping 5 s ahead lets the
  // first few retries happen; then the page has seen the latest failure once its label says so.
  const now = await page.evaluate(() => Date.now());
  await page.clock.pauseAt(now + 5_000);
  const label = (failures: number) => (failures >= 8 ? "Offline" : `Reconnecting (${failures})`);
  await expect.poll(async () => (await page.locator("#connection").textContent()) === label(attempts)).toBe(true);
  const first = attempts;
  expect(first).toBeGreaterThanOrEqual(2);

  for (let failures = first; failures <= 8; failures++) {
    // The page has seen the failure (and so started its timer) once the label says so.
    await expect(page.locator("#connection")).toHaveText(label(failures));
    const earliest = backoff(failures) * 0.75;
    const latest = Math.min(backoff(failures) * 1.25, 5_000);
    if (failures > first) {
      // (The first timer may have started before the pause: only its upper bound is checked.)
      await page.clock.runFor(earliest - 5);
      expect(attempts, `no retry before ${earliest} ms after failure ${failures}`).toBe(failures);
      await page.clock.runFor(latest - earliest + 10);
    } else {
      await page.clock.runFor(latest + 5);
    }
    await expect
      .poll(() => attempts, { message: `a retry by ${latest} ms after failure ${failures}` })
      .toBe(failures + 1);
  }
  await expect(page.locator("#connection")).toHaveText("Offline");

  // Offline, the board still follows the disk: over HTTP, every 30 s.
  writeFileSync(server.collab("inbox/polled.yaml"), 'id: polled\ntitle: "Seen by polling"\n');
  const polled = page.locator('[data-column="inbox"] .card', { hasText: "Seen by polling" });
  await expect(polled).toHaveCount(0);
  // The server has read the file (its watcher), so the page's next poll can see it.
  await expect.poll(() => onServer("polled")).toBe(200);
  await page.clock.runFor(31_000);
  await expect(polled).toBeVisible();

  // The next retry gets through: Live, and the board comes from the socket's ack.
  refuse = false;
  writeFileSync(server.collab("inbox/acked.yaml"), 'id: acked\ntitle: "Seen in the ack"\n');
  await expect.poll(() => onServer("acked")).toBe(200);
  await page.clock.runFor(5_010);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator('[data-column="inbox"] .card', { hasText: "Seen in the ack" })).toBeVisible();
});
