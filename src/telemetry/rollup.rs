//! What a group of rows inserted by execdash's own writer adds to the rollups on SQLite, summed
//! in memory and written with one grouped statement per table.
//!
//! The triggers of `migrations/sqlite/1.2.0-rollups.sql` and `1.3.0-hourly-rollups.sql` keep
//! `cost_rollup`, `cost_rollup_hourly` and `task_costs` equal to the rows for every writer (the
//! original Python logger included). Inside execdash's ingest transaction they stand aside
//! (`rollup_batch` holds a row, migration 1.6.0) and the writer adds the group's sums itself:
//! first with three `INSERT … SELECT … GROUP BY` statements over the new rows, which read every
//! row again and computed `date()`/`strftime()` on each (a fifth of a group's time); now the
//! sums are taken from the rows in memory, whose timestamps validation wrote in one form
//! (`YYYY-MM-DDTHH:MM:SS.ffffff+00:00`, see `Invocation::validated`), so a day and an hour are
//! slices of it, exactly what `date()` and `strftime('%Y-%m-%d %H:00:00')` give for it.
//!
//! The original `daily_costs` table is kept here too, with its own rule for NULL agents.

use std::borrow::Cow;
use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, Transaction};

use super::invocation::{parse_timestamp, Invocation};

/// Keys per grouped statement (8 parameters each, within SQLite's 32 766).
const KEYS_PER_STATEMENT: usize = 1_000;

/// The sums of one rollup row.
#[derive(Clone, Copy, Debug, Default)]
struct Sums {
    invocations: i64,
    errors: i64,
    tokens: i64,
    cost: f64,
}

impl Sums {
    fn add(&mut self, row: &Invocation) {
        self.invocations += 1;
        self.errors += i64::from(row.status != "success");
        self.tokens += row.total_tokens;
        self.cost += row.cost_usd;
    }
}

/// A rollup's key: the period (a day `YYYY-MM-DD` or an hour `YYYY-MM-DDTHH`), the model,
/// the agent (`''` for none, as the triggers write it) and the tool.
type PeriodKey<'a> = (Cow<'a, str>, &'a str, &'a str, &'a str);

/// A `daily_costs` key of borrowed rows: day, agent (NULL kept apart), tool, model.
type OriginalKey<'a> = (Cow<'a, str>, Option<&'a str>, &'a str, &'a str);

/// What a group's new rows add to the three rollups.
#[derive(Debug, Default)]
pub(super) struct Rollups<'a> {
    days: HashMap<PeriodKey<'a>, Sums>,
    hours: HashMap<PeriodKey<'a>, Sums>,
    tasks: HashMap<&'a str, Sums>,
    /// The original `daily_costs` table's: by day, agent (NULL kept apart), tool and model.
    original: HashMap<OriginalKey<'a>, Sums>,
}

impl<'a> Rollups<'a> {
    /// The sums of `rows` (inserted, so counted once each).
    pub(super) fn of(rows: &[&'a Invocation]) -> Rollups<'a> {
        let mut rollups = Rollups::default();
        for &row in rows {
            let (day, hour) = day_and_hour(row.timestamp.as_deref());
            let agent = row.agent_name.as_deref().unwrap_or("");
            let (model, tool) = (row.model_name.as_str(), row.tool_name.as_str());
            rollups
                .original
                .entry((day.clone(), row.agent_name.as_deref(), tool, model))
                .or_default()
                .add(row);
            rollups
                .days
                .entry((day, model, agent, tool))
                .or_default()
                .add(row);
            if let Some(hour) = hour {
                rollups
                    .hours
                    .entry((hour, model, agent, tool))
                    .or_default()
                    .add(row);
            }
            if let Some(task) = row.task_id.as_deref() {
                rollups.tasks.entry(task).or_default().add(row);
            }
        }
        rollups
    }

    /// Adds the sums of the original `daily_costs` table to `daily` (which [`add_daily`] writes).
    pub(super) fn add_original_to(&self, daily: &mut HashMap<DailyKey, DailyDelta>) {
        for ((day, agent, tool, model), sums) in &self.original {
            let key = (
                day.to_string(),
                agent.map(str::to_owned),
                tool.to_string(),
                model.to_string(),
            );
            let delta = daily.entry(key).or_default();
            delta.invocations += sums.invocations;
            delta.tokens += sums.tokens;
            delta.cost += sums.cost;
        }
    }

    /// Adds the sums to the rollup tables: one upsert per table (per thousand keys).
    pub(super) async fn add_to(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
    ) -> Result<(), sqlx::Error> {
        // Each table, its period's column, and how a key's period is written there.
        let day_text: fn(&str) -> String = str::to_owned;
        for (table, period, sums, text_of) in [
            ("cost_rollup", "day", &self.days, day_text),
            ("cost_rollup_hourly", "hour", &self.hours, hour_of),
        ] {
            let keys: Vec<_> = sums.iter().collect();
            for chunk in keys.chunks(KEYS_PER_STATEMENT) {
                let mut query = QueryBuilder::<Sqlite>::new(format!(
                    "INSERT INTO {table} ({period}, model_name, agent_name, tool_name, \
                     invocations, errors, total_tokens, cost_usd) "
                ));
                query.push_values(chunk, |mut values, ((period, model, agent, tool), sums)| {
                    values
                        .push_bind(text_of(period))
                        .push_bind(*model)
                        .push_bind(*agent)
                        .push_bind(*tool)
                        .push_bind(sums.invocations)
                        .push_bind(sums.errors)
                        .push_bind(sums.tokens)
                        .push_bind(sums.cost);
                });
                query.push(format!(
                    " ON CONFLICT ({period}, model_name, agent_name, tool_name) DO UPDATE SET \
                     invocations = invocations + excluded.invocations, \
                     errors = errors + excluded.errors, \
                     total_tokens = total_tokens + excluded.total_tokens, \
                     cost_usd = cost_usd + excluded.cost_usd"
                ));
                query.build().execute(&mut **tx).await?;
            }
        }
        let tasks: Vec<_> = self.tasks.iter().collect();
        for chunk in tasks.chunks(KEYS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO task_costs (task_id, invocations, total_tokens, cost_usd) ",
            );
            query.push_values(chunk, |mut values, (task, sums)| {
                values
                    .push_bind(**task)
                    .push_bind(sums.invocations)
                    .push_bind(sums.tokens)
                    .push_bind(sums.cost);
            });
            query.push(
                " ON CONFLICT (task_id) DO UPDATE SET \
                 invocations = invocations + excluded.invocations, \
                 total_tokens = total_tokens + excluded.total_tokens, \
                 cost_usd = cost_usd + excluded.cost_usd",
            );
            query.build().execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// The UTC day and hour of a stored timestamp as the triggers compute them: `date(timestamp)`
/// (`''` when it has none) and the hour's `YYYY-MM-DDTHH` (none then, and the hourly rollup
/// does not count the row; [`hour_of`] writes it as `strftime('%Y-%m-%d %H:00:00')` does). A
/// validated row's timestamp is sliced; anything else is parsed as SQLite would.
fn day_and_hour(timestamp: Option<&str>) -> (Cow<'_, str>, Option<Cow<'_, str>>) {
    match timestamp {
        Some(text)
            if text.len() == 32
                && text.as_bytes()[10] == b'T'
                && text.is_char_boundary(13)
                && text.ends_with("+00:00") =>
        {
            (Cow::Borrowed(&text[..10]), Some(Cow::Borrowed(&text[..13])))
        }
        Some(text) => match parse_timestamp(text) {
            Some(instant) => (
                Cow::Owned(instant.format("%Y-%m-%d").to_string()),
                Some(Cow::Owned(instant.format("%Y-%m-%dT%H").to_string())),
            ),
            None => (Cow::Borrowed(""), None),
        },
        None => (Cow::Borrowed(""), None),
    }
}

/// The UTC day of a stored timestamp, as `date(timestamp)` gives it (`''` for none): the
/// `daily_costs` row a call counts in.
pub(super) fn day_of(timestamp: Option<&str>) -> Cow<'_, str> {
    day_and_hour(timestamp).0
}

/// The hourly rollup's `hour` of a `YYYY-MM-DDTHH` from [`day_and_hour`].
fn hour_of(hour: &str) -> String {
    format!("{} {}:00:00", &hour[..10], &hour[11..])
}

/// Key of an original `daily_costs` row: day, agent (NULL kept apart), tool, model.
pub(super) type DailyKey = (String, Option<String>, String, String);

/// What a group adds to one `daily_costs` row (a completed copy moves its call: `-1` on one
/// row, `+1` on another).
#[derive(Debug, Default)]
pub(super) struct DailyDelta {
    pub(super) invocations: i64,
    pub(super) tokens: i64,
    pub(super) cost: f64,
}

/// Adds each delta to its `daily_costs` row, or creates the row: two statements per thousand
/// keys. `agent_name IS` and updating the first matching rowid make NULL agents aggregate into
/// one row, even in files where the original writer has already created several (its
/// `ON CONFLICT` never fires for NULL, as NULLs are distinct).
pub(super) async fn add_daily(
    tx: &mut Transaction<'static, Sqlite>,
    deltas: &HashMap<DailyKey, DailyDelta>,
) -> Result<(), sqlx::Error> {
    let deltas: Vec<_> = deltas.iter().collect();
    for chunk in deltas.chunks(KEYS_PER_STATEMENT) {
        let values = |statement: &str| {
            let mut query = QueryBuilder::<Sqlite>::new(
                "WITH d (day, agent, tool, model, calls, tokens, cost) AS (",
            );
            query.push_values(chunk, |mut values, ((day, agent, tool, model), delta)| {
                values
                    .push_bind(day.as_str())
                    .push_bind(agent.as_deref())
                    .push_bind(tool.as_str())
                    .push_bind(model.as_str())
                    .push_bind(delta.invocations)
                    .push_bind(delta.tokens)
                    .push_bind(delta.cost);
            });
            query.push(") ");
            query.push(statement);
            query
        };
        const SAME_KEY: &str = "x.date = d.day AND x.agent_name IS d.agent \
             AND x.tool_name = d.tool AND x.model_name = d.model";
        values(&format!(
            "UPDATE daily_costs SET invocations = invocations + d.calls, \
             total_tokens = total_tokens + d.tokens, \
             total_cost_usd = total_cost_usd + d.cost \
             FROM d WHERE daily_costs.rowid = \
             (SELECT x.rowid FROM daily_costs AS x WHERE {SAME_KEY} LIMIT 1)"
        ))
        .build()
        .execute(&mut **tx)
        .await?;
        values(&format!(
            "INSERT INTO daily_costs (date, agent_name, tool_name, model_name, invocations, \
             total_tokens, total_cost_usd) \
             SELECT day, agent, tool, model, calls, tokens, cost FROM d \
             WHERE NOT EXISTS (SELECT 1 FROM daily_costs AS x WHERE {SAME_KEY})"
        ))
        .build()
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite's `date()` and `strftime()` give, for the form validation writes and for
    /// others.
    #[test]
    fn a_day_and_an_hour_are_what_sqlite_computes() {
        let (day, hour) = day_and_hour(Some("2026-12-05T15:34:08.815000+00:00"));
        assert_eq!(
            (day.as_ref(), hour.as_deref()),
            ("2026-12-05", Some("2026-12-05T15"))
        );
        assert!(matches!(day, Cow::Borrowed(_)));
        assert_eq!(hour_of(&hour.unwrap()), "2026-12-05 15:00:00");
        let (day, hour) = day_and_hour(Some("2026-12-05 23:34:08+02:00"));
        assert_eq!(
            (day.as_ref(), hour.as_deref()),
            ("2026-12-05", Some("2026-12-05T21"))
        );
        let (day, hour) = day_and_hour(Some("not a time"));
        assert_eq!((day.as_ref(), hour), ("", None));
        let (day, hour) = day_and_hour(None);
        assert_eq!((day.as_ref(), hour), ("", None));
    }
}
