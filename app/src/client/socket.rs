//! The one WebSocket of the page. Reconnects with capped exponential backoff and jitter, resyncs
//! from a snapshot on every (re)connect and after any gap in `seq`, and polls the snapshot over
//! HTTP while the socket is down.

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;

use crate::model::{ClientMessage, Envelope, ServerEvent, Snapshot};
use crate::state::{Applied, Connection, Dashboard};

const MAX_BACKOFF_MS: f64 = 5_000.0;
const FIRST_BACKOFF_MS: f64 = 250.0;
const PING_EVERY_MS: u32 = 15_000;
const POLL_EVERY_MS: u32 = 30_000;
/// Failed attempts after which the indicator says Offline (it keeps trying).
const OFFLINE_AFTER: u32 = 8;

pub fn connect(dashboard: Dashboard) {
    wasm_bindgen_futures::spawn_local(async move {
        let mut failures: u32 = 0;
        loop {
            let since = dashboard
                .board
                .with_untracked(|board| (board.seq, board.instance.clone()));
            if let Ok(socket) = WebSocket::open(&socket_url(since)) {
                if run_connection(socket, dashboard).await {
                    failures = 0;
                }
            }
            failures += 1;
            dashboard.connection.set(if failures >= OFFLINE_AFTER {
                Connection::Offline
            } else {
                Connection::Reconnecting(failures)
            });
            TimeoutFuture::new(backoff_ms(failures)).await;
        }
    });
}

/// Runs one connection until it closes; `true` when it got as far as the server's ack.
async fn run_connection(socket: WebSocket, dashboard: Dashboard) -> bool {
    let (mut sink, mut stream) = socket.split();
    let (outgoing, mut queue) = mpsc::unbounded::<ClientMessage>();
    let writer = async move {
        while let Some(message) = queue.next().await {
            let Ok(text) = serde_json::to_string(&message) else {
                continue;
            };
            if sink.send(Message::Text(text)).await.is_err() {
                break;
            }
        }
    };
    let pinger = {
        let outgoing = outgoing.clone();
        async move {
            loop {
                TimeoutFuture::new(PING_EVERY_MS).await;
                if outgoing.unbounded_send(ClientMessage::Ping).is_err() {
                    break;
                }
            }
        }
    };
    let acknowledged = std::cell::Cell::new(false);
    let reader = async {
        while let Some(Ok(message)) = stream.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let Ok(envelope) = Envelope::from_json(&text) else {
                continue;
            };
            if let ServerEvent::Alert { alert } = &envelope.event {
                super::notify::announce(alert);
            }
            let is_ack = envelope.event.name() == "connection_ack";
            if dashboard.apply(envelope) == Applied::Gap {
                let _ = outgoing.unbounded_send(ClientMessage::Resync);
            }
            if is_ack {
                acknowledged.set(true);
                dashboard.connection.set(Connection::Live);
            }
        }
    };
    futures::pin_mut!(writer, pinger, reader);
    futures::future::select(reader, futures::future::select(writer, pinger)).await;
    acknowledged.get()
}

/// While the socket is down, reads the board over HTTP every 30 s.
pub fn poll_while_disconnected(dashboard: Dashboard) {
    wasm_bindgen_futures::spawn_local(async move {
        loop {
            TimeoutFuture::new(POLL_EVERY_MS).await;
            if dashboard.connection.get_untracked() == Connection::Live {
                continue;
            }
            if let Some(snapshot) = fetch_snapshot().await {
                dashboard.board.update(|board| board.replace(snapshot));
            }
        }
    });
}

/// The board's snapshot (another repository's with `repo`, `repo=NAME`).
async fn fetch_snapshot() -> Option<Snapshot> {
    let response = gloo_net::http::Request::get(&format!("{}/api/snapshot", super::base_path()))
        .send()
        .await
        .ok()?;
    if !response.ok() {
        return None;
    }
    response.json::<Snapshot>().await.ok()
}

/// The socket's address, naming the board the client holds (`since`, `instance`) so the server
/// can leave it out of its `connection_ack` when nothing changed (another repository's board is
/// under its own base path).
fn socket_url((seq, instance): (u64, String)) -> String {
    let location = web_sys::window().expect("window").location();
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    let base = super::base_path();
    if instance.is_empty() {
        format!("{scheme}://{host}{base}/ws")
    } else {
        let instance = js_sys::encode_uri_component(&instance);
        format!("{scheme}://{host}{base}/ws?since={seq}&instance={instance}")
    }
}

/// 250 ms doubling per failure, capped at 5 s, with ±25 % jitter.
fn backoff_ms(failures: u32) -> u32 {
    let base = (FIRST_BACKOFF_MS * 2f64.powi(failures.saturating_sub(1).min(10) as i32))
        .min(MAX_BACKOFF_MS);
    let jitter = 0.75 + js_sys::Math::random() * 0.5;
    (base * jitter).min(MAX_BACKOFF_MS) as u32
}
