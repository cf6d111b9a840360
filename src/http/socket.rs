//! The `/ws` socket: `connection_ack` with the board, then every change in order; `pong` for
//! `ping`, a `snapshot` for `resync` and for a client too slow to keep up. The connection logic is
//! generic over Sink/Stream so it can be driven without a network in tests.

use app::model::{ClientMessage, Envelope, ServerEvent};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use super::{AppState, Error};
use crate::board::SharedStore;

/// Largest message a client may send (they only send small commands).
const MAX_CLIENT_MESSAGE_BYTES: usize = 16 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

/// Close code for a message the server does not understand (RFC 6455: unsupported data).
const CLOSE_UNSUPPORTED: u16 = 1003;

async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    State(state): State<AppState>,
) -> Response {
    if let Err(reason) = state.origins.check(&headers) {
        tracing::warn!("refused a socket: {reason}");
        return Error::Forbidden(reason).into_response();
    }
    let store = state.board.clone();
    let shutdown = state.shutdown.clone();
    ws.max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES)
        .on_upgrade(move |socket| {
            let (sink, stream) = socket.split();
            serve(sink, stream, store, shutdown)
        })
}

/// Runs one client connection until it closes or the server shuts down.
pub async fn serve<W, R>(
    mut sink: W,
    mut stream: R,
    store: SharedStore,
    mut shutdown: watch::Receiver<bool>,
) where
    W: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let (ack, mut events) = store.subscribe();
    let mut sent_seq = ack.seq;
    if sink.send(Message::Text(ack.json)).await.is_err() {
        return;
    }
    loop {
        let outgoing: Utf8Bytes = tokio::select! {
            received = events.recv() => match received {
                Ok(frame) if frame.seq > sent_seq => {
                    sent_seq = frame.seq;
                    frame.json
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "slow client: sending a snapshot instead");
                    let frame = store.snapshot_frame();
                    sent_seq = frame.seq;
                    frame.json
                }
                Err(RecvError::Closed) => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(ClientMessage::Ping) => pong(sent_seq),
                    Ok(ClientMessage::Resync) => {
                        let frame = store.snapshot_frame();
                        sent_seq = frame.seq;
                        frame.json
                    }
                    Err(err) => {
                        let reason = format!("unknown message: {err}");
                        let close = CloseFrame { code: CLOSE_UNSUPPORTED, reason: truncate(&reason, 120).into() };
                        let _ = sink.send(Message::Close(Some(close))).await;
                        break;
                    }
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            _ = shutdown.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                break;
            }
        };
        if sink.send(Message::Text(outgoing)).await.is_err() {
            break;
        }
    }
}

fn pong(seq: u64) -> Utf8Bytes {
    let envelope = Envelope {
        seq,
        event: ServerEvent::Pong {
            timestamp: super::now_iso(),
        },
    };
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
