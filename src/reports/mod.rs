//! What the pages compute from the board and the telemetry when asked: pure functions over
//! data their callers read (the HTTP layer passes the tasks, the specifications, the days' costs
//! and the instant), so each is tested without a server.
//!
//! Why one group: each is a report over data kept elsewhere, none keeps state or reads a file,
//! and none depends on another module of the crate (they use the shared model of the `app`
//! crate only).
//!
//! * `initiatives`: the initiatives portfolio (`GET /api/portfolio`, the page "Initiatives"):
//!   specifications grouped by initiative, the tasks linked to them, progress, orphans, costs.
//!   The wire names (`/api/portfolio`, `portfolio.updated`, `app::model::Portfolio`) keep the
//!   original's word; in `src/` the concept is called initiatives.
//! * `throughput`: the board's flow over time (`GET /api/history`, the page "History"): tasks
//!   completed per day or week, cycle times, work in progress. Named for what it measures, not
//!   for the route (the page's browser history is another thing).
//! * `forecast`: the spending forecast and the day the monthly budget runs out.

mod forecast;
mod initiatives;
mod throughput;

pub(crate) use forecast::{forecast, DailySeries};
pub(crate) use initiatives::{build as build_initiatives, costs as initiative_costs};
pub(crate) use throughput::build as build_throughput;
