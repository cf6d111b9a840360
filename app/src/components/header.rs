use leptos::prelude::*;
use leptos_router::components::A;

use super::mcp::McpIndicator;
use super::sessions::WaitingIndicator;
use super::use_dashboard;
use crate::model::Column;

/// Title, board totals and the connection indicator.
#[component]
pub fn Header() -> impl IntoView {
    let dashboard = use_dashboard();
    let connection = dashboard.connection;
    // The router leaves absolute links as they are: the base path goes in front here.
    let base = dashboard.settings.with_value(|s| s.base.clone());
    let today = move || {
        dashboard.board.with(|b| {
            b.costs
                .as_ref()
                .map(|c| crate::format::usd(c.totals.today))
                .unwrap_or_else(|| "–".to_owned())
        })
    };
    let total = move |column: Column| move || dashboard.board.with(|b| b.count(column));
    view! {
        <header class="topbar">
            <div class="brand">
                <svg class="logo" viewBox="0 0 24 24" aria-hidden="true">
                    <rect x="2" y="3" width="6" height="18" rx="1.5"></rect>
                    <rect x="9" y="3" width="6" height="12" rx="1.5"></rect>
                    <rect x="16" y="3" width="6" height="8" rx="1.5"></rect>
                </svg>
                <h1>"Execution Dashboard"</h1>
            </div>
            // A page change closes a task's detail (it belongs to the page it was opened on).
            <nav class="pages" aria-label="Pages" on:click=move |_| dashboard.selected.set(None)>
                <A href=format!("{base}/") exact=true>"Board"</A>
                <A href=format!("{base}/initiatives")>"Initiatives"</A>
                <A href=format!("{base}/agents")>"Agents"</A>
                <A href=format!("{base}/history")>"History"</A>
                <A href=format!("{base}/costs")>"Costs"</A>
                <A href=format!("{base}/sessions")>"Sessions"</A>
                <A href=format!("{base}/mcp")>"MCP"</A>
            </nav>
            <WaitingIndicator/>
            <dl class="totals">
                <div><dt>"Inbox"</dt><dd data-total="inbox">{total(Column::Inbox)}</dd></div>
                <div><dt>"Assigned"</dt><dd data-total="assigned">{total(Column::Assigned)}</dd></div>
                <div><dt>"Done"</dt><dd data-total="done">{total(Column::Done)}</dd></div>
                <div><dt>"Today"</dt><dd data-total="cost-today">{today}</dd></div>
            </dl>
            <RepoSwitcher/>
            <McpIndicator/>
            <button
                class="theme-toggle"
                title="Switch between the dark and the light theme"
                aria-label="Switch theme"
                on:click=move |_| crate::theme::toggle()
            >
                "◐"
            </button>
            <div
                id="connection"
                class=move || format!("connection {}", connection.get().css_class())
                role="status"
                aria-live="polite"
            >
                <span class="dot" aria-hidden="true"></span>
                <span class="connection-text">{move || connection.get().label()}</span>
            </div>
        </header>
    }
}

/// The repository whose board is shown and, once the page is live, the team's others (from
/// `GET /api/repos`; a repository whose node stopped sending heartbeats is marked stale). With
/// a SQLite file there is one, this node's.
///
/// The server renders the repository shown; the list is read and drawn only in the browser, once
/// the page is live and settled (`Dashboard::settled`), so its code is a module of its own
/// ([`team_repositories`]), fetched then.
#[component]
fn RepoSwitcher() -> impl IntoView {
    let dashboard = use_dashboard();
    let (home, repo, local) = dashboard
        .settings
        .with_value(|s| (s.home.clone(), s.repo.clone(), s.local_repo.clone()));
    let label = if repo == crate::ALL_REPOSITORIES {
        "All repositories".to_owned()
    } else if repo.is_empty() {
        // A viewer before any node published its repository.
        "No repository yet".to_owned()
    } else {
        repo.clone()
    };
    let team = Team {
        home,
        shown: repo.clone(),
        local,
        stale: RwSignal::new(false),
        cost_today: RwSignal::new(None),
    };
    let (stale, cost_today) = (team.stale, team.cost_today);
    // Read once the page is live and settled (never on the server): its module comes after what
    // the board needs first and the task detail's.
    let settled = dashboard.settled;
    view! {
        <nav class="repos" aria-label="Repositories">
            <span class="repo-current" class:stale=stale data-repo=repo>
                <span class="repo-name">{label}</span>
                {move || stale.get().then(|| view! { <span class="stale-mark">" (stale)"</span> })}
                {move || cost_today.get().map(|c| view! { <span class="repo-cost" title="spent today">{c}</span> })}
            </span>
            {move || settled.get().then(|| Suspend::new(team_repositories(team.clone())))}
        </nav>
    }
}

/// What the switcher's lazily loaded part needs: where the links go, and what it says of the
/// repository shown.
#[derive(Clone)]
struct Team {
    home: String,
    /// The repository shown ([`crate::ALL_REPOSITORIES`] on the board of all of them).
    shown: String,
    /// This node's own: its board is at `{home}/`.
    local: String,
    /// The repository shown is stale (its node sends no heartbeat).
    stale: RwSignal<bool>,
    /// Today's spending of the repository shown (the team's in all on the board of all of them),
    /// written out.
    cost_today: RwSignal<Option<String>>,
}

/// The team's other repositories, read from `GET /api/repos` every 2 s (and, from the same
/// list, whether the one shown is stale and what it spent today).
#[lazy]
fn team_repositories(team: Team) -> AnyView {
    let Team {
        home,
        shown,
        local,
        stale,
        cost_today,
    } = team;
    let repos = RwSignal::new(Vec::<crate::model::RepoStatus>::new());
    #[cfg(feature = "hydrate")]
    wasm_bindgen_futures::spawn_local(async move {
        loop {
            if let Some(list) = crate::client::fetch_repos().await {
                repos.set(list);
            }
            gloo_timers::future::TimeoutFuture::new(2_000).await;
        }
    });
    let current = shown.clone();
    Effect::new(move |_| {
        let (is_stale, cost) = repos.with(|list| {
            let costs = list
                .iter()
                .filter(|r| current == crate::ALL_REPOSITORIES || r.name == current);
            (
                list.iter().any(|r| r.name == current && r.stale),
                (!list.is_empty()).then(|| crate::format::usd(costs.map(|r| r.cost_today).sum())),
            )
        });
        // Only a change redraws what the switcher shows of the repository.
        stale.maybe_update(|s| std::mem::replace(s, is_stale) != is_stale);
        cost_today.maybe_update(|c| {
            let changed = *c != cost;
            *c = cost;
            changed
        });
    });
    let together = shown == crate::ALL_REPOSITORIES;
    let others = {
        let shown = shown.clone();
        move || {
            repos.with(|list| {
                list.iter()
                    .filter(|r| r.name != shown)
                    .cloned()
                    .collect::<Vec<_>>()
            })
        }
    };
    let href = {
        let home = home.clone();
        move |name: &str| {
            if name == local {
                format!("{home}/")
            } else {
                format!("{home}/repos/{}/", crate::navigation::encode_segment(name))
            }
        }
    };
    // Every repository's board together, once the team has more than one.
    let all_link = move || {
        (!together && repos.with(|list| list.len() > 1)).then(|| {
            view! { <a class="repo-link repo-all" rel="external" href=format!("{home}/all/")>"All repositories"</a> }
        })
    };
    view! {
        <For
            each=others
            key=repo_key
            children=move |crate::model::RepoStatus { name, stale, cost_today, .. }| {
                view! {
                    <a
                        class="repo-link"
                        class:stale=stale
                        rel="external"
                        href=href(&name)
                        title=if stale { "stale: its node sends no heartbeat" } else { "" }
                    >
                        <span class="repo-name">{name.clone()}</span>
                        {stale.then(|| view! { <span class="stale-mark">" (stale)"</span> })}
                        <span class="repo-cost" title="spent today">{crate::format::usd(cost_today)}</span>
                    </a>
                }
            }
        />
        {all_link}
    }
    .into_any()
}

/// A repository's key in the list: its name and what it shows (a change draws it anew). Text, as
/// the board's lists' keys are: their keyed diff is the main module's.
fn repo_key(repo: &crate::model::RepoStatus) -> String {
    format!("{}#{}#{}", repo.name, repo.stale, repo.cost_today.to_bits())
}
