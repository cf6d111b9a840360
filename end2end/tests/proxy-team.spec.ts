// A team's viewer behind nginx with docs/deploy/nginx.conf's locations, under /dashboard/ with a
// token: another repository's page and all repositories together reach Live over their own
// sockets (/dashboard/repos/NAME/ws, /dashboard/all/ws), and a card written on a node appears.
import { expect, test } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Nginx } from "./support/nginx";
import { Postgres } from "./support/postgres";
import { DashboardServer, freePort } from "./support/server";

const token = randomBytes(24).toString("hex");
let cluster: Postgres;
let alpha: DashboardServer;
let viewer: DashboardServer;
let nginx: Nginx;
let secrets: string;

test.beforeEach(async () => {
  cluster = await Postgres.start();
  const url = cluster.database("team");
  alpha = await DashboardServer.start({ args: ["--db", url, "--repo-name", "alpha"] });
  secrets = mkdtempSync(join(tmpdir(), "execdash-proxy-team-"));
  const tokenFile = join(secrets, "token");
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const nginxPort = await freePort();
  viewer = await DashboardServer.start({
    viewer: true,
    args: [
      "--db",
      url,
      "--base-path",
      "/dashboard",
      "--token-file",
      tokenFile,
      "--public-url",
      `http://127.0.0.1:${nginxPort}/dashboard`,
    ],
  });
  nginx = await Nginx.start(viewer.port, nginxPort);
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) {
    await testInfo.attach("nginx error log", { body: nginx?.log ?? "" });
  }
  await nginx?.dispose();
  await viewer?.dispose();
  await alpha?.dispose();
  cluster?.stop();
  rmSync(secrets, { recursive: true, force: true });
});

test("a viewer behind nginx goes Live on another repository's page and on all of them", async ({ page }) => {
  const sockets: string[] = [];
  page.on("websocket", (socket) => sockets.push(socket.url()));
  await page.goto(nginx.url("/dashboard/repos/alpha/"));
  await expect(page).toHaveURL(/\/dashboard\/login/);
  await page.locator("input[name=token]").fill(token);
  await page.locator("input[name=token]").press("Enter");
  await expect(page).toHaveURL(nginx.url("/dashboard/repos/alpha/"));
  await expect(page.locator("#connection")).toHaveText("Live");
  writeFileSync(alpha.collab("inbox/proxied.yaml"), 'id: proxied\ntitle: "Through the proxy"\n');
  await expect(page.locator('[data-column="inbox"] .card', { hasText: "Through the proxy" })).toBeVisible();

  await page.goto(nginx.url("/dashboard/all/"));
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator('[data-column="inbox"] .card', { hasText: "Through the proxy" })).toBeVisible();
  expect(sockets.some((url) => url.includes("/dashboard/repos/alpha/ws")), sockets.join(" ")).toBe(true);
  expect(sockets.some((url) => url.includes("/dashboard/all/ws")), sockets.join(" ")).toBe(true);
});
