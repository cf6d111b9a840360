// node end2end/bench/sessions-load.mjs [SESSIONS] [EVENTS_PER_S] [SECONDS]: the board in Chromium
// while SESSIONS Claude Code sessions (one per task in progress, on 10 agents' lanes, realistic
// task files) send EVENTS_PER_S hook events in all to /hooks/claude, as Claude Code posts them,
// for SECONDS. Meanwhile the page scrolls the board up and down every frame. Prints the page's
// frame rate and frame-time percentiles (requestAnimationFrame), its long tasks (over 50 ms,
// PerformanceObserver "longtask"), how many cards show a session, and the server's CPU time
// (/proc/PID/stat) as a share of one core. Runs the binary EXECDASH_BIN (default: the release
// binary of scripts/package) against Debian's Chromium. Defaults: 200 sessions, 50 events/s, 20 s.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startServer } from "./support.mjs";

const sessions = Number(process.argv[2] ?? 200);
const perSecond = Number(process.argv[3] ?? 50);
const seconds = Number(process.argv[4] ?? 20);
const AGENTS = 10;

const paragraph =
  "The agent reads the module, lists what the change touches, writes the tests first and keeps the " +
  "public surface as it is; every step is logged with the files it read and the commands it ran, so " +
  "a reviewer can follow it without re-running it.";
const id = (i) => `T-${String(i).padStart(4, "0")}`;
const agent = (i) => `agent-${i % AGENTS}`;
const yaml = (i) =>
  `id: ${id(i)}\ntitle: "Realistic task ${i}"\nagent: ${agent(i)}\nstatus: in_progress\npriority: high\n` +
  `created_at: "2026-12-05T10:00:00Z"\ntags: [bench, sessions]\ndescription: |\n  ${paragraph}\n  ${paragraph}\n` +
  `acceptance_criteria:\n  - ${paragraph.slice(0, 90)}\n  - ${paragraph.slice(90, 180)}\nnotes: |\n  ${paragraph}\n`;

const root = mkdtempSync(join(tmpdir(), "execdash-sessions-load-"));
mkdirSync(join(root, "work/collaboration/inbox"), { recursive: true });
for (let i = 0; i < sessions; i++) {
  const folder = join(root, "work/collaboration/assigned", agent(i));
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `${id(i)}.yaml`), yaml(i));
}
const { server, url: address } = await startServer(root);
const url = `${address}`;

const session = (i) => `5f1c2a9e-0b7d-4c35-9a61-${String(i).padStart(12, "0")}`;
const hook = (i, event, extra) =>
  fetch(`${url}/hooks/claude?agent=${agent(i)}&task=${id(i)}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ session_id: session(i), cwd: root, hook_event_name: event, ...extra }),
  }).then((r) => {
    if (!r.ok) throw new Error(`hook ${event}: HTTP ${r.status}`);
  });
for (let i = 0; i < sessions; i++) await hook(i, "UserPromptSubmit", { prompt: "go" });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
await page.goto(url);
await page.waitForFunction(() => document.querySelector("#connection")?.textContent === "Live");

const cpuTicks = () => {
  const fields = readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime, clock ticks (1/100 s)
};

// The page: scroll the board (the window: its lanes do not scroll on their own) every frame,
// note frame times and long tasks until told to stop.
await page.evaluate(() => {
  const state = { frames: [], longTasks: [], running: true };
  window.__load = state;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) state.longTasks.push(entry.duration);
  }).observe({ type: "longtask" });
  let direction = 1;
  let last = performance.now();
  const frame = (now) => {
    if (!state.running) return;
    state.frames.push(now - last);
    last = now;
    const scroller = document.scrollingElement;
    if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 2) direction = -1;
    if (scroller.scrollTop <= 0) direction = 1;
    scroller.scrollBy(0, 12 * direction);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
});

const events = [
  ["PreToolUse", { tool_name: "Bash", tool_input: { command: "cargo test" } }],
  ["PostToolUse", { tool_name: "Bash" }],
  ["Notification", { message: "Claude needs your permission to use Bash" }],
  ["UserPromptSubmit", { prompt: "yes" }],
];
const cpuBefore = cpuTicks();
const started = performance.now();
let sent = 0;
let failed = 0;
const pending = [];
while (performance.now() - started < seconds * 1000) {
  const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
  while (sent < due) {
    const i = sent % sessions;
    const [event, extra] = events[Math.floor(sent / sessions) % events.length];
    pending.push(hook(i, event, extra).catch(() => failed++));
    sent++;
  }
  await new Promise((r) => setTimeout(r, 5));
}
await Promise.all(pending);
const elapsed = (performance.now() - started) / 1000;
const cpu = (cpuTicks() - cpuBefore) / 100 / elapsed;
const result = await page.evaluate(() => {
  window.__load.running = false;
  return {
    frames: window.__load.frames,
    longTasks: window.__load.longTasks,
    cards: document.querySelectorAll(".card .card-session").length,
  };
});
await browser.close();
server.kill();
rmSync(root, { recursive: true, force: true });

const sorted = [...result.frames].sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const longest = result.longTasks.length ? Math.max(...result.longTasks).toFixed(0) : "0";
console.log(
  `${sessions} sessions, ${(sent / elapsed).toFixed(1)} hook events/s for ${elapsed.toFixed(1)} s ` +
    `(${failed} failed), cards showing a session: ${result.cards}`,
);
console.log(
  `  page: ${(result.frames.length / elapsed).toFixed(1)} fps scrolling; frame time p50 ${pct(50).toFixed(1)} ms, ` +
    `p95 ${pct(95).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${sorted.at(-1).toFixed(1)} ms`,
);
console.log(`  long tasks (> 50 ms): ${result.longTasks.length}, longest ${longest} ms`);
console.log(`  server CPU: ${(cpu * 100).toFixed(1)} % of one core`);
