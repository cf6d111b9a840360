// node end2end/bench/link-order.mjs BINARY OUT: the functions of BINARY that an idle server runs, as
// a symbol ordering file for the linker (lld's --symbol-ordering-file), so that scripts/package can
// link them next to each other.
//
// Why: the kernel maps a program's code in blocks (a large folio, or 64 KiB around the page that
// faulted), so the ~4 MB of code that starting, idling and serving the board page run, scattered
// over 22.5 MB of machine code, kept 13 MB of it resident; gathered at the front, ~5 MB
// (BENCHMARKS.md, "Memory").
//
// How: BINARY (a release build with the site embedded) runs under valgrind's callgrind on a copy of
// the demo workspace with its month of telemetry: it starts, reads the board and idles 10 s, then
// serves the board page once in Chromium until the page says Live, idles 15 s more (the periodic
// work: sessions, costs, alerts) and stops on SIGINT. Every function it ran, named by the symbol
// table, goes to OUT: first those that starting and idling ran, then those the page added, each
// group in address order (their present order). The names carry the build's hashes: the file fits
// this build only, which is why scripts/package makes it anew each time, from the binary it then
// links again.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { demoWorkspace, freePort } from "./support.mjs";

const [binaryArg, out] = process.argv.slice(2);
if (!binaryArg || !out) {
  console.error("usage: node end2end/bench/link-order.mjs BINARY OUT");
  process.exit(2);
}
const binary = realpathSync(resolve(binaryArg));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const port = await freePort();

const root = demoWorkspace("execdash-order-");
const scratch = mkdtempSync(join(tmpdir(), "execdash-callgrind-"));
const profile = join(scratch, "callgrind.out");
const server = spawn(
  "valgrind",
  [
    "--tool=callgrind",
    "--dump-instr=yes",
    "--compress-strings=no",
    "--compress-pos=no",
    `--callgrind-out-file=${profile}`,
    binary,
    "serve",
    "--root",
    root,
    "--addr",
    `127.0.0.1:${port}`,
    "--board-cache",
    join(root, ".cache"),
  ],
  { stdio: "ignore", env: { ...process.env, EXECDASH_LOG: "warn" } },
);
const exited = new Promise((r) => server.once("exit", r));
const url = `http://127.0.0.1:${port}`;
const started = Date.now();
for (;;) {
  if (Date.now() - started > 300_000) throw new Error("the server under valgrind did not start in 5 min");
  try {
    const health = await (await fetch(`${url}/health`)).json();
    if (health.status !== "starting") break;
  } catch {}
  await sleep(200);
}
// What starting and idling ran, apart from what the page adds (`callgrind_control -d` writes the
// counts so far to a file of their own and starts again from zero).
await sleep(10_000);
execFileSync("callgrind_control", ["-d", String(server.pid)], { stdio: "ignore" });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const page = await browser.newPage();
await page.goto(`${url}/`, { timeout: 120_000 });
await page.locator("#connection").filter({ hasText: /^Live$/ }).waitFor({ timeout: 120_000 });
await sleep(15_000);
await browser.close();
server.kill("SIGINT");
await exited;

// Addresses of the instructions run in BINARY (`ob=` names the object, `0x…` lines its addresses),
// for each part: the dump (`callgrind.out.1`: start and idle), then the rest (the page, idling
// again, stopping).
function addressesRun(file) {
  const ran = new Set();
  let inBinary = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("ob=")) inBinary = line.slice(3).trim() === binary;
    else if (inBinary && line.startsWith("0x")) ran.add(Number.parseInt(line.slice(2, line.indexOf(" ")), 16));
  }
  return [...ran].sort((a, b) => a - b);
}
const parts = readdirSync(scratch).sort((a, b) => (a.endsWith(".1") ? -1 : b.endsWith(".1") ? 1 : 0));
if (parts.length < 2) throw new Error(`callgrind wrote ${parts.join(", ")}: expected two parts`);
// Functions (t/T/w/W with a size) by address, and which of them hold an address that ran.
const functions = execFileSync("nm", ["-S", "--defined-only", binary], { maxBuffer: 1 << 28 })
  .toString()
  .split("\n")
  .map((line) => line.split(" "))
  .filter((p) => p.length >= 4 && "tTwW".includes(p[2]))
  .map(([start, size, , name]) => ({ start: Number.parseInt(start, 16), size: Number.parseInt(size, 16), name }))
  .sort((a, b) => a.start - b.start);
/** The functions holding `addresses` (sorted), in address order. */
function functionsRun(addresses) {
  const hot = [];
  let f = 0;
  for (const address of addresses) {
    while (f < functions.length && functions[f].start + functions[f].size <= address) f++;
    if (f < functions.length && functions[f].start <= address && hot.at(-1) !== functions[f]) hot.push(functions[f]);
  }
  return hot;
}
// Idle's functions first (an idle server keeps only them), then what the page adds.
const order = new Set();
const sizes = [];
for (const part of parts) {
  let bytes = 0;
  for (const fn of functionsRun(addressesRun(join(scratch, part)))) {
    if (!order.has(fn)) {
      order.add(fn);
      bytes += fn.size;
    }
  }
  sizes.push(bytes);
}
writeFileSync(out, `${[...order].map((fn) => fn.name).join("\n")}\n`);
rmSync(root, { recursive: true, force: true });
rmSync(scratch, { recursive: true, force: true });
const mb = (bytes) => (bytes / 1048576).toFixed(2);
console.log(
  `${out}: ${order.size} functions; ${mb(sizes[0])} MB of code to start and idle, ${mb(sizes.slice(1).reduce((a, b) => a + b, 0))} MB more for the page`,
);
