//! Agent sessions on the page: the line on a task's card, the header's "agents need you", an
//! agent lane's state, the Sessions page (a live table, filters, a session's timeline) and an
//! agent's sessions on its page. All of it from the board's live sessions (the snapshot and
//! `session.updated`), so it changes the moment a session does.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::use_dashboard;
use crate::format::iso_ms;
use crate::model::{AlertLog, SessionDetail, SessionState, SessionSummary};

/// "12 s", "3 min", "1 h 5 min".
pub(crate) fn duration_label(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3_599 => format!("{} min", seconds / 60),
        _ => format!("{} h {} min", seconds / 3_600, (seconds % 3_600) / 60),
    }
}

fn since_label(session: &SessionSummary, now_ms: i64) -> String {
    iso_ms(&session.state_since)
        .map(|since| duration_label(now_ms - since))
        .unwrap_or_default()
}

fn state_class(state: SessionState) -> String {
    format!("session-state state-{}", state.as_str())
}

/// On a card: its live session's state, for how long, and what the session spent so far.
#[component]
pub fn SessionLine(session: SessionSummary) -> impl IntoView {
    let dashboard = use_dashboard();
    let state = session.state;
    let since = {
        let session = session.clone();
        move || since_label(&session, dashboard.now_ms.get())
    };
    let title = session
        .waiting_for
        .clone()
        .unwrap_or_else(|| format!("{} session {}", session.source, session.id));
    view! {
        <p class=format!("card-session {}", state_class(state)) data-session=session.id.clone() data-state=state.as_str() title=title>
            <span class="dot" aria-hidden="true"></span>
            <span class="session-label">{state.label()}</span>
            " "
            <span class="session-since">{since}</span>
            " · "
            <span class="session-cost">{crate::format::usd(session.cost_usd)}</span>
        </p>
    }
}

/// In the header on every page: how many agents wait for a person (a link to them), when any.
#[component]
pub fn WaitingIndicator() -> impl IntoView {
    let dashboard = use_dashboard();
    let base = dashboard.settings.with_value(|s| s.base.clone());
    let waiting = Memo::new(move |_| dashboard.board.with(|b| b.waiting()));
    move || {
        let count = waiting.get();
        (count > 0).then(|| {
            let text = if count == 1 {
                "1 agent needs you".to_owned()
            } else {
                format!("{count} agents need you")
            };
            view! {
                <A href=format!("{base}/sessions?state=waiting") attr:class="waiting-indicator" attr:data-waiting=count.to_string()>
                    <span class="dot" aria-hidden="true"></span>
                    {text}
                </A>
            }
        })
    }
}

/// An agent lane's header: the state of its most pressing live session.
#[component]
pub fn LaneState(agent: String) -> impl IntoView {
    let dashboard = use_dashboard();
    let state = Memo::new(move |_| dashboard.board.with(|b| b.agent_state(&agent)));
    move || {
        state.get().map(|state| {
            view! { <span class=state_class(state) data-state=state.as_str() title="its session">{state.label()}</span> }
        })
    }
}

/// The sessions of a table, as the board has them, filtered.
fn filtered(sessions: Vec<SessionSummary>, state: &str, agent: &str) -> Vec<SessionSummary> {
    let mut sessions: Vec<SessionSummary> = sessions
        .into_iter()
        .filter(|s| state.is_empty() || s.state.as_str() == state)
        .filter(|s| agent.is_empty() || s.agent.as_deref() == Some(agent))
        .collect();
    sessions.sort_by(|a, b| a.state.cmp(&b.state).then(b.last_event.cmp(&a.last_event)));
    sessions
}

/// `/sessions`: every live session (filters by state and agent, from the query string too), a
/// session's timeline on a click, and the sessions that ended lately.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let dashboard = use_dashboard();
    let query = use_query_map();
    let state = RwSignal::new(query.with_untracked(|q| q.get("state").unwrap_or_default()));
    let agent = RwSignal::new(query.with_untracked(|q| q.get("agent").unwrap_or_default()));
    let selected = RwSignal::new(None::<String>);
    let agents = move || {
        dashboard.board.with(|b| {
            let mut names: Vec<String> = b
                .sessions
                .values()
                .filter_map(|s| s.agent.clone())
                .collect();
            names.sort();
            names.dedup();
            names
        })
    };
    let rows = move || {
        let sessions = dashboard
            .board
            .with(|b| b.sessions.values().cloned().collect());
        filtered(sessions, &state.get(), &agent.get())
    };
    let ended = RwSignal::new(Vec::<SessionSummary>::new());
    #[cfg(feature = "hydrate")]
    {
        // The sessions that ended lately (the board keeps the live ones), read again as the
        // board moves.
        Effect::new(move |_| {
            dashboard.board.with(|b| b.seq);
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(list) =
                    crate::api::get_json::<Vec<SessionSummary>>("/api/sessions?state=ended").await
                {
                    ended.set(list.into_iter().take(20).collect());
                }
            });
        });
    }
    view! {
        <main class="page sessions-page" aria-labelledby="page-title">
            <h2 id="page-title">"Sessions"</h2>
            <div class="session-filters">
                <label>
                    "State "
                    <select
                        name="state"
                        prop:value=move || state.get()
                        on:change=move |ev| state.set(event_target_value(&ev))
                    >
                        <option value="">"all"</option>
                        {SessionState::ALL
                            .into_iter()
                            .filter(|s| *s != SessionState::Ended)
                            .map(|s| view! { <option value=s.as_str()>{s.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Agent "
                    <select
                        name="agent"
                        prop:value=move || agent.get()
                        on:change=move |ev| agent.set(event_target_value(&ev))
                    >
                        <option value="">"all"</option>
                        {move || agents().into_iter().map(|a| view! { <option value=a.clone()>{a.clone()}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            {move || {
                let rows = rows();
                if rows.is_empty() {
                    view! { <p class="empty">"No session going on. Sessions appear as the agents' hooks, exports and transcripts arrive (see Connect)."</p> }.into_any()
                } else {
                    session_table(rows, selected).into_any()
                }
            }}
            {move || selected.get().map(|id| view! { <SessionTimeline id/> })}
            {move || {
                let ended = ended.get();
                (!ended.is_empty()).then(|| view! {
                    <section class="ended-sessions">
                        <h3>"Ended lately"</h3>
                        {session_table(ended, selected)}
                    </section>
                })
            }}
            <AlertsSection/>
        </main>
    }
    .into_any()
}

fn session_table(rows: Vec<SessionSummary>, selected: RwSignal<Option<String>>) -> impl IntoView {
    let dashboard = use_dashboard();
    view! {
        <table class="sessions-table">
            <thead>
                <tr>
                    <th scope="col">"State"</th>
                    <th scope="col">"Agent"</th>
                    <th scope="col">"Task"</th>
                    <th scope="col">"Models"</th>
                    <th scope="col" class="num">"Calls"</th>
                    <th scope="col" class="num">"Cost"</th>
                    <th scope="col" class="num">"$/h (10 min)"</th>
                    <th scope="col" class="num">"Cache hits"</th>
                    <th scope="col" class="num">"Errors"</th>
                    <th scope="col" class="num">"Tools"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|s| {
                        let id = s.id.clone();
                        let since = {
                            let s = s.clone();
                            move || since_label(&s, dashboard.now_ms.get())
                        };
                        let task = match (&s.task_id, s.attribution.as_deref()) {
                            (Some(task), Some("inferred")) => format!("{task} (inferred)"),
                            (Some(task), _) => task.clone(),
                            (None, _) => "–".to_owned(),
                        };
                        view! {
                            <tr data-session=s.id.clone() data-state=s.state.as_str() on:click=move |_| selected.set(Some(id.clone()))>
                                <td>
                                    <span class=state_class(s.state)>{s.state.label()}</span>
                                    " "
                                    <span class="session-since">{since}</span>
                                    {s.waiting_for.clone().map(|w| view! { <div class="waiting-for">{w}</div> })}
                                </td>
                                <td>{s.agent.clone().unwrap_or_else(|| s.source.clone())}</td>
                                <td>{task}</td>
                                <td>{s.models.join(", ")}</td>
                                <td class="num">{s.calls}</td>
                                <td class="num">{crate::format::usd(s.cost_usd)}</td>
                                <td class="num">{crate::format::usd(s.burn_rate_usd_per_hour)}</td>
                                <td class="num">{s.cache_hit_rate.map(|r| crate::format::percent(r, 0)).unwrap_or_else(|| "–".into())}</td>
                                <td class="num">{s.errors}</td>
                                <td class="num">{s.tools}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// A session's timeline: its calls, tools, prompts' sizes and notifications, in order.
#[component]
fn SessionTimeline(id: String) -> impl IntoView {
    let detail = RwSignal::new(None::<Result<SessionDetail, String>>);
    #[cfg(feature = "hydrate")]
    {
        let dashboard = use_dashboard();
        let id = id.clone();
        Effect::new(move |_| {
            // Read again as the session changes.
            dashboard
                .board
                .with(|b| b.sessions.get(&id).map(|s| s.last_event.clone()));
            let id = id.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/api/sessions/{}", crate::navigation::encode_segment(&id));
                detail.set(Some(crate::api::get_json::<SessionDetail>(&path).await));
            });
        });
    }
    view! {
        <section class="session-timeline" data-session=id.clone() aria-label="Timeline of the session">
            <h3>{format!("Session {id}")}</h3>
            {move || match detail.get() {
                None => view! { <p class="loading">"Reading the session…"</p> }.into_any(),
                Some(Err(reason)) => view! { <p class="detail-error" role="alert">{reason}</p> }.into_any(),
                Some(Ok(detail)) => view! {
                    <ol class="timeline">
                        {detail.events.into_iter().map(|e| view! {
                            <li data-kind=e.kind.clone()>
                                <time datetime=e.at.clone()>{e.at.get(11..19).unwrap_or_default().to_owned()}</time>
                                " "
                                <span class="kind">{e.kind.clone()}</span>
                                " "
                                <span class="what">{e.detail.clone()}</span>
                                {e.cost_usd.map(|c| view! { <span class="cost">{format!(" {}", crate::format::usd(c))}</span> })}
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any(),
            }}
        </section>
    }
}

/// An agent's page: its sessions going on.
#[component]
pub fn AgentSessions(agent: Signal<String>) -> impl IntoView {
    let dashboard = use_dashboard();
    let base = dashboard.settings.with_value(|s| s.base.clone());
    let rows = move || {
        let sessions = dashboard
            .board
            .with(|b| b.sessions.values().cloned().collect());
        filtered(sessions, "", &agent.get())
    };
    let selected = RwSignal::new(None::<String>);
    view! {
        <section class="agent-sessions" aria-label="Sessions">
            <h3>"Sessions going on"</h3>
            {move || {
                let rows = rows();
                if rows.is_empty() {
                    view! { <p class="empty">"None now. "<A href=format!("{base}/sessions")>"All sessions"</A></p> }.into_any()
                } else {
                    session_table(rows, selected).into_any()
                }
            }}
        </section>
    }
}

/// What this browser does with alerts (the switch on the Sessions page; see
/// `client::notify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowserNotifications {
    /// Not known yet (the server renders this; the browser tells after hydration).
    Unknown,
    /// No Notification API (an old browser, or a page not served over HTTPS or from loopback).
    Unsupported,
    /// The person or the browser's settings refused them for this site.
    Blocked,
    Off,
    On,
}

impl BrowserNotifications {
    /// Its name in the page (`data-state`).
    pub fn as_str(self) -> &'static str {
        match self {
            BrowserNotifications::Unknown => "unknown",
            BrowserNotifications::Unsupported => "unsupported",
            BrowserNotifications::Blocked => "blocked",
            BrowserNotifications::Off => "off",
            BrowserNotifications::On => "on",
        }
    }
}

/// The switch for this browser's notifications of alerts.
#[component]
fn BrowserNotificationSwitch() -> impl IntoView {
    let state = RwSignal::new(BrowserNotifications::Unknown);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| state.set(crate::client::notify::current()));
    let turn = move |on: bool| {
        #[cfg(feature = "hydrate")]
        wasm_bindgen_futures::spawn_local(async move {
            state.set(if on {
                crate::client::notify::turn_on().await
            } else {
                crate::client::notify::turn_off()
            });
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = on;
    };
    view! {
        <p class="browser-notifications" data-state=move || state.get().as_str()>
            "In this browser: "
            {move || match state.get() {
                BrowserNotifications::Unknown => view! { <span>"…"</span> }.into_any(),
                BrowserNotifications::Unsupported => view! {
                    <span>"this browser cannot show notifications (they need HTTPS, or the dashboard on this machine)."</span>
                }.into_any(),
                BrowserNotifications::Blocked => view! {
                    <span>"notifications are blocked for this site: allow them in the browser's site settings."</span>
                }.into_any(),
                BrowserNotifications::Off => view! {
                    <button type="button" on:click=move |_| turn(true)>"Notify me of alerts"</button>
                    " (while the dashboard is not in front)"
                }.into_any(),
                BrowserNotifications::On => view! {
                    <span>"alerts show as notifications while the dashboard is not in front. "</span>
                    <button type="button" on:click=move |_| turn(false)>"Stop notifying"</button>
                }.into_any(),
            }}
        </p>
    }
}

/// The alerts sent (the newest first) and where they go, a test button for each destination.
#[component]
fn AlertsSection() -> impl IntoView {
    let log = RwSignal::new(None::<Result<AlertLog, String>>);
    let tested = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    {
        let dashboard = use_dashboard();
        // Read again as the board moves (an alert, or its delivery, moves it).
        Effect::new(move |_| {
            dashboard.board.with(|b| b.seq);
            wasm_bindgen_futures::spawn_local(async move {
                log.set(Some(crate::api::get_json::<AlertLog>("/api/alerts").await));
            });
        });
    }
    let test = move |index: usize| {
        #[cfg(feature = "hydrate")]
        wasm_bindgen_futures::spawn_local(async move {
            let url = format!("{}/api/alerts/test/{index}", crate::client::base_path());
            let outcome = gloo_net::http::Request::post(&url).send().await;
            tested.set(Some(match outcome {
                Ok(response) if response.ok() => "A test alert was sent.".to_owned(),
                Ok(response) => format!("The test was refused: HTTP {}", response.status()),
                Err(error) => format!(
                    "The server could not be reached: {}",
                    crate::api::request_failure(error)
                ),
            }));
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (index, tested);
    };
    view! {
        <section class="alerts" aria-labelledby="alerts-title">
            <h3 id="alerts-title">"Alerts"</h3>
            <BrowserNotificationSwitch/>
            {move || match log.get() {
                None => view! { <p class="loading">"Reading the alerts…"</p> }.into_any(),
                Some(Err(reason)) => view! { <p class="detail-error" role="alert">{reason}</p> }.into_any(),
                Some(Ok(log)) => {
                    let destinations = if log.destinations.is_empty() {
                        view! { <p class="empty">"No destination: start the server with --alert-webhook [json=|slack=|ntfy=]URL."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="alert-destinations">
                                {log.destinations.into_iter().enumerate().map(|(index, shown)| view! {
                                    <li data-destination=index.to_string()>
                                        <span>{shown}</span>
                                        " "
                                        <button type="button" on:click=move |_| test(index)>"Send a test"</button>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    };
                    let alerts = if log.alerts.is_empty() {
                        view! { <p class="empty">"No alert sent yet."</p> }.into_any()
                    } else {
                        view! {
                            <table class="alerts-table">
                                <thead><tr><th scope="col">"When"</th><th scope="col">"Alert"</th><th scope="col">"Delivered"</th></tr></thead>
                                <tbody>
                                    {log.alerts.into_iter().map(|alert| view! {
                                        <tr data-kind=alert.kind.clone() data-key=alert.key.clone()>
                                            <td><time datetime=alert.at.clone()>{alert.at.replace('T', " ").get(..19).unwrap_or_default().to_owned()}</time></td>
                                            <td><strong>{alert.title.clone()}</strong><div>{alert.text.clone()}</div></td>
                                            <td>
                                                {alert.deliveries.into_iter().map(|d| {
                                                    let title = d.error.clone().unwrap_or_default();
                                                    view! {
                                                        <div class=format!("delivery delivery-{}", d.status) data-status=d.status.clone() title=title>
                                                            {format!("{}: {} ({} attempt{})", d.destination, d.status, d.attempts, if d.attempts == 1 { "" } else { "s" })}
                                                        </div>
                                                    }
                                                }).collect_view()}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    };
                    view! { {destinations} {alerts} }.into_any()
                }
            }}
            {move || tested.get().map(|t| view! { <p class="alert-tested" role="status">{t}</p> })}
        </section>
    }
}
