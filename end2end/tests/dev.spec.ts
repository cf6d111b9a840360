// The development loop: the debug server (target/debug/execdash) run as `cargo leptos watch` runs
// it (LEPTOS_SITE_ROOT, LEPTOS_WATCH, the reload port) serves the demo page and reaches Live, and
// the page follows cargo-leptos's reload socket. scripts/test runs it on the release site it built
// (target/site); after `cargo leptos build` it runs on the debug site and WASM.
import { existsSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { DashboardServer, devBinary, devSiteRoot, freePort } from "./support/server";

test.skip(
  !process.env.EXECDASH_TEST_DEV && !existsSync(devBinary),
  "no debug build (scripts/test makes one with `cargo leptos build`)",
);

let server: DashboardServer;
let reloadPort: number;
test.beforeAll(async () => {
  reloadPort = await freePort();
  // What cargo-leptos sets when it runs the server for `watch` (`serve` leaves out LEPTOS_WATCH).
  const env = {
    ...process.env,
    LEPTOS_SITE_ROOT: devSiteRoot,
    LEPTOS_WATCH: "ON",
    LEPTOS_RELOAD_PORT: String(reloadPort),
    EXECDASH_LOG: "info",
  };
  server = await DashboardServer.start({ demo: true, launch: { binary: devBinary, env } });
});
test.afterAll(async () => {
  await server?.dispose();
});

test("the development build reaches Live", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  await page.locator('[data-column="inbox"] .card').first().click();
  await expect(page.locator(".detail")).toBeVisible();
  expect(errors).toEqual([]);
});

test("a rebuild reloads the page through cargo-leptos's reload socket", async ({ page }) => {
  // cargo-leptos's reload server, played by the test: it accepts the page's socket and, like
  // cargo-leptos after a rebuild, tells it to reload everything.
  let connections = 0;
  await page.routeWebSocket(`ws://127.0.0.1:${reloadPort}/live_reload`, (socket) => {
    connections += 1;
    if (connections === 1) socket.send(JSON.stringify({ all: true }));
  });
  const response = await page.goto(server.url);
  expect(response?.headers()["content-security-policy"]).toContain(`ws://*:${reloadPort}`);
  await expect.poll(() => connections).toBe(2);
  await expect(page.locator("#connection")).toHaveText("Live");
});
