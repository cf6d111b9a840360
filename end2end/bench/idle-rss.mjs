// node end2end/bench/idle-rss.mjs CORPUS [RUNS]: the server's resident size at rest on a real
// repository. CORPUS is a folder with the repository's `work/collaboration/` and `telemetry.db`
// (and `specifications/`, `.github/agents/` if it has them), e.g. the original's, taken with
// `git archive 141d273 work/collaboration specifications .github/agents telemetry.db | tar -x`.
//
// Each run copies CORPUS to a new temporary folder (the telemetry file as it was), and starts
// `execdash serve` there twice: a first start (the file migrated) and a restart on the same folder.
// Before each start the binary's pages are dropped from the page cache (`dd iflag=nocache`, as
// after a reboot or a fresh deploy: how the file came into the cache changes how much of it one
// page fault maps, by up to 2×; EXECDASH_RSS_WARM=1 keeps them). Each start reads
// /proc/PID/status 4 s after the start (VmRSS, RssAnon, RssFile, Threads), loads the page once in
// Chromium (a fresh context, until the header says Live: the WASM fetched, the page hydrated, its
// socket open), waits 1 s and reads it again with the page still open, then stops the server
// (SIGINT). Logs at `warn`, the board cache in the folder. Prints each run and min / median / max.
//
// EXECDASH_BIN names the binary (default: target/release/execdash, built with the embedded site);
// EXECDASH_RSS_ARGS adds `serve` flags (split on spaces), to measure what a feature costs by
// turning it off.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { binary, freePort } from "./support.mjs";

const corpus = process.argv[2] ?? process.env.EXECDASH_UPSTREAM;
const runs = Number(process.argv[3] ?? 7);
if (!corpus || !existsSync(join(corpus, "work/collaboration"))) {
  console.error("usage: node end2end/bench/idle-rss.mjs CORPUS [RUNS] (CORPUS/work/collaboration must exist)");
  process.exit(2);
}
const extra = (process.env.EXECDASH_RSS_ARGS ?? "").split(" ").filter(Boolean);
// Builds from before 2026-12 have no board cache (and no flag for it).
const cacheFlag = execFileSync(binary, ["serve", "--help"]).toString().includes("--board-cache");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** VmRSS, RssAnon, RssFile (MB) and Threads of a process. */
function status(pid) {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+)`, "m"))[1]);
  return {
    rss: field("VmRSS") / 1024,
    anon: field("RssAnon") / 1024,
    file: field("RssFile") / 1024,
    threads: field("Threads"),
  };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const show = (s) =>
  `${s.rss.toFixed(1)} MB (anon ${s.anon.toFixed(1)}, file ${s.file.toFixed(1)}, ${s.threads} threads)`;

/** One start on `root`: the status 4 s after it, then after one page load. */
async function start(root) {
  const port = await freePort();
  if (!process.env.EXECDASH_RSS_WARM) {
    execFileSync("dd", [`if=${binary}`, "iflag=nocache", "count=0", "status=none"]);
  }
  const server = spawn(
    binary,
    [
      "serve",
      "--root",
      root,
      "--addr",
      `127.0.0.1:${port}`,
      ...(cacheFlag ? ["--board-cache", join(root, ".cache")] : []),
      ...extra,
    ],
    { stdio: "ignore", env: { ...process.env, EXECDASH_LOG: "warn" } },
  );
  const exited = new Promise((r) => server.once("exit", r));
  await sleep(4_000);
  const idle = status(server.pid);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.locator("#connection").filter({ hasText: /^Live$/ }).waitFor({ timeout: 30_000 });
  await sleep(1_000);
  const loaded = status(server.pid);
  await context.close();
  server.kill("SIGINT");
  await exited;
  return { idle, loaded };
}

const rows = [];
for (let run = 0; run < runs; run++) {
  const root = mkdtempSync(join(tmpdir(), "execdash-rss-"));
  cpSync(corpus, root, { recursive: true });
  const first = await start(root);
  const again = await start(root);
  rmSync(root, { recursive: true, force: true });
  rows.push({ first, again });
  console.log(`run ${run + 1}: first start, 4 s after: ${show(first.idle)}; after one page load ${show(first.loaded)}`);
  console.log(`       restart, 4 s after:     ${show(again.idle)}; after one page load ${show(again.loaded)}`);
}
await browser.close();
const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `min ${sorted[0].toFixed(1)} / median ${median.toFixed(1)} / max ${sorted.at(-1).toFixed(1)} MB`;
};
console.log(`${runs} runs of ${binary} on ${corpus}${extra.length ? ` (serve ${extra.join(" ")})` : ""}`);
for (const [name, key] of [
  ["first start", "first"],
  ["restart", "again"],
]) {
  console.log(`  ${name}: VmRSS 4 s after start   ${summary(rows.map((r) => r[key].idle.rss))}`);
  console.log(`  ${name}:   of which anonymous    ${summary(rows.map((r) => r[key].idle.anon))}`);
  console.log(`  ${name}: after one page load     ${summary(rows.map((r) => r[key].loaded.rss))}`);
  console.log(`  ${name}:   of which anonymous    ${summary(rows.map((r) => r[key].loaded.anon))}`);
}
