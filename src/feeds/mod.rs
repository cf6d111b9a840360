//! Background tasks that keep what the browsers see current by publishing on the board's event
//! stream when something outside the task files changes: the telemetry database (the cost
//! figures) and the specifications folder (the initiatives).
//!
//! Why one group: each watches one source, settles or throttles its changes, and publishes an
//! event; the server starts them and the HTTP layer asks them. They depend on the board (its
//! store and stream), and on the telemetry or the documents they watch.
//!
//! * `costs` ([`CostFeed`]): recomputes the cost summary when the telemetry database changes.
//! * `initiatives` ([`InitiativesFeed`]): publishes `portfolio.updated` when a specification
//!   changes, so the pages re-read the initiatives (see [`crate::reports`]).

mod costs;
mod initiatives;

pub(crate) use costs::CostFeed;
pub(crate) use initiatives::{watch as watch_initiatives, InitiativesFeed};
