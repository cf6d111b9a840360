//! The history of the board (`GET /api/history`), derived from the tasks' own dates: tasks
//! completed per day or week by agent (`completed_at`), cycle time per agent (`created_at` →
//! `completed_at`), and the tasks open at the end of each day (created by then, not completed by
//! then). A done task without a readable `completed_at` is counted as undated, not guessed.

use std::collections::BTreeMap;

use app::model::{CycleTime, History, HistoryRange, Task};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

/// Tasks without an agent, in the charts.
const NO_AGENT: &str = "(no agent)";

pub(crate) fn build<'a>(
    tasks: impl IntoIterator<Item = &'a Task>,
    range: HistoryRange,
    now: DateTime<Utc>,
) -> History {
    let today = now.date_naive();
    let first = today - Duration::days(range.days() - 1);
    let step = range.bucket_days();
    let bucket_count = (range.days() + step - 1) / step;
    let mut per_agent: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut cycle: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut spans: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = Vec::new();
    let mut undated = 0;
    for task in tasks {
        let created = task.created_at.as_deref().and_then(instant);
        let completed = task.completed_at.as_deref().and_then(instant);
        let finished = task.column == app::model::Column::Done
            || matches!(task.status.as_deref(), Some("done" | "completed"));
        if finished && completed.is_none() {
            undated += 1;
        }
        if let Some(created) = created {
            spans.push((created, completed));
        }
        let Some(completed) = completed else { continue };
        let day = completed.date_naive();
        if day < first || day > today {
            continue;
        }
        let agent = task.owner().unwrap_or(NO_AGENT).to_owned();
        let bucket = ((day - first).num_days() / step) as usize;
        per_agent
            .entry(agent.clone())
            .or_insert_with(|| vec![0; bucket_count as usize])[bucket] += 1;
        if let Some(created) = created.filter(|c| *c <= completed) {
            let hours = (completed - created).num_seconds() as f64 / 3600.0;
            cycle.entry(agent).or_default().push(hours);
        }
    }
    // Agents with the most completions first (the colour order).
    let mut agents: Vec<(String, Vec<u32>)> = per_agent.into_iter().collect();
    agents.sort_by_key(|(name, counts)| {
        (std::cmp::Reverse(counts.iter().sum::<u32>()), name.clone())
    });
    let completed = (0..bucket_count as usize)
        .map(|b| agents.iter().map(|(_, counts)| counts[b]).collect())
        .collect();
    let buckets = (0..bucket_count)
        .map(|b| day_text(first + Duration::days(b * step)))
        .collect();
    let mut cycle: Vec<CycleTime> = cycle
        .into_iter()
        .map(|(agent, mut hours)| {
            hours.sort_by(f64::total_cmp);
            let at = |p: f64| {
                hours[((hours.len() as f64 * p).ceil() as usize).clamp(1, hours.len()) - 1]
            };
            CycleTime {
                tasks: hours.len(),
                p25_hours: at(0.25),
                p50_hours: at(0.50),
                p75_hours: at(0.75),
                p90_hours: at(0.90),
                agent,
            }
        })
        .collect();
    cycle.sort_by(|a, b| b.tasks.cmp(&a.tasks).then(a.agent.cmp(&b.agent)));
    let wip = (0..range.days())
        .map(|d| {
            let day = first + Duration::days(d);
            let end = (day + Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc();
            let open = spans
                .iter()
                .filter(|(created, completed)| *created < end && completed.is_none_or(|c| c >= end))
                .count();
            (day_text(day), open as u32)
        })
        .collect();
    History {
        range,
        buckets,
        agents: agents.into_iter().map(|(name, _)| name).collect(),
        completed,
        cycle,
        wip,
        undated,
        generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// A task's date: RFC 3339, a date and time without a zone (UTC), or a date (midnight UTC).
fn instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at.and_utc());
        }
    }
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{task_from_document, TaskPath};

    fn task(path: &str, yaml: &str) -> Task {
        let document: serde_json::Value = serde_norway::from_str(yaml).unwrap();
        let location = TaskPath::parse(path).unwrap();
        task_from_document(path, &location, document, None).unwrap()
    }

    #[test]
    fn completions_cycle_times_and_open_tasks_come_from_the_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let tasks = [
            task(
                "done/dev/a.yaml",
                "id: a\ncreated_at: 2026-11-20T10:00:00Z\ncompleted_at: 2026-11-21T10:00:00Z\n",
            ),
            task(
                "done/dev/b.yaml",
                "id: b\ncreated_at: 2026-11-20T10:00:00Z\ncompleted_at: 2026-11-24T10:00:00Z\n",
            ),
            task(
                "done/ops/c.yaml",
                "id: c\ncreated_at: '2026-11-24'\ncompleted_at: 2026-11-24 06:00:00\n",
            ),
            task("done/ops/d.yaml", "id: d\nstatus: done\n"),
            task(
                "assigned/dev/e.yaml",
                "id: e\ncreated_at: 2026-11-23T00:00:00Z\n",
            ),
        ];
        let history = build(&tasks, HistoryRange::Days30, now);
        assert_eq!(history.buckets.len(), 30);
        assert_eq!(history.buckets.last().unwrap(), "2026-11-25");
        assert_eq!(history.agents, ["dev", "ops"], "most completions first");
        let day = |date: &str| history.buckets.iter().position(|b| b == date).unwrap();
        assert_eq!(history.completed[day("2026-11-21")], [1, 0]);
        assert_eq!(history.completed[day("2026-11-24")], [1, 1]);
        assert_eq!(history.undated, 1, "the done task without completed_at");
        let dev = &history.cycle[0];
        assert_eq!((dev.agent.as_str(), dev.tasks), ("dev", 2));
        assert_eq!((dev.p50_hours, dev.p90_hours), (24.0, 96.0));
        assert_eq!(history.cycle[1].p50_hours, 6.0);
        let open = |date: &str| history.wip.iter().find(|(d, _)| d == date).unwrap().1;
        assert_eq!(open("2026-11-19"), 0);
        assert_eq!(open("2026-11-20"), 2, "a and b");
        assert_eq!(open("2026-11-23"), 2, "b and e");
        assert_eq!(open("2026-11-24"), 1, "e");

        let weekly = build(&tasks, HistoryRange::Days90, now);
        assert_eq!(weekly.buckets.len(), 13);
        assert_eq!(weekly.completed.iter().flatten().sum::<u32>(), 3);
    }
}
