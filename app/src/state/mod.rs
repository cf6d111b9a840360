//! The dashboard's state in the browser (and during server rendering): the board at a sequence
//! number ([`BoardModel`], the consistency rule), and the live core every component shares
//! ([`Dashboard`]).

mod board;

pub use board::{default_window, Applied, BoardModel, Card};

use crate::api::Fetched;
use leptos::prelude::*;

use crate::model::{
    lane_key, parse_lane_key, Column, Envelope, FilteredBoard, Keyed, Snapshot, TaskDetails,
    TaskFilter,
};

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

/// What the page knows besides the board: where it lives and what it may do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageSettings {
    /// `""` or `/dashboard`: every link starts with it (`{home}/repos/{name}` on another
    /// repository's pages).
    pub base: String,
    /// Where the site is: this node's own board.
    pub home: String,
    /// The server lets the page change task files (`--allow-writes`).
    pub writable: bool,
    /// The repository whose board the page shows, and this node's own (the same unless the
    /// page is another repository's, at `/repos/{name}/`; a team's nodes share a PostgreSQL
    /// store). A viewer has no repository of its own (`""`).
    pub repo: String,
    pub local_repo: String,
}

impl PageSettings {
    /// The repository shown is not this node's (another repository's pages, every repository's
    /// together, or a viewer's, which has none): its files (specifications, profiles, task
    /// files) are on the node that publishes it, only its board is here.
    pub fn files_elsewhere(&self) -> bool {
        self.repo != self.local_repo
    }
}

/// A message shown for a few seconds in a corner (an edit that failed, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub message: String,
}

/// The live core every part of the page shares: the board (the one the socket keeps), the
/// connection, a clock for ages, the open task, the filter, toasts and where the page lives.
/// What one page shows besides it is that page's own [`Resource`] (see [`crate::api::page_data`]).
#[derive(Clone, Copy)]
pub struct Dashboard {
    pub board: RwSignal<BoardModel>,
    pub connection: RwSignal<Connection>,
    pub now_ms: RwSignal<i64>,
    /// The id of the task the detail view shows (the page's URL is `/tasks/{id}` then).
    pub selected: RwSignal<Option<String>>,
    /// The open detail's data: the selected task whole (texts rendered, file, cost), or why it
    /// could not be fetched. The detail makes this `Resource` when it opens (its code and its
    /// data's are loaded with it) and fetches again when its card changes; an edit changes it at
    /// once.
    pub detail: RwSignal<Option<Resource<Fetched<TaskDetails>, crate::model::lean::LeanJson>>>,
    /// The open detail's task title, once its data came: what the tab's title names (kept apart
    /// from `detail` so that the board's code never reads the detail's data).
    pub task_title: RwSignal<Option<String>>,
    pub settings: StoredValue<PageSettings>,
    pub toasts: RwSignal<Vec<Toast>>,
    /// The page went live and the task detail's code, loaded then, is there: what the page
    /// loads only in the browser besides (the team's repositories) comes after, so as not to
    /// delay a task opened at once.
    pub settled: RwSignal<bool>,
    /// The search and filters (the address's query says the same).
    pub filter: RwSignal<TaskFilter>,
    /// The server's answer for a filter (fetched when the filter or the board changes).
    pub filtered: RwSignal<Option<FilteredBoard>>,
}

/// What the server rendered the page with besides the page's own data: the board, the moment,
/// the task the address opens and the filter it names. It reaches the browser through Leptos's
/// hydration data ([`InitialView::shared`]), so the page hydrates on exactly what was rendered.
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    serde::Serialize,
    serde::Deserialize,
    crate::model::lean::FromJson,
)]
pub struct InitialView {
    pub snapshot: Snapshot,
    /// When the page was rendered (for the cards' ages).
    pub now_ms: i64,
    /// The task whose detail the address opens (`/tasks/{id}`): the id in the address. (The
    /// detail's data is its own `Resource`.)
    pub task: Option<String>,
    pub filter: TaskFilter,
    /// The server's answer for `filter`, when there is one.
    pub filtered: Option<FilteredBoard>,
}

impl InitialView {
    /// On the server, `view` as rendered (and written into the page's hydration data); in the
    /// browser while hydrating, what the server wrote (`view` is not called).
    pub fn shared(view: impl FnOnce() -> InitialView) -> InitialView {
        // Read with the lean reader (`model::lean`), as everything the browser reads.
        leptos::prelude::SharedValue::<InitialView, crate::model::lean::LeanJson>::new_with_encoding(
            view,
        )
        .into_inner()
    }
}

impl Dashboard {
    pub fn new(snapshot: Snapshot, now_ms: i64) -> Dashboard {
        Dashboard::with_settings(
            PageSettings::default(),
            InitialView {
                snapshot,
                now_ms,
                ..InitialView::default()
            },
        )
    }

    /// The dashboard as a page at `settings` shows it, opened on `view`.
    pub fn with_settings(settings: PageSettings, view: InitialView) -> Dashboard {
        Dashboard {
            board: RwSignal::new(BoardModel::from_snapshot(view.snapshot)),
            connection: RwSignal::new(Connection::Connecting),
            now_ms: RwSignal::new(view.now_ms),
            selected: RwSignal::new(view.task),
            detail: RwSignal::new(None),
            task_title: RwSignal::new(None),
            settings: StoredValue::new(settings),
            toasts: RwSignal::new(Vec::new()),
            settled: RwSignal::new(false),
            filter: RwSignal::new(view.filter),
            filtered: RwSignal::new(view.filtered),
        }
    }

    /// The cards a lane shows: the board's, or under a filter the matching ones (the server's
    /// answer for this filter, else the held cards that match, until it comes).
    pub fn shown_cards(&self, column: Column, lane: Option<&str>) -> Vec<Card> {
        let filter = self.filter.get();
        if filter.is_empty() {
            return self.board.with(|b| b.cards_in(column, lane));
        }
        let key = lane_key(column, lane);
        self.board.with(|board| {
            let shown = board.shown_in(&key);
            let answered = self.filtered.with(|f| {
                f.as_ref().filter(|f| f.filter == filter).map(|f| {
                    f.tasks
                        .iter()
                        .filter(|t| t.column == column && t.lane.as_deref() == lane)
                        .take(shown)
                        .map(|task| {
                            let held = board.cards.get(&task.path);
                            Card {
                                task: task.clone(),
                                rev: held.map_or(f.seq, |c| c.rev),
                                fresh: held.is_some_and(|c| c.fresh),
                            }
                        })
                        .collect::<Vec<Card>>()
                })
            });
            answered.unwrap_or_else(|| {
                let mut cards = board.cards_in(column, lane);
                cards.retain(|c| filter.matches(&c.task, None));
                cards
            })
        })
    }

    /// How many cards a lane holds, under the filter when there is one.
    pub fn shown_count_in_lane(&self, column: Column, lane: Option<&str>) -> usize {
        let key = lane_key(column, lane);
        self.shown_lane_counts().get(&key).copied().unwrap_or(0)
    }

    /// How many cards a column holds, under the filter when there is one.
    pub fn shown_count(&self, column: Column) -> usize {
        self.shown_lane_counts()
            .iter()
            .filter(|(key, _)| parse_lane_key(key).is_some_and(|(c, _)| c == column))
            .map(|(_, count)| count)
            .sum()
    }

    /// The agent lanes of a column that hold cards (that match, under a filter).
    pub fn shown_lanes(&self, column: Column) -> Vec<String> {
        self.shown_lane_counts()
            .keys()
            .filter_map(parse_lane_key)
            .filter(|(c, _)| *c == column)
            .filter_map(|(_, lane)| lane)
            .collect()
    }

    /// Cards per lane: the board's, or under a filter the server's count of matches (the held
    /// matches until it answers).
    pub fn shown_lane_counts(&self) -> Keyed<usize> {
        let filter = self.filter.get();
        if filter.is_empty() {
            return self.board.with(|b| b.lanes.clone());
        }
        let answered = self.filtered.with(|f| {
            f.as_ref()
                .filter(|f| f.filter == filter)
                .map(|f| f.lanes.clone())
        });
        answered.unwrap_or_else(|| {
            let mut counts = Keyed::default();
            self.board.with(|b| {
                for card in b.cards.values().filter(|c| filter.matches(&c.task, None)) {
                    *counts.get_or_insert_default(card.task.lane_key()) += 1;
                }
            });
            counts
        })
    }

    /// Shows `message` for a few seconds.
    pub fn toast(&self, message: impl Into<String>) {
        let message = message.into();
        let mut id = 0;
        self.toasts.update(|toasts| {
            id = toasts.iter().map(|t| t.id + 1).max().unwrap_or(1);
            toasts.push(Toast { id, message });
            // At most a handful at once: the oldest go first.
            if toasts.len() > 4 {
                toasts.remove(0);
            }
        });
        #[cfg(feature = "hydrate")]
        {
            let toasts = self.toasts;
            wasm_bindgen_futures::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(8_000).await;
                toasts.update(|t| t.retain(|toast| toast.id != id));
            });
        }
    }

    pub fn apply(&self, envelope: Envelope) -> Applied {
        let mut outcome = Applied::Unchanged;
        self.board.update(|board| outcome = board.apply(envelope));
        outcome
    }
}
