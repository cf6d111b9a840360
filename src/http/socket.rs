//! The `/ws` socket: `connection_ack` with the board, then every change in order; `pong` for
//! `ping`, a `snapshot` for `resync` and for a client too slow to keep up. The connection logic is
//! generic over Sink/Stream so it can be driven without a network in tests.

use app::model::{ClientMessage, Envelope, ServerEvent};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde::Deserialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::watch;

use super::metrics::{ResyncReason, SocketCounters};
use super::{AppState, Error};
use crate::board::{Frame, FrameText, SharedStore, Since};

/// Largest message a client may send (they only send small commands); a larger one closes the
/// socket with 1009 and a reason.
const MAX_CLIENT_MESSAGE_BYTES: usize = 16 * 1024;
/// What the WebSocket layer reads at all before it gives up on a message (bounded memory); past
/// [`MAX_CLIENT_MESSAGE_BYTES`] the message is refused anyway, with a close frame.
const MAX_READ_BYTES: usize = 1024 * 1024;
/// Close code for a message too big to process (RFC 6455).
const CLOSE_TOO_BIG: u16 = 1009;
/// Close code for a client that broke the rules (here: stopped reading).
const CLOSE_POLICY: u16 = 1008;
/// A message the client has not taken within this time (it stopped reading: the kernel's buffer
/// and the one message in the WebSocket layer are full) closes the connection. Until then the
/// client holds at most that one message; the events it misses meanwhile are not queued for it
/// (the broadcast keeps one shared ring), and it gets one snapshot when it reads again.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client that stopped reading is given to read what was pending and then the close
/// frame (1008) that says why it is closed. Without it the close frame, queued behind a full
/// buffer, was dropped with the connection, and a client that resumed reading saw 1006.
const CLOSE_GRACE: Duration = Duration::from_secs(10);
/// After a close frame for a message too big, the client's rest is read (and dropped) this long,
/// so the connection is not reset under the close frame before the client reads it.
const DRAIN_AFTER_CLOSE: Duration = Duration::from_secs(2);
/// How long a connection whose rest cannot be drained stays open after its close frame.
const LINGER_AFTER_CLOSE: Duration = Duration::from_secs(1);
/// At most this much is written in one batch (then the next batch follows at once).
const BATCH_BYTES: usize = 64 * 1024;
/// What the WebSocket layer reserves for reading (tungstenite's default is 128 KiB, zero-filled,
/// per socket); clients only send small commands, and a larger message still grows it.
const READ_BUFFER_BYTES: usize = 4 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

/// `?since=<seq>&instance=<instance>`: the board the client holds (both or neither);
/// `repo=<name>`: another repository's board (see `crate::team::Mirrors`).
#[derive(Debug, Deserialize)]
struct SocketQuery {
    since: Option<String>,
    instance: Option<String>,
    repo: Option<String>,
}

impl SocketQuery {
    fn since(&self) -> Result<Option<Since>, Error> {
        match (self.since.clone(), self.instance.clone()) {
            (None, None) => Ok(None),
            (Some(seq), Some(instance)) => {
                let seq = seq.parse().map_err(|_| {
                    Error::bad_field("since", format!("{seq:?} is not a sequence number"))
                })?;
                Ok(Some(Since { seq, instance }))
            }
            (Some(_), None) => Err(Error::bad_field("instance", "missing (it goes with since)")),
            (None, Some(_)) => Err(Error::bad_field("since", "missing (it goes with instance)")),
        }
    }
}

async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    Query(query): Query<SocketQuery>,
    State(state): State<AppState>,
) -> Response {
    if let Err(reason) = state.access.check_origin(&headers) {
        tracing::warn!("refused a socket: {reason}");
        return Error::Forbidden(reason).into_response();
    }
    let store = match query.repo.as_deref() {
        None => state.board.clone(),
        Some(name) if name == state.team.repo => state.board.clone(),
        Some(name) => match state.mirrors.board(name).await {
            Ok(Some(store)) => store,
            Ok(None) => {
                return Error::NotFound(format!("no repository {name:?} (see /api/repos)"))
                    .into_response()
            }
            Err(error) => return Error::from(error).into_response(),
        },
    };
    let since = match query.since() {
        Ok(since) => since,
        Err(err) => return err.into_response(),
    };
    let shutdown = state.shutdown.clone();
    let counters = state.metrics.sockets.clone();
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(MAX_READ_BYTES)
        .max_frame_size(MAX_READ_BYTES)
        .on_upgrade(move |socket| {
            let (sink, stream) = socket.split();
            serve(sink, stream, since, store, shutdown, counters)
        })
}

/// Runs one client connection until it closes or the server shuts down.
pub async fn serve<W, R>(
    mut sink: W,
    mut stream: R,
    since: Option<Since>,
    store: SharedStore,
    mut shutdown: watch::Receiver<bool>,
    counters: SocketCounters,
) where
    W: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let (ack, mut events) = store.subscribe(since.as_ref());
    let _trim = TrimOnClose::new(&counters);
    let mut sent_seq = ack.seq;
    if !send_in_time(&mut sink, vec![wire_text(ack.json)], &counters).await {
        return;
    }
    loop {
        let outgoing: Vec<Utf8Bytes> = tokio::select! {
            received = events.recv() => match received {
                Ok(frame) => {
                    let mut batch = Batch::default();
                    batch.push(frame, &mut sent_seq);
                    match batch.fill(&mut events, &mut sent_seq) {
                        Ok(()) if batch.frames.is_empty() => continue,
                        Ok(()) => batch.frames,
                        Err(()) => vec![resync_lagging(&store, &counters, &mut sent_seq)],
                    }
                }
                Err(RecvError::Lagged(_)) => vec![resync_lagging(&store, &counters, &mut sent_seq)],
                Err(RecvError::Closed) => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) if text.len() > MAX_CLIENT_MESSAGE_BYTES => {
                    counters.dropped();
                    close_too_big(&mut sink, text.len()).await;
                    drain(&mut stream).await;
                    break;
                }
                Some(Ok(Message::Binary(bytes))) if bytes.len() > MAX_CLIENT_MESSAGE_BYTES => {
                    counters.dropped();
                    close_too_big(&mut sink, bytes.len()).await;
                    drain(&mut stream).await;
                    break;
                }
                Some(Ok(Message::Text(text))) => vec![match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(ClientMessage::Ping) => pong(sent_seq),
                    Ok(ClientMessage::Resync) => {
                        counters.resynced(ResyncReason::Requested);
                        let frame = store.snapshot_frame();
                        sent_seq = frame.seq;
                        wire_text(frame.json)
                    }
                    Err(err) => error_message(sent_seq, &format!(
                        "cannot use this message ({err}); send {{\"type\":\"ping\"}} or {{\"type\":\"resync\"}}"
                    )),
                }],
                Some(Ok(Message::Binary(_))) => vec![error_message(
                    sent_seq,
                    "binary messages are not used; send JSON text",
                )],
                Some(Err(err)) => {
                    // Past MAX_READ_BYTES the WebSocket layer stops reading ("Message too long").
                    if err.to_string().contains("too long") {
                        counters.dropped();
                        close_too_big(&mut sink, MAX_READ_BYTES).await;
                        drain(&mut stream).await;
                    }
                    break;
                }
                Some(Ok(Message::Close(_))) | None => break,
                Some(Ok(_)) => continue,
            },
            _ = shutdown.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                break;
            }
        };
        if !send_in_time(&mut sink, outgoing, &counters).await {
            break;
        }
    }
}

/// The events a socket writes in one go: every one already waiting when it wakes, up to
/// [`BATCH_BYTES`]. A client (or a server) that falls behind thus costs one write per batch, not
/// one per event, and a storm cannot make a thousand sockets each do a thousand small writes.
#[derive(Default)]
struct Batch {
    frames: Vec<Utf8Bytes>,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, frame: Frame, sent_seq: &mut u64) {
        // A frame at or below what the client has (the ack or a snapshot included it) is skipped.
        if frame.seq > *sent_seq {
            *sent_seq = frame.seq;
            self.bytes += frame.json.len();
            self.frames.push(wire_text(frame.json));
        }
    }

    /// Takes the frames already waiting; `Err` when the client fell out of the ring meanwhile.
    fn fill(
        &mut self,
        events: &mut broadcast::Receiver<Frame>,
        sent_seq: &mut u64,
    ) -> Result<(), ()> {
        while self.bytes < BATCH_BYTES {
            match events.try_recv() {
                Ok(frame) => self.push(frame, sent_seq),
                Err(TryRecvError::Lagged(_)) => return Err(()),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        Ok(())
    }
}

/// A client that fell more than the ring's length behind gets the board instead of the events.
fn resync_lagging(store: &SharedStore, counters: &SocketCounters, sent_seq: &mut u64) -> Utf8Bytes {
    tracing::debug!("slow client: sending a snapshot instead");
    counters.resynced(ResyncReason::Lagged);
    let frame = store.snapshot_frame();
    *sent_seq = frame.seq;
    wire_text(frame.json)
}

/// The board's JSON as a WebSocket text message, sharing its bytes: axum checks that they are
/// UTF-8 (they are a `str`'s), which reads them once but copies nothing.
fn wire_text(json: FrameText) -> Utf8Bytes {
    Utf8Bytes::try_from(axum::body::Bytes::from_owner(json.clone()))
        .unwrap_or_else(|_| Utf8Bytes::from(json.as_str()))
}

/// Sends messages with one flush; `false` when the connection is gone or the client did not
/// take them within [`SEND_TIMEOUT`] (then it is told why, if it still listens at all).
async fn send_in_time<W: Sink<Message> + Unpin>(
    sink: &mut W,
    messages: Vec<Utf8Bytes>,
    counters: &SocketCounters,
) -> bool {
    let count = messages.len();
    let send_all = async {
        for message in messages {
            sink.feed(Message::Text(message)).await?;
        }
        sink.flush().await
    };
    match tokio::time::timeout(SEND_TIMEOUT, send_all).await {
        Ok(Ok(())) => {
            counters.frames_sent(count);
            true
        }
        Ok(Err(_)) => false,
        Err(_) => {
            tracing::info!("closing a socket whose client stopped reading");
            counters.dropped();
            let close = CloseFrame {
                code: CLOSE_POLICY,
                reason: format!("not reading: a message waited more than {SEND_TIMEOUT:?}").into(),
            };
            let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(Message::Close(Some(close)))).await;
            false
        }
    }
}

/// Gives freed memory back to the OS when sockets go away in numbers (glibc keeps it otherwise:
/// a thousand closed sockets would leave their buffers' peak behind): when the last one closes,
/// or a quarter of those open at the last trim have closed.
struct TrimOnClose {
    counters: SocketCounters,
    _open: super::metrics::OpenSocket,
}

/// Sockets open at the last trim (or the most since).
static OPEN_AT_LAST_TRIM: AtomicUsize = AtomicUsize::new(0);

impl TrimOnClose {
    fn new(counters: &SocketCounters) -> TrimOnClose {
        let open = counters.opened();
        OPEN_AT_LAST_TRIM.fetch_max(counters.open_now(), Ordering::Relaxed);
        TrimOnClose {
            counters: counters.clone(),
            _open: open,
        }
    }
}

impl Drop for TrimOnClose {
    fn drop(&mut self) {
        // This socket is still counted until its guard goes, after this.
        let open = self.counters.open_now().saturating_sub(1);
        let before = OPEN_AT_LAST_TRIM.load(Ordering::Relaxed);
        if open == 0 || open * 4 < before * 3 {
            OPEN_AT_LAST_TRIM.store(open, Ordering::Relaxed);
            tokio::task::spawn_blocking(crate::runtime::release_free_memory);
        }
    }
}

/// Reads (and drops) what the client still sends after a close frame, until it answers the close
/// or [`DRAIN_AFTER_CLOSE`] passes: closing with its data unread would reset the connection, and
/// a reset can reach the client before it has read the close frame.
async fn drain<R: Stream<Item = Result<Message, axum::Error>> + Unpin>(stream: &mut R) {
    let answered = tokio::time::timeout(DRAIN_AFTER_CLOSE, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    if !answered {
        // The WebSocket layer stops reading after a frame over its limit, so the client's rest
        // cannot be drained: the connection stays open a moment for the client to read the close
        // frame before closing it resets the connection (a reset discards what the client has
        // not read yet, and it would report 1006).
        tokio::time::sleep(LINGER_AFTER_CLOSE).await;
    }
}

async fn close_too_big<W: Sink<Message> + Unpin>(sink: &mut W, size: usize) {
    let reason = format!("message of {size} bytes; at most {MAX_CLIENT_MESSAGE_BYTES}");
    let close = CloseFrame {
        code: CLOSE_TOO_BIG,
        reason: truncate(&reason, 120).into(),
    };
    let _ = sink.send(Message::Close(Some(close))).await;
}

fn error_message(seq: u64, message: &str) -> Utf8Bytes {
    let envelope = Envelope::new(
        seq,
        ServerEvent::Error {
            message: truncate(message, 300).to_owned(),
        },
    );
    serde_json::to_string(&envelope)
        .expect("error serializes")
        .into()
}

fn pong(seq: u64) -> Utf8Bytes {
    let envelope = Envelope::new(
        seq,
        ServerEvent::Pong {
            timestamp: super::now_iso(),
        },
    );
    serde_json::to_string(&envelope)
        .expect("pong serializes")
        .into()
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}
