// The costs page's spending forecast: rendered by the server (shown with JavaScript off), its
// figures are those of GET /api/forecast, and it follows new spending without a reload.
import { expect, test, type APIRequestContext } from "@playwright/test";
import { DashboardServer } from "./support/server";

const DAY_MS = 86_400_000;
let server: DashboardServer;

function invocation(id: string, cost: number, timestamp?: string) {
  return {
    invocation_id: id,
    ...(timestamp ? { timestamp } : {}),
    tool_name: "claude-code",
    model_name: "claude-sonnet-4",
    agent_name: "python-pedro",
    total_tokens: 1500,
    cost_usd: cost,
    status: "success",
  };
}

test.beforeAll(async ({ request }) => {
  server = await DashboardServer.start({ args: ["--monthly-budget", "100", "--daily-budget", "20"] });
  // $5 at noon on each of the 40 days before today (UTC).
  const midnight = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const history = Array.from({ length: 40 }, (_, i) =>
    invocation(`day-${i + 1}`, 5, new Date(midnight - (i + 1) * DAY_MS + DAY_MS / 2).toISOString()),
  );
  const posted = await request.post(`${server.url}/api/invocations`, { data: history });
  expect(posted.status()).toBe(200);
});
test.afterAll(async () => {
  await server?.dispose();
});

/** As the page writes money (charts::usd). */
function usd(value: number): string {
  const v = Math.abs(value);
  if (v >= 10_000) return `$${(value / 1000).toFixed(1)}k`;
  if (v >= 1 || v === 0) return `$${value.toFixed(2)}`;
  if (v >= 0.01) return `$${value.toFixed(3)}`;
  return `$${value.toFixed(4)}`;
}

interface Period {
  spent: number;
  projected: number;
  low: number;
  high: number;
}
interface Forecast {
  basis: string;
  day: Period;
  month: Period;
  budget: string;
  budget_reached_on: string | null;
}

async function forecast(request: APIRequestContext): Promise<Forecast> {
  const response = await request.get(`${server.url}/api/forecast`);
  expect(response.status()).toBe(200);
  return response.json();
}

const range = (p: Period) => `likely ${usd(p.low)} – ${usd(p.high)}`;

test("the forecast is server-rendered with the figures of /api/forecast", async ({ browser, request }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  // The projection moves with the clock: the page's figures are those of an answer from just
  // before or just after it was rendered.
  const before = await forecast(request);
  await page.goto(`${server.url}/costs`);
  const after = await forecast(request);
  expect(before.basis).toBe("recent_days");

  const section = page.locator("section.forecast");
  await expect(section.getByRole("heading", { name: "Forecast" })).toBeVisible();
  for (const period of ["day", "month"] as const) {
    const projected = await page.locator(`#forecast-${period}`).textContent();
    expect([before, after].map((f) => usd(f[period].projected))).toContain(projected);
    const shownRange = await page.locator(`#forecast-${period}-range`).textContent();
    expect([before, after].map((f) => range(f[period]))).toContain(shownRange);
    await expect(page.locator(`#forecast-${period}-spent`)).toHaveText(`${usd(after[period].spent)} spent so far`);
  }
  // $5 a day against $100 a month.
  expect(after.budget_reached_on).not.toBeNull();
  await expect(page.locator("#forecast-budget")).toContainText(`Reached on ${after.budget_reached_on}`);
  const chart = page.locator('[data-chart="burn-down"] [role="img"]');
  await expect(chart.locator("svg")).toBeVisible();
  await expect(chart).toHaveAttribute("aria-label", new RegExp(`^Spent \\${usd(after.month.spent)} so far this month`));
  await expect(page.locator('[data-chart="burn-down"] .legend')).toContainText("Monthly budget");
  await context.close();
});

test("without a monthly budget the burn-down shows no budget in its legend", async ({ page, request }) => {
  const unbudgeted = await DashboardServer.start();
  try {
    const posted = await request.post(`${unbudgeted.url}/api/invocations`, { data: invocation("today-1", 3) });
    expect(posted.status()).toBe(200);
    await page.goto(`${unbudgeted.url}/costs`);
    await expect(page.locator("#forecast-budget")).toHaveText("No monthly budget set");
    const legend = page.locator('[data-chart="burn-down"] .legend');
    await expect(legend).toContainText("Spent");
    await expect(legend).not.toContainText("Monthly budget");
  } finally {
    await unbudgeted.dispose();
  }
});

test("the forecast follows new spending live", async ({ page, request }) => {
  await page.goto(`${server.url}/costs`);
  await expect(page.locator("#connection")).toHaveText("Live");
  const before = await forecast(request);
  await expect(page.locator("#forecast-day-spent")).toHaveText(`${usd(before.day.spent)} spent so far`);

  const posted = await request.post(`${server.url}/api/invocations`, { data: invocation("now-1", 7.25) });
  expect(posted.status()).toBe(200);
  const after = await forecast(request);
  expect(after.day.spent).toBeCloseTo(before.day.spent + 7.25, 9);
  expect(after.month.spent).toBeCloseTo(before.month.spent + 7.25, 9);
  await expect(page.locator("#forecast-day-spent")).toHaveText(`${usd(after.day.spent)} spent so far`);
  await expect(page.locator("#forecast-month-spent")).toHaveText(`${usd(after.month.spent)} spent so far`);
  const latest = await forecast(request);
  expect([after, latest].map((f) => usd(f.month.projected))).toContain(
    await page.locator("#forecast-month").textContent(),
  );
});
