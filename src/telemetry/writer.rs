//! Group commit on SQLite: one writer per database takes the batches [`Telemetry::ingest`] hands
//! it, and the batches that arrived while it was writing go into its next transaction together.
//!
//! SQLite has one writer anyway (the write pool holds one connection), so concurrent exporters
//! used to queue for it one transaction each: a `BEGIN IMMEDIATE`, a lookup of the ids, the three
//! rollup upserts, the `daily_costs` upserts and a commit per batch of 512. Now a transaction
//! takes every batch waiting (up to [`GROUP_ROWS`] rows), and each batch is answered with its
//! own report (as if it had been stored alone, in the order they arrived) only after the commit:
//! nothing is acknowledged before it is stored.
//!
//! When a group's transaction fails, a database that cannot write (locked, read-only, full,
//! unreachable: the same for every batch) fails every batch of the group with that reason;
//! anything else is tried again batch by batch, so a batch that cannot be stored fails alone.
//!
//! PostgreSQL takes writers side by side, and there each batch keeps its own transaction in the
//! caller's task (measured: grouping them behind one writer was no faster there, often slower);
//! only the queue's bound applies.
//!
//! The queue is bounded by rows ([`MAX_QUEUED_ROWS`], batches being written included):
//! [`Telemetry::ingest`] waits for room, [`Telemetry::try_ingest`] (the OTLP receiver) is
//! refused at once with [`IngestError::Busy`], which the receiver answers with `503` and
//! `Retry-After`, as OTLP/HTTP asks of a server that is overloaded.
//!
//! The writer is a task started at the first batch; it holds the database weakly between
//! groups and ends with the last handle on it.

use std::sync::{Arc, Weak};

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore, TryAcquireError};

use super::error::{IngestError, ProblemKind, TelemetryError};
use super::ingest::IngestReport;
use super::invocation::Invocation;
use super::{Inner, Telemetry};

/// A group's rows: once this many are taken, the next batch waits for the next transaction
/// (a group may pass it by one batch).
pub(super) const GROUP_ROWS: usize = super::MAX_BATCH;

/// Rows queued for the writer (waiting or being written) at most: four of the largest batches,
/// about a second of writing.
pub(crate) const MAX_QUEUED_ROWS: usize = 4 * super::MAX_BATCH;

/// One batch waiting for the writer, and where its report goes.
struct Job {
    rows: Vec<Invocation>,
    reply: oneshot::Sender<Result<IngestReport, IngestError>>,
    /// Its room in the queue, given back when it is answered.
    _room: OwnedSemaphorePermit,
}

/// The writer's queue.
pub(super) struct Queue {
    sender: parking_lot::Mutex<Option<mpsc::UnboundedSender<Job>>>,
    room: Arc<Semaphore>,
}

impl Queue {
    pub(super) fn new() -> Queue {
        Queue {
            sender: parking_lot::Mutex::new(None),
            room: Arc::new(Semaphore::new(MAX_QUEUED_ROWS)),
        }
    }
}

impl Telemetry {
    /// Rows handed over to be stored and not answered yet (waiting for the writer, or in a
    /// transaction being written): how full the queue is.
    pub fn queued_rows(&self) -> usize {
        MAX_QUEUED_ROWS - self.inner.queue.room.available_permits()
    }

    /// Hands valid `rows` to the writer and waits for their report: after the commit. With
    /// `wait`, waits for room in the queue; without, a full queue is [`IngestError::Busy`].
    pub(super) async fn written(
        &self,
        rows: Vec<Invocation>,
        wait: bool,
    ) -> Result<IngestReport, IngestError> {
        let queue = &self.inner.queue;
        // A batch is at most MAX_BATCH rows, so it always fits in an empty queue.
        let needed = rows.len().clamp(1, MAX_QUEUED_ROWS) as u32;
        let room = if wait {
            queue
                .room
                .clone()
                .acquire_many_owned(needed)
                .await
                .expect("the queue's semaphore is never closed")
        } else {
            match queue.room.clone().try_acquire_many_owned(needed) {
                Ok(room) => room,
                Err(TryAcquireError::NoPermits) => {
                    return Err(IngestError::Busy {
                        queued: self.queued_rows(),
                    })
                }
                Err(TryAcquireError::Closed) => {
                    unreachable!("the queue's semaphore is never closed")
                }
            }
        };
        // PostgreSQL takes concurrent writers: each batch in its own transaction, side by side
        // (the queue's bound still applies).
        if matches!(self.inner.location, super::Location::Postgres(_)) {
            let outcome = self
                .store_batches(&[rows.as_slice()])
                .await
                .map(|mut reports| reports.remove(0));
            drop(room);
            return outcome;
        }
        let (reply, report) = oneshot::channel();
        let job = Job {
            rows,
            reply,
            _room: room,
        };
        {
            let mut sender = queue.sender.lock();
            // The first batch starts the writer; so does one after the runtime that ran the
            // last writer ended (its receiver is gone then).
            let job = match sender.as_ref() {
                Some(jobs) => jobs.send(job).err().map(|mpsc::error::SendError(job)| job),
                None => Some(job),
            };
            if let Some(job) = job {
                let (jobs, receiver) = mpsc::unbounded_channel();
                jobs.send(job).expect("the receiver is here");
                tokio::spawn(run(Arc::downgrade(&self.inner), receiver));
                *sender = Some(jobs);
            }
        }
        report.await.unwrap_or_else(|_| {
            Err(IngestError::Unavailable(TelemetryError::Unavailable(
                super::DatabaseProblem {
                    kind: ProblemKind::Other,
                    message: "the telemetry writer stopped before storing the batch".into(),
                },
            )))
        })
    }

    /// Stores one group and answers each of its batches.
    async fn write_group(&self, group: Vec<Job>) {
        let batches: Vec<&[Invocation]> = group.iter().map(|job| job.rows.as_slice()).collect();
        let outcome = self.store_batches(&batches).await;
        drop(batches);
        match outcome {
            Ok(reports) => {
                for (job, report) in group.into_iter().zip(reports) {
                    let _ = job.reply.send(Ok(report));
                }
            }
            Err(error) if group.len() == 1 => {
                if let Some(job) = group.into_iter().next() {
                    let _ = job.reply.send(Err(error));
                }
            }
            Err(error) => {
                let problem = error.problem().filter(|p| p.kind != ProblemKind::Other);
                match problem {
                    // The database's state, the same for every batch: all fail with it.
                    Some(problem) => {
                        tracing::debug!(
                            batches = group.len(),
                            "a group of telemetry batches failed: {error}"
                        );
                        let mut first = Some(error);
                        for job in group {
                            let error = first.take().unwrap_or_else(|| {
                                IngestError::Unavailable(TelemetryError::Unavailable(
                                    problem.clone(),
                                ))
                            });
                            let _ = job.reply.send(Err(error));
                        }
                    }
                    // Perhaps one batch's fault: each alone, so only that one fails.
                    None => {
                        tracing::debug!(
                            batches = group.len(),
                            "a group of telemetry batches failed, storing them one by one: {error}"
                        );
                        for job in group {
                            let outcome = self
                                .store_batches(&[job.rows.as_slice()])
                                .await
                                .map(|mut reports| reports.remove(0));
                            let _ = job.reply.send(outcome);
                        }
                    }
                }
            }
        }
    }
}

/// The writer: a group at a time, until the database's last handle is gone.
async fn run(inner: Weak<Inner>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut rows = first.rows.len();
        let mut group = vec![first];
        while rows < GROUP_ROWS {
            match jobs.try_recv() {
                Ok(job) => {
                    rows += job.rows.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        let Some(inner) = inner.upgrade() else {
            return;
        };
        Telemetry { inner }.write_group(group).await;
    }
}
