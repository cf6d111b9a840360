// What the benchmarks share: the binary they run, an execdash server on a free loopback port
// (started on a workspace and waited for until it has read it), and the demo workspace seeded.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** EXECDASH_BIN, else the release binary of scripts/package. */
export const binary = process.env.EXECDASH_BIN ?? join(repo, "target/release/execdash");

/** A copy of the demo workspace with its month of telemetry, in a new temporary folder. */
export function demoWorkspace(prefix) {
  const root = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(repo, "demo"), root, { recursive: true });
  execFileSync(binary, ["seed-demo", "--root", root], { stdio: "ignore" });
  return root;
}

/** A loopback port nothing listens on now (for a server the benchmark starts itself). */
export function freePort() {
  return new Promise((done) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

/**
 * `execdash serve` on `root` (with `args`; `base`: its --base-path, where /health is); resolves
 * once `/health` no longer says "starting", to the process, its address
 * (`http://127.0.0.1:PORT`, no trailing slash) and its port.
 */
export async function startServer(root, { args = [], base = "" } = {}) {
  const port = await freePort();
  const server = spawn(binary, ["serve", "--root", root, "--addr", `127.0.0.1:${port}`, ...args], {
    stdio: "ignore",
    env: { ...process.env, EXECDASH_LOG: "warn" },
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      const health = await (await fetch(`${url}${base}/health`)).json();
      if (health.status !== "starting") break;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  return { server, url, port };
}

/** `p50 … ms, p95 … ms, max … ms` of `values` (milliseconds). */
export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)];
  return `p50 ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms`;
}

/** The slow device of issue 28's launch figure: DevTools' CPU slowdown and network emulation. */
export const SLOW_DEVICE = {
  cpuSlowdown: 4,
  network: {
    offline: false,
    latency: 150, // ms, round trip
    downloadThroughput: (1.6e6 / 8) | 0, // bytes/s
    uploadThroughput: (750e3 / 8) | 0,
  },
  label: "Chromium 4× CPU slowdown, 1.6 Mbps / 150 ms RTT",
};

/**
 * Emulates SLOW_DEVICE on `page` (of `context`), and has the page note, as a User Timing mark
 * (`bench:live`), the moment its header's indicator says "Live" (noted by the page itself: a poll
 * would add its interval). Resolves to the page's CDP session, its network domain enabled.
 */
export async function slowDeviceWatchingLive(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", SLOW_DEVICE.network);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: SLOW_DEVICE.cpuSlowdown });
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector("#connection")?.textContent === "Live") {
        performance.mark("bench:live");
        observer.disconnect();
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  return cdp;
}

/** Waits until `page` has noted `bench:live` (see slowDeviceWatchingLive); resolves to its time. */
export async function liveAt(page) {
  const moment = await page.waitForFunction(() => performance.getEntriesByName("bench:live")[0]?.startTime, null, {
    polling: 50,
    timeout: 60_000,
  });
  return moment.jsonValue();
}
