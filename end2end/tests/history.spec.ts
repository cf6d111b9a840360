// The history page: completions per day (or week) by agent, cycle times, open tasks over time,
// server-rendered for the range in the address, the range switched without a reload, and live.
import { expect, test } from "@playwright/test";
import { mkdirSync, writeFileSync } from "node:fs";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.afterAll(async () => {
  await server?.dispose();
});

/** An ISO instant `days` days and `hours` hours before now. */
const ago = (days: number, hours = 0) => new Date(Date.now() - (days * 24 + hours) * 3_600_000).toISOString();

test("history: completions, cycle times and open tasks, by range, live", async ({ page, browser }) => {
  server = await DashboardServer.start();
  const write = (path: string, text: string) => {
    mkdirSync(server.collab(path.split("/").slice(0, -1).join("/")), { recursive: true });
    writeFileSync(server.collab(path), text);
  };
  write("done/dev/a.yaml", `id: a\ntitle: A\nstatus: done\ncreated_at: "${ago(3)}"\ncompleted_at: "${ago(2)}"\n`);
  write("done/dev/b.yaml", `id: b\ntitle: B\nstatus: done\ncreated_at: "${ago(5)}"\ncompleted_at: "${ago(1)}"\n`);
  write("done/ops/c.yaml", `id: c\ntitle: C\nstatus: done\ncreated_at: "${ago(60)}"\ncompleted_at: "${ago(50)}"\n`);
  write("done/ops/d.yaml", "id: d\ntitle: D without a date\nstatus: done\n");
  write("assigned/dev/e.yaml", `id: e\ntitle: E\nstatus: in_progress\ncreated_at: "${ago(4)}"\n`);
  await server.restart();

  // Without JavaScript: the server draws the range in the address.
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const still = await noScript.newPage();
  await still.goto(`${server.url}/history`);
  await expect(still.locator('[data-chart="completed"] figcaption')).toHaveText(
    "Tasks completed per day, by agent (2 in all)",
  );
  await expect(still.locator('[data-chart="completed"] svg')).toBeVisible();
  await expect(still.locator('.cycle-table tr[data-agent="dev"] td').first()).toHaveText("2");
  await expect(still.locator('[data-chart="wip"] svg')).toBeVisible();
  await expect(still.locator(".hint")).toHaveText("1 done task without a readable completed_at is left out.");
  await noScript.close();

  await page.goto(`${server.url}/history`);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator('.pages a[aria-current="page"]')).toHaveText("History");
  // A longer range, by week, without a reload; the address says which.
  await page.locator('.ranges a[data-range="90d"]').click();
  await expect(page).toHaveURL(`${server.url}/history?range=90d`);
  await expect(page.locator('[data-chart="completed"] figcaption')).toHaveText(
    "Tasks completed per week, by agent (3 in all)",
  );
  await expect(page.locator('.ranges a[data-range="90d"]')).toHaveClass(/active/);
  await expect(page.locator('.cycle-table tr[data-agent="ops"] td').first()).toHaveText("1");

  // Live: a task completed now counts at once.
  write("done/ops/f.yaml", `id: f\ntitle: F\nstatus: done\ncreated_at: "${ago(0, 6)}"\ncompleted_at: "${ago(0, 1)}"\n`);
  await expect(page.locator('[data-chart="completed"] figcaption')).toHaveText(
    "Tasks completed per week, by agent (4 in all)",
  );
  await page.goBack();
  await expect(page).toHaveURL(`${server.url}/history`);
  await expect(page.locator('[data-chart="completed"] figcaption')).toHaveText(
    "Tasks completed per day, by agent (3 in all)",
  );
});

test("a page shown again shows what it last had at once, and asks again when the board has moved since", async ({
  page,
}) => {
  const own = await DashboardServer.start();
  try {
    const done = (id: string, days: number) =>
      writeFileSync(
        own.collab(`done/dev/${id}.yaml`),
        `id: ${id}\ntitle: ${id}\nstatus: done\ncreated_at: "${ago(days + 1)}"\ncompleted_at: "${ago(days)}"\n`,
      );
    mkdirSync(own.collab("done/dev"), { recursive: true });
    done("a", 2);
    await own.restart();
    const asked: string[] = [];
    page.on("request", (request) => {
      const path = new URL(request.url()).pathname;
      if (path === "/api/history" || path === "/api/charts/history") asked.push(path);
    });
    await page.goto(own.url);
    await expect(page.locator("#connection")).toHaveText("Live");
    const pages = page.getByRole("navigation", { name: "Pages" });
    const devRow = page.locator('.cycle-table tr[data-agent="dev"] td').first();
    const completed = page.locator('[data-chart="completed"] figcaption');
    const board = async (cards: number) => {
      await pages.getByRole("link", { name: "Board" }).click();
      await expect(page.locator('[data-column="done"] .card')).toHaveCount(cards);
    };
    await pages.getByRole("link", { name: "History" }).click();
    await expect(devRow).toHaveText("1");
    await expect(completed).toHaveText("Tasks completed per day, by agent (1 in all)");
    expect(asked.length).toBe(2);

    // Shown again with nothing moved: what it had, and nothing asked.
    await board(1);
    await pages.getByRole("link", { name: "History" }).click();
    await expect(devRow).toHaveText("1");
    await board(1);
    expect(asked.length).toBe(2);

    // A task done meanwhile, and the server's answers held back until released: the page shows at
    // once what it had, and asks for both fresh answers (the data's and the charts').
    done("b", 1);
    await expect(page.locator('[data-column="done"] .card')).toHaveCount(2);
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/api\/(charts\/)?history\?/, async (route) => {
      await released;
      await route.continue();
    });
    await pages.getByRole("link", { name: "History" }).click();
    await expect(devRow).toHaveText("1");
    await expect(completed).toHaveText("Tasks completed per day, by agent (1 in all)");
    await expect.poll(() => asked.slice(2).sort()).toEqual(["/api/charts/history", "/api/history"]);
    await expect(page.locator(".loading")).toHaveCount(0);
    await expect(devRow).toHaveText("1");
    // Released: the fresh answers replace what was held.
    release();
    await expect(devRow).toHaveText("2");
    await expect(completed).toHaveText("Tasks completed per day, by agent (2 in all)");
  } finally {
    await own.dispose();
  }
});
