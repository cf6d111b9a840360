// A task's detail: at its own address (server-rendered, deep-linkable), opened over the board
// from a card, closed by Escape, the back button and ×, with focus back on the card; texts rendered
// from Markdown on the server and sanitized, the same after a live update as after a reload; and
// an XSS catalogue in every place a task's text reaches the page.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync, writeFileSync } from "node:fs";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.afterEach(async () => {
  await server?.dispose();
});

const parser = `# Planning owns this file.
id: parser
title: "Parse the agent profiles"
agent: python-pedro
status: new
priority: HIGH
tags: [parsing, profiles]
dependencies: [schema, nowhere]
created_at: "2026-02-06T11:48:00Z"
description: |
  Read **every** profile and ~~guess~~ validate it. See https://example.org/spec.

  | field | kind |
  |-------|------|
  | name  | text |

  - [x] frontmatter
  - [ ] body
context:
  phase: one
  related_adrs: [ADR-036, ADR-037]
acceptance_criteria:
  - Profiles load in under 50 ms
  - A broken profile is reported with its line
`;

async function openLive(page: Page, path = "/") {
  await page.goto(server.url + path);
  await expect(page.locator("#connection")).toHaveText("Live");
}

test("a task opens at its own address and Escape, back and × close it, focus back on its card", async ({
  page,
}) => {
  server = await DashboardServer.start();
  writeFileSync(server.collab("inbox/parser.yaml"), parser);
  mkdirSync(server.collab("assigned/python-pedro"), { recursive: true });
  writeFileSync(server.collab("assigned/python-pedro/schema.yaml"), "id: schema\ntitle: Define the schema\n");
  await server.restart();
  await openLive(page);
  // The board stays as it is under the detail: opening, closing and going between tasks never
  // draws it again (the same element throughout, holding what was put on it).
  const board = page.locator("main.layout");
  await board.evaluate((element) => element.setAttribute("data-kept", "since-live"));
  const boardKept = async () => expect(await board.getAttribute("data-kept")).toBe("since-live");

  const card = page.locator('.card[data-id="parser"]');
  await card.click();
  await expect(page).toHaveURL(`${server.url}/tasks/parser`);
  const detail = page.locator(".detail");
  await expect(detail.locator("h2")).toHaveText("Parse the agent profiles");
  await expect(detail.locator('[data-field="description"] strong')).toHaveText("every");
  await expect(detail.locator('[data-field="description"] del')).toHaveText("guess");
  await expect(detail.locator('[data-field="description"] table td').first()).toHaveText("name");
  await expect(detail.locator('[data-field="description"] input[type="checkbox"]')).toHaveCount(2);
  const autolink = detail.locator('[data-field="description"] a[href="https://example.org/spec"]');
  await expect(autolink).toHaveAttribute("rel", "noopener noreferrer");
  await expect(detail.locator('[data-field="context"] li', { hasText: "phase" })).toContainText("one");
  await expect(detail.locator('[data-field="acceptance_criteria"] li')).toHaveCount(2);
  // Related tasks: the one on the board is a link, the other marked missing.
  await expect(detail.locator(".task-links a", { hasText: "schema" })).toHaveAttribute("href", "/tasks/schema");
  await expect(detail.locator(".task-links .missing")).toContainText("nowhere");
  await expect(detail.locator(".task-links .missing")).toContainText("not on the board");
  await expect(detail.locator("pre.yaml")).toContainText("# Planning owns this file.");
  await expect(detail.locator("time[datetime='2026-02-06T11:48:00Z']")).toBeVisible();
  await expect(detail.locator(".close")).toBeFocused();

  await page.keyboard.press("Escape");
  await expect(detail).toHaveCount(0);
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(card).toBeFocused();
  await boardKept();

  // The back button closes it, forward opens it again.
  await card.click();
  await expect(page).toHaveURL(`${server.url}/tasks/parser`);
  await page.goBack();
  await expect(detail).toHaveCount(0);
  await expect(page).toHaveURL(`${server.url}/`);
  await page.goForward();
  await expect(detail.locator("h2")).toHaveText("Parse the agent profiles");

  // A related task opens in place; × closes.
  await detail.locator(".task-links a", { hasText: "schema" }).click();
  await expect(page).toHaveURL(`${server.url}/tasks/schema`);
  await expect(detail.locator("h2")).toHaveText("Define the schema");
  // The tab's title follows the task now shown (it reads the open detail's data).
  await expect(page).toHaveTitle("Define the schema · execdash");
  await detail.locator(".close").click();
  await expect(detail).toHaveCount(0);
  await boardKept();
});

test("a deep link is rendered by the server, hydrates, and follows live changes with the same HTML as a reload", async ({
  page,
  browser,
}) => {
  server = await DashboardServer.start();
  writeFileSync(server.collab("inbox/parser.yaml"), parser);
  await server.restart();

  // Without JavaScript the detail is there.
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const still = await noScript.newPage();
  await still.goto(`${server.url}/tasks/parser`);
  await expect(still.locator(".detail h2")).toHaveText("Parse the agent profiles");
  await expect(still.locator('.detail [data-field="description"] strong')).toHaveText("every");
  await noScript.close();

  await openLive(page, "/tasks/parser");
  const description = page.locator('.detail [data-field="description"] .markdown');
  await expect(description.locator("strong")).toHaveText("every");

  writeFileSync(
    server.collab("inbox/parser.yaml"),
    parser.replace("Read **every** profile", "Read *each* profile, <b onclick=\"alert(1)\">bold</b>"),
  );
  await expect(description.locator("em")).toHaveText("each");
  const live = await description.innerHTML();
  expect(live).not.toContain("onclick");
  await page.reload();
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(description.locator("em")).toHaveText("each");
  expect(await description.innerHTML()).toBe(live);

  // A task that is not there: 404, the board, and a note saying so.
  const missing = await page.goto(`${server.url}/tasks/nope`);
  expect(missing?.status()).toBe(404);
  await expect(page.locator(".detail .detail-error")).toHaveText("Task not found: nope");
  await expect(page.locator(".board")).toBeVisible();
});

// The original's 12 payloads (static/test-xss-payloads.html) and more: broken tags, svg/math,
// entity-encoded and whitespace-split schemes, style and base URLs, outside images.
const payloads = [
  `<script>alert('xss1')</script>`,
  `<img src=x onerror="alert('xss2')">`,
  `[click](javascript:alert('xss3'))`,
  `[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgneHNzNCcpPC9zY3JpcHQ+)`,
  `<div onclick="alert('xss5')">click me</div>`,
  `<svg onload="alert('xss6')"><circle r="4"/></svg>`,
  `<iframe src="javascript:alert('xss7')"></iframe>`,
  `<object data="data:text/html,<script>alert('xss8')</script>"></object>`,
  `<embed src="javascript:alert('xss9')">`,
  `[enc](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert('xss10'))`,
  `<form action="javascript:alert('xss11')"><button>go</button></form>`,
  `<div style="background:url(javascript:alert('xss12'))">styled</div>`,
  `<a href="jav&#x09;ascript:alert('tab')">tab</a>`,
  `<a href="vbscript:msgbox(1)">vb</a>`,
  `<scr<script>ipt>alert('broken')</scr</script>ipt>`,
  `<p title="</p><img src=x onerror=alert('attr')>">quoted</p>`,
  `<img src="http://evil.example/pixel.png">`,
  `![pixel](http://evil.example/md-pixel.png)`,
  `<style>@import 'http://evil.example/x.css'; body{background:url(http://evil.example/bg.png)}</style>`,
  `<link rel="stylesheet" href="http://evil.example/link.css">`,
  `<base href="http://evil.example/">`,
  `<meta http-equiv="refresh" content="0;url=javascript:alert('meta')">`,
  `<details open ontoggle="alert('toggle')">d</details>`,
  // Last: its <style> swallows what follows it.
  `<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')>`,
];

test("a task's calls are listed newest first by their time, in UTC minutes", async ({ page, request }) => {
  server = await DashboardServer.start();
  writeFileSync(server.collab("inbox/parser.yaml"), parser);
  await server.restart();
  // Logged in another order than they happened.
  const calls = [
    ["late-1", "2026-11-02T10:00:00Z"],
    ["late-3", "2026-11-04T10:05:00.123456+00:00"],
    ["late-2", "2026-11-03 10:00:00"],
  ].map(([id, timestamp]) => ({
    invocation_id: id,
    timestamp,
    task_id: "parser",
    tool_name: "claude-code",
    model_name: "claude-sonnet-4",
    total_tokens: 10,
    cost_usd: 0.01,
    status: "success",
  }));
  expect((await request.post(`${server.url}/api/invocations`, { data: calls })).status()).toBe(200);
  await page.goto(`${server.url}/tasks/parser`);
  const when = page.locator(".detail table.invocations tbody tr td:first-child");
  await expect(when).toHaveText(["2026-11-04 10:05", "2026-11-03 10:00", "2026-11-02 10:00"]);
  await expect(when.first()).toHaveAttribute("title", "2026-11-04T10:05:00.123456+00:00");
});

test("no payload in any field, title, tag, agent folder or file name runs, loads or links anywhere", async ({
  page,
}) => {
  server = await DashboardServer.start();
  const all = payloads.join("\n\n");
  const payloadTask = {
    id: "xss",
    title: `<img src=x onerror="alert('title')"> Title`,
    agent: `<svg onload=alert('agent')>`,
    status: "new",
    priority: "HIGH",
    tags: ["<script>alert('tag')</script>", `<img src=x onerror=alert('tag2')>`],
    blocked_reason: `<img src=x onerror=alert('blocked')>`,
    description: all,
    context: all,
    acceptance_criteria: payloads,
    notes: all,
    technical_notes: Object.fromEntries(payloads.map((p, i) => [`k${i}`, p])),
    result: { summary: all },
  };
  // JSON is YAML; the agent folder and the file name carry payloads too.
  const lane = `<svg onload=alert('lane')>`;
  mkdirSync(server.collab("assigned", lane), { recursive: true });
  writeFileSync(server.collab("assigned", lane, "xss.yaml"), JSON.stringify(payloadTask, null, 2));
  writeFileSync(server.collab("inbox", `<img src=x onerror=alert('file')>.yaml`), JSON.stringify({ ...payloadTask, id: "xss-file" }));
  await server.restart();

  const dialogs: string[] = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  const outside: string[] = [];
  await page.route(
    (url) => url.hostname !== "127.0.0.1",
    async (route) => {
      outside.push(route.request().url());
      await route.abort();
    },
  );

  await openLive(page);
  await expect(page.locator(`.lane[data-lane="${lane}"] .card`)).toHaveCount(1);
  await page.locator('.card[data-id="xss"]').click();
  const detail = page.locator(".detail");
  await expect(detail.locator('[data-field="result"] .markdown')).toBeVisible();
  await expect(detail.locator(".markdown")).toHaveCount(6);
  // Every link the texts hold goes to http(s) or mailto and opens without access to the page.
  const hrefs = await detail.locator(".markdown a").evaluateAll((links) =>
    links.map((a) => [a.getAttribute("href") ?? "", a.getAttribute("rel") ?? ""]),
  );
  expect(hrefs.length).toBeGreaterThan(0);
  for (const [href, rel] of hrefs) {
    expect(href).toMatch(/^(https?:|mailto:|[^:]*$)/i);
    expect(rel).toBe("noopener noreferrer");
  }
  // Open and close the detail of the other one (file name payload), then look over the page.
  await page.keyboard.press("Escape");
  await page.locator('.card[data-id="xss-file"]').click();
  await expect(detail.locator("h2")).toContainText("Title");
  await page.reload();
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(detail.locator(".markdown").first()).toBeVisible();

  const found = await page.evaluate(() => {
    const handlers = [...document.querySelectorAll("*")].filter((el) =>
      [...el.attributes].some((a) => a.name.toLowerCase().startsWith("on")),
    );
    const inTexts = (selector: string) =>
      document.querySelectorAll(selector.split(",").map((tag) => `.markdown ${tag.trim()}`).join(", ")).length;
    return {
      handlers: handlers.map((el) => el.outerHTML.slice(0, 80)),
      // Leptos's own two inline scripts carry the page's nonce; nothing from a task does.
      scriptsInBody: [...document.querySelectorAll("body script")].filter(
        (s) => !(s as HTMLScriptElement).nonce || s.closest(".app"),
      ).length,
      frames: inTexts("iframe, object, embed, form, style, link, base, meta, svg, math, img"),
      styled: inTexts("[style]"),
      dangerousLinks: document.querySelectorAll(
        'a[href^="javascript:" i], a[href^="data:" i], a[href^="vbscript:" i]',
      ).length,
    };
  });
  expect(found.handlers).toEqual([]);
  expect(found.scriptsInBody).toBe(0);
  expect(found.frames).toBe(0);
  expect(found.styled).toBe(0);
  expect(found.dangerousLinks).toBe(0);
  expect(dialogs).toEqual([]);
  expect(outside).toEqual([]);
  // The payloads are shown as text where they are text.
  await expect(page.locator('.card[data-id="xss"] .card-title')).toHaveText(`<img src=x onerror="alert('title')"> Title`);
});
