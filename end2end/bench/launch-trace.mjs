// node end2end/bench/launch-trace.mjs [RUNS]: where the main thread's time goes between the WASM
// being instantiated and the page going Live, on launch.mjs's slow device and link (fresh loads of
// the demo's board). Records a Chromium trace of each launch and counts, on the page's main
// thread, the WASM functions V8 compiled at their first call (`wasm.CompileLazy`: V8 compiles a
// WASM function only when it is first called, on the thread that calls it) and the time that took.
// Tracing slows the page a little: compare the shares, not the absolute times, with launch.mjs.
// Prints p50 of: instantiated → hydrated, hydrated → Live, functions compiled before Live and the
// main thread's time compiling them.
import { rmSync } from "node:fs";
import { chromium } from "playwright-core";
import { demoWorkspace, liveAt, SLOW_DEVICE, slowDeviceWatchingLive, startServer } from "./support.mjs";

const runs = Number(process.argv[2] ?? 5);
const CATEGORIES = ["devtools.timeline", "v8.wasm", "blink.user_timing"];

const root = demoWorkspace("execdash-launch-trace-");
const { server, url } = await startServer(root);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const rows = [];
for (let run = 0; run < runs; run++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await slowDeviceWatchingLive(context, page);
  await browser.startTracing(page, { categories: CATEGORIES });
  await page.goto(`${url}/`, { waitUntil: "commit" });
  await liveAt(page);
  const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
  await context.close();
  // The marks, as the trace has them (microseconds, one clock), on the page's main thread.
  const mark = (name) => events.find((event) => event.name === name && event.cat.includes("user_timing"));
  const [instantiated, hydrated, live] = ["execdash:instantiated", "execdash:hydrated", "bench:live"].map(mark);
  if (!instantiated || !hydrated || !live) throw new Error("a launch's marks are missing from its trace");
  const compiled = events.filter(
    (event) =>
      event.name === "wasm.CompileLazy" &&
      event.ph === "X" &&
      event.pid === instantiated.pid &&
      event.tid === instantiated.tid &&
      event.ts >= instantiated.ts &&
      event.ts <= live.ts,
  );
  rows.push({
    hydrating: (hydrated.ts - instantiated.ts) / 1000,
    goingLive: (live.ts - hydrated.ts) / 1000,
    functions: compiled.length,
    compiling: compiled.reduce((sum, event) => sum + event.dur, 0) / 1000,
  });
}
await browser.close();
server.kill();
rmSync(root, { recursive: true, force: true });
const p50 = (key) => {
  const sorted = rows.map((row) => row[key]).sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1];
};
console.log(`demo workspace, ${runs} fresh loads traced, ${SLOW_DEVICE.label}`);
console.log(
  `  p50: instantiated → hydrated ${p50("hydrating").toFixed(0)} ms, hydrated → Live ${p50("goingLive").toFixed(0)} ms`,
);
console.log(
  `  p50: ${p50("functions")} WASM functions compiled at their first call before Live, ` +
    `${p50("compiling").toFixed(0)} ms of the main thread`,
);
