//! Shared crate of execdash: the typed model that travels between server and browser, the
//! dashboard state, and the Leptos components. Built with `ssr` into the server and with
//! `hydrate` into the WASM front end.

// The views' types nest deeply (every element is a type); the hydrate build of the board needs
// more than the default 128 levels to lay them out.
#![recursion_limit = "256"]

pub mod charts;
pub mod components;
pub mod edits;
pub mod format;
pub mod model;
pub mod navigation;
pub mod state;
pub mod theme;

#[cfg(feature = "hydrate")]
mod client;
#[cfg(feature = "ssr")]
mod shell;

#[cfg(feature = "hydrate")]
pub use client::hydrate_dashboard;
#[cfg(feature = "ssr")]
pub use shell::{shell, AssetVersion, Page};

/// Id of the `<script type="application/json">` element that carries the server's snapshot to the
/// client for hydration.
/// The repository a page names on the board of every repository together (`/all/`).
pub const ALL_REPOSITORIES: &str = "*";

pub const STATE_ELEMENT_ID: &str = "execdash-state";

/// Id of the `<script type="application/json">` element that carries the task a `/tasks/{id}`
/// page was rendered with.
pub const DETAIL_ELEMENT_ID: &str = "execdash-detail";

/// Id of the `<script type="application/json">` element that carries the server's answer for
/// the filter in a page's address (`/?q=…`).
pub const FILTERED_ELEMENT_ID: &str = "execdash-filtered";

/// Id of the `<script type="application/json">` element that carries the portfolio the
/// initiatives page was rendered with.
pub const PORTFOLIO_ELEMENT_ID: &str = "execdash-portfolio";

/// Id of the `<script type="application/json">` element that carries what each initiative cost,
/// on the costs page.
pub const INITIATIVE_COSTS_ELEMENT_ID: &str = "execdash-initiative-costs";

/// Id of the `<script type="application/json">` element that carries the spending forecast, on the
/// costs page.
pub const FORECAST_ELEMENT_ID: &str = "execdash-forecast";

/// Ids of the `<script type="application/json">` elements that carry the agents page's agents and
/// an agent's page.
pub const AGENTS_ELEMENT_ID: &str = "execdash-agents";
pub const AGENT_PAGE_ELEMENT_ID: &str = "execdash-agent";
/// Id of the element that carries the history page's data.
pub const HISTORY_ELEMENT_ID: &str = "execdash-history";
/// Id of the element that carries the MCP page's servers.
pub const MCP_ELEMENT_ID: &str = "execdash-mcp";
/// Id of the element that carries the "Connect your agents" page's data.
pub const CONNECT_ELEMENT_ID: &str = "execdash-connect";
