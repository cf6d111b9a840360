//! The dashboard's state in the browser (and during server rendering): the board at a sequence
//! number, and the rule that keeps it equal to the server's: apply events in order, and start
//! again from a snapshot after a gap.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::model::{
    Budgets, Column, CostRange, CostSummary, Envelope, Problem, ServerEvent, Snapshot, Task,
};

/// A card and how it last changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub task: Task,
    /// The sequence number of the card's last change: part of its key, so a changed card is
    /// drawn anew.
    pub rev: u64,
    /// Changed live (not from a snapshot): drawn highlighted for a moment.
    pub fresh: bool,
}

/// What applying a message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The board changed or was replaced.
    Changed,
    /// Nothing to do (an old or non-board message).
    Unchanged,
    /// A change was missed: the client must ask for a snapshot.
    Gap,
}

/// The board as plain data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BoardModel {
    pub seq: u64,
    pub cards: BTreeMap<String, Card>,
    pub problems: BTreeMap<String, Problem>,
    /// The 7-day cost summary (totals, charts, cost per task and agent).
    pub costs: Option<CostSummary>,
    pub budgets: Budgets,
}

impl BoardModel {
    pub fn from_snapshot(snapshot: Snapshot) -> BoardModel {
        BoardModel {
            seq: snapshot.seq,
            cards: snapshot
                .tasks
                .into_iter()
                .map(|task| {
                    let card = Card {
                        task,
                        rev: snapshot.seq,
                        fresh: false,
                    };
                    (card.task.path.clone(), card)
                })
                .collect(),
            problems: snapshot
                .problems
                .into_iter()
                .map(|p| (p.path.clone(), p))
                .collect(),
            costs: snapshot.costs,
            budgets: snapshot.budgets,
        }
    }

    /// Applies one server message.
    pub fn apply(&mut self, envelope: Envelope) -> Applied {
        let seq = envelope.seq;
        match envelope.event {
            ServerEvent::ConnectionAck { snapshot, .. } | ServerEvent::Snapshot { snapshot } => {
                *self = BoardModel::from_snapshot(snapshot);
                Applied::Changed
            }
            ServerEvent::Pong { .. } | ServerEvent::Error { .. } => {
                if seq > self.seq {
                    Applied::Gap
                } else {
                    Applied::Unchanged
                }
            }
            change => {
                if seq <= self.seq {
                    return Applied::Unchanged;
                }
                if seq != self.seq + 1 {
                    return Applied::Gap;
                }
                self.seq = seq;
                self.apply_change(seq, change);
                Applied::Changed
            }
        }
    }

    fn apply_change(&mut self, seq: u64, change: ServerEvent) {
        match change {
            ServerEvent::TaskCreated { task } | ServerEvent::TaskUpdated { task } => {
                self.put(seq, task);
            }
            ServerEvent::TaskAssigned { from, task }
            | ServerEvent::TaskCompleted { from, task }
            | ServerEvent::TaskMoved { from, task } => {
                self.cards.remove(&from);
                self.problems.remove(&from);
                self.put(seq, task);
            }
            ServerEvent::TaskDeleted { path, .. } => {
                self.cards.remove(&path);
                self.problems.remove(&path);
            }
            ServerEvent::TaskInvalid { problem } => {
                self.problems.insert(problem.path.clone(), problem);
            }
            ServerEvent::CostUpdate(update) => self.costs = Some(update.summary),
            // The banner is derived from the totals and the budgets; the alert is for other
            // listeners (and the server log).
            ServerEvent::BudgetAlert(_) => {}
            ServerEvent::ConnectionAck { .. }
            | ServerEvent::Snapshot { .. }
            | ServerEvent::Pong { .. }
            | ServerEvent::Error { .. } => {}
        }
    }

    fn put(&mut self, seq: u64, task: Task) {
        self.problems.remove(&task.path);
        let card = Card {
            task,
            rev: seq,
            fresh: true,
        };
        self.cards.insert(card.task.path.clone(), card);
    }

    /// Cards of one column (and one agent lane, for Assigned and Done), newest activity first.
    pub fn cards_in(&self, column: Column, lane: Option<&str>) -> Vec<Card> {
        let mut cards: Vec<Card> = self
            .cards
            .values()
            .filter(|c| {
                c.task.column == column && (lane.is_none() || c.task.lane.as_deref() == lane)
            })
            .cloned()
            .collect();
        cards.sort_by(|a, b| {
            b.task
                .activity_ms
                .cmp(&a.task.activity_ms)
                .then_with(|| a.task.path.cmp(&b.task.path))
        });
        cards
    }

    /// The agent lanes of a column that hold cards, sorted by name.
    pub fn lanes(&self, column: Column) -> Vec<String> {
        let mut lanes: Vec<String> = self
            .cards
            .values()
            .filter(|c| c.task.column == column)
            .filter_map(|c| c.task.lane.clone())
            .collect();
        lanes.sort();
        lanes.dedup();
        lanes
    }

    pub fn count(&self, column: Column) -> usize {
        self.cards
            .values()
            .filter(|c| c.task.column == column)
            .count()
    }

    /// Cost of a task (by its id), all time.
    pub fn task_cost(&self, task_id: &str) -> Option<f64> {
        let costs = self.costs.as_ref()?;
        costs
            .per_task
            .iter()
            .find(|t| t.task_id == task_id)
            .map(|t| t.cost_usd)
    }

    /// Cost of an agent, all time.
    pub fn agent_cost(&self, agent: &str) -> Option<f64> {
        let costs = self.costs.as_ref()?;
        costs
            .per_agent
            .iter()
            .find(|a| a.agent.as_deref() == Some(agent))
            .map(|a| a.cost_usd)
    }

    pub fn count_in_lane(&self, column: Column, lane: &str) -> usize {
        self.cards
            .values()
            .filter(|c| c.task.column == column && c.task.lane.as_deref() == Some(lane))
            .count()
    }
}

/// The state of the live connection, as the indicator shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// Trying again; the number of the attempt.
    Reconnecting(u32),
    /// Many attempts failed; still trying, and polling meanwhile.
    Offline,
}

impl Connection {
    pub fn label(self) -> String {
        match self {
            Connection::Connecting => "Connecting…".to_owned(),
            Connection::Live => "Live".to_owned(),
            Connection::Reconnecting(n) => format!("Reconnecting ({n})"),
            Connection::Offline => "Offline".to_owned(),
        }
    }

    pub fn css_class(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Live => "live",
            Connection::Reconnecting(_) => "reconnecting",
            Connection::Offline => "offline",
        }
    }
}

/// The reactive dashboard: one signal for the board, one for the connection, a clock for ages,
/// and the card the detail panel shows.
#[derive(Clone, Copy)]
pub struct Dashboard {
    pub board: RwSignal<BoardModel>,
    pub connection: RwSignal<Connection>,
    pub now_ms: RwSignal<i64>,
    pub selected: RwSignal<Option<String>>,
    /// The range the cost charts show.
    pub cost_range: RwSignal<CostRange>,
    /// The summary for `cost_range` when it is not the 7 days the board carries (fetched).
    pub range_costs: RwSignal<Option<CostSummary>>,
}

impl Dashboard {
    pub fn new(snapshot: Snapshot, now_ms: i64) -> Dashboard {
        Dashboard {
            board: RwSignal::new(BoardModel::from_snapshot(snapshot)),
            connection: RwSignal::new(Connection::Connecting),
            now_ms: RwSignal::new(now_ms),
            selected: RwSignal::new(None),
            cost_range: RwSignal::new(CostRange::Days7),
            range_costs: RwSignal::new(None),
        }
    }

    /// The cost summary the charts show: the board's (7 days), or the one fetched for another
    /// range.
    pub fn shown_costs(&self) -> Option<CostSummary> {
        if self.cost_range.get() == CostRange::Days7 {
            self.board.with(|b| b.costs.clone())
        } else {
            self.range_costs
                .get()
                .filter(|c| c.range == self.cost_range.get())
        }
    }

    pub fn apply(&self, envelope: Envelope) -> Applied {
        let mut outcome = Applied::Unchanged;
        self.board.update(|board| outcome = board.apply(envelope));
        outcome
    }
}

/// "3 min ago" for a moment `then_ms` seen at `now_ms`.
pub fn age_label(then_ms: i64, now_ms: i64) -> String {
    let seconds = (now_ms - then_ms).max(0) / 1000;
    match seconds {
        0..=44 => "just now".to_owned(),
        45..=89 => "1 min ago".to_owned(),
        90..=3_599 => format!("{} min ago", (seconds + 30) / 60),
        3_600..=86_399 => format!("{} h ago", seconds / 3_600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Priority;

    fn task(path: &str) -> Task {
        let location = crate::model::TaskPath::parse(path).unwrap();
        Task {
            path: path.to_owned(),
            column: location.column,
            lane: location.lane,
            id: location.stem.clone(),
            title: location.stem,
            agent: None,
            status: None,
            priority: Some(Priority::High),
            created_at: None,
            updated_at: None,
            started_at: None,
            completed_at: None,
            tags: vec![],
            description: None,
            specification: None,
            estimated_hours: None,
            blocked_reason: None,
            state: None,
            activity_ms: None,
            document: crate::model::Document::default(),
        }
    }

    fn env(seq: u64, event: ServerEvent) -> Envelope {
        Envelope { seq, event }
    }

    #[test]
    fn events_in_order_move_cards() {
        let mut board = BoardModel::default();
        let created = env(
            1,
            ServerEvent::TaskCreated {
                task: task("inbox/a.yaml"),
            },
        );
        assert_eq!(board.apply(created), Applied::Changed);
        let assigned = env(
            2,
            ServerEvent::TaskAssigned {
                from: "inbox/a.yaml".into(),
                task: task("assigned/bob/a.yaml"),
            },
        );
        assert_eq!(board.apply(assigned), Applied::Changed);
        assert_eq!(board.count(Column::Inbox), 0);
        assert_eq!(board.lanes(Column::Assigned), vec!["bob"]);
        assert!(board.cards["assigned/bob/a.yaml"].fresh);
        let deleted = ServerEvent::TaskDeleted {
            path: "assigned/bob/a.yaml".into(),
            moved_to: None,
        };
        assert_eq!(board.apply(env(3, deleted)), Applied::Changed);
        assert!(board.cards.is_empty());
        assert_eq!(board.seq, 3);
    }

    #[test]
    fn a_gap_asks_for_a_snapshot_and_old_events_are_ignored() {
        let mut board = BoardModel::from_snapshot(Snapshot {
            seq: 5,
            tasks: vec![task("inbox/a.yaml")],
            ..Snapshot::default()
        });
        let old = env(
            5,
            ServerEvent::TaskCreated {
                task: task("inbox/b.yaml"),
            },
        );
        assert_eq!(board.apply(old), Applied::Unchanged);
        let skipped = env(
            7,
            ServerEvent::TaskCreated {
                task: task("inbox/c.yaml"),
            },
        );
        assert_eq!(board.apply(skipped), Applied::Gap);
        assert_eq!(board.seq, 5);
        let pong = env(
            6,
            ServerEvent::Pong {
                timestamp: String::new(),
            },
        );
        assert_eq!(board.apply(pong), Applied::Gap);
        assert!(!board.cards["inbox/a.yaml"].fresh);
    }

    #[test]
    fn problems_come_and_go() {
        let mut board = BoardModel::default();
        let problem = Problem {
            path: "inbox/bad.yaml".into(),
            line: Some(3),
            column: Some(1),
            reason: "bad".into(),
        };
        board.apply(env(1, ServerEvent::TaskInvalid { problem }));
        assert_eq!(board.problems.len(), 1);
        board.apply(env(
            2,
            ServerEvent::TaskUpdated {
                task: task("inbox/bad.yaml"),
            },
        ));
        assert!(board.problems.is_empty());
        assert_eq!(board.count(Column::Inbox), 1);
    }

    #[test]
    fn ages() {
        assert_eq!(age_label(0, 10_000), "just now");
        assert_eq!(age_label(0, 180_000), "3 min ago");
        assert_eq!(age_label(0, 7_200_000), "2 h ago");
        assert_eq!(age_label(0, 3 * 86_400_000), "3 d ago");
    }
}
