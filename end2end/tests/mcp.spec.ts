// The MCP servers page against real servers: the npm reference server over stdio and over
// streamable HTTP (a process this test starts and kills, as a user's server dies outside
// execdash), one that crashes on start, one disabled. Server-rendered, live, "check now",
// the header's compact status, axe-core in both themes, 375 px.
import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DashboardServer, freePort } from "./support/server";

const everything = join(
  resolve(dirname(fileURLToPath(import.meta.url)), ".."),
  "node_modules/.bin/mcp-server-everything",
);

let server: DashboardServer;
let http: ChildProcess | undefined;
test.afterAll(async () => {
  http?.kill("SIGKILL");
  await server?.dispose();
});

/** The reference server over streamable HTTP on `port`, once it answers. */
async function startHttpServer(port: number): Promise<ChildProcess> {
  const child = spawn(everything, ["streamableHttp"], {
    env: { ...process.env, PORT: String(port) },
    stdio: "ignore",
  });
  await expect
    .poll(async () => fetch(`http://127.0.0.1:${port}/mcp`).then((r) => r.status, () => 0), { timeout: 20_000 })
    .toBeGreaterThan(0);
  return child;
}

test("MCP servers: every state, live when a server dies, check now, a managed server restarted (or refused, in the server's words), the header", async ({ page, browser }, testInfo) => {
  const port = await freePort();
  http = await startHttpServer(port);
  // Checks every 4 s (± 10 %), each one at most 3 s.
  server = await DashboardServer.start({
    args: ["--mcp-check-interval", "4", "--mcp-timeout", "3", "--mcp-managed", "kept", "--allow-writes"],
  });
  writeFileSync(
    join(server.root, ".mcp.json"),
    JSON.stringify({
      mcpServers: {
        everything: { command: everything, args: ["stdio"], env: { API_KEY: "very-secret-key" } },
        remote: { type: "http", url: `http://127.0.0.1:${port}/mcp` },
        crashes: { command: "sh", args: ["-c", "echo 'fatal: cannot read settings' >&2; exit 2"] },
        off: { command: "true", disabled: true },
        // Run and supervised by execdash.
        kept: { command: everything, args: ["stdio"] },
      },
    }),
  );
  // Until each server was checked once.
  await expect
    .poll(
      async () => {
        const overview = await (await fetch(`${server.url}/api/mcp/servers`)).json();
        return overview.servers.map((s: { name: string; status: string }) => `${s.name}:${s.status}`).join(" ");
      },
      { timeout: 30_000 },
    )
    .toBe("crashes:down everything:healthy kept:healthy off:disabled remote:healthy");

  // Without JavaScript: the server renders the page with the checks' results.
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const still = await noScript.newPage();
  await still.goto(`${server.url}/mcp`);
  await expect(still.locator('[data-server="everything"]')).toHaveAttribute("data-status", "healthy");
  await expect(still.locator('[data-server="crashes"] .mcp-stderr pre')).toHaveText("fatal: cannot read settings");
  await expect(still.locator('[data-server="everything"] .mcp-secrets')).toHaveText("Environment: API_KEY (values hidden)");
  expect(await still.content()).not.toContain("very-secret-key");
  await noScript.close();

  await page.goto(`${server.url}/mcp`);
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator('.pages a[aria-current="page"]')).toHaveText("MCP");
  await expect(page.locator(".mcp-indicator")).toHaveText("MCP 3/4");
  await expect(page.locator('[data-server="remote"]')).toHaveAttribute("data-status", "healthy");
  await expect(page.locator('[data-server="off"] .badge.mcp-status')).toHaveText("Disabled");
  await expect(page.locator('[data-server="off"] .check-now')).toHaveCount(0);
  // The tools, with their descriptions.
  const tools = page.locator('[data-server="everything"] .mcp-tools');
  await tools.locator("summary").click();
  await expect(tools.locator('li[data-tool="echo"]')).toContainText("echo");

  // The HTTP server dies outside execdash: its card turns red at the next check, live, and the
  // header follows (from any page).
  http.kill("SIGKILL");
  await expect(page.locator('[data-server="remote"]')).toHaveAttribute("data-status", "down", { timeout: 15_000 });
  await expect(page.locator('[data-server="remote"] .mcp-error')).not.toBeEmpty();
  await expect(page.locator(".mcp-indicator")).toHaveText("MCP 2/4");
  await expect(page.locator(".mcp-indicator")).toHaveClass(/down/);

  // It comes back; "check now" asks at once (202) and the card turns green.
  http = await startHttpServer(port);
  const asked = page.waitForResponse(
    (r) => r.url().endsWith("/api/mcp/servers/remote/check") && r.request().method() === "POST",
  );
  await page.locator('[data-server="remote"] .check-now').click();
  expect((await asked).status()).toBe(202);
  await expect(page.locator('[data-server="remote"]')).toHaveAttribute("data-status", "healthy", { timeout: 15_000 });
  await expect(page.locator(".mcp-indicator")).toHaveText("MCP 3/4");

  // The managed server: killed outside execdash, it turns red at once and green again when its
  // supervisor has started it again; "Restart" restarts it.
  const kept = page.locator('[data-server="kept"]');
  await expect(kept.locator(".mcp-managed")).toHaveAttribute("data-managed", "running");
  await expect(kept.locator(".mcp-managed p")).toHaveAttribute("data-restarts", "0");
  const overview = await (await fetch(`${server.url}/api/mcp/servers`)).json();
  const pid = overview.servers.find((s: { name: string }) => s.name === "kept").managed.pid;
  process.kill(pid, "SIGKILL");
  await expect(kept).toHaveAttribute("data-status", "down", { timeout: 10_000 });
  await expect(kept).toHaveAttribute("data-status", "healthy", { timeout: 15_000 });
  await expect(kept.locator(".mcp-managed p")).toHaveAttribute("data-restarts", "1");
  await kept.locator('button[data-action="restart"]').click();
  await expect(kept.locator(".mcp-managed p")).toHaveAttribute("data-restarts", "2", { timeout: 15_000 });
  await expect(kept).toHaveAttribute("data-status", "healthy", { timeout: 15_000 });
  // A refused control is told as the server words it: the same button, its request sent on to a
  // server name the dashboard does not know (the server's own 404 and its `error`).
  const restart = "**/api/mcp/servers/kept/restart";
  await page.route(restart, (route) => route.continue({ url: route.request().url().replace("/kept/", "/nosuch/") }));
  await kept.locator('button[data-action="restart"]').click();
  await expect(page.locator(".toast")).toContainText("Restart kept: refused (no MCP server named 'nosuch' is configured)");
  await page.unroute(restart);
  await expect(kept.locator(".mcp-managed p")).toHaveAttribute("data-restarts", "2");

  // The header's status is on every page and leads here.
  await page.locator(".pages a", { hasText: "Board" }).click();
  await expect(page.locator(".mcp-indicator")).toHaveText("MCP 3/4");
  await page.locator(".mcp-indicator").click();
  await expect(page).toHaveURL(`${server.url}/mcp`);

  // Accessibility in both themes.
  for (const scheme of ["dark", "light"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const serious = results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; ")}`);
    expect(serious, scheme).toEqual([]);
  }

  // 375 px: nothing wider than the screen.
  await page.setViewportSize({ width: 375, height: 800 });
  await page.reload();
  await expect(page.locator("#connection")).toHaveText("Live");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, "/mcp is wider than the screen").toBeLessThanOrEqual(0);
  await page.screenshot({ path: testInfo.outputPath("mcp-375.png"), fullPage: true });
});
