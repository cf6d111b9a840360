//! What the crate knows about an invocation (a coding agent's model call) beyond the row the
//! telemetry stores: what it cost, from its tokens and a price table, and which agent and task
//! it was for when the call does not say.
//!
//! Why one group: the receivers of calls (`POST /api/invocations`, the OTLP receiver, the
//! transcript reader) all price and attribute the invocations they make, with these. The price
//! table and the telemetry know nothing of each other; `usage` is between them. `prices` depends
//! on nothing of the crate, `usage` on the telemetry's row, `attribution` on the board.
//!
//! * `prices`: the price table (embedded `data/prices.json`, `--prices FILE` overrides).
//! * `usage`: a call's tokens and cost set on its invocation.
//! * `attribution`: a call's agent and task inferred from the board, when unambiguous.

mod attribution;
mod prices;
mod usage;

pub(crate) use attribution::{in_progress, infer, unambiguous_task};
pub use prices::PricesError;
pub(crate) use prices::{PriceTable, Usage};
pub(crate) use usage::{codex_call_id, set_usage};
