//! `GET /api/forecast` on the real server and a real SQLite file: a series posted through
//! `POST /api/invocations` gives the forecast the model promises for it; no data gives zeros that
//! say so; a broken database gives an error, never a forecast of zero.

mod common;

use app::model::{BudgetOutlook, Budgets, Forecast, ForecastBasis};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use common::{start_server, Workspace};
use reqwest::StatusCode;
use serde_json::{json, Value};

const DAILY_COST: f64 = 10.0;
const SPENT_TODAY: f64 = 3.0;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[track_caller]
fn assert_close(what: &str, actual: f64, expected: f64) {
    assert!(close(actual, expected), "{what}: {actual} ≠ {expected}");
}

fn invocation(id: &str, timestamp: DateTime<Utc>, cost: f64) -> Value {
    json!({"invocation_id": id, "timestamp": timestamp.to_rfc3339(), "agent_name": "benny",
           "tool_name": "claude-code", "model_name": "claude-sonnet-4", "total_tokens": 100,
           "cost_usd": cost, "status": "success"})
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap().and_utc()
}

fn days_in_month(day: NaiveDate) -> u32 {
    let first = day.with_day(1).unwrap();
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap();
    u32::try_from((next - first).num_days()).unwrap()
}

async fn get_forecast(base: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{base}/api/forecast")).await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_flat_series_is_projected_at_its_rate_to_the_end_of_the_day_and_month() {
    let workspace = Workspace::empty();
    let server = start_server(&workspace, |config| {
        config.budgets = Budgets {
            daily_usd: Some(50.0),
            monthly_usd: Some(1.0),
        }
    })
    .await;
    let base = format!("http://{}", server.addr);
    // $10 at noon of each of the 40 days before today (the whole month so far, and more than
    // the 28 days of history), $3 at midnight today.
    let today = Utc::now().date_naive();
    let mut batch: Vec<Value> = (1..=40)
        .map(|ago| {
            let noon = midnight(today - Duration::days(ago)) + Duration::hours(12);
            invocation(&format!("day-{ago}"), noon, DAILY_COST)
        })
        .collect();
    batch.push(invocation("today", midnight(today), SPENT_TODAY));
    let posted = reqwest::Client::new()
        .post(format!("{base}/api/invocations"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);

    let (status, json) = get_forecast(&base).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let forecast: Forecast = serde_json::from_value(json.clone()).unwrap();
    // The known answer depends on the instant the server forecast at.
    let now = DateTime::parse_from_rfc3339(&forecast.generated_at)
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(now.date_naive(), today, "the test ran across midnight UTC");
    let rest_of_today =
        (midnight(today + Duration::days(1)) - now).num_milliseconds() as f64 / 86_400_000.0;
    let days_to_come = f64::from(days_in_month(today) - today.day());
    let month_spent = DAILY_COST * f64::from(today.day() - 1) + SPENT_TODAY;

    assert_eq!(json["basis"], "recent_days");
    assert_eq!(forecast.basis, ForecastBasis::RecentDays);
    assert_eq!(forecast.days_of_history, 28);
    assert_close("rate", forecast.daily_rate, DAILY_COST);
    assert_close("spread", forecast.daily_spread, 0.0);
    assert!(!forecast.model.is_empty());

    assert_eq!(forecast.day.period, today.format("%Y-%m-%d").to_string());
    assert_close("spent today", forecast.day.spent, SPENT_TODAY);
    let day_end = SPENT_TODAY + rest_of_today * DAILY_COST;
    assert_close("today projected", forecast.day.projected, day_end);
    assert_close("today low", forecast.day.low, day_end);
    assert_close("today high", forecast.day.high, day_end);
    assert_eq!(forecast.day.budget, Some(50.0));

    assert_eq!(forecast.month.period, today.format("%Y-%m").to_string());
    assert_close("month spent", forecast.month.spent, month_spent);
    let month_end = month_spent + (rest_of_today + days_to_come) * DAILY_COST;
    assert_close("month projected", forecast.month.projected, month_end);
    assert_close("month low", forecast.month.low, month_end);
    assert_close("month high", forecast.month.high, month_end);
    assert_eq!(forecast.burn_down.len() as u32, days_in_month(today));

    // $1 a month: spent on the month's first day already.
    assert_eq!(json["budget"], "reached");
    assert_eq!(forecast.budget, BudgetOutlook::Reached);
    assert_eq!(
        forecast.budget_reached_on,
        Some(today.with_day(1).unwrap().format("%Y-%m-%d").to_string())
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn no_data_is_a_forecast_of_zero_that_says_it_has_no_history() {
    let workspace = Workspace::empty();
    let server = start_server(&workspace, |_| {}).await;
    let (status, json) = get_forecast(&format!("http://{}", server.addr)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["basis"], "no_history");
    assert_eq!(json["days_of_history"], 0);
    for period in ["day", "month"] {
        for figure in ["spent", "projected", "low", "high"] {
            assert_eq!(json[period][figure], 0.0, "{period}.{figure}: {json}");
        }
    }
    assert_eq!(json["budget"], "no_budget");
    assert_eq!(json["budget_reached_on"], Value::Null);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_broken_database_is_an_error_not_a_forecast_of_zero() {
    let workspace = Workspace::empty();
    let db = workspace.root().join("telemetry.db");
    std::fs::write(&db, b"not a database, somebody's notes\n".repeat(200)).unwrap();
    let server = start_server(&workspace, |_| {}).await;
    let (status, json) = get_forecast(&format!("http://{}", server.addr)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
    assert_eq!(json["reason"], "corrupt", "{json}");
    assert!(json.get("day").is_none(), "{json}");
    server.stop().await.unwrap();
}
