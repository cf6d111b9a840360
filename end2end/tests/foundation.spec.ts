// The page is server-rendered with the board, then hydrates and goes Live over the socket.
import { createHash } from "node:crypto";
import { expect, type Page, test } from "@playwright/test";
import { collectErrors, lazyFileEncodings } from "./support/page";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.beforeAll(async () => {
  server = await DashboardServer.start({ demo: true });
});
test.afterAll(async () => {
  await server?.dispose();
});

test("the server-rendered HTML already holds the board", async ({ request }) => {
  const response = await request.get(`${server.url}/`);
  expect(response.status()).toBe(200);
  expect(response.headers()["content-security-policy"]).toContain("default-src 'self'");
  const html = await response.text();
  expect(html).toContain("Execution Dashboard");
  for (const column of ["inbox", "assigned", "done"]) {
    expect(html).toContain(`data-column="${column}"`);
  }
  expect(html).toContain("Create github issue type for orchestration task");
  expect(html).toContain("Connecting…");
});

test("without JavaScript the board still reads", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(server.url);
  await expect(page.locator('[data-column="inbox"] .card')).toHaveCount(4);
  await expect(page.locator('[data-column="assigned"] .lane')).toHaveCount(3);
  await expect(page.locator(".problem")).toHaveCount(1);
  await expect(page.locator("#connection")).toHaveText("Connecting…");
  await context.close();
});

test("the page hydrates and the socket goes Live", async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator("#connection")).toHaveClass(/live/);
  // Hydrated: a click opens the detail panel.
  await page.locator('[data-column="inbox"] .card').first().click();
  await expect(page.locator(".detail")).toBeVisible();
  await page.locator(".detail .close").click();
  await expect(page.locator(".detail")).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("pages but the board are loaded on first use, each once, and hydrate with no error", async ({ page }) => {
  const errors = collectErrors(page);
  const modules: string[] = [];
  page.on("request", (request) => {
    const name = new URL(request.url()).pathname.split("/").pop() ?? "";
    if (name.startsWith("split_")) modules.push(name);
  });
  // The board needs no page module to go live; once live, the task detail's module and the
  // header's list of the team's repositories load in the background (before any task is
  // opened), once each.
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector("#connection")?.textContent === "Live") {
        (window as unknown as { liveAt: number }).liveAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect
    .poll(() => [...modules].sort())
    .toEqual([expect.stringMatching(/^split___task_route_view_/), expect.stringMatching(/^split_team_repositories_/)]);
  // Their timing entries are there once their responses are whole.
  const fetchedAt = (name: string) =>
    page.evaluate(
      (name) => performance.getEntriesByType("resource").find((e) => e.name.includes(name))?.startTime ?? null,
      name,
    );
  const liveAt = await page.evaluate(() => (window as unknown as { liveAt: number }).liveAt);
  for (const name of ["/split___task_route_view_", "/split_team_repositories_"]) {
    await expect.poll(() => fetchedAt(name)).not.toBeNull();
    expect(await fetchedAt(name)).toBeGreaterThanOrEqual(liveAt);
  }
  // A page's module comes with its first visit (through the header, no reload), once.
  const pages = page.getByRole("navigation", { name: "Pages" });
  await pages.getByRole("link", { name: "History" }).click();
  await expect(page.locator('[data-chart="completed"]')).toBeVisible();
  expect(modules.slice(2)).toEqual([expect.stringMatching(/^split___history_route_view_/)]);
  await pages.getByRole("link", { name: "Board" }).click();
  await expect(page.locator('[data-column="inbox"] .card')).toHaveCount(4);
  await pages.getByRole("link", { name: "History" }).click();
  await expect(page.locator('[data-chart="completed"]')).toBeVisible();
  expect(modules).toHaveLength(3);
  // Opened at its own address, a lazily loaded page hydrates what the server rendered, then
  // goes Live (the import map makes the page module's loader use the same versioned glue).
  await page.goto(`${server.url}/mcp`);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator("#page-title")).toHaveText("MCP servers");
  expect(modules.filter((m) => m.startsWith("split___mcp_route_view_"))).toHaveLength(1);
  expect(errors).toEqual([]);
});

test("a page's lazily loaded files come compressed against the main WASM the tab holds", async ({
  page,
  request,
}) => {
  const errors = collectErrors(page);
  const encodings = lazyFileEncodings(page);
  const sizes = new Map<string, number>();
  page.on("response", async (response) => {
    const name = new URL(response.url()).pathname.split("/").pop() ?? "";
    if (/^chunk_.*\.wasm$/.test(name)) sizes.set(name, (await response.body()).length);
  });
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  // The detail's files, fetched once Live (the tab holds the main WASM then), and a page's on its
  // first visit: every one in the dictionary's encoding, and the code they bring runs.
  const fetched = (prefix: string) => () => [...encodings.keys()].some((name) => name.startsWith(prefix));
  await expect.poll(fetched("split___task_route_view_")).toBe(true);
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "History" }).click();
  await expect(page.locator('[data-chart="completed"]')).toBeVisible();
  await expect.poll(fetched("split___history_route_view_")).toBe(true);
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Board" }).click();
  await page.locator('[data-column="inbox"] .card').first().click();
  await expect(page.locator(".detail .task-cost, .detail .empty")).toBeVisible();
  const chunks = [...encodings.keys()].filter((name) => name.startsWith("chunk_"));
  expect(chunks.length).toBeGreaterThan(0);
  // Every one in `dcb` but the few bytes long, which brotli alone makes smaller (the modules
  // wasm-opt left empty, a function or two): those in brotli.
  const brotli = [...encodings].filter(([, encoding]) => encoding !== "dcb");
  for (const [name, encoding] of brotli) {
    expect(encoding, name).toBe("br");
    const body = await (await request.get(`${server.url}/pkg/${name}`)).body();
    expect(body.length, name).toBeLessThanOrEqual(256);
  }
  expect(brotli.length).toBeLessThan(encodings.size / 2);
  // None is an empty module (its 8 bytes of header: wasm-opt left nothing in it), which the
  // loader no longer fetches (scripts/rewrite-split-loader).
  await expect.poll(() => sizes.size).toBe(chunks.length);
  expect([...sizes].filter(([, size]) => size <= 8)).toEqual([]);
  expect(errors).toEqual([]);
});

test("a lazily loaded file goes dcb only to a client naming the dictionary it was made with", async ({ request }) => {
  const html = await (await request.get(`${server.url}/`)).text();
  const version = html.match(/\/pkg\/execdash\.js\?v=([0-9a-f]{16})/)![1];
  const main = await request.get(`${server.url}/pkg/execdash.wasm?v=${version}`);
  expect(main.headers()["use-as-dictionary"]).toBe('match="/pkg/*.wasm"');
  const hash = createHash("sha256").update(await main.body()).digest();
  const manifest = await (await request.get(`${server.url}/pkg/__wasm_split_manifest.json`)).json();
  // The task detail's module (kilobytes: a few bytes' file goes in brotli alone, smaller).
  const file = (Object.entries(manifest) as [string, string[]][])
    .find(([entry]) => entry.startsWith("__task_route_view_"))![1]
    .find((name) => name.startsWith("split___task_route_view_"))!;
  const get = (encodings: string, dictionary?: Buffer) =>
    request.get(`${server.url}/pkg/${file}.wasm`, {
      headers: {
        "accept-encoding": encodings,
        ...(dictionary ? { "available-dictionary": `:${dictionary.toString("base64")}:` } : {}),
      },
    });
  const compressed = await get("dcb, dcz, br", hash);
  expect(compressed.headers()["content-encoding"]).toBe("dcb");
  expect(compressed.headers()["vary"]).toContain("available-dictionary");
  expect(compressed.headers()["etag"]).toMatch(/^"[0-9a-f]{24}-dcb"$/);
  // dcb's magic number and the dictionary's hash, then the brotli stream (the test above sees
  // Chromium decode it).
  const body = await compressed.body();
  expect(body.subarray(0, 4)).toEqual(Buffer.from([0xff, 0x44, 0x43, 0x42]));
  expect(body.subarray(4, 36)).toEqual(hash);
  // Another dictionary (an older main WASM), none, or dcb not accepted: brotli.
  const other = createHash("sha256").update("another build").digest();
  for (const response of [await get("dcb, br", other), await get("dcb, br"), await get("dcz, br", hash)]) {
    expect(response.headers()["content-encoding"]).toBe("br");
    expect((await response.body()).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
  }
});

test("a lazily loaded page opened at its address comes with its module preloaded, fetched once", async ({
  page,
  request,
}) => {
  const errors = collectErrors(page);
  const fetched: string[] = [];
  page.on("request", (request) => {
    const name = new URL(request.url()).pathname.split("/").pop() ?? "";
    if (name.startsWith("split_")) fetched.push(name);
  });
  // The chunks the pages asked for, preloaded or fetched by the loader.
  const chunks = new Set<string>();
  page.on("request", (request) => {
    const name = new URL(request.url()).pathname.split("/").pop() ?? "";
    if (/^chunk_.*\.wasm$/.test(name)) chunks.add(name);
  });
  for (const [path, route] of [
    ["/tasks/2026-02-12T1101-planning-petra-roadmap-update", "task"],
    ["/initiatives", "initiatives"],
    ["/costs", "costs"],
    ["/agents", "agents"],
    ["/agents/python-pedro", "agent"],
    ["/history", "history"],
    ["/mcp", "mcp"],
    ["/connect", "connect"],
    ["/sessions", "sessions"],
  ]) {
    fetched.length = 0;
    await page.goto(`${server.url}${path}`);
    await expect(page.locator("#connection")).toHaveText("Live");
    // The head names the route's module (and the chunks it shares) with the page…
    const preloaded = await page
      .locator('head link[rel="preload"][as="fetch"]')
      .evaluateAll((links) => links.map((l) => new URL((l as HTMLLinkElement).href).pathname.split("/").pop()));
    const module = preloaded.find((name) => name?.startsWith(`split___${route}_route_view_`));
    expect(module, `${path}: ${preloaded.join(" ")}`).toBeDefined();
    // …and the split loader uses that download: one request for it.
    expect(fetched.filter((name) => name === module), path).toHaveLength(1);
  }
  // The board preloads no page's module (the detail's comes once it is live).
  await page.goto(server.url);
  const onBoard = await page.locator('head link[rel="preload"][href*="split_"]').count();
  expect(onBoard).toBe(0);
  // None of them an empty module (8 bytes): the server preloads none and the loader waits for
  // none (scripts/rewrite-split-loader).
  expect(chunks.size).toBeGreaterThan(0);
  const empty = [];
  for (const name of chunks) {
    if ((await (await request.get(`${server.url}/pkg/${name}`)).body()).length <= 8) empty.push(name);
  }
  expect(empty).toEqual([]);
  expect(errors).toEqual([]);
});

test("a returning tab takes every front-end file from the browser's cache, none from the server", async ({
  browser,
}) => {
  const context = await browser.newContext();
  // The board, a task, then the history page: the main WASM, its glue and the loader, then the
  // detail's, the team's list's and the history page's modules and the chunks they share.
  const visit = async (page: Page) => {
    await page.goto(server.url);
    await expect(page.locator("#connection")).toHaveText("Live");
    await page.locator('[data-column="inbox"] .card').first().click();
    await expect(page.locator(".detail .task-cost, .detail .empty")).toBeVisible();
    await page.locator(".detail .close").click();
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "History" }).click();
    await expect(page.locator('[data-chart="completed"]')).toBeVisible();
    // Every module whole (its timing entry is there once its response is), the team's list's
    // included, which loads in the background.
    const whole = (name: string) =>
      page.evaluate((name) => performance.getEntriesByType("resource").some((e) => e.name.includes(name)), name);
    for (const name of ["/split___task_route_view_", "/split_team_repositories_", "/split___history_route_view_"]) {
      await expect.poll(() => whole(name)).toBe(true);
    }
  };
  const first = await context.newPage();
  await visit(first);
  await first.close();

  const page = await context.newPage();
  const errors = collectErrors(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  // Each front-end file the tab asked for (path and query) → whether the browser's cache answered.
  const cached = new Map<string, boolean>();
  cdp.on("Network.responseReceived", ({ response }) => {
    const url = new URL(response.url);
    if (url.pathname.startsWith("/pkg/") || url.pathname === "/boot.js") {
      cached.set(url.pathname + url.search, response.fromDiskCache === true);
    }
  });
  await visit(page);
  const files = [...cached.keys()];
  const expected = ["/pkg/__wasm_split.", "/pkg/split___task_route_view_", "/pkg/split___history_route_view_"];
  for (const name of [...expected, "/pkg/chunk_"]) {
    expect(files.some((file) => file.startsWith(name)), `${name}: ${files.join(" ")}`).toBe(true);
  }
  // All at the build's versioned URLs, so the server sent them as immutable and the browser
  // asks it for none again.
  for (const file of files) expect(file).toMatch(/\?v=[0-9a-f]{16}$/);
  expect(Object.fromEntries(cached)).toEqual(Object.fromEntries(files.map((file) => [file, true])));
  expect(errors).toEqual([]);
  await context.close();
});

test("health and versioned, compressed assets", async ({ request }) => {
  const health = await request.get(`${server.url}/health`);
  expect(await health.json()).toMatchObject({ status: "ok", service: "execdash" });
  const html = await (await request.get(`${server.url}/`)).text();
  const js = html.match(/\/pkg\/execdash\.js\?v=[0-9a-f]{16}/);
  expect(js).not.toBeNull();
  const asset = await request.get(`${server.url}${js![0]}`, { headers: { "accept-encoding": "br, gzip" } });
  expect(asset.status()).toBe(200);
  expect(asset.headers()["cache-control"]).toContain("immutable");
  expect(asset.headers()["content-encoding"]).toMatch(/br|gzip/);
});
