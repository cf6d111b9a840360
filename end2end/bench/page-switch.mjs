// node end2end/bench/page-switch.mjs [ROUNDS]: how long a page change takes in Chromium on the demo
// workspace (and its month of telemetry): a click on a page link of the header (Board, Initiatives,
// Agents, History, Costs)
// until the new page is on screen (its landmark element present and painted, measured in the page
// with performance.now() and two animation frames), ROUNDS times each way. Prints p50/p95/max per
// change. Runs the release binary (scripts/package) against Debian's Chromium.
import { chromium } from "playwright-core";
import { demoWorkspace, startServer } from "./support.mjs";

const rounds = Number(process.argv[2] ?? 30);

const root = demoWorkspace("execdash-switch-");
const { server, url: address } = await startServer(root);
const url = `${address}/`;
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
