use serde::{Deserialize, Serialize};

use super::{Budgets, CostSummary, Problem, Task};

/// The whole board at one sequence number: what a client starts from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The sequence number of the last change included.
    pub seq: u64,
    pub tasks: Vec<Task>,
    pub problems: Vec<Problem>,
    /// The cost summary (7 days), when telemetry is available.
    #[serde(default)]
    pub costs: Option<CostSummary>,
    #[serde(default)]
    pub budgets: Budgets,
}
