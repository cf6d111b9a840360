//! Which agent and task a coding agent's call was for, when the call does not say: worked out
//! from the board when that is unambiguous — the one task `in_progress` in the call's agent's
//! `assigned/` folder (or, for a call that names no agent, the one task in progress in any
//! agent's folder) — and marked `inferred`, so the page can say which is which. Only recent calls
//! are attributed so (within [`RECENT`] of now): the board as it is now says nothing about an old
//! session.

use chrono::{DateTime, Duration, Utc};

use crate::board::Store;
use crate::telemetry::Invocation;

/// How old a call may be for the board as it is now to tell what it worked on.
pub(crate) const RECENT: Duration = Duration::minutes(15);

/// (agent, task id) of every task in progress in an agent's folder.
pub(crate) fn in_progress(board: &Store) -> Vec<(String, String)> {
    board.with_tasks(|tasks, _, _| {
        tasks
            .values()
            .filter(|task| task.summary.column == app::model::Column::Assigned)
            .filter(|task| task.summary.status.as_deref() == Some("in_progress"))
            .filter_map(|task| Some((task.summary.lane.clone()?, task.id.clone())))
            .collect()
    })
}

/// Of the tasks `in_progress` (see [`in_progress`]), the one in `agent`'s folder (any agent's,
/// for `None`), with its agent: what a session that names no task works on, if the board makes
/// it unambiguous.
pub(crate) fn unambiguous_task(
    in_progress: &[(String, String)],
    agent: Option<&str>,
) -> Option<(String, String)> {
    let mut candidates = in_progress
        .iter()
        .filter(|(folder, _)| agent.is_none_or(|named| named == folder));
    match (candidates.next(), candidates.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}

/// Fills in the task (and agent) of each recent call of `calls` that names no task, where the
/// board makes it unambiguous.
pub(crate) fn infer(board: &Store, calls: &mut [Invocation], now: DateTime<Utc>) {
    if calls.iter().all(|call| call.task_id.is_some()) {
        return;
    }
    let in_progress = in_progress(board);
    for call in calls.iter_mut().filter(|call| call.task_id.is_none()) {
        let recent = call
            .timestamp
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|at| now.signed_duration_since(at) <= RECENT);
        if !recent {
            continue;
        }
        let mut candidates = in_progress
            .iter()
            .filter(|(agent, _)| call.agent_name.as_ref().is_none_or(|named| named == agent));
        if let (Some((agent, task)), None) = (candidates.next(), candidates.next()) {
            call.task_id = Some(task.clone());
            call.agent_name.get_or_insert_with(|| agent.clone());
            call.attribution = Some("inferred".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(tasks: &[(&str, &str)]) -> Store {
        let store = Store::new();
        for (path, yaml) in tasks {
            let location = app::model::TaskPath::parse(path).unwrap();
            let task = crate::board::parse(path, &location, yaml.as_bytes(), None).unwrap();
            store.set(path, crate::board::FileState::Task(Box::new(task)));
        }
        store
    }

    fn call(agent: Option<&str>, minutes_ago: i64, now: DateTime<Utc>) -> Invocation {
        let mut call = Invocation::new("c", "claude-code", "m");
        call.agent_name = agent.map(str::to_owned);
        call.timestamp = Some((now - Duration::minutes(minutes_ago)).to_rfc3339());
        call
    }

    #[test]
    fn the_one_task_in_progress_is_inferred_and_anything_ambiguous_is_left_alone() {
        let now = Utc::now();
        let store = board(&[
            ("assigned/alice/a.yaml", "id: A-1\nstatus: in_progress\n"),
            ("assigned/alice/b.yaml", "id: A-2\nstatus: assigned\n"),
            ("assigned/bob/c.yaml", "id: B-1\nstatus: in_progress\n"),
            ("inbox/d.yaml", "id: I-1\nstatus: in_progress\n"),
        ]);
        let mut calls = vec![
            call(Some("alice"), 1, now),
            call(None, 1, now),
            call(Some("alice"), 60, now),
            call(Some("carol"), 1, now),
        ];
        infer(&store, &mut calls, now);
        assert_eq!(calls[0].task_id.as_deref(), Some("A-1"));
        assert_eq!(calls[0].attribution.as_deref(), Some("inferred"));
        assert_eq!(calls[1].task_id, None, "two agents have a task in progress");
        assert_eq!(
            calls[2].task_id, None,
            "an hour ago: the board now says nothing of it"
        );
        assert_eq!(calls[3].task_id, None, "carol has nothing in progress");
        // One task in progress on the whole board: a call naming no agent is its agent's.
        let store = board(&[("assigned/bob/c.yaml", "id: B-1\nstatus: in_progress\n")]);
        let mut calls = vec![call(None, 0, now)];
        infer(&store, &mut calls, now);
        assert_eq!(
            (calls[0].task_id.as_deref(), calls[0].agent_name.as_deref()),
            (Some("B-1"), Some("bob"))
        );
    }
}
