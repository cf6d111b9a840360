use leptos::prelude::*;

use super::{fetched, page_data, use_dashboard, Follows};
use crate::model::{Initiative, Portfolio, PortfolioTask, SpecificationProgress};
use crate::navigation::{open_task, task_href};
use crate::state::PageSettings;

/// `/initiatives`: the portfolio. Initiatives (finished ones hidden unless asked for) with their
/// specifications, features and tasks and the progress of each, then the orphan tasks. Rendered
/// by the server; on the page, fetched again as the board changes.
#[component]
pub fn InitiativesPage() -> impl IntoView {
    let dashboard = use_dashboard();
    if let Some(note) = dashboard.settings.with_value(not_shared) {
        return view! {
            <main class="page initiatives" aria-labelledby="page-title">
                <div class="page-head">
                    <h2 id="page-title">"Initiatives"</h2>
                </div>
                <p class="not-shared" role="status">{note}</p>
            </main>
        }
        .into_any();
    }
    let portfolio = page_data::<Portfolio>(Follows::Board, || "/api/portfolio".to_owned());
    let show_finished = RwSignal::new(false);
    view! {
        <main class="page initiatives" aria-labelledby="page-title">
            <div class="page-head">
                <h2 id="page-title">"Initiatives"</h2>
                <label class="show-finished">
                    <input
                        type="checkbox"
                        prop:checked=move || show_finished.get()
                        on:change=move |ev| show_finished.set(event_target_checked(&ev))
                    />
                    " Show finished initiatives"
                </label>
            </div>
            {fetched(
                portfolio,
                "Reading the specifications…",
                "The portfolio is unavailable: ",
                move |portfolio| move || portfolio_view(portfolio.clone(), show_finished.get()),
            )}
        </main>
    }
    .into_any()
}

/// What the page says instead of the initiatives of a repository whose files are on another
/// node (see [`PageSettings::files_elsewhere`]): the specifications they are read from are not
/// shared through the team's database, only the boards are. `None` for this node's own.
pub(super) fn not_shared(settings: &PageSettings) -> Option<String> {
    if !settings.files_elsewhere() {
        return None;
    }
    Some(match settings.repo.as_str() {
        crate::ALL_REPOSITORIES => {
            "Each repository's initiatives are not shared: they are read from \
             the specifications on the node that publishes the repository, and only the boards \
             reach this dashboard through the team's database. Each node's own dashboard shows \
             its repository's."
                .to_owned()
        }
        "" => "This dashboard has no repository of its own: initiatives are read from the \
               specifications on the node that publishes each repository, and each node's own \
               dashboard shows them."
            .to_owned(),
        repo => format!(
            "{repo}'s initiatives are not shared: they are read from the specifications on the \
             node that publishes {repo}, and only its board reaches this dashboard through the \
             team's database. That node's own dashboard shows them."
        ),
    })
}

fn portfolio_view(portfolio: Portfolio, show_finished: bool) -> impl IntoView {
    let Portfolio {
        initiatives,
        orphans,
        problems,
        ..
    } = portfolio;
    let total = initiatives.len();
    let shown: Vec<Initiative> = initiatives
        .into_iter()
        .filter(|i| show_finished || !is_finished(i))
        .collect();
    let hidden = total - shown.len();
    // Read out when the portfolio changes while the page is open.
    let summary = format!(
        "{total} initiative{}, {} orphan task{}",
        plural(total),
        orphans.len(),
        plural(orphans.len())
    );
    view! {
        <p class="visually-hidden" aria-live="polite" data-live="initiatives">{summary}</p>
        {(!problems.is_empty()).then(|| view! {
            <div class="spec-problems" role="status">
                <p>{format!("{} specification file{} could not be read:", problems.len(), plural(problems.len()))}</p>
                <ul>
                    {problems
                        .into_iter()
                        .map(|p| view! { <li><code>{p.path}</code>": "{p.error}</li> })
                        .collect_view()}
                </ul>
            </div>
        })}
        {(total == 0).then(|| view! {
            <p class="empty">"No specifications: they are read from specifications/**/*.md in the repository."</p>
        })}
        {(hidden > 0).then(|| view! {
            <p class="hidden-count">{format!("{hidden} finished initiative{} hidden", plural(hidden))}</p>
        })}
        <div class="initiative-list">{shown.into_iter().map(initiative_view).collect_view()}</div>
        <section class="orphans" aria-labelledby="orphans-title">
            <h3 id="orphans-title">{format!("Orphan tasks ({})", orphans.len())}</h3>
            <p class="hint">
                "Tasks that name no specification, or one that is not there. Open one to link it."
            </p>
            <ul class="portfolio-tasks">{orphans.into_iter().map(task_item).collect_view()}</ul>
        </section>
    }
}

/// Done, or deprecated: hidden unless asked for (as the original).
fn is_finished(initiative: &Initiative) -> bool {
    initiative.progress >= 100 || initiative.status.eq_ignore_ascii_case("deprecated")
}

fn initiative_view(initiative: Initiative) -> impl IntoView {
    let summary = format!(
        "{} specification{} · {} task{}",
        initiative.spec_count,
        plural(initiative.spec_count),
        initiative.task_count,
        plural(initiative.task_count)
    );
    view! {
        <article class="initiative" data-initiative=initiative.id.clone()>
            <header class="initiative-head">
                <h3>{initiative.title.clone()}</h3>
                {badge("status", &initiative.status)}
                {badge("priority", &initiative.priority)}
                <span class="counts">{summary}</span>
            </header>
            {progress(initiative.progress, format!("{}%", initiative.progress))}
            <ul class="specs">
                {initiative.specifications.into_iter().map(specification_view).collect_view()}
            </ul>
        </article>
    }
}

fn specification_view(spec: SpecificationProgress) -> impl IntoView {
    let label = match spec.completion {
        Some(completion) => format!("{completion}% (set by the specification)"),
        None => format!(
            "{}/{} done · {}%",
            spec.done_count, spec.task_count, spec.progress
        ),
    };
    let features = (!spec.features.is_empty()).then(|| {
        view! {
            <ul class="features">
                {spec
                    .features
                    .into_iter()
                    .map(|f| view! {
                        <li class="feature">
                            <span class="feature-title">{f.title}</span>
                            {f.status.map(|s| badge("status", &s))}
                            <span class="counts">
                                {format!("{} task{} · {}%", f.task_count, plural(f.task_count), f.progress)}
                            </span>
                        </li>
                    })
                    .collect_view()}
            </ul>
        }
    });
    let path = spec.path;
    let key = path.clone();
    view! {
        <li class="spec" data-spec=key>
            <div class="spec-head">
                <span class="spec-title">{spec.title}</span>
                {spec.id.map(|id| view! { <span class="spec-id">{id}</span> })}
                {spec.status.map(|s| badge("status", &s))}
                {badge("priority", &spec.priority)}
            </div>
            {progress(spec.progress, label)}
            <div class="spec-path">{path}</div>
            {features}
            <ul class="portfolio-tasks">{spec.tasks.into_iter().map(task_item).collect_view()}</ul>
        </li>
    }
}

/// A task in the portfolio: its status, a link to its detail (opened over this page), its agent.
fn task_item(task: PortfolioTask) -> impl IntoView {
    let extra = view! {
        {task.feature.map(|f| view! { <span class="task-feature">{f}</span> })}
        {task.agent.map(|a| view! { <span class="task-agent">{a}</span> })}
        {task.specification.map(|s| view! {
            <span class="missing-spec" title="This specification is not in specifications/">{s}</span>
        })}
    };
    task_line(task.id, task.title, task.status, extra)
}

/// A task in a page's list: its status, a link that opens its detail over the page, then
/// `extra`.
pub(super) fn task_line(
    id: String,
    title: String,
    status: Option<String>,
    extra: impl IntoView + 'static,
) -> impl IntoView {
    let dashboard = use_dashboard();
    let href = task_href(&dashboard.settings.with_value(|s| s.base.clone()), &id);
    let opened = id.clone();
    let open = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        open_task(dashboard, opened.clone());
    };
    let status = status.unwrap_or_else(|| "new".to_owned());
    view! {
        <li class="portfolio-task" data-id=id>
            <span class=format!("status-dot status-{}", css_token(&status)) title=status.clone()></span>
            <a href=href on:click=open>{title}</a>
            {extra}
        </li>
    }
}

fn progress(value: u8, label: String) -> impl IntoView {
    view! {
        <div class="progress-line">
            <progress max="100" value=value.to_string() aria-label=label.clone()></progress>
            <span class="progress-label">{label}</span>
        </div>
    }
}

fn badge(kind: &'static str, value: &str) -> impl IntoView {
    let class = format!("badge {kind} {kind}-{}", css_token(value));
    view! { <span class=class>{value.replace('_', " ")}</span> }
}

fn css_token(value: &str) -> String {
    value
        .to_ascii_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
