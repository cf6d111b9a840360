// Browser notifications of alerts: switched on from the Sessions page (the browser grants the
// permission), an alert that arrives while the dashboard is behind another tab shows as a system
// notification, one that arrives while the dashboard is in front does not. Headless Chromium
// draws no notification, so the page's Notification constructor records what it was asked to
// show before showing it.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync, writeFileSync } from "node:fs";
import { DashboardServer } from "./support/server";

let server: DashboardServer;
test.afterEach(async () => {
  await server?.dispose();
});

type Shown = { title: string; body?: string; tag?: string };

const shown = (page: Page) =>
  page.evaluate(() => (window as unknown as { __notifications: Shown[] }).__notifications);

test("an alert shows as a browser notification while the dashboard is not in front, not while it is", async ({
  browser,
}) => {
  server = await DashboardServer.start();
  mkdirSync(server.collab("assigned/dev"), { recursive: true });
  const context = await browser.newContext();
  await context.grantPermissions(["notifications"], { origin: server.url });
  await context.addInitScript(() => {
    const Real = window.Notification;
    const record: Shown[] = [];
    (window as unknown as { __notifications: Shown[] }).__notifications = record;
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        record.push({ title, body: options?.body, tag: options?.tag });
        super(title, options);
      }
    }
    Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
    Object.defineProperty(Recorded, "requestPermission", { value: Real.requestPermission.bind(Real) });
    window.Notification = Recorded as typeof Notification;
  });
  const dashboard = await context.newPage();
  await dashboard.goto(`${server.url}/sessions`);
  await expect(dashboard.locator("#connection")).toHaveText("Live");
  // The alert rules run once the board was read (what was on it then is not news).
  await expect
    .poll(async () => (await (await fetch(`${server.url}/api/alerts`)).json()).watching)
    .toBe(true);

  const switchLine = dashboard.locator(".browser-notifications");
  await expect(switchLine).toHaveAttribute("data-state", "off");
  await switchLine.getByRole("button", { name: "Notify me of alerts" }).click();
  await expect(switchLine).toHaveAttribute("data-state", "on");
  expect((await shown(dashboard)).map((n) => n.title)).toEqual(["execdash notifications are on"]);

  // In front: the page shows the alert, no notification pops up.
  writeFileSync(server.collab("assigned/dev/T-1.yaml"), "id: T-1\ntitle: One\nstatus: blocked\nagent: dev\n");
  await expect(dashboard.locator('tr[data-key="blocked:T-1"]')).toBeVisible();
  expect((await shown(dashboard)).map((n) => n.tag)).toEqual(["execdash-notifications-on"]);

  // Behind another tab: the next alert is a notification, once. (The page's focus as a real
  // window's: Playwright otherwise tells every page it has it.)
  const cdp = await context.newCDPSession(dashboard);
  await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: false });
  const other = await context.newPage();
  await other.goto("about:blank");
  await other.bringToFront();
  expect(await dashboard.evaluate(() => document.hasFocus())).toBe(false);
  writeFileSync(
    server.collab("assigned/dev/T-2.yaml"),
    "id: T-2\ntitle: Two\nstatus: blocked\nagent: dev\nblocked_reason: needs the API key\n",
  );
  await expect.poll(async () => (await shown(dashboard)).map((n) => n.tag)).toContain("blocked:T-2");
  const notification = (await shown(dashboard)).find((n) => n.tag === "blocked:T-2");
  expect(notification).toEqual({ title: "Task blocked: Two", body: "T-2 is blocked: needs the API key", tag: "blocked:T-2" });

  // Switched off: remembered by this browser, nothing more pops up.
  await dashboard.bringToFront();
  await switchLine.getByRole("button", { name: "Stop notifying" }).click();
  await expect(switchLine).toHaveAttribute("data-state", "off");
  await dashboard.reload();
  await expect(dashboard.locator("#connection")).toHaveText("Live");
  await expect(dashboard.locator(".browser-notifications")).toHaveAttribute("data-state", "off");
  await context.close();
});
