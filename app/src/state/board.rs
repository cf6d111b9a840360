//! The board as plain data, and the rule that keeps it equal to the server's: apply events in
//! order, start again from a snapshot after a gap. A pure state machine (no signals), tested
//! below; [`super::Dashboard`] holds it in a signal.

use crate::model::Keyed;

use crate::model::{
    lane_key, parse_lane_key, Budgets, Column, CostSummary, Envelope, LanePage, McpHealth,
    Priority, Problem, ScanProgress, ServerEvent, SessionState, SessionSummary, Snapshot,
    TaskSummary, DONE_WINDOW, LANE_WINDOW,
};

/// A card and how it last changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub task: TaskSummary,
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

/// The board as plain data. It holds the first cards of every lane (what the snapshot carried,
/// what changed since, and what the user asked to see more of) and every lane's count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BoardModel {
    /// The server process `seq` belongs to.
    pub instance: String,
    pub seq: u64,
    pub cards: Keyed<Card>,
    /// How many cards every lane holds on the server (`inbox`, `assigned/<agent>`, …).
    pub lanes: Keyed<usize>,
    /// How many cards a lane shows, where the user asked for more than [`LANE_WINDOW`].
    pub shown: Keyed<usize>,
    pub problems: Keyed<Problem>,
    /// The 7-day cost summary (totals, charts, cost per task and agent).
    pub costs: Option<CostSummary>,
    pub budgets: Budgets,
    /// The server is still reading the board for the first time (how far it got).
    pub reading: Option<ScanProgress>,
    /// How many MCP servers are healthy; `None`: none configured.
    pub mcp: Option<McpHealth>,
    /// The agent sessions going on, by id.
    pub sessions: Keyed<SessionSummary>,
}

impl BoardModel {
    pub fn from_snapshot(snapshot: Snapshot) -> BoardModel {
        BoardModel {
            instance: snapshot.instance,
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
            lanes: snapshot.lanes,
            shown: Keyed::default(),
            problems: snapshot
                .problems
                .into_iter()
                .map(|p| (p.path.clone(), p))
                .collect(),
            costs: snapshot.costs,
            budgets: snapshot.budgets,
            reading: snapshot.reading,
            mcp: snapshot.mcp,
            sessions: snapshot
                .sessions
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect(),
        }
    }

    /// Starts again from `snapshot`, keeping how many cards the user asked to see per lane (the
    /// cards beyond the snapshot's window are fetched again).
    pub fn replace(&mut self, snapshot: Snapshot) {
        let shown = std::mem::take(&mut self.shown);
        *self = BoardModel::from_snapshot(snapshot);
        self.shown = shown;
    }

    /// Applies one server message.
    pub fn apply(&mut self, envelope: Envelope) -> Applied {
        let seq = envelope.seq;
        let lanes = envelope.lanes;
        match envelope.event {
            ServerEvent::ConnectionAck {
                snapshot: Some(snapshot),
                ..
            }
            | ServerEvent::Snapshot { snapshot } => {
                self.replace(snapshot);
                Applied::Changed
            }
            // The server left the board out: the client has it (it named its seq), unless a
            // change came between the client's request and the ack.
            ServerEvent::ConnectionAck { snapshot: None, .. } => {
                if seq == self.seq {
                    Applied::Unchanged
                } else {
                    Applied::Gap
                }
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
                for (lane, count) in lanes {
                    if count == 0 {
                        self.lanes.remove(&lane);
                    } else {
                        self.lanes.insert(lane, count);
                    }
                }
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
            // The pages that show the portfolio fetch it again as the board's seq moves.
            ServerEvent::PortfolioUpdated { .. } => {}
            ServerEvent::McpServerStatus { health, .. } => {
                self.mcp = (health.configured > 0).then_some(health);
            }
            // The MCP page fetches the servers again as the board's seq moves.
            ServerEvent::McpToolsChanged { .. } => {}
            // An ended one stays a while (its card says so); see `SessionSummary::shown_at`.
            ServerEvent::SessionUpdated { session } => {
                self.sessions.insert(session.id.clone(), session);
            }
            // The Sessions page reads the log again as the board's seq moves.
            ServerEvent::Alert { .. } => {}
            ServerEvent::ConnectionAck { .. }
            | ServerEvent::Snapshot { .. }
            | ServerEvent::Pong { .. }
            | ServerEvent::Error { .. } => {}
        }
    }

    /// The sessions of task `id` shown at `now_ms`, the most pressing first (waiting, working,
    /// …, ended).
    pub fn sessions_of_task(&self, id: &str, now_ms: i64) -> Vec<&SessionSummary> {
        let mut sessions: Vec<&SessionSummary> = self
            .sessions
            .values()
            .filter(|s| s.task_id.as_deref() == Some(id) && s.shown_at(now_ms))
            .collect();
        sessions.sort_by(|a, b| a.state.cmp(&b.state).then(b.last_event.cmp(&a.last_event)));
        sessions
    }

    /// The state of agent `agent`'s most pressing live session.
    pub fn agent_state(&self, agent: &str) -> Option<SessionState> {
        self.sessions
            .values()
            .filter(|s| s.agent.as_deref() == Some(agent) && s.live())
            .map(|s| s.state)
            .min()
    }

    /// How many sessions wait for a person.
    pub fn waiting(&self) -> usize {
        self.sessions
            .values()
            .filter(|s| s.state == SessionState::Waiting)
            .count()
    }

    /// Takes a lane's first cards fetched over HTTP in place of those held, when they were
    /// read at the board's `seq` (`false` otherwise: the page may miss a change or hold a newer
    /// one, so the caller asks again).
    pub fn add_page(&mut self, page: LanePage) -> bool {
        if page.seq != self.seq || page.offset != 0 {
            return false;
        }
        self.cards.retain(|_, c| c.task.lane_key() != page.lane);
        for task in page.tasks {
            let card = Card {
                task,
                rev: page.seq,
                fresh: false,
            };
            self.cards.insert(card.task.path.clone(), card);
        }
        if page.count == 0 {
            self.lanes.remove(&page.lane);
        } else {
            self.lanes.insert(page.lane, page.count);
        }
        true
    }

    /// How many cards `lane` shows: [`LANE_WINDOW`] ([`DONE_WINDOW`] in Done) unless the user
    /// asked for more.
    pub fn shown_in(&self, lane: &str) -> usize {
        self.shown
            .get(lane)
            .copied()
            .unwrap_or_else(|| default_window(lane))
    }

    /// A changed card. The cards held of a lane are always its first ones in the board's order
    /// (what a snapshot or a page carried): a card that sorts after all of them, in a lane not
    /// held whole, is left to be fetched with the rest (holding it would leave a gap before it).
    fn put(&mut self, seq: u64, task: TaskSummary) {
        self.problems.remove(&task.path);
        let was_held = self.cards.remove(&task.path).is_some();
        let (column, lane) = (task.column, task.lane.clone());
        let held: Vec<&TaskSummary> = self
            .cards
            .values()
            .map(|c| &c.task)
            .filter(|t| t.column == column && t.lane == lane)
            .collect();
        let count = self.lanes.get(&task.lane_key()).copied().unwrap_or(0);
        let whole = held.len() + usize::from(was_held) >= count;
        let within = whole
            || held
                .iter()
                .any(|t| task.board_order(t) == std::cmp::Ordering::Less);
        if within {
            let card = Card {
                task,
                rev: seq,
                fresh: true,
            };
            self.cards.insert(card.task.path.clone(), card);
        }
    }

    /// The lanes whose shown cards are not all held (after a deletion, or when the user asked
    /// for more), with how many cards to fetch from their top.
    pub fn lanes_to_fetch(&self) -> Vec<(String, usize)> {
        let mut held: Keyed<usize> = Keyed::default();
        for card in self.cards.values() {
            *held.get_or_insert_default(card.task.lane_key()) += 1;
        }
        self.lanes
            .iter()
            .filter_map(|(lane, &count)| {
                let want = self.shown_in(lane).min(count);
                (held.get(lane).copied().unwrap_or(0) < want).then(|| (lane.to_owned(), want))
            })
            .collect()
    }

    /// The cards a lane shows (its first [`BoardModel::shown_in`]), newest activity first.
    pub fn cards_in(&self, column: Column, lane: Option<&str>) -> Vec<Card> {
        let mut cards: Vec<&Card> = self
            .cards
            .values()
            .filter(|c| c.task.column == column && c.task.lane.as_deref() == lane)
            .collect();
        cards.sort_by(|a, b| a.task.board_order(&b.task));
        cards.truncate(self.shown_in(&lane_key(column, lane)));
        cards.into_iter().cloned().collect()
    }

    /// The agent lanes of a column that hold cards, sorted by name.
    pub fn lanes(&self, column: Column) -> Vec<String> {
        self.lanes
            .keys()
            .filter_map(parse_lane_key)
            .filter(|(c, _)| *c == column)
            .filter_map(|(_, lane)| lane)
            .collect()
    }

    /// How many cards a column holds (on the server, not only those loaded here).
    pub fn count(&self, column: Column) -> usize {
        self.lanes
            .iter()
            .filter(|(key, _)| parse_lane_key(key).is_some_and(|(c, _)| c == column))
            .map(|(_, count)| count)
            .sum()
    }

    /// When the cost summary was made: what the pages that follow the costs fetch again on.
    pub fn costs_version(&self) -> Option<String> {
        self.costs.as_ref().map(|c| c.generated_at.clone())
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

    /// The card of the task with this id (the newest, if several files share it).
    pub fn card_with_id(&self, id: &str) -> Option<&Card> {
        self.cards
            .values()
            .filter(|c| c.task.id == id)
            .min_by(|a, b| a.task.board_order(&b.task))
    }

    /// Sets the priority a card shows (an edit not yet confirmed); returns the one it had.
    pub fn set_priority(
        &mut self,
        path: &str,
        priority: Option<Priority>,
    ) -> Option<Option<Priority>> {
        let card = self.cards.get_mut(path)?;
        Some(std::mem::replace(&mut card.task.priority, priority))
    }

    /// How many cards a lane holds on the server.
    pub fn count_in_lane(&self, column: Column, lane: Option<&str>) -> usize {
        self.lanes
            .get(&lane_key(column, lane))
            .copied()
            .unwrap_or(0)
    }
}

/// How many cards a lane shows until the user asks for more.
pub fn default_window(lane: &str) -> usize {
    if lane.starts_with("done/") {
        DONE_WINDOW
    } else {
        LANE_WINDOW
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn task(path: &str) -> TaskSummary {
        let location = crate::model::TaskPath::parse(path).unwrap();
        TaskSummary {
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
            specification: None,
            estimated_hours: None,
            budget_usd: None,
            blocked_reason: None,
            state: None,
            activity_ms: None,
            repo: None,
        }
    }

    fn env(seq: u64, event: ServerEvent) -> Envelope {
        Envelope::new(seq, event)
    }

    fn counted(seq: u64, event: ServerEvent, lanes: &[(&str, usize)]) -> Envelope {
        Envelope {
            lanes: lanes.iter().map(|(l, n)| (l.to_string(), *n)).collect(),
            ..Envelope::new(seq, event)
        }
    }

    #[test]
    fn events_in_order_move_cards() {
        let mut board = BoardModel::default();
        let created = counted(
            1,
            ServerEvent::TaskCreated {
                task: task("inbox/a.yaml"),
            },
            &[("inbox", 1)],
        );
        assert_eq!(board.apply(created), Applied::Changed);
        assert_eq!(board.count(Column::Inbox), 1);
        let assigned = counted(
            2,
            ServerEvent::TaskAssigned {
                from: "inbox/a.yaml".into(),
                task: task("assigned/bob/a.yaml"),
            },
            &[("inbox", 0), ("assigned/bob", 1)],
        );
        assert_eq!(board.apply(assigned), Applied::Changed);
        assert_eq!(board.count(Column::Inbox), 0);
        assert_eq!(board.lanes(Column::Assigned), vec!["bob"]);
        assert!(board.cards["assigned/bob/a.yaml"].fresh);
        let deleted = ServerEvent::TaskDeleted {
            path: "assigned/bob/a.yaml".into(),
            moved_to: None,
        };
        let deleted = counted(3, deleted, &[("assigned/bob", 0)]);
        assert_eq!(board.apply(deleted), Applied::Changed);
        assert!(board.cards.is_empty());
        assert!(board.lanes(Column::Assigned).is_empty());
        assert_eq!(board.seq, 3);
    }

    #[test]
    fn an_ack_without_the_board_keeps_the_board_held_at_its_seq_only() {
        let held = BoardModel::from_snapshot(Snapshot {
            instance: "run-1".into(),
            seq: 5,
            tasks: vec![task("inbox/a.yaml")],
            ..Snapshot::default()
        });
        let ack = |seq| {
            env(
                seq,
                ServerEvent::ConnectionAck {
                    version: "1".into(),
                    snapshot: None,
                },
            )
        };
        let mut board = held.clone();
        assert_eq!(board.apply(ack(5)), Applied::Unchanged);
        assert_eq!(board, held);
        // A change came between the client's request and the ack: it asks for the board.
        assert_eq!(board.apply(ack(6)), Applied::Gap);
        assert_eq!(board, held);
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
        board.apply(counted(
            2,
            ServerEvent::TaskCreated {
                task: task("inbox/bad.yaml"),
            },
            &[("inbox", 1)],
        ));
        assert!(board.problems.is_empty());
        assert_eq!(board.count(Column::Inbox), 1);
    }

    fn numbered(n: usize) -> TaskSummary {
        TaskSummary {
            activity_ms: Some(n as i64),
            repo: None,
            ..task(&format!("assigned/bob/t{n:03}.yaml"))
        }
    }

    #[test]
    fn a_lane_shows_its_window_and_pages_add_to_it_at_the_same_seq() {
        let count = LANE_WINDOW + 30;
        // The snapshot carries the newest LANE_WINDOW cards; the lane holds more.
        let tasks: Vec<TaskSummary> = (count - LANE_WINDOW..count).rev().map(numbered).collect();
        let mut board = BoardModel::from_snapshot(Snapshot {
            seq: 3,
            tasks,
            lanes: [("assigned/bob".to_owned(), count)].into_iter().collect(),
            ..Snapshot::default()
        });
        assert_eq!(board.count(Column::Assigned), count);
        assert_eq!(board.count_in_lane(Column::Assigned, Some("bob")), count);
        let shown = board.cards_in(Column::Assigned, Some("bob"));
        assert_eq!(shown.len(), LANE_WINDOW);
        assert_eq!(
            shown[0].task.path,
            format!("assigned/bob/t{:03}.yaml", count - 1)
        );

        // A new card goes on top and the window keeps its size.
        board.apply(counted(
            4,
            ServerEvent::TaskCreated {
                task: numbered(count),
            },
            &[("assigned/bob", count + 1)],
        ));
        let shown = board.cards_in(Column::Assigned, Some("bob"));
        assert_eq!(shown.len(), LANE_WINDOW);
        assert_eq!(shown[0].task.path, format!("assigned/bob/t{count:03}.yaml"));

        // A change to a card beyond the held ones stays out (holding it would leave a gap);
        // one that moves to the top comes in.
        let old = numbered(3);
        board.apply(counted(5, ServerEvent::TaskUpdated { task: old }, &[]));
        assert!(!board.cards.contains_key("assigned/bob/t003.yaml"));
        let revived = TaskSummary {
            activity_ms: Some(1_000),
            ..numbered(4)
        };
        board.apply(counted(6, ServerEvent::TaskUpdated { task: revived }, &[]));
        let shown = board.cards_in(Column::Assigned, Some("bob"));
        assert_eq!(shown[0].task.path, "assigned/bob/t004.yaml");
        assert!(board.lanes_to_fetch().is_empty());

        // Asking for every card: the lane's top is fetched again, and taken only at the same seq.
        board.shown.insert("assigned/bob".into(), usize::MAX);
        assert_eq!(
            board.lanes_to_fetch(),
            vec![("assigned/bob".to_owned(), count + 1)]
        );
        let mut all: Vec<TaskSummary> = (0..=count).map(numbered).collect();
        all[4].activity_ms = Some(1_000);
        all.sort_by(|a, b| a.board_order(b));
        let stale = LanePage {
            seq: 5,
            lane: "assigned/bob".into(),
            count: count + 1,
            offset: 0,
            tasks: all,
        };
        assert!(!board.add_page(stale.clone()));
        assert!(board.add_page(LanePage { seq: 6, ..stale }));
        let shown = board.cards_in(Column::Assigned, Some("bob"));
        assert_eq!(shown.len(), count + 1, "every card, none twice");
        assert_eq!(shown.last().unwrap().task.path, "assigned/bob/t000.yaml");
        assert!(board.lanes_to_fetch().is_empty());
    }
}
