// node end2end/bench/launch.mjs [RUNS]: a tab's launch → Live on the demo workspace, on a slow
// device over a slow link: Chromium with 4× CPU throttling (DevTools Emulation.setCPUThrottlingRate)
// and a 1.6 Mbps / 150 ms RTT network (Network.emulateNetworkConditions), RUNS fresh loads (a new
// browser context each: nothing cached). "Live" is the header's connection indicator (#connection)
// saying so: the WASM downloaded, compiled, hydrated and the socket open. Prints p50/p95/max of
// launch → first contentful paint and launch → Live, and the bytes of WASM and JS the page fetched.
// Then where the time to Live went, p50 of each step: the main WASM's last byte (Resource Timing),
// instantiated (boot.js's `execdash:instantiated` mark), hydrated (the client's
// `execdash:hydrated`), Live.
// Runs the binary EXECDASH_BIN (default: the release binary of scripts/package) with the site it
// embeds. Then opens a task at once (the click as the page turns Live) until its detail is whole.
// LAUNCH_PATH=/costs (or /tasks/ID, …) launches that address instead (no task opened then).
// CHROMIUM_JS_FLAGS=… passes V8 flags (`--no-wasm-lazy-compilation`: what V8's compiling each WASM
// function at its first call costs a launch, BENCHMARKS.md).
// RETURNING=1: a returning user's tab instead of a first visit: each run's browser context has
// visited the page once before (unthrottled, a visit of VISIT_MS, 5 s by default, so Chromium can
// keep the compiled WASM in its code cache as it does for a page a user stays on), then the tab is
// launched as above with what that visit left in the HTTP cache.
// PROXY=h2 (or h1) puts nginx in front, as docs/deploy/nginx.conf's TLS variant has it: TLS,
// HTTP/2 (or HTTP/1.1 only), execdash under /dashboard.
import { rmSync } from "node:fs";
import { chromium } from "playwright-core";
import { startNginx } from "./nginx.mjs";
import { demoWorkspace, freePort, liveAt, SLOW_DEVICE, slowDeviceWatchingLive, startServer, stats } from "./support.mjs";

const runs = Number(process.argv[2] ?? 10);
const returning = process.env.RETURNING === "1";
const visitMs = Number(process.env.VISIT_MS ?? 5000);

const root = demoWorkspace("execdash-launch-");
const proxy = process.env.PROXY;
if (proxy && proxy !== "h1" && proxy !== "h2") throw new Error(`PROXY=${proxy}: h1 or h2`);
const proxyPort = proxy && (await freePort());
const base = proxy ? "/dashboard" : "";
const { server, url: direct, port } = await startServer(root, {
  base,
  args: proxy ? ["--base-path", base, "--public-url", `https://127.0.0.1:${proxyPort}${base}`] : [],
});
const nginx = proxy && (await startNginx({ port: proxyPort, upstreamPort: port, http2: proxy === "h2" }));
const address = proxy ? `https://127.0.0.1:${proxyPort}${base}` : direct;
const url = `${address}${process.env.LAUNCH_PATH ?? "/"}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    ...(process.env.CHROMIUM_JS_FLAGS ? [`--js-flags=${process.env.CHROMIUM_JS_FLAGS}`] : []),
    ...(proxy ? [`--ignore-certificate-errors-spki-list=${nginx.spki}`] : []),
  ],
});
const paint = [];
const live = [];
const opened = [];
const steps = { downloaded: [], instantiated: [], hydrated: [] };
let fetched = {};
for (let run = 0; run < runs; run++) {
  const context = await browser.newContext();
  if (returning) {
    const visit = await context.newPage();
    await visit.goto(url);
    await visit.waitForFunction(() => document.querySelector("#connection")?.textContent === "Live");
    // The visit itself, as long as a user's: Chromium writes a WASM's compiled code to its cache
    // only once the page has run it for a while, and nothing on the page says when it has.
    await visit.waitForTimeout(visitMs);
    await visit.close();
  }
  const page = await context.newPage();
  const cdp = await slowDeviceWatchingLive(context, page);
  const bytes = {};
  cdp.on("Network.loadingFinished", ({ requestId, encodedDataLength }) => {
    bytes[requestId] = encodedDataLength;
  });
  const urls = {};
  cdp.on("Network.responseReceived", ({ requestId, response }) => {
    urls[requestId] = response.url;
  });
  await page.goto(url, { waitUntil: "commit" });
  live.push(await liveAt(page));
  const moments = await page.evaluate(() => ({
    downloaded: performance
      .getEntriesByType("resource")
      .find((entry) => new URL(entry.name).pathname.endsWith("/pkg/execdash.wasm"))?.responseEnd,
    instantiated: performance.getEntriesByName("execdash:instantiated")[0]?.startTime,
    hydrated: performance.getEntriesByName("execdash:hydrated")[0]?.startTime,
  }));
  for (const [step, at] of Object.entries(moments)) steps[step].push(at ?? NaN);
  // On the board: a task opened as soon as the page is live (the detail's code is loaded after
  // Live), the click until the detail shows the task whole (its cost line comes with the server's
  // answer).
  if (!process.env.LAUNCH_PATH) opened.push(
    await page.evaluate(
      () =>
        new Promise((done) => {
          const started = performance.now();
          document.querySelector('[data-column="inbox"] .card')?.click();
          const check = () =>
            document.querySelector(".detail .task-cost, .detail .empty, .detail .detail-error")
              ? done(performance.now() - started)
              : requestAnimationFrame(check);
          check();
        }),
    ),
  );
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
if (nginx) nginx.stop();
server.kill();
rmSync(root, { recursive: true, force: true });
console.log(
  `demo workspace, ${runs} ${returning ? "returning users' loads (HTTP cache kept from one earlier visit)" : "fresh loads"}, ${SLOW_DEVICE.label}` +
    `${process.env.CHROMIUM_JS_FLAGS ? `, V8 flags ${process.env.CHROMIUM_JS_FLAGS}` : ""}` +
    `${proxy ? `, behind nginx (TLS, ${proxy === "h2" ? "HTTP/2" : "HTTP/1.1"})` : ""}; ` +
    `fetched: wasm ${fetched.wasm ?? 0} B, js ${fetched.js ?? 0} B (as sent, compressed)`,
);
console.log(`  launch → first contentful paint: ${stats(paint)}`);
console.log(`  launch → Live:                   ${stats(live)}`);
const p50 = (values) => [...values].sort((a, b) => a - b)[Math.ceil(values.length / 2) - 1].toFixed(0);
console.log(
  `  p50 moments: WASM downloaded ${p50(steps.downloaded)} ms, instantiated ${p50(steps.instantiated)} ms, ` +
    `hydrated ${p50(steps.hydrated)} ms, Live ${p50(live)} ms`,
);
if (opened.length) console.log(`  a task opened at Live → whole:   ${stats(opened)}`);
