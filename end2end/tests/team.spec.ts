// A team's nodes on one PostgreSQL (a throwaway cluster on loopback): the viewer's page switches
// to another node's repository, follows its board live, marks it stale when its node dies and
// shows its disk again when it comes back.
import { expect, test } from "@playwright/test";
import { rmSync, writeFileSync } from "node:fs";
import { Postgres } from "./support/postgres";
import { DashboardServer } from "./support/server";

let cluster: Postgres;
let alpha: DashboardServer;
let viewer: DashboardServer;
test.beforeEach(async () => {
  cluster = await Postgres.start();
  const url = cluster.database("team");
  const flags = (repo: string) => ["--db", url, "--repo-name", repo, "--stale-after", "1.5"];
  alpha = await DashboardServer.start({ args: flags("alpha") });
  viewer = await DashboardServer.start({ args: flags("viewer") });
});
test.afterEach(async () => {
  await alpha?.kill();
  await viewer?.dispose();
  cluster?.stop();
});

const task = (id: string, title: string) => `id: ${id}\ntitle: "${title}"\nstatus: new\npriority: high\n`;

test("another node's board is followed live, goes stale when its node dies and comes back equal to its disk", async ({ page }) => {
  writeFileSync(alpha.collab("inbox/a1.yaml"), task("a1", "Published by alpha"));
  await page.goto(viewer.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator(".repo-current")).toHaveText("viewer");
  await page.locator(".repo-link", { hasText: "alpha" }).click();
  await expect(page).toHaveURL(/\?repo=alpha$/);
  await expect(page.locator(".repo-current")).toHaveText("alpha");
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator('[data-column="inbox"] .card', { hasText: "Published by alpha" })).toBeVisible();

  // A file written under alpha's root shows on the viewer's page within a second.
  const written = Date.now();
  writeFileSync(alpha.collab("inbox/a2.yaml"), task("a2", "Written on alpha"));
  await expect(page.locator('[data-column="inbox"] .card', { hasText: "Written on alpha" })).toBeVisible({ timeout: 1_000 });
  console.log(`file under alpha → card on the viewer's page: ${Date.now() - written} ms`);

  // alpha dies: the page says its repository is stale; its disk changes meanwhile.
  await alpha.kill();
  await expect(page.locator(".repo-current")).toHaveClass(/stale/, { timeout: 10_000 });
  rmSync(alpha.collab("inbox/a1.yaml"));
  writeFileSync(alpha.collab("inbox/a3.yaml"), task("a3", "Written while alpha was down"));
  await alpha.launch();
  await expect(page.locator(".repo-current")).not.toHaveClass(/stale/, { timeout: 10_000 });
  const inbox = page.locator('[data-column="inbox"] .card');
  await expect(inbox.filter({ hasText: "Written while alpha was down" })).toBeVisible();
  await expect(inbox.filter({ hasText: "Published by alpha" })).toHaveCount(0);
  await expect(inbox).toHaveCount(2);
});
