//! The spending forecast (`GET /api/forecast` and the costs page): what today and this month will
//! probably cost at the recent rate, as a range, and when the monthly budget runs out. Plain data:
//! the server computes it (`execdash::forecast`, where the model is explained).
//!
//! Dates are `YYYY-MM-DD` (UTC) and instants RFC 3339 strings, as in [`super::cost`].

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

/// What the forecast stands on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJson)]
#[serde(rename_all = "snake_case")]
pub enum ForecastBasis {
    /// Not one full day of spending before today: nothing to extrapolate, the projections are
    /// what is already spent.
    #[default]
    NoHistory,
    /// The recent full days (see [`Forecast::days_of_history`]).
    RecentDays,
}

/// Where this month's spending stands against the monthly budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJson)]
#[serde(rename_all = "snake_case")]
pub enum BudgetOutlook {
    /// No monthly budget is configured.
    #[default]
    NoBudget,
    /// The projection stays under the budget until the month ends.
    Within,
    /// At the expected rate the budget is reached on [`Forecast::budget_reached_on`].
    Projected,
    /// Already spent: [`Forecast::budget_reached_on`] is the day it was reached.
    Reached,
}

/// One period's spending: what is spent so far and what it will probably be at its end.
/// `low ≤ projected ≤ high`, and none of them is below `spent`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct PeriodForecast {
    /// The period: the day (`2026-11-21`) or the month (`2026-11`).
    pub period: String,
    /// Spent so far in the period, USD.
    pub spent: f64,
    /// Spent at the period's end at the expected rate.
    pub projected: f64,
    /// The likely range of the spending at the period's end (an 80 % interval).
    pub low: f64,
    pub high: f64,
    /// The budget of the period, when one is configured.
    pub budget: Option<f64>,
}

/// One day of this month on the burn-down chart: cumulative spending since the month began.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct BurnDownDay {
    pub date: String,
    /// Spent from the month's first day to this day's end (to now, for today); `None` for days
    /// still to come.
    pub actual: Option<f64>,
    /// The projection to this day's end (equal to `actual` before today), and its range.
    pub projected: f64,
    pub low: f64,
    pub high: f64,
}

/// The forecast as of `generated_at`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct Forecast {
    pub basis: ForecastBasis,
    /// The model in one line, for the reader.
    pub model: String,
    /// Full UTC days before today the model learnt from (at most 28).
    pub days_of_history: u32,
    /// The typical day's spending the model found (before the weekday effect), USD.
    pub daily_rate: f64,
    /// How far a day's spending strays from the model (root mean square of the residuals), USD.
    pub daily_spread: f64,
    /// Each weekday's spending relative to the average day, Monday first; all `1` without the
    /// two weeks of history the effect needs.
    pub weekday_factors: Vec<f64>,
    /// Today (UTC), spent so far and projected to midnight UTC.
    pub day: PeriodForecast,
    /// This month (UTC), spent so far and projected to its last day's end.
    pub month: PeriodForecast,
    pub budget: BudgetOutlook,
    /// The day this month's spending reaches the monthly budget: already reached on, or projected
    /// to reach at the expected rate; `None` without a budget or when not reached this month.
    pub budget_reached_on: Option<String>,
    /// Every day of the month, for the burn-down chart.
    pub burn_down: Vec<BurnDownDay>,
    pub generated_at: String,
}
