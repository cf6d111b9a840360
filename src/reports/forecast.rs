//! The spending forecast: what today and this month will probably cost, and the day the monthly
//! budget runs out, from the cost of each UTC day. Pure: the caller reads the days
//! (`Telemetry::daily_series`) and passes the instant and the budgets.
//!
//! The model, kept simple enough to explain in a sentence on the page:
//!
//! 1. **History**: the full UTC days before today, at most [`HISTORY_DAYS`], starting no earlier
//!    than the first day anything was recorded (days before it are unknown, not free); a day
//!    without invocations inside that span cost `0`.
//! 2. **Weekday effect**: with at least [`WEEKDAY_MIN_DAYS`] days (each weekday seen twice), a
//!    weekday's factor is the mean of that weekday's days over the mean of the seven weekday
//!    means, clamped to [`FACTOR_MIN`]..[`FACTOR_MAX`]; otherwise every factor is `1`.
//! 3. **Rate**: the days divided by their weekday's factor, averaged with exponentially decaying
//!    weights (yesterday weighs 1, a day [`HALF_LIFE_DAYS`] older half as much). A day's
//!    expected spending is that rate times its weekday's factor.
//! 4. **Spread**: the root mean square of the history's residuals (a day's cost minus its
//!    expected cost); with a single day of history, the rate itself (nothing says how steady
//!    it is).
//! 5. **Projections**: today's = spent so far + the part of today still to come × today's
//!    expected cost; the month's = spent this month + that remainder + every later day's
//!    expected cost. The range is an 80 % interval treating days as independent: ±[`Z_80`] ×
//!    spread × √(days to come, today's remainder counted as its fraction), its low end never
//!    below what is already spent.
//! 6. **Budget**: the first day this month whose cumulative spending (actual, else projected)
//!    reaches the monthly budget.
//!
//! Without one full day of history there is nothing to extrapolate: the basis says so and every
//! projection is what is already spent.

use std::collections::BTreeMap;

use app::model::{BudgetOutlook, Budgets, BurnDownDay, Forecast, ForecastBasis, PeriodForecast};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

/// How many full days before today the model learns from.
pub(crate) const HISTORY_DAYS: i64 = 28;
/// A day this much older weighs half as much in the rate.
pub(crate) const HALF_LIFE_DAYS: f64 = 7.0;
/// Weekday factors need each weekday twice.
pub(crate) const WEEKDAY_MIN_DAYS: usize = 14;
pub(crate) const FACTOR_MIN: f64 = 0.25;
pub(crate) const FACTOR_MAX: f64 = 4.0;
/// The standard normal quantile of 90 %: ± this many spreads is a two-sided 80 % interval.
pub(crate) const Z_80: f64 = 1.2816;

const MILLISECONDS_PER_DAY: f64 = 86_400_000.0;

/// What each UTC day cost, as read from the telemetry database.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DailySeries {
    /// Cost per day (of [`DailySeries::window`] at least); a day not here cost nothing.
    pub(crate) costs: BTreeMap<NaiveDate, f64>,
    /// The first day with any invocation in the whole database (possibly before the window).
    pub(crate) first_day: Option<NaiveDate>,
}

impl DailySeries {
    /// The days the forecast for `today` needs, first and last included: the history and the
    /// month so far.
    pub(crate) fn window(today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let history_start = today - Duration::days(HISTORY_DAYS);
        (history_start.min(month_start(today)), today)
    }

    fn cost(&self, day: NaiveDate) -> f64 {
        self.costs.get(&day).copied().unwrap_or(0.0)
    }
}

/// What the history says about a typical day.
#[derive(Clone, Debug, PartialEq)]
struct Model {
    days_of_history: u32,
    /// Monday first.
    weekday_factors: [f64; 7],
    rate: f64,
    spread: f64,
}

impl Model {
    fn expected(&self, day: NaiveDate) -> f64 {
        self.rate * self.weekday_factors[weekday(day)]
    }

    fn learn(series: &DailySeries, today: NaiveDate) -> Model {
        let earliest = today - Duration::days(HISTORY_DAYS);
        let first = series.first_day.map(|first| first.max(earliest));
        // Oldest first.
        let history: Vec<(NaiveDate, f64)> = match first {
            Some(first) if first < today => first
                .iter_days()
                .take_while(|day| *day < today)
                .map(|day| (day, series.cost(day)))
                .collect(),
            _ => Vec::new(),
        };
        let weekday_factors = weekday_factors(&history);
        let (mut weighted, mut weights) = (0.0, 0.0);
        for (day, cost) in &history {
            let age = (today - *day).num_days() as f64;
            let weight = 0.5f64.powf((age - 1.0) / HALF_LIFE_DAYS);
            weighted += weight * cost / weekday_factors[weekday(*day)];
            weights += weight;
        }
        let rate = if weights > 0.0 {
            weighted / weights
        } else {
            0.0
        };
        let mut model = Model {
            days_of_history: u32::try_from(history.len()).unwrap_or(u32::MAX),
            weekday_factors,
            rate,
            spread: 0.0,
        };
        model.spread = match history.len() {
            0 => 0.0,
            1 => rate,
            n => {
                let squares: f64 = history
                    .iter()
                    .map(|(day, cost)| (cost - model.expected(*day)).powi(2))
                    .sum();
                (squares / n as f64).sqrt()
            }
        };
        model
    }

    fn explanation(&self) -> String {
        if self.days_of_history == 0 {
            return "No full day of spending before today yet: the projections are what is \
                    spent so far."
                .to_owned();
        }
        let days = self.days_of_history;
        let plural = if days == 1 { "" } else { "s" };
        let weekdays = if self.weekday_factors.iter().all(|f| *f == 1.0) {
            format!("no weekday effect (it needs {WEEKDAY_MIN_DAYS} days)")
        } else {
            "× the weekday's factor".to_owned()
        };
        format!(
            "Mean of the last {days} full UTC day{plural}, recent days weighted more \
             (half-life {HALF_LIFE_DAYS:.0} days), {weekdays}; the range is the 80 % interval \
             of the daily deviations."
        )
    }
}

/// Each weekday's mean over the mean of the weekday means, clamped; all `1` when the history
/// is too short or cost nothing.
fn weekday_factors(history: &[(NaiveDate, f64)]) -> [f64; 7] {
    let mut factors = [1.0; 7];
    if history.len() < WEEKDAY_MIN_DAYS {
        return factors;
    }
    let mut sums = [0.0; 7];
    let mut counts = [0u32; 7];
    for (day, cost) in history {
        sums[weekday(*day)] += cost;
        counts[weekday(*day)] += 1;
    }
    let means: Vec<f64> = sums
        .iter()
        .zip(counts)
        .map(|(sum, count)| sum / f64::from(count.max(1)))
        .collect();
    let grand = means.iter().sum::<f64>() / 7.0;
    if grand > 0.0 {
        for (factor, mean) in factors.iter_mut().zip(means) {
            *factor = (mean / grand).clamp(FACTOR_MIN, FACTOR_MAX);
        }
    }
    factors
}

fn weekday(day: NaiveDate) -> usize {
    day.weekday().num_days_from_monday() as usize
}

fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn month_end(day: NaiveDate) -> NaiveDate {
    month_start(day)
        .checked_add_months(chrono::Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(day)
}

fn date(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Spent so far plus `expected` to come, with the range of ±[`Z_80`] × `spread` (never below
/// `spent`): `(projected, low, high)`.
fn projection(spent: f64, expected: f64, spread: f64) -> (f64, f64, f64) {
    let margin = Z_80 * spread;
    (
        spent + expected,
        spent + (expected - margin).max(0.0),
        spent + expected + margin,
    )
}

/// The forecast for the instant `now` from the days' costs and the budgets.
pub(crate) fn forecast(series: &DailySeries, now: DateTime<Utc>, budgets: Budgets) -> Forecast {
    let today = now.date_naive();
    let model = Model::learn(series, today);
    let midnight = (today + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let rest_of_today =
        ((midnight - now).num_milliseconds() as f64 / MILLISECONDS_PER_DAY).clamp(0.0, 1.0);

    // The month day by day: actual to today, then the projection.
    let mut burn_down = Vec::new();
    let mut spent = 0.0;
    let (mut expected, mut variance_days) = (0.0, 0.0);
    for day in month_start(today)
        .iter_days()
        .take_while(|day| *day <= month_end(today))
    {
        let actual = if day <= today {
            spent += series.cost(day);
            Some(spent)
        } else {
            None
        };
        let share = match day.cmp(&today) {
            std::cmp::Ordering::Less => 0.0,
            std::cmp::Ordering::Equal => rest_of_today,
            std::cmp::Ordering::Greater => 1.0,
        };
        expected += share * model.expected(day);
        variance_days += share;
        let (projected, low, high) =
            projection(spent, expected, model.spread * variance_days.sqrt());
        burn_down.push(BurnDownDay {
            date: date(day),
            actual,
            projected,
            low,
            high,
        });
    }

    let spent_today = series.cost(today);
    let (projected, low, high) = projection(
        spent_today,
        rest_of_today * model.expected(today),
        model.spread * rest_of_today.sqrt(),
    );
    let day = PeriodForecast {
        period: date(today),
        spent: spent_today,
        projected,
        low,
        high,
        budget: budgets.daily_usd,
    };
    let end = burn_down.last().cloned().unwrap_or_default();
    let month = PeriodForecast {
        period: today.format("%Y-%m").to_string(),
        spent,
        projected: end.projected,
        low: end.low,
        high: end.high,
        budget: budgets.monthly_usd,
    };
    let (budget, budget_reached_on) = match budgets.monthly_usd {
        None => (BudgetOutlook::NoBudget, None),
        Some(limit) => {
            let reached = burn_down
                .iter()
                .find(|d| d.actual.is_some_and(|actual| actual >= limit));
            let projected = burn_down.iter().find(|d| d.projected >= limit);
            match (reached, projected) {
                (Some(d), _) => (BudgetOutlook::Reached, Some(d.date.clone())),
                (None, Some(d)) => (BudgetOutlook::Projected, Some(d.date.clone())),
                (None, None) => (BudgetOutlook::Within, None),
            }
        }
    };
    Forecast {
        basis: if model.days_of_history == 0 {
            ForecastBasis::NoHistory
        } else {
            ForecastBasis::RecentDays
        },
        model: model.explanation(),
        days_of_history: model.days_of_history,
        daily_rate: model.rate,
        daily_spread: model.spread,
        weekday_factors: model.weekday_factors.to_vec(),
        day,
        month,
        budget,
        budget_reached_on,
        burn_down,
        generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// `cost(day)` for every day from `first` to `last`.
    fn series(first: &str, last: &str, cost: impl Fn(NaiveDate) -> f64) -> DailySeries {
        let costs: BTreeMap<NaiveDate, f64> = day(first)
            .iter_days()
            .take_while(|d| *d <= day(last))
            .map(|d| (d, cost(d)))
            .collect();
        DailySeries {
            first_day: costs.keys().next().copied(),
            costs,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[track_caller]
    fn assert_close(actual: f64, expected: f64) {
        assert!(close(actual, expected), "{actual} ≠ {expected}");
    }

    const NO_BUDGET: Budgets = Budgets {
        daily_usd: None,
        monthly_usd: None,
    };

    fn monthly(limit: f64) -> Budgets {
        Budgets {
            daily_usd: None,
            monthly_usd: Some(limit),
        }
    }

    /// Saturday 21 November 2026, noon: half of today and 9 more days of the month to come.
    const NOON: &str = "2026-11-21T12:00:00Z";

    /// $10 every day since October, $4 so far today.
    fn flat() -> DailySeries {
        let mut flat = series("2026-10-01", "2026-11-20", |_| 10.0);
        flat.costs.insert(day("2026-11-21"), 4.0);
        flat
    }

    #[test]
    fn a_flat_series_projects_exactly_the_rate_for_the_rest_of_the_month() {
        let forecast = forecast(&flat(), at(NOON), NO_BUDGET);
        assert_eq!(forecast.basis, ForecastBasis::RecentDays);
        assert_eq!(forecast.days_of_history, 28);
        assert_close(forecast.daily_rate, 10.0);
        assert_close(forecast.daily_spread, 0.0);
        assert_eq!(forecast.weekday_factors, vec![1.0; 7]);

        assert_eq!(forecast.day.period, "2026-11-21");
        assert_close(forecast.day.spent, 4.0);
        assert_close(forecast.day.projected, 4.0 + 0.5 * 10.0);
        assert_close(forecast.day.low, forecast.day.projected);
        assert_close(forecast.day.high, forecast.day.projected);

        assert_eq!(forecast.month.period, "2026-11");
        let spent = 20.0 * 10.0 + 4.0;
        assert_close(forecast.month.spent, spent);
        assert_close(forecast.month.projected, spent + 0.5 * 10.0 + 9.0 * 10.0);
        assert_close(forecast.month.low, forecast.month.projected);
        assert_close(forecast.month.high, forecast.month.projected);
        assert_eq!(forecast.budget, BudgetOutlook::NoBudget);
        assert_eq!(forecast.budget_reached_on, None);

        assert_eq!(forecast.burn_down.len(), 30);
        assert_eq!(forecast.burn_down[0].date, "2026-11-01");
        assert_eq!(forecast.burn_down[0].actual, Some(10.0));
        assert_eq!(forecast.burn_down[20].actual, Some(spent));
        assert_close(forecast.burn_down[20].projected, spent + 5.0);
        assert_eq!(forecast.burn_down[21].actual, None);
        assert_close(forecast.burn_down[21].projected, spent + 15.0);
        assert_close(forecast.burn_down[29].projected, forecast.month.projected);
        assert_eq!(forecast.generated_at, "2026-11-21T12:00:00.000Z");
    }

    #[test]
    fn the_budget_is_reached_on_the_day_the_cumulative_projection_crosses_it() {
        // 204 spent by noon, 209 by midnight, then 10 a day: 249 on the 25th, 259 on the 26th.
        let forecast = forecast(&flat(), at(NOON), monthly(250.0));
        assert_eq!(forecast.budget, BudgetOutlook::Projected);
        assert_eq!(forecast.budget_reached_on.as_deref(), Some("2026-11-26"));
        assert_eq!(forecast.month.budget, Some(250.0));

        // Exactly reached by the projection at midnight tonight.
        let forecast = super::forecast(&flat(), at(NOON), monthly(209.0));
        assert_eq!(forecast.budget_reached_on.as_deref(), Some("2026-11-21"));
        assert_eq!(forecast.budget, BudgetOutlook::Projected);

        let forecast = super::forecast(&flat(), at(NOON), monthly(1_000.0));
        assert_eq!(forecast.budget, BudgetOutlook::Within);
        assert_eq!(forecast.budget_reached_on, None);
    }

    #[test]
    fn a_budget_already_spent_names_the_day_it_was_reached() {
        // 10 a day from the 1st: 150 at the end of the 15th.
        let forecast = forecast(&flat(), at(NOON), monthly(150.0));
        assert_eq!(forecast.budget, BudgetOutlook::Reached);
        assert_eq!(forecast.budget_reached_on.as_deref(), Some("2026-11-15"));
        // Reached today, by what is spent so far.
        let forecast = super::forecast(&flat(), at(NOON), monthly(203.0));
        assert_eq!(forecast.budget, BudgetOutlook::Reached);
        assert_eq!(forecast.budget_reached_on.as_deref(), Some("2026-11-21"));
    }

    #[test]
    fn a_weekday_pattern_is_projected_day_by_day() {
        // Four weeks of $12 on weekdays and $7 at weekends; today is a Saturday, nothing spent.
        let weekly = |d: NaiveDate| if weekday(d) < 5 { 12.0 } else { 7.0 };
        let history = series("2026-10-24", "2026-11-20", weekly);
        let forecast = forecast(&history, at(NOON), NO_BUDGET);
        assert_eq!(forecast.days_of_history, 28);
        let mean = (5.0 * 12.0 + 2.0 * 7.0) / 7.0;
        assert_close(forecast.daily_rate, mean);
        assert_close(forecast.weekday_factors[0], 12.0 / mean);
        assert_close(forecast.weekday_factors[6], 7.0 / mean);
        assert_close(forecast.daily_spread, 0.0);
        // Saturday's remaining half at the weekend rate.
        assert_close(forecast.day.projected, 0.5 * 7.0);
        // The 22nd (Sunday) to the 30th (Monday): 3 weekend days and 6 weekdays.
        let spent: f64 = day("2026-11-01")
            .iter_days()
            .take_while(|d| *d < day("2026-11-21"))
            .map(weekly)
            .sum();
        assert_close(forecast.month.spent, spent);
        let to_come = 0.5 * 7.0 + 3.0 * 7.0 + 6.0 * 12.0;
        assert_close(forecast.month.projected, spent + to_come);
        assert!(forecast.model.contains("weekday"), "{}", forecast.model);
    }

    #[test]
    fn recent_days_weigh_more_and_the_spread_gives_the_range() {
        // $20 a day for two weeks, then $10 a day for the last two: the recent half weighs 4×
        // as much (two half-lives), so the rate is (10 + 20/4) / (1 + 1/4) = 12.
        let step = |d: NaiveDate| if d < day("2026-11-07") { 20.0 } else { 10.0 };
        let history = series("2026-10-24", "2026-11-20", step);
        let forecast = forecast(&history, at(NOON), NO_BUDGET);
        assert_eq!(forecast.weekday_factors, vec![1.0; 7]);
        assert_close(forecast.daily_rate, 12.0);
        // Residuals: 14 days of +8, 14 of −2.
        let spread = ((14.0 * 64.0 + 14.0 * 4.0) / 28.0f64).sqrt();
        assert_close(forecast.daily_spread, spread);
        // Today: half a day to come.
        assert_close(forecast.day.projected, 6.0);
        assert_close(forecast.day.high, 6.0 + Z_80 * spread * 0.5f64.sqrt());
        assert_close(
            forecast.day.low,
            0.0f64.max(6.0 - Z_80 * spread * 0.5f64.sqrt()),
        );
        // The month: 9.5 days to come.
        let spent = 6.0 * 20.0 + 14.0 * 10.0;
        assert_close(forecast.month.spent, spent);
        assert_close(forecast.month.projected, spent + 9.5 * 12.0);
        let margin = Z_80 * spread * 9.5f64.sqrt();
        assert_close(forecast.month.low, spent + 9.5 * 12.0 - margin);
        assert_close(forecast.month.high, spent + 9.5 * 12.0 + margin);
    }

    #[test]
    fn the_low_end_never_drops_below_what_is_spent() {
        // A wild history: a big day then nothing.
        let mut wild = series("2026-11-18", "2026-11-20", |_| 0.0);
        wild.costs.insert(day("2026-11-18"), 90.0);
        wild.costs.insert(day("2026-11-21"), 3.0);
        let forecast = forecast(&wild, at(NOON), NO_BUDGET);
        assert_eq!(forecast.days_of_history, 3);
        // Half a day at a rate of about 29 with a spread of about 42: the low end is the floor.
        assert_close(forecast.day.low, 3.0);
        assert!(forecast.day.high > forecast.day.projected);
        assert_close(forecast.month.spent, 93.0);
        assert!(forecast.month.low >= forecast.month.spent);
        assert!(forecast.month.high > forecast.month.projected);
        for day in &forecast.burn_down {
            assert!(
                day.low <= day.projected && day.projected <= day.high,
                "{day:?}"
            );
        }
    }

    #[test]
    fn a_short_history_has_no_weekday_effect_and_starts_at_the_first_recorded_day() {
        // Three days recorded (the database began on the 18th): the days before are unknown,
        // not free, so the rate is the weighted mean of these three.
        let history = series("2026-11-18", "2026-11-20", |_| 6.0);
        let forecast = forecast(&history, at(NOON), NO_BUDGET);
        assert_eq!(forecast.days_of_history, 3);
        assert_close(forecast.daily_rate, 6.0);
        assert_eq!(forecast.weekday_factors, vec![1.0; 7]);
        assert!(
            forecast.model.contains("no weekday effect"),
            "{}",
            forecast.model
        );
        // A quiet day inside the recorded span counts as zero.
        let mut gap = history.clone();
        gap.costs.remove(&day("2026-11-19"));
        let forecast = super::forecast(&gap, at(NOON), NO_BUDGET);
        assert!(forecast.daily_rate < 6.0 && forecast.daily_rate > 0.0);
    }

    #[test]
    fn weekday_factors_are_clamped() {
        // Nothing on Sundays: their factor stops at the floor instead of reaching zero.
        let history = series("2026-10-24", "2026-11-20", |d| {
            if weekday(d) == 6 {
                0.0
            } else {
                10.0
            }
        });
        let forecast = forecast(&history, at(NOON), NO_BUDGET);
        assert_close(forecast.weekday_factors[6], FACTOR_MIN);
        assert_close(forecast.weekday_factors[0], 10.0 / (60.0 / 7.0));
    }

    #[test]
    fn no_history_at_all_is_zeros_and_says_so() {
        let forecast = forecast(&DailySeries::default(), at(NOON), monthly(100.0));
        assert_eq!(forecast.basis, ForecastBasis::NoHistory);
        assert_eq!(forecast.days_of_history, 0);
        assert_eq!(
            (
                forecast.day.spent,
                forecast.day.projected,
                forecast.day.low,
                forecast.day.high
            ),
            (0.0, 0.0, 0.0, 0.0)
        );
        assert_eq!(
            (
                forecast.month.spent,
                forecast.month.projected,
                forecast.month.high
            ),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(forecast.budget, BudgetOutlook::Within);
        assert_eq!(forecast.budget_reached_on, None);
        assert_eq!(forecast.burn_down.len(), 30);
        assert!(forecast.model.contains("No full day"), "{}", forecast.model);
    }

    #[test]
    fn spending_only_today_is_no_history_and_projects_what_is_spent() {
        let mut today_only = DailySeries::default();
        today_only.costs.insert(day("2026-11-21"), 7.5);
        today_only.first_day = Some(day("2026-11-21"));
        let forecast = forecast(&today_only, at(NOON), NO_BUDGET);
        assert_eq!(forecast.basis, ForecastBasis::NoHistory);
        assert_close(forecast.day.projected, 7.5);
        assert_close(forecast.month.projected, 7.5);
        assert_close(forecast.month.high, 7.5);
    }

    #[test]
    fn the_window_covers_the_history_and_the_whole_month() {
        assert_eq!(
            DailySeries::window(day("2026-11-21")),
            (day("2026-10-24"), day("2026-11-21"))
        );
        assert_eq!(
            DailySeries::window(day("2026-12-31")),
            (day("2026-12-01"), day("2026-12-31"))
        );
    }

    #[test]
    fn the_last_second_of_the_month_has_nothing_left_to_come() {
        let forecast = forecast(&flat(), at("2026-11-30T23:59:59Z"), NO_BUDGET);
        // The flat series stops on the 20th: the 21st (4) and the 22nd to the 29th (0) are
        // spent; only a second of the 30th is left.
        assert!(forecast.month.projected - forecast.month.spent < 0.001);
        assert_eq!(forecast.burn_down.len(), 30);
        assert!(forecast.burn_down.iter().all(|d| d.actual.is_some()));
    }
}
