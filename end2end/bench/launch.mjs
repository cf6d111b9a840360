// node end2end/bench/launch.mjs [RUNS]: a tab's launch → Live on the demo workspace, on a slow
// device over a slow link: Chromium with 4× CPU throttling (DevTools Emulation.setCPUThrottlingRate)
// and a 1.6 Mbps / 150 ms RTT network (Network.emulateNetworkConditions), RUNS fresh loads (a new
// browser context each: nothing cached). "Live" is the header's connection indicator (#connection)
// saying so: the WASM downloaded, compiled, hydrated and the socket open. Prints p50/p95/max of
// launch → first contentful paint and launch → Live, and the bytes of WASM and JS the page fetched.
// Runs the binary EXECDASH_BIN (default: the release binary of scripts/package) with the site it
// embeds.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const runs = Number(process.argv[2] ?? 10);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const binary = process.env.EXECDASH_BIN ?? join(repo, "target/release/execdash");
const CPU_SLOWDOWN = 4;
const NETWORK = {
  offline: false,
  latency: 150, // ms, round trip
  downloadThroughput: (1.6e6 / 8) | 0, // bytes/s
  uploadThroughput: (750e3 / 8) | 0,
};

const root = mkdtempSync(join(tmpdir(), "execdash-launch-"));
cpSync(join(repo, "demo"), root, { recursive: true });
const seeded = spawnSync(binary, ["seed-demo", "--root", root], { stdio: "ignore" });
if (seeded.status !== 0) throw new Error(`${binary} seed-demo failed`);
const port = await new Promise((done) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => done(port));
  });
});
const server = spawn(binary, ["serve", "--root", root, "--addr", `127.0.0.1:${port}`], {
  stdio: "ignore",
  env: { ...process.env, EXECDASH_LOG: "warn" },
});
const url = `http://127.0.0.1:${port}/`;
for (;;) {
  try {
    const health = await (await fetch(`${url}health`)).json();
    if (health.status !== "starting") break;
  } catch {}
  await new Promise((r) => setTimeout(r, 50));
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const paint = [];
const live = [];
let fetched = {};
for (let run = 0; run < runs; run++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", NETWORK);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
  const bytes = {};
  cdp.on("Network.loadingFinished", ({ requestId, encodedDataLength }) => {
    bytes[requestId] = encodedDataLength;
  });
  const urls = {};
  cdp.on("Network.responseReceived", ({ requestId, response }) => {
    urls[requestId] = response.url;
  });
  // The moment the indicator turns Live, noted by the page itself (a poll would add its interval).
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector("#connection")?.textContent === "Live") {
        window.__liveAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(url, { waitUntil: "commit" });
  const liveAt = await page.waitForFunction(() => window.__liveAt, null, { polling: 50, timeout: 60_000 });
  live.push(await liveAt.jsonValue());
  paint.push(
    await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN),
  );
  fetched = {};
  for (const [id, length] of Object.entries(bytes)) {
    const kind = (urls[id] ?? "").split("?")[0].split(".").pop();
    if (kind === "wasm" || kind === "js") fetched[kind] = (fetched[kind] ?? 0) + length;
  }
  await context.close();
}
await browser.close();
server.kill();
rmSync(root, { recursive: true, force: true });
const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)];
  return `p50 ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms`;
};
console.log(
  `demo workspace, ${runs} fresh loads, Chromium ${CPU_SLOWDOWN}× CPU slowdown, 1.6 Mbps / 150 ms RTT; ` +
    `fetched: wasm ${fetched.wasm ?? 0} B, js ${fetched.js ?? 0} B (as sent, compressed)`,
);
console.log(`  launch → first contentful paint: ${stats(paint)}`);
console.log(`  launch → Live:                   ${stats(live)}`);
