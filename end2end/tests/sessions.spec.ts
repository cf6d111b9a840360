// Agents, live: the real Claude Code, offline against the loopback model stand-in, with the hook
// settings `execdash hooks --merge` writes into its repository. A `claude -p` run shows working,
// then ended, on its task's card; an interactive session that stops at a permission prompt shows
// "waiting for input" on the card, in the lane, in the header's count on every page and on the
// Sessions page, until it is answered and ends.
import { expect, test, type Page } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { claudeEnv } from "./support/claude";
import { DashboardServer, releaseBinary } from "./support/server";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const claude =
  process.env.EXECDASH_CLAUDE ??
  join(process.env.EXECDASH_TOOLS_DIR ?? "/opt/execdash-tools", "agents/node_modules/.bin/claude");

let server: DashboardServer;
const children: ChildProcess[] = [];
test.afterEach(async () => {
  for (const child of children.splice(0)) child.kill();
  await server?.dispose();
});

/** A board with task T-42 in progress for backend-dev, and Claude Code's hooks sent to it. */
async function startWithHooks(): Promise<void> {
  expect(existsSync(claude), `Claude Code at ${claude} (scripts/bootstrap installs it)`).toBe(true);
  server = await DashboardServer.start();
  mkdirSync(server.collab("assigned/backend-dev"), { recursive: true });
  writeFileSync(
    server.collab("assigned/backend-dev/T-42.yaml"),
    "id: T-42\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
  );
  const merged = execFileSync(
    releaseBinary,
    ["hooks", "--url", server.url, "--agent", "backend-dev", "--task", "T-42", "--merge", server.root, "--yes"],
    { encoding: "utf8" },
  );
  expect(merged).toContain("written:");
}

/** tests/support/model_standin.py on a free port, with `env`; resolves to its port. */
function startStandin(env: Record<string, string>): Promise<number> {
  const standin = spawn("python3", [join(repo, "tests/support/model_standin.py"), "0"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
  children.push(standin);
  return new Promise((done, fail) => {
    standin.stdout!.once("data", (chunk: Buffer) => {
      const port = /PORT (\d+)/.exec(chunk.toString())?.[1];
      port ? done(Number(port)) : fail(new Error(`the stand-in said ${chunk}`));
    });
  });
}

async function openBoard(page: Page) {
  await page.goto(server.url);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator('.card[data-id="T-42"]')).toBeVisible();
}

test("a claude -p run shows working, then ended, on its task's card", async ({ page }) => {
  await startWithHooks();
  await openBoard(page);
  const line = page.locator('.card[data-id="T-42"] .card-session');
  await expect(line).toHaveCount(0);
  // Each model call takes 3 s: long enough to see it work.
  const port = await startStandin({ STANDIN_DELAY: "3" });
  const run = spawn(claude, ["-p", "say hello", "--model", "claude-sonnet-4-5"], {
    cwd: server.root,
    env: claudeEnv(port, server.url),
    stdio: "ignore",
  });
  children.push(run);
  await expect(line).toHaveAttribute("data-state", "working");
  await expect(line.locator(".session-label")).toHaveText("working");
  await expect(page.locator('.lane[data-lane="backend-dev"] .lane-header .session-state')).toHaveText("working");
  const exited = new Promise<number | null>((done) => run.once("exit", done));
  expect(await exited).toBe(0);
  await expect(line).toHaveAttribute("data-state", "ended");
  // What the session spent, from its exported call: Claude Code's own $0.005877.
  await expect(line.locator(".session-cost")).toHaveText("$0.0059");
  await expect(page.locator('.lane[data-lane="backend-dev"] .lane-header .session-state')).toHaveCount(0);
});

test("a session stopped at a permission prompt waits for you on every page until it ends", async ({ page }) => {
  await startWithHooks();
  await openBoard(page);
  const port = await startStandin({ STANDIN_TOOL: "write", STANDIN_DIR: server.root });
  const driver = spawn("python3", [join(repo, "tests/support/claude_interactive.py"), server.root, String(port)], {
    env: { ...process.env, EXECDASH_CLAUDE: claude },
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(driver);
  let said = "";
  driver.stdout!.on("data", (chunk: Buffer) => (said += chunk.toString()));
  await expect.poll(() => said, { timeout: 60_000 }).toContain("PROMPT");

  const card = page.locator('.card[data-id="T-42"]');
  await expect(card.locator(".card-session")).toHaveAttribute("data-state", "waiting");
  await expect(card.locator(".card-session .session-label")).toHaveText("waiting for input");
  await expect(card.locator(".card-session")).toHaveAttribute("title", "permission to use Write");
  const header = page.locator(".topbar .waiting-indicator");
  await expect(header).toHaveText("1 agent needs you");
  await expect(page.locator('.lane[data-lane="backend-dev"] .lane-header .session-state')).toHaveText("waiting for input");
  // The count is in the header of every page; its link opens the waiting sessions.
  await page.goto(`${server.url}/costs`);
  await expect(page.locator(".topbar .waiting-indicator")).toHaveText("1 agent needs you");
  await page.locator(".topbar .waiting-indicator").click();
  await expect(page).toHaveURL(/\/sessions\?state=waiting$/);
  const row = page.locator('.sessions-table tr[data-state="waiting"]');
  await expect(row).toHaveCount(1);
  await expect(row.locator(".waiting-for")).toHaveText("permission to use Write");
  await expect(row).toContainText("backend-dev");
  await expect(row).toContainText("T-42");
  // Its timeline: the prompt's size (never its text), the tool, the permission asked for.
  await row.click();
  const timeline = page.locator(".session-timeline");
  await expect(timeline.locator('li[data-kind="permission"]')).toContainText("permission to use Write");
  await expect(timeline.locator('li[data-kind="prompt"]')).toContainText("12 characters");
  await expect(timeline).not.toContainText("write a file");

  // Answered: it works on, ends, and nobody waits any more.
  driver.stdin!.write("yes\n");
  await expect.poll(() => said, { timeout: 60_000 }).toContain("ENDED");
  await expect(page.locator(".topbar .waiting-indicator")).toHaveCount(0);
  await expect(page.locator('.sessions-table tr[data-state="waiting"]')).toHaveCount(0);
  await page.goto(server.url);
  await expect(page.locator('.card[data-id="T-42"] .card-session')).toHaveAttribute("data-state", "ended");
  await expect(page.locator(".topbar .waiting-indicator")).toHaveCount(0);
});

test("alerts: a test alert and a task blocked reach the webhook, and the log shows them delivered", async ({ page }) => {
  // A webhook receiver on loopback (tests/support/webhook_receiver.py).
  const receiver = spawn("python3", [join(repo, "tests/support/webhook_receiver.py"), "0"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  children.push(receiver);
  let received = "";
  const port = await new Promise<number>((done) => {
    receiver.stdout!.on("data", (chunk: Buffer) => {
      received += chunk.toString();
      const found = /PORT (\d+)/.exec(received)?.[1];
      if (found) done(Number(found));
    });
  });
  server = await DashboardServer.start({ args: ["--alert-webhook", `json=http://127.0.0.1:${port}/hook`] });
  mkdirSync(server.collab("assigned/backend-dev"), { recursive: true });
  writeFileSync(
    server.collab("assigned/backend-dev/T-42.yaml"),
    "id: T-42\ntitle: Rate limits\nstatus: in_progress\nagent: backend-dev\n",
  );
  await page.goto(`${server.url}/sessions`);
  await expect(page.locator("#connection")).toHaveText("Live");
  const section = page.locator("section.alerts");
  await expect(section.locator(".alert-destinations li")).toHaveText(`json (127.0.0.1:${port}) Send a test`);
  await expect(section.locator(".empty")).toHaveText("No alert sent yet.");

  await section.getByRole("button", { name: "Send a test" }).click();
  await expect(section.locator(".alert-tested")).toHaveText("A test alert was sent.");
  const test = section.locator('.alerts-table tr[data-kind="test"]');
  await expect(test.locator(".delivery")).toHaveAttribute("data-status", "sent");
  await expect(test).toContainText("execdash test alert");
  expect(received).toContain('"path": "/hook"');

  // A task blocked: alerted once, live on the page.
  writeFileSync(
    server.collab("assigned/backend-dev/T-42.yaml"),
    "id: T-42\ntitle: Rate limits\nstatus: blocked\nagent: backend-dev\nblocked_reason: no API key\n",
  );
  const blocked = section.locator('.alerts-table tr[data-kind="blocked"]');
  await expect(blocked).toContainText("Task blocked: Rate limits");
  await expect(blocked).toContainText("T-42 is blocked: no API key");
  await expect(blocked.locator(".delivery")).toHaveAttribute("data-status", "sent");
  await expect.poll(() => received).toContain("Task blocked: Rate limits");
  await expect(section.locator('.alerts-table tr[data-kind="blocked"]')).toHaveCount(1);
});
