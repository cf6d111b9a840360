//! Fan-out of serialized events to every socket: each event is turned into JSON once and shared.

use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast;

/// How many events a slow client may fall behind before it gets a snapshot instead.
pub const HUB_CAPACITY: usize = 4096;

/// One serialized server message.
#[derive(Clone, Debug)]
pub struct Frame {
    pub seq: u64,
    pub json: Utf8Bytes,
}

#[derive(Debug)]
pub(super) struct Hub {
    sender: broadcast::Sender<Frame>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(HUB_CAPACITY)
    }
}

impl Hub {
    pub(super) fn new(capacity: usize) -> Hub {
        let (sender, _) = broadcast::channel(capacity);
        Hub { sender }
    }

    pub(super) fn publish(&self, frame: Frame) {
        // No subscriber is fine: nobody is watching.
        let _ = self.sender.send(frame);
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<Frame> {
        self.sender.subscribe()
    }

    pub(super) fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }
}
