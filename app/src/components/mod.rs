//! The dashboard's components. They read the [`Dashboard`](crate::state::Dashboard) from context
//! and never open sockets or files.

mod board;
mod card;
mod costs;
mod detail;
mod header;
mod problems;

use leptos::prelude::*;

use crate::state::Dashboard;

pub use board::Board;
pub use costs::{BudgetBanner, CostsPanel};
pub use detail::TaskDetail;
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
        </div>
    }
}

pub(crate) fn use_dashboard() -> Dashboard {
    expect_context::<Dashboard>()
}
