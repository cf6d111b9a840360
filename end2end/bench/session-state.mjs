// node end2end/bench/session-state.mjs [ROUNDS]: how long a Claude Code hook event takes to show as
// its session's state on the task's card in Chromium: a `Notification` hook (waiting for input),
// then a `PostToolUse` (working), posted to /hooks/claude as Claude Code posts them, ROUNDS times
// each; measured in the page (performance.now() when the POST is sent, until the card's
// `data-state` changed and two animation frames passed). Prints p50/p95/p99/max. Runs the release
// binary (scripts/package) against Debian's Chromium.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startServer } from "./support.mjs";

const rounds = Number(process.argv[2] ?? 100);

const root = mkdtempSync(join(tmpdir(), "execdash-sessions-"));
for (const folder of ["inbox", "assigned/backend-dev", "done"]) {
  mkdirSync(join(root, "work/collaboration", folder), { recursive: true });
}
writeFileSync(
  join(root, "work/collaboration/assigned/backend-dev/T-42.yaml"),
  "id: T-42\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
);
const { server, url: address } = await startServer(root);
const url = `${address}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
await page.goto(url);
await page.waitForFunction(() => document.querySelector("#connection")?.textContent === "Live");

const session = "5f1c2a9e-0b7d-4c35-9a61-000000000042";
// Posts the hook from the page (same origin, no Origin check to pass) and waits for the state.
const post = (event, extra, state) =>
  page.evaluate(
    async ([event, extra, state, session]) => {
      const started = performance.now();
      const body = { session_id: session, cwd: "/work/repo", hook_event_name: event, ...extra };
      const sent = fetch("/hooks/claude?agent=backend-dev&task=T-42", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      await new Promise((done) => {
        const check = () => {
          const line = document.querySelector('.card[data-id="T-42"] .card-session');
          if (line?.getAttribute("data-state") === state) {
            requestAnimationFrame(() => requestAnimationFrame(done));
          } else {
            requestAnimationFrame(check);
          }
        };
        check();
      });
      await sent;
      return performance.now() - started;
    },
    [event, extra, state, session],
  );

await post("UserPromptSubmit", { prompt: "go" }, "working");
const samples = { waiting: [], working: [] };
for (let round = 0; round < rounds; round++) {
  samples.waiting.push(await post("Notification", { message: "Claude needs your permission" }, "waiting"));
  samples.working.push(await post("PostToolUse", { tool_name: "Write" }, "working"));
}
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
for (const [state, list] of Object.entries(samples)) {
  const sorted = [...list].sort((a, b) => a - b);
  console.log(
    `hook → card "${state}": n=${sorted.length} p50=${pct(sorted, 50).toFixed(1)} ms p95=${pct(sorted, 95).toFixed(1)} ms p99=${pct(sorted, 99).toFixed(1)} ms max=${sorted.at(-1).toFixed(1)} ms`,
  );
}
await browser.close();
server.kill();
