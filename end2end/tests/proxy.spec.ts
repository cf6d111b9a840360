// execdash behind nginx under /dashboard/, with an access token, nginx configured by the location
// blocks of docs/deploy/nginx.conf: the login form, the live socket, the API and the Host and
// Origin checks all work through the proxy, and the page asks for nothing outside its prefix.
import { expect, test } from "@playwright/test";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Nginx } from "./support/nginx";
import { lazyFileEncodings } from "./support/page";
import { DashboardServer, freePort } from "./support/server";

const token = randomBytes(24).toString("hex");
const bearer = { authorization: `Bearer ${token}` };
let secrets: string | undefined;
let server: DashboardServer;
let nginx: Nginx;

test.beforeAll(async () => {
  secrets = mkdtempSync(join(tmpdir(), "execdash-proxy-"));
  const tokenFile = join(secrets, "token");
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  // nginx's port first: execdash must know the public URL it will be reached at.
  const nginxPort = await freePort();
  server = await DashboardServer.start({
    demo: true,
    args: [
      "--base-path",
      "/dashboard",
      "--token-file",
      tokenFile,
      "--public-url",
      `http://127.0.0.1:${nginxPort}/dashboard`,
    ],
  });
  nginx = await Nginx.start(server.port, nginxPort);
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) {
    await testInfo.attach("nginx error log", { body: nginx?.log ?? "" });
    await testInfo.attach("execdash log", { body: server?.log ?? "" });
  }
});

test.afterAll(async () => {
  try {
    await nginx?.dispose();
    await server?.dispose();
  } finally {
    if (secrets) rmSync(secrets, { recursive: true, force: true });
  }
});

function invocation(cost: number) {
  return {
    invocation_id: `proxied-${randomUUID()}`,
    tool_name: "codex",
    model_name: "gpt-5",
    status: "success",
    cost_usd: cost,
  };
}

/** Today's spending according to the API, through the proxy. */
async function costToday(): Promise<number> {
  const response = await fetch(nginx.url("/dashboard/api/costs"), { headers: bearer });
  expect(response.status).toBe(200);
  return ((await response.json()) as { totals: { today: number } }).totals.today;
}

/** Whether a figure shown as `$1.23`, `$0.042` or `$12.3k` is `usd`, to its shown precision. */
function shows(text: string, usd: number): boolean {
  const match = /^\$(-?[\d.]+)(k?)$/.exec(text.trim());
  if (!match) return false;
  const value = Number(match[1]) * (match[2] ? 1000 : 1);
  return Math.abs(value - usd) <= (match[2] ? 50 : 0.006);
}

/**
 * A request to nginx with exactly these headers (Node's fetch will not send a `Host` of our
 * choosing). A socket upgrade that succeeds answers 101.
 */
function raw(
  method: string,
  path: string,
  headers: OutgoingHttpHeaders,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const request = httpRequest(
      {
        host: "127.0.0.1",
        port: nginx.port,
        method,
        path,
        agent: false,
        headers: body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => done({ status: response.statusCode ?? 0, body: text }));
        response.on("error", fail);
      },
    );
    request.on("upgrade", (response, socket) => {
      socket.destroy();
      done({ status: response.statusCode ?? 101, body: "" });
    });
    request.once("error", fail);
    request.end(body);
  });
}

/** The `error` of a JSON error body. */
function errorOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { error?: unknown }).error;
  } catch {
    return undefined;
  }
}

test("through nginx under /dashboard: log in, go Live, follow the disk", async ({ page }) => {
  const requested: string[] = [];
  page.on("request", (request) => requested.push(request.url()));
  page.on("websocket", (socket) => requested.push(socket.url()));
  const lazyFiles = lazyFileEncodings(page);

  await page.goto(nginx.url("/dashboard/"));
  await expect(page).toHaveURL(/\/dashboard\/login(\?.*)?$/);
  await page.locator("input[name=token]").fill(token);
  await page.locator("input[name=token]").press("Enter");
  await expect(page).toHaveURL(nginx.url("/dashboard/"));
  await expect(page.locator("#connection")).toHaveText("Live");

  writeFileSync(server.collab("inbox/proxied.yaml"), 'id: proxied\ntitle: "Through the proxy"\n');
  await expect(page.locator('[data-column="inbox"] .card', { hasText: "Through the proxy" })).toBeVisible();

  // The demo workspace has spending today already: the panel must move by exactly this call.
  const before = await costToday();
  const posted = await fetch(nginx.url("/dashboard/api/invocations"), {
    method: "POST",
    headers: { ...bearer, "content-type": "application/json" },
    body: JSON.stringify(invocation(12.5)),
  });
  expect(posted.status).toBe(200);
  expect(await posted.json()).toEqual({ inserted: 1, duplicates: 0, conflicts: [] });
  const after = await costToday();
  expect(after - before).toBeCloseTo(12.5, 6);
  await expect
    .poll(async () => {
      const text = (await page.locator("#cost-today").textContent()) ?? "";
      return { text, updated: shows(text, after) };
    })
    .toMatchObject({ updated: true });

  // The pages under the prefix: the initiatives from the header, and the same address loaded whole.
  await page.locator(".pages a", { hasText: "Initiatives" }).click();
  await expect(page).toHaveURL(nginx.url("/dashboard/initiatives"));
  await expect(page.locator("#page-title")).toHaveText("Initiatives");
  // Its files, and the task detail's, came compressed against the main WASM the tab held (the
  // dictionary's match names the prefix), through the proxy: the modules and most chunks (a few
  // bytes' chunk goes in brotli, smaller: foundation.spec.ts checks which).
  await expect
    .poll(() => [...lazyFiles.keys()].some((name) => name.startsWith("split___initiatives_route_view_")))
    .toBe(true);
  const modules = [...lazyFiles].filter(([name]) => name.startsWith("split_"));
  expect(new Set(modules.map(([, encoding]) => encoding))).toEqual(new Set(["dcb"]));
  const encodings = [...lazyFiles.values()];
  expect(encodings.filter((encoding) => encoding !== "dcb" && encoding !== "br")).toEqual([]);
  expect(encodings.filter((encoding) => encoding === "dcb").length).toBeGreaterThan(encodings.length / 2);
  await page.reload();
  await expect(page.locator("#page-title")).toHaveText("Initiatives");
  await expect(page.locator('.pages a[aria-current="page"]')).toHaveText("Initiatives");
  await page.locator(".pages a", { hasText: "Board" }).click();
  await expect(page).toHaveURL(nginx.url("/dashboard/"));
  await expect(page.locator('[data-column="inbox"] .card', { hasText: "Through the proxy" })).toBeVisible();

  // The page's assets and its socket went through the proxy, under the prefix, and nothing else.
  const paths = requested.map((url) => new URL(url).pathname);
  expect(paths).toContain("/dashboard/ws");
  expect(paths.some((path) => path.startsWith("/dashboard/pkg/"))).toBe(true);
  const outside = requested.filter((text) => {
    const url = new URL(text);
    if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) return false; // data:, blob:
    return url.host !== `127.0.0.1:${nginx.port}` || !url.pathname.startsWith("/dashboard/");
  });
  expect(outside).toEqual([]);
});

test("a foreign Host or Origin is refused through the proxy too", async () => {
  const foreignHost = await raw("GET", "/dashboard/api/tasks", { ...bearer, host: "evil.example" });
  expect(foreignHost.status).toBe(421);
  expect(errorOf(foreignHost.body)).toBeTruthy();

  const call = invocation(0.01);
  const json = { ...bearer, "content-type": "application/json" };
  const foreignOrigin = await raw(
    "POST",
    "/dashboard/api/invocations",
    { ...json, origin: "http://evil.example" },
    JSON.stringify(call),
  );
  expect(foreignOrigin.status).toBe(403);
  expect(errorOf(foreignOrigin.body)).toBeTruthy();

  const foreignSocket = await raw("GET", "/dashboard/ws", {
    ...bearer,
    origin: "http://evil.example",
    connection: "Upgrade",
    upgrade: "websocket",
    "sec-websocket-version": "13",
    "sec-websocket-key": randomBytes(16).toString("base64"),
  });
  expect(foreignSocket.status).toBe(403);

  const anonymous = await raw("GET", "/dashboard/api/tasks", {});
  expect(anonymous.status).toBe(401);
  expect(errorOf(anonymous.body)).toBeTruthy();

  const allowed = await raw("GET", "/dashboard/api/tasks", bearer);
  expect(allowed.status, allowed.body).toBe(200);

  // /metrics is not served on the public side, token or not; Prometheus scrapes execdash itself.
  const publicMetrics = await raw("GET", "/dashboard/metrics", bearer);
  expect(publicMetrics.status).toBe(404);
  const scraped = await fetch(`http://127.0.0.1:${server.port}/dashboard/metrics`, { headers: bearer });
  expect(scraped.status).toBe(200);
  expect(await scraped.text()).toContain("execdash_build_info");

  // The refused write wrote nothing: the same call from the dashboard's own origin is new.
  const own = await raw(
    "POST",
    "/dashboard/api/invocations",
    { ...json, origin: `http://127.0.0.1:${nginx.port}` },
    JSON.stringify(call),
  );
  expect(own.status, own.body).toBe(200);
  expect(JSON.parse(own.body)).toEqual({ inserted: 1, duplicates: 0, conflicts: [] });
});
