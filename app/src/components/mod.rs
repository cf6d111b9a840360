//! The dashboard's components. They read the [`Dashboard`](crate::state::Dashboard) from context
//! and never open sockets or files.

mod assign;
mod board;
mod card;
mod costs;
mod detail;
mod filters;
mod header;
mod priority;
mod problems;

use leptos::prelude::*;

use crate::state::Dashboard;

pub use board::Board;
pub use costs::{BudgetBanner, CostsPanel};
pub use detail::TaskDetail;
pub use filters::FilterBar;
pub use header::Header;
pub use problems::ProblemsPanel;

/// The whole page body: header, board, problems, detail panel.
#[component]
pub fn App(dashboard: Dashboard) -> impl IntoView {
    provide_context(dashboard);
    view! {
        <div class="app">
            <Header/>
            <BudgetBanner/>
            <main class="layout">
                <Board/>
                <aside class="sidebar">
                    <ProblemsPanel/>
                </aside>
                <CostsPanel/>
            </main>
            <TaskDetail/>
            <Toasts/>
        </div>
    }
}

/// Messages that come and go (an edit the server refused, …), read out by screen readers.
#[component]
fn Toasts() -> impl IntoView {
    let dashboard = use_dashboard();
    view! {
        <div class="toasts" role="alert" aria-live="assertive">
            <For each=move || dashboard.toasts.get() key=|t| t.id let:toast>
                <div class="toast">
                    <span>{toast.message.clone()}</span>
                    <button
                        class="toast-close"
                        aria-label="Dismiss"
                        on:click=move |_| dashboard.toasts.update(|t| t.retain(|x| x.id != toast.id))
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

pub(crate) fn use_dashboard() -> Dashboard {
    expect_context::<Dashboard>()
}
