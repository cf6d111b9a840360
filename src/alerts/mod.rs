//! Alerts that reach a person: rules looked at every [`EVERY`] over the board, the agent
//! sessions and the costs, each alert sent once to every webhook configured
//! (`--alert-webhook`), with retries, and kept in a log (`GET /api/alerts`, the Sessions page).
//!
//! The rules:
//! - **budget**: today's or this month's cost passed 50, 80 or 100 % of `--daily-budget` /
//!   `--monthly-budget` (once per threshold and day or month), an agent's own today or this month
//!   (the calls with its name) 50, 80 or 100 % of `--agent-daily-budget` /
//!   `--agent-monthly-budget NAME=USD`, or a task's cost 50, 80 or 100 % of the `budget_usd` its
//!   file sets (once per threshold and task);
//! - **blocked**: a task's status became `blocked` (again after it was unblocked);
//! - **finished**: a task arrived in a `done/` folder;
//! - **waiting**: an agent session has waited for input longer than `--alert-waiting-after`
//!   (300 s);
//! - **stalled**: a session stalled (see [`crate::sessions`]);
//! - **mcp_down**: an MCP server's health check found it down (again after it was back).
//!
//! What is on the board when the server starts (tasks blocked or done already) is taken as known,
//! not announced. Every alert has a key; with a destination configured, the keys sent and the
//! log are kept in the cache folder (`--board-cache`) so a restart sends nothing twice and
//! retries the deliveries it had not finished.
//!
//! Depends on [`crate::board`], [`crate::sessions`] and [`crate::runtime`] (the destinations).
//!
//! Longer than most modules on purpose: the rules, the keys that make each alert once, the log
//! and what is kept across restarts are one state under one lock, read and written by the same
//! loop; its delivery (webhooks, retries) is apart, in `deliver`.

mod deliver;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use app::model::{Alert, AlertLog, Budgets, Column, Delivery, SessionState};
use chrono::{DateTime, SecondsFormat, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::board::SharedStore;
use crate::runtime::Webhook;
use crate::sessions::{SessionFilter, Tracker};

/// How often the rules are looked at.
const EVERY: Duration = Duration::from_secs(1);
/// Alerts kept in the log (the newest).
const LOG: usize = 500;
/// Keys remembered as sent.
const SEEN: usize = 20_000;
/// Budget thresholds, percent.
const THRESHOLDS: [u32; 3] = [50, 80, 100];
/// Alerts about a state that can end and come back (a task blocked, a server down): their key
/// is forgotten once the state ended, so the next time is announced too.
const WHILE_TRUE: [&str; 2] = ["blocked:", "mcp-down:"];

/// What is kept between runs.
#[derive(Default, Serialize, Deserialize)]
struct Kept {
    seen: Vec<String>,
    log: Vec<Alert>,
}

/// The alerts of one server.
pub(crate) struct Alerts {
    board: SharedStore,
    sessions: Arc<Tracker>,
    webhooks: Vec<Webhook>,
    waiting_after: Duration,
    /// Each agent's own budgets, by name.
    agent_budgets: BTreeMap<String, Budgets>,
    file: Option<PathBuf>,
    state: Mutex<State>,
    /// Made at the first delivery: an HTTPS client (rustls and its root certificates) is code and
    /// memory that a server without destinations never needs (BENCHMARKS.md, "Memory").
    client: OnceLock<reqwest::Client>,
}

#[derive(Default)]
struct State {
    seen: HashSet<String>,
    /// In the order they were seen (the oldest forgotten first past [`SEEN`]).
    order: Vec<String>,
    log: Vec<Alert>,
    /// The rules were looked at once (what was on the board then is known).
    started: bool,
}

/// A rule's finding: an alert to send, unless its key was sent.
#[derive(Clone, Debug, PartialEq)]
struct Finding {
    key: String,
    kind: &'static str,
    title: String,
    text: String,
    link: Option<String>,
}

impl Alerts {
    pub(crate) fn new(
        board: SharedStore,
        sessions: Arc<Tracker>,
        webhooks: Vec<Webhook>,
        waiting_after: Duration,
        agent_budgets: BTreeMap<String, Budgets>,
        file: Option<PathBuf>,
    ) -> Arc<Alerts> {
        // Nothing to deliver, nothing to keep: no file is written (the log is the page's only).
        let file = file.filter(|_| !webhooks.is_empty());
        let kept: Kept = file
            .as_deref()
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        let state = State {
            seen: kept.seen.iter().cloned().collect(),
            order: kept.seen,
            log: kept.log,
            started: false,
        };
        Arc::new(Alerts {
            board,
            sessions,
            webhooks,
            waiting_after,
            agent_budgets,
            file,
            state: Mutex::new(state),
            client: OnceLock::new(),
        })
    }

    /// Looks at the rules every [`EVERY`] until `stop`; first retries what a previous run had
    /// not delivered.
    pub(crate) fn spawn(self: &Arc<Alerts>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let alerts = self.clone();
        tokio::spawn(async move {
            let unfinished: Vec<(String, usize)> = {
                let state = alerts.state.lock();
                state
                    .log
                    .iter()
                    .flat_map(|alert| {
                        alert
                            .deliveries
                            .iter()
                            .enumerate()
                            .filter(|(_, d)| d.status == "pending")
                            .map(|(index, _)| (alert.key.clone(), index))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            };
            for (key, index) in unfinished {
                alerts.deliver(key, index);
            }
            // What is on the board at the start is known: it must have been read.
            tokio::select! {
                _ = alerts.board.startup().finished() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let mut tick = tokio::time::interval(EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => alerts.look(Utc::now()),
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        });
    }

    /// The destinations as shown, and the log.
    pub(crate) fn log(&self) -> AlertLog {
        let state = self.state.lock();
        AlertLog {
            watching: state.started,
            destinations: self.webhooks.iter().map(Webhook::shown).collect(),
            alerts: state.log.iter().rev().cloned().collect(),
        }
    }

    /// Sends a test alert to destination `index` (the page's button): its key is new each time.
    pub(crate) fn test(self: &Arc<Alerts>, index: usize, now: DateTime<Utc>) -> Option<Alert> {
        let webhook = self.webhooks.get(index)?;
        let finding = Finding {
            key: format!(
                "test:{index}:{}",
                now.timestamp_nanos_opt().unwrap_or_default()
            ),
            kind: "test",
            title: "execdash test alert".into(),
            text: format!(
                "This is a test of {}: alerts reach you here.",
                webhook.shown()
            ),
            link: Some("/sessions".into()),
        };
        let alert = self.raise(finding, now, Some(index));
        Some(alert)
    }

    /// Looks at every rule once and raises what is new.
    fn look(self: &Arc<Alerts>, now: DateTime<Utc>) {
        let findings = self.findings(now);
        let first = {
            let mut state = self.state.lock();
            let first = !state.started;
            state.started = true;
            first
        };
        let current: BTreeSet<&str> = findings.iter().map(|f| f.key.as_str()).collect();
        let mut changed = false;
        {
            // A task unblocked may be blocked again later: its key is forgotten.
            let mut state = self.state.lock();
            let gone: Vec<String> = state
                .seen
                .iter()
                .filter(|key| {
                    WHILE_TRUE.iter().any(|kind| key.starts_with(kind))
                        && !current.contains(key.as_str())
                })
                .cloned()
                .collect();
            for key in gone {
                state.seen.remove(&key);
                state.order.retain(|k| *k != key);
                changed = true;
            }
        }
        for finding in findings {
            if self.state.lock().seen.contains(&finding.key) {
                continue;
            }
            // What was on the board before this run is known, not news.
            if first && matches!(finding.kind, "blocked" | "finished") {
                self.remember(&finding.key);
                changed = true;
                continue;
            }
            self.raise(finding, now, None);
        }
        if changed {
            self.save();
        }
    }

    fn remember(&self, key: &str) {
        let mut state = self.state.lock();
        if state.seen.insert(key.to_owned()) {
            state.order.push(key.to_owned());
            if state.order.len() > SEEN {
                let old = state.order.remove(0);
                state.seen.remove(&old);
            }
        }
    }

    /// Logs `finding` as an alert and sends it to every destination (or to `only`).
    fn raise(
        self: &Arc<Alerts>,
        finding: Finding,
        now: DateTime<Utc>,
        only: Option<usize>,
    ) -> Alert {
        self.remember(&finding.key);
        let targets: Vec<usize> = match only {
            Some(index) => vec![index],
            None => (0..self.webhooks.len()).collect(),
        };
        let alert = Alert {
            key: finding.key.clone(),
            kind: finding.kind.into(),
            title: finding.title,
            text: finding.text,
            at: now.to_rfc3339_opts(SecondsFormat::Millis, true),
            link: finding.link,
            deliveries: targets
                .iter()
                .map(|index| Delivery {
                    index: *index,
                    destination: self.webhooks[*index].shown(),
                    status: "pending".into(),
                    attempts: 0,
                    error: None,
                })
                .collect(),
        };
        tracing::info!(key = %alert.key, title = %alert.title, "alert");
        {
            let mut state = self.state.lock();
            state.log.push(alert.clone());
            if state.log.len() > LOG {
                let excess = state.log.len() - LOG;
                state.log.drain(..excess);
            }
        }
        self.save();
        self.board.alert(alert.clone());
        for (position, _) in targets.iter().enumerate() {
            self.deliver(alert.key.clone(), position);
        }
        alert
    }

    /// Sends alert `key` to its `index`th delivery's destination, with retries, and logs how it
    /// went.
    fn deliver(self: &Arc<Alerts>, key: String, index: usize) {
        let alerts = self.clone();
        tokio::spawn(async move {
            let Some((alert, webhook)) = ({
                let state = alerts.state.lock();
                state.log.iter().find(|a| a.key == key).and_then(|alert| {
                    let destination = alert.deliveries.get(index)?.index;
                    let webhook = alerts.webhooks.get(destination)?;
                    Some((alert.clone(), webhook.clone()))
                })
            }) else {
                return;
            };
            let outcome = deliver::send(
                alerts.client.get_or_init(deliver::client),
                &webhook,
                &alert,
                |attempt| {
                    alerts.update(&key, index, |d| d.attempts = attempt);
                },
            )
            .await;
            alerts.update(&key, index, |d| match &outcome {
                Ok(()) => {
                    d.status = "sent".into();
                    d.error = None;
                }
                Err(error) => {
                    d.status = "undelivered".into();
                    d.error = Some(error.to_string());
                }
            });
            if let Err(error) = outcome {
                tracing::warn!(%key, destination = %webhook.shown(), %error, "alert undelivered");
            }
            let alert = alerts
                .state
                .lock()
                .log
                .iter()
                .find(|a| a.key == key)
                .cloned();
            alerts.save();
            if let Some(alert) = alert {
                alerts.board.alert(alert);
            }
        });
    }

    fn update(&self, key: &str, index: usize, change: impl FnOnce(&mut Delivery)) {
        let mut state = self.state.lock();
        if let Some(delivery) = state
            .log
            .iter_mut()
            .find(|a| a.key == key)
            .and_then(|a| a.deliveries.get_mut(index))
        {
            change(delivery);
        }
    }

    /// Writes what is kept (a temporary file renamed over the old one).
    fn save(&self) {
        let Some(path) = &self.file else { return };
        let kept = {
            let state = self.state.lock();
            Kept {
                seen: state.order.clone(),
                log: state.log.clone(),
            }
        };
        let Ok(json) = serde_json::to_vec(&kept) else {
            return;
        };
        if let Some(folder) = path.parent() {
            let _ = std::fs::create_dir_all(folder);
        }
        let temporary = path.with_extension("json.tmp");
        if std::fs::write(&temporary, json).is_ok() {
            let _ = std::fs::rename(&temporary, path);
        }
    }

    /// What the rules find now.
    fn findings(&self, now: DateTime<Utc>) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.board.with_tasks(|tasks, _, _| {
            for task in tasks.values() {
                let title = &task.summary.title;
                let link = Some(format!("/tasks/{}", task.id));
                if task.summary.column == Column::Done {
                    findings.push(Finding {
                        key: format!("finished:{}", task.id),
                        kind: "finished",
                        title: format!("Task finished: {title}"),
                        text: format!(
                            "{} finished {} ({}).",
                            task.summary.owner().unwrap_or("An agent"),
                            task.id,
                            title
                        ),
                        link,
                    });
                } else if task.summary.status.as_deref() == Some("blocked") {
                    let reason = task
                        .summary
                        .blocked_reason
                        .clone()
                        .unwrap_or_else(|| "no reason given".into());
                    findings.push(Finding {
                        key: format!("blocked:{}", task.id),
                        kind: "blocked",
                        title: format!("Task blocked: {title}"),
                        text: format!("{} is blocked: {reason}", task.id),
                        link,
                    });
                }
            }
        });
        for session in self.sessions.list(&SessionFilter::default(), now) {
            let who = session
                .agent
                .clone()
                .unwrap_or_else(|| session.source.clone());
            let task = session
                .task_id
                .as_deref()
                .map(|t| format!(" on {t}"))
                .unwrap_or_default();
            let since = DateTime::parse_from_rfc3339(&session.state_since)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now);
            let waited = (now - since).to_std().unwrap_or_default();
            match session.state {
                SessionState::Waiting if waited >= self.waiting_after => findings.push(Finding {
                    key: format!("waiting:{}:{}", session.id, session.state_since),
                    kind: "waiting",
                    title: format!("{who} needs you"),
                    text: format!(
                        "{who}{task} has waited {} min for {}.",
                        waited.as_secs() / 60,
                        session.waiting_for.as_deref().unwrap_or("your input")
                    ),
                    link: Some("/sessions?state=waiting".into()),
                }),
                SessionState::Stalled => findings.push(Finding {
                    key: format!("stalled:{}:{}", session.id, session.state_since),
                    kind: "stalled",
                    title: format!("{who} stalled"),
                    text: format!("{who}{task}: nothing came from its session for a while."),
                    link: Some("/sessions?state=stalled".into()),
                }),
                _ => {}
            }
        }
        for (name, error) in self.board.mcp_servers_down() {
            let why = error.map_or_else(String::new, |e| format!(": {e}"));
            findings.push(Finding {
                key: format!("mcp-down:{name}"),
                kind: "mcp_down",
                title: format!("MCP server {name} is down"),
                text: format!(
                    "The MCP server {name} failed its health check{why}. The agents' calls to \
                     its tools fail until it is back."
                ),
                link: Some("/mcp".into()),
            });
        }
        let budgets = self.board.budgets();
        let costs = self.board.costs();
        if let Some(costs) = &costs {
            findings.extend(self.task_budget_findings(costs));
        }
        if let Some(costs) = costs {
            findings.extend(budget_findings(&costs, budgets, &self.agent_budgets, now));
        }
        findings
    }
}

/// Today's and this month's cost, in all and of each agent with budgets of its own, past 50, 80
/// or 100 % of its budget (once per threshold and day or month).
fn budget_findings(
    costs: &app::model::CostSummary,
    budgets: Budgets,
    agent_budgets: &BTreeMap<String, Budgets>,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let day = now.format("%Y-%m-%d").to_string();
    let month = now.format("%Y-%m").to_string();
    let mut findings = Vec::new();
    let mut check = |agent: Option<&str>, today: f64, this_month: f64, budgets: Budgets| {
        for (period, spent, budget, when) in [
            ("daily", today, budgets.daily_usd, &day),
            ("monthly", this_month, budgets.monthly_usd, &month),
        ] {
            let Some(budget) = budget.filter(|b| *b > 0.0) else {
                continue;
            };
            for threshold in THRESHOLDS {
                if spent < budget * f64::from(threshold) / 100.0 {
                    continue;
                }
                findings.push(match agent {
                    None => Finding {
                        key: format!("budget:{period}:{when}:{threshold}"),
                        kind: "budget",
                        title: format!("{threshold} % of the {period} budget"),
                        text: format!(
                            "${spent:.2} spent of the {period} budget of ${budget:.2} ({when})."
                        ),
                        link: Some("/costs".into()),
                    },
                    Some(agent) => Finding {
                        key: format!("agent-budget:{agent}:{period}:{when}:{threshold}"),
                        kind: "budget",
                        title: format!("{threshold} % of {agent}'s {period} budget"),
                        text: format!(
                            "{agent}: ${spent:.2} spent of its {period} budget of ${budget:.2} ({when})."
                        ),
                        link: Some(format!(
                            "/agents/{}",
                            percent_encoding::utf8_percent_encode(
                                agent,
                                percent_encoding::NON_ALPHANUMERIC
                            )
                        )),
                    },
                });
            }
        }
    };
    check(None, costs.totals.today, costs.totals.month, budgets);
    for (agent, budgets) in agent_budgets {
        // An agent with no call yet has spent nothing.
        let (today, this_month) = costs
            .per_agent
            .iter()
            .find(|a| a.agent.as_deref() == Some(agent.as_str()))
            .map_or((0.0, 0.0), |a| (a.today_usd, a.month_usd));
        check(Some(agent), today, this_month, *budgets);
    }
    findings
}

impl Alerts {
    /// Tasks whose cost (all time, as the board has it) passed 50, 80 or 100 % of their own
    /// `budget_usd`.
    fn task_budget_findings(&self, costs: &app::model::CostSummary) -> Vec<Finding> {
        let spent: std::collections::HashMap<&str, f64> = costs
            .per_task
            .iter()
            .map(|t| (t.task_id.as_str(), t.cost_usd))
            .collect();
        let mut findings = Vec::new();
        self.board.with_tasks(|tasks, _, _| {
            for task in tasks.values() {
                let Some(budget) = task.summary.budget_usd else {
                    continue;
                };
                let Some(&cost) = spent.get(task.id.as_str()) else {
                    continue;
                };
                for threshold in THRESHOLDS {
                    if cost >= budget * f64::from(threshold) / 100.0 {
                        findings.push(Finding {
                            key: format!("task-budget:{}:{threshold}", task.id),
                            kind: "budget",
                            title: format!("{threshold} % of the budget of {}", task.id),
                            text: format!(
                                "${cost:.2} spent of the ${budget:.2} budget of {} ({}).",
                                task.id, task.summary.title
                            ),
                            link: Some(format!("/tasks/{}", task.id)),
                        });
                    }
                }
            }
        });
        findings
    }
}

/// Where the alerts of `repo` are kept in the cache folder `cache`.
pub(crate) fn state_file(cache: &std::path::Path, repo: &std::path::Path) -> PathBuf {
    crate::runtime::repository_cache_file(cache, repo, "alerts")
}
