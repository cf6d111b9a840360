//! The one WebSocket of the page. Reconnects with capped exponential backoff and jitter, resyncs
//! from a snapshot on every (re)connect and after any gap in `seq`, and polls the snapshot over
//! HTTP while the socket is down.
//!
//! The first connection is opened by boot.js while the WASM is still downloading (on a slow link
//! a second or more before the page could open it): its messages wait there, in order, and the
//! client takes the socket over once the page is hydrated ([`Socket::adopt`]).

use futures::channel::mpsc;
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::model::{ClientMessage, Envelope, ServerEvent, Snapshot};
use crate::state::{Applied, Connection, Dashboard};

const MAX_BACKOFF_MS: f64 = 5_000.0;
const FIRST_BACKOFF_MS: f64 = 250.0;
const PING_EVERY_MS: u32 = 15_000;
const POLL_EVERY_MS: u32 = 30_000;
/// Failed attempts after which the indicator says Offline (it keeps trying).
const OFFLINE_AFTER: u32 = 8;

/// Keeps the page connected for its whole life; the first connection is `early`'s socket when
/// boot.js opened one (`{socket, messages}`: the socket and the text of what it received so far).
pub fn connect(dashboard: Dashboard, early: JsValue) {
    wasm_bindgen_futures::spawn_local(async move {
        let mut failures: u32 = 0;
        let mut first = Socket::adopt(&early);
        loop {
            let since = dashboard
                .board
                .with_untracked(|board| (board.seq, board.instance.clone()));
            if let Some(socket) = first.take().or_else(|| Socket::open(&socket_url(since))) {
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

/// A browser WebSocket's text messages as a stream, in the order they arrived, that ends when the
/// socket closes. Dropping it closes the socket. The messages wait in a channel only between the
/// browser's event and the reader's next turn (the reader applies each as it comes).
struct Socket {
    raw: web_sys::WebSocket,
    messages: mpsc::UnboundedReceiver<String>,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_close: Closure<dyn FnMut(JsValue)>,
}

impl Socket {
    fn open(url: &str) -> Option<Socket> {
        let raw = web_sys::WebSocket::new(url).ok()?;
        Some(Socket::listen(raw, Vec::new()))
    }

    /// The socket boot.js opened (`early.socket`), with what it received before now
    /// (`early.messages`); `None` when there is none.
    fn adopt(early: &JsValue) -> Option<Socket> {
        let field = |name: &str| js_sys::Reflect::get(early, &JsValue::from_str(name)).ok();
        let raw = field("socket")?.dyn_into::<web_sys::WebSocket>().ok()?;
        let received = field("messages")
            .and_then(|messages| messages.dyn_into::<js_sys::Array>().ok())
            .map(|messages| messages.iter().filter_map(|m| m.as_string()).collect())
            .unwrap_or_default();
        // boot.js's handler is replaced in the same turn the received ones are read: nothing
        // arrives in between.
        Some(Socket::listen(raw, received))
    }

    fn listen(raw: web_sys::WebSocket, received: Vec<String>) -> Socket {
        let (sender, messages) = mpsc::unbounded();
        for text in received {
            let _ = sender.unbounded_send(text);
        }
        let _on_message = {
            let sender = sender.clone();
            Closure::new(move |event: web_sys::MessageEvent| {
                if let Some(text) = event.data().as_string() {
                    let _ = sender.unbounded_send(text);
                }
            })
        };
        let closed = sender.clone();
        let _on_close = Closure::new(move |_: JsValue| closed.close_channel());
        raw.set_onmessage(Some(_on_message.as_ref().unchecked_ref()));
        raw.set_onclose(Some(_on_close.as_ref().unchecked_ref()));
        raw.set_onerror(Some(_on_close.as_ref().unchecked_ref()));
        if raw.ready_state() >= web_sys::WebSocket::CLOSING {
            // Closed before the client took it over: what it received is read, then it ends.
            sender.close_channel();
        }
        Socket {
            raw,
            messages,
            _on_message,
            _on_close,
        }
    }
}

/// Sends `text` on `raw`; `false` once it is closing or closed (a message before it is open is
/// left out: the only ones are pings and resyncs, which a new connection makes needless).
fn send(raw: &web_sys::WebSocket, text: &str) -> bool {
    match raw.ready_state() {
        web_sys::WebSocket::CONNECTING => true,
        web_sys::WebSocket::OPEN => raw.send_with_str(text).is_ok(),
        _ => false,
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.raw.set_onmessage(None);
        self.raw.set_onclose(None);
        self.raw.set_onerror(None);
        let _ = self.raw.close();
    }
}

/// Runs one connection until it closes; `true` when it got as far as the server's ack.
async fn run_connection(mut socket: Socket, dashboard: Dashboard) -> bool {
    let (outgoing, mut queue) = mpsc::unbounded::<ClientMessage>();
    let (raw, messages) = (&socket.raw, &mut socket.messages);
    let writer = async move {
        while let Some(message) = queue.next().await {
            let Ok(text) = serde_json::to_string(&message) else {
                continue;
            };
            if !send(raw, &text) {
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
        while let Some(text) = messages.next().await {
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

/// The board's snapshot (another repository's under its own base path).
async fn fetch_snapshot() -> Option<Snapshot> {
    crate::api::get_json::<Snapshot>("/api/snapshot").await.ok()
}

/// The socket's address, naming the board the client holds (another repository's board is under
/// its own base path).
fn socket_url((seq, instance): (u64, String)) -> String {
    let location = web_sys::window().expect("window").location();
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    let path = crate::navigation::socket_path(&super::base_path(), seq, &instance);
    format!("{scheme}://{host}{path}")
}

/// 250 ms doubling per failure, capped at 5 s, with ±25 % jitter.
fn backoff_ms(failures: u32) -> u32 {
    let base = (FIRST_BACKOFF_MS * 2f64.powi(failures.saturating_sub(1).min(10) as i32))
        .min(MAX_BACKOFF_MS);
    let jitter = 0.75 + js_sys::Math::random() * 0.5;
    (base * jitter).min(MAX_BACKOFF_MS) as u32
}
