//! Shared crate of execdash: the typed model that travels between server and browser, the
//! dashboard state, and the Leptos components. Built with `ssr` into the server and with
//! `hydrate` into the WASM front end.

// The views' types nest deeply (every element is a type); the hydrate build of the board needs
// more than the default 128 levels to lay them out.
#![recursion_limit = "256"]

pub mod api;
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
pub use shell::{shell, AssetVersion, LazyLoader, Page};

/// The repository a page names on the board of every repository together (`/all/`).
pub const ALL_REPOSITORIES: &str = "*";
