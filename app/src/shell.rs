//! The HTML document the server renders around the [`App`]: the snapshot travels to the client
//! in a JSON script element, assets are versioned by their content hash.

use leptos::prelude::*;

use crate::components::App;
use crate::model::Snapshot;
use crate::state::{Dashboard, InitialView, PageSettings};
use crate::{
    AGENTS_ELEMENT_ID, AGENT_PAGE_ELEMENT_ID, CONNECT_ELEMENT_ID, DETAIL_ELEMENT_ID,
    FILTERED_ELEMENT_ID, FORECAST_ELEMENT_ID, HISTORY_ELEMENT_ID, INITIATIVE_COSTS_ELEMENT_ID,
    MCP_ELEMENT_ID, PORTFOLIO_ELEMENT_ID, STATE_ELEMENT_ID,
};

/// Content hash of the built front end (JS, WASM, CSS), appended as `?v=` so browsers may cache
/// the assets for good.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssetVersion(pub String);

/// What the page around the board depends on besides the board.
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub assets: AssetVersion,
    /// The path the server lives under (`""` or `/dashboard`): every link starts with it, and the
    /// browser side reads it from `<html data-base>`.
    pub base: String,
    /// Where the site is (`""` or `/dashboard`): the assets, and this node's own board (`base`
    /// is `{home}/repos/{name}` on another repository's pages).
    pub home: String,
    /// When the page is rendered (for the cards' ages).
    pub now_ms: i64,
    /// In development, cargo-leptos's reload port: the page reloads after a rebuild.
    pub live_reload: Option<u16>,
    /// The server lets the page change task files.
    pub writable: bool,
    /// What the page opens on besides the board (a task's detail, a filter).
    pub view: InitialView,
    /// The repository shown, and this node's own (see [`PageSettings`]).
    pub repo: String,
    pub local_repo: String,
}

/// The whole page for `snapshot`.
pub fn shell(snapshot: Snapshot, page: Page) -> impl IntoView {
    let Page {
        assets,
        base,
        home,
        now_ms,
        live_reload,
        writable,
        view,
        repo,
        local_repo,
    } = page;
    let state_json = script_json(&snapshot);
    let detail_json = match &view.task {
        Some((_, Ok(details))) => Some(script_json(details)),
        _ => None,
    };
    // What the page the address names was rendered with, for the browser to take over.
    let page_data: Vec<(&'static str, String)> = [
        (FILTERED_ELEMENT_ID, view.filtered.as_ref().map(script_json)),
        (
            PORTFOLIO_ELEMENT_ID,
            view.portfolio.as_ref().map(script_json),
        ),
        (
            INITIATIVE_COSTS_ELEMENT_ID,
            view.initiative_costs.as_ref().map(script_json),
        ),
        (FORECAST_ELEMENT_ID, view.forecast.as_ref().map(script_json)),
        (AGENTS_ELEMENT_ID, view.agents.as_ref().map(script_json)),
        (
            AGENT_PAGE_ELEMENT_ID,
            view.agent_page.as_ref().map(script_json),
        ),
        (HISTORY_ELEMENT_ID, view.history.as_ref().map(script_json)),
        (MCP_ELEMENT_ID, view.mcp.as_ref().map(script_json)),
        (CONNECT_ELEMENT_ID, view.connect.as_ref().map(script_json)),
    ]
    .into_iter()
    .filter_map(|(id, json)| Some((id, json?)))
    .collect();
    let title = match (&view.task, &view.portfolio) {
        (Some((_, Ok(details))), _) => format!("{} · execdash", details.task.title),
        (_, Some(_)) => "Initiatives · execdash".to_owned(),
        _ if view.initiative_costs.is_some() || view.forecast.is_some() => {
            "Costs · execdash".to_owned()
        }
        _ if view.agents.is_some() => "Agents · execdash".to_owned(),
        _ if view.history.is_some() => "History · execdash".to_owned(),
        _ if view.mcp.is_some() => "MCP servers · execdash".to_owned(),
        _ if view.connect.is_some() => "Connect your agents · execdash".to_owned(),
        _ if view.not_found => "Page not found · execdash".to_owned(),
        _ if view.agent_page.is_some() => view
            .agent_page
            .as_ref()
            .map(|p| format!("{} · Agents · execdash", p.agent.name))
            .unwrap_or_default(),
        _ => "Execution Dashboard · execdash".to_owned(),
    };
    let v = assets.0;
    let settings = PageSettings {
        base: base.clone(),
        home: home.clone(),
        writable,
        repo: repo.clone(),
        local_repo: local_repo.clone(),
    };
    let dashboard = Dashboard::with_settings(snapshot, now_ms, settings, view);
    view! {
        <!DOCTYPE html>
        <html
            lang="en"
            data-base=base.clone()
            data-home=home.clone()
            data-writable=writable.to_string()
            data-repo=repo
            data-local-repo=local_repo
        >
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="dark light"/>
                // As text written out: a view would add a hydration marker (`<!>`), and inside
                // <title> that is not a comment but part of the title the tab shows.
                <title inner_html=html_escape::encode_text(&title).into_owned()></title>
                <link rel="icon" href=format!("{home}/favicon.svg?v={v}") type="image/svg+xml"/>
                <link rel="stylesheet" href=format!("{home}/pkg/execdash.css?v={v}")/>
                <link rel="modulepreload" href=format!("{home}/pkg/execdash.js?v={v}")/>
                <script id=STATE_ELEMENT_ID type="application/json" inner_html=state_json></script>
                {detail_json.map(|json| view! {
                    <script id=DETAIL_ELEMENT_ID type="application/json" inner_html=json></script>
                })}
                {page_data
                    .into_iter()
                    .map(|(id, json)| view! { <script id=id type="application/json" inner_html=json></script> })
                    .collect_view()}
                <script type="module" src=format!("{home}/boot.js?v={v}")></script>
                {live_reload.map(|port| view! {
                    <script src=format!("{home}/live-reload.js?v={v}") data-port=port.to_string()></script>
                })}
            </head>
            <body>
                <App dashboard/>
            </body>
        </html>
    }
}

/// JSON for a script element: `<` is escaped so no text in a task can close the element.
fn script_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "null".to_owned())
        .replace('<', "\\u003c")
}
