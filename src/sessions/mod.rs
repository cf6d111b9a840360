//! Agent sessions, live: every coding-agent session (Claude Code's `session.id`, a Codex
//! conversation, a transcript) as one [`SessionSummary`] with a state — working, waiting for a
//! person, idle, stalled, ended — and what it spent.
//!
//! Two sources meet here. The agents' calls (OpenTelemetry, transcripts, POSTs), stored in the
//! telemetry, say what a session spent, with which models, on which task; they are read again
//! whenever the telemetry changes, at most once a second ([`Tracker::refresh`]). The agents' hooks (Claude Code's
//! `SessionStart`, `UserPromptSubmit`, `PreToolUse`/`PostToolUse`, `Notification`, `Stop`,
//! `SessionEnd`: see [`hooks`]) say the moment its state changes. Time moves states too (working
//! → idle, idle → stalled): a tick every second. Every change of a summary is published on the
//! board's socket as `session.updated`.
//!
//! The state, from what came last:
//! - **ended**: its `SessionEnd` hook, or nothing for `ended_after` (see [`Timing`]);
//! - **waiting**: a `Notification` hook (a permission prompt, "waiting for your input") with
//!   nothing since;
//! - **working**: a call, a tool or a prompt within `working_within`, not followed by `Stop`;
//! - **stalled**: its task is `in_progress` on the board, yet nothing came for `stalled_after`;
//! - **idle**: otherwise.
//!
//! Depends on [`crate::board`] (publishing, the tasks' status), [`crate::telemetry`] (the calls)
//! and [`crate::invocations::attribution`] (a hook-only session's task, where the board makes it
//! clear).

pub(crate) mod hooks;
mod settings;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use app::model::{SessionDetail, SessionEvent, SessionState, SessionSummary};
use chrono::{DateTime, SecondsFormat, Utc};
use parking_lot::Mutex;

use crate::board::SharedStore;
use crate::runtime::SessionTiming as Timing;
use crate::telemetry::{SessionCalls, Telemetry};
pub(crate) use hooks::HookEvent;
pub(crate) use settings::{claude_settings, merge as merge_settings, HookTarget};

/// Events kept per session for its timeline (the calls come from the telemetry).
const TIMELINE: usize = 200;
/// Sessions followed at once (the oldest ended ones go first).
const MAX_SESSIONS: usize = 10_000;
/// A session's calls read for its timeline.
const TIMELINE_CALLS: u32 = 200;
/// The burn rate's window.
const BURN_WINDOW: chrono::Duration = chrono::Duration::minutes(10);
/// The calls are read again at most this often (a busy telemetry changes many times a second;
/// hooks are taken at once).
const REFRESH_GAP: Duration = Duration::from_secs(1);
/// Between these, a refresh reads only the sessions with rows written since the last one (by
/// row id); every session active lately is read again this often anyway, for what row ids do
/// not show (a burn rate's window moving on, a stored call completed in place, another
/// PostgreSQL writer's transaction committing out of id order).
const FULL_REFRESH: Duration = Duration::from_secs(10);

/// What is known of one session.
#[derive(Clone, Debug, Default)]
struct Live {
    summary: SessionSummary,
    /// The last call, tool, prompt or start (what "working" means).
    last_activity: Option<DateTime<Utc>>,
    /// The last thing of any kind.
    last_event: Option<DateTime<Utc>>,
    /// A `Notification` after the last activity: what it said, and when.
    waiting: Option<(String, DateTime<Utc>)>,
    /// A `Stop` after the last activity: the turn is over.
    stopped: bool,
    /// Its `SessionEnd` hook came.
    ended: Option<DateTime<Utc>>,
    /// The agent and task its hooks named (the endpoint's `?agent=`, `?task=`).
    hook_agent: Option<String>,
    hook_task: Option<String>,
    events: VecDeque<SessionEvent>,
    /// What was published last.
    published: Option<SessionSummary>,
}

/// The sessions, kept up to date and published.
pub(crate) struct Tracker {
    board: SharedStore,
    telemetry: Telemetry,
    timing: Timing,
    sessions: Mutex<HashMap<String, Live>>,
    /// What the last refresh read; `None` before the first.
    read: Mutex<Option<Read>>,
}

/// Where the calls were read up to.
#[derive(Clone, Copy, Debug)]
struct Read {
    /// The highest row id when they were last read.
    row: i64,
    /// When every session active lately was last read.
    all_at: std::time::Instant,
    /// Only some have been read since.
    partly_since: bool,
}

/// Filters of `GET /api/sessions`.
#[derive(Clone, Debug, Default)]
pub(crate) struct SessionFilter {
    pub(crate) agent: Option<String>,
    pub(crate) task: Option<String>,
    pub(crate) state: Option<SessionState>,
    /// Only sessions with something since (RFC 3339).
    pub(crate) since: Option<DateTime<Utc>>,
}

impl Tracker {
    pub(crate) fn new(board: SharedStore, telemetry: Telemetry, timing: Timing) -> Arc<Tracker> {
        Arc::new(Tracker {
            board,
            telemetry,
            timing,
            sessions: Mutex::new(HashMap::new()),
            read: Mutex::new(None),
        })
    }

    /// Follows the telemetry's changes and the clock until `stop`.
    pub(crate) fn spawn(self: &Arc<Tracker>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let tracker = self.clone();
        let mut changes = self.telemetry.watch_changes();
        tokio::spawn(async move {
            tracker.refresh(Utc::now()).await;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let changed = tokio::select! {
                    changed = changes.changed() => Some(changed.is_ok()),
                    _ = tick.tick() => None,
                    _ = stop.wait_for(|s| *s) => return,
                };
                match changed {
                    Some(true) => {}
                    Some(false) => return,
                    // A tick: states move with time; every session is read again when due.
                    None if tracker.all_due() => {
                        tracker.refresh(Utc::now()).await;
                        continue;
                    }
                    None => {
                        tracker.publish_changes(Utc::now());
                        continue;
                    }
                }
                tracker.refresh(Utc::now()).await;
                // Changes meanwhile are read together by the next refresh.
                tokio::select! {
                    _ = tokio::time::sleep(REFRESH_GAP) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        });
    }

    /// Reads the calls of the sessions active lately again and publishes what changed: only
    /// those with rows written since the last refresh (by row id) when that is all that
    /// changed, else every one: at least every [`FULL_REFRESH`], after a change that wrote no
    /// row (a call completed in place, rows removed), and when the row ids went back (another
    /// database file).
    pub(crate) async fn refresh(&self, now: DateTime<Utc>) {
        let active_since =
            now - chrono::Duration::from_std(self.timing.ended_after).unwrap_or_default();
        let last_row = match self.telemetry.last_row_id().await {
            Ok(row) => Some(row),
            Err(error) => {
                tracing::debug!(%error, "sessions: the telemetry cannot be read");
                None
            }
        };
        let read = *self.read.lock();
        let after_row = match (read, last_row) {
            (Some(read), Some(last)) if read.all_at.elapsed() < FULL_REFRESH && read.row < last => {
                Some(read.row)
            }
            _ => None,
        };
        match self
            .telemetry
            .session_calls(active_since, now - BURN_WINDOW, after_row)
            .await
        {
            Ok(rows) => {
                let mut sessions = self.sessions.lock();
                for row in rows {
                    let live = sessions.entry(row.session_id.clone()).or_default();
                    apply_calls(live, &row);
                }
                drop(sessions);
                *self.read.lock() = last_row.map(|row| match (after_row, read) {
                    (Some(_), Some(read)) => Read {
                        row,
                        partly_since: true,
                        ..read
                    },
                    _ => Read {
                        row,
                        all_at: std::time::Instant::now(),
                        partly_since: false,
                    },
                });
            }
            Err(error) => tracing::debug!(%error, "sessions: the telemetry cannot be read"),
        }
        self.publish_changes(now);
    }

    /// Whether sessions were read partly since every one was last read [`FULL_REFRESH`] ago.
    fn all_due(&self) -> bool {
        self.read
            .lock()
            .is_some_and(|read| read.partly_since && read.all_at.elapsed() >= FULL_REFRESH)
    }

    /// Takes one hook event (already validated) and publishes the session's new state.
    pub(crate) fn hook(&self, event: HookEvent, now: DateTime<Utc>) {
        {
            let mut sessions = self.sessions.lock();
            if !sessions.contains_key(&event.session_id) && sessions.len() >= MAX_SESSIONS {
                evict_oldest(&mut sessions);
            }
            let live = sessions.entry(event.session_id.clone()).or_default();
            hooks::apply(live, event, now);
        }
        self.publish_changes(now);
    }

    /// The sessions matching `filter`, the most recent first.
    pub(crate) fn list(&self, filter: &SessionFilter, now: DateTime<Utc>) -> Vec<SessionSummary> {
        let in_progress = crate::invocations::in_progress(&self.board);
        let sessions = self.sessions.lock();
        let mut list: Vec<SessionSummary> = sessions
            .values()
            .map(|live| self.summary(live, now, &in_progress))
            .filter(|s| {
                filter
                    .agent
                    .as_ref()
                    .is_none_or(|a| s.agent.as_ref() == Some(a))
            })
            .filter(|s| {
                filter
                    .task
                    .as_ref()
                    .is_none_or(|t| s.task_id.as_ref() == Some(t))
            })
            .filter(|s| filter.state.is_none_or(|state| s.state == state))
            .filter(|s| {
                filter
                    .since
                    .is_none_or(|since| parse(&s.last_event).is_some_and(|last| last >= since))
            })
            .collect();
        list.sort_by(|a, b| b.last_event.cmp(&a.last_event).then(a.id.cmp(&b.id)));
        list
    }

    /// One session with its timeline: its hooks' events and its calls, in order.
    pub(crate) async fn detail(&self, id: &str, now: DateTime<Utc>) -> Option<SessionDetail> {
        let in_progress = crate::invocations::in_progress(&self.board);
        let (session, mut events) = {
            let sessions = self.sessions.lock();
            let live = sessions.get(id)?;
            (
                self.summary(live, now, &in_progress),
                live.events.iter().cloned().collect::<Vec<_>>(),
            )
        };
        match self.telemetry.calls_of_session(id, TIMELINE_CALLS).await {
            Ok(calls) => events.extend(calls.into_iter().map(|call| {
                SessionEvent {
                    at: call.timestamp.unwrap_or_default(),
                    kind: if call.status == "success" {
                        "call"
                    } else {
                        "error"
                    }
                    .into(),
                    detail: match call.error_message {
                        Some(error) if call.status != "success" => {
                            format!("{}: {error}", call.model_name)
                        }
                        _ => call.model_name,
                    },
                    tokens: Some(call.total_tokens.max(0) as u64),
                    cost_usd: Some(call.cost_usd),
                }
            })),
            Err(error) => tracing::debug!(%error, "sessions: the calls cannot be read"),
        }
        events.sort_by(|a, b| {
            parse(&a.at)
                .cmp(&parse(&b.at))
                .then_with(|| a.kind.cmp(&b.kind))
        });
        Some(SessionDetail { session, events })
    }

    /// Publishes every summary that changed since it was last published (an ended session once
    /// more, then it leaves the board's list).
    fn publish_changes(&self, now: DateTime<Utc>) {
        // The board read once for every session (not once each).
        let in_progress = crate::invocations::in_progress(&self.board);
        let changed: Vec<SessionSummary> = {
            let mut sessions = self.sessions.lock();
            sessions
                .values_mut()
                .filter_map(|live| {
                    let summary = self.summary(live, now, &in_progress);
                    if live.published.as_ref() == Some(&summary) {
                        return None;
                    }
                    // An ended session never published (read from the calls of an hour ago at
                    // a start) is news to nobody; one published is followed to its last change
                    // (the calls an agent exports as it exits come after its end).
                    if !summary.live() && live.published.is_none() {
                        live.published = Some(summary);
                        return None;
                    }
                    live.published = Some(summary.clone());
                    Some(summary)
                })
                .collect()
        };
        for summary in changed {
            self.board.session_updated(summary);
        }
    }

    /// The summary of `live` as of `now`: its state and burn rate worked out.
    /// `in_progress`: the board's tasks in progress (read once per pass over the sessions).
    fn summary(
        &self,
        live: &Live,
        now: DateTime<Utc>,
        in_progress: &[(String, String)],
    ) -> SessionSummary {
        let mut summary = live.summary.clone();
        if summary.agent.is_none() {
            summary.agent = live.hook_agent.clone();
        }
        if summary.task_id.is_none() {
            if let Some(task) = &live.hook_task {
                summary.task_id = Some(task.clone());
                summary.attribution = Some("sent".into());
            } else if let Some((agent, task)) =
                crate::invocations::unambiguous_task(in_progress, summary.agent.as_deref())
            {
                summary.task_id = Some(task);
                summary.agent.get_or_insert(agent);
                summary.attribution = Some("inferred".into());
            }
        }
        let since = |at: Option<DateTime<Utc>>| {
            at.map_or(Duration::MAX, |at| (now - at).to_std().unwrap_or_default())
        };
        let (state, state_since) = if let Some(ended) = live.ended {
            (SessionState::Ended, ended)
        } else if since(live.last_event) >= self.timing.ended_after {
            (
                SessionState::Ended,
                live.last_event.unwrap_or(now)
                    + chrono::Duration::from_std(self.timing.ended_after).unwrap_or_default(),
            )
        } else if let Some((what, at)) = &live.waiting {
            summary.waiting_for = Some(what.clone());
            (SessionState::Waiting, *at)
        } else if !live.stopped && since(live.last_activity) < self.timing.working_within {
            (SessionState::Working, live.last_activity.unwrap_or(now))
        } else if since(live.last_event) >= self.timing.stalled_after
            && summary
                .task_id
                .as_deref()
                .is_some_and(|task| task_in_progress(&self.board, task))
        {
            (
                SessionState::Stalled,
                live.last_event.unwrap_or(now)
                    + chrono::Duration::from_std(self.timing.stalled_after).unwrap_or_default(),
            )
        } else {
            (SessionState::Idle, live.last_event.unwrap_or(now))
        };
        summary.state = state;
        summary.state_since = format_time(state_since);
        if let Some(last) = live.last_event {
            summary.last_event = format_time(last);
        }
        summary
    }
}

/// Takes what a session's calls add up to.
fn apply_calls(live: &mut Live, row: &SessionCalls) {
    let summary = &mut live.summary;
    summary.id = row.session_id.clone();
    if let Some(source) = &row.source {
        summary.source = source.clone();
    }
    if row.agent.is_some() {
        summary.agent = row.agent.clone();
    }
    if row.task_id.is_some() {
        summary.task_id = row.task_id.clone();
        summary.attribution = row.attribution.clone().or(Some("sent".into()));
    }
    summary.models = row
        .models
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect();
    summary.calls = row.calls.max(0) as u64;
    summary.tokens = row.tokens.max(0) as u64;
    summary.cost_usd = row.cost_usd;
    summary.burn_rate_usd_per_hour =
        row.recent_cost_usd * (3600.0 / BURN_WINDOW.num_seconds() as f64);
    summary.cache_hit_rate =
        (row.prompt_tokens > 0).then(|| row.cache_read_tokens as f64 / row.prompt_tokens as f64);
    summary.errors = row.errors.max(0) as u64;
    let first = row.first.as_deref().and_then(parse);
    let last = row.last.as_deref().and_then(parse);
    if let Some(first) = first {
        if summary.started.is_empty() || parse(&summary.started).is_some_and(|s| first < s) {
            summary.started = format_time(first);
        }
    }
    // A call is activity: the latest one moves the session's clock.
    if let Some(last) = last {
        if live.last_activity.is_none_or(|a| last > a) {
            live.last_activity = Some(last);
            // Something came after the question or the end of the turn.
            if live.waiting.as_ref().is_some_and(|(_, at)| last > *at) {
                live.waiting = None;
            }
            live.stopped = false;
        }
        if live.last_event.is_none_or(|e| last > e) {
            live.last_event = Some(last);
        }
    }
}

fn evict_oldest(sessions: &mut HashMap<String, Live>) {
    if let Some(oldest) = sessions
        .iter()
        .min_by_key(|(_, live)| (live.ended.is_none(), live.last_event))
        .map(|(id, _)| id.clone())
    {
        sessions.remove(&oldest);
    }
}

fn task_in_progress(board: &SharedStore, id: &str) -> bool {
    board.with_tasks(|tasks, _, _| {
        tasks
            .values()
            .any(|task| task.id == id && task.summary.status.as_deref() == Some("in_progress"))
    })
}

pub(crate) fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}
