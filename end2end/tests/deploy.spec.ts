// Deploying is copying one file: the release binary (scripts/package) carries the front end, so
// run alone from an empty folder, with no environment of ours, it serves the page, the
// precompressed assets, and reaches Live.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { collectErrors } from "./support/page";
import { DashboardServer, releaseBinary } from "./support/server";

let folder: string;
let server: DashboardServer;
test.beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "execdash-alone-"));
  const binary = join(folder, "execdash");
  copyFileSync(releaseBinary, binary);
  execFileSync("chmod", ["+x", binary]);
  const env = { PATH: "/usr/bin:/bin", HOME: folder };
  server = await DashboardServer.start({ demo: true, launch: { binary, cwd: folder, env } });
});
test.afterAll(async () => {
  await server?.dispose();
  rmSync(folder, { recursive: true, force: true });
});

test("the binary alone says its site is embedded", () => {
  expect(readdirSync(folder)).toEqual(["execdash"]);
  const effective = execFileSync(join(folder, "execdash"), ["config", "--root", server.root], {
    cwd: folder,
    env: { PATH: "/usr/bin:/bin" },
  }).toString();
  expect(effective).toContain("# site: embedded in the binary");
  expect(effective).not.toContain("site-root");
});

test("the binary alone reaches Live in Chromium", async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator('[data-column="inbox"] .card')).toHaveCount(4);
  expect(errors).toEqual([]);
});

test("embedded assets are precompressed, typed and revalidated by ETag", async ({ request }) => {
  const html = await (await request.get(`${server.url}/`)).text();
  const wasm = html.match(/\/pkg\/execdash\.js\?v=([0-9a-f]{16})/);
  expect(wasm).not.toBeNull();
  const url = `${server.url}/pkg/execdash.wasm?v=${wasm![1]}`;
  for (const [accept, encoding] of [
    ["br, gzip", "br"],
    ["gzip", "gzip"],
  ]) {
    const response = await request.get(url, { headers: { "accept-encoding": accept } });
    expect(response.status()).toBe(200);
    expect(response.headers()["content-encoding"]).toBe(encoding);
    expect(response.headers()["content-type"]).toBe("application/wasm");
    expect(response.headers()["cache-control"]).toContain("immutable");
    // Playwright decodes the body: the bytes are the real module.
    expect((await response.body()).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
  }
  const plain = await request.get(url, { headers: { "accept-encoding": "identity" } });
  expect(plain.headers()["content-encoding"]).toBeUndefined();
  const etag = plain.headers()["etag"];
  expect(etag).toMatch(/^"[0-9a-f]{24}"$/);
  const again = await request.get(url, { headers: { "accept-encoding": "identity", "if-none-match": etag } });
  expect(again.status()).toBe(304);
  // Each encoding is a representation of its own, with its own validator: a cache that holds
  // the brotli one is not told it may use it for a request it would answer unencoded.
  const brotli = (await request.get(url, { headers: { "accept-encoding": "br" } })).headers()["etag"];
  expect(brotli).toBe(etag.replace(/"$/, '-br"'));
  expect((await request.get(url, { headers: { "accept-encoding": "br", "if-none-match": brotli } })).status()).toBe(304);
  expect((await request.get(url, { headers: { "accept-encoding": "identity", "if-none-match": brotli } })).status()).toBe(200);
  const missing = await request.get(`${server.url}/pkg/nothing.js`);
  expect(missing.status()).toBe(404);
  expect(await missing.json()).toMatchObject({ error: expect.stringContaining("no such file") });
});
