// The live board: files created, moved, deleted and broken on disk show up without a reload, and a
// restarted server is followed.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.beforeEach(async () => {
  server = await DashboardServer.start();
});
test.afterEach(async () => {
  await server?.dispose();
});

const task = (id: string, title: string, status = "new") =>
  `id: ${id}\ntitle: "${title}"\nagent: python-pedro\nstatus: ${status}\npriority: HIGH\n`;

async function openLive(page: Page) {
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
}

function card(page: Page, column: string, title: string) {
  return page.locator(`[data-column="${column}"] .card`, { hasText: title });
}

test("a card follows its file from inbox to assigned to done, then leaves", async ({ page }) => {
  await openLive(page);
  // Marks the document: a reload would lose it.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  writeFileSync(server.collab("inbox/t1.yaml"), task("t1", "Wire the socket"));
  await expect(card(page, "inbox", "Wire the socket")).toBeVisible();
  // A card that changed live is highlighted for a moment.
  await expect(card(page, "inbox", "Wire the socket")).toHaveClass(/fresh/);
  await expect(card(page, "inbox", "Wire the socket").locator(".priority")).toHaveText("high");
  await expect(page.locator('[data-column="inbox"] .count')).toHaveText("1");

  mkdirSync(server.collab("assigned/python-pedro"), { recursive: true });
  renameSync(server.collab("inbox/t1.yaml"), server.collab("assigned/python-pedro/t1.yaml"));
  await expect(card(page, "assigned", "Wire the socket")).toBeVisible();
  await expect(card(page, "inbox", "Wire the socket")).toHaveCount(0);
  await expect(page.locator('[data-column="assigned"] .lane[data-lane="python-pedro"]')).toBeVisible();

  mkdirSync(server.collab("done/python-pedro"), { recursive: true });
  renameSync(server.collab("assigned/python-pedro/t1.yaml"), server.collab("done/python-pedro/t1.yaml"));
  await expect(card(page, "done", "Wire the socket")).toBeVisible();
  await expect(card(page, "assigned", "Wire the socket")).toHaveCount(0);

  rmSync(server.collab("done/python-pedro/t1.yaml"));
  await expect(page.locator(".card", { hasText: "Wire the socket" })).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
});

test("an edit updates the card and invalid YAML shows in Problems", async ({ page }) => {
  writeFileSync(server.collab("inbox/t2.yaml"), task("t2", "First title"));
  await openLive(page);
  await expect(card(page, "inbox", "First title")).toBeVisible();

  writeFileSync(server.collab("inbox/t2.yaml"), task("t2", "Second title", "blocked"));
  await expect(card(page, "inbox", "Second title")).toBeVisible();
  await expect(card(page, "inbox", "Second title").locator(".status")).toHaveText("blocked");

  writeFileSync(server.collab("inbox/broken.yaml"), "id: broken\nnotes:\n* Phase 1\n");
  const problem = page.locator('.problem[data-path="inbox/broken.yaml"]');
  await expect(problem).toBeVisible();
  await expect(problem.locator(".where")).toContainText("line 3");
  await expect(page.locator(".problems .count")).toHaveText("1");
  // The other task is still there.
  await expect(card(page, "inbox", "Second title")).toBeVisible();

  writeFileSync(server.collab("inbox/broken.yaml"), task("broken", "Fixed now"));
  await expect(card(page, "inbox", "Fixed now")).toBeVisible();
  await expect(problem).toHaveCount(0);
});

test("after a server restart the page reconnects and shows the disk as it is", async ({ page }) => {
  writeFileSync(server.collab("inbox/before.yaml"), task("before", "Before restart"));
  await openLive(page);
  await expect(card(page, "inbox", "Before restart")).toBeVisible();

  await server.stop();
  await expect(page.locator("#connection")).toHaveText(/Reconnecting|Offline/);
  // Changed while the server was down.
  rmSync(server.collab("inbox/before.yaml"));
  writeFileSync(server.collab("inbox/after.yaml"), task("after", "Written while down"));
  await server.launch();

  await expect(page.locator("#connection")).toHaveText("Live", { timeout: 15_000 });
  await expect(card(page, "inbox", "Written while down")).toBeVisible();
  await expect(page.locator(".card", { hasText: "Before restart" })).toHaveCount(0);
});

test("a long lane shows its newest 50 cards, fills up after a deletion and loads the rest on demand", async ({
  page,
}) => {
  mkdirSync(server.collab("assigned/bulk"), { recursive: true });
  const description = "Only the detail view fetches this description. ".repeat(20);
  for (let i = 0; i < 70; i++) {
    const n = String(i).padStart(3, "0");
    const minute = String(i % 60).padStart(2, "0");
    writeFileSync(
      server.collab(`assigned/bulk/task-${n}.yaml`),
      `id: task-${n}\ntitle: "Bulk ${n}"\nupdated_at: 2026-01-01T0${Math.floor(i / 60)}:${minute}:00Z\n` +
        `description: "${description}"\n`,
    );
  }
  // The page is rendered with the lane already full: wait until the server has read every file.
  await expect
    .poll(async () => (await (await fetch(`${server.url}/api/stats`)).json()).tasks.assigned)
    .toBe(70);
  await openLive(page);
  const lane = page.locator('[data-column="assigned"] .lane[data-lane="bulk"]');
  await expect(lane.locator(".count")).toHaveText("70");
  await expect(lane.locator(".card")).toHaveCount(50);
  await expect(lane.locator(".card").first()).toContainText("Bulk 069");
  await expect(lane.locator(".card").last()).toContainText("Bulk 020");
  // The page carries summaries, not documents.
  expect(await page.content()).not.toContain("Only the detail view fetches");

  // The newest card goes: the lane still shows 50, the next one fetched.
  rmSync(server.collab("assigned/bulk/task-069.yaml"));
  await expect(lane.locator(".count")).toHaveText("69");
  await expect(lane.locator(".card").last()).toContainText("Bulk 019");
  await expect(lane.locator(".card")).toHaveCount(50);

  await lane.locator(".show-more").click();
  await expect(lane.locator(".card")).toHaveCount(69);
  await expect(lane.locator(".card").last()).toContainText("Bulk 000");
  await expect(lane.locator(".show-more")).toHaveCount(0);

  // The detail panel fetches the whole task.
  await lane.locator(".card", { hasText: "Bulk 003" }).click();
  await expect(page.locator('.detail [data-field="description"]')).toContainText("Only the detail view fetches");
  await expect(page.locator(".detail")).toContainText("assigned/bulk/task-003.yaml");
});

test("a Done lane shows its newest 10 cards until asked for all, and collapses again", async ({ page }) => {
  mkdirSync(server.collab("done/bulk"), { recursive: true });
  for (let i = 0; i < 30; i++) {
    const n = String(i).padStart(3, "0");
    writeFileSync(
      server.collab(`done/bulk/task-${n}.yaml`),
      `id: done-${n}\ntitle: "Done ${n}"\nstatus: done\nupdated_at: 2026-01-01T00:${String(i).padStart(2, "0")}:00Z\n`,
    );
  }
  await expect
    .poll(async () => (await (await fetch(`${server.url}/api/stats`)).json()).tasks.done)
    .toBe(30);
  await openLive(page);
  const lane = page.locator('[data-column="done"] .lane[data-lane="bulk"]');
  await expect(lane.locator(".count")).toHaveText("30");
  await expect(lane.locator(".card")).toHaveCount(10);
  await expect(lane.locator(".card").first()).toContainText("Done 029");
  await lane.locator(".show-more").click();
  await expect(lane.locator(".card")).toHaveCount(30);
  await expect(lane.locator(".card").last()).toContainText("Done 000");
  await lane.locator(".show-fewer").click();
  await expect(lane.locator(".card")).toHaveCount(10);
  // A newly finished task still comes in on top.
  writeFileSync(server.collab("done/bulk/task-100.yaml"), `id: done-100\ntitle: "Done 100"\nstatus: done\n`);
  await expect(lane.locator(".card").first()).toContainText("Done 100");
  await expect(lane.locator(".card")).toHaveCount(10);
});

test("while the server reads a large board the page says how far it got, then shows the board", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await server.stop();
  // Enough files that the first reading takes seconds on this machine kind (real task files).
  const files = 30_000;
  for (let i = 0; i < files; i++) {
    const id = `bulk-${String(i).padStart(5, "0")}`;
    writeFileSync(
      server.collab("inbox", `${id}.yaml`),
      `${task(id, `Bulk task ${i}`)}description: |\n  Waiting in a large inbox.\n`,
    );
  }
  await server.launch({ untilListening: true });
  const health = await (await fetch(`${server.url}/health`)).json();
  expect(health.status, "still reading when the page is asked for (else: more files)").toBe("starting");

  // The page served while the server reads says how far it got (read from the HTML: in the
  // browser the banner may already be gone by the time it is looked at).
  const html = await (await fetch(server.url)).text();
  expect(html).toMatch(/Reading the board: \d+ of \d+ files/);
  await page.goto(server.url);
  const banner = page.getByRole("status").filter({ hasText: "Reading the board" });
  // Once read: the banner goes, the count is the whole inbox, its newest cards are shown.
  await expect(banner).toHaveCount(0, { timeout: 60_000 });
  await expect(page.locator('[data-column="inbox"] .column-header .count')).toHaveText(String(files));
  await expect(page.locator('[data-column="inbox"] .card')).toHaveCount(50);
  await expect(page.locator("#connection")).toHaveText("Live");
});

test("the socket opened while the WASM downloads is the one the page goes live on, and what it received meanwhile is applied", async ({
  page,
}) => {
  // The WASM is held back until the socket has carried a change: the page cannot apply it yet.
  let releaseWasm!: () => void;
  const wasmHeld = new Promise<void>((resolve) => (releaseWasm = resolve));
  await page.route(/\/pkg\/execdash\.wasm/, async (route) => {
    await wasmHeld;
    await route.continue();
  });
  const sockets: string[] = [];
  let carried!: () => void;
  const changeCarried = new Promise<void>((resolve) => (carried = resolve));
  page.on("websocket", (socket) => {
    sockets.push(socket.url());
    socket.on("framereceived", ({ payload }) => {
      if (String(payload).includes("Arrived before hydration")) carried();
    });
  });

  await page.goto(server.url);
  await expect.poll(() => sockets.length).toBe(1);
  // The page names the board it was rendered with.
  expect(sockets[0]).toMatch(/\/ws\?since=\d+&instance=[0-9a-f]{16}$/);
  writeFileSync(server.collab("inbox/early.yaml"), task("early", "Arrived before hydration"));
  await changeCarried;
  await expect(page.locator("#connection")).not.toHaveText("Live");
  releaseWasm();

  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(card(page, "inbox", "Arrived before hydration")).toBeVisible();
  // And live on it from then on: a later change arrives the same way, on the same socket.
  writeFileSync(server.collab("inbox/later.yaml"), task("later", "Arrived after hydration"));
  await expect(card(page, "inbox", "Arrived after hydration")).toBeVisible();
  expect(sockets).toHaveLength(1);
});
