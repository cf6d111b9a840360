use leptos::prelude::*;

use super::priority::PriorityMenu;
use super::sessions::SessionLine;
use super::use_dashboard;
use crate::format::age_label;
use crate::state::Card;

/// One task card: title, priority, status, agent, age, tags. Click opens the detail panel.
#[component]
pub fn CardView(card: Card) -> impl IntoView {
    let dashboard = use_dashboard();
    let task = card.task;
    let path = task.path.clone();
    let mut classes = String::from("card");
    if card.fresh {
        classes.push_str(" fresh");
    }
    if task.is_blocked() {
        classes.push_str(" blocked");
    }
    // What the card derives from the board, as memos: a change elsewhere on the board (another
    // card's session, a cost) re-runs these cheap lookups, not this card's views.
    let has_problem = {
        let path = path.clone();
        Memo::new(move |_| dashboard.board.with(|b| b.problems.contains_key(&path)))
    };
    let open = {
        let id = task.id.clone();
        move || crate::navigation::open_task(dashboard, id.clone())
    };
    let open_on_key = open.clone();
    let age = task
        .activity_ms
        .map(|ms| move || age_label(ms, dashboard.now_ms.get()));
    let current = {
        let path = path.clone();
        Signal::from(Memo::new(move |_| {
            dashboard
                .board
                .with(|b| b.cards.get(&path).and_then(|c| c.task.priority))
        }))
    };
    let priority = view! { <PriorityMenu task=task.clone() current/> };
    let status = task.status.clone().map(|s| {
        let class = format!(
            "badge status status-{}",
            s.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        );
        view! { <span class=class>{s.replace('_', " ")}</span> }
    });
    let budget = task.budget_usd;
    let task_id = task.id.clone();
    let cost = Memo::new(move |_| {
        dashboard
            .board
            .with(|b| b.task_cost(&task_id))
            .filter(|c| *c > 0.0)
    });
    let session = {
        let id = task.id.clone();
        Memo::new(move |_| {
            dashboard.board.with(|b| {
                b.sessions_of_task(&id, dashboard.now_ms.get())
                    .first()
                    .map(|s| (*s).clone())
            })
        })
    };
    let tags = (!task.tags.is_empty()).then(|| {
        view! {
            <ul class="tags">
                {task.tags.iter().map(|t| view! { <li>{t.clone()}</li> }).collect_view()}
            </ul>
        }
    });
    let blocked = task.is_blocked().then(|| {
        let reason = task
            .blocked_reason
            .clone()
            .unwrap_or_else(|| "Blocked".to_owned());
        view! { <p class="blocked-reason">{reason}</p> }
    });
    view! {
        <li
            class=classes
            data-path=path
            data-id=task.id.clone()
            tabindex="0"
            on:click=move |_| open()
            on:keydown=move |ev| {
                if ev.key() == "Enter" || ev.key() == " " {
                    open_on_key()
                }
            }
        >
            <div class="card-title">{task.title.clone()}</div>
            <div class="card-badges">
                {task.repo.clone().map(|repo| view! { <span class="badge card-repo" title="repository">{repo}</span> })}
                {priority} {status}
            </div>
            {blocked}
            {move || session.get().map(|session| view! { <SessionLine session/> })}
            {tags}
            <div class="card-foot">
                <span class="agent">{task.owner().unwrap_or("unassigned").to_owned()}</span>
                {move || cost.get().map(|c| card_cost(c, budget))}
                {age.map(|age| view! { <span class="age">{age}</span> })}
            </div>
            <Show when=move || has_problem.get()>
                <p class="card-warning">"File unreadable: showing its last good version"</p>
            </Show>
        </li>
    }
}

/// The task's cost so far; with a budget of its own (`budget_usd`), "spent / budget", marked
/// once it is spent.
fn card_cost(cost: f64, budget: Option<f64>) -> impl IntoView {
    use crate::format::usd;
    let (text, title) = match budget {
        Some(budget) => (
            format!("{} / {}", usd(cost), usd(budget)),
            format!("LLM cost of this task, of its {} budget", usd(budget)),
        ),
        None => (usd(cost), "LLM cost of this task".to_owned()),
    };
    let over = budget.is_some_and(|budget| cost >= budget);
    view! { <span class="card-cost" class:over-budget=over title=title>{text}</span> }
}
