use leptos::prelude::*;

use super::{fetched, page_data, server_chart, use_dashboard, Follows};
use crate::api::PageData;
use crate::charts;
use crate::model::{
    BudgetOutlook, BudgetPeriod, Charts, CostRange, Forecast, ForecastBasis, PeriodForecast,
    PortfolioCosts,
};

/// Costs and usage: totals, a range selector and three charts. Redrawn on `cost.update`.
#[component]
pub fn CostsPanel() -> impl IntoView {
    let dashboard = use_dashboard();
    let cost_range = RwSignal::new(CostRange::Days7);
    // The summary of `cost_range` when it is not the 7 days the board carries.
    let range_costs = RwSignal::new(None::<crate::model::CostSummary>);
    #[cfg(feature = "hydrate")]
    follow_cost_range(dashboard.board, cost_range, range_costs);
    let export_href = move |format: &'static str| {
        move || {
            format!(
                "{}/api/export/invocations.{format}?range={}",
                dashboard.settings.with_value(|s| s.base.clone()),
                cost_range.get().as_str()
            )
        }
    };
    let summary = Memo::new(move |_| match cost_range.get() {
        CostRange::Days7 => dashboard.board.with(|b| b.costs.clone()),
        range => range_costs.get().filter(|c| c.range == range),
    });
    // Drawn by the server, again whenever a `cost.update` brings a new summary.
    let drawn = page_data::<Charts>(Follows::Costs, move || {
        format!("/api/charts/costs?range={}", cost_range.get().as_str())
    });
    let legend = Memo::new(move |_| {
        summary.with(|s| s.as_ref().map(charts::models_by_cost).unwrap_or_default())
    });
    let totals = Memo::new(move |_| {
        dashboard
            .board
            .with(|b| b.costs.as_ref().map(|c| c.totals.clone()))
    });
    // One figure of the totals, written out ("–" without them).
    let total = move |written: fn(&crate::model::CostTotals) -> String| {
        move || totals.with(|t| t.as_ref().map(written).unwrap_or_else(|| "–".into()))
    };
    let error_rate = move || {
        summary.with(|s| {
            s.as_ref()
                .map(|s| crate::format::percent(s.error_rate, 1))
                .unwrap_or_else(|| "–".into())
        })
    };
    let available = move || dashboard.board.with(|b| b.costs.is_some());
    let range_button = move |range: CostRange| {
        view! {
            <button
                class=move || if cost_range.get() == range { "range active" } else { "range" }
                data-range=range.as_str()
                on:click=move |_| cost_range.set(range)
            >
                {range.as_str()}
            </button>
        }
    };
    const NO_CALLS: &str = "No invocations in this range.";
    let chart = move |id: &'static str, title: &'static str| {
        view! {
            <figure class="chart-card" data-chart=id>
                <figcaption>{title}</figcaption>
                {server_chart(drawn, id, NO_CALLS)}
            </figure>
        }
    };
    view! {
        <section class="costs" aria-label="Costs and usage">
            <header class="costs-header">
                <h2>"Costs & usage"</h2>
                <div class="ranges" role="group" aria-label="Range">
                    {CostRange::ALL.into_iter().map(range_button).collect::<Vec<_>>()}
                </div>
                <nav class="exports" aria-label="Export the invocations of this range">
                    "Export "
                    <a download href=export_href("csv")>"CSV"</a>
                    " · "
                    <a download href=export_href("json")>"JSON"</a>
                </nav>
            </header>
            <Show
                when=available
                fallback=|| view! { <p class="empty">"No telemetry database: costs are not available."</p> }
            >
                <dl class="kpis">
                    <div><dt>"Today"</dt><dd id="cost-today">{total(|t| crate::format::usd(t.today))}</dd></div>
                    <div><dt>"This month"</dt><dd id="cost-month">{total(|t| crate::format::usd(t.month))}</dd></div>
                    <div><dt>"All time"</dt><dd id="cost-total">{total(|t| crate::format::usd(t.total))}</dd></div>
                    <div><dt>"Invocations"</dt><dd id="cost-invocations">{total(|t| crate::format::count(t.invocations as f64))}</dd></div>
                    <div><dt>"Error rate"</dt><dd id="cost-errors">{error_rate}</dd></div>
                </dl>
                {move || summary.with(|s| {
                    let unpriced = s.as_ref().map(|s| s.unpriced.clone()).unwrap_or_default();
                    (!unpriced.is_empty()).then(|| view! {
                        <div class="unpriced" role="note" data-unpriced="">
                            <strong>"Unpriced in this range: "</strong>
                            {unpriced
                                .iter()
                                .map(|m| format!(
                                    "{} call{} of {} ({} tokens)",
                                    m.invocations,
                                    if m.invocations == 1 { "" } else { "s" },
                                    m.model,
                                    m.tokens
                                ))
                                .collect::<Vec<_>>()
                                .join(", ")}
                            ". No price is known for these models and the agents reported none: they are not in the totals (set one with --prices FILE)."
                        </div>
                    })
                })}
                <div class="charts">
                    <figure class="chart-card wide" data-chart="daily">
                        <figcaption>"Daily cost by model"</figcaption>
                        {server_chart(drawn, "daily", NO_CALLS)}
                        <ul class="legend">
                            {move || legend.get().into_iter().enumerate().map(|(i, model)| view! {
                                <li><span class="swatch" style=format!("background:{}", charts::css_color(i))></span>{model}</li>
                            }).collect_view()}
                        </ul>
                    </figure>
                    {chart("by-model", "Cost by model")}
                    {chart("by-agent", "Tokens by agent")}
                </div>
            </Show>
        </section>
    }
}

/// A banner when a budget is at 80 % or more; an alert at 100 %.
#[component]
pub fn BudgetBanner() -> impl IntoView {
    let dashboard = use_dashboard();
    let uses = Memo::new(move |_| {
        dashboard.board.with(|b| {
            b.costs
                .as_ref()
                .map(|c| b.budgets.usage(&c.totals))
                .unwrap_or_default()
                .into_iter()
                .filter(|u| u.is_warning())
                .collect::<Vec<_>>()
        })
    });
    view! {
        {move || uses.get().into_iter().map(|u| {
            let period = match u.period { BudgetPeriod::Daily => "daily", BudgetPeriod::Monthly => "monthly" };
            let (class, verb) = if u.is_exceeded() { ("budget-banner exceeded", "exceeded") } else { ("budget-banner warning", "at") };
            let text = format!(
                "The {period} budget is {verb} {}: {} of {}.",
                crate::format::percent(u.ratio(), 0),
                crate::format::usd(u.spent_usd),
                crate::format::usd(u.limit_usd)
            );
            view! { <div class=class role="alert" data-period=period>{text}</div> }
        }).collect_view()}
    }
}

/// `/costs`: the costs panel, the spending forecast, and what each initiative and specification
/// cost.
#[component]
pub fn CostsPage() -> impl IntoView {
    view! {
        <main class="page costs-page" aria-labelledby="page-title">
            <h2 id="page-title" class="visually-hidden">"Costs"</h2>
            <CostsPanel/>
            <SpendingForecast/>
            <InitiativeCosts/>
        </main>
    }
    .into_any()
}

/// Today's and this month's projected spending as ranges, the day the monthly budget is reached,
/// and the month's burn-down against the budget (`GET /api/forecast`, rendered with the page and
/// fetched again whenever the costs change).
#[component]
fn SpendingForecast() -> impl IntoView {
    // A `cost.update` carries a new summary.
    let forecast = page_data::<Forecast>(Follows::Costs, || "/api/forecast".to_owned());
    let drawn = page_data::<Charts>(Follows::Costs, || "/api/charts/forecast".to_owned());
    view! {
        <section class="forecast" aria-labelledby="forecast-title">
            <h3 id="forecast-title">"Forecast"</h3>
            {fetched(forecast, "Projecting the spending…", "Not available: ", move |forecast| forecast_view(forecast, drawn))}
        </section>
    }
}

fn forecast_view(forecast: Forecast, drawn: PageData<Charts>) -> impl IntoView {
    let description = charts::burn_down_description(&forecast);
    let basis = match forecast.basis {
        ForecastBasis::NoHistory => "no_history",
        ForecastBasis::RecentDays => "recent_days",
    };
    let budget_text = match (forecast.budget, forecast.budget_reached_on.as_deref()) {
        (BudgetOutlook::Reached, Some(day)) => format!("Reached on {day}"),
        (BudgetOutlook::Projected, Some(day)) => format!("Reached on {day} at this rate"),
        (BudgetOutlook::NoBudget, _) => "No monthly budget set".to_owned(),
        _ => "Not reached this month at this rate".to_owned(),
    };
    let budget_limit = forecast
        .month
        .budget
        .map(|limit| format!("{} a month", crate::format::usd(limit)));
    // The budget's line (and its legend) only where a budget is set.
    let has_budget = forecast.month.budget.is_some();
    let budget_class = match forecast.budget {
        BudgetOutlook::Reached => "forecast-budget exceeded",
        BudgetOutlook::Projected => "forecast-budget warning",
        _ => "forecast-budget",
    };
    view! {
        <p class="forecast-model" data-basis=basis>{forecast.model.clone()}</p>
        <dl class="kpis forecast-kpis">
            {period_view(&DAY, &forecast.day)}
            {period_view(&MONTH, &forecast.month)}
            <div data-period="budget">
                <dt>"Monthly budget"</dt>
                <dd id="forecast-budget" class=budget_class>{budget_text}</dd>
                {budget_limit.map(|limit| view! { <dd class="forecast-note">{limit}</dd> })}
            </div>
        </dl>
        <figure class="chart-card wide" data-chart="burn-down">
            <figcaption>"Burn-down: this month's spending against the monthly budget"</figcaption>
            {fetched(drawn, "Drawing the chart…", "The chart is unavailable: ", move |charts: Charts| match charts.get("burn-down") {
                Some(svg) => view! {
                    <div class="chart" role="img" aria-label=description.clone() inner_html=svg></div>
                    <ul class="legend">
                        <li><span class="line-key spent"></span>"Spent"</li>
                        <li><span class="line-key projected"></span>"Projected"</li>
                        <li><span class="line-key likely"></span>"Likely range (80 %)"</li>
                        {has_budget.then(|| view! {
                            <li><span class="line-key budget"></span>"Monthly budget"</li>
                        })}
                    </ul>
                }
                .into_any(),
                None => view! { <p class="empty">"Nothing spent or budgeted this month yet."</p> }.into_any(),
            })}
        </figure>
    }
}

/// How the page shows a forecast's period: its name (`data-period`), its elements' ids
/// (`forecast-{name}`, `…-range`, `…-spent`: written out, not formatted in the browser), its
/// title and its budget's name.
struct PeriodShown {
    name: &'static str,
    ids: [&'static str; 3],
    title: &'static str,
    budget_name: &'static str,
}

const DAY: PeriodShown = PeriodShown {
    name: "day",
    ids: ["forecast-day", "forecast-day-range", "forecast-day-spent"],
    title: "Today, projected",
    budget_name: "daily",
};

const MONTH: PeriodShown = PeriodShown {
    name: "month",
    ids: [
        "forecast-month",
        "forecast-month-range",
        "forecast-month-spent",
    ],
    title: "This month, projected",
    budget_name: "monthly",
};

/// One period's projection as a range, with what is spent so far and its budget.
fn period_view(shown: &PeriodShown, period: &PeriodForecast) -> impl IntoView {
    let budget_name = shown.budget_name;
    let budget = period.budget.map(|limit| {
        let verb = if period.projected > limit {
            "over"
        } else {
            "within"
        };
        format!(
            "{verb} the {} {budget_name} budget",
            crate::format::usd(limit)
        )
    });
    let [projected, range, spent] = shown.ids;
    view! {
        <div data-period=shown.name>
            <dt>{shown.title}</dt>
            <dd id=projected>{crate::format::usd(period.projected)}</dd>
            <dd id=range class="forecast-range">
                {format!("likely {} – {}", crate::format::usd(period.low), crate::format::usd(period.high))}
            </dd>
            <dd id=spent class="forecast-note">
                {format!("{} spent so far", crate::format::usd(period.spent))}
            </dd>
            {budget.map(|text| view! { <dd class="forecast-note">{text}</dd> })}
        </div>
    }
}

/// Cost by initiative and specification (all time, through the invocations' `task_id`).
#[component]
fn InitiativeCosts() -> impl IntoView {
    let dashboard = use_dashboard();
    if let Some(note) = dashboard
        .settings
        .with_value(super::initiatives::not_shared)
    {
        return view! {
            <section class="initiative-costs" aria-labelledby="initiative-costs-title">
                <h3 id="initiative-costs-title">"Cost by initiative and specification (all time)"</h3>
                <p class="not-shared">{note}</p>
            </section>
        }
        .into_any();
    }
    let costs = page_data::<PortfolioCosts>(Follows::BoardAndCosts, || {
        "/api/costs/initiatives".to_owned()
    });
    let share = |cost: &crate::model::CostShare| {
        view! {
            <td class="num">{crate::format::usd(cost.cost_usd)}</td>
            <td class="num">{crate::format::count(cost.tokens as f64)}</td>
            <td class="num">{cost.invocations}</td>
        }
    };
    view! {
        <section class="initiative-costs" aria-labelledby="initiative-costs-title">
            <h3 id="initiative-costs-title">"Cost by initiative and specification (all time)"</h3>
            {fetched(costs, "Adding up the tasks' costs…", "Not available: ", move |costs| view! {
                    <table class="cost-table">
                        <thead>
                            <tr><th scope="col">"Initiative · specification"</th><th scope="col" class="num">"Cost"</th><th scope="col" class="num">"Tokens"</th><th scope="col" class="num">"Calls"</th></tr>
                        </thead>
                        <tbody>
                            {costs
                                .initiatives
                                .into_iter()
                                .map(|initiative| {
                                    let cost = share(&initiative.cost);
                                    view! {
                                        <tr class="initiative-row" data-initiative=initiative.id.clone()>
                                            <th scope="row">{initiative.title}</th>
                                            {cost}
                                        </tr>
                                        {initiative
                                            .specifications
                                            .into_iter()
                                            .map(|spec| {
                                                let cost = share(&spec.cost);
                                                view! {
                                                    <tr class="spec-row" data-spec=spec.path.clone()>
                                                        <td class="spec-name">{spec.title}</td>
                                                        {cost}
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    }
                                })
                                .collect_view()}
                            <tr class="unlinked-row">
                                <th scope="row">"Tasks in no specification"</th>
                                {share(&costs.unlinked)}
                            </tr>
                        </tbody>
                    </table>
                })}
        </section>
    }
    .into_any()
}

/// Fetches the cost summary of `range` when it is not the board's 7 days, again whenever the
/// costs change.
#[cfg(feature = "hydrate")]
fn follow_cost_range(
    board: RwSignal<crate::state::BoardModel>,
    range: RwSignal<CostRange>,
    range_costs: RwSignal<Option<crate::model::CostSummary>>,
) {
    Effect::new(move |_| {
        let chosen = range.get();
        board.track();
        if chosen == CostRange::Days7 {
            return;
        }
        leptos::task::spawn_local(async move {
            let path = format!("/api/costs?range={}", chosen.as_str());
            if let Ok(summary) = crate::api::get_json::<crate::model::CostSummary>(&path).await {
                if range.get_untracked() == summary.range {
                    range_costs.set(Some(summary));
                }
            }
        });
    });
}

/// The board's compact costs: today, this month, all time, and the way to the costs page.
#[component]
pub fn CostSummary() -> impl IntoView {
    let dashboard = use_dashboard();
    let base = dashboard.settings.with_value(|s| s.base.clone());
    let money = move |pick: fn(&crate::model::CostTotals) -> f64| {
        move || {
            dashboard.board.with(|b| {
                b.costs
                    .as_ref()
                    .map(|c| crate::format::usd(pick(&c.totals)))
                    .unwrap_or_else(|| "–".into())
            })
        }
    };
    view! {
        <section class="cost-summary" aria-label="Costs">
            <dl class="kpis">
                <div><dt>"Today"</dt><dd id="cost-today">{money(|t| t.today)}</dd></div>
                <div><dt>"This month"</dt><dd id="cost-month">{money(|t| t.month)}</dd></div>
                <div><dt>"All time"</dt><dd id="cost-total">{money(|t| t.total)}</dd></div>
            </dl>
            <leptos_router::components::A href=format!("{base}/costs")>"Charts and costs by initiative →"</leptos_router::components::A>
        </section>
    }
}
