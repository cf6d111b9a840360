// Search and filters: in the address (shared, reloaded, rendered by the server), applied at once,
// descriptions searched by the server, lane counts following, live changes filtered too, and the
// export following the filter.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.beforeEach(async () => {
  server = await DashboardServer.start();
  const write = (path: string, text: string) => {
    mkdirSync(server.collab(path.split("/").slice(0, -1).join("/")), { recursive: true });
    writeFileSync(server.collab(path), text);
  };
  write("inbox/parser.yaml", "id: parser\ntitle: Parse the profiles\npriority: HIGH\ntags: [parsing]\n");
  write("inbox/docs.yaml", "id: docs\ntitle: Write the guide\npriority: LOW\ndescription: Explain the schema to readers.\n");
  write("assigned/python-pedro/schema.yaml", "id: schema\ntitle: Define the schema\npriority: HIGH\nstatus: in_progress\n");
  write("assigned/curator/readme.yaml", "id: readme\ntitle: Fix the README\npriority: MEDIUM\nstatus: in_progress\n");
  await server.restart();
});
test.afterEach(async () => {
  await server?.dispose();
});

const cards = (page: Page) => page.locator(".board .card");
const ids = async (page: Page) =>
  (await cards(page).evaluateAll((all) => all.map((c) => c.getAttribute("data-id")))).sort();

test("a filtered address is rendered by the server, and the page filters as you type", async ({ page, browser }) => {
  // Without JavaScript: the server applies the address's filter (descriptions included).
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const still = await noScript.newPage();
  await still.goto(`${server.url}/?q=schema`);
  expect(await ids(still)).toEqual(["docs", "schema"]);
  await expect(still.locator("#search")).toHaveValue("schema");
  await noScript.close();

  await page.goto(`${server.url}/?q=schema`);
  await expect(page.locator("#connection")).toHaveText("Live");
  expect(await ids(page)).toEqual(["docs", "schema"]);
  await expect(page.locator('[data-column="inbox"] .column-header .count')).toHaveText("1");
  await expect(page.locator(".filters .matching")).toHaveText("2 of 4 tasks match");

  // `/` focuses the search; Escape clears it.
  await page.keyboard.press("/");
  await expect(page.locator("#search")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.locator("#search")).toHaveValue("");
  await expect(page).toHaveURL(`${server.url}/`);
  await expect(cards(page)).toHaveCount(4);

  await page.locator("#search").fill("the");
  await page.getByLabel("Priority").selectOption("high");
  await expect(page).toHaveURL(`${server.url}/?q=the&priority=high`);
  await expect.poll(() => ids(page)).toEqual(["parser", "schema"]);
  await expect(page.locator('.lane[data-lane="curator"]')).toHaveCount(0);
  await expect(page.locator(".board-tools .exports a", { hasText: "CSV" })).toHaveAttribute(
    "href",
    "/api/export/tasks.csv?q=the&priority=high",
  );
  // Downloaded: the filtered tasks, one row each, quoted where needed.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator(".board-tools .exports a", { hasText: "CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8").trim().split(/\r?\n/);
  expect(csv[0].split(",")).toContain("id");
  expect(csv.slice(1).map((row) => row.split(",")[csv[0].split(",").indexOf("id")]).sort()).toEqual([
    "parser",
    "schema",
  ]);
  const [json] = await Promise.all([
    page.waitForEvent("download"),
    page.locator(".board-tools .exports a", { hasText: "JSON" }).click(),
  ]);
  const exported = JSON.parse(readFileSync(await json.path(), "utf8"));
  expect(JSON.stringify(exported)).toContain("Parse the profiles");
  expect(JSON.stringify(exported)).not.toContain("Write the guide");

  // Live changes are filtered too.
  writeFileSync(server.collab("inbox/new.yaml"), "id: new\ntitle: Another of the urgent ones\npriority: HIGH\n");
  writeFileSync(server.collab("inbox/low.yaml"), "id: low\ntitle: One of the slow ones\npriority: LOW\n");
  await expect.poll(() => ids(page)).toEqual(["new", "parser", "schema"]);
  await expect(page.locator(".filters .matching")).toHaveText("3 of 6 tasks match");

  // The view survives a reload; Clear shows everything.
  await page.reload();
  await expect(page.locator("#connection")).toHaveText("Live");
  expect(await ids(page)).toEqual(["new", "parser", "schema"]);
  await expect(page.getByLabel("Priority")).toHaveValue("high");
  await page.locator(".clear-filters").click();
  await expect(cards(page)).toHaveCount(6);
  await expect(page).toHaveURL(`${server.url}/`);
});

test("the agent and tag filters and the API take the same parameters", async ({ page, request }) => {
  await page.goto(`${server.url}/?agent=python-pedro`);
  await expect(page.locator("#connection")).toHaveText("Live");
  expect(await ids(page)).toEqual(["schema"]);
  await page.getByLabel("Agent").selectOption("");
  await page.getByLabel("Tag").selectOption("parsing");
  await expect.poll(() => ids(page)).toEqual(["parser"]);
  const api = await (await request.get(`${server.url}/api/tasks?tag=parsing`)).json();
  expect(api.inbox.map((t: { id: string }) => t.id)).toEqual(["parser"]);
  const bad = await request.get(`${server.url}/api/tasks?priority=urgent`);
  expect(bad.status()).toBe(400);
  expect((await bad.json()).field).toBe("priority");
});

test("searching and initials follow Unicode's case rules in the browser as on the server", async ({ page, browser }) => {
  // The browser changes case through JavaScript's toLowerCase/toUpperCase (no Unicode tables in
  // the WASM), the server through Rust's: the same tasks match either way.
  writeFileSync(server.collab("inbox/strasse.yaml"), "id: strasse\ntitle: Überprüfung der STRASSENKARTE\npriority: LOW\n");
  writeFileSync(server.collab("inbox/odos.yaml"), "id: odos\ntitle: ΟΔΟΣ ΠΡΟΣ ΤΟ ΣΠΙΤΙ\npriority: LOW\n");
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const still = await noScript.newPage();
  await still.goto(`${server.url}/?q=${encodeURIComponent("ÜBERPRÜFUNG")}`);
  expect(await ids(still)).toEqual(["strasse"]);
  await noScript.close();

  await page.goto(`${server.url}/`);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(cards(page)).toHaveCount(6);
  for (const [query, found] of [
    ["überprüfung strassenkarte", ["strasse"]],
    ["ÜBERPRÜFUNG", ["strasse"]],
    ["οδος", ["odos"]],
    ["σπιτι", ["odos"]],
    ["Σπίτι", []],
  ] as const) {
    await page.locator("#search").fill(query);
    await expect.poll(() => ids(page), { message: query }).toEqual([...found]);
  }
  await page.locator(".clear-filters").click();

  // A lane that appears live gets its initials in the browser: upper case by Unicode's rules.
  mkdirSync(server.collab("assigned/élodie-ßeta"), { recursive: true });
  writeFileSync(server.collab("assigned/élodie-ßeta/task.yaml"), "id: elodie\ntitle: A task of hers\nstatus: in_progress\n");
  await expect(page.locator('.lane[data-lane="élodie-ßeta"] .avatar')).toHaveText("ÉSS");
});
