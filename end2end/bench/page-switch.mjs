// node end2end/bench/page-switch.mjs [ROUNDS]: how long a page change takes in Chromium on the demo
// workspace (and its month of telemetry): a click on a page link of the header (Board, Initiatives,
// Agents, History, Costs)
// until the new page is on screen (its landmark element present and painted, measured in the page
// with performance.now() and two animation frames), ROUNDS times each way. Prints p50/p95/max per
// change. Runs the release binary (scripts/package) against Debian's Chromium.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const rounds = Number(process.argv[2] ?? 30);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const binary = process.env.EXECDASH_BIN ?? join(repo, "target/release/execdash");

const root = mkdtempSync(join(tmpdir(), "execdash-switch-"));
cpSync(join(repo, "demo"), root, { recursive: true });
execFileSync(binary, ["seed-demo", "--root", root]);
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
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
await page.goto(url);
await page.waitForFunction(() => document.querySelector("#connection")?.textContent === "Live");

// Click the link, then wait (in the page) for the landmark and two frames: the time to painted.
const change = (link, landmark) =>
  page.evaluate(
    ([link, landmark]) =>
      new Promise((done) => {
        const started = performance.now();
        const anchor = [...document.querySelectorAll(".pages a")].find((a) => a.textContent === link);
        anchor.click();
        const check = () => {
          if (document.querySelector(landmark)) {
            requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - started)));
          } else {
            requestAnimationFrame(check);
          }
        };
        check();
      }),
    [link, landmark],
  );
const steps = [
  ["Initiatives", ".initiative", "board → initiatives"],
  ["Agents", ".agent-card", "initiatives → agents"],
  ["History", '[data-chart="completed"]', "agents → history"],
  ["Costs", ".initiative-costs table", "history → costs"],
  ["Board", ".board .card", "costs → board"],
];
const samples = Object.fromEntries(steps.map(([, , name]) => [name, []]));
for (let round = 0; round < rounds + 2; round++) {
  for (const [link, landmark, name] of steps) {
    const ms = await change(link, landmark);
    if (round >= 2) samples[name].push(ms); // the first two rounds warm up
  }
}
const pct = (values, p) => values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))];
for (const [name, values] of Object.entries(samples)) {
  console.log(
    `${name.padEnd(22)} n=${values.length}  p50=${pct(values, 50).toFixed(1)} ms  p95=${pct(values, 95).toFixed(1)} ms  max=${Math.max(...values).toFixed(1)} ms`,
  );
}
await browser.close();
server.kill();
