// node end2end/bench/first-paint.mjs [TASKS] [RUNS]: the page's first paint in Chromium with a board
// of TASKS realistic task files (~2.8 KB each, in 4 lanes), RUNS fresh page loads (a new browser
// context each: nothing cached). Prints p50/p95/max of first-contentful-paint, DOMContentLoaded and
// the page's size. Runs the release binary (scripts/package) against Debian's Chromium.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startServer, stats } from "./support.mjs";

const tasks = Number(process.argv[2] ?? 10_000);
const runs = Number(process.argv[3] ?? 20);

const paragraph =
  "The agent reads the module, lists what the change touches, writes the tests first and keeps the " +
  "public surface as it is; every step is logged with the files it read and the commands it ran, so " +
  "a reviewer can follow it without re-running it.";
const criteria = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `  - criterion ${n}: ${paragraph.slice(0, 90)}\n`).join("");
const yaml = (i) =>
  `id: task-${String(i).padStart(5, "0")}\ntitle: "Realistic task ${i}"\nagent: agent-a\nstatus: in_progress\n` +
  `priority: high\ncreated_at: "2026-11-23T10:00:00Z"\ntags: [bench, realistic]\n` +
  `description: |\n  seed\n  ${paragraph}\n  ${paragraph}\n  ${paragraph}\nacceptance_criteria:\n${criteria}` +
  `notes: |\n  ${paragraph}\n  ${paragraph}\n`;

const root = mkdtempSync(join(tmpdir(), "execdash-paint-"));
const folders = ["inbox", "assigned/agent-a", "assigned/agent-b", "done/agent-a"];
for (const folder of folders) mkdirSync(join(root, "work/collaboration", folder), { recursive: true });
for (let i = 0; i < tasks; i++) {
  writeFileSync(join(root, "work/collaboration", folders[i % 4], `task-${String(i).padStart(5, "0")}.yaml`), yaml(i));
}
const { server, url: address } = await startServer(root);
const url = `${address}/`;
const pageBytes = (await (await fetch(url)).text()).length;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
const paint = [];
const loaded = [];
for (let run = 0; run < runs; run++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "load" });
  const [fcp, dcl] = await page.evaluate(async () => [
    await new Promise((done) => {
      new PerformanceObserver((list) => {
        const entry = list.getEntries().find((e) => e.name === "first-contentful-paint");
        if (entry) done(entry.startTime);
      }).observe({ type: "paint", buffered: true });
      setTimeout(() => done(NaN), 5_000);
    }),
    performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
  ]);
  paint.push(fcp);
  loaded.push(dcl);
  await context.close();
}
await browser.close();
server.kill();
rmSync(root, { recursive: true, force: true });
console.log(`${tasks} tasks, page ${(pageBytes / 1024).toFixed(0)} KB, ${runs} fresh loads in Chromium`);
console.log(`  first contentful paint: ${stats(paint)}`);
console.log(`  DOMContentLoaded:       ${stats(loaded)}`);
