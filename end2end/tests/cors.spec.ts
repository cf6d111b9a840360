// CORS with a real browser: a page served from another loopback port that execdash allows
// (--allowed-origins) reads the API and posts an invocation (Chromium sends a real preflight for
// the JSON POST); a page from a port it does not allow is refused by the browser.
import { expect, test } from "@playwright/test";
import { createServer, type Server } from "node:http";
import { DashboardServer, freePort } from "./support/server";

let dashboard: DashboardServer;
let allowed: Server;
let other: Server;
let allowedPort: number;
let otherPort: number;

/** A bare page on its own origin; the test drives it with page.evaluate. */
function pageServer(port: number): Promise<Server> {
  const server = createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/html" });
    response.end("<!DOCTYPE html><title>another site</title><p>another site</p>");
  });
  return new Promise((done) => server.listen(port, "127.0.0.1", () => done(server)));
}

test.beforeAll(async () => {
  allowedPort = await freePort();
  otherPort = await freePort();
  dashboard = await DashboardServer.start({
    args: ["--allowed-origins", `http://127.0.0.1:${allowedPort}`],
  });
  allowed = await pageServer(allowedPort);
  other = await pageServer(otherPort);
});
test.afterAll(async () => {
  allowed?.close();
  other?.close();
  await dashboard?.dispose();
});

async function postFrom(page: import("@playwright/test").Page, origin: string, id: string) {
  await page.goto(origin);
  return page.evaluate(
    async ({ url, id }) => {
      try {
        const response = await fetch(`${url}/api/invocations`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            invocation_id: id,
            tool_name: "codex",
            model_name: "gpt-5",
            status: "success",
            cost_usd: 0.5,
          }),
        });
        return { status: response.status, body: await response.json() };
      } catch (error) {
        return { error: String(error) };
      }
    },
    { url: dashboard.url, id },
  );
}

test("an allowed origin's page posts and reads through a real preflight", async ({ page }) => {
  const posted = await postFrom(page, `http://127.0.0.1:${allowedPort}/`, "cors-allowed");
  expect(posted).toEqual({ status: 200, body: { inserted: 1, duplicates: 0, conflicts: [] } });
  const read = await page.evaluate(async (url) => {
    const response = await fetch(`${url}/api/costs`);
    return (await response.json()).totals.invocations;
  }, dashboard.url);
  expect(read).toBe(1);
});

test("another origin's page is refused by the browser and writes nothing", async ({ page }) => {
  const posted = await postFrom(page, `http://127.0.0.1:${otherPort}/`, "cors-refused");
  expect(posted).toHaveProperty("error");
  const response = await fetch(`${dashboard.url}/api/costs`);
  const costs = await response.json();
  expect(costs.totals.invocations).toBe(1);
});
