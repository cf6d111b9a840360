//! Servers execdash runs itself (`--mcp-managed NAME`, stdio servers only): started with the
//! dashboard and kept running, one session each; started again after they exit, waiting 1 s,
//! then twice as long after each exit in a row up to [`MAX_BACKOFF`] (a run of [`STABLE`] or
//! more starts the count again); stopped, started and restarted on request. Their checks ask the
//! running session (`tools/list`) instead of starting a process. Dropped, the supervisor stops
//! and its server's process group is killed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use app::model::ManagedState;
use chrono::{SecondsFormat, Utc};
use parking_lot::Mutex;
use rmcp::service::Peer;
use rmcp::{RoleClient, ServiceExt as _};
use std::sync::Arc;
use tokio::sync::mpsc;

use super::probe::{self, Outcome};

/// The longest wait before a start after an exit.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A run this long resets the wait.
const STABLE: Duration = Duration::from_secs(60);

/// What a user can ask of a managed server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Control {
    Start,
    Stop,
    Restart,
}

impl std::str::FromStr for Control {
    type Err = String;

    fn from_str(text: &str) -> Result<Control, String> {
        match text {
            "start" => Ok(Control::Start),
            "stop" => Ok(Control::Stop),
            "restart" => Ok(Control::Restart),
            other => Err(format!("'{other}' is not start, stop or restart")),
        }
    }
}

/// How to start it (a stdio server's entry).
#[derive(Clone)]
pub(super) struct Launch {
    pub(super) command: String,
    pub(super) args: Vec<String>,
    pub(super) env: BTreeMap<String, String>,
    pub(super) cwd: Option<String>,
    pub(super) repo: PathBuf,
}

#[derive(Default)]
struct Shared {
    peer: Option<Peer<RoleClient>>,
    pid: Option<u32>,
    started: Option<Instant>,
    restarts: u32,
    stopped: bool,
    next_start: Option<chrono::DateTime<Utc>>,
    /// Why it is not running.
    down: Option<String>,
    stderr: Vec<String>,
}

/// A supervised server; dropped, it is stopped.
pub(super) struct Supervisor {
    control: mpsc::Sender<Control>,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Supervisor {
    /// Starts `launch` and keeps it running; `changed` is called whenever it started or
    /// stopped (the monitor checks it then).
    pub(super) fn start(
        launch: Launch,
        timeout: Duration,
        changed: impl Fn() + Send + Sync + 'static,
    ) -> Supervisor {
        let (control, requests) = mpsc::channel(8);
        let shared = Arc::new(Mutex::new(Shared::default()));
        let task = tokio::spawn(supervise(
            launch,
            timeout,
            shared.clone(),
            requests,
            Arc::new(changed),
        ));
        Supervisor {
            control,
            shared,
            task,
        }
    }

    /// Asks for a start, stop or restart (queued behind the ones before; refused when 8 wait).
    pub(super) fn control(&self, control: Control) -> bool {
        self.control.try_send(control).is_ok()
    }

    pub(super) fn state(&self) -> ManagedState {
        let shared = self.shared.lock();
        ManagedState {
            running: shared.peer.is_some(),
            stopped: shared.stopped,
            pid: shared.pid,
            uptime_s: shared.started.map(|at| at.elapsed().as_secs()),
            restarts: shared.restarts,
            next_start: shared
                .next_start
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        }
    }

    /// A check through the running session (while it is being started, when it is up).
    pub(super) async fn check(&self, timeout: Duration) -> Outcome {
        let deadline = Instant::now() + timeout;
        let (peer, down, stderr) = loop {
            let (peer, down, stderr, stopped) = {
                let shared = self.shared.lock();
                let starting = shared.peer.is_none() && shared.down.is_none();
                (
                    shared.peer.clone(),
                    shared.down.clone(),
                    shared.stderr.clone(),
                    !starting,
                )
            };
            if peer.is_some() || stopped || Instant::now() >= deadline {
                break (peer, down, stderr);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        match peer {
            Some(peer) => {
                let started = Instant::now();
                let mut outcome = probe::lists(&peer, started + timeout).await;
                outcome.latency = Some(started.elapsed());
                outcome
            }
            None => Outcome {
                stderr_tail: stderr,
                ..Outcome::down(down.unwrap_or_else(|| "not running".into()))
            },
        }
    }
}

async fn supervise(
    launch: Launch,
    timeout: Duration,
    shared: Arc<Mutex<Shared>>,
    mut requests: mpsc::Receiver<Control>,
    changed: Arc<dyn Fn() + Send + Sync>,
) {
    let mut failures_in_a_row = 0u32;
    loop {
        if shared.lock().stopped {
            // Until a start (or restart) is asked for.
            match requests.recv().await {
                Some(Control::Start | Control::Restart) => shared.lock().stopped = false,
                Some(Control::Stop) => continue,
                None => return,
            }
        }
        let (transport, stderr) = match probe::spawn(
            &launch.command,
            &launch.args,
            &launch.env,
            launch.cwd.as_deref(),
            &launch.repo,
        ) {
            Ok(spawned) => spawned,
            Err(error) => {
                shared.lock().down = Some(error);
                changed();
                if wait_before_start(&shared, &mut requests, &mut failures_in_a_row, &changed).await
                {
                    return;
                }
                continue;
            }
        };
        let pid = transport.id();
        let tail = stderr.map(|stderr| tokio::spawn(probe::stderr_tail(stderr)));
        let client = match tokio::time::timeout(timeout, ().serve(transport)).await {
            Ok(Ok(client)) => client,
            Ok(Err(error)) => {
                shared.lock().down =
                    Some(format!("initialize failed: {}", probe::readable(&error)));
                note_stderr(&shared, tail).await;
                changed();
                if wait_before_start(&shared, &mut requests, &mut failures_in_a_row, &changed).await
                {
                    return;
                }
                continue;
            }
            Err(_) => {
                shared.lock().down = Some(format!(
                    "no answer to initialize within {} s",
                    timeout.as_secs_f64()
                ));
                changed();
                if wait_before_start(&shared, &mut requests, &mut failures_in_a_row, &changed).await
                {
                    return;
                }
                continue;
            }
        };
        let started = Instant::now();
        {
            let mut shared = shared.lock();
            shared.peer = Some(client.peer().clone());
            shared.pid = pid;
            shared.started = Some(started);
            shared.next_start = None;
            shared.down = None;
            shared.stderr.clear();
        }
        tracing::info!(command = %launch.command, ?pid, "managed MCP server started");
        changed();
        let stop = client.cancellation_token();
        let ended = client.waiting();
        tokio::pin!(ended);
        let asked = tokio::select! {
            _ = &mut ended => None,
            request = requests.recv() => Some(request),
        };
        {
            let mut shared = shared.lock();
            shared.peer = None;
            shared.pid = None;
            shared.started = None;
        }
        match asked {
            // The server exited (or was killed) by itself.
            None => {
                shared.lock().down = Some("the server exited".into());
                note_stderr(&shared, tail).await;
                tracing::warn!(command = %launch.command, "managed MCP server exited");
                if started.elapsed() >= STABLE {
                    failures_in_a_row = 0;
                }
                changed();
                if wait_before_start(&shared, &mut requests, &mut failures_in_a_row, &changed).await
                {
                    return;
                }
            }
            Some(request) => {
                stop.cancel();
                let _ = tokio::time::timeout(Duration::from_secs(5), &mut ended).await;
                match request {
                    Some(Control::Stop) => {
                        let mut shared = shared.lock();
                        shared.stopped = true;
                        shared.down = Some("stopped".into());
                    }
                    Some(Control::Restart | Control::Start) => {
                        shared.lock().restarts += 1;
                    }
                    None => return,
                }
                failures_in_a_row = 0;
                changed();
            }
        }
    }
}

/// After an exit or a failed start: waits the back-off (a request ends the wait). `true` when
/// the supervisor is to end.
async fn wait_before_start(
    shared: &Mutex<Shared>,
    requests: &mut mpsc::Receiver<Control>,
    failures_in_a_row: &mut u32,
    changed: &Arc<dyn Fn() + Send + Sync>,
) -> bool {
    let backoff = Duration::from_secs(1)
        .saturating_mul(1 << (*failures_in_a_row).min(6))
        .min(MAX_BACKOFF);
    *failures_in_a_row += 1;
    {
        let mut shared = shared.lock();
        shared.next_start = Some(Utc::now() + backoff);
        shared.restarts += 1;
    }
    let outcome = tokio::select! {
        () = tokio::time::sleep(backoff) => false,
        request = requests.recv() => match request {
            Some(Control::Stop) => {
                let mut shared = shared.lock();
                shared.stopped = true;
                shared.down = Some("stopped".into());
                drop(shared);
                changed();
                false
            }
            Some(Control::Start | Control::Restart) => false,
            None => true,
        },
    };
    shared.lock().next_start = None;
    outcome
}

async fn note_stderr(shared: &Mutex<Shared>, tail: Option<tokio::task::JoinHandle<Vec<String>>>) {
    if let Some(tail) = tail {
        if let Ok(Ok(lines)) = tokio::time::timeout(Duration::from_secs(1), tail).await {
            shared.lock().stderr = lines;
        }
    }
}
