use leptos::prelude::*;
use leptos_router::components::A;

use super::mcp::McpIndicator;
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
                .map(|c| crate::charts::usd(c.totals.today))
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
                <A href=format!("{base}/mcp")>"MCP"</A>
            </nav>
            <dl class="totals">
                <div><dt>"Inbox"</dt><dd data-total="inbox">{total(Column::Inbox)}</dd></div>
                <div><dt>"Assigned"</dt><dd data-total="assigned">{total(Column::Assigned)}</dd></div>
                <div><dt>"Done"</dt><dd data-total="done">{total(Column::Done)}</dd></div>
                <div><dt>"Today"</dt><dd data-total="cost-today">{today}</dd></div>
            </dl>
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
