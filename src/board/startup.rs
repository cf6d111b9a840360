//! The first scan of the board. The server listens before it ends (so `/health` answers at once
//! and the page shows the board as it fills); this says how far it got and when it is over.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use app::model::ScanProgress;
use tokio::sync::watch;

#[derive(Debug)]
pub struct Startup {
    files_total: AtomicUsize,
    files_read: AtomicUsize,
    /// Files whose task came from the board cache, not parsed (see `board::cache`).
    files_cached: AtomicUsize,
    done: watch::Sender<bool>,
    /// The server is stopping: the first scan reads no more files.
    stopping: AtomicBool,
}

impl Default for Startup {
    fn default() -> Startup {
        Startup {
            files_total: AtomicUsize::new(0),
            files_read: AtomicUsize::new(0),
            files_cached: AtomicUsize::new(0),
            done: watch::channel(false).0,
            stopping: AtomicBool::new(false),
        }
    }
}

impl Startup {
    /// `None` once the first scan is over.
    pub fn progress(&self) -> Option<ScanProgress> {
        (!self.is_done()).then(|| ScanProgress {
            files_read: self.files_read.load(Ordering::Relaxed),
            files_total: self.files_total.load(Ordering::Relaxed),
        })
    }

    pub fn is_done(&self) -> bool {
        *self.done.borrow()
    }

    /// Returns when the first scan is over.
    pub async fn finished(&self) {
        let mut done = self.done.subscribe();
        let _ = done.wait_for(|done| *done).await;
    }

    pub(super) fn found(&self, files: usize) {
        self.files_total.fetch_add(files, Ordering::Relaxed);
    }

    /// How many task files the first scan parsed, and how many it took from the board cache.
    pub fn parsed_and_cached(&self) -> (usize, usize) {
        let cached = self.files_cached.load(Ordering::Relaxed);
        (self.files_read.load(Ordering::Relaxed) - cached, cached)
    }

    /// `files` taken from the board cache: found and read at once.
    pub(super) fn cached(&self, files: usize) {
        self.files_total.fetch_add(files, Ordering::Relaxed);
        self.files_read.fetch_add(files, Ordering::Relaxed);
        self.files_cached.fetch_add(files, Ordering::Relaxed);
    }

    pub(super) fn read_one(&self) {
        self.files_read.fetch_add(1, Ordering::Relaxed);
    }

    /// Asks a first scan still running to read no more files (the server is stopping: a large
    /// board need not be read to the end first).
    pub(super) fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    pub(super) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    pub(super) fn finish(&self) {
        self.done.send_replace(true);
    }
}
