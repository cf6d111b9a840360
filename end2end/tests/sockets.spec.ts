// The socket's close codes as a browser sees them: a message over the limit is closed with 1009
// and a reason (a close frame, not a dropped connection: 1006).
import { expect, test } from "@playwright/test";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.afterEach(async () => {
  await server?.dispose();
});

test("an oversize message from the page is closed with 1009 and a reason", async ({ page }) => {
  server = await DashboardServer.start();
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  for (const size of [20 * 1024, 1024 * 1024, 2 * 1024 * 1024]) {
    const closed = await page.evaluate(
      ([url, size]) =>
        new Promise<{ code: number; reason: string }>((done) => {
          const socket = new WebSocket(url);
          socket.onmessage = () => socket.send("x".repeat(size));
          socket.onclose = (event) => done({ code: event.code, reason: event.reason });
        }),
      [server.url.replace("http", "ws") + "/ws", size] as [string, number],
    );
    expect(closed.code, `${size} bytes`).toBe(1009);
    expect(closed.reason).toContain("at most 16384");
  }
});
